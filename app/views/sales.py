"""销售 (seed 001): 意向客户, 公共池, 联系人, 跟进记录 and 未完成 1-3-7, 销售合同 and
their items, 业务类型 (price list), the sales settings and reports.

Declarations on the one base view: rows come through the scope
(``app.security.scope``), writes pass the field rules and the 防撞单 check on flush
(``app.services.contacts``), the sales contract's 提交 / 审核 / 退回 come from its
workflow declaration (``app.domain.workflows.SALES_CONTRACT``).
"""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, SimpleFormView, expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import (BS3TextAreaFieldWidget, BS3TextFieldWidget,
                                           Select2Widget)
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.sqla.filters import FilterEqual, FilterNotEqual
from flask_babel import gettext, lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange
from wtforms.validators import Optional as OptionalValidator

from .. import clock, guards
from ..data.interface import ScopedInterface
from ..domain import sales as sales_rules
from ..domain.choices import FOLLOW_UP_WAY, LEAD_STAGE
from ..domain.validation import parse_id
from ..security.scope import ScopeError
from ..extensions import db
from ..models import BusinessType, Contact, FollowUp, Lead, SalesContract, SalesContractLine
from ..services import sales as sales_service
from .importing import ImportPageView
from .base import READ_ONLY_ROUTES, ScopedModelView
from .pickers import ClientField, ClientPickerMixin

_active_staff = [["active", FilterEqual, True]]
_sources = [["kind", FilterEqual, "client_source"], ["active", FilterEqual, True]]
_active_types = [["active", FilterEqual, True]]
#: a lead given to someone outside the user's team
LEAD_OUT_OF_SCOPE = _l("Not saved: the lead would be outside the leads you may see (give "
                       "leads only to yourself or your team).")


def _items(items) -> list:
    return items if isinstance(items, list) else [items]


def _scoped_leads():
    """Leads the user may choose on a form (his, his team's), newest first."""
    iface = ScopedInterface(Lead)
    query = db.session.query(Lead).filter(Lead.stage.in_(("new", "following", "won")))
    cond = iface.scope_condition()
    if cond is not None:
        query = query.filter(cond)
    return query.order_by(Lead.id.desc()).limit(500).all()


def _lead_from_args():
    """The lead a form starts with (``?lead=<id>`` from the lead's page), if visible."""
    pk = parse_id(request.args.get("lead")) if request else None
    if pk is None:
        return None
    return next((lead for lead in _scoped_leads() if lead.id == pk), None)


def lead_field(required=True):
    validators = [DataRequired()] if required else [OptionalValidator()]
    return QuerySelectField(_l("Lead"), query_func=_scoped_leads,
                            get_pk_func=lambda lead: lead.id, allow_blank=not required,
                            validators=validators, widget=Select2Widget(),
                            default=_lead_from_args)


# ---- 意向客户 ------------------------------------------------------------------------------
LEAD_LABELS = {
    "name": _l("Company or person"), "credit_code": _l("Unified social credit code"),
    "contact_name": _l("Contact person"), "mobile": _l("Mobile"), "wechat": _l("WeChat"),
    "qq": _l("QQ"), "landline": _l("Landline"), "email": _l("E-mail"),
    "business_types": _l("Business types"), "source": _l("Client source"),
    "industry": _l("Industry"), "region": _l("Region"),
    "need_company_name": _l("Company name wanted"), "need_address": _l("Registered address wanted"),
    "need_quote": _l("Quoted price"), "need_bookkeeping": _l("Bookkeeping needs"),
    "note": _l("Note"), "owner": _l("Salesperson"), "stage": _l("Stage"),
    "assigned_on": _l("Assigned on"), "last_follow_up_on": _l("Last follow-up"),
    "pool_on": _l("Returned to pool on"), "client": _l("Client"),
    "created_by": _l("Created by"), "created_on": _l("Created on"),
    "changed_on": _l("Changed on"),
}


