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

from sqlalchemy import (Date, Integer, and_, exists, false, func, insert, literal, not_, select,
                        true, update)
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

    def add(self, other: "SyncResult") -> None:
        self.created += other.created
        self.reactivated += other.reactivated
        self.retired += other.retired


@dataclass(frozen=True)
class TypePlan:
    """What a sync needs of one obligation type."""

    id: int
    active: bool
    applies_to: str
    first_due: datetime.date | None


def _commit(cursor, rows) -> None:
    db.session.commit()


def sync_obligations(today: datetime.date, tz: str, *, after: int | None = None,
                     chunk_size: int | None = None, checkpoint=None) -> SyncResult:
    """Create the obligations clients should have, retire those they no longer
    should, in set-based statements. A second run finds nothing.

    Without ``chunk_size`` every client is done in one transaction (saving a type on
    its screen). With it, ``chunk_size`` clients at a time in client-id order,
    starting after client id ``after``: each chunk's statements and its audit row are
    handed to ``checkpoint(cursor, rows)`` to commit — the scheduler commits the
    run's progress (``cursor`` = the last client id done) in the same transaction —
    or committed as they are. A crash keeps the committed chunks, and a rerun from the
    cursor does only the rest; because every statement is idempotent (INSERT … ON
    CONFLICT DO NOTHING, UPDATEs with their own conditions) the result equals one
    uninterrupted run.
    """
    checkpoint = checkpoint or _commit
    # Plain values, computed once (the first due date is the same for every chunk; the
    # ORM rows would be expired and reloaded after each chunk's commit).
    plans = [TypePlan(t.id, t.active, t.applies_to,
                      recurrence.first_due_on_or_after(t.rule, today, tz) if t.active else None)
             for t in db.session.execute(select(ObligationType)
                                         .order_by(ObligationType.id)).scalars()]
    result = SyncResult()
    lo = after
    while True:
        hi = _chunk_end(lo, chunk_size) if chunk_size else None
        if chunk_size and hi is None:
            break  # no client after the cursor: done
        part = _sync_clients(plans, lo, hi)
        if part.rows:
            audit.record(db.session.connection(), "sync", "obligation", changes={
                "created": part.created, "reactivated": part.reactivated,
                "retired": part.retired})
        result.add(part)
        checkpoint(None if hi is None else str(hi), part.rows)
        if not chunk_size:
            break
        lo = hi
    return result


def _chunk_end(after: int | None, size: int) -> int | None:
    """The id of the ``size``-th client after client id ``after`` (or the last one
    when fewer are left); None when no client comes after it."""
    ids = select(Client.id).order_by(Client.id)
    if after is not None:
        ids = ids.where(Client.id > after)
    end = db.session.execute(ids.offset(size - 1).limit(1)).scalar()
    if end is None:
        end = db.session.execute(select(func.max(Client.id)).where(
            Client.id > after if after is not None else true())).scalar()
    return end


def _sync_clients(plans, lo: int | None, hi: int | None) -> SyncResult:
    """One chunk of the sync: clients with ``lo < id <= hi`` (None: unbounded)."""
    result = SyncResult()
    conn = db.session.connection()
    # psycopg reports no rowcount for INSERT … SELECT unless asked to keep it
    conn = conn.execution_options(preserve_rowcount=True)

    def in_range(column):
        return and_(column > lo if lo is not None else true(),
                    column <= hi if hi is not None else true())

    # Obligations are reached through the chunk's client ids (``client_id IN (…)``),
    # never by a range on obligation.client_id next to type_id = …: SQLite's planner
    # then walks the type's whole (type_id, next_due) index in every chunk.
    chunk_clients = select(Client.id).where(in_range(Client.id))
    for otype in plans:
        of_type = Obligation.type_id == otype.id
        if not otype.active:
            in_chunk = (Obligation.client_id.in_(chunk_clients)
                        if lo is not None or hi is not None else true())
            result.retired += conn.execute(
                update(Obligation).where(of_type, in_chunk, Obligation.active.is_(True))
                .values(active=False)).rowcount
            continue
        cond = and_(applies_condition(otype.applies_to), in_range(Client.id))
        assignee = getattr(Client, ASSIGNEE_COLUMN.get(otype.applies_to, "bookkeeper_id"))
        source = select(Client.id, literal(otype.id, Integer), literal(otype.first_due, Date),
                        assignee).where(cond)
        result.created += conn.execute(_insert_missing(conn, source)).rowcount
        applicable = select(Client.id).where(cond)
        result.reactivated += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(False),
                                     Obligation.client_id.in_(applicable))
            .values(active=True)).rowcount
        not_applicable = select(Client.id).where(in_range(Client.id),
                                                 Client.id.not_in(applicable))
        result.retired += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(True),
                                     Obligation.client_id.in_(not_applicable))
            .values(active=False)).rowcount
    return result


def _insert_missing(conn, source):
    """INSERT … SELECT of (client, type, due, assignee) rows, skipping the pairs that
    exist: ON CONFLICT DO NOTHING on the (client_id, type_id) unique constraint.

    Not ``WHERE NOT EXISTS``: with statistics taken while the table was empty (a fresh
    install, ANALYZE after ``flask init``) PostgreSQL plans that anti-join as a nested
    loop re-reading the table for every client — 60 s instead of 3 at 100,000 clients
    — and two syncs at once (a type saved on its screen while the daily job runs) made
    the second fail on the unique constraint; here it waits and skips.
    """
    columns = ["client_id", "type_id", "next_due", "assignee_id"]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the two databases this runs on
        has_one = exists().where(Obligation.client_id == source.selected_columns[0],
                                 Obligation.type_id == source.selected_columns[1])
        return insert(Obligation.__table__).from_select(columns, source.where(not_(has_one)))
    return (dialect_insert(Obligation.__table__).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=["client_id", "type_id"]))


def flag_overdue(today: datetime.date, commit: bool = True) -> int:
    """Set ``overdue`` where it no longer matches ``next_due < today`` (set-based,
    with its audit row). ``commit=False`` leaves the commit to the caller (the
    scheduler commits the work with the run's outcome)."""
    conn = db.session.connection()
    flagged = conn.execute(update(Obligation).where(Obligation.active.is_(True),
                                                    Obligation.next_due < today,
                                                    Obligation.overdue.is_(False))
                           .values(overdue=True)).rowcount
    cleared = conn.execute(update(Obligation).where(Obligation.next_due >= today,
                                                    Obligation.overdue.is_(True))
                           .values(overdue=False)).rowcount
    if flagged or cleared:
        audit.record(conn, "update", "obligation", changes={"rows": flagged + cleared})
    if commit:
        db.session.commit()
    return flagged + cleared


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
