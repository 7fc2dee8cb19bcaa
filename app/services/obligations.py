"""报税管理: keeping each client's obligations in step with the types and his tax
kinds, and recording 完成 / 跳过 so that an obligation advances exactly once per
period.

Two kinds of type: recurring work on a croniter rule (抄税清卡, 社保调基数 …: the next
occurrence after the due date) and tax filings per period (增值税, 个税 …: each client
files them monthly, quarterly or yearly — his ``client_tax_kind`` rows, made from the
taxpayer type's defaults — and each period is due by the legal deadline of the 征期
calendar, ``app.services.calendar``).

Sync is set-based SQL (INSERT … SELECT, UPDATE … WHERE): 700,000 obligations are not
loaded into Python. Completion is guarded twice: the record is unique per
(obligation, due date), and the advance is a compare-and-set
(``UPDATE … WHERE id = :id AND deadline = :seen``); if either finds someone else
was first, that row is reported as already handled and nothing is redone.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import (Date, Integer, and_, case, exists, false, func, insert, literal, not_,
                        or_, select, true, update)
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..domain import deadlines, recurrence
from ..extensions import db
from ..models import Client, ClientTaxKind, Obligation, ObligationRecord, ObligationType
from .. import clock
from .calendar import Calendar, annual_of

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
        "ticket_pickup": Client.ticket_pickup != "none",
        "provides_address": Client.provides_address.is_(True),
        "onsite_bookkeeping": Client.onsite_bookkeeping.is_(True),
    }.get(applies_to, false())
    return active if extra is None else and_(active, extra)


@dataclass
class SyncResult:
    created: int = 0
    reactivated: int = 0
    retired: int = 0
    #: rows given another 上门取票 cycle (often rows this same sync created: not
    #: counted again in ``rows``)
    adjusted: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.reactivated + self.retired

    def add(self, other: "SyncResult") -> None:
        self.created += other.created
        self.reactivated += other.reactivated
        self.retired += other.retired
        self.adjusted += other.adjusted


@dataclass(frozen=True)
class TypePlan:
    """What a sync needs of one obligation type, computed once per sync: for
    recurring work its first due date and period from today; for a filing the first
    open (period, deadline) of each cycle and the taxpayer types' default cycles."""

    id: int
    active: bool
    category: str
    applies_to: str
    first_due: datetime.date | None = None
    first_period: str | None = None
    defaults: tuple = ()            # (cycle for 小规模, cycle for 一般纳税人)
    openings: tuple = ()            # ((cycle, period, deadline), …)
    pickup: tuple = ()              # ((client cycle, rule or None, due, period), …)


#: 上门取票 every quarter, for clients who asked for it quarterly
QUARTERLY_PICKUP = recurrence.TICKET_PICKUP_QUARTERLY


def plans_for(today: datetime.date, tz: str) -> list[TypePlan]:
    """Plain values for every type (the ORM rows would be expired after each
    chunk's commit)."""
    cal = Calendar.load()
    plans = []
    for t in db.session.execute(select(ObligationType).order_by(ObligationType.id)).scalars():
        if not t.active:
            plans.append(TypePlan(t.id, False, t.category, t.applies_to))
        elif t.category == "filing":
            annual = annual_of(t)
            plans.append(TypePlan(
                t.id, True, "filing", t.applies_to,
                defaults=(t.cycle_small or "none", t.cycle_general or "none"),
                openings=tuple((cycle, *cal.first_open(cycle, today, annual))
                               for cycle in ("month", "quarter", "year"))))
        else:
            first = recurrence.first_due_on_or_after(t.rule, today, tz)
            pickup = ()
            if t.applies_to == "ticket_pickup":
                quarterly = recurrence.first_due_on_or_after(QUARTERLY_PICKUP, today, tz)
                pickup = (("quarter", QUARTERLY_PICKUP, quarterly,
                           recurrence.period_of(QUARTERLY_PICKUP, quarterly, tz)),
                          ("month", None, first, recurrence.period_of(t.rule, first, tz)))
            plans.append(TypePlan(t.id, True, "task", t.applies_to, first,
                                  recurrence.period_of(t.rule, first, tz), pickup=pickup))
    return plans


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
    plans = plans_for(today, tz)
    result = SyncResult()
    lo = after
    while True:
        hi = _chunk_end(lo, chunk_size) if chunk_size else None
        if chunk_size and hi is None:
            break  # no client after the cursor: done
        part = _sync_clients(plans, lo, hi)
        if part.rows or part.adjusted:
            audit.record(db.session.connection(), "sync", "obligation", changes={
                "created": part.created, "reactivated": part.reactivated,
                "retired": part.retired, "adjusted": part.adjusted})
        result.add(part)
        checkpoint(None if hi is None else str(hi), part.rows)
        if part.created >= ANALYZE_AFTER:
            _refresh_planner_statistics()
        if not chunk_size:
            break
        lo = hi
    return result


