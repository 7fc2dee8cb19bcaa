"""评价, 投诉 and 员工绩效 (seed 002).

A client rates a completed request once (the database keeps one rating per request);
a complaint about a request or a staff member goes to the Managers and moves through
``workflows.COMPLAINT``; the performance table counts, per staff member and month,
the requests he completed, how many within the item's expected days, his average
ratings and the complaints about him — over the requests the viewer may see.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import and_, func, select

from ..domain import service as service_rules
from ..domain import validation
from ..domain.choices import N_, RATING
from ..extensions import db
from ..models import Complaint, ServiceItem, ServiceRating, ServiceRequest, Staff
from . import transitions

NOT_DONE = N_("Only a completed request can be rated.")


class FeedbackError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def rating_of(request: ServiceRequest) -> ServiceRating | None:
    return db.session.execute(select(ServiceRating).where(
        ServiceRating.request_id == request.id)).scalar()


def rate(request: ServiceRequest, overall, attitude, speed, comment, by) -> ServiceRating:
    """The client's rating of his completed request (loaded through his scope), once.

    :raises FeedbackError: the request is not completed.
    :raises validation.FieldErrors: a value refused, or rated already.
    """
    if request.status != "done":
        raise FeedbackError(NOT_DONE)
    if overall not in RATING:
        raise validation.FieldErrors.one("overall", "required")
    row = ServiceRating(request_id=request.id, client_id=request.client_id,
                        staff_id=request.assignee_id, overall=overall, attitude=attitude,
                        speed=speed, comment=(comment or "").strip() or None,
                        created_by_id=getattr(by, "id", None))
    db.session.add(row)
    try:
        db.session.commit()
    except validation.FieldErrors:
        db.session.rollback()
        raise
    except Exception:  # the unique index: two submissions at once
        db.session.rollback()
        raise validation.FieldErrors.one("request_id", "unique") from None
    return row


def file_complaint(client_id: int, text: str, by, request: ServiceRequest | None = None,
                   staff_id: int | None = None) -> Complaint:
    """A complaint of the client about one of his requests (its assignee is the staff
    member concerned) or about one of his accountants. Committed.

    :raises validation.FieldErrors: empty or too long.
    """
    if request is not None:
        staff_id = request.assignee_id
    row = Complaint(client_id=client_id, request_id=request.id if request else None,
                    staff_id=staff_id, text=text)
    transitions.prepare_new(row, by)
    db.session.add(row)
    db.session.commit()
    from .notices import complaint_filed

    complaint_filed(row)
    return row


def complaints_of_client(client_id: int) -> list[Complaint]:
    return list(db.session.execute(select(Complaint).where(Complaint.client_id == client_id)
                                   .order_by(Complaint.id.desc())).scalars())


@dataclass
class StaffMonth:
    staff: Staff
    handled: int
    on_time: int
    attitude: float | None
    speed: float | None
    good: int
    bad: int
    complaints: int

    @property
    def on_time_pct(self) -> float | None:
        return round(100.0 * self.on_time / self.handled, 1) if self.handled else None


def performance(month: datetime.date, scope_condition=None,
                complaint_condition=None) -> list[StaffMonth]:
    """Per staff member, the month ``month`` (its first day): requests completed
    (confirmed that month), on time (confirmed by opened + expected days), average
    attitude and speed of the ratings given that month, good and bad ratings,
    complaints filed that month about him. ``scope_condition``: the viewer's scope
    on ServiceRequest (None: all); ``complaint_condition`` the same on Complaint."""
    start = datetime.datetime.combine(month.replace(day=1), datetime.time())
    end = datetime.datetime.combine(
        (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1), datetime.time())
    rows: dict[int, dict] = {}

    def at(sid):
        return rows.setdefault(sid, {"handled": 0, "on_time": 0, "att": [], "spd": [],
                                     "good": 0, "bad": 0, "complaints": 0})

    done = (select(ServiceRequest.assignee_id, ServiceRequest.created_on,
                   ServiceRequest.closed_at, ServiceItem.expected_days)
            .join(ServiceItem, ServiceItem.id == ServiceRequest.item_id)
            .where(ServiceRequest.status == "done", ServiceRequest.assignee_id.isnot(None),
                   ServiceRequest.closed_at >= start, ServiceRequest.closed_at < end))
    if scope_condition is not None:
        done = done.where(scope_condition)
    for sid, opened, closed, days in db.session.execute(done):
        row = at(sid)
        row["handled"] += 1
        if closed.date() <= service_rules.due_date(opened.date(), days):
            row["on_time"] += 1
    rated = (select(ServiceRating.staff_id, ServiceRating.attitude, ServiceRating.speed,
                    ServiceRating.overall)
             .join(ServiceRequest, ServiceRequest.id == ServiceRating.request_id)
             .where(ServiceRating.staff_id.isnot(None), ServiceRating.created_on >= start,
                    ServiceRating.created_on < end))
    if scope_condition is not None:
        rated = rated.where(scope_condition)
    for sid, attitude, speed, overall in db.session.execute(rated):
        row = at(sid)
        row["att"].append(attitude)
        row["spd"].append(speed)
        row[overall] = row.get(overall, 0) + 1
    complained = (select(Complaint.staff_id, func.count())
                  .where(Complaint.staff_id.isnot(None),
                         and_(Complaint.created_on >= start, Complaint.created_on < end))
                  .group_by(Complaint.staff_id))
    if complaint_condition is not None:
        complained = complained.where(complaint_condition)
    for sid, n in db.session.execute(complained):
        at(sid)["complaints"] += n
    staff = {s.id: s for s in db.session.execute(
        select(Staff).where(Staff.id.in_(list(rows)))).scalars()} if rows else {}
    out = []
    for sid, r in rows.items():
        if sid not in staff:
            continue
        out.append(StaffMonth(
            staff[sid], r["handled"], r["on_time"],
            round(sum(r["att"]) / len(r["att"]), 2) if r["att"] else None,
            round(sum(r["spd"]) / len(r["spd"]), 2) if r["spd"] else None,
            r.get("good", 0), r.get("bad", 0), r["complaints"]))
    return sorted(out, key=lambda m: (-m.handled, m.staff.username))
