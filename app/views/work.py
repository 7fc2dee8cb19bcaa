"""待办事项; and in 客户管理: 合同管理, 上门做账, 提供地址.

The client of a todo, contract or address is chosen with the one client picker
(``app.views.pickers``). A contract's 审核 and 续签 are its workflow
(``app.domain.workflows.CONTRACT``): the actions, the lock of approved contracts and
the home page's card come from that declaration.
"""
from __future__ import annotations

import datetime

from flask import flash, g, redirect
from flask_appbuilder.actions import action
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from flask_appbuilder.urltools import get_order_args
from flask_babel import gettext, lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import case
from wtforms.validators import Optional as OptionalValidator

from .. import clock
from ..domain import terms
from ..domain.choices import STATUS_DELETED
from ..extensions import db
from ..data.interface import ScopedInterface, current_user_or_none
from ..models import AddressService, Client, Contract, Staff, Todo
from ..services import clients as client_service
from ..services import work as work_service
from .base import READ_ONLY_ROUTES, ScopedModelView
from .clients import CLIENT_LABELS
from .pickers import ClientField, ClientPickerMixin

ROW_CLASSES = {terms.EXPIRED: "row-overdue", terms.OVERDUE: "row-overdue",
               terms.DUE_SOON: "row-due-soon", terms.DUE_TODAY: "row-due-soon"}
_active_staff = [["active", FilterEqual, True]]
_CLIENT_LABELS = {"client": _l("Client"), "client.name": _l("Company name"),
                  "client.short_name": _l("Short name"),
                  "client.credit_code": _l("Unified social credit code")}


def _items(items) -> list:
    return items if isinstance(items, list) else [items]


def _seen_dates() -> dict:
    """The dates the user saw on the rows he acted on (``id@YYYY-MM-DD``), if the
    page sent them: a renewal from an out-of-date page is not done twice."""
    seen = {}
    for pk, value in (getattr(g, "seen_versions", None) or {}).items():
        try:
            seen[int(pk)] = datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            continue
    return seen


# ---- 待办事项 ----------------------------------------------------------------------
TODO_LABELS = {
    **_CLIENT_LABELS,
    "title": _l("Title"), "assignee": _l("Assignee"),
    "expected_date": _l("Expected date"), "note": _l("Note"), "done_at": _l("Done at"),
    "done_by": _l("Done by"), "created_by": _l("Created by"), "created_on": _l("Created on"),
}


class OpenFirst:
    """Default order of the todo list: open todos first, soonest expected date first
    (none last); then done ones, last done first. A filter object, because FAB's
    ``base_order`` takes one column."""

    arg_name = "open_first"
    name = _l("Open first")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name, self.datamodel = column_name, datamodel

    def apply(self, query, value):
        return query.order_by(case((Todo.done_at.is_(None), 0), else_=1),
                              Todo.expected_date.is_(None), Todo.expected_date.asc(),
                              Todo.done_at.desc(), Todo.id.desc())


class TodoModelView(ClientPickerMixin, ScopedModelView):
    """待办事项: the firm's todos; 完成 stamps who finished it and when."""

    route_base = "/todos"
    datamodel = ScopedInterface(Todo)
    class_permission_name = "TodoModelView"
    method_permission_name = {"complete": "complete"}

    list_title = _l("Todos")
    show_title = _l("Todo details")
    add_title = _l("Add todo")
    edit_title = _l("Edit todo")
    label_columns = TODO_LABELS

    list_columns = ["title", "client", "assignee", "expected_date", "done_at", "done_by"]
    show_columns = ["title", "client", "assignee", "expected_date", "note", "done_at",
                    "done_by", "created_by", "created_on"]
    add_columns = edit_columns = ["title", "client", "assignee", "expected_date", "note"]
    order_columns = ["title", "expected_date", "done_at"]
    base_order = None  # OpenFirst
    search_columns = ["title", "assignee", "expected_date", "done_at", "note"]
    quick_search_columns = ["title", "client.name", "client.short_name", "note"]
    add_form_extra_fields = {
        "client": ClientField(_l("Client"), model=Todo),
        # the assignee defaults to the user who adds the todo
        "assignee": QuerySelectField(
            _l("Assignee"), query_func=client_service.assignable_staff,
            get_pk_func=lambda staff: staff.id, allow_blank=True,
            validators=[OptionalValidator()], widget=Select2Widget(),
            default=current_user_or_none),
    }
    edit_form_extra_fields = {"client": ClientField(_l("Client"), model=Todo)}
    edit_form_query_rel_fields = {"assignee": _active_staff}
    search_form_query_rel_fields = {"assignee": _active_staff}

    def query_filters(self, filters):
        joined = super().query_filters(filters)
        if not get_order_args().get(self.__class__.__name__):
            joined.add_filter("id", OpenFirst, None)
        return joined

    def row_class(self, item) -> str:
        return ROW_CLASSES.get(terms.todo_state(item.expected_date, item.done_at is not None,
                                                clock.today()), "")

    def pre_add(self, item):
        item.created_by_id = g.user.id
        if item.assignee is None:
            # the relation, not the id: the form set the relation (to blank), and the
            # relation wins at flush
            item.assignee = db.session.get(Staff, g.user.id)
        super().pre_add(item)

    @action("complete", _l("Complete"), _l("Mark the selected todos as done?"), "fa-check",
            multiple=True, single=True)
    def complete(self, items):
        result = work_service.complete_todos(_items(items), by=g.user, now=clock.now())
        if result.skipped:
            flash(gettext("%(n)d todo(s) completed; already done, skipped %(m)d.",
                          n=result.changed, m=result.skipped),
                  "success" if result.changed else "warning")
        else:
            flash(gettext("%(n)d todo(s) completed.", n=result.changed), "success")
        return redirect(self.get_redirect())


