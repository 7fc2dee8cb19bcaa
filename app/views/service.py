"""客户服务 (seed 002): 服务项目 (the catalogue, data an Admin or Manager edits) and
业务请求 — the staff list scoped like clients, late ones amber/red, the workflow's
steps (分配, 抢单, 接单, 办结 …) as actions, progress notes on the details page."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.models.sqla.filters import FilterEqual
from flask_appbuilder.security.decorators import has_access
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..data.interface import ScopedInterface
from ..domain import service as service_rules
from ..domain.validation import FieldErrors
from ..extensions import db
from ..models import Complaint, ServiceItem, ServiceRating, ServiceRequest
from ..domain.attachments import AttachmentError
from ..services import attachments, service_requests
from .base import ScopedModelView
from .pickers import ClientField, ClientPickerMixin

ROW_CLASSES = {service_rules.OVERDUE: "row-overdue", service_rules.DUE_SOON: "row-due-soon"}


class ServiceItemView(ScopedModelView):
    """服务项目: name, price, expected days, hours a dispatched request may wait."""

    route_base = "/service-items"
    datamodel = ScopedInterface(ServiceItem)
    class_permission_name = "ServiceItemView"
    list_title = show_title = add_title = edit_title = _l("Service catalogue")
    label_columns = {"name": _l("Service item"), "price": _l("Price"),
                     "expected_days": _l("Expected days"),
                     "accept_hours": _l("Hours to accept"), "active": _l("Active"),
                     "sort_order": _l("Sort order")}
    list_columns = ["name", "price", "expected_days", "accept_hours", "active", "sort_order"]
    add_columns = edit_columns = show_columns = list_columns
    order_columns = ["name", "price", "expected_days", "sort_order"]
    base_order = ("sort_order", "asc")
    search_columns = ["name", "active"]

    def pre_delete(self, item):
        super().pre_delete(item)
        used = db.session.execute(select(ServiceRequest.id).where(
            ServiceRequest.item_id == item.id).limit(1)).first()
        if used:
            raise ValueError(gettext("This entry is in use; set it inactive instead."))


REQUEST_LABELS = {
    "client": _l("Client"), "client.name": _l("Company name"), "item": _l("Service item"),
    "title": _l("Title"), "description": _l("Description"), "urgency": _l("Urgency"),
    "status": _l("Status"), "assignee": _l("Assignee"), "assignee_id": _l("Assignee"),
    "created_on": _l("Opened on"), "created_by": _l("Opened by"),
    "assigned_at": _l("Assigned at"), "accepted_at": _l("Accepted at"),
    "finished_at": _l("Finished at"), "closed_at": _l("Closed at"),
}


class ServiceRequestModelView(ClientPickerMixin, ScopedModelView):
    """业务请求: the requests of the clients the user sees."""

    route_base = "/service-requests"
    datamodel = ScopedInterface(ServiceRequest)
    class_permission_name = "ServiceRequestModelView"
    method_permission_name = {"note": "note", "attach": "note", "file": "show"}
    list_title = _l("Service requests")
    show_title = _l("Service request")
    add_title = _l("Open a service request")
    edit_title = _l("Edit service request")
    label_columns = REQUEST_LABELS
    list_columns = ["client", "item", "title", "urgency", "status", "assignee", "created_on"]
    show_columns = ["client", "item", "title", "description", "urgency", "status", "assignee",
                    "created_on", "created_by", "assigned_at", "accepted_at", "finished_at",
                    "closed_at"]
    add_columns = ["client", "item", "title", "description", "urgency"]
    edit_columns = ["client", "item", "title", "description", "urgency"]
    order_columns = ["title", "status", "created_on"]
    base_order = ("created_on", "desc")
    search_columns = ["assignee", "title", "status", "urgency", "created_on"]
    search_form_query_rel_fields = {"assignee": [["active", FilterEqual, True]]}
    quick_search_columns = ["title", "client.name"]
    add_form_extra_fields = {"client": ClientField(_l("Client"), required=True)}
    edit_form_extra_fields = {"client": ClientField(_l("Client"), required=True,
                                                    model=ServiceRequest)}
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "item": [["active", FilterEqual, True]]}
    show_template = "service/request_show.html"

    def row_class(self, item) -> str:
        return ROW_CLASSES.get(service_requests.lateness(item, clock.today()), "")

    def post_add(self, item):
        service_requests.dispatch_default(item, g.user, clock.now())

    def step_input_choices(self, step) -> dict:
        if "assignee_id" not in step.inputs:
            return {}
        return {"assignee_id": [(str(pk), name) for pk, name in
                                service_requests.staff_choices()]}

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        widgets = super()._get_show_widget(pk, item, widgets, actions, show_fieldsets)
        widgets["service_notes"] = service_requests.notes_of(item, public_only=False)
        widgets["service_files"] = attachments.of_request(item)
        widgets["service_note_url"] = (
            url_for(".note", pk=item.id)
            if self.appbuilder.sm.has_access("can_note", self.class_permission_name) else None)
        return widgets

    @expose("/note/<int:pk>", methods=["POST"])
    @has_access
    def note(self, pk):
        """A progress note, for the client to read (公开) or internal."""
        items = self._rows_by_ids({pk})
        if not items:
            abort(404)
        try:
            service_requests.add_note(items[0], request.form.get("text", ""),
                                      request.form.get("public") == "1", g.user)
        except FieldErrors:
            db.session.rollback()
            flash(gettext("The note is empty or too long."), "danger")
        return redirect(url_for(".show", pk=pk))


    @expose("/attach/<int:pk>", methods=["POST"])
    @has_access
    def attach(self, pk):
        """A file on a request of a client the user sees."""
        items = self._rows_by_ids({pk})
        if not items:
            abort(404)
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise AttachmentError("empty")
            attachments.attach(items[0], upload, g.user)
        except AttachmentError as exc:
            flash(attachments.message(exc), "danger")
        else:
            flash(gettext("The file was attached."), "success")
        return redirect(url_for(".show", pk=pk))

    @expose("/file/<int:pk>/<int:file_id>")
    @has_access
    def file(self, pk, file_id):
        """A file of a request the user sees (any other: 404)."""
        items = self._rows_by_ids({pk})
        row = attachments.find(items[0], file_id) if items else None
        if row is None:
            abort(404)
        return attachments.send(row)


class ComplaintModelView(ScopedModelView):
    """投诉: the complaints of the clients the Manager sees, 处理中 then 关闭 with what
    was done."""

    route_base = "/complaints"
    datamodel = ScopedInterface(Complaint)
    class_permission_name = "ComplaintModelView"
    list_title = _l("Complaints")
    show_title = _l("Complaint")
    label_columns = {"client": _l("Client"), "request": _l("Service request"),
                     "staff": _l("Staff member"), "text": _l("Complaint"),
                     "status": _l("Status"), "created_on": _l("Filed on"),
                     "handled_by": _l("Handled by"), "resolution": _l("Resolution"),
                     "closed_at": _l("Closed at"), "created_by": _l("Filed by")}
    list_columns = ["client", "staff", "text", "status", "created_on", "handled_by"]
    show_columns = ["client", "request", "staff", "text", "status", "created_on",
                    "created_by", "handled_by", "resolution", "closed_at"]
    order_columns = ["status", "created_on"]
    base_order = ("created_on", "desc")
    search_columns = ["status", "created_on", "text"]
    exclude_route_methods = {"download", "add", "edit", "delete"}


class ServiceRatingView(ScopedModelView):
    """评价: the clients' ratings of completed requests (read only)."""

    route_base = "/service-ratings"
    datamodel = ScopedInterface(ServiceRating)
    class_permission_name = "ServiceRatingView"
    list_title = show_title = _l("Ratings")
    label_columns = {"client": _l("Client"), "request": _l("Service request"),
                     "staff": _l("Staff member"), "overall": _l("Rating"),
                     "attitude": _l("Attitude"), "speed": _l("Speed"),
                     "comment": _l("Comment"), "created_on": _l("Rated on")}
    list_columns = ["client", "request", "staff", "overall", "attitude", "speed",
                    "created_on"]
    show_columns = list_columns + ["comment"]
    order_columns = ["overall", "attitude", "speed", "created_on"]
    base_order = ("created_on", "desc")
    search_columns = ["overall", "created_on"]
    exclude_route_methods = {"download", "add", "edit", "delete"}