#: a chunk that created this many obligations refreshes PostgreSQL's statistics
ANALYZE_AFTER = 5000


def _refresh_planner_statistics() -> None:
    """ANALYZE the tables a sync just filled (PostgreSQL). With statistics from
    before a large first sync (obligation nearly empty), the planner estimates a few
    hundred rows per type and plans the next chunks' retire statements as nested
    loops over 100,000 rows: 90 s per statement at 100,000 clients instead of
    milliseconds. Autovacuum would catch up, but minutes later. Its own autocommit
    connection: ANALYZE takes a lock that does not wait for the sync's writes."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE obligation, client_tax_kind"))


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
    # then walks the type's whole (type_id, deadline) index in every chunk.
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
        if otype.category == "filing":
            _sync_filing(conn, otype, in_range, result)
            continue
        cond = and_(applies_condition(otype.applies_to), in_range(Client.id))
        assignee = getattr(Client, ASSIGNEE_COLUMN.get(otype.applies_to, "bookkeeper_id"))
        source = select(Client.id, literal(otype.id, Integer), literal(otype.first_due, Date),
                        literal(otype.first_period), assignee).where(cond)
        result.created += conn.execute(_insert_missing(conn, source)).rowcount
        applicable = select(Client.id).where(cond)
        result.reactivated += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(False),
                                     Obligation.client_id.in_(applicable))
            .values(active=True)).rowcount
        # "not true" rather than NOT IN (applicable): PostgreSQL may run a NOT IN
        # subquery once per obligation row (minutes at 100,000 clients)
        not_applicable = select(Client.id).where(
            in_range(Client.id), applies_condition(otype.applies_to).is_not(true()))
        result.retired += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(True),
                                     Obligation.client_id.in_(not_applicable))
            .values(active=False)).rowcount
        for cycle, rule, due, period in otype.pickup:
            # 上门取票 monthly or quarterly, as the client asked (the type's rule is
            # the monthly one; an override of another rule an Admin set stays)
            asked = select(Client.id).where(in_range(Client.id), Client.ticket_pickup == cycle)
            if rule:  # quarterly: the quarterly rule, unless it has it
                differs = or_(Obligation.rule_override.is_(None),
                              Obligation.rule_override != rule)
            else:  # monthly again: the quarterly rule is taken back
                differs = Obligation.rule_override == QUARTERLY_PICKUP
            result.adjusted += conn.execute(
                update(Obligation).where(of_type, Obligation.client_id.in_(asked), differs)
                .values(rule_override=rule, deadline=due, period=period)).rowcount
    return result


def _sync_filing(conn, otype: TypePlan, in_range, result: SyncResult) -> None:
    """A tax kind: give each client of the chunk his default cycle once
    (``client_tax_kind``), then keep one obligation per client who files it, at the
    cycle he files it, retired when he no longer does (or is no longer active)."""
    small, general = otype.defaults
    defaults = select(Client.id, literal(otype.id, Integer),
                      case((Client.taxpayer_type == "general", literal(general)),
                           else_=literal(small))).where(in_range(Client.id))
    conn.execute(_insert_ignore(conn, ClientTaxKind.__table__,
                                ["client_id", "type_id", "cycle"], defaults,
                                ["client_id", "type_id"]))
    of_type = Obligation.type_id == otype.id
    for cycle, period, due in otype.openings:
        filers = (select(Client.id).join(ClientTaxKind, ClientTaxKind.client_id == Client.id)
                  .where(in_range(Client.id), Client.status == "active",
                         ClientTaxKind.type_id == otype.id, ClientTaxKind.cycle == cycle))
        source = (select(Client.id, literal(otype.id, Integer), literal(due, Date),
                         literal(period), Client.bookkeeper_id, literal(cycle))
                  .join(ClientTaxKind, ClientTaxKind.client_id == Client.id)
                  .where(in_range(Client.id), Client.status == "active",
                         ClientTaxKind.type_id == otype.id, ClientTaxKind.cycle == cycle))
        result.created += conn.execute(_insert_missing(conn, source, with_cycle=True)).rowcount
        # a changed cycle (小规模 → 一般纳税人: 增值税 quarterly → monthly) starts at the
        # new cycle's first open period
        result.reactivated += conn.execute(
            update(Obligation).where(of_type, Obligation.client_id.in_(filers),
                                     or_(Obligation.cycle.is_(None), Obligation.cycle != cycle))
            .values(cycle=cycle, period=period, deadline=due, active=True)).rowcount
        # back after a pause: not before the first open period
        result.reactivated += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(False),
                                     Obligation.client_id.in_(filers),
                                     or_(Obligation.period.is_(None), Obligation.period < period))
            .values(active=True, period=period, deadline=due)).rowcount
        result.reactivated += conn.execute(
            update(Obligation).where(of_type, Obligation.active.is_(False),
                                     Obligation.client_id.in_(filers))
            .values(active=True)).rowcount
    # retired: his obligation of the kind when he no longer files it at any of its
    # cycles (or is not active). NOT EXISTS, an anti-join on the (client_id, type_id)
    # key: three NOT IN (filers) subqueries were planned by PostgreSQL, with
    # parameters, as subplans run once per obligation row (90 s per statement).
    chunk = select(Client.id).where(in_range(Client.id))
    files_it = (select(ClientTaxKind.client_id)
                .join(Client, Client.id == ClientTaxKind.client_id)
                .where(ClientTaxKind.client_id == Obligation.client_id,
                       ClientTaxKind.type_id == otype.id,
                       ClientTaxKind.cycle.in_([cycle for cycle, _, _ in otype.openings]),
                       Client.status == "active"))
    result.retired += conn.execute(
        update(Obligation).where(of_type, Obligation.active.is_(True),
                                 Obligation.client_id.in_(chunk), ~files_it.exists())
        .values(active=False)).rowcount


def sync_client(client_id: int, today: datetime.date, tz: str, commit: bool = True) -> SyncResult:
    """The sync for one client, right after his form or API call changed what he
    files (his tax kinds, taxpayer type, 上门取票, status)."""
    result = sync_range(client_id - 1, client_id, today, tz)
    if commit:
        db.session.commit()
    return result


def sync_range(after: int, last: int, today: datetime.date, tz: str) -> SyncResult:
    """The sync for the clients with ``after < id <= last`` (an import's new ones),
    in the caller's transaction, audited."""
    db.session.flush()
    result = _sync_clients(plans_for(today, tz), after, last)
    if result.rows or result.adjusted:
        audit.record(db.session.connection(), "sync", "obligation", changes={
            "clients": [after + 1, last], "created": result.created,
            "reactivated": result.reactivated, "retired": result.retired,
            "adjusted": result.adjusted})
    return result


def _insert_missing(conn, source, with_cycle: bool = False):
    """INSERT … SELECT of (client, type, due, assignee) rows, skipping the pairs that
    exist: ON CONFLICT DO NOTHING on the (client_id, type_id) unique constraint.

    Not ``WHERE NOT EXISTS``: with statistics taken while the table was empty (a fresh
    install, ANALYZE after ``flask init``) PostgreSQL plans that anti-join as a nested
    loop re-reading the table for every client — 60 s instead of 3 at 100,000 clients
    — and two syncs at once (a type saved on its screen while the daily job runs) made
    the second fail on the unique constraint; here it waits and skips.
    """
    columns = ["client_id", "type_id", "deadline", "period", "assignee_id"]
    if with_cycle:
        columns.append("cycle")
    return _insert_ignore(conn, Obligation.__table__, columns, source,
                          ["client_id", "type_id"])


def _insert_ignore(conn, table, columns, source, unique):
    """INSERT … SELECT that skips rows whose ``unique`` columns exist already."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:  # pragma: no cover - the two databases this runs on
        has_one = exists().where(*[table.c[u] == source.selected_columns[i]
                                   for i, u in enumerate(unique)])
        return insert(table).from_select(columns, source.where(not_(has_one)))
    return (dialect_insert(table).from_select(columns, source)
            .on_conflict_do_nothing(index_elements=unique))


def flag_overdue(today: datetime.date, commit: bool = True) -> int:
    """Set ``overdue`` where it no longer matches ``deadline < today`` (set-based,
    with its audit row). ``commit=False`` leaves the commit to the caller (the
    scheduler commits the work with the run's outcome)."""
    conn = db.session.connection()
    flagged = conn.execute(update(Obligation).where(Obligation.active.is_(True),
                                                    Obligation.deadline < today,
                                                    Obligation.overdue.is_(False))
                           .values(overdue=True)).rowcount
    cleared = conn.execute(update(Obligation).where(Obligation.deadline >= today,
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


def advance_of(ob: Obligation, tz: str, cal: Calendar) -> tuple[str, datetime.date, str]:
    """(the period being done, the next deadline, the next period) of an
    obligation: a filing moves to its next period and that period's legal deadline;
    recurring work to its rule's next occurrence after the due date."""
    if ob.type.category == "filing":
        new_period = deadlines.next_period(ob.period)
        return ob.period, cal.deadline(new_period, annual_of(ob.type)), new_period
    rule = rule_of(ob)
    new_due = recurrence.advance(rule, ob.deadline, tz)
    return (recurrence.period_of(rule, ob.deadline, tz), new_due,
            recurrence.period_of(rule, new_due, tz))


def record(obligations, kind: str, by_id: int | None, tz: str, note: str | None = None,
           at: datetime.datetime | None = None, seen: dict | None = None,
           zero_filing: bool = False, tax_amount=None) -> RecordResult:
    """完成 (``kind="complete"``) or 跳过 (``"skip"``) the given, already scoped,
    obligations for their open period, advancing each to the next one. A 完成 of a
    filing may say 零申报 and carry the tax amount. Each row is its own savepoint;
    one commit for all.

    A row someone else recorded first (double click, two clerks, a stale page) is
    counted in ``stale`` and left as that person left it. ``seen`` maps obligation
    id → the deadline the user was looking at, and is required: a row without one,
    or whose deadline moved on since (the first click of a double click already
    completed it), is stale too — never completed for a period nobody looked at.
    """
    if kind not in ("complete", "skip"):
        raise ObligationError("kind")
    result = RecordResult()
    conn = db.session.connection()
    cal = Calendar.load()
    seen_dates = seen or {}
    for ob in obligations:
        seen = seen_dates.get(ob.id)
        if seen is None or seen != ob.deadline or (ob.type.category == "filing"
                                                   and not ob.period):
            result.stale += 1
            continue
        period, new_due, new_period = advance_of(ob, tz, cal)
        done_on = (at or clock.local_now()).date()
        savepoint = db.session.begin_nested()
        try:
            rec = ObligationRecord(obligation_id=ob.id, client_id=ob.client_id,
                                   type_id=ob.type_id, due_date=seen, period=period,
                                   kind=kind, by_id=by_id, note=note,
                                   zero_filing=bool(zero_filing) and kind == "complete",
                                   tax_amount=tax_amount if kind == "complete" else None,
                                   at=at or clock.local_now())
            db.session.add(rec)
            db.session.flush()
            moved = conn.execute(
                update(Obligation)
                .where(Obligation.id == ob.id, Obligation.deadline == seen,
                       Obligation.period == ob.period if ob.period else true())
                .values(deadline=new_due, period=new_period, last_period=period,
                        overdue=False,
                        last_done_on=done_on if kind == "complete"
                        else Obligation.last_done_on)).rowcount
            if moved != 1:
                raise IntegrityError("stale", None, Exception("deadline moved"))
            audit.record(conn, "update", "obligation", ob.id,
                         changes={"deadline": [seen.isoformat(), new_due.isoformat()],
                                  "period": [period, new_period]})
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
    keeps it) and put the period and deadline back — compare-and-set, so an
    obligation that moved on since (someone completed the next period) is left alone.

    :raises ObligationError: ``no_record`` or ``moved``.
    """
    last = db.session.execute(
        select(ObligationRecord).where(ObligationRecord.obligation_id == obligation.id)
        .order_by(ObligationRecord.due_date.desc(), ObligationRecord.id.desc())
        .limit(1)).scalar()
    if last is None:
        raise ObligationError("no_record")
    previous = db.session.execute(
        select(ObligationRecord).where(ObligationRecord.obligation_id == obligation.id,
                                       ObligationRecord.id != last.id,
                                       ObligationRecord.kind == "complete")
        .order_by(ObligationRecord.due_date.desc()).limit(1)).scalar()
    if obligation.type.category == "filing":
        guard = Obligation.period == deadlines.next_period(last.period)
        expected = obligation.deadline
    else:
        expected = recurrence.advance(rule_of(obligation), last.due_date, tz)
        guard = Obligation.deadline == expected
    conn = db.session.connection()
    moved = conn.execute(
        update(Obligation).where(Obligation.id == obligation.id, guard)
        .values(deadline=last.due_date, period=last.period,
                last_period=previous.period if previous else None,
                last_done_on=previous.at.date() if previous else None)).rowcount
    if moved != 1:
        db.session.rollback()
        raise ObligationError("moved")
    audit.record(conn, "update", "obligation", obligation.id,
                 changes={"deadline": [expected.isoformat(), last.due_date.isoformat()],
                          "period": [obligation.period, last.period]})
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
    overdue = db.session.execute(q.where(Obligation.deadline < today)).scalar()
    due_today = db.session.execute(q.where(Obligation.deadline == today)).scalar()
    return {"overdue": overdue, "due_today": due_today}


def fill_periods(commit: bool = True) -> int:
    """Give recurring-work obligations from before periods were kept theirs (the
    period of their due date under their rule): one UPDATE per (type, rule, date)."""
    tz = clock.tz_name()
    rows = db.session.execute(
        select(Obligation.type_id, Obligation.rule_override, ObligationType.rule,
               Obligation.deadline)
        .join(ObligationType, ObligationType.id == Obligation.type_id)
        .where(Obligation.period.is_(None), ObligationType.category == "task")
        .group_by(Obligation.type_id, Obligation.rule_override, ObligationType.rule,
                  Obligation.deadline)).all()
    conn = db.session.connection()
    filled = 0
    for type_id, override, rule, due in rows:
        period = recurrence.period_of(override or rule, due, tz)
        same_rule = (Obligation.rule_override == override if override
                     else Obligation.rule_override.is_(None))
        filled += conn.execute(update(Obligation).where(
            Obligation.type_id == type_id, same_rule, Obligation.deadline == due,
            Obligation.period.is_(None)).values(period=period)).rowcount
    if commit:
        db.session.commit()
    return filled
