"""财务管理: 日记账 (审核 locks, 解锁 is logged), 欠费客户 (催费 notices); 客户导入 under
客户管理; the 催费 notice settings under 系统管理.

The client of a journal entry is chosen with the one client picker
(``app.views.pickers``). 审核 and 解锁 are the journal's workflow
(``app.domain.workflows.JOURNAL``): the actions, the 解锁 reason form, the lock of
approved entries and the home page's card come from that declaration.
"""
from __future__ import annotations


from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import SimpleFormView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import (BS3TextAreaFieldWidget, BS3TextFieldWidget,
                                           DatePickerWidget)
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import or_
from wtforms import DateField, IntegerField, TextAreaField
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange,
                                Optional as OptionalValidator)

from .. import clock, imports
from ..domain import billing
from ..domain.choices import APPROVAL_STATUS, BILLING_CYCLE, TAXPAYER_TYPE
from ..extensions import db
from ..models import Client, DictItem, JournalEntry
from ..data import clients as picker
from ..data.interface import ScopedInterface
from ..security.scope import OUT_OF_SCOPE, ScopeError
from ..services import finance
from ..services import ledger as ledger_service
from .importing import ImportPageView
from .base import READ_ONLY_ROUTES, ScopedModelView
from .clients import CLIENT_LABELS
from .pickers import ClientField, ClientPickerMixin

def _items(items) -> list:
    return items if isinstance(items, list) else [items]


def _money(value) -> str:
    return "" if value is None or value == "" else f"{value:,.2f}"


# ---- 日记账 ------------------------------------------------------------------------
JOURNAL_LABELS = {
    "entry_date": _l("Date"), "client": _l("Client"), "client.name": _l("Company name"),
    "client.short_name": _l("Short name"),
    "client.credit_code": _l("Unified social credit code"),
    "direction": _l("Income or expense"), "category": _l("Category"),
    "method": _l("Payment method"), "amount": _l("Amount"),
    "period_start": _l("Period from"), "period_end": _l("Period to"),
    "next_payment_date": _l("Next payment date"), "note": _l("Note"),
    "status": _l("Status"), "created_by": _l("Created by"), "created_on": _l("Created on"),
    "approved_by": _l("Approved by"), "approved_at": _l("Approved at"),
}
_dict = {kind: [["kind", FilterEqual, kind], ["active", FilterEqual, True]]
         for kind in ("journal_category", "payment_method")}
_JOURNAL_REL = {"category": _dict["journal_category"], "method": _dict["payment_method"]}


def _date_field(label, required=False, default=None):
    return DateField(label, format="%Y-%m-%d", default=default, widget=DatePickerWidget(),
                     validators=[DataRequired()] if required else [OptionalValidator()])


