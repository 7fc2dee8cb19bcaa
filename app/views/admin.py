"""系统管理: dictionaries, client groups, company settings, field visibility, audit log."""
from __future__ import annotations

import json

from flask import flash, redirect, url_for
from flask_appbuilder import SimpleFormView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from flask_appbuilder.fieldwidgets import Select2Widget
from wtforms import SelectField, StringField
from wtforms.validators import URL, DataRequired, Length, Optional

from ..domain.choices import DICT_KINDS
from ..models import AuditLog, Client, ClientGroup, DictItem, HiddenField
from ..security.fields import HIDEABLE
from ..security.roles import ROLE_LABELS
from .clients import CLIENT_LABELS
from ..services import settings as settings_service
from .base import READ_ONLY_ROUTES, ScopedModelView
from ..data.interface import ScopedInterface

DICT_LABELS = {
    "name": _l("Name"),
    "sort_order": _l("Sort order"),
    "active": _l("Active"),
    "kind": _l("Dictionary"),
}


def make_dict_view(kind: str, route: str, title):
    """One screen per dictionary, all on the ``dict_item`` table filtered by kind."""

    class DictItemView(ScopedModelView):
        datamodel = ScopedInterface(DictItem)
        route_base = route
        base_filters = [["kind", FilterEqual, kind]]
        base_order = ("sort_order", "asc")
        list_title = title
        show_title = title
        add_title = title
        edit_title = title
        label_columns = DICT_LABELS
        list_columns = ["name", "sort_order", "active"]
        add_columns = edit_columns = show_columns = ["name", "sort_order", "active"]
        search_columns = ["name", "active"]
        order_columns = ["name", "sort_order"]

        def pre_add(self, item):
            item.kind = kind
            super().pre_add(item)

        def pre_update(self, item):
            item.kind = kind
            super().pre_update(item)

        def pre_delete(self, item):
            # An entry in use is retired (active = False), not deleted.
            from sqlalchemy import select, exists

            from ..extensions import db
            from ..models import Client

            used = db.session.execute(select(exists().where(Client.source_id == item.id))).scalar()
            if used:
                raise ValueError(gettext("This entry is in use; set it inactive instead."))

    DictItemView.__name__ = "DictView_" + kind
    DictItemView.__qualname__ = DictItemView.__name__
    return DictItemView


DICT_VIEWS = [
    (make_dict_view("client_source", "/dict/client-sources", _l("Client sources")), DICT_KINDS["client_source"]),
    (make_dict_view("journal_category", "/dict/journal-categories", _l("Journal categories")), DICT_KINDS["journal_category"]),
    (make_dict_view("payment_method", "/dict/payment-methods", _l("Payment methods")), DICT_KINDS["payment_method"]),
    (make_dict_view("tax_kind", "/dict/tax-kinds", _l("Tax kinds")), DICT_KINDS["tax_kind"]),
]


class ClientGroupView(ScopedModelView):
    """客户组 and the staff groups (用户组) that manage them."""

    route_base = "/client-groups"
    datamodel = ScopedInterface(ClientGroup)
    list_title = show_title = add_title = edit_title = _l("Client groups")
    label_columns = {"name": _l("Name"), "note": _l("Note"),
                     "staff_groups": _l("Managed by staff groups")}
    list_columns = ["name", "staff_groups", "note"]
    add_columns = edit_columns = show_columns = ["name", "staff_groups", "note"]
    search_columns = ["name"]
    description_columns = {"staff_groups": _l(
        "Members of these staff groups see this group's clients (unless they are "
        "limited to their assigned clients).")}




def company_form():
    from flask_appbuilder.forms import DynamicForm

    class CompanyForm(DynamicForm):
        company_name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=100)],
                                   widget=BS3TextFieldWidget())
        company_link = StringField(_l("Company link"),
                                   validators=[Optional(), URL(message=_l("Enter a full web address, e.g. https://example.com"))],
                                   widget=BS3TextFieldWidget())

    return CompanyForm


class CompanySettingsView(SimpleFormView):
    """公司名称 and link, shown in the navigation bar."""

    route_base = "/settings/company"
    form = company_form()
    form_title = _l("Company settings")

    def form_get(self, form):
        values = settings_service.company()
        form.company_name.data = values["company_name"]
        form.company_link.data = values["company_link"]

    def form_post(self, form):
        settings_service.save_company(form.company_name.data, form.company_link.data or "")
        flash(gettext("Settings saved."), "success")
        return redirect(url_for("CompanySettingsView.this_form_get"))


class HiddenFieldView(ScopedModelView):
    """字段可见性: which client fields each role may not see, anywhere."""

    route_base = "/hidden-fields"
    datamodel = ScopedInterface(HiddenField)
    list_title = show_title = add_title = edit_title = _l("Field visibility")
    label_columns = {"role": _l("Role"), "field": _l("Hidden field"), "model": _l("Table")}
    list_columns = ["role", "field"]
    show_columns = ["role", "field"]
    add_columns = edit_columns = ["role", "field"]
    search_columns = ["role", "field"]
    formatters_columns = {"field": lambda f: str(CLIENT_LABELS.get(f, f))}
    description_columns = {"field": _l("Hidden from lists, details, forms, exports and the API.")}

    def __init__(self, *args, **kwargs):
        field = SelectField(_l("Hidden field"), choices=LazyLabels(HIDEABLE["client"]),
                            validators=[DataRequired()], widget=Select2Widget())
        self.add_form_extra_fields = {"field": field}
        self.edit_form_extra_fields = {"field": field}
        super().__init__(*args, **kwargs)

    def pre_add(self, item):
        item.model = "client"
        super().pre_add(item)


