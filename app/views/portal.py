"""客户门户 (/portal/): a client user's own pages, phone-first, in Chinese.

A plain blueprint, not FAB screens: a client user holds no FAB permission and sees
no staff menu. Every page loads the client named in its URL through the one scope
(``services.portal.load_client``): another client's id answers 404.
``app.security.portal`` keeps client users inside these pages, and staff out of
them (a staff member has no portal membership: the pages answer 404 to him).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .. import clock
from ..domain.choices import BILLING_CYCLE, INVOICE_STATUS
from ..services import portal as portal_service

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.before_request
def _client_users_only():
    from flask import current_app

    from ..security.scope import is_client_user

    if not current_user.is_authenticated:
        return redirect(current_app.appbuilder.get_url_for_login)
    g.user = current_user
    if not is_client_user(current_user):
        abort(404)  # staff have their own screens; the portal has nothing for them


def _client_or_404(client_id):
    client = portal_service.load_client(current_user, client_id)
    if client is None:
        abort(404)
    return client


def _render(template, **context):
    from ..services import notices

    clients = portal_service.my_clients(current_user)
    return render_template(template, my_clients=clients,
                           unread=notices.unread_count(current_user), **context)


@bp.route("/")
def index():
    """One company: its page. Several (a boss): the picker."""
    clients = portal_service.my_clients(current_user)
    if len(clients) == 1:
        return redirect(url_for(".company", client_id=clients[0].id))
    return _render("portal/picker.html")


@bp.route("/<int:client_id>/")
def company(client_id):
    client = _client_or_404(client_id)
    from ..domain.choices import COMPLAINT_STATUS
    from ..services import feedback

    data = portal_service.overview(client, clock.today())
    return _render("portal/company.html", client=client, data=data, today=clock.today(),
                   cycles=BILLING_CYCLE, invoice_status=INVOICE_STATUS,
                   complaints=feedback.complaints_of_client(client.id),
                   complaint_status=COMPLAINT_STATUS)


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Replace one's password (the first login after staff made the account must)."""
    forced = portal_service.must_change_password(current_user)
    if request.method == "POST":
        try:
            portal_service.change_password(current_user, request.form.get("old", ""),
                                           request.form.get("new", ""),
                                           request.form.get("confirm", ""))
        except portal_service.PortalError as exc:
            flash(gettext(exc.message, **exc.params), "danger")
            return _render("portal/password.html", forced=forced), 422
        flash(gettext("Your password has been changed."), "success")
        return redirect(url_for(".index"))
    return _render("portal/password.html", forced=forced)


# ---- 业务请求 ------------------------------------------------------------------------
def _request_or_404(client, request_id):
    from ..models import ServiceRequest

    item = portal_service.load_request(current_user, client.id, request_id)
    if item is None or not isinstance(item, ServiceRequest):
        abort(404)
    return item


@bp.route("/<int:client_id>/requests/", methods=["GET", "POST"])
def requests(client_id):
    """His requests, newest first, and the form to open one (服务项目 from the
    catalogue, title, description, urgency)."""
    from ..domain.choices import SERVICE_REQUEST_STATUS, URGENCY
    from ..domain.validation import FieldErrors
    from ..services import service_requests

    from ..domain.attachments import AttachmentError
    from ..services import attachments

    client = _client_or_404(client_id)
    errors = {}
    if request.method == "POST":
        files = [f for f in request.files.getlist("files") if f and f.filename]
        try:
            attachments.precheck(files)
            created = service_requests.open_request(
                client, request.form.get("item_id"), request.form.get("title", ""),
                request.form.get("description", ""), request.form.get("urgency", "normal"),
                current_user, clock.now())
            for upload in files:
                attachments.attach(created, upload, current_user)
        except AttachmentError as exc:
            errors = {"files": [attachments.message(exc)]}
        except FieldErrors as exc:
            from ..extensions import db

            db.session.rollback()
            errors = exc.errors
        else:
            flash(gettext("Your request was sent. We will get back to you soon."), "success")
            return redirect(url_for(".requests", client_id=client.id))
    page = _render("portal/requests.html", client=client,
                   items=service_requests.requests_of_client(client.id),
                   catalogue=service_requests.active_items(), errors=errors,
                   states=SERVICE_REQUEST_STATUS, urgencies=URGENCY, form=request.form)
    return (page, 422) if errors else page


@bp.route("/<int:client_id>/requests/<int:request_id>")
def request_detail(client_id, request_id):
    from ..domain.choices import SERVICE_REQUEST_STATUS, URGENCY
    from ..services import service_requests

    from ..services import attachments

    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    from ..domain.choices import RATING
    from ..services import feedback

    return _render("portal/request.html", client=client, item=item,
                   notes=service_requests.notes_of(item, public_only=True),
                   files=attachments.of_request(item), rating=feedback.rating_of(item),
                   ratings=RATING,
                   states=SERVICE_REQUEST_STATUS, urgencies=URGENCY)