# ---- 合同管理 ----------------------------------------------------------------------
CONTRACT_LABELS = {
    **_CLIENT_LABELS,
    "number": _l("Contract number"), "start_date": _l("Start date"),
    "end_date": _l("End date"), "fee": _l("Contract fee"),
    "billing_cycle": _l("Billing cycle"), "status": _l("Status"),
    "approved_by": _l("Approved by"), "approved_at": _l("Approved at"), "note": _l("Note"),
    "created_by": _l("Created by"), "created_on": _l("Created on"),
    "terms": _l("Previous terms"),
}


def _terms_table(history) -> Markup:
    """The previous terms of a contract (show page), oldest first."""
    if not history:
        return Markup(escape(gettext("None yet")))
    names = {s.id: str(s) for s in db.session.query(Staff).filter(
        Staff.id.in_({t.renewed_by_id for t in history if t.renewed_by_id}))}
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        gettext("Start date"), gettext("End date"), gettext("Contract fee"),
        gettext("Renewed at"), gettext("Renewed by")))
    rows = "".join(
        "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (
            t.start_date.isoformat(), t.end_date.isoformat(), t.fee,
            t.renewed_at.strftime("%Y-%m-%d %H:%M") if t.renewed_at else "",
            names.get(t.renewed_by_id, ""))) + "</tr>"
        for t in history)
    return Markup(f'<table class="table table-condensed contract-terms"><thead><tr>{head}'
                  f"</tr></thead><tbody>{rows}</tbody></table>")


class ContractModelView(ClientPickerMixin, ScopedModelView):
    """合同管理: expired contracts red, expiring ones amber; 续签 keeps the history;
    审核 by someone other than the creator locks the contract."""

    route_base = "/contracts"
    datamodel = ScopedInterface(Contract)
    class_permission_name = "ContractModelView"

    list_title = _l("Contracts")
    show_title = _l("Contract details")
    add_title = _l("Add contract")
    edit_title = _l("Edit contract")
    label_columns = CONTRACT_LABELS

    list_columns = ["client", "number", "start_date", "end_date", "fee", "billing_cycle",
                    "status", "approved_by"]
    show_columns = ["client", "number", "start_date", "end_date", "fee", "billing_cycle",
                    "status", "approved_by", "approved_at", "note", "created_by",
                    "created_on", "terms"]
    add_columns = edit_columns = ["client", "number", "start_date", "end_date", "fee",
                                  "billing_cycle", "note"]
    order_columns = ["number", "start_date", "end_date", "fee", "status"]
    base_order = ("end_date", "asc")
    search_columns = ["number", "start_date", "end_date", "fee", "billing_cycle", "status"]
    quick_search_columns = ["number", "client.name", "client.short_name", "note"]
    add_form_extra_fields = {"client": ClientField(_l("Client"), required=True)}
    edit_form_extra_fields = {"client": ClientField(_l("Client"), required=True,
                                                    model=Contract)}
    formatters_columns = {"terms": _terms_table}

    def row_class(self, item) -> str:
        return ROW_CLASSES.get(terms.expiry_state(item.end_date, clock.today()), "")

    def pre_delete(self, item):
        super().pre_delete(item)
        work_service.delete_contract_history(item)


# ---- 提供地址 ----------------------------------------------------------------------
ADDRESS_LABELS = {
    **_CLIENT_LABELS,
    "address": _l("Provided address"), "fee_type": _l("Fee type"), "fee": _l("Address fee"),
    "start_date": _l("Start date"), "expiry_date": _l("Expiry date"), "note": _l("Note"),
}