class LazyLabels:
    def __init__(self, fields):
        self.fields = fields

    def __iter__(self):
        for f in self.fields:
            yield f, str(CLIENT_LABELS.get(f, f))


class AuditInterface(ScopedInterface):
    """Shows ``changes`` as "字段: 旧值 → 新值" with the fields' Chinese labels."""

    def _get_attr_value(self, item, col):
        if col != "changes":
            return super()._get_attr_value(item, col)
        return format_changes(item.table_name, item.changes)


def format_changes(table: str | None, raw: str | None) -> str:
    """``{"field": [old, new]}`` as "字段: 旧 → 新" with labels, choice labels and 是/否."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(data, dict):
        return str(data)
    labels = FIELD_LABELS.get(table or "", {})
    codes = CHOICES_BY_TABLE.get(table or "", {})
    parts = []
    for key, value in data.items():
        label = str(labels.get(key, EVENT_LABELS.get(key, key)))
        if key == "view" and isinstance(value, str):  # an export: the screen's own name
            from ..security.roles import VIEW_LABELS

            parts.append(f"{label}: {VIEW_LABELS.get(value, value)}")
        elif isinstance(value, list) and len(value) == 2:
            old, new = (_shown(codes.get(key), v) for v in value)
            parts.append(f"{label}: {old} → {new}")
        else:
            parts.append(f"{label}: {_shown(codes.get(key), value)}")
    return "; ".join(parts)


def _shown(mapping, value) -> str:
    if value is None:
        return ""
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    if mapping and value in mapping:
        return gettext(mapping[value])
    if isinstance(value, list):
        return "、".join(str(FIELD_LABELS.get("client", {}).get(v, v)) for v in value)
    return str(value)


def audit_actor(username) -> str:
    """Who acted: a user name, or 命令行 (the OS user) for CLI and scheduled jobs."""
    if username and str(username).startswith("cli:"):
        return gettext("Command line (%(user)s)", user=str(username)[4:])
    return username or ""


class AuditLogView(ScopedModelView):
    """操作日志: read-only, searchable, Admin only."""

    route_base = "/audit"
    datamodel = AuditInterface(AuditLog)
    base_permissions = ["can_list", "can_show"]
    exclude_route_methods = READ_ONLY_ROUTES
    list_title = show_title = _l("Audit log")
    base_order = ("id", "desc")
    label_columns = {"at": _l("Time"), "username": _l("User"), "ip": _l("IP address"),
                     "action": _l("Operation"), "table_name": _l("Table"),
                     "row_id": _l("Row"), "changes": _l("Changes")}
    list_columns = ["at", "username", "ip", "action", "table_name", "row_id", "changes"]
    show_columns = ["at", "username", "ip", "action", "table_name", "row_id", "changes"]
    search_columns = ["at", "username", "ip", "action", "table_name", "row_id"]
    quick_search_columns = ["username", "table_name", "row_id", "changes"]
    order_columns = ["at", "username", "action", "table_name"]
    formatters_columns = {"username": audit_actor}
    page_size = 50

    def filter_to_client(self, filters, client_id: int) -> bool:
        """``?client=<id>``: the changes of that client's own row."""
        filters.add_filter("table_name", FilterEqual, "client")
        filters.add_filter("row_id", FilterEqual, str(client_id))
        return True




# Choice columns per table, so the audit log shows 按季 rather than "quarter".
CHOICES_BY_TABLE = {"client": Client.__choices__, "dict_item": {"kind": DICT_KINDS},
                    "ab_role": {"name": ROLE_LABELS}}
# Keys of event rows (export, login_failed).
EVENT_LABELS = {"view": _l("Screen"), "query": _l("Search and filters"), "rows": _l("Rows"),
                "columns": _l("Columns"), "username": _l("User name"), "start": _l("From"),
                "end": _l("To"), "year": _l("Year"), "period": _l("Period")}

# Field labels per table for the audit screen (and anything else naming fields).
FIELD_LABELS = {
    "client": {**CLIENT_LABELS, "id": _l("ID")},
    "dict_item": {**DICT_LABELS, "id": _l("ID")},
    "client_group": {"id": _l("ID"), "name": _l("Name"), "note": _l("Note")},
    "setting": {"key": _l("Setting"), "value": _l("Value")},
    "ab_role": {"id": _l("ID"), "name": _l("Name")},
    "hidden_field": {"role_id": _l("Role"), "field": _l("Hidden field"), "model": _l("Table")},
    "ab_user": {"first_name": _l("First name"), "last_name": _l("Last name"),
                "username": _l("User name"), "email": _l("Email"), "active": _l("Active"),
                "password": _l("Password"), "phone": _l("Phone"), "superior_id": _l("Superior"),
                "assigned_only": _l("Assigned clients only"), "locked_at": _l("Locked since"),
                "created_by_fk": _l("Created by"), "changed_by_fk": _l("Changed by"),
                "created_on": _l("Created on"), "changed_on": _l("Changed on"),
                "id": _l("ID")},
}
