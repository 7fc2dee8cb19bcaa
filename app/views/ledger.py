"""应收 (receivables) under 财务管理: 应收 charges (one-off fees and adjustments typed
here, periodic ones made by the charge run; 坏账 by a manager), 收款 receipts (审核 and
解锁 are the RECEIPT workflow; 退款 by a manager; the printable 收据), and the 客户对账单
page with its xlsx. 欠费客户 (``app.views.finance.ArrearsView``) reads the same ledger.
"""
from __future__ import annotations

import datetime
import io

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import BaseView, expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget, DatePickerWidget
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional as OptionalValidator

from .. import audit, clock, guards
from ..data import clients as picker
from ..data.interface import ScopedInterface
from ..domain import ledger
from ..domain.choices import CHARGE_KIND
from ..domain.validation import FieldError, Money, parse_id
from ..exports import write_xlsx
from ..extensions import db
from ..models import Charge, Client, Receipt
from ..services import ledger as ledger_service
from .base import ScopedModelView, choice_field
from .pickers import ClientField, ClientPickerMixin


def _money(value) -> str:
    return "" if value is None or value == "" else f"{value:,.2f}"


def _items(items) -> list:
    return items if isinstance(items, list) else [items]


def _one(view, pk):
    """The row ``pk`` of a view through its scope (404 when it is not visible); for
    pages that change no state a version guards (print, refund, write-off)."""
    row_id = parse_id(pk)
    rows = view.datamodel.get_many([row_id]) if row_id is not None else []
    if len(rows) != 1:
        abort(404)
    return rows[0]


def _date_field(label, required=False, default=None):
    return DateField(label, format="%Y-%m-%d", default=default, widget=DatePickerWidget(),
                     validators=[DataRequired()] if required else [OptionalValidator()])


#: what a person may type as a new charge (periodic ones come from the charge run)
TYPED_KINDS = {k: v for k, v in CHARGE_KIND.items()
               if k not in (ledger.PERIODIC, ledger.HISTORICAL)}

CHARGE_LABELS = {
    "client": _l("Client"), "client.name": _l("Company name"),
    "client.short_name": _l("Short name"), "client.credit_code": _l("Unified social credit code"),
    "kind": _l("Kind"), "period": _l("Period"), "description": _l("Description"),
    "amount": _l("Amount"), "due_date": _l("Due date"), "state": _l("State"),
    "paid": _l("Paid"), "written_off": _l("Written off"),
    "written_off_on": _l("Written off on"), "write_off_reason": _l("Write-off reason"),
    "written_off_by": _l("Written off by"), "created_on": _l("Created on"),
    "created_by": _l("Created by"), "approved_by": _l("Approved by"),
    "approved_at": _l("Approved at"),
}