@bp.route("/<int:client_id>/requests/<int:request_id>/files", methods=["POST"])
def request_attach(client_id, request_id):
    """One more file on his request (until it is closed)."""
    from ..domain.attachments import AttachmentError
    from ..services import attachments

    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    upload = request.files.get("file")
    if item.status in ("done", "cancelled"):
        flash(gettext("This is not possible in the request's present state."), "warning")
    elif upload is None or not upload.filename:
        flash(gettext("The file is empty."), "danger")
    else:
        try:
            attachments.attach(item, upload, current_user)
        except AttachmentError as exc:
            flash(attachments.message(exc), "danger")
        else:
            flash(gettext("The file was attached."), "success")
    return redirect(url_for(".request_detail", client_id=client.id, request_id=item.id))


@bp.route("/<int:client_id>/requests/<int:request_id>/files/<int:file_id>")
def request_file(client_id, request_id, file_id):
    """A file of his request (another request's or client's file: 404)."""
    from ..services import attachments

    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    row = attachments.find(item, file_id)
    if row is None:
        abort(404)
    return attachments.send(row)


@bp.route("/<int:client_id>/requests/<int:request_id>/<any(confirm, reopen, cancel):step>",
          methods=["POST"])
def request_step(client_id, request_id, step):
    """确认完成, 还没办完 (with what is missing) or 取消, on his own request."""
    from ..domain.validation import FieldErrors
    from ..services import service_requests

    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    try:
        result = service_requests.client_step(item, step, current_user, clock.now(),
                                              reason=request.form.get("reason") or None)
    except FieldErrors:
        flash(gettext("Please say what is still missing."), "danger")
    else:
        if result.changed:
            flash(gettext("Done."), "success")
        else:
            flash(gettext("This is not possible in the request's present state."), "warning")
    return redirect(url_for(".request_detail", client_id=client.id, request_id=item.id))


# ---- 评价 and 投诉 ----------------------------------------------------------------------
@bp.route("/<int:client_id>/requests/<int:request_id>/rate", methods=["POST"])
def request_rate(client_id, request_id):
    """评价 of his completed request: 好/中/差, 态度 and 速度 1–5, a comment; once."""
    from ..domain.validation import FieldErrors
    from ..services import feedback

    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    try:
        feedback.rate(item, request.form.get("overall"), request.form.get("attitude"),
                      request.form.get("speed"), request.form.get("comment"), current_user)
    except feedback.FeedbackError as exc:
        flash(gettext(exc.message), "warning")
    except FieldErrors as exc:
        if "request_id" in exc.errors:
            flash(gettext("This request has been rated already."), "warning")
        else:
            flash(gettext("Please choose a rating and give attitude and speed 1 to 5."),
                  "danger")
    else:
        flash(gettext("Thank you for your rating."), "success")
    return redirect(url_for(".request_detail", client_id=client.id, request_id=item.id))


@bp.route("/<int:client_id>/requests/<int:request_id>/complain", methods=["POST"])
def request_complain(client_id, request_id):
    """投诉 about one of his requests (and whoever handles it): to the Managers."""
    client = _client_or_404(client_id)
    item = _request_or_404(client, request_id)
    _complain(client, request.form.get("text", ""), item=item)
    return redirect(url_for(".request_detail", client_id=client.id, request_id=item.id))


@bp.route("/<int:client_id>/complaints", methods=["POST"])
def complain(client_id):
    """投诉 about his 记账会计 or 外勤会计 (or the service in general)."""
    client = _client_or_404(client_id)
    about = {"bookkeeper": client.bookkeeper_id,
             "field_agent": client.field_agent_id}.get(request.form.get("about", ""))
    _complain(client, request.form.get("text", ""), staff_id=about)
    return redirect(url_for(".company", client_id=client.id) + "#portal-complaints")


def _complain(client, text, item=None, staff_id=None):
    from ..domain.validation import FieldErrors
    from ..extensions import db
    from ..services import feedback

    try:
        feedback.file_complaint(client.id, text, current_user, request=item, staff_id=staff_id)
    except FieldErrors:
        db.session.rollback()
        flash(gettext("Please describe what went wrong (at most 4,000 characters)."), "danger")
    else:
        flash(gettext("Your complaint was passed to the managers. We will contact you."),
              "success")


# ---- 通知 ----------------------------------------------------------------------------
@bp.route("/notices")
def notice_list():
    """His notices, newest first (opening one marks it read)."""
    from ..services import notices

    rows = [(n, notices.text_of(n)) for n in notices.latest(current_user, 100)]
    return _render("portal/notices.html", rows=rows)


@bp.route("/notices/<int:notice_id>")
def notice_open(notice_id):
    from ..services import notices
    from .notices import safe_target

    notice = notices.open_notice(current_user, notice_id)
    if notice is None:
        abort(404)
    return redirect(safe_target(notice.url, url_for(".notice_list")))
