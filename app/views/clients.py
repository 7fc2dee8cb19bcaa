"""客户管理: 客户列表 and 基础信息."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_wtf import FlaskForm
from wtforms import SelectField
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from flask_babel import gettext, lazy_gettext as _l

from ..domain.choices import STATUS_DELETED
from ..models import Client
from .. import clock, guards
from ..extensions import db
from ..services import clients as client_service
from ..services import ledger as ledger_service
from ..services import obligations as obligation_service
from ..services import taxkinds
from ..data.interface import ScopedInterface
from ..security.scope import OUT_OF_SCOPE, ScopeError
from .base import READ_ONLY_ROUTES, ScopedModelView
from .fields import TaxKindsField

CLIENT_LABELS = {
    "id": _l("ID"),
    "name": _l("Company name"),
    "short_name": _l("Short name"),
    "credit_code": _l("Unified social credit code"),
    "legal_rep": _l("Legal representative"),
    "legal_rep_phone": _l("Legal rep. phone"),
    "contact_name": _l("Contact"),
    "contact_phone": _l("Contact phone"),
    "source": _l("Client source"),
    "taxpayer_type": _l("Taxpayer type"),
    "tax_device_type": _l("Tax device"),
    "tax_device_no": _l("Tax device number"),
    "tax_device_custody": _l("Tax device in our custody"),
    "provides_address": _l("We provide the registered address"),
    "registered_address": _l("Registered address"),
    "business_address": _l("Business address"),
    "onsite_bookkeeping": _l("On-site bookkeeping"),
    "ticket_pickup": _l("Ticket pickup"),
    "tax_kinds": _l("Tax kinds filed"),
    "bookkeeper": _l("Bookkeeping accountant"),
    "field_agent": _l("Field accountant"),
    "client_group": _l("Client group"),
    "sales": _l("Salesperson"),
    "sales_id": _l("Salesperson"),
    "billing_cycle": _l("Billing cycle"),
    "service_fee": _l("Service fee"),
    "billing_state": _l("Billing"),
    "next_fee_date": _l("Next fee date"),
    "next_fee": _l("Next fee date"),
    "contract_start": _l("Contract start"),
    "contract_end": _l("Contract end"),
    "next_tax_clearing": _l("Next tax clearing"),
    "next_business_annual": _l("Next business annual report"),
    "status": _l("Status"),
    "note": _l("Note"),
    "source_id": _l("Client source"),
    "bookkeeper_id": _l("Bookkeeping accountant"),
    "field_agent_id": _l("Field accountant"),
    "client_group_id": _l("Client group"),
    "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
}

_staff_rel = [["active", FilterEqual, True]]


#: the columns a user may choose for his client list (``/clients/columns``), in the
#: order the chooser offers them
CHOOSABLE_COLUMNS = ["name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
                     "contact_name", "contact_phone", "source", "taxpayer_type",
                     "tax_device_type", "tax_device_no", "ticket_pickup", "bookkeeper",
                     "field_agent", "client_group", "billing_cycle", "service_fee",
                     "next_fee", "contract_start", "contract_end",
                     "next_tax_clearing", "next_business_annual", "status"]


def _setting_key(user_id: int, view: str) -> str:
    return f"columns:{view}:{user_id}"


def chosen_columns(user_id: int, view: str) -> list | None:
    """The columns this user chose for this list (None: the default), read once per
    request."""
    import json

    from flask import g as request_g

    from ..models import Setting

    cache = request_g.setdefault("_chosen_columns", {})
    key = _setting_key(user_id, view)
    if key not in cache:
        row = db.session.get(Setting, key)
        try:
            value = json.loads(row.value) if row is not None else None
        except ValueError:
            value = None
        cache[key] = [c for c in value if c in CHOOSABLE_COLUMNS] if isinstance(value, list) \
            else None
    return cache[key] or None


class ClientModelView(ScopedModelView):
    """客户列表: the client register."""

    route_base = "/clients"
    datamodel = ScopedInterface(Client)
    class_permission_name = "ClientModelView"

    list_title = _l("Client list")
    show_title = _l("Client details")
    add_title = _l("Add client")
    edit_title = _l("Edit client")
    label_columns = CLIENT_LABELS

    default_list_columns = ["name", "short_name", "credit_code", "legal_rep", "bookkeeper",
                            "field_agent", "billing_cycle", "next_fee", "status"]
    order_columns = ["name", "short_name", "credit_code", "legal_rep", "billing_cycle",
                     "status"]

    @property
    def list_columns(self):
        """Each user's own choice of columns (选择列), else the default; the export
        follows it."""
        from flask import g as request_g, has_request_context

        user = getattr(request_g, "user", None) if has_request_context() else None
        if user is not None and getattr(user, "is_authenticated", False):
            chosen = chosen_columns(user.id, type(self).__name__)
            if chosen:
                return chosen
        return self.default_list_columns

    @list_columns.setter
    def list_columns(self, value):
        self.default_list_columns = value

    def render_template(self, template, **kwargs):
        kwargs.setdefault("column_choice_url", url_for(".choose_columns"))
        return super().render_template(template, **kwargs)

    @expose("/columns", methods=["GET", "POST"])
    @has_access
    @permission_name("list")
    def choose_columns(self):
        """选择列: which client-list columns this user sees, in which order."""
        import json

        from ..models import Setting

        hidden = self.hidden()
        allowed = [c for c in CHOOSABLE_COLUMNS if c not in hidden]
        key = _setting_key(g.user.id, type(self).__name__)
        if request.method == "POST":
            row = db.session.get(Setting, key)
            if request.form.get("reset"):
                if row is not None:
                    db.session.delete(row)
            else:
                picked = request.form.getlist("col")
                if not picked or len(picked) > len(allowed) or len(set(picked)) != len(picked) \
                        or any(c not in allowed for c in picked):
                    raise guards.UserError(400, gettext("Choose at least one of the columns "
                                                        "offered."))
                order = {}
                for c in picked:
                    text = (request.form.get(f"order_{c}") or "").strip()
                    order[c] = int(text) if text.isdigit() and len(text) < 4 else 999
                picked.sort(key=lambda c: (order[c], allowed.index(c)))
                if row is None:
                    row = Setting(key=key, value="")
                    db.session.add(row)
                row.value = json.dumps(picked)
            db.session.commit()
            flash(gettext("Your client list columns are saved."), "success")
            return redirect(url_for(".list"))
        current = [c for c in self.list_columns if c in allowed]
        return self.render_template(
            "agencydesk/list_columns.html", title=gettext("Choose columns"),
            allowed=allowed, current=current, labels=self.label_columns,
            appbuilder=self.appbuilder)
    base_order = ("id", "desc")
    quick_search_columns = ["name", "short_name", "credit_code", "legal_rep",
                            "legal_rep_phone", "contact_name", "contact_phone"]
    search_columns = ["name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
                      "contact_phone", "status", "source", "bookkeeper", "field_agent",
                      "billing_cycle", "taxpayer_type", "client_group"]

    _form_columns = [
        "name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
        "contact_name", "contact_phone", "source", "taxpayer_type", "tax_device_type",
        "tax_device_no", "tax_device_custody", "registered_address",
        "business_address", "onsite_bookkeeping", "ticket_pickup", "bookkeeper",
        "field_agent", "client_group", "billing_cycle", "service_fee", "billing_state",
        "next_fee_date", "contract_start", "contract_end", "status", "note", "tax_kinds",
    ]
    add_columns = _form_columns
    edit_columns = _form_columns
    show_fieldsets = [
        (_l("Company"), {"fields": ["name", "short_name", "credit_code", "legal_rep",
                                    "legal_rep_phone", "contact_name", "contact_phone",
                                    "source", "taxpayer_type", "status"]}),
        (_l("Service"), {"fields": ["bookkeeper", "field_agent", "sales", "client_group",
                                    "onsite_bookkeeping", "ticket_pickup", "tax_device_type",
                                    "tax_device_no",
                                    "tax_device_custody", "provides_address",
                                    "registered_address", "business_address"]}),
        (_l("Billing and contract"), {"fields": ["billing_cycle", "service_fee",
                                                 "billing_state", "next_fee",
                                                 "contract_start", "contract_end"]}),
        (_l("Other"), {"fields": ["note", "created_on", "changed_on"]}),
    ]
    description_columns = {
        "provides_address": _l("Follows the client's running address services (提供地址)."),
        "credit_code": _l("18 characters; checked against the GB 32100-2015 check digit."),
        "billing_state": _l("Free of charge or billing stopped clients need no next fee date."),
    }
    _rel = {
        "source": [["kind", FilterEqual, "client_source"], ["active", FilterEqual, True]],
        "bookkeeper": _staff_rel,
        "field_agent": _staff_rel,
    }
    add_form_query_rel_fields = _rel
    edit_form_query_rel_fields = _rel
    search_form_query_rel_fields = _rel
    method_permission_name = {"soft_delete": "delete", "restore": "edit",
                              "assign": "assign", "assign_form": "assign"}

    add_form_extra_fields = {"tax_kinds": TaxKindsField(_l("Tax kinds filed"))}
    edit_form_extra_fields = {"tax_kinds": TaxKindsField(_l("Tax kinds filed"))}
    # one client, one page: his fields, then a panel per record kind of his
    show_template = "agencydesk/client_show.html"

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        # His records come in a second request (``panels``) once the fields show;
        # ?panels=inline puts them in this page (no JavaScript, printing).
        if request.args.get("panels") == "inline":
            widgets.update(self._panel_widgets(item.id))
        return widgets

    def _panel_widgets(self, client_id: int) -> dict:
        from .client_page import build

        widgets = {"client_panels": build(self.appbuilder, client_id)}
        if self.appbuilder.sm.has_access("can_create", "PortalLoginView"):
            from ..services.portal import logins_of

            widgets["portal_logins"] = logins_of(client_id)
        return widgets

    @expose("/panels/<pk>")
    @has_access
    @permission_name("show")
    def panels(self, pk):
        """The client page's panels (his obligations, contracts, journal …) as an HTML
        fragment: the same scope as the page — another's client is 404."""
        from flask import make_response, render_template

        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        resp = make_response(render_template("agencydesk/_client_panels.html",
                                             widgets=self._panel_widgets(item.id), pk=item.id))
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def prefill_form(self, form, pk):
        super().prefill_form(form, pk)
        form.tax_kinds.data = taxkinds.kinds_of(int(pk))
        item = self.datamodel.get(pk)
        if "next_fee_date" in form and item is not None and item.billing_state == "billed" \
                and ledger_service.has_ledger(item.id):
            # derived by the ledger: shown, never typed (a forged value is put back
            # by ``services.ledger``'s flush check for every writer)
            form.next_fee_date.render_kw = {"readonly": True}
            form.next_fee_date.description = gettext(
                "Derived from the receivables ledger: the oldest unpaid fee date, else "
                "the next one to be charged.")

    def post_add(self, item):
        self._after_save(item)

    def post_update(self, item):
        self._after_save(item)

    def _after_save(self, item):
        """The tax kinds chosen on the form, and the client's obligations in step
        with them (and with his taxpayer type, 上门取票 and status) at once."""
        taxkinds.set_kinds(item.id, getattr(item, "tax_kinds", None) or {})
        obligation_service.sync_client(item.id, clock.today(), clock.tz_name())

    def query_filters(self, filters):
        joined = super().query_filters(filters)
        # Deleted clients stay out of the list unless the user filters on status.
        if not any(f.column_name == "status" for f in filters.filters):
            joined.add_filter("status", FilterNotEqual, STATUS_DELETED)
        return joined

    def _delete(self, pk):
        # Deleting a client is a status (SPEC: nothing is hard-deleted).
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        client_service.soft_delete([item])
        flash(gettext("Client marked as deleted. It can be restored from the list "
                      "filtered by status."), "success")
        self.update_redirect()

    @action("soft_delete", _l("Delete"), _l("Mark the selected clients as deleted?"),
            "fa-trash", multiple=True, single=False)
    def soft_delete(self, items):
        result = client_service.soft_delete(items)
        flash(gettext("%(n)d client(s) marked as deleted.", n=result.changed), "success")
        return redirect(self.get_redirect())

    @action("restore", _l("Restore"), _l("Return the selected clients to bookkeeping?"),
            "fa-undo", multiple=True, single=True)
    def restore(self, items):
        items = items if isinstance(items, list) else [items]
        result = client_service.restore(items)
        flash(gettext("%(n)d client(s) returned to bookkeeping.", n=result.changed), "success")
        return redirect(self.get_redirect())


    # ---- 客户分配: assign 记账会计 / 外勤会计 to one or many clients ----------------
    @action("assign", _l("Assign accountants"), "", "fa-user-plus", multiple=True,
            single=True)
    def assign(self, items):
        items = items if isinstance(items, list) else [items]
        return redirect(url_for(".assign_form", ids=",".join(str(c.id) for c in items)))

    @expose("/assign/", methods=["GET", "POST"])
    @has_access
    @permission_name("assign")
    def assign_form(self):
        """Choose a 记账会计 and/or 外勤会计 for the selected clients (scoped: 404 if any
        id is not visible)."""
        ids = [i for i in (request.values.get("ids") or "").split(",") if i]
        clients = self.load_scoped(ids)
        form = AssignForm(request.form if request.method == "POST" else None)
        staff = client_service.assignable_staff()
        choices = [("", gettext("(unchanged)"))] + [(str(s.id), str(s)) for s in staff]
        form.bookkeeper_id.choices = choices
        form.field_agent_id.choices = choices
        if request.method == "POST" and form.validate():
            try:
                n = client_service.assign(
                    clients, _int_or_none(form.bookkeeper_id.data),
                    _int_or_none(form.field_agent_id.data),
                    check=self.datamodel.check_write)
            except ScopeError:
                flash(gettext(OUT_OF_SCOPE), "danger")
            else:
                flash(gettext("%(n)d client(s) assigned.", n=n), "success")
                return redirect(url_for(".list"))
        return self.render_template("agencydesk/assign.html", form=form, clients=clients,
                                    ids=",".join(ids), title=gettext("Assign accountants"))