class LeadModelView(ScopedModelView):
    """意向客户: each salesperson sees his own leads (his superior his team's); 防撞单
    refuses a contact another salesperson or a client already holds."""

    route_base = "/leads"
    datamodel = ScopedInterface(Lead)
    class_permission_name = "LeadModelView"
    method_permission_name = {"mark_lost": "edit", "reassign": "reassign",
                              "reassign_form": "reassign"}
    show_template = "sales/lead_show.html"

    list_title = _l("Leads")
    show_title = _l("Lead details")
    add_title = _l("Add lead")
    edit_title = _l("Edit lead")
    label_columns = LEAD_LABELS

    list_columns = ["name", "contact_name", "mobile", "stage", "owner", "source",
                    "last_follow_up_on", "created_on"]
    show_columns = ["name", "credit_code", "contact_name", "mobile", "wechat", "qq",
                    "landline", "email", "business_types", "source", "industry", "region",
                    "need_company_name", "need_address", "need_quote", "need_bookkeeping",
                    "note", "owner", "stage", "assigned_on", "last_follow_up_on", "client",
                    "created_by", "created_on"]
    add_columns = edit_columns = [
        "name", "credit_code", "contact_name", "mobile", "wechat", "qq", "landline", "email",
        "business_types", "source", "industry", "region", "need_company_name",
        "need_address", "need_quote", "need_bookkeeping", "note", "owner", "stage"]
    export_columns = ["name", "credit_code", "contact_name", "mobile", "wechat", "qq",
                      "landline", "email", "source", "industry", "region", "stage", "owner",
                      "last_follow_up_on", "created_on"]
    order_columns = ["name", "stage", "last_follow_up_on", "created_on"]
    base_order = ("created_on", "desc")
    base_filters = [["stage", FilterNotEqual, "pool"]]
    search_columns = ["name", "stage", "owner", "industry", "region", "created_on"]
    quick_search_columns = ["name", "contact_name", "mobile", "wechat", "industry"]
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "owner": _active_staff, "source": _sources, "business_types": _active_types}
    search_form_query_rel_fields = {"owner": _active_staff}
    description_columns = {
        "mobile": _l("The first contact's mobile; more contacts on the lead's page."),
        "owner": _l("Leave empty: the lead is yours."),
    }

    def pre_add(self, item):
        sales_service.check_stage(item)
        sales_service.prepare_new_lead(item, g.user, clock.today())
        super().pre_add(item)

    def post_add(self, item):
        sales_service.start_cadence(item, clock.today())
        db.session.commit()

    def pre_update(self, item):
        sales_service.check_stage(item)
        super().pre_update(item)

    def _check_scope(self, item):
        try:
            self.datamodel.check_write(item)
        except ScopeError:
            raise ValueError(gettext(LEAD_OUT_OF_SCOPE))

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            lead = self.datamodel.get(kwargs["pk"], self._base_filters)
            if lead is not None:
                kwargs.update(lead_page(lead))
        return super().render_template(template, **kwargs)

    @action("mark_lost", _l("Mark as lost"), _l("Mark the selected leads as lost? They keep "
                                                 "their history."), "fa-times",
            multiple=True, single=True)
    def mark_lost(self, items):
        result = sales_service.mark_lost(_items(items))
        flash(gettext("%(n)d lead(s) marked as lost.", n=result.changed), "success")
        return redirect(self.get_redirect())

    @action("reassign", _l("Reassign"), "", "fa-exchange", multiple=True, single=True)
    def reassign(self, items):
        return redirect(url_for(".reassign_form",
                                ids=",".join(str(i.id) for i in _items(items))))

    @expose("/reassign/", methods=["GET", "POST"])
    @has_access
    @permission_name("reassign")
    def reassign_form(self):
        """A sales manager gives the selected leads (scoped: 404 if any is not
        visible) to another salesperson."""
        ids = [i for i in (request.values.get("ids") or "").split(",") if i][:1000]
        leads = self.load_scoped(ids)
        form = ReassignForm(request.form if request.method == "POST" else None)
        staff = sales_service.salespeople()
        form.owner_id.choices = [(str(s.id), str(s)) for s in staff]
        if request.method == "POST" and form.validate():
            result = sales_service.reassign(leads, int(form.owner_id.data), clock.today())
            flash(gettext("%(n)d lead(s) reassigned.", n=result.changed), "success")
            if result.skipped:
                flash(gettext("%(n)d skipped: won, or changed in the meantime.",
                              n=result.skipped), "warning")
            return redirect(url_for(".list"))
        if request.method == "POST":
            guards.mark_form_invalid()
        return self.render_template("sales/reassign.html", form=form, leads=leads,
                                    ids=",".join(ids), title=gettext("Reassign leads"))


