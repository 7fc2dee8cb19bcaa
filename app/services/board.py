"""申报进度 (the filing board): for a month, the clients in the user's scope as rows,
the tax kinds as columns, each cell a filing's state — 待申报 / 已申报 / 零申报 /
已跳过 / 无需申报 / 逾期 — with the counts per kind and per accountant.

A client files a kind monthly, quarterly or yearly (his ``client_tax_kind``); for the
board's month ``2026-11`` his cell is the period that month closes: ``2026-11`` for a
monthly kind, ``2026-Q4`` in December for a quarterly one, ``2026`` in December for a
yearly one; in other months a quarterly or yearly kind has nothing to file (无需申报).

An obligation holds the period still open; the periods before it are done (完成 or
跳过 — the records say which) and the ones after it not yet. The page reads three
things: one page of clients, their obligations of the kinds shown, the records of
those obligations for the cells' periods; the counts are one grouped query over the
scope (``period > :cell`` is done).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import selectinload

from ..domain import deadlines as dl
from ..domain.choices import N_
from ..extensions import db
from ..models import Client, Obligation, ObligationRecord, ObligationType, Staff

PENDING, FILED, ZERO, SKIPPED, NOT_DUE, OVERDUE = (
    "pending", "filed", "zero", "skipped", "not_due", "overdue")
STATES = {PENDING: N_("To file"), FILED: N_("Filed"), ZERO: N_("Zero filing"),
          SKIPPED: N_("Skipped"), NOT_DUE: N_("Not due"), OVERDUE: N_("Overdue")}
PAGE_SIZE = 50


def cell_period(month: str, cycle: str | None) -> str | None:
    """The period a client's kind files for board month ``month`` (``2026-11``);
    None when that cycle has nothing closing that month."""
    _, year, m = dl.parse_period(month)
    if cycle == "month":
        return month
    if cycle == "quarter" and m % 3 == 0:
        return f"{year}-Q{m // 3}"
    if cycle == "year" and m == 12:
        return str(year)
    return None


def cell_state(cell: str | None, ob, record, today: datetime.date) -> str:
    """A cell's state from the obligation (its open period and deadline) and the
    record of the cell's period, if any."""
    if cell is None or ob is None or not ob.active:
        return NOT_DUE
    if record is not None:
        if record.kind == "skip":
            return SKIPPED
        return ZERO if record.zero_filing else FILED
    if ob.period is None or ob.period > cell:
        return NOT_DUE  # started after that period
    if ob.period == cell and ob.deadline < today:
        return OVERDUE
    return PENDING


@dataclass
class Cell:
    state: str
    obligation: object = None
    period: str | None = None

    @property
    def actionable(self) -> bool:
        """完成 here completes this very period (it is the one open)."""
        return (self.obligation is not None and self.state in (PENDING, OVERDUE)
                and self.obligation.period == self.period)


@dataclass
class Board:
    month: str
    kinds: list
    rows: list                      # [(client, [Cell per kind])]
    total: int                      # clients in the filter
    columns: dict = field(default_factory=dict)      # kind id -> (done, total)
    accountants: list = field(default_factory=list)  # [(name, done, total)]


def clients_query(condition, accountant_id=None, group_id=None, state=None,
                  month=None, kinds=(), today=None):
    """The clients of the board: active, in the scope, filtered by accountant, client
    group and (``overdue`` / ``pending`` / ``done``) their cells' states."""
    query = select(Client).where(Client.status == "active")
    if condition is not None:
        query = query.where(condition)
    if accountant_id:
        query = query.where(Client.bookkeeper_id == accountant_id)
    if group_id:
        query = query.where(Client.client_group_id == group_id)
    if state in ("overdue", "pending", "done") and month:
        open_cell = _open_cell_condition(month, [k.id for k in kinds])
        if state == "overdue":
            open_cell = and_(open_cell, Obligation.deadline < today)
        if state == "pending":
            # most clients have a cell to file: probing them in name order finds a
            # page at once
            query = query.where(select(Obligation.id).where(
                Obligation.client_id == Client.id, open_cell).exists())
        else:
            # overdue ones are few (the set is read through the (type, deadline)
            # index); done is the complement of the open ones
            holders = select(Obligation.client_id).where(open_cell)
            query = query.where(Client.id.not_in(holders) if state == "done"
                                else Client.id.in_(holders))
    return query


def _open_cell_condition(month: str, kind_ids):
    """An obligation whose cell for ``month`` is still to file."""
    parts = []
    for cycle in ("month", "quarter", "year"):
        period = cell_period(month, cycle)
        if period:
            parts.append(and_(Obligation.cycle == cycle, Obligation.period <= period))
    return and_(Obligation.active.is_(True), Obligation.type_id.in_(kind_ids),
                or_(*parts) if parts else literal(False))


