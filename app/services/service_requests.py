"""业务请求 (seed 002): a client's service request from opening to 已完成.

States move only through the one transition service (``transitions.fire`` with the
``SERVICE_REQUEST`` declaration); what this module adds is who may fire what beyond
the permission — the assignee accepts and finishes his own request, the client
confirms or cancels his own — the default dispatch to the client's 记账会计, the
return to the pool of requests nobody accepted in time, and the progress notes.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import select

from ..domain import service as rules
from ..domain.choices import N_
from ..extensions import db
from ..models import Client, ServiceItem, ServiceNote, ServiceRequest
from . import transitions


class RequestError(ValueError):
    """A step the actor may not take on this request; ``message`` is an msgid."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NOT_YOURS = N_("Only the staff member the request is assigned to can do this.")
NOT_NOW = N_("This is not possible in the request's present state.")


@dataclass(frozen=True)
class System:
    """The actor of the scheduler's steps (no user)."""

    id: None = None


def active_items() -> list[ServiceItem]:
    """The catalogue the client chooses from."""
    return list(db.session.execute(select(ServiceItem).where(ServiceItem.active.is_(True))
                                   .order_by(ServiceItem.sort_order, ServiceItem.id)).scalars())


def open_request(client: Client, item_id, title: str, description: str, urgency: str,
                 by, now: datetime.datetime) -> ServiceRequest:
    """Open a request for ``client`` (already loaded through the caller's scope) and
    dispatch it to the client's 记账会计 when he has one (else it waits in the pool).

    :raises validation.FieldErrors: a value refused by the field rules (or an item
        that is not in the catalogue).
    """
    from ..domain import validation

    item = None
    try:
        item = db.session.get(ServiceItem, int(item_id))
    except (TypeError, ValueError):
        pass
    if item is None or not item.active:
        raise validation.FieldErrors.one("item_id", "required")
    request = ServiceRequest(client_id=client.id, item_id=item.id, title=title,
                             description=description or None, urgency=urgency or "normal")
    transitions.prepare_new(request, by)
    db.session.add(request)
    db.session.commit()
    dispatch_default(request, by, now)
    return request


def step(request: ServiceRequest, name: str, by, now: datetime.datetime, seen: int | None,
         reason: str | None = None, values: dict | None = None) -> transitions.Result:
    """A staff member's step on one request (loaded through his scope): 接单, 办结
    and 未办完 only by the assignee.

    :raises RequestError: not his request.
    """
    if name in ("accept", "finish", "reopen") and request.assignee_id != by.id:
        raise RequestError(NOT_YOURS)
    return transitions.fire(ServiceRequest, [request], name, by, now,
                            seen={request.id: seen} if seen is not None else {},
                            values=values, reason=reason)


def client_step(request: ServiceRequest, name: str, by, now: datetime.datetime,
                reason: str | None = None) -> transitions.Result:
    """The client's own steps on his request (loaded through his scope): 确认完成,
    还没办完 (back to the assignee, with what is missing) and 取消.

    :raises RequestError: a step the client does not take.
    """
    if name not in ("confirm", "reopen", "cancel"):
        raise RequestError(NOT_NOW)
    return transitions.fire(ServiceRequest, [request], name, by, now,
                            seen={request.id: request.version}, reason=reason)


def add_note(request: ServiceRequest, text: str, public: bool, by) -> ServiceNote:
    """A progress note, shown to the client (``public``) or internal. Committed.

    :raises validation.FieldErrors: empty or too long.
    """
    note = ServiceNote(request_id=request.id, client_id=request.client_id, text=text,
                       public=bool(public), author_id=getattr(by, "id", None))
    db.session.add(note)
    db.session.commit()
    from .notices import progress

    progress(note)
    return note


def notes_of(request: ServiceRequest, public_only: bool) -> list[ServiceNote]:
    query = select(ServiceNote).where(ServiceNote.request_id == request.id)
    if public_only:
        query = query.where(ServiceNote.public.is_(True))
    return list(db.session.execute(query.order_by(ServiceNote.id)).scalars())


def release_unaccepted(now: datetime.datetime) -> int:
    """退回: dispatched requests nobody accepted within their item's hours go back to
    the pool (待分配, no assignee), each through the transition service (audited).

    :return: the number of requests returned.
    """
    naive = now.replace(tzinfo=None)
    rows = db.session.execute(
        select(ServiceRequest, ServiceItem.accept_hours)
        .join(ServiceItem, ServiceItem.id == ServiceRequest.item_id)
        .where(ServiceRequest.status == "assigned")
        .order_by(ServiceRequest.id)).all()
    late = [req for req, hours in rows if rules.acceptance_expired(req.assigned_at, hours, naive)]
    if not late:
        return 0
    result = transitions.fire(ServiceRequest, late, "release", System(), now,
                              seen={req.id: req.version for req in late})
    return result.changed


def lateness(request: ServiceRequest, today: datetime.date) -> str:
    """:data:`rules.OVERDUE`, :data:`rules.DUE_SOON` or ""."""
    item = request.item
    return rules.lateness(request.created_on.date(), item.expected_days if item else 0,
                          request.status, today)


def requests_of_client(client_id: int) -> list[ServiceRequest]:
    return list(db.session.execute(select(ServiceRequest).where(
        ServiceRequest.client_id == client_id).order_by(ServiceRequest.id.desc())).scalars())


def dispatch_default(request: ServiceRequest, by, now: datetime.datetime) -> None:
    """A new request goes to its client's 记账会计 when he has one (else it waits in
    the pool for a Manager or a taker)."""
    client = db.session.get(Client, request.client_id)
    if client is not None and client.bookkeeper_id is not None and request.status == "new":
        transitions.fire(ServiceRequest, [request], "dispatch", by, now,
                         seen={request.id: request.version},
                         values={"assignee_id": client.bookkeeper_id})


def staff_choices() -> list[tuple[int, str]]:
    """Active staff a request may be dispatched to (no client user)."""
    from flask_appbuilder.security.sqla.models import Role, assoc_user_role

    from ..models import Staff
    from ..security.grants import CLIENT_ROLE

    clients = (select(assoc_user_role.c.user_id)
               .join(Role, Role.id == assoc_user_role.c.role_id)
               .where(Role.name == CLIENT_ROLE))
    rows = db.session.execute(select(Staff).where(Staff.active.is_(True),
                                                  Staff.id.not_in(clients))
                              .order_by(Staff.username)).scalars()
    return [(s.id, f"{s.get_full_name()} ({s.username})") for s in rows]


def late_counts(user_id: int, scope_condition, today: datetime.date,
                limit: int = 5000) -> tuple[int, int]:
    """(the user's open requests past their expected days, the requests waiting in
    the pool) among those the user sees — for the home page."""
    from sqlalchemy import func

    query = (select(ServiceRequest.created_on, ServiceRequest.status,
                    ServiceItem.expected_days)
             .join(ServiceItem, ServiceItem.id == ServiceRequest.item_id)
             .where(ServiceRequest.assignee_id == user_id,
                    ServiceRequest.status.in_(tuple(rules.OPEN_STATES))).limit(limit))
    pool = select(func.count()).select_from(ServiceRequest).where(
        ServiceRequest.status == "new")
    if scope_condition is not None:
        query, pool = query.where(scope_condition), pool.where(scope_condition)
    late = sum(1 for opened, status, days in db.session.execute(query)
               if rules.lateness(opened.date(), days, status, today) == rules.OVERDUE)
    return late, db.session.execute(pool).scalar()
