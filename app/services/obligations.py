"""报税管理: keeping each client's obligations in step with the types, and recording
完成 / 跳过 so that an obligation advances exactly once per due date.

Sync is set-based SQL (INSERT … SELECT, UPDATE … WHERE): 700,000 obligations are not
loaded into Python. Completion is guarded twice: the record is unique per
(obligation, due date), and the advance is a compare-and-set
(``UPDATE … WHERE id = :id AND next_due = :seen``); if either finds someone else
was first, that row is reported as already handled and nothing is redone.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import Date, Integer, and_, exists, false, func, insert, literal, not_, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..domain import recurrence
from ..extensions import db
from ..models import Client, Obligation, ObligationRecord, ObligationType
from .. import clock

#: which client column names the default assignee, per "applies to"
ASSIGNEE_COLUMN = {"ticket_pickup": "field_agent_id", "tax_custody": "field_agent_id"}


class ObligationError(ValueError):
    """A change to an obligation that cannot be made (message key in ``reason``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def applies_condition(applies_to: str):
    """SQL condition on ``Client`` for the clients an obligation type applies to."""
    active = Client.status == "active"
    extra = {
        "all_active": None,
        "tax_device": Client.tax_device_type != "none",
        "tax_custody": Client.tax_device_custody.is_(True),
        "ticket_pickup": Client.ticket_pickup.is_(True),
        "provides_address": Client.provides_address.is_(True),
        "onsite_bookkeeping": Client.onsite_bookkeeping.is_(True),
    }.get(applies_to, false())
    return active if extra is None else and_(active, extra)


@dataclass
class SyncResult:
    created: int = 0
    reactivated: int = 0
    retired: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.reactivated + self.retired


def sync_obligations(today: datetime.date, tz: str) -> SyncResult:
    """Create the obligations clients should have, retire those they no longer
    should, in set-based statements; one transaction. A second run finds nothing."""
    result = SyncResult()
    conn = db.session.connection()
    types = db.session.execute(select(ObligationType)).scalars().all()
    for otype in types:
        if not otype.active:
            result.retired += conn.execute(
                update(Obligation).where(Obligation.type_id == otype.id,
                                         Obligation.active.is_(True))
                .values(active=False)).rowcount
            continue
        cond = applies_condition(otype.applies_to)
        first_due = recurrence.first_due_on_or_after(otype.rule, today, tz)
        assignee = getattr(Client, ASSIGNEE_COLUMN.get(otype.applies_to, "bookkeeper_id"))
        has_one = exists().where(Obligation.client_id == Client.id,
                                 Obligation.type_id == otype.id)
        source = select(Client.id, literal(otype.id, Integer), literal(first_due, Date),
                        assignee).where(cond, not_(has_one))
        # psycopg reports no rowcount for INSERT … SELECT: count the type's rows
        # before and after (an index-only count) instead.
        count_q = select(func.count()).select_from(Obligation).where(Obligation.type_id == otype.id)
        before = conn.execute(count_q).scalar()
        conn.execute(insert(Obligation.__table__).from_select(
            ["client_id", "type_id", "next_due", "assignee_id"], source))
        result.created += conn.execute(count_q).scalar() - before
        applicable = select(Client.id).where(cond)
        result.reactivated += conn.execute(
            update(Obligation).where(Obligation.type_id == otype.id,
                                     Obligation.active.is_(False),
                                     Obligation.client_id.in_(applicable))
            .values(active=True)).rowcount
        result.retired += conn.execute(
            update(Obligation).where(Obligation.type_id == otype.id,
                                     Obligation.active.is_(True),
                                     Obligation.client_id.not_in(applicable))
            .values(active=False)).rowcount
    if result.rows:
        audit.record(conn, "sync", "obligation", changes={
            "created": result.created, "reactivated": result.reactivated,
            "retired": result.retired})
    db.session.commit()
    return result


def flag_overdue(today: datetime.date) -> int:
    """Set ``overdue`` where it no longer matches ``next_due < today`` (set-based)."""
    conn = db.session.connection()
    n = conn.execute(update(Obligation).where(Obligation.active.is_(True),
                                              Obligation.next_due < today,
                                              Obligation.overdue.is_(False))
                     .values(overdue=True)).rowcount
    n += conn.execute(update(Obligation).where(Obligation.next_due >= today,
                                               Obligation.overdue.is_(True))
                      .values(overdue=False)).rowcount
    db.session.commit()
    return n


@dataclass
class RecordResult:
    done: int = 0
    stale: int = 0
    records: list = field(default_factory=list)


def rule_of(obligation: Obligation) -> str:
    return obligation.rule_override or obligation.type.rule


def record(obligations, kind: str, by_id: int | None, tz: str, note: str | None = None,
           at: datetime.datetime | None = None, seen: dict | None = None) -> RecordResult:
    """完成 (``kind="complete"``) or 跳过 (``"skip"``) the given, already scoped,
    obligations for their current due date, advancing each to its next occurrence
    after that due date. Each row is its own savepoint; one commit for all.

    A row someone else recorded first (double click, two clerks, a stale page) is
    counted in ``stale`` and left as that person left it. ``seen`` maps obligation
    id → the due date the user was looking at, and is required: a row without one,
    or whose due date moved on since (the first click of a double click already
    completed it), is stale too — never completed for a period nobody looked at.
    """
    if kind not in ("complete", "skip"):
        raise ObligationError("kind")
    result = RecordResult()
    conn = db.session.connection()
    seen_dates = seen or {}
    for ob in obligations:
        seen = seen_dates.get(ob.id)
        if seen is None or seen != ob.next_due:
            result.stale += 1
            continue
        rule = rule_of(ob)
        new_due = recurrence.advance(rule, seen, tz)
        period = recurrence.period_of(rule, seen, tz)
        savepoint = db.session.begin_nested()
        try:
            rec = ObligationRecord(obligation_id=ob.id, client_id=ob.client_id,
                                   type_id=ob.type_id, due_date=seen, period=period,
                                   kind=kind, by_id=by_id, note=note,
                                   at=at or clock.local_now())
            db.session.add(rec)
            db.session.flush()
            moved = conn.execute(
                update(Obligation)
                .where(Obligation.id == ob.id, Obligation.next_due == seen)
                .values(next_due=new_due, last_period=period, overdue=False,
                        last_done_on=(at or clock.local_now()).date()
                        if kind == "complete" else Obligation.last_done_on)).rowcount
            if moved != 1:
                raise IntegrityError("stale", None, Exception("next_due moved"))
            audit.record(conn, "update", "obligation", ob.id,
                         changes={"next_due": [seen.isoformat(), new_due.isoformat()],
                                  "last_period": [None, period]})
            savepoint.commit()
            result.done += 1
            result.records.append(rec)
        except IntegrityError:
            savepoint.rollback()
            result.stale += 1
    db.session.commit()
    # the objects the caller holds should show the new state
    for ob in obligations:
        db.session.expire(ob)
    return result


def undo_last(obligation: Obligation, tz: str) -> ObligationRecord:
    """Undo the latest 完成/跳过 of an obligation: delete the record (the audit log
    keeps it) and put the due date back — compare-and-set, so an obligation that
    moved on since (someone completed the next period) is left alone.

    :raises ObligationError: ``no_record`` or ``moved``.
    """
    last = db.session.execute(
        select(ObligationRecord).where(ObligationRecord.obligation_id == obligation.id)
        .order_by(ObligationRecord.due_date.desc()).limit(1)).scalar()
    if last is None:
        raise ObligationError("no_record")
    previous = db.session.execute(
        select(ObligationRecord).where(ObligationRecord.obligation_id == obligation.id,
                                       ObligationRecord.id != last.id,
                                       ObligationRecord.kind == "complete")
        .order_by(ObligationRecord.due_date.desc()).limit(1)).scalar()
    expected = recurrence.advance(rule_of(obligation), last.due_date, tz)
    conn = db.session.connection()
    moved = conn.execute(
        update(Obligation).where(Obligation.id == obligation.id, Obligation.next_due == expected)
        .values(next_due=last.due_date,
                last_period=previous.period if previous else None,
                last_done_on=previous.at.date() if previous else None)).rowcount
    if moved != 1:
        db.session.rollback()
        raise ObligationError("moved")
    audit.record(conn, "update", "obligation", obligation.id,
                 changes={"next_due": [expected.isoformat(), last.due_date.isoformat()]})
    db.session.delete(last)
    db.session.commit()
    db.session.expire(obligation)
    return last


def due_counts(today: datetime.date, condition=None) -> dict:
    """Overdue and due-today counts (for the dashboard), through a scope condition."""
    from sqlalchemy import func

    q = select(func.count()).select_from(Obligation).where(Obligation.active.is_(True))
    if condition is not None:
        q = q.where(condition)
    overdue = db.session.execute(q.where(Obligation.next_due < today)).scalar()
    due_today = db.session.execute(q.where(Obligation.next_due == today)).scalar()
    return {"overdue": overdue, "due_today": due_today}