class ReassignForm(FlaskForm):
    owner_id = SelectField(_l("Salesperson"), validate_choice=True)


def lead_page(lead) -> dict:
    """What the lead's page shows beside its fields: the follow-up timeline (with
    the supervisors' 批注), the contact persons and the sales contracts."""
    follow_ups = db.session.execute(
        select(FollowUp).where(FollowUp.lead_id == lead.id)
        .order_by(FollowUp.due_date.desc(), FollowUp.id.desc())).scalars().all()
    people = db.session.execute(select(Contact).where(Contact.lead_id == lead.id)
                                .order_by(Contact.id)).scalars().all()
    contracts = db.session.execute(select(SalesContract).where(SalesContract.lead_id == lead.id)
                                   .order_by(SalesContract.id)).scalars().all()
    today = clock.today()
    return {"lead": lead, "timeline": follow_ups, "people": people, "contracts": contracts,
            "today": today, "ways": FOLLOW_UP_WAY, "missed": sales_rules.missed,
            "contract_states": SalesContract.__choices__["status"]}


class LeadPoolView(ScopedModelView):
    """公共池: leads nobody holds (returned for want of follow-ups, or given up);
    any salesperson may claim them, up to his limit of active leads."""

    route_base = "/lead-pool"
    datamodel = ScopedInterface(Lead)
    class_permission_name = "LeadPoolView"
    method_permission_name = {"claim": "claim"}
    base_permissions = ["can_list", "can_show", "can_export", "can_claim"]
    exclude_route_methods = READ_ONLY_ROUTES - {"action", "action_post"}

    list_title = _l("Public pool")
    show_title = _l("Lead details")
    label_columns = LEAD_LABELS
    list_columns = ["name", "industry", "region", "source", "pool_on", "created_on"]
    show_columns = ["name", "business_types", "source", "industry", "region",
                    "need_company_name", "need_address", "need_bookkeeping", "pool_on",
                    "created_on"]
    order_columns = ["name", "pool_on", "created_on"]
    base_order = ("pool_on", "desc")
    base_filters = [["stage", FilterEqual, "pool"]]
    search_columns = ["name", "industry", "region", "pool_on"]
    quick_search_columns = ["name", "industry", "region"]

    @action("claim", _l("Claim"), _l("Claim the selected leads? They become yours."),
            "fa-hand-paper-o", multiple=True, single=True)
    def claim(self, items):
        result = sales_service.claim(_items(items), g.user, clock.today())
        if result.changed or not (result.refused or result.skipped):
            flash(gettext("%(n)d lead(s) claimed.", n=result.changed), "success")
        if result.refused:
            flash(gettext("%(n)d not claimed: you already hold %(limit)d active leads, the "
                          "most allowed.", n=result.refused,
                          limit=sales_service.claim_limit()), "danger")
        if result.skipped:
            flash(gettext("%(n)d not claimed: someone else claimed them first.",
                          n=result.skipped), "warning")
        return redirect(self.get_redirect())


# ---- 联系人 --------------------------------------------------------------------------------
CONTACT_LABELS = {"lead": _l("Lead"), "client": _l("Client"), "name": _l("Name"),
                  "role": _l("Role"), "mobile": _l("Mobile"), "wechat": _l("WeChat"),
                  "qq": _l("QQ"), "landline": _l("Landline"), "email": _l("E-mail"),
                  "note": _l("Note"), "created_on": _l("Created on"),
                  "client.name": _l("Company name")}


class ContactModelView(ClientPickerMixin, ScopedModelView):
    """联系人: several per lead and per client (name, role, mobile, WeChat, QQ,
    landline, e-mail); a lead's contacts pass 防撞单 like the lead itself."""

    route_base = "/contacts"
    datamodel = ScopedInterface(Contact)
    class_permission_name = "ContactModelView"

    list_title = _l("Contacts")
    show_title = _l("Contact details")
    add_title = _l("Add contact")
    edit_title = _l("Edit contact")
    label_columns = CONTACT_LABELS
    list_columns = ["name", "role", "mobile", "wechat", "lead", "client"]
    show_columns = ["lead", "client", "name", "role", "mobile", "wechat", "qq", "landline",
                    "email", "note", "created_on"]
    add_columns = edit_columns = ["lead", "client", "name", "role", "mobile", "wechat", "qq",
                                  "landline", "email", "note"]
    order_columns = ["name", "created_on"]
    base_order = ("id", "desc")
    search_columns = ["name", "role", "mobile", "wechat", "email"]
    quick_search_columns = ["name", "mobile", "wechat", "email"]
    add_form_extra_fields = {"lead": lead_field(required=False),
                             "client": ClientField(_l("Client"))}
    edit_form_extra_fields = {"lead": lead_field(required=False),
                              "client": ClientField(_l("Client"), model=Contact)}

    def pre_add(self, item):
        self._need_owner(item)
        super().pre_add(item)

    def pre_update(self, item):
        self._need_owner(item)
        super().pre_update(item)

    def _need_owner(self, item):
        if item.lead is None and item.lead_id is None and item.client is None \
                and item.client_id is None:
            raise ValueError(gettext("Choose the lead or the client this contact belongs to."))


