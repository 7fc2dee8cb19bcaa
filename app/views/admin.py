"""系统管理: dictionaries, client groups, company settings."""
from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder import SimpleFormView
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import URL, DataRequired, Length, Optional

from ..domain.choices import DICT_KINDS
from ..models import ClientGroup, DictItem
from ..services import settings as settings_service
from .base import ScopedModelView
from .datamodel import ScopedInterface

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
    route_base = "/client-groups"
    datamodel = ScopedInterface(ClientGroup)
    list_title = show_title = add_title = edit_title = _l("Client groups")
    label_columns = {"name": _l("Name"), "note": _l("Note")}
    list_columns = ["name", "note"]
    add_columns = edit_columns = show_columns = ["name", "note"]
    search_columns = ["name"]




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