class AddressServiceModelView(ClientPickerMixin, ScopedModelView):
    """提供地址: the registered addresses the firm provides; 续费 adds a year."""

    route_base = "/addresses"
    datamodel = ScopedInterface(AddressService)
    class_permission_name = "AddressServiceModelView"
    method_permission_name = {"renew": "renew"}

    list_title = _l("Address service")
    show_title = _l("Address service details")
    add_title = _l("Add address service")
    edit_title = _l("Edit address service")
    label_columns = ADDRESS_LABELS

    list_columns = ["client", "address", "fee_type", "fee", "start_date", "expiry_date"]
    show_columns = ["client", "address", "fee_type", "fee", "start_date", "expiry_date", "note"]
    add_columns = edit_columns = ["client", "address", "fee_type", "fee", "start_date",
                                  "expiry_date", "note"]
    order_columns = ["address", "fee_type", "fee", "start_date", "expiry_date"]
    base_order = ("expiry_date", "asc")
    search_columns = ["address", "fee_type", "fee", "start_date", "expiry_date"]
    quick_search_columns = ["address", "client.name", "client.short_name"]
    add_form_extra_fields = {"client": ClientField(_l("Client"), required=True)}
    edit_form_extra_fields = {"client": ClientField(_l("Client"), required=True,
                                                    model=AddressService)}
    description_columns = {"expiry_date": _l("Leave empty for a one-off fee without expiry.")}

    def row_class(self, item) -> str:
        return ROW_CLASSES.get(terms.expiry_state(item.expiry_date, clock.today()), "")

    def row_version(self, item) -> str | None:
        return item.expiry_date.isoformat() if item.expiry_date else None

    def _derive_flag(self, *client_ids) -> None:
        """提供注册地址 follows the client's running address rows."""
        work_service.sync_address_flags(clock.today(), client_ids)
        db.session.commit()

    def post_add(self, item):
        super().post_add(item)
        self._derive_flag(item.client_id)

    def post_update(self, item):
        super().post_update(item)
        self._derive_flag(item.client_id, g.get("saved_client_id"))

    def post_delete(self, item):
        super().post_delete(item)
        self._derive_flag(item.client_id)

    @action("renew", _l("Renew fee"), _l("Extend the selected yearly address services by "
                                         "one year?"), "fa-refresh", multiple=True, single=True)
    def renew(self, items):
        result = work_service.renew_addresses(_items(items), seen=_seen_dates())
        if result.changed or not (result.refused or result.skipped):
            flash(gettext("%(n)d address service(s) extended by one year.", n=result.changed),
                  "success")
        if result.refused:
            flash(gettext("%(n)d not renewed: only yearly services with an expiry date can be "
                          "renewed (one-off fees are paid once).", n=result.refused), "danger")
        if result.skipped:
            flash(gettext("%(n)d skipped: already renewed in the meantime.", n=result.skipped),
                  "warning")
        return redirect(self.get_redirect())


# ---- 上门做账 ----------------------------------------------------------------------
class OnsiteBookkeepingView(ScopedModelView):
    """上门做账: the clients whose books are kept on their premises, with their
    accountant and address. Read-only."""

    route_base = "/onsite"
    datamodel = ScopedInterface(Client)
    class_permission_name = "OnsiteBookkeepingView"
    base_permissions = ["can_list", "can_show", "can_export"]
    # Read-only: the write routes do not exist at all (404), not merely forbidden.
    exclude_route_methods = READ_ONLY_ROUTES

    list_title = _l("On-site bookkeeping")
    show_title = _l("Client details")
    label_columns = CLIENT_LABELS
    list_columns = ["name", "bookkeeper", "business_address", "contact_name", "contact_phone"]
    show_columns = ["name", "short_name", "bookkeeper", "field_agent", "business_address",
                    "registered_address", "contact_name", "contact_phone", "note"]
    order_columns = ["name", "business_address"]
    base_order = ("name", "asc")
    search_columns = ["name", "short_name", "bookkeeper", "business_address", "contact_name"]
    quick_search_columns = ["name", "short_name", "business_address", "contact_name"]
    search_form_query_rel_fields = {"bookkeeper": _active_staff}
    base_filters = [["onsite_bookkeeping", FilterEqual, True],
                    ["status", FilterNotEqual, STATUS_DELETED]]


def register(appbuilder) -> None:
    """Menu: 待办事项 on top; 合同管理, 上门做账, 提供地址 under 客户管理."""
    from .myday import MyDayView

    appbuilder.add_view(MyDayView, "MyDay", href="MyDayView.index", label=_l("My day"),
                        icon="fa-mobile")
    appbuilder.add_view(TodoModelView, "Todos", label=_l("Todos"), icon="fa-check-square-o")
    appbuilder.add_view(ContractModelView, "Contracts", label=_l("Contracts"),
                        icon="fa-file-text-o", category="Clients")
    appbuilder.add_view(OnsiteBookkeepingView, "OnsiteBookkeeping",
                        label=_l("On-site bookkeeping"), icon="fa-car", category="Clients")
    appbuilder.add_view(AddressServiceModelView, "AddressServices",
                        label=_l("Address service"), icon="fa-map-marker", category="Clients")
    from .credentials import ClientCredentialView

    appbuilder.add_view(ClientCredentialView, "ClientCredentials",
                        label=_l("Client logins"), icon="fa-key", category="Clients")
