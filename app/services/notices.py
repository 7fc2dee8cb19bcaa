"""通知 (seed 002): who is told what, stored (the bell menu), and e-mailed when the
firm has SMTP settings (``AGENCYDESK_SMTP_HOST`` …; nothing is sent without them).

Staff: a request dispatched to them, a client's reply (confirmation, "not done yet",
a file), a complaint (the Managers). Client users: progress shown to them, a
request done and waiting for their confirmation, a complaint closed, a filing of
theirs completed (报税 完成), a fee charged (the charge run).
"""
from __future__ import annotations

import json
import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, has_app_context
from flask_babel import gettext
from sqlalchemy import func, select, update

from ..clock import local_now
from ..domain.choices import N_
from ..extensions import db
from ..models import Notice, PortalMembership, ServiceRequest, Staff

log = logging.getLogger(__name__)

MESSAGES = {
    "assigned": N_("Service request assigned to you: %(title)s"),
    "client_reply": N_("The client replied on %(title)s"),
    "complaint": N_("New complaint from %(client)s"),
    "progress": N_("Progress on your request %(title)s"),
    "finished": N_("%(title)s is done: please confirm"),
    "complaint_closed": N_("Your complaint has been closed: %(resolution)s"),
    "filing_done": N_("%(kind)s for %(period)s has been filed"),
    "fee_due": N_("A fee of %(amount)s yuan is due on %(due)s"),
}
#: notices shown in the bell menu at most
BELL_ROWS = 8


def text_of(notice: Notice) -> str:
    """The notice in the reader's language."""
    params = json.loads(notice.params) if notice.params else {}
    return gettext(MESSAGES.get(notice.key, notice.key), **params)


def notify(user_ids, key: str, url: str | None = None, commit: bool = True, **params) -> int:
    """Store one notice per user (duplicates and empty ids dropped) and e-mail it
    when SMTP is configured. :return: how many were stored."""
    ids = sorted({uid for uid in user_ids if uid})
    if not ids:
        return 0
    now = local_now()
    rows = [{"user_id": uid, "key": key, "url": url, "created_on": now,
             "params": json.dumps(params, ensure_ascii=False, default=str)} for uid in ids]
    db.session.execute(Notice.__table__.insert(), rows)
    if commit:
        db.session.commit()
    if commit and smtp_configured():
        _email(ids, key, params)
    return len(ids)


def for_clients(conn, key: str, items) -> int:
    """Tell the client users of each client: ``items`` = [(client_id, params)]; one
    notice per client user and item, in the caller's transaction (so a filing
    completed once, or a charge created once, is told once), with one SELECT and one
    INSERT whatever the number of items — the 完成 of 500 filings and the monthly
    charge run call it. Stored for the bell; e-mailed by :func:`email_told` once the
    caller has committed. :return: [(user id, key, params)] stored."""
    items = list(items)
    client_ids = sorted({cid for cid, _ in items})
    if not client_ids:
        return []
    users: dict[int, list] = {}
    for cid, uid in conn.execute(select(PortalMembership.client_id, PortalMembership.user_id)
                                 .where(PortalMembership.client_id.in_(client_ids))):
        users.setdefault(cid, []).append(uid)
    now = local_now()
    rows = [{"user_id": uid, "key": key, "url": f"/portal/{cid}/", "created_on": now,
             "params": json.dumps(params, ensure_ascii=False, default=str)}
            for cid, params in items for uid in users.get(cid, ())]
    if rows:
        conn.execute(Notice.__table__.insert(), rows)
    return [(uid, key, params) for cid, params in items for uid in users.get(cid, ())]


def email_told(told) -> None:
    """E-mail what :func:`for_clients` stored, after the caller's commit (only when the
    firm has SMTP settings): one message per user and notice."""
    if not told or not smtp_configured():
        return
    groups: dict[tuple, list] = {}
    for uid, key, params in told:
        raw = json.dumps(params, ensure_ascii=False, sort_keys=True, default=str)
        groups.setdefault((key, raw), []).append(uid)
    for (key, raw), ids in groups.items():
        _email(ids, key, json.loads(raw))


def client_user_ids(client_id: int) -> list[int]:
    return list(db.session.execute(select(PortalMembership.user_id).where(
        PortalMembership.client_id == client_id)).scalars())


def manager_ids() -> list[int]:
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    return list(db.session.execute(
        select(assoc_user_role.c.user_id).join(Role, Role.id == assoc_user_role.c.role_id)
        .where(Role.name == "Manager")).scalars())


def unread_count(user) -> int:
    return db.session.execute(select(func.count()).select_from(Notice).where(
        Notice.user_id == user.id, Notice.read_at.is_(None))).scalar()


