"""客户门户登录 (seed 002): staff give a client's contact a portal login from the
client page — an initial password the client must replace at his first login."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext, lazy_gettext as _l

from ..data.clients import visible_clients
from ..models import Client
from ..services import portal as portal_service


class PortalLoginView(BaseView):
    """POST /portal-logins/create/<client id>: a login for one of the user's clients
    (a client outside his scope answers 404)."""

    route_base = "/portal-logins"
    default_view = "create"
    class_permission_name = "PortalLoginView"
    method_permission_name = {"create": "create"}
    list_title = _l("Portal logins")  # the role screens name the permission's view by it

    @expose("/create/<int:client_id>", methods=["POST"])
    @has_access
    def create(self, client_id):
        client = visible_clients().filter(Client.id == client_id).first()
        if client is None:
            abort(404)
        try:
            user = portal_service.add_client_user(
                request.form.get("username", ""), client.id, request.form.get("password", ""),
                name=request.form.get("name", ""), phone=request.form.get("phone", ""),
                must_change=True, by_id=g.user.id)
        except portal_service.PortalError as exc:
            flash(gettext(exc.message, **exc.params), "danger")
        else:
            flash(gettext("Portal login %(name)s created: the client signs in on the login "
                          "page and must replace the initial password.",
                          name=user.username), "success")
        return redirect(url_for("ClientModelView.show", pk=client.id) + "#panel-portal")


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(PortalLoginView())