class ChargeModelView(ClientPickerMixin, ScopedModelView):
    """应收: what each client owes, one row per fee date (the charge run), one-off
    fee or adjustment; 坏账 (write-off) by a manager with a reason. Charges are never
    edited or deleted: a mistake is corrected by an adjustment."""

    route_base = "/charges"
    datamodel = ScopedInterface(Charge)
    class_permission_name = "ChargeModelView"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_export",
                        "can_write_off", "can_approve"]
    method_permission_name = {"write_off": "write_off", "write_off_form": "write_off"}
    exclude_route_methods = {"delete", "api", "api_read", "api_get",
                             "api_column_add", "api_column_edit", "api_readvalues",
                             "api_delete", "api_update", "api_create", "download"}

    list_title = _l("Charges")
    show_title = _l("Charge")
    add_title = _l("Add one-off charge or adjustment")
    edit_title = _l("Edit one-off charge or adjustment")
    label_columns = CHARGE_LABELS
    list_columns = ["client", "kind", "period", "due_date", "amount", "paid", "written_off",
                    "state"]
    show_columns = ["client", "kind", "period", "description", "due_date", "amount", "paid",
                    "written_off", "state", "written_off_on", "write_off_reason",
                    "written_off_by", "created_on", "created_by", "approved_by",
                    "approved_at"]
    export_columns = ["client", "kind", "period", "description", "due_date", "amount",
                      "paid", "written_off", "state", "written_off_on", "write_off_reason"]
    add_columns = edit_columns = ["client", "kind", "description", "amount", "due_date"]
    order_columns = ["due_date", "amount", "state", "kind"]
    base_order = ("due_date", "desc")
    search_columns = ["kind", "period", "due_date", "amount", "state", "description"]
    quick_search_columns = ["client.name", "client.short_name", "client.credit_code",
                            "description"]
    month_filter_column = "due_date"
    add_form_extra_fields = {
        "client": ClientField(_l("Client"), required=True),
        "kind": choice_field(_l("Kind"), TYPED_KINDS),
        "due_date": _date_field(_l("Due date"), required=True, default=clock.today),
    }
    edit_form_extra_fields = {
        "client": ClientField(_l("Client"), required=True, model=Charge),
        "kind": choice_field(_l("Kind"), TYPED_KINDS),
        "due_date": _date_field(_l("Due date"), required=True),
    }
    description_columns = {
        "description": _l("What the fee is for (工商变更费, 地址费 …) or why the "
                          "adjustment is made."),
        "kind": _l("An adjustment counts once a Manager or Finance (not its author) has "
                   "approved it. It can only add to what the client owes: to lower it, "
                   "write the charge off or refund."),
    }
    formatters_columns = {"amount": _money, "paid": _money, "written_off": _money}

    def row_class(self, item) -> str:
        if item.state == ledger.OPEN and item.due_date < clock.today():
            return "row-overdue"
        return ""

    def pre_add_checks(self, item):
        if item.kind not in TYPED_KINDS:
            raise ValueError(gettext("Periodic charges are made by the charge run."))
        if item.kind == ledger.ADJUSTMENT and not (item.description or "").strip():
            raise ValueError(gettext("An adjustment needs a reason (description)."))
        item.period = None
        item.paid, item.written_off = 0, 0

    @staticmethod
    def _first_state(item) -> None:
        """An adjustment waits for approval (the ADJUSTMENT workflow); a one-off fee
        counts at once."""
        item.state = ledger.PENDING if item.kind == ledger.ADJUSTMENT else ledger.OPEN

    def pre_add(self, item):
        self.pre_add_checks(item)
        item.created_by_id = g.user.id
        super().pre_add(item)  # the workflow's first state, author and version
        self._first_state(item)

    def post_add(self, item):
        ledger_service.charge_added(item)  # a prepayment pays it

    def pre_update(self, item):
        """Only a typed charge nothing has been paid on or written off is corrected
        here (a typo before it is paid); anything else takes an adjustment."""
        from sqlalchemy import select

        c = Charge.__table__.c
        row = db.session.execute(select(c.kind, c.paid, c.written_off, c.state)
                                 .where(c.id == item.id)).one()
        # an approved adjustment counts: changing it would bypass its approval
        editable = ledger.PENDING if row.kind == ledger.ADJUSTMENT else ledger.OPEN
        if row.kind not in TYPED_KINDS or row.paid or row.written_off \
                or row.state != editable:
            db.session.rollback()
            raise ValueError(gettext("Only an open one-off charge with nothing paid on it, "
                                     "or an adjustment waiting for approval, can be "
                                     "changed: record an adjustment instead."))
        self.pre_add_checks(item)
        super().pre_update(item)
        self._first_state(item)

    def post_update(self, item):
        ledger_service.charge_added(item)

    @action("write_off", _l("Write off as bad debt"), "", "fa-ban", multiple=False,
            single=True)
    def write_off(self, items):
        return redirect(url_for(".write_off_form", pk=_items(items)[0].id))

    @expose("/write-off/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("write_off")
    def write_off_form(self, pk):
        """坏账: a manager writes off what is left of an open charge, with a reason."""
        item = _one(self, pk)
        form = ReasonForm(request.form if request.method == "POST" else None)
        if request.method == "POST":
            if form.validate():
                if ledger_service.write_off(item, form.reason.data.strip(), g.user,
                                            clock.today()):
                    flash(gettext("The charge was written off as bad debt."), "success")
                else:
                    flash(gettext("The charge is no longer open: nothing was written off."),
                          "warning")
                return redirect(url_for(".show", pk=item.id))
            guards.mark_form_invalid()
        return self.render_template("ledger/reason.html", form=form, item=item,
                                    title=gettext("Write off as bad debt"),
                                    facts=[(gettext("Client"), item.client.name),
                                           (gettext("Due date"), item.due_date),
                                           (gettext("Amount"), _money(item.amount)),
                                           (gettext("Paid"), _money(item.paid))],
                                    back=url_for(".show", pk=item.id))


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=255)],
                         widget=BS3TextFieldWidget())