def bell(user, limit: int = BELL_ROWS) -> tuple[int, list[Notice]]:
    """(unread count, latest notices) in one statement: every page's navbar asks."""
    unread = select(func.count()).select_from(Notice).where(
        Notice.user_id == user.id, Notice.read_at.is_(None)).scalar_subquery()
    rows = db.session.execute(select(Notice, unread).where(Notice.user_id == user.id)
                              .order_by(Notice.id.desc()).limit(limit)).all()
    return (rows[0][1] if rows else 0), [notice for notice, _ in rows]


def latest(user, limit: int = BELL_ROWS) -> list[Notice]:
    return list(db.session.execute(select(Notice).where(Notice.user_id == user.id)
                                   .order_by(Notice.id.desc()).limit(limit)).scalars())


def open_notice(user, notice_id) -> Notice | None:
    """Mark one of the user's notices read and return it (None: not his)."""
    try:
        notice_id = int(notice_id)
    except (TypeError, ValueError):
        return None
    notice = db.session.execute(select(Notice).where(
        Notice.id == notice_id, Notice.user_id == user.id)).scalar()
    if notice is not None and notice.read_at is None:
        notice.read_at = local_now()
        db.session.commit()
    return notice


def mark_all_read(user) -> None:
    db.session.execute(update(Notice).where(Notice.user_id == user.id,
                                            Notice.read_at.is_(None))
                       .values(read_at=local_now()))
    db.session.commit()


# ---- e-mail --------------------------------------------------------------------------
def smtp_configured() -> bool:
    return has_app_context() and bool(current_app.config.get("AGENCYDESK_SMTP_HOST"))


def _email(user_ids, key, params) -> None:
    """One message per user with an e-mail address; a failing server is logged, the
    notices stay (the bell shows them)."""
    cfg = current_app.config
    users = db.session.execute(select(Staff).where(Staff.id.in_(user_ids))).scalars().all()
    subject = gettext(MESSAGES.get(key, key), **params)
    try:
        with smtplib.SMTP(cfg["AGENCYDESK_SMTP_HOST"], int(cfg.get("AGENCYDESK_SMTP_PORT", 25)),
                          timeout=10) as smtp:
            if cfg.get("AGENCYDESK_SMTP_TLS"):
                smtp.starttls()
            if cfg.get("AGENCYDESK_SMTP_USER"):
                smtp.login(cfg["AGENCYDESK_SMTP_USER"], cfg.get("AGENCYDESK_SMTP_PASSWORD", ""))
            for user in users:
                if not user.email or user.email.endswith(".invalid"):
                    continue
                msg = EmailMessage()
                msg["From"] = cfg.get("AGENCYDESK_SMTP_SENDER", "agencydesk@localhost")
                msg["To"] = user.email
                msg["Subject"] = subject
                msg.set_content(subject)
                smtp.send_message(msg)
        db.session.execute(update(Notice).where(Notice.user_id.in_(user_ids),
                                                Notice.emailed_at.is_(None))
                           .values(emailed_at=local_now()))
        db.session.commit()
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("notice e-mail not sent: %s", exc)


# ---- what the service-request steps tell whom -----------------------------------------
def after_step(request_id: int, step: str) -> None:
    """Called after a service request's step was committed."""
    req = db.session.get(ServiceRequest, request_id)
    if req is None:
        return
    db.session.refresh(req)
    title = req.title
    if step in ("dispatch", "claim") and req.assignee_id:
        notify([req.assignee_id], "assigned", f"/service-requests/show/{req.id}", title=title)
    elif step == "finish":
        notify(client_user_ids(req.client_id), "finished",
               f"/portal/{req.client_id}/requests/{req.id}", title=title)
    elif step in ("confirm", "reopen", "cancel", "file") and req.assignee_id:
        notify([req.assignee_id], "client_reply", f"/service-requests/show/{req.id}",
               title=title)


def complaint_closed(complaint_id: int) -> None:
    from ..models import Complaint

    complaint = db.session.get(Complaint, complaint_id)
    if complaint is not None:
        db.session.refresh(complaint)
        notify(client_user_ids(complaint.client_id), "complaint_closed",
               f"/portal/{complaint.client_id}/#portal-complaints",
               resolution=complaint.resolution or "")


def complaint_filed(complaint) -> None:
    from ..models import Client

    client = db.session.get(Client, complaint.client_id)
    notify(manager_ids(), "complaint", f"/complaints/show/{complaint.id}",
           client=client.name if client else "")


def progress(note) -> None:
    req = db.session.get(ServiceRequest, note.request_id)
    if req is not None and note.public:
        notify(client_user_ids(req.client_id), "progress",
               f"/portal/{req.client_id}/requests/{req.id}", title=req.title)
