"""财务管理 → 开票登记 (the invoice register), 开票月度汇总, and the menu entries of
月度统计 / 年度统计 (their view is ``app.views.stats``).

申请 → 已审核 → 已开票 → 已作废, each a guarded action (``app.services.invoices``):
审核 from the list or the details page; 开票 and 作废 ask for the invoice number or
the reason on a small form page. A request is edited or deleted only while it is a
request. The client is chosen with the scoped search box of ``app.views.work`` (a
firm has up to 100,000 clients: no dropdown of all of them).
"""
from __future__ import annotations

import decimal

from flask import abort, flash, g, jsonify, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional as OptionalValidator, \
    ValidationError

from .. import clock
from ..domain import codes
from ..domain.choices import INVOICE_TYPE
from ..models import Client, Invoice
from ..services import invoices as invoice_service
from ..services import work as work_service
from ..validators import CreditCode, check_credit_code, code_message
from .base import ScopedModelView
from .datamodel import ScopedInterface, current_user_or_none
from .stats import money, year_arg
from .work import ClientField, client_text, visible_clients

# Merged into app/security/roles.py ROLE_PERMISSIONS by the lead (view or menu name ->
# permissions). Finance and Manager run the register; an Accountant or a salesman
# requests invoices for his own clients (the scope limits which).
_MENU = ("menu_access",)
_INVOICE_ALL = ("can_list", "can_show", "can_add", "can_edit", "can_delete", "can_export",
                "can_approve", "can_issue", "can_void", "can_monthly")
_FINANCE_MENUS = {"Finance": _MENU, "Invoices": _MENU, "InvoiceMonthly": _MENU,
                  "MonthlyStats": _MENU, "YearlyStats": _MENU}
ROLE_GRANTS = {
    "Finance": {**_FINANCE_MENUS, "InvoiceModelView": _INVOICE_ALL,
                "StatsView": ("can_monthly", "can_yearly")},
    "Manager": {**_FINANCE_MENUS, "InvoiceModelView": _INVOICE_ALL,
                "StatsView": ("can_monthly", "can_yearly")},
    "Accountant": {"Finance": _MENU, "Invoices": _MENU,
                   "InvoiceModelView": ("can_list", "can_show", "can_add")},
    "Sales": {"Finance": _MENU, "Invoices": _MENU,
              "InvoiceModelView": ("can_list", "can_add")},
}

INVOICE_LABELS = {
    "client": _l("Client"), "client.name": _l("Company name"),
    "title": _l("Invoice title"), "tax_id": _l("Taxpayer ID"),
    "address_phone": _l("Address and phone"), "bank_account": _l("Bank and account"),
    "amount": _l("Amount"), "content": _l("Invoice content"),
    "invoice_type": _l("Invoice type"), "status": _l("Status"),
    "invoice_number": _l("Invoice number"), "note": _l("Note"),
    "created_by": _l("Requested by"), "created_on": _l("Requested at"),
    "approved_by": _l("Approved by"), "approved_at": _l("Approved at"),
    "issued_by": _l("Issued by"), "issued_at": _l("Issued at"),
    "voided_by": _l("Voided by"), "voided_at": _l("Voided at"),
    "void_reason": _l("Reason for voiding"),
}

#: what the user is told when a step finds the invoice in another state
STATE_MESSAGES = {
    "issue": _l("Only an approved invoice can be issued: this one is %(status)s."),
    "void": _l("Only an issued invoice can be voided: this one is %(status)s."),
}
LOCKED_MESSAGE = _l("This invoice is no longer a request (%(status)s): it cannot be "
                    "changed or deleted.")
FORM_ERRORS = {
    "number_required": _l("Enter the invoice number."),
    "number_format": _l("An invoice number has only digits and letters (at most 32)."),
    "number_taken": _l("This invoice number is already registered: check the number."),
    "reason_required": _l("Enter the reason for voiding."),
    "reason_length": _l("The reason is too long (at most 255 characters)."),
}
AMOUNT_MAX = decimal.Decimal("9999999999.99")  # NUMERIC(12, 2)


def _status_label(status) -> str:
    from ..domain.choices import INVOICE_STATUS

    return gettext(INVOICE_STATUS.get(status, status or ""))


def _state_message(step: str, status) -> str:
    message = STATE_MESSAGES[step]
    return gettext(message, status=_status_label(status))


def _items(items) -> list:
    return items if isinstance(items, list) else [items]