# ---- 跟进记录 -------------------------------------------------------------------------------
FOLLOW_UP_LABELS = {
    "lead": _l("Lead"), "due_date": _l("Due date"), "cadence_day": _l("Contact rule day"),
    "done_at": _l("Done at"), "done_by": _l("Done by"), "way": _l("Way"),
    "content": _l("Content"), "next_contact_date": _l("Next contact"),
    "comment": _l("Supervisor comment"), "comment_by": _l("Commented by"),
    "comment_at": _l("Commented at"), "created_on": _l("Created on"),
    "lead.name": _l("Lead"),
}


class FollowUpModelView(ScopedModelView):
    """跟进记录: planned (1-3-7, 下次联系) and done; writing the content of a planned
    one marks it done; 下次联系 plans the next. A supervisor adds a 批注."""

    route_base = "/follow-ups"
    datamodel = ScopedInterface(FollowUp)
    class_permission_name = "FollowUpModelView"
    method_permission_name = {"comment": "comment", "comment_form": "comment"}

    list_title = _l("Follow-ups")
    show_title = _l("Follow-up details")
    add_title = _l("Record follow-up")
    edit_title = _l("Record follow-up")
    label_columns = FOLLOW_UP_LABELS
    list_columns = ["lead", "due_date", "cadence_day", "done_at", "way", "content",
                    "next_contact_date", "comment"]
    show_columns = ["lead", "due_date", "cadence_day", "done_at", "done_by", "way", "content",
                    "next_contact_date", "comment", "comment_by", "comment_at"]
    add_columns = ["lead", "way", "content", "next_contact_date"]
    edit_columns = ["way", "content", "next_contact_date"]
    order_columns = ["due_date", "done_at", "next_contact_date"]
    base_order = ("due_date", "desc")
    search_columns = ["due_date", "done_at", "way", "content", "cadence_day"]
    quick_search_columns = ["content", "lead.name", "comment"]
    add_form_extra_fields = {"lead": lead_field()}
    description_columns = {"content": _l("Write what was said: the follow-up is then done. "
                                         "Without it, the follow-up is planned for the next "
                                         "contact date.")}

    def pre_add(self, item):
        sales_service.record_follow_up(item, g.user, clock.now(), clock.today())
        super().pre_add(item)

    def pre_update(self, item):
        sales_service.record_follow_up(item, g.user, clock.now(), clock.today())
        super().pre_update(item)

    @action("comment", _l("Comment"), "", "fa-comment", multiple=False, single=True)
    def comment(self, item):
        return redirect(url_for(".comment_form", pk=_items(item)[0].id))

    @expose("/comment/<pk>", methods=["GET", "POST"])
    @has_access
    @permission_name("comment")
    def comment_form(self, pk):
        """批注: a supervisor's comment on a follow-up of a lead he sees."""
        item = self.load_scoped([pk])[0]
        form = CommentForm(request.form if request.method == "POST" else None)
        if request.method == "GET":
            form.comment.data = item.comment
        if request.method == "POST":
            if form.validate():
                sales_service.comment(item, form.comment.data.strip(), g.user, clock.now())
                flash(gettext("Comment saved."), "success")
                return redirect(url_for("LeadModelView.show", pk=item.lead_id))
            guards.mark_form_invalid()
        return self.render_template("sales/comment.html", form=form, item=item,
                                    title=gettext("Supervisor comment"))


class CommentForm(FlaskForm):
    comment = TextAreaField(_l("Supervisor comment"),
                            validators=[DataRequired(), Length(max=2000)],
                            widget=BS3TextAreaFieldWidget())