#: the counts of a board (clients in the filter, done / total per kind and per
#: accountant) are aggregates over every client of the scope — seconds at 100,000
#: clients — so they are kept per (who, filter, month) for COUNTS_TTL seconds and
#: recomputed at once when a 完成 / 跳过 was recorded since (a new record id).
COUNTS_TTL = 120
_counts_cache: dict = {}


def _cached_counts(cache_key, compute):
    import time

    if cache_key is None:
        return compute()
    newest = db.session.execute(select(func.max(ObligationRecord.id))).scalar()
    key = (cache_key, newest)
    now = time.monotonic()
    hit = _counts_cache.get(key)
    if hit is not None and now - hit[0] < COUNTS_TTL:
        return hit[1]
    value = compute()
    if len(_counts_cache) > 500:
        _counts_cache.clear()
    _counts_cache[key] = (now, value)
    return value


def build(month: str, today: datetime.date, condition=None, accountant_id=None,
          group_id=None, state=None, page: int = 0, page_size: int = PAGE_SIZE,
          cache_key=None) -> Board:
    """One page of the board for ``month`` (a ``YYYY-MM`` period). ``cache_key``
    (who is asking, as the scope sees him) lets the counts come from the cache."""
    kinds = db.session.execute(
        select(ObligationType).where(ObligationType.category == "filing",
                                     ObligationType.active.is_(True))
        .order_by(ObligationType.sort_order, ObligationType.id)).scalars().all()
    base = clients_query(condition, accountant_id, group_id, state, month, kinds, today)
    kind_ids = [k.id for k in kinds]

    def counts():
        total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar()
        tally = Board(month, kinds, [], total)
        _counts(tally, base, kind_ids, month)
        return total, tally.columns, tally.accountants

    key = None if cache_key is None else (cache_key, month, today, accountant_id, group_id,
                                          state, tuple(kind_ids))
    total, columns, accountants = _cached_counts(key, counts)
    clients = db.session.execute(base.order_by(Client.name, Client.id)
                                 .options(selectinload(Client.bookkeeper))
                                 .offset(page * page_size).limit(page_size)).scalars().all()
    ids = [c.id for c in clients]
    obligations = {}
    if ids and kind_ids:
        for ob in db.session.execute(select(Obligation).where(
                Obligation.client_id.in_(ids), Obligation.type_id.in_(kind_ids))).scalars():
            obligations[(ob.client_id, ob.type_id)] = ob
    periods = {cell_period(month, c) for c in ("month", "quarter", "year")} - {None}
    records = {}
    if obligations and periods:
        for rec in db.session.execute(select(ObligationRecord).where(
                ObligationRecord.obligation_id.in_([o.id for o in obligations.values()]),
                ObligationRecord.period.in_(periods))).scalars():
            records[(rec.obligation_id, rec.period)] = rec
    rows = []
    for client in clients:
        cells = []
        for kind in kinds:
            ob = obligations.get((client.id, kind.id))
            cell = cell_period(month, ob.cycle) if ob is not None else None
            rec = records.get((ob.id, cell)) if ob is not None and cell else None
            cells.append(Cell(cell_state(cell, ob, rec, today), ob, cell))
        rows.append((client, cells))
    return Board(month, kinds, rows, total, columns, accountants)


def _counts(board: Board, clients, kind_ids, month: str) -> None:
    """Done / total per kind and per accountant over every client of the filter, in
    one grouped query (a cell is done when the obligation's open period is past it)."""
    if not kind_ids:
        return
    cells = []
    for cycle in ("month", "quarter", "year"):
        period = cell_period(month, cycle)
        if period:
            cells.append((cycle, period))
    if not cells:
        return
    applies = or_(*[Obligation.cycle == cycle for cycle, _ in cells])
    done = case(*[(and_(Obligation.cycle == cycle, Obligation.period > period), 1)
                  for cycle, period in cells], else_=0)
    in_filter = clients.with_only_columns(Client.id).subquery()
    rows = db.session.execute(
        select(Client.bookkeeper_id, Obligation.type_id, func.count(), func.sum(done))
        .join(Client, Client.id == Obligation.client_id)
        .where(Obligation.active.is_(True), Obligation.type_id.in_(kind_ids), applies,
               Obligation.client_id.in_(select(in_filter.c.id)))
        .group_by(Client.bookkeeper_id, Obligation.type_id)).all()
    per_kind: dict = {}
    per_person: dict = {}
    for person, type_id, total, finished in rows:
        finished = int(finished or 0)
        k = per_kind.setdefault(type_id, [0, 0])
        k[0] += finished
        k[1] += total
        p = per_person.setdefault(person, [0, 0])
        p[0] += finished
        p[1] += total
    board.columns = {k: tuple(v) for k, v in per_kind.items()}
    names = {s.id: str(s) for s in db.session.execute(
        select(Staff).where(Staff.id.in_([p for p in per_person if p]))).scalars()}
    board.accountants = sorted(((names.get(p, ""), d, t) for p, (d, t) in per_person.items()),
                               key=lambda r: (-(r[2] - r[1]), r[0]))


def percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 100
