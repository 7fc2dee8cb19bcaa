"""经营报表 (seed 001's 决策者 and 会计岗): who serves how many clients, how far each
accountant's filings of a period are, new and lost clients per month, and where the
revenue comes from (by 客户来源, new vs old clients). Grouped queries, one per table;
``condition`` is the caller's scope on the client (None: every client)."""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from ..data.sql import month_of, sum_cents
from ..domain.billing import cents_to_decimal
from ..extensions import db
from ..models import Client, DictItem, JournalEntry, Obligation, ObligationRecord, \
    ObligationType, Staff

LOST = ("stopped", "cancelled")


@dataclass
class StaffLoad:
    name: str
    bookkeeping: int
    field: int


@dataclass
class Completion:
    name: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _scoped(query, condition):
    return query.where(condition) if condition is not None else query


def _staff_names() -> dict:
    rows = db.session.execute(select(Staff.id, Staff.last_name, Staff.first_name,
                                     Staff.username)).all()
    return {i: (f"{last or ''}{first or ''}".strip() or user) for i, last, first, user in rows}


def staff_load(condition=None) -> list[StaffLoad]:
    """Active clients per 记账会计 and per 外勤会计 (most loaded first)."""
    names = _staff_names()
    load: dict = {}
    for column, attr in ((Client.bookkeeper_id, "bookkeeping"), (Client.field_agent_id, "field")):
        rows = db.session.execute(_scoped(
            select(column, func.count()).where(Client.status == "active", column.is_not(None))
            .group_by(column), condition)).all()
        for staff_id, n in rows:
            entry = load.setdefault(staff_id, StaffLoad(names.get(staff_id, "?"), 0, 0))
            setattr(entry, attr, n)
    return sorted(load.values(), key=lambda s: (-(s.bookkeeping + s.field), s.name))


def completion(period: str, condition=None) -> list[Completion]:
    """申报完成率 of ``period`` per assignee: the filings of that period done (a 完成
    record) against all of them (done, skipped, or still open at that period)."""
    names = _staff_names()
    filing = select(ObligationType.id).where(ObligationType.category == "filing")
    recorded = db.session.execute(_scoped(
        select(Obligation.assignee_id,
               func.sum(case((ObligationRecord.kind == "complete", 1), else_=0)), func.count())
        .join(Obligation, Obligation.id == ObligationRecord.obligation_id)
        .join(Client, Client.id == ObligationRecord.client_id)
        .where(ObligationRecord.period == period, ObligationRecord.type_id.in_(filing))
        .group_by(Obligation.assignee_id), condition)).all()
    still_open = db.session.execute(_scoped(
        select(Obligation.assignee_id, func.count())
        .join(Client, Client.id == Obligation.client_id)
        .where(Obligation.period == period, Obligation.active.is_(True),
               Obligation.type_id.in_(filing))
        .group_by(Obligation.assignee_id), condition)).all()
    rows: dict = {}
    for staff_id, done, n in recorded:
        row = rows.setdefault(staff_id, Completion(names.get(staff_id, "—"), 0, 0))
        row.done += int(done or 0)
        row.total += n
    for staff_id, n in still_open:
        row = rows.setdefault(staff_id, Completion(names.get(staff_id, "—"), 0, 0))
        row.total += n
    return sorted(rows.values(), key=lambda r: (r.percent, r.name))


def churn(year: int, condition=None) -> tuple[list[int], list[int]]:
    """(new clients, lost clients) per month of ``year``: created that month; stopped
    or deregistered with their last change in that month."""
    start, end = datetime.datetime(year, 1, 1), datetime.datetime(year + 1, 1, 1)
    new, lost = [0] * 12, [0] * 12
    for month, n in db.session.execute(_scoped(
            select(month_of(Client.created_on), func.count())
            .where(Client.created_on >= start, Client.created_on < end)
            .group_by(month_of(Client.created_on)), condition)).all():
        new[int(month) - 1] = n
    for month, n in db.session.execute(_scoped(
            select(month_of(Client.changed_on), func.count())
            .where(Client.status.in_(LOST), Client.changed_on >= start, Client.changed_on < end)
            .group_by(month_of(Client.changed_on)), condition)).all():
        lost[int(month) - 1] = n
    return new, lost


def revenue(year: int, condition=None) -> tuple[list, decimal.Decimal, decimal.Decimal]:
    """Approved income of ``year`` from clients: ([(source, amount)], from clients
    who came this year, from older clients)."""
    first = datetime.date(year, 1, 1)
    source = func.coalesce(DictItem.name, "")
    newer = case((Client.created_on >= datetime.datetime(year, 1, 1), 1), else_=0)
    rows = db.session.execute(_scoped(
        select(source, newer, sum_cents(JournalEntry.amount))
        .join(Client, Client.id == JournalEntry.client_id)
        .outerjoin(DictItem, DictItem.id == Client.source_id)
        .where(JournalEntry.status == "approved", JournalEntry.direction == "income",
               and_(JournalEntry.entry_date >= first,
                    JournalEntry.entry_date < datetime.date(year + 1, 1, 1)))
        .group_by(source, newer), condition)).all()
    by_source: dict = {}
    fresh = old = decimal.Decimal("0.00")
    for name, is_new, cents in rows:
        amount = cents_to_decimal(cents)
        by_source[name] = by_source.get(name, decimal.Decimal("0.00")) + amount
        if is_new:
            fresh += amount
        else:
            old += amount
    ordered = sorted(by_source.items(), key=lambda kv: -kv[1])
    return ordered, fresh, old