class JournalModelView(ClientPickerMixin, ScopedModelView):
    """日记账: income and expense. New entries wait for 审核; approved ones are locked
    until a manager unlocks them (with a reason, logged). A client's payment is a 收款
    receipt, whose approval posts its own entry here (held by the receipt)."""

    route_base = "/journal"
    datamodel = ScopedInterface(JournalEntry)
    class_permission_name = "JournalModelView"
    add_template = "finance/journal_add.html"

    list_title = _l("Journal")
    show_title = _l("Journal entry")
    add_title = _l("Add journal entry")
    edit_title = _l("Edit journal entry")
    label_columns = JOURNAL_LABELS

    list_columns = ["entry_date", "client", "direction", "category", "method", "amount",
                    "status", "created_by"]
    show_columns = ["entry_date", "client", "direction", "category", "method", "amount",
                    "period_start", "period_end", "next_payment_date", "note", "status",
                    "created_by", "created_on", "approved_by", "approved_at"]
    export_columns = ["entry_date", "client", "direction", "category", "method", "amount",
                      "period_start", "period_end", "next_payment_date", "status",
                      "created_by", "approved_by", "approved_at", "note"]
    # no next payment date: 下次收费日期 is derived from the ledger, never typed
    add_columns = edit_columns = ["entry_date", "client", "direction", "category", "method",
                                  "amount", "period_start", "period_end", "note"]
    order_columns = ["entry_date", "direction", "amount", "status"]
    base_order = ("entry_date", "desc")
    search_columns = ["entry_date", "direction", "category", "method", "amount", "status",
                      "created_by", "next_payment_date", "note"]
    quick_search_columns = ["client.name", "client.short_name", "client.credit_code", "note"]
    month_filter_column = "entry_date"
    add_form_extra_fields = {
        "entry_date": _date_field(_l("Date"), required=True, default=clock.today),
        "client": ClientField(_l("Client")),
    }
    edit_form_extra_fields = {
        "entry_date": _date_field(_l("Date"), required=True),
        "client": ClientField(_l("Client"), model=JournalEntry),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = _JOURNAL_REL
    search_form_query_rel_fields = {**_JOURNAL_REL, "created_by": [["active", FilterEqual, True]]}
    description_columns = {
        "client": _l("Type a company name or credit code; the client's earlier payments "
                     "are shown beside the form."),
        "direction": _l("A client's payment is not entered here but under Receipts: its "
                        "approval adds it to the journal."),
    }
    formatters_columns = {"amount": _money}

    # ---- the add form's helper (JSON) -----------------------------------------------
    @expose("/client-payments/<int:client_id>")
    def client_payments(self, client_id):
        """A visible client's earlier payments (newest first); 404 for a client the
        user may not see."""
        self.require_form_access()
        client = picker.visible_clients().filter(Client.id == client_id).first()
        if client is None:
            abort(404)
        payments = finance.earlier_payments(client.id)
        for p in payments:
            p["status_label"] = gettext(APPROVAL_STATUS.get(p["status"], p["status"]))
        hidden = picker.hidden()  # 字段可见性 holds here too
        info = {"id": client.id, "name": client.name,
                "billing_cycle": gettext(BILLING_CYCLE.get(client.billing_cycle,
                                                           client.billing_cycle)),
                "service_fee": f"{client.service_fee or 0:.2f}",
                "next_fee_date": client.next_fee_date.isoformat()
                if client.next_fee_date else ""}
        for key in ("billing_cycle", "service_fee", "next_fee_date"):
            if key in hidden:
                info[key] = ""
        return jsonify(client=info, payments=payments)

    # ---- writes ------------------------------------------------------------------
    def _check_scope(self, item):
        try:
            self.datamodel.check_write(item)
        except ScopeError:
            if item.client_id is None and item.client is None:
                raise ValueError(gettext("Choose a client: entries without a client are "
                                         "kept by Finance."))
            raise ValueError(gettext(OUT_OF_SCOPE))


# ---- 欠费客户 ----------------------------------------------------------------------
ARREARS_LABELS = {
    **CLIENT_LABELS,
    "arrears_state": _l("Arrears"), "periods_owed": _l("Periods owed"),
    "amount_owed": _l("Amount owed"), "oldest_due": _l("Oldest due date"),
}
#: computed per row from the ledger's open charges past due (list, show and export)
ARREARS_COLUMNS = ("arrears_state", "periods_owed", "amount_owed", "oldest_due")


class ArrearsInterface(ScopedInterface):
    """Clients, with the arrears columns read from the ledger (open charges due
    before today): one grouped query per page (or per export batch), not per row."""

    def query(self, *args, **kwargs):
        count, rows = super().query(*args, **kwargs)
        self._preload(rows)
        return count, rows

    def iter_all(self, *args, **kwargs):
        batch = []
        for item in super().iter_all(*args, **kwargs):
            batch.append(item)
            if len(batch) == 2000:
                self._preload(batch)
                yield from batch
                batch = []
        self._preload(batch)
        yield from batch

    def _get_attr_value(self, item, col):
        if col in ARREARS_COLUMNS:
            return self._arrears(item)[col]
        return super()._get_attr_value(item, col)

    @staticmethod
    def _today():
        today = g.get("_arrears_today")
        if today is None:
            today = g._arrears_today = clock.today()
            g._arrears_labels = {state: gettext(label)
                                 for state, label in billing.ARREARS_STATE.items()}
        return today

    def _preload(self, rows) -> None:
        """The ledger figures of these clients, kept on ``g`` (the interface itself is
        shared by concurrent requests)."""
        if not rows:
            return
        figures = ledger_service.arrears_figures([r.id for r in rows], self._today())
        memo = g.get("_arrears_figures")
        if memo is None:
            memo = g._arrears_figures = {}
        for r in rows:
            memo[r.id] = figures.get(r.id, (0, None, None))

    def _arrears(self, item) -> dict:
        """The computed values of a row: periods owed (open periodic charges past
        due), amount owed (what is left of every open charge past due), the oldest
        due date, and the state (overdue when he owes, else due soon)."""
        memo = g.get("_arrears_figures") or {}
        if item.id not in memo:
            self._preload([item])
            memo = g._arrears_figures
        periods, amount, oldest = memo[item.id]
        amount = amount if amount is not None else billing.amount_owed(0, 0)
        owes = amount > 0
        return {"periods_owed": periods, "amount_owed": amount, "oldest_due": oldest or "",
                "arrears_state": g._arrears_labels[billing.OVERDUE if owes
                                                   else billing.DUE_SOON]}


class ArrearsFilter:
    """The arrears condition as a filter object FAB's ``Filters`` can carry."""

    arg_name = "arrears"
    name = _l("Arrears")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name, self.datamodel = column_name, datamodel

    def apply(self, query, value):
        today, days = value
        # open charges past due (the ledger), or billed and due from today to ``days``
        # ahead (nothing owed yet)
        return query.filter(or_(ledger_service.past_due_condition(today),
                                finance.arrears_condition(today, days)
                                & (Client.next_fee_date >= today)))


class ArrearsView(ScopedModelView):
    """欠费客户: clients with open charges past due in the ledger (red), and billed
    代理记账 clients whose next fee date falls within N days (amber, ``?days=`` or the
    setting), with periods owed, amount owed and the oldest due date."""

    route_base = "/arrears"
    datamodel = ArrearsInterface(Client)
    class_permission_name = "ArrearsView"
    base_permissions = ["can_list", "can_show", "can_export", "can_dun"]
    method_permission_name = {"dun": "dun"}
    # Read-only: the write routes do not exist at all (404), not merely forbidden.
    exclude_route_methods = READ_ONLY_ROUTES - {"action", "action_post"}  # 催费
    list_template = "finance/arrears_list.html"

    list_title = show_title = _l("Clients in arrears")
    label_columns = ARREARS_LABELS
    list_columns = ["name", "bookkeeper", "billing_cycle", "service_fee", "next_fee_date",
                    "arrears_state", "oldest_due", "periods_owed", "amount_owed"]
    show_columns = ["name", "short_name", "credit_code", "contact_name", "contact_phone",
                    "bookkeeper", "field_agent", "billing_cycle", "service_fee",
                    "next_fee_date", "arrears_state", "oldest_due", "periods_owed",
                    "amount_owed"]
    export_columns = ["name", "credit_code", "contact_name", "contact_phone", "bookkeeper",
                      "field_agent", "billing_cycle", "service_fee", "next_fee_date",
                      "arrears_state", "oldest_due", "periods_owed", "amount_owed"]
    order_columns = ["name", "billing_cycle", "service_fee", "next_fee_date"]
    base_order = ("next_fee_date", "asc")
    search_columns = ["name", "bookkeeper", "field_agent", "billing_cycle", "service_fee",
                      "next_fee_date"]
    quick_search_columns = ["name", "short_name", "credit_code", "contact_name"]
    _staff = [["active", FilterEqual, True]]
    search_form_query_rel_fields = {"bookkeeper": _staff, "field_agent": _staff}
    formatters_columns = {"service_fee": _money, "amount_owed": _money}

    def days(self) -> int:
        return finance.arrears_days(request.args.get("days"))

    def hidden(self) -> frozenset:
        """A computed column is hidden with the fields it is computed from: the
        amount owed reveals the fee, the periods owed the fee date and cycle."""
        hidden = super().hidden()
        derived = {col for col, sources in finance.ARREARS_SOURCES.items()
                   if hidden & sources}
        return hidden | derived

    def query_filters(self, filters):
        joined = super().query_filters(filters)
        joined.add_filter("id", ArrearsFilter, (clock.today(), self.days()))
        return joined

    def row_class(self, item) -> str:
        owes = self.datamodel._arrears(item)["amount_owed"] > 0
        return "row-overdue" if owes else "row-due-soon"

    def render_template(self, template, **kwargs):
        kwargs.setdefault("arrears_days", self.days())
        return super().render_template(template, **kwargs)

    @action("dun", _l("Dunning notice"), "", "fa-bell", multiple=True, single=True)
    def dun(self, items):
        notices = finance.dunning_notices(_items(items), clock.today(),
                                          hidden=self.hidden())
        return self.render_template("finance/dunning.html", notices=notices,
                                    title=gettext("Dunning notices"))


# ---- 催费通知 settings (系统管理) -----------------------------------------------------
class FinanceSettingsForm(DynamicForm):
    dunning_template = TextAreaField(
        _l("Dunning notice"), validators=[OptionalValidator(), Length(max=4000)],
        widget=BS3TextAreaFieldWidget(),
        description=_l("Leave empty to use the text shipped with the system."))
    arrears_days = IntegerField(
        _l("Clients in arrears: due within (days)"),
        validators=[InputRequired(message=_l("Enter a number of days.")),
                    NumberRange(min=0, max=finance.MAX_ARREARS_DAYS,
                                message=_l("Enter a number of days from 0 to 366."))],
        widget=BS3TextFieldWidget())


class FinanceSettingsView(SimpleFormView):
    """催费通知: the text of the dunning notice (with its placeholders) and how many days
    ahead 欠费客户 looks."""

    route_base = "/settings/finance"
    form = FinanceSettingsForm
    form_title = _l("Dunning notice settings")
    form_template = "finance/settings.html"

    def render_template(self, template, **kwargs):
        kwargs.setdefault("placeholders", [(p, gettext(text)) for p, text
                                           in finance.DUNNING_PLACEHOLDERS.items()])
        return super().render_template(template, **kwargs)

    def form_get(self, form):
        form.dunning_template.data = finance.dunning_template()
        form.arrears_days.data = finance.arrears_days()

    def form_post(self, form):
        text = (form.dunning_template.data or "").replace("\r\n", "\n").strip()
        if text == gettext(finance.DEFAULT_DUNNING_TEMPLATE).strip():
            text = ""  # the default stays the default (and follows the language)
        finance.save_finance_settings(text, form.arrears_days.data)
        flash(gettext("Settings saved."), "success")
        return redirect(url_for("FinanceSettingsView.this_form_get"))


# ---- 客户导入 ----------------------------------------------------------------------
class ClientImportView(ImportPageView):
    """客户导入: every row checked against the client rules and the importer's scope."""

    route_base = "/clients/import"
    class_permission_name = "ClientImportView"
    # the name the role screens show for this view (security.roles reads list_title)
    list_title = _l("Client import")
    page_template = "finance/import.html"
    list_endpoint = "ClientModelView.list"

    def page_title(self) -> str:
        return gettext("Client import")

    def template_name(self) -> str:
        return gettext("Client import template")

    def template_bytes(self) -> bytes:
        return imports.template_xlsx()

    def run_import(self, rows, filename):
        user = g.user
        has_permission = ScopedInterface(Client).has_permission_for(user)
        return imports.import_clients(rows, user, has_permission, filename=filename)

    def imported_message(self, n: int) -> str:
        return gettext("%(n)d client(s) imported.", n=n)

    def page_extras(self) -> dict:
        return dict(
            headers=imports.HEADERS,
            sources=[n for (n,) in db.session.query(DictItem.name).filter(
                DictItem.kind == "client_source", DictItem.active.is_(True))
                .order_by(DictItem.sort_order, DictItem.id)],
            taxpayer_labels=[gettext(v) for v in TAXPAYER_TYPE.values()],
            cycle_labels=[gettext(v) for v in BILLING_CYCLE.values()])


def register(appbuilder) -> None:
    """财务管理 (日记账, 欠费客户) and 客户导入 under 客户管理."""
    appbuilder.add_view(JournalModelView, "Journal", label=_l("Journal"), icon="fa-book",
                        category="Finance", category_label=_l("Financial management"),
                        category_icon="fa-jpy")
    appbuilder.add_view(ArrearsView, "Arrears", label=_l("Clients in arrears"),
                        icon="fa-exclamation-circle", category="Finance")
    appbuilder.add_view(ClientImportView, "ClientImport", label=_l("Client import"),
                        icon="fa-upload", category="Clients")


def register_admin(appbuilder) -> None:
    """The 催费通知 settings under 系统管理 (call after that category exists)."""
    appbuilder.add_view(FinanceSettingsView, "DunningSettings",
                        label=_l("Dunning notice settings"), icon="fa-bell",
                        category="Administration")
