"""客户账号密码: the clients' logins (电子税务局, 个税, 社保, 公积金, bank …).

Secrets are encrypted at rest (``ClientCredential.secret``, ``app.security.vault``).
Lists, the details page and the export show ``******``; 显示 is its own permission
(``can_reveal``), asks why, and writes an audit row (who, when, which login, why)
before the secret is shown once, on a page the browser does not keep.
"""
from __future__ import annotations

from flask import abort, g, make_response, redirect, request, url_for
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired

from .. import audit
from ..data.interface import ScopedInterface
from ..domain import validation
from ..domain.choices import CREDENTIAL_SYSTEM
from ..models import ClientCredential
from .base import ScopedModelView
from .fields import RuleField, SecretField
from .pickers import ClientField, ClientPickerMixin

LABELS = {
    "client": _l("Client"), "client.name": _l("Company name"),
    "client.short_name": _l("Short name"), "system": _l("System"),
    "account": _l("Account"), "masked": _l("Password"), "new_secret": _l("Password"),
    "note": _l("Note"), "changed_on": _l("Changed on"),
}


class RevealForm(FlaskForm):
    reason = RuleField(_l("Why do you need it?"),
                       [DataRequired(message=_l("Say why you need the password."))],
                       rule=validation.Text(max_length=200, required=True))


class ClientCredentialView(ClientPickerMixin, ScopedModelView):
    route_base = "/credentials"
    datamodel = ScopedInterface(ClientCredential)
    class_permission_name = "ClientCredentialView"
    method_permission_name = {"reveal": "reveal", "reveal_form": "reveal"}

    list_title = _l("Client logins")
    show_title = _l("Client login")
    add_title = _l("Add client login")
    edit_title = _l("Edit client login")
    label_columns = LABELS

    list_columns = ["client", "system", "account", "masked", "note", "changed_on"]
    show_columns = ["client", "system", "account", "masked", "note", "changed_on"]
    # the export never carries a secret, not even masked
    export_columns = ["client", "system", "account", "note", "changed_on"]
    add_columns = edit_columns = ["client", "system", "account", "new_secret", "note"]
    order_columns = ["system", "account", "changed_on"]
    base_order = ("changed_on", "desc")
    search_columns = ["client", "system", "account", "note"]
    quick_search_columns = ["account", "client.name", "client.short_name"]
    add_form_extra_fields = {"client": ClientField(_l("Client"), required=True),
                             "new_secret": SecretField(_l("Password"))}
    edit_form_extra_fields = {"client": ClientField(_l("Client"), required=True,
                                                    model=ClientCredential),
                              "new_secret": SecretField(_l("Password"))}
    description_columns = {"new_secret": _l(
        "Stored encrypted. On edit, leave empty to keep the current password.")}

    def _take_secret(self, item) -> None:
        plain = getattr(item, "new_secret", None)
        if plain:
            item.secret = plain
        if hasattr(item, "new_secret"):
            del item.new_secret

    def pre_add(self, item):
        self._take_secret(item)  # before the checks below flush the row
        super().pre_add(item)

    def pre_update(self, item):
        self._take_secret(item)
        super().pre_update(item)

    @action("reveal", _l("Show password"), "", "fa-eye", multiple=False, single=True)
    def reveal(self, item):
        return redirect(url_for(".reveal_form", pk=item.id))

    @expose("/reveal/<pk>", methods=["GET", "POST"])
    def reveal_form(self, pk):
        """显示: asks why; on a valid reason, one audit row, then the secret."""
        if not getattr(g.user, "is_authenticated", False):
            return redirect(self.appbuilder.get_url_for_login)
        if not self._action_allowed("reveal"):
            abort(403)
        item = self.load_scoped([pk])[0]
        form = RevealForm(request.form if request.method == "POST" else None)
        secret = None
        if request.method == "POST" and form.validate():
            secret = item.secret or ""
            audit.record(self.datamodel.session.connection(), "reveal", "client_credential",
                         item.id, changes={"client_id": item.client_id, "system": item.system,
                                           "account": item.account,
                                           "reason": form.reason.data})
            self.datamodel.session.commit()
        elif request.method == "POST":
            from .. import guards

            guards.mark_form_invalid()
        resp = make_response(self.render_template(
            "agencydesk/credential_reveal.html", form=form, item=item, secret=secret,
            system_label=gettext(CREDENTIAL_SYSTEM.get(item.system, item.system)),
            title=gettext("Show password"), appbuilder=self.appbuilder,
            cancel_url=url_for(".show", pk=item.id)))
        resp.headers["Cache-Control"] = "no-store"
        return resp
