"""Attachments of service requests: checked (``app.domain.attachments``), stored
outside the web root under ``instance/attachments/`` by a random name, served only
to those who may see the request (the callers load the request through the scope
first; an attachment is then found only under its own request)."""
from __future__ import annotations

import os
import secrets

from flask import current_app, send_file
from sqlalchemy import select

from ..domain import attachments as rules
from ..domain.choices import N_
from ..extensions import db
from ..models import ServiceAttachment, ServiceRequest

#: files per request at most
MAX_FILES = 20


def folder() -> str:
    """Where files are kept: AGENCYDESK_ATTACHMENT_DIR, else instance/attachments (never
    under static/: nothing there is served except through the checks here)."""
    path = current_app.config.get("AGENCYDESK_ATTACHMENT_DIR") or os.path.join(
        current_app.instance_path, "attachments")
    os.makedirs(path, exist_ok=True)
    return path


def max_bytes() -> int:
    mb = current_app.config.get("AGENCYDESK_ATTACHMENT_MAX_MB")
    return int(float(mb) * 1024 * 1024) if mb else rules.MAX_BYTES


def attach(request: ServiceRequest, upload, by) -> ServiceAttachment:
    """Store one uploaded file (a werkzeug FileStorage) on ``request`` (already
    loaded through the caller's scope). Committed; audited by the flush listener.

    :raises rules.AttachmentError: empty, too large, wrong kind, or too many files.
    """
    limit = max_bytes()
    content = upload.stream.read(limit + 1)
    kind = rules.check(upload.filename or "", content, limit)
    count = len(of_request(request))
    if count >= MAX_FILES:
        raise rules.AttachmentError("count")
    stored = f"{secrets.token_hex(16)}.{kind}"
    path = os.path.join(folder(), stored)
    with open(path, "xb") as out:  # never overwrites
        out.write(content)
    row = ServiceAttachment(request_id=request.id, client_id=request.client_id,
                            name=rules.display_name(upload.filename or ""),
                            stored_name=stored, kind=kind, size=len(content),
                            uploaded_by_id=getattr(by, "id", None))
    db.session.add(row)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        os.remove(path)
        raise
    from ..security.scope import is_client_user

    if by is not None and is_client_user(by):
        from .notices import after_step

        after_step(request.id, "file")  # the client sent a file: his assignee is told
    return row


def precheck(uploads) -> None:
    """Check every file of a form before anything is saved (all or none).

    :raises rules.AttachmentError:
    """
    if len(uploads) > MAX_FILES:
        raise rules.AttachmentError("count")
    limit = max_bytes()
    for upload in uploads:
        rules.check(upload.filename or "", upload.stream.read(limit + 1), limit)
        upload.stream.seek(0)


def of_request(request: ServiceRequest) -> list[ServiceAttachment]:
    return list(db.session.execute(select(ServiceAttachment).where(
        ServiceAttachment.request_id == request.id).order_by(ServiceAttachment.id)).scalars())


def find(request: ServiceRequest, attachment_id) -> ServiceAttachment | None:
    """The attachment ``attachment_id`` of this request (None: not one of its own)."""
    try:
        attachment_id = int(attachment_id)
    except (TypeError, ValueError):
        return None
    return db.session.execute(select(ServiceAttachment).where(
        ServiceAttachment.id == attachment_id,
        ServiceAttachment.request_id == request.id)).scalar()


def send(row: ServiceAttachment):
    """The file as a download, typed by its checked kind (never by the upload)."""
    path = os.path.join(folder(), os.path.basename(row.stored_name))
    if not os.path.isfile(path):
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return send_file(path, mimetype=rules.KINDS[row.kind][0], as_attachment=True,
                     download_name=row.name, max_age=0)


MESSAGES = {
    "type": N_("Only PDF, JPG, PNG and Excel (xlsx) files can be attached, and their "
               "content must be what the name says."),
    "size": N_("The file is larger than %(mb)d MB."),
    "empty": N_("The file is empty."),
    "count": N_("A request has at most %(n)d files."),
}


def message(exc: rules.AttachmentError) -> str:
    """The refusal in the user's language."""
    from flask_babel import gettext

    return gettext(MESSAGES.get(exc.reason, MESSAGES["type"]),
                   mb=max(1, max_bytes() // (1024 * 1024)), n=MAX_FILES)