# ---- form fields ---------------------------------------------------------------------
class AmountField(DecimalField):
    """A money amount: a Chinese message when the text is not a number."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(gettext("Enter the amount as a number, e.g. 1280.00."))


class Money:
    """Amount > 0, at most two decimals, within NUMERIC(12, 2)."""

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if not value.is_finite():
            raise ValidationError(gettext("Enter the amount as a number, e.g. 1280.00."))
        if value <= 0:
            raise ValidationError(gettext("The amount must be greater than zero."))
        if value > AMOUNT_MAX:
            raise ValidationError(gettext("The amount is too large."))
        if value != value.quantize(decimal.Decimal("0.01")):
            raise ValidationError(gettext("The amount has at most two decimals (fen)."))


def _invoice_fields(model=None) -> dict:
    return {
        "client": ClientField(_l("Client"), required=True, model=model),
        "title": StringField(
            _l("Invoice title"), validators=[OptionalValidator(), Length(max=200)],
            description=_l("Leave empty to use the client's company name."),
            widget=BS3TextFieldWidget()),
        "tax_id": StringField(
            _l("Taxpayer ID"), validators=[CreditCode()],
            description=_l("The 18-character unified social credit code; leave empty to use "
                           "the client's."),
            widget=BS3TextFieldWidget()),
        "amount": AmountField(
            _l("Amount"), places=2,
            validators=[InputRequired(message=_l("Enter the amount.")), Money()],
            widget=BS3TextFieldWidget()),
        "content": StringField(_l("Invoice content"), validators=[Length(max=255)],
                               widget=BS3TextFieldWidget()),
        "address_phone": StringField(_l("Address and phone"), validators=[Length(max=255)],
                                     widget=BS3TextFieldWidget()),
        "bank_account": StringField(_l("Bank and account"), validators=[Length(max=255)],
                                    widget=BS3TextFieldWidget()),
    }


def _with_client_defaults(form_class):
    """The add/edit form, with blank 发票抬头 and 纳税人识别号 taken from the chosen
    client (its name and credit code) once the form is otherwise valid; an error
    beside the field when the client has no usable code."""

    class InvoiceForm(form_class):
        def validate(self, extra_validators=None):
            ok = super().validate(extra_validators)
            client = self.client.data if "client" in self._fields else None
            if not isinstance(client, Client):
                return ok
            if "title" in self._fields and not (self.title.data or "").strip():
                self.title.data = client.name
            if "tax_id" in self._fields and not self.tax_id.data and not self.tax_id.errors:
                try:
                    self.tax_id.data = check_credit_code(client.credit_code)
                except codes.CodeError as exc:
                    self.tax_id.errors = [code_message(exc.reason)]
                    return False
                if not self.tax_id.data:
                    self.tax_id.errors = [gettext(
                        "Enter the taxpayer ID: this client has no unified social credit "
                        "code on file.")]
                    return False
            return ok

    InvoiceForm.__name__ = form_class.__name__
    return InvoiceForm


class IssueForm(FlaskForm):
    invoice_number = StringField(_l("Invoice number"), widget=BS3TextFieldWidget())


class VoidForm(FlaskForm):
    void_reason = TextAreaField(_l("Reason for voiding"), widget=BS3TextAreaFieldWidget())


# ---- 开票登记 ------------------------------------------------------------------------
class InvoiceModelView(ScopedModelView):
    """开票登记: requests, approval, issue with a unique number, voiding."""

    route_base = "/invoices"
    datamodel = ScopedInterface(Invoice)
    class_permission_name = "InvoiceModelView"
    method_permission_name = {"approve": "approve", "issue": "issue", "void": "void"}
    exclude_route_methods = {"download"}  # FAB serves any uploaded file by name
    list_template = "invoices/list.html"
    add_template = "invoices/add.html"
    edit_template = "invoices/edit.html"

    list_title = _l("Invoice register")
    show_title = _l("Invoice details")
    add_title = _l("Request an invoice")
    edit_title = _l("Edit invoice request")
    label_columns = INVOICE_LABELS

    list_columns = ["created_on", "client", "title", "amount", "invoice_type", "status",
                    "invoice_number", "issued_at", "created_by"]
    show_columns = ["client", "title", "tax_id", "address_phone", "bank_account", "amount",
                    "content", "invoice_type", "note", "status", "invoice_number",
                    "created_by", "created_on", "approved_by", "approved_at", "issued_by",
                    "issued_at", "voided_by", "voided_at", "void_reason"]
    add_columns = edit_columns = ["client", "title", "tax_id", "address_phone",
                                  "bank_account", "amount", "content", "invoice_type", "note"]
    export_columns = ["created_on", "client", "title", "tax_id", "amount", "content",
                      "invoice_type", "status", "invoice_number", "issued_at", "created_by",
                      "approved_by", "void_reason"]
    order_columns = ["created_on", "amount", "invoice_type", "status", "invoice_number",
                     "issued_at"]
    base_order = ("id", "desc")
    search_columns = ["invoice_number", "status", "invoice_type", "created_on", "issued_at",
                      "amount", "title", "tax_id"]
    quick_search_columns = ["client.name", "title", "invoice_number", "tax_id"]
    month_filter_column = "created_on"
    add_form_extra_fields = _invoice_fields()
    edit_form_extra_fields = _invoice_fields(model=Invoice)
    formatters_columns = {
        "created_on": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
        "issued_at": lambda v: v.strftime("%Y-%m-%d %H:%M") if v else "",
    }

    def _init_forms(self):
        super()._init_forms()
        self.add_form = _with_client_defaults(self.add_form)
        self.edit_form = _with_client_defaults(self.edit_form)

    #: the one step the details page offers in each state (others would be refused)
    NEXT_STEP = {invoice_service.APPLIED: "approve", invoice_service.APPROVED: "issue",
                 invoice_service.ISSUED: "void"}

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        step = self.NEXT_STEP.get(item.status)
        actions = {name: a for name, a in self.actions.items() if name == step}
        return super()._get_show_widget(pk, item, widgets=widgets, actions=actions,
                                        show_fieldsets=show_fieldsets)

    def row_class(self, item) -> str:
        return "row-void" if item.status == invoice_service.VOID else ""

    # ---- the client search box ---------------------------------------------------
    @expose("/client-search")
    def client_search(self):
        """JSON for the search box: at most 20 visible clients matching ``?q=``, with
        the name and credit code the form copies into 发票抬头 / 纳税人识别号. Open to
        whoever may add or edit invoices."""
        sm = self.appbuilder.sm
        user = current_user_or_none()
        if user is None or not getattr(user, "is_authenticated", False):
            abort(401)
        if not any(sm.has_access(perm, self.class_permission_name)
                   for perm in ("can_add", "can_edit")):
            abort(403)
        found = work_service.search_clients(visible_clients(), request.args.get("q", ""))
        return jsonify(results=[{"id": c.id, "text": client_text(c), "name": c.name,
                                 "credit_code": c.credit_code or ""} for c in found])

    # ---- requests: created as 申请, changed only while 申请 ---------------------------
    def pre_add(self, item):
        item.created_by_id = g.user.id
        item.created_on = clock.now().replace(tzinfo=None, microsecond=0)
        item.status = invoice_service.APPLIED
        item.invoice_number = None
        super().pre_add(item)  # the client must be one the user may see

    def pre_update(self, item):
        try:
            invoice_service.check_editable(item)
        except invoice_service.InvoiceError as exc:
            raise ValueError(gettext(LOCKED_MESSAGE, status=_status_label(exc.status)))
        super().pre_update(item)

    def pre_delete(self, item):
        if invoice_service.is_locked(item):
            raise ValueError(gettext(LOCKED_MESSAGE, status=_status_label(item.status)))

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk)
        if item is not None and invoice_service.is_locked(item):
            flash(gettext(LOCKED_MESSAGE, status=_status_label(item.status)), "warning")

    # ---- 审核 ------------------------------------------------------------------------
    @action("approve", _l("Approve"), _l("Approve the selected invoice requests?"),
            "fa-check-square-o", multiple=True, single=True)
    def approve(self, items):
        result = invoice_service.approve_invoices(_items(items), by=g.user, now=clock.now())
        if result.changed or not (result.refused or result.skipped):
            flash(gettext("%(n)d invoice request(s) approved.", n=result.changed), "success")
        if result.refused:
            flash(gettext("%(n)d request(s) not approved: you requested them yourself, and "
                          "the requester of an invoice cannot approve it.", n=result.refused),
                  "danger")
        if result.skipped:
            flash(gettext("%(n)d skipped: not a request waiting for approval (already "
                          "approved, issued or voided).", n=result.skipped), "warning")
        return redirect(self.get_redirect())

    # ---- 开票 / 作废: ask for the number / the reason ----------------------------------
    @action("issue", _l("Issue"), "", "fa-file-text-o", multiple=False, single=True)
    def issue(self, items):
        item = self._one(items)
        return redirect(url_for(".issue_form", pk=item.id))

    @action("void", _l("Void"), "", "fa-ban", multiple=False, single=True)
    def void(self, items):
        item = self._one(items)
        return redirect(url_for(".void_form", pk=item.id))

    def _one(self, items):
        items = _items(items)
        if len(items) != 1:
            abort(400)
        return items[0]

    def _after_step(self, item):
        if self.appbuilder.sm.has_access("can_show", self.class_permission_name):
            return redirect(url_for(".show", pk=item.id))
        return redirect(url_for(".list"))

    @expose("/issue/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("issue")
    def issue_form(self, pk):
        """开票: the invoice number for an approved invoice; unique, required."""
        item = self.load_scoped([pk])[0]
        form = IssueForm()
        if request.method == "POST" and form.validate():
            try:
                invoice_service.issue_invoice(item, form.invoice_number.data, by=g.user,
                                              now=clock.now())
            except invoice_service.InvoiceError as exc:
                if exc.reason != "state":
                    form.invoice_number.errors = [gettext(FORM_ERRORS[exc.reason])]
                    return self._step_page("issue", item, form)
                flash(_state_message("issue", exc.status),
                      "warning")
                return self._after_step(item)
            flash(gettext("Invoice %(number)s issued.", number=item.invoice_number), "success")
            return self._after_step(item)
        if item.status != invoice_service.APPROVED:
            flash(_state_message("issue", item.status),
                  "warning")
            return self._after_step(item)
        return self._step_page("issue", item, form)

    @expose("/void/<int:pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("void")
    def void_form(self, pk):
        """作废: an issued invoice, with the reason."""
        item = self.load_scoped([pk])[0]
        form = VoidForm()
        if request.method == "POST" and form.validate():
            try:
                invoice_service.void_invoice(item, form.void_reason.data, by=g.user,
                                             now=clock.now())
            except invoice_service.InvoiceError as exc:
                if exc.reason != "state":
                    form.void_reason.errors = [gettext(FORM_ERRORS[exc.reason])]
                    return self._step_page("void", item, form)
                flash(_state_message("void", exc.status),
                      "warning")
                return self._after_step(item)
            flash(gettext("Invoice %(number)s voided.", number=item.invoice_number), "success")
            return self._after_step(item)
        if item.status != invoice_service.ISSUED:
            flash(_state_message("void", item.status),
                  "warning")
            return self._after_step(item)
        return self._step_page("void", item, form)

    def _step_page(self, step, item, form):
        title = gettext("Issue invoice") if step == "issue" else gettext("Void invoice")
        return self.render_template(
            "invoices/step.html", title=title, step=step, item=item, form=form,
            status=_status_label(item.status), invoice_type=gettext(
                INVOICE_TYPE.get(item.invoice_type, item.invoice_type)),
            field=form.invoice_number if step == "issue" else form.void_reason,
            money=money, cancel_url=url_for(".show", pk=item.id) if self.appbuilder.sm.has_access(
                "can_show", self.class_permission_name) else url_for(".list"),
            appbuilder=self.appbuilder)

    # ---- 开票月度汇总 -----------------------------------------------------------------
    @expose("/monthly/")
    @has_access
    @permission_name("monthly")
    def monthly(self):
        """Amount issued per month and invoice type (voided ones left out), for the
        invoices the user may see; ``?year=``."""
        year = year_arg()
        months = invoice_service.monthly_totals(year, self.datamodel.scope_condition(),
                                                types=tuple(INVOICE_TYPE))
        totals = {t: sum((m.amounts[t] for m in months), decimal.Decimal("0.00"))
                  for t in INVOICE_TYPE}
        counts = {t: sum(m.counts[t] for m in months) for t in INVOICE_TYPE}
        return self.render_template(
            "invoices/monthly.html", title=gettext("Invoice monthly totals"), year=year,
            months=months, types=[(t, gettext(label)) for t, label in INVOICE_TYPE.items()],
            totals=totals, counts=counts, grand_total=sum(totals.values()),
            grand_count=sum(counts.values()), money=money, appbuilder=self.appbuilder)


def register(appbuilder) -> None:
    """Menu 财务管理: 开票登记, 开票月度汇总, 月度统计, 年度统计."""
    from .stats import StatsView

    appbuilder.add_view(InvoiceModelView, "Invoices", label=_l("Invoice register"),
                        icon="fa-file-text-o", category="Finance",
                        category_label=_l("Finance"), category_icon="fa-jpy")
    appbuilder.add_link("InvoiceMonthly", href="InvoiceModelView.monthly",
                        label=_l("Invoice monthly totals"), icon="fa-table",
                        category="Finance")
    appbuilder.add_view(StatsView, "MonthlyStats", href="StatsView.monthly",
                        label=_l("Monthly statistics"), icon="fa-bar-chart",
                        category="Finance")
    appbuilder.add_link("YearlyStats", href="StatsView.yearly",
                        label=_l("Yearly statistics"), icon="fa-line-chart",
                        category="Finance")