class MissedFilter:
    """未完成 1-3-7: contact-rule follow-ups done late or not at all (by today)."""

    arg_name = "missed"
    name = _l("Missed")

    def __init__(self, column_name, datamodel, is_related_view=False):
        self.column_name, self.datamodel = column_name, datamodel

    def apply(self, query, value):
        return query.filter(sales_service.missed_condition(value))


class MissedFollowUpView(ScopedModelView):
    """未完成 1-3-7: the follow-ups of the contact rule not done on their day (for
    review); read-only."""

    route_base = "/follow-ups-missed"
    datamodel = ScopedInterface(FollowUp)
    class_permission_name = "MissedFollowUpView"
    base_permissions = ["can_list", "can_show", "can_export"]
    exclude_route_methods = READ_ONLY_ROUTES

    list_title = _l("Missed 1-3-7 follow-ups")
    show_title = _l("Follow-up details")
    label_columns = FOLLOW_UP_LABELS
    list_columns = ["lead", "cadence_day", "due_date", "done_at", "done_by"]
    show_columns = ["lead", "cadence_day", "due_date", "done_at", "done_by", "content"]
    order_columns = ["due_date", "done_at"]
    base_order = ("due_date", "asc")
    search_columns = ["due_date", "cadence_day"]
    quick_search_columns = ["lead.name"]

    def query_filters(self, filters):
        joined = super().query_filters(filters)
        joined.add_filter("id", MissedFilter, clock.today())
        return joined

    def row_class(self, item) -> str:
        return "row-overdue"


# ---- 业务类型 and the price list (系统管理) ---------------------------------------------------
class BusinessTypeView(ScopedModelView):
    """业务类型 with their price list entry: name, unit price, cycle."""

    route_base = "/business-types"
    datamodel = ScopedInterface(BusinessType)
    class_permission_name = "BusinessTypeView"
    list_title = show_title = add_title = edit_title = _l("Business types and prices")
    label_columns = {"name": _l("Business type"), "unit_price": _l("Unit price"),
                     "cycle": _l("Cycle"), "active": _l("Active"),
                     "sort_order": _l("Sort order")}
    list_columns = ["name", "unit_price", "cycle", "active", "sort_order"]
    add_columns = edit_columns = show_columns = ["name", "unit_price", "cycle", "active",
                                                 "sort_order"]
    order_columns = ["name", "unit_price", "sort_order"]
    base_order = ("sort_order", "asc")
    search_columns = ["name", "cycle", "active"]

    def pre_delete(self, item):
        super().pre_delete(item)
        used = db.session.execute(select(SalesContractLine.id).where(
            SalesContractLine.business_type_id == item.id).limit(1)).first()
        if used:
            raise ValueError(gettext("This entry is in use; set it inactive instead."))


# ---- 销售合同 ---------------------------------------------------------------------------------
SALES_CONTRACT_LABELS = {
    "lead": _l("Lead"), "number": _l("Contract number"), "sign_date": _l("Signed on"),
    "start_date": _l("Start date"), "end_date": _l("End date"),
    "first_fee_date": _l("First fee date"), "total": _l("Contract total"),
    "invoice_needed": _l("Invoice needed"), "invoice_title": _l("Invoice title"),
    "invoice_tax_id": _l("Taxpayer ID"), "invoice_address_phone": _l("Address and phone"),
    "invoice_bank": _l("Bank and account"), "note": _l("Note"), "status": _l("Status"),
    "client": _l("Client"), "approved_by": _l("Approved by"),
    "approved_at": _l("Approved at"), "created_by": _l("Created by"),
    "created_on": _l("Created on"), "lines": _l("Items"), "lead.name": _l("Lead"),
}


def _lines_table(lines) -> Markup:
    if not lines:
        return Markup(escape(gettext("None yet")))
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        gettext("Business type"), gettext("Unit price"), gettext("Cycle"),
        gettext("Quantity"), gettext("Discount"), gettext("Amount")))
    from ..domain.choices import PRICE_CYCLE

    rows = "".join("<tr>" + "".join(f"<td>{escape(v)}</td>" for v in (
        line.business_type, f"{line.unit_price:,.2f}", gettext(PRICE_CYCLE.get(line.cycle, "")),
        line.quantity, f"{line.discount:,.2f}", f"{line.amount:,.2f}")) + "</tr>"
        for line in lines)
    return Markup(f'<table class="table table-condensed sales-lines"><thead><tr>{head}</tr>'
                  f"</thead><tbody>{rows}</tbody></table>")


