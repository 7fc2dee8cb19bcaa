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

from sqlalchemy import (Date, Integer, and_, case, delete, exists, false, func, insert, literal,
                        not_, or_, select, true, update)

from .. import audit
from . import notices
from ..data.sql import insert_unnest, value_by_id
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
        made = conn.execute(_insert_missing(conn, source)).rowcount
        result.created += made
        _restat(conn, made, "obligation")
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


#: rows one statement of the sync inserts before PostgreSQL's statistics are refreshed
RESTAT_ROWS = 5000


def _restat(conn, inserted: int, table: str) -> None:
    """PostgreSQL: ANALYZE ``table`` after a bulk insert of the sync (a sync from empty,
    a large import). Its next statements (the NOT EXISTS retirement, the updates by
    client) are planned from the statistics; on tables never analysed, or analysed
    when they were small, the planner chose plans that made a 100,000-client sync
    from empty take tens of minutes (20,000 clients: 60 s, 13 s with statistics).
    ANALYZE inside the transaction counts its own uncommitted rows; it samples at
    most 30,000 rows (~0.1 s). Ordinary syncs insert little and never get here."""
    if inserted >= RESTAT_ROWS and conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table}")


def _sync_filing(conn, otype: TypePlan, in_range, result: SyncResult) -> None:
    """A tax kind: give each client of the chunk his default cycle once
    (``client_tax_kind``), then keep one obligation per client who files it, at the
    cycle he files it, retired when he no longer does (or is no longer active)."""
    small, general = otype.defaults
    defaults = select(Client.id, literal(otype.id, Integer),
                      case((Client.taxpayer_type == "general", literal(general)),
                           else_=literal(small))).where(in_range(Client.id))
    kinds = conn.execute(_insert_ignore(conn, ClientTaxKind.__table__,
                                        ["client_id", "type_id", "cycle"], defaults,
                                        ["client_id", "type_id"])).rowcount
    _restat(conn, kinds, "client_tax_kind")
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
        made = conn.execute(_insert_missing(conn, source, with_cycle=True)).rowcount
        result.created += made
        _restat(conn, made, "obligation")
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


#: obligations per statement of a set-based 完成 / 跳过 (its CASE expressions and bind
#: parameters stay well below SQLite's limit of 32,766)
RECORD_BATCH = 500


def record(obligations, kind: str, by_id: int | None, tz: str, note: str | None = None,
           at: datetime.datetime | None = None, seen: dict | None = None,
           zero_filing: bool = False, tax_amount=None) -> RecordResult:
    """完成 (``kind="complete"``) or 跳过 (``"skip"``) the given, already scoped,
    obligations for their open period, advancing each to the next one. A 完成 of a
    filing may say 零申报 and carry the tax amount. One commit for all.

    A row someone else recorded first (double click, two clerks, a stale page) is
    counted in ``stale`` and left as that person left it. ``seen`` maps obligation
    id → the deadline the user was looking at, and is required: a row without one,
    or whose deadline moved on since (the first click of a double click already
    completed it), is stale too — never completed for a period nobody looked at.

    Set-based, a handful of statements whatever the number of rows (500 rows were
    ~3,000 statements one by one): the records go in with one ``INSERT … ON
    CONFLICT (obligation_id, due_date) DO NOTHING RETURNING`` — the unique key makes
    a second click or a second clerk insert nothing, and on PostgreSQL the second
    waits for the first to commit —; the obligations whose record went in advance in
    one compare-and-set ``UPDATE … SET deadline = CASE id …  WHERE id IN (…) AND
    deadline = CASE id … (the seen date) RETURNING id``; a record whose obligation
    did not move (its deadline changed since it was read) is deleted again; the
    audit rows (the record's insert, the obligation's old → new deadline and
    period) go in one statement each.
    """
    if kind not in ("complete", "skip"):
        raise ObligationError("kind")
    result = RecordResult()
    cal = Calendar.load()
    seen_dates = seen or {}
    stamp = at or clock.local_now()
    plan, planned, advances = [], set(), {}
    for ob in sorted(obligations, key=lambda o: o.id):  # one lock order for everyone
        seen_due = seen_dates.get(ob.id)
        if (ob.id in planned or seen_due is None or seen_due != ob.deadline
                or (ob.type.category == "filing" and not ob.period)):
            result.stale += 1
            continue
        planned.add(ob.id)
        # rows of one type, rule and period advance alike: croniter runs once for them
        key = (ob.type_id, ob.rule_override, ob.deadline, ob.period)
        if key not in advances:
            advances[key] = advance_of(ob, tz, cal)
        plan.append((ob, seen_due, *advances[key]))
    conn = db.session.connection()
    told = []
    for start in range(0, len(plan), RECORD_BATCH):
        part = plan[start:start + RECORD_BATCH]
        done = _record_batch(conn, part, kind, by_id, note, stamp,
                             bool(zero_filing) and kind == "complete",
                             tax_amount if kind == "complete" else None)
        result.done += len(done)
        result.stale += len(part) - len(done)
        result.records.extend(record_id for record_id, _, _ in done)
        if kind == "complete":  # his filings done: the client's portal users are told
            told += notices.for_clients(conn, "filing_done", [
                (ob.client_id, {"kind": ob.type.name, "period": period})
                for _, ob, period in done if ob.type.category == "filing"])
    db.session.commit()
    notices.email_told(told)
    # the objects the caller holds should show the new state
    for ob in obligations:
        db.session.expire(ob)
    return result