class RefundForm(ReasonForm):
    amount = StringField(_l("Amount"), validators=[DataRequired()],
                         widget=BS3TextFieldWidget())


RECEIPT_LABELS = {
    "client": _l("Client"), "client.name": _l("Company name"),
    "client.short_name": _l("Short name"), "client.credit_code": _l("Unified social credit code"),
    "amount": _l("Amount"), "received_on": _l("Received on"), "method": _l("Payment method"),
    "payer": _l("Paid by"), "note": _l("Note"), "status": _l("Status"),
    "number": _l("Receipt number"), "matched": _l("Matched"), "refunded": _l("Refunded"),
    "created_by": _l("Created by"), "created_on": _l("Created on"),
    "approved_by": _l("Approved by"), "approved_at": _l("Approved at"),
}
_METHODS = {"method": [["kind", FilterEqual, "payment_method"], ["active", FilterEqual, True]]}


class ReceiptModelView(ClientPickerMixin, ScopedModelView):
    """收款: money received, 待审核 until Finance approves it (never its author);
    approval numbers it, matches it to the oldest open charges and locks it; 解锁
    (with a reason) takes the matches back. 退款 by a manager; 收据 to print."""

    route_base = "/receipts"
    datamodel = ScopedInterface(Receipt)
    class_permission_name = "ReceiptModelView"
    method_permission_name = {"refund": "refund", "refund_form": "refund",
                              "print_receipt": "show", "match": "match",
                              "match_form": "match", "unmatch_form": "match",
                              "automatch_form": "match"}

    list_title = _l("Receipts")
    show_title = _l("Receipt")
    add_title = _l("Add receipt")
    edit_title = _l("Edit receipt")
    label_columns = RECEIPT_LABELS
    list_columns = ["number", "client", "received_on", "amount", "method", "matched",
                    "refunded", "status", "created_by"]
    show_columns = ["number", "client", "received_on", "amount", "method", "payer", "note",
                    "matched", "refunded", "status", "created_by", "created_on",
                    "approved_by", "approved_at"]
    export_columns = ["number", "client", "received_on", "amount", "method", "payer",
                      "matched", "refunded", "status", "created_by", "approved_by",
                      "approved_at", "note"]
    add_columns = edit_columns = ["client", "received_on", "amount", "method", "payer", "note"]
    order_columns = ["received_on", "amount", "status", "number"]
    base_order = ("received_on", "desc")
    search_columns = ["received_on", "amount", "method", "status", "number", "note"]
    quick_search_columns = ["client.name", "client.short_name", "client.credit_code",
                            "number", "payer"]
    month_filter_column = "received_on"
    add_form_extra_fields = {
        "client": ClientField(_l("Client"), required=True),
        "received_on": _date_field(_l("Received on"), required=True, default=clock.today),
    }
    edit_form_extra_fields = {
        "client": ClientField(_l("Client"), required=True, model=Receipt),
        "received_on": _date_field(_l("Received on"), required=True),
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = _METHODS
    search_form_query_rel_fields = {**_METHODS, "created_by": [["active", FilterEqual, True]]}
    formatters_columns = {"amount": _money, "matched": _money, "refunded": _money}

    @action("refund", _l("Refund"), "", "fa-undo", multiple=False, single=True)
    def refund(self, items):
        return redirect(url_for(".refund_form", pk=_items(items)[0].id))

    @expose("/refund/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("refund")
    def refund_form(self, pk):
        """退款: a manager pays back part of an approved receipt, with a reason."""
        item = _one(self, pk)
        form = RefundForm(request.form if request.method == "POST" else None)
        if request.method == "POST":
            if form.validate():
                try:
                    amount = Money().clean(form.amount.data)
                    ledger_service.refund(item, amount, form.reason.data.strip(), g.user,
                                          clock.today())
                except FieldError:
                    form.amount.errors = list(form.amount.errors) + [
                        gettext("Enter an amount of money, e.g. 1200.00")]
                except ledger_service.LedgerError as exc:
                    db.session.rollback()
                    form.amount.errors = list(form.amount.errors) + [
                        gettext(exc.reason, **exc.params)]
                else:
                    flash(gettext("The refund was recorded."), "success")
                    return redirect(url_for(".show", pk=item.id))
            guards.mark_form_invalid()
        return self.render_template("ledger/reason.html", form=form, item=item,
                                    title=gettext("Refund"),
                                    facts=[(gettext("Client"), item.client.name),
                                           (gettext("Receipt number"), item.number or ""),
                                           (gettext("Amount"), _money(item.amount)),
                                           (gettext("Refunded"), _money(item.refunded))],
                                    back=url_for(".show", pk=item.id))

    # ---- 手工核销 -------------------------------------------------------------------
    @action("match", _l("Match by hand"), "", "fa-link", multiple=False, single=True)
    def match(self, items):
        return redirect(url_for(".match_form", pk=_items(items)[0].id))

    def _match_page(self, item, errors=(), typed=None):
        matches, open_rows, token = ledger_service.matching_page(item.id)
        free = ledger.money(item.amount) - ledger.money(item.matched) \
            - ledger.money(item.refunded)
        if errors:
            guards.mark_form_invalid()
        return self.render_template(
            "ledger/match.html", item=item, matches=matches, open_rows=open_rows,
            token=token, free=free, errors=errors, typed=typed or {}, money=_money,
            kinds=CHARGE_KIND, title=gettext("Match by hand"),
            back=url_for(".show", pk=item.id))

    def _approved(self, pk):
        item = _one(self, pk)
        if item.status != "approved":
            raise guards.UserError(422, gettext("Only an approved receipt can be matched."))
        return item

    @expose("/match/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("match")
    def match_form(self, pk):
        """手工核销: Finance picks which open charges of the receipt's client its
        unmatched money pays, and how much of each (``amount_<charge id>``)."""
        item = self._approved(pk)
        if request.method == "GET":
            return self._match_page(item)
        picks, typed, errors = {}, {}, []
        for key, text in request.form.items():
            if not key.startswith("amount_") or not (text or "").strip():
                continue
            charge_id = parse_id(key.removeprefix("amount_"))
            if charge_id is None:
                abort(404)
            typed[charge_id] = text
            try:
                picks[charge_id] = Money(allow_zero=True).clean(text)
            except FieldError:
                errors.append(gettext("Enter an amount of money, e.g. 1200.00"))
        if errors:
            return self._match_page(item, errors, typed)
        try:
            total = ledger_service.hand_match(item, picks, request.form.get("seen", ""),
                                              g.user)
        except LookupError:
            db.session.rollback()
            abort(404)
        except ledger_service.LedgerError as exc:
            db.session.rollback()
            return self._match_page(item, [gettext(exc.reason, **exc.params)], typed)
        flash(gettext("%(amount)s matched by hand.", amount=_money(total)), "success")
        return redirect(url_for(".match_form", pk=item.id))

    @expose("/unmatch/<pk>", methods=["POST"])
    @has_access
    @permission_name("match")
    def unmatch_form(self, pk):
        """Undo one match of an approved receipt (``allocation``: its id)."""
        item = self._approved(pk)
        allocation_id = parse_id(request.form.get("allocation"))
        if allocation_id is None:
            abort(404)
        try:
            amount = ledger_service.hand_unmatch(item, allocation_id,
                                                 request.form.get("seen", ""), g.user)
        except LookupError:
            db.session.rollback()
            abort(404)
        except ledger_service.LedgerError as exc:
            db.session.rollback()
            return self._match_page(item, [gettext(exc.reason, **exc.params)])
        flash(gettext("The match of %(amount)s was undone; the money is unmatched until "
                      "you match it.", amount=_money(amount)), "success")
        return redirect(url_for(".match_form", pk=item.id))

    @expose("/automatch/<pk>", methods=["POST"])
    @has_access
    @permission_name("match")
    def automatch_form(self, pk):
        """Hand the receipt back to automatic matching (oldest open charges first)."""
        item = self._approved(pk)
        try:
            ledger_service.match_automatically(item, request.form.get("seen", ""), g.user)
        except ledger_service.LedgerError as exc:
            db.session.rollback()
            return self._match_page(item, [gettext(exc.reason, **exc.params)])
        flash(gettext("The receipt is matched automatically again."), "success")
        return redirect(url_for(".match_form", pk=item.id))

    @expose("/print/<pk>")
    @has_access
    @permission_name("show")
    def print_receipt(self, pk):
        """收据: the printable receipt of an approved (numbered) receipt."""
        item = _one(self, pk)
        if item.status != "approved" or not item.number:
            abort(404)
        audit.record(db.session.connection(), "print", Receipt.__tablename__, item.id)
        db.session.commit()
        return self.render_template("ledger/receipt_print.html", item=item,
                                    yuan=ledger.yuan(item.amount),
                                    words=ledger.amount_in_words(item.amount),
                                    firm=_firm_name(), title=gettext("Receipt"))


def _firm_name() -> str:
    from ..services import settings

    return settings.company().get("company_name", "")


# ---- 客户对账单 ------------------------------------------------------------------------
KIND_LABEL = {ledger.CHARGE: _l("Charge"), ledger.RECEIPT: _l("Receipt"),
              ledger.REFUND: _l("Refund"), ledger.WRITE_OFF: _l("Write-off")}


def _parse_date(text, default):
    try:
        return datetime.date.fromisoformat(str(text).strip()) if text else default
    except ValueError:
        raise guards.UserError(400, gettext("Enter dates as YYYY-MM-DD."))


class StatementView(BaseView):
    """客户对账单: a visible client's ledger over a date range — opening balance,
    charges, receipts, refunds, write-offs, closing balance — as a page (printable)
    and as xlsx (audited)."""

    route_base = "/statement"
    default_view = "index"
    # the name the role screens show for this view (security.roles reads list_title)
    list_title = _l("Client statement")
    class_permission_name = "StatementView"
    base_permissions = ["can_index", "can_export"]
    method_permission_name = {"index": "index", "export": "export"}

    def _query(self):
        """(client or None, start, end) from the query string; 404 for a client the
        user may not see."""
        today = clock.today()
        start = _parse_date(request.args.get("start"), today.replace(day=1, month=1))
        end = _parse_date(request.args.get("end"), today)
        if end < start:
            raise guards.UserError(400, gettext("The end date is before the start date."))
        raw = request.args.get("client", "").strip()
        if not raw:
            return None, start, end
        try:
            client = picker.resolve(raw)  # an id, or a name / credit code, in the scope
        except picker.ClientLookupError as exc:
            if exc.reason == "ambiguous":
                raise guards.UserError(400, gettext(
                    "Several clients are called %(text)s: enter the unified social credit "
                    "code instead.", text=exc.text))
            abort(404)
        return client, start, end

    @expose("/")
    @has_access
    @permission_name("index")
    def index(self):
        client, start, end = self._query()
        st = ledger_service.client_statement(client.id, start, end) if client else None
        return self.render_template("ledger/statement.html", client=client, start=start,
                                    end=end, st=st, kinds=KIND_LABEL, yuan=ledger.yuan,
                                    words=ledger.amount_in_words, firm=_firm_name(),
                                    title=gettext("Client statement"))

    @expose("/export.xlsx")
    @has_access
    @permission_name("export")
    def export(self):
        client, start, end = self._query()
        if client is None:
            abort(404)
        st = ledger_service.client_statement(client.id, start, end)
        headers = [gettext("Date"), gettext("Kind"), gettext("Description"),
                   gettext("Charges"), gettext("Received"), gettext("Balance")]
        rows, balance = [], st.opening
        rows.append([start, gettext("Opening balance"), "", None, None, balance])
        for line in st.lines:
            balance += ledger.SIGN[line.kind] * line.amount
            plus = ledger.SIGN[line.kind] > 0
            rows.append([line.day, gettext(KIND_LABEL[line.kind]), line.text,
                         line.amount if plus else None, None if plus else line.amount,
                         balance])
        rows.append([end, gettext("Closing balance"), "", None, None, st.closing])
        title = gettext("Client statement")
        data, count = write_xlsx(f"{title} {client.name}", headers, rows, sheet_name=title)
        audit.record(db.session.connection(), "export", Client.__tablename__, client.id,
                     changes={"view": "StatementView", "start": start.isoformat(),
                              "end": end.isoformat(), "rows": count})
        db.session.commit()
        return send_file(io.BytesIO(data), as_attachment=True,
                         download_name=f"{title}-{client.id}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx",
                         mimetype="application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet")


def register(appbuilder) -> None:
    """应收, 收款 and 客户对账单 under 财务管理."""
    appbuilder.add_view(ChargeModelView, "Charges", label=_l("Charges"), icon="fa-list-alt",
                        category="Finance")
    appbuilder.add_view(ReceiptModelView, "Receipts", label=_l("Receipts"), icon="fa-money",
                        category="Finance")
    appbuilder.add_view(StatementView, "Statement", label=_l("Client statement"),
                        icon="fa-file-text-o", category="Finance")
