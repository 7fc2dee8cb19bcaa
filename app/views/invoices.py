"""财务管理 → 开票登记 (the invoice register), 开票月度汇总, and the menu entries of
月度统计 / 年度统计 (their view is ``app.views.stats``).

申请 → 已审核 → 已开票 → 已作废 is the register's workflow
(``app.domain.workflows.INVOICE``): 审核 from the list or the details page; 开票 and
作废 ask for the invoice number or the reason on the step's form page; a request is
edited or deleted only while it is a request. The client is chosen with the one
client picker (``app.views.pickers``).
"""
from __future__ import annotations

import decimal

from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_babel import gettext, lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional as OptionalValidator

from ..data import clients as picker
from ..data.interface import ScopedInterface
from ..domain.choices import INVOICE_TYPE
from ..models import Client, Invoice
from ..services import invoices as invoice_service
from .base import ScopedModelView
from .pickers import ClientField, ClientPickerMixin
from .stats import money, year_arg

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

def _invoice_fields(model=None) -> dict:
    return {
        "client": ClientField(_l("Client"), required=True, model=model),
        "title": StringField(
            _l("Invoice title"), validators=[OptionalValidator(), Length(max=200)],
            description=_l("Leave empty to use the client's company name."),
            widget=BS3TextFieldWidget()),
        "tax_id": StringField(
            _l("Taxpayer ID"), validators=[OptionalValidator()],
            description=_l("The 18-character unified social credit code; leave empty to use "
                           "the client's."),
            widget=BS3TextFieldWidget()),
        "content": StringField(_l("Invoice content"), validators=[Length(max=255)],
                               widget=BS3TextFieldWidget()),
        "address_phone": StringField(_l("Address and phone"), validators=[Length(max=255)],
                                     widget=BS3TextFieldWidget()),
        "bank_account": StringField(_l("Bank and account"), validators=[Length(max=255)],
                                    widget=BS3TextFieldWidget()),
    }


# ---- 开票登记 ------------------------------------------------------------------------
class InvoiceModelView(ClientPickerMixin, ScopedModelView):
    """开票登记: requests, approval, issue with a unique number, voiding."""

    route_base = "/invoices"
    datamodel = ScopedInterface(Invoice)
    class_permission_name = "InvoiceModelView"
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

    def fill_defaults(self, form) -> None:
        """Blank 发票抬头 and 纳税人识别号 are taken from the chosen client (its name
        and credit code — unless the code is hidden from the user: then he types
        it); a client without a code needs the taxpayer ID typed."""
        client = form.client.data if "client" in form._fields else None
        if not isinstance(client, Client):
            return
        if "title" in form._fields and not (form.title.data or "").strip():
            form.title.data = client.name
        if "tax_id" in form._fields and not (form.tax_id.data or "").strip() \
                and not form.tax_id.errors:
            if "credit_code" not in picker.hidden():
                form.tax_id.data = client.credit_code
            if not form.tax_id.data:
                form.tax_id.errors = [gettext(
                    "Enter the taxpayer ID: this client has no unified social credit "
                    "code on file.")]

    def row_class(self, item) -> str:
        return "row-void" if item.status == "void" else ""

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
    from .reports import ManagementReportView

    appbuilder.add_view(ManagementReportView, "ManagementReports", href="ManagementReportView.index",
                        label=_l("Management reports"), icon="fa-pie-chart", category="Finance")