class SalesContractModelView(ScopedModelView):
    """销售合同: a lead's items from the price list, term and 开票信息; 提交, then 审核
    by a manager (not its author): the lead becomes a client, the contract appears in
    合同管理. Pending and approved contracts are locked."""

    route_base = "/sales-contracts"
    datamodel = ScopedInterface(SalesContract)
    class_permission_name = "SalesContractModelView"

    list_title = _l("Sales contracts")
    show_title = _l("Sales contract details")
    add_title = _l("Add sales contract")
    edit_title = _l("Edit sales contract")
    label_columns = SALES_CONTRACT_LABELS
    list_columns = ["lead", "number", "start_date", "end_date", "total", "status",
                    "created_by", "approved_by"]
    show_columns = ["lead", "number", "sign_date", "start_date", "end_date",
                    "first_fee_date", "lines", "total", "invoice_needed", "invoice_title",
                    "invoice_tax_id", "invoice_address_phone", "invoice_bank", "note",
                    "status", "client", "created_by", "created_on", "approved_by",
                    "approved_at"]
    add_columns = edit_columns = ["lead", "number", "sign_date", "start_date", "end_date",
                                  "first_fee_date", "invoice_needed", "invoice_title",
                                  "invoice_tax_id", "invoice_address_phone", "invoice_bank",
                                  "note"]
    order_columns = ["number", "start_date", "end_date", "total", "status"]
    base_order = ("id", "desc")
    search_columns = ["number", "start_date", "end_date", "status", "total"]
    quick_search_columns = ["number", "lead.name", "note"]
    add_form_extra_fields = {"lead": lead_field()}
    edit_form_extra_fields = {"lead": lead_field()}
    formatters_columns = {"lines": _lines_table}
    show_template = "sales/lead_show.html"
    description_columns = {"total": _l("The sum of the items (unit price × quantity − "
                                       "discount).")}

    def pre_add(self, item):
        sales_service.prepare_contract(item)
        super().pre_add(item)

    def pre_update(self, item):
        sales_service.prepare_contract(item)
        super().pre_update(item)

    def render_template(self, template, **kwargs):
        if template == self.show_template and "pk" in kwargs:
            kwargs["line_add_url"] = url_for("SalesContractLineView.add",
                                             contract=kwargs["pk"])
        return super().render_template(template, **kwargs)


def _scoped_contracts():
    iface = ScopedInterface(SalesContract)
    query = db.session.query(SalesContract).filter(SalesContract.status == "draft")
    cond = iface.scope_condition()
    if cond is not None:
        query = query.filter(cond)
    return query.order_by(SalesContract.id.desc()).limit(500).all()


def _contract_from_args():
    pk = parse_id(request.args.get("contract")) if request else None
    return next((c for c in _scoped_contracts() if c.id == pk), None) if pk else None


LINE_LABELS = {"contract": _l("Sales contract"), "business_type": _l("Business type"),
               "unit_price": _l("Unit price"), "cycle": _l("Cycle"),
               "quantity": _l("Quantity"), "discount": _l("Discount"),
               "amount": _l("Amount"), "contract.number": _l("Contract number")}