def _record_batch(conn, part, kind, by_id, note, stamp, zero_filing, tax_amount) -> list:
    """One batch of :func:`record`: ``part`` = [(obligation, seen due date, period
    done, next deadline, next period)]. :return: [(record id, obligation, period)]
    of the records kept."""
    table = ObligationRecord.__table__
    rows = {ob.id: {"obligation_id": ob.id, "client_id": ob.client_id, "type_id": ob.type_id,
                    "due_date": seen_due, "period": period, "kind": kind,
                    "zero_filing": zero_filing, "tax_amount": tax_amount, "by_id": by_id,
                    "at": stamp, "note": note}
            for ob, seen_due, period, _, _ in part}
    if conn.dialect.name == "postgresql":
        # one INSERT … SELECT FROM unnest(arrays): five array parameters, not 5,500
        varying = ("obligation_id", "client_id", "type_id", "due_date", "period")
        first = next(iter(rows.values()))
        insert_ignore = insert_unnest(
            table, constants={k: v for k, v in first.items() if k not in varying},
            arrays={k: [row[k] for row in rows.values()] for k in varying},
        ).on_conflict_do_nothing(index_elements=["obligation_id", "due_date"])
        inserted = dict(conn.execute(
            insert_ignore.returning(table.c.obligation_id, table.c.id)).all())
    else:
        insert_ignore = _dialect_insert(conn)(table).on_conflict_do_nothing(
            index_elements=["obligation_id", "due_date"])
        # executemany: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues", one
        # per 1,000 rows here) compiled once, instead of compiling 500 rows of VALUES
        inserted = dict(conn.execute(insert_ignore.returning(table.c.obligation_id,
                                                             table.c.id),
                                     list(rows.values())).all())
    todo = [p for p in part if p[0].id in inserted]
    if not todo:
        return []

    def per_row(index):
        return value_by_id(Obligation.id, {p[0].id: p[index] for p in todo
                                           if p[index] is not None})

    # a row read with a period is moved only from that period (as it was read)
    periods = {ob.id: ob.period for ob, *_ in todo if ob.period}
    period_guard = true()
    if periods:
        expected = value_by_id(Obligation.id, periods)
        period_guard = or_(expected.is_(None), Obligation.period == expected)
    values = {"deadline": per_row(3), "period": per_row(4), "last_period": per_row(2),
              "overdue": False}
    if kind == "complete":
        values["last_done_on"] = stamp.date()
    moved = set(conn.execute(
        update(Obligation)
        .where(Obligation.id.in_([p[0].id for p in todo]), Obligation.deadline == per_row(1),
               period_guard)
        .values(**values).returning(Obligation.id)).scalars())
    lost = [inserted[p[0].id] for p in todo if p[0].id not in moved]
    if lost:  # its deadline moved since it was read: someone else handled it
        conn.execute(delete(table).where(table.c.id.in_(lost)))
    kept = [p for p in todo if p[0].id in moved]
    audit.record_many(conn, "insert", table.name, [
        (inserted[ob.id], {key: [None, audit.plain(value)]
                           for key, value in {"id": inserted[ob.id], **rows[ob.id]}.items()
                           if value is not None})
        for ob, *_ in kept])
    audit.record_many(conn, "update", "obligation", [
        (ob.id, {"deadline": [seen_due.isoformat(), new_due.isoformat()],
                 "period": [period, new_period]})
        for ob, seen_due, period, new_due, new_period in kept])
    return [(inserted[ob.id], ob, period) for ob, _, period, _, _ in kept]


def _dialect_insert(conn):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


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