def _int_or_none(value):
    return int(value) if value else None


class AssignForm(FlaskForm):
    bookkeeper_id = SelectField(_l("Bookkeeping accountant"), validate_choice=True)
    field_agent_id = SelectField(_l("Field accountant"), validate_choice=True)


class ClientBasicView(ScopedModelView):
    """基础信息: a narrow read-only list made for copy-paste (credit code in one click)."""

    route_base = "/clients-basic"
    datamodel = ScopedInterface(Client)
    class_permission_name = "ClientBasicView"
    base_permissions = ["can_list", "can_show"]
    # Read-only: the write routes do not exist at all (404), not merely forbidden.
    exclude_route_methods = READ_ONLY_ROUTES | {"export_xlsx", "assign_form"}
    list_template = "agencydesk/basic_list.html"

    list_title = _l("Basic information")
    show_title = _l("Client details")
    label_columns = CLIENT_LABELS
    list_columns = ["name", "short_name", "credit_code", "legal_rep"]
    show_columns = ["name", "short_name", "credit_code", "legal_rep", "registered_address",
                    "business_address"]
    order_columns = ["name", "short_name", "credit_code"]
    base_order = ("id", "desc")
    quick_search_columns = ["name", "short_name", "credit_code", "legal_rep"]
    search_columns = ["name", "short_name", "credit_code", "legal_rep"]
    base_filters = [["status", FilterNotEqual, STATUS_DELETED]]
    formatters_columns = {
        "credit_code": lambda code: _copyable(code),
    }


def _copyable(code):
    from markupsafe import Markup, escape

    if not code:
        return ""
    return Markup(
        '<span class="credit-code">{0}</span>'
        '<button type="button" class="btn btn-xs btn-default copy-btn" data-copy="{0}" '
        'title="{1}"><i class="fa fa-copy"></i> {2}</button>'
    ).format(escape(code), escape(gettext("Copy to clipboard")), escape(gettext("Copy")))