class SalesContractLineView(ScopedModelView):
    """The items of a sales contract (while it is a draft): a business type, its price
    from the price list unless typed, cycle, quantity and discount; the amount and the
    contract's total are computed."""

    route_base = "/sales-contract-lines"
    datamodel = ScopedInterface(SalesContractLine)
    class_permission_name = "SalesContractLineView"
    list_title = _l("Sales contract items")
    show_title = _l("Sales contract item")
    add_title = _l("Add item")
    edit_title = _l("Edit item")
    label_columns = LINE_LABELS
    list_columns = ["contract", "business_type", "unit_price", "cycle", "quantity",
                    "discount", "amount"]
    show_columns = list_columns
    add_columns = edit_columns = ["contract", "business_type", "unit_price", "cycle",
                                  "quantity", "discount"]
    order_columns = ["unit_price", "quantity", "amount"]
    base_order = ("id", "desc")
    search_columns = ["unit_price", "cycle", "quantity", "amount"]
    add_form_extra_fields = {"contract": QuerySelectField(
        _l("Sales contract"), query_func=_scoped_contracts, get_pk_func=lambda c: c.id,
        validators=[DataRequired()], widget=Select2Widget(), default=_contract_from_args)}
    edit_form_extra_fields = {"contract": QuerySelectField(
        _l("Sales contract"), query_func=_scoped_contracts, get_pk_func=lambda c: c.id,
        validators=[DataRequired()], widget=Select2Widget())}
    add_form_query_rel_fields = edit_form_query_rel_fields = {"business_type": _active_types}
    description_columns = {"unit_price": _l("Leave empty for the price list's price.")}

    def _contract_editable(self, item, old_contract_id=None):
        for cid in {item.contract_id or getattr(item.contract, "id", None), old_contract_id}:
            if cid is None:
                continue
            contract = db.session.get(SalesContract, cid)
            if contract is not None and contract.status != "draft":
                raise ValueError(gettext("The sales contract is no longer a draft: its "
                                         "items cannot be changed."))

    def pre_add(self, item):
        self._contract_editable(item)
        sales_service.prepare_line(item)
        super().pre_add(item)

    def pre_update(self, item):
        from sqlalchemy import inspect

        old = inspect(item).attrs.contract_id.history.deleted
        self._contract_editable(item, old[0] if old else None)
        sales_service.prepare_line(item)
        super().pre_update(item)

    def pre_delete(self, item):
        self._contract_editable(item)
        super().pre_delete(item)

    def post_add(self, item):
        sales_service.refresh_total(item.contract_id)
        db.session.commit()

    post_update = post_add

    def post_delete(self, item):
        sales_service.refresh_total(item.contract_id)
        db.session.commit()


# ---- settings ---------------------------------------------------------------------------------
def _cadence_rule(form, field):
    from wtforms.validators import ValidationError

    from ..i18n import message

    try:
        sales_rules.parse_cadence(field.data)
    except sales_rules.CadenceError:
        raise ValidationError(message("cadence")) from None


class SalesSettingsForm(DynamicForm):
    cadence = StringField(_l("Contact rule (days after entry)"),
                          validators=[DataRequired(), Length(max=60), _cadence_rule],
                          widget=BS3TextFieldWidget(),
                          description=_l("Days separated by commas, e.g. 1,3,7."))
    pool_days = IntegerField(
        _l("Return to the public pool after (days without follow-up)"),
        validators=[InputRequired(message=_l("Enter a number of days.")),
                    NumberRange(min=1, max=366, message=_l("Enter a number from 1 to 366."))],
        widget=BS3TextFieldWidget())
    claim_limit = IntegerField(
        _l("Most active leads a salesperson may hold when claiming"),
        validators=[InputRequired(message=_l("Enter a number.")),
                    NumberRange(min=1, max=10000, message=_l("Enter a number from 1 to "
                                                             "10000."))],
        widget=BS3TextFieldWidget())


class SalesSettingsView(SimpleFormView):
    """销售设置: the contact rule (1,3,7), the pool's days and the claim limit."""

    route_base = "/settings/sales"
    form = SalesSettingsForm
    form_title = _l("Sales settings")

    def form_get(self, form):
        form.cadence.data = ",".join(str(d) for d in sales_service.cadence())
        form.pool_days.data = sales_service.pool_days()
        form.claim_limit.data = sales_service.claim_limit()

    def form_post(self, form):
        sales_service.save_settings(form.cadence.data, form.pool_days.data,
                                    form.claim_limit.data)
        flash(gettext("Settings saved."), "success")
        return redirect(url_for("SalesSettingsView.this_form_get"))


def register(appbuilder) -> None:
    """销售 menu: 意向客户, 公共池, 跟进记录, 未完成 1-3-7, 联系人, 销售合同 (and items)."""
    appbuilder.add_view(LeadModelView, "Leads", label=_l("Leads"), icon="fa-user-plus",
                        category="Sales", category_label=_l("Sales"),
                        category_icon="fa-handshake-o")
    appbuilder.add_view(LeadPoolView, "LeadPool", label=_l("Public pool"), icon="fa-users",
                        category="Sales")
    appbuilder.add_view(FollowUpModelView, "FollowUps", label=_l("Follow-ups"),
                        icon="fa-phone", category="Sales")
    appbuilder.add_view(MissedFollowUpView, "MissedFollowUps",
                        label=_l("Missed 1-3-7 follow-ups"), icon="fa-exclamation-triangle",
                        category="Sales")
    appbuilder.add_view(ContactModelView, "Contacts", label=_l("Contacts"),
                        icon="fa-address-book", category="Sales")
    appbuilder.add_view(SalesContractModelView, "SalesContracts", label=_l("Sales contracts"),
                        icon="fa-file-text", category="Sales")
    appbuilder.add_view_no_menu(SalesContractLineView)
    register_reports(appbuilder)