class StaffPerformanceView(BaseView):
    """员工绩效: per staff member and month — completed requests, on time %, average
    ratings, complaints — over the requests the viewer may see."""

    route_base = "/service-performance"
    default_view = "index"
    class_permission_name = "StaffPerformanceView"
    list_title = _l("Staff performance")

    @expose("/")
    @has_access
    def index(self):
        from ..guards import month_arg
        from ..services import feedback

        month = month_arg(request.args.get("month")) or clock.today().replace(day=1)
        rows = feedback.performance(month, ScopedInterface(ServiceRequest).scope_condition(),
                                    ScopedInterface(Complaint).scope_condition())
        from .stats import ECHARTS_FILE, echarts_available

        chart = {"names": [r.staff.get_full_name() for r in rows],
                 "handled": [r.handled for r in rows],
                 "on_time": [r.on_time_pct for r in rows],
                 "complaints": [r.complaints for r in rows]}
        return self.render_template("service/performance.html", rows=rows,
                                    month=f"{month:%Y-%m}", title=gettext("Staff performance"),
                                    chart=chart, echarts=echarts_available(),
                                    echarts_file=ECHARTS_FILE)


def register(appbuilder) -> None:
    appbuilder.add_view(ServiceRequestModelView, "ServiceRequests",
                        label=_l("Service requests"), icon="fa-life-ring",
                        category="ClientService", category_label=_l("Client service"),
                        category_icon="fa-handshake-o")
    appbuilder.add_view(ComplaintModelView, "Complaints", label=_l("Complaints"),
                        icon="fa-exclamation-circle", category="ClientService")
    appbuilder.add_view(ServiceRatingView, "ServiceRatings", label=_l("Ratings"),
                        icon="fa-star", category="ClientService")
    appbuilder.add_view(StaffPerformanceView, "StaffPerformance",
                        label=_l("Staff performance"), icon="fa-bar-chart",
                        category="ClientService")


def register_admin(appbuilder) -> None:
    appbuilder.add_view(ServiceItemView, "ServiceItems", label=_l("Service catalogue"),
                        icon="fa-list-alt", category="Administration")