def register_admin(appbuilder) -> None:
    """业务类型 and 销售设置 under 系统管理."""
    appbuilder.add_view(BusinessTypeView, "BusinessTypes", label=_l("Business types and prices"),
                        icon="fa-tags", category="Administration")
    appbuilder.add_view(SalesSettingsView, "SalesSettings", label=_l("Sales settings"),
                        icon="fa-sliders", category="Administration")


# ---- 销售报表 --------------------------------------------------------------------------------
class SalesReportView(BaseView):
    """销售报表: conversion by source and by month, the funnel by stage, signed amount
    per salesperson and per business type — of the leads the user sees; charts by
    the vendored ECharts (no CDN)."""

    route_base = "/sales-reports"
    default_view = "report"
    class_permission_name = "SalesReportView"
    list_title = _l("Sales reports")

    @expose("/")
    @has_access
    @permission_name("report")
    def report(self):
        from .stats import ECHARTS_FILE, echarts_available, year_arg

        year = year_arg()
        data = sales_service.report(ScopedInterface(Lead).scope_condition(), year)
        stages = [(gettext(LEAD_STAGE.get(stage, stage)), n) for stage, n in
                  sorted(data.funnel, key=lambda item: list(LEAD_STAGE).index(item[0])
                         if item[0] in LEAD_STAGE else 99)]
        sources = [(name or gettext("No source"), n, w) for name, n, w in data.by_source]
        charts = {
            "source": {"labels": [s[0] for s in sources], "leads": [s[1] for s in sources],
                       "won": [s[2] for s in sources]},
            "month": {"labels": [m[0] for m in data.by_month],
                      "leads": [m[1] for m in data.by_month],
                      "won": [m[2] for m in data.by_month]},
            "funnel": [{"name": name, "value": n} for name, n in stages],
            "people": {"labels": [p[0] for p in data.by_salesperson],
                       "amounts": [str(p[1]) for p in data.by_salesperson]},
            "types": {"labels": [t[0] for t in data.by_type],
                      "amounts": [str(t[1]) for t in data.by_type]},
        }
        return self.render_template("sales/report.html", title=gettext("Sales reports"),
                                    year=year, data=data, sources=sources, stages=stages,
                                    charts=charts, echarts=echarts_available(),
                                    echarts_file=ECHARTS_FILE, rate=_rate)


def _rate(won: int, total: int) -> str:
    return f"{(won * 100.0 / total):.1f}%" if total else "—"


# ---- 意向客户导入 -----------------------------------------------------------------------------
class LeadImportView(ImportPageView):
    """意向客户导入: every row checked (field rules, 防撞单); the leads are the importer's."""

    route_base = "/leads/import"
    class_permission_name = "LeadImportView"
    list_title = _l("Lead import")
    page_template = "sales/import.html"
    list_endpoint = "LeadModelView.list"

    def page_title(self) -> str:
        return gettext("Lead import")

    def template_name(self) -> str:
        return gettext("Lead import template")

    def template_bytes(self) -> bytes:
        from .. import imports

        return imports.lead_template_xlsx()

    def run_import(self, rows, filename):
        from .. import imports

        return imports.import_leads(rows, g.user, clock.today(), filename=filename)

    def imported_message(self, n: int) -> str:
        return gettext("%(n)d lead(s) imported.", n=n)

    def page_extras(self) -> dict:
        from .. import imports

        return dict(headers=imports.LEAD_HEADERS)


def register_reports(appbuilder) -> None:
    appbuilder.add_view(SalesReportView, "SalesReports", label=_l("Sales reports"),
                        icon="fa-bar-chart", category="Sales")
    appbuilder.add_view(LeadImportView, "LeadImport", label=_l("Lead import"),
                        icon="fa-upload", category="Sales")
