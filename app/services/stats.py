"""月度统计 / 年度统计 (income and expense by month, by year and by category) and
the finance cards of the 工作台.

What counts: APPROVED journal entries only, of the clients the user may see. A
client's fee income is there exactly once: as the entry its approved 收款 receipt
posted (``services.receipt_journal``; a 待审核 receipt is not money yet, an unlocked
one takes its entry back), never typed on the journal beside it. The scope is the one visibility rule
(``scope.condition``), applied to the statistics query like to every list:

- a user who sees all clients (``can_see_all``) gets every approved entry, and
  that includes the entries with no client (the firm's own rent, wages, office
  costs): firm-wide money is for those who see the whole firm;
- everyone else gets the entries of his visible clients only; an entry without a
  client belongs to no visible client, so it is left out (``client_id IN (…)`` is
  not true for NULL).

Each page runs ONE grouped query (GROUP BY period, category, direction) and builds
both of its tables from it in Python; the category names are a second, tiny read.
The grouped query reads the monthly summary, not the entries (1,000,000 entries
were seconds; the summary is a few hundred rows firm-wide): ``journal_month`` for
who sees everything, ``journal_client_month`` narrowed by the same scope for
everyone else (the condition on the entries' ``client_id`` is applied to the
summary's ``client_id``: the clients are the same, so the numbers are). Triggers
keep both exact in the transaction of every approval and unlock (migration
f3a9c2d4b1e7); :func:`check_summary` compares them with a full recount.
Month and year come from ``EXTRACT`` (SQLAlchemy writes ``strftime`` on SQLite
and ``EXTRACT`` on PostgreSQL). Sums are exact on both databases: SQLite keeps
NUMERIC values as binary floats, so amounts are summed as integer cents
(``SUM(CAST(ROUND(amount * 100) AS BIGINT))``) and turned back into ``Decimal``.
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field

from sqlalchemy import any_, delete, func, insert, literal, select
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import BinaryExpression
from sqlalchemy.sql.selectable import ScalarSelect

from ..data.sql import month_of, sum_cents, year_of
from ..domain.billing import cents_to_decimal
from ..extensions import db
from ..models import DictItem, JournalClientMonth, JournalEntry, JournalMonth

ZERO = decimal.Decimal("0.00")
CENT = decimal.Decimal("0.01")
APPROVED = "approved"
INCOME, EXPENSE = "income", "expense"
CATEGORY_KIND = "journal_category"
#: the row of entries that have no category
NO_CATEGORY = None


# ---- the report shapes ---------------------------------------------------------------
@dataclass
class Amounts:
    """Income and expense of one row of a table (Decimal)."""

    income: decimal.Decimal = ZERO
    expense: decimal.Decimal = ZERO
    entries: int = 0

    @property
    def net(self) -> decimal.Decimal:
        return self.income - self.expense

    def add(self, direction: str, amount: decimal.Decimal, count: int) -> None:
        if direction == INCOME:
            self.income += amount
        elif direction == EXPENSE:
            self.expense += amount
        else:
            return
        self.entries += count


@dataclass
class CategoryRow:
    """One category: its name (None = no category) and its amounts per period key
    (month 1–12 or a year), plus the total over all periods shown."""

    category_id: int | None
    name: str | None
    periods: dict = field(default_factory=dict)   # period -> Amounts
    total: Amounts = field(default_factory=Amounts)


@dataclass
class Report:
    """A statistics page: ``periods`` (months 1–12, or the years that have entries)
    with their amounts, the same broken down by category, and the grand total."""

    periods: list
    by_period: dict                 # period -> Amounts
    by_category: list               # [CategoryRow], in dictionary order
    total: Amounts
    year: int | None = None


def _category_names() -> dict:
    """{id: (sort key, name)} of the 日记账分类 dictionary (inactive ones too: old
    entries still name them)."""
    rows = db.session.execute(
        select(DictItem.id, DictItem.name, DictItem.sort_order)
        .where(DictItem.kind == CATEGORY_KIND)).all()
    return {cid: ((order, cid), name) for cid, name, order in rows}


def _grouped(period, condition, *where):
    """The one grouped query: (period, category id, direction, entries, cents)."""
    query = (select(period.label("period"), JournalEntry.category_id, JournalEntry.direction,
                    func.count(), sum_cents(JournalEntry.amount))
             .where(JournalEntry.status == APPROVED, *where)
             .group_by(period, JournalEntry.category_id, JournalEntry.direction))
    if condition is not None:
        query = query.where(condition)
    return db.session.execute(query).all()


#: the summaries' category key of an entry without a category
NO_CATEGORY_KEY = 0


def _on_summary(condition):
    """The scope ``condition`` on journal entries as the same condition on
    ``journal_client_month`` — when it reads nothing of the entry but its
    ``client_id`` (``client_id IN (visible clients)``); else None."""
    entry = JournalEntry.__table__
    summary = JournalClientMonth.__table__
    other = []
    postgresql = db.session.get_bind().dialect.name == "postgresql"

    def swap(element):
        if (postgresql and isinstance(element, BinaryExpression)
                and element.operator is operators.in_op
                and isinstance(element.right, ScalarSelect)
                and getattr(element.left, "table", None) is entry
                and element.left.name == "client_id"):
            # ``= ANY(ARRAY(SELECT …))``: PostgreSQL reads the visible clients' rows
            # by the primary key (client_id, year …); with ``IN (SELECT …)`` it
            # scanned the whole table into a hash join (120 ms at 650,000 rows; 22 ms)
            return summary.c.client_id == any_(func.array(element.right))
        if getattr(element, "table", None) is entry:
            if element.name == "client_id":
                return summary.c.client_id
            other.append(element.name)
        return None

    swapped = visitors.replacement_traverse(condition, {}, swap)
    return None if other else swapped


def _summary_grouped(by_month: bool, condition, year=None):
    """The grouped query of :func:`_grouped`, from the summary: (period, category
    id, direction, entries, cents); None when the condition cannot be read there."""
    if condition is None:
        model, where = JournalMonth, []
    else:
        cond = _on_summary(condition)
        if cond is None:
            return None
        model, where = JournalClientMonth, [cond]
    period = model.month if by_month else model.year
    if year is not None:
        where.append(model.year == year)
    query = (select(period, model.category_id, model.direction, func.sum(model.entries),
                    func.sum(model.cents))
             .where(*where).group_by(period, model.category_id, model.direction)
             .having(func.sum(model.entries) != 0))
    return [(p, None if c == NO_CATEGORY_KEY else c, d, int(n), cents)
            for p, c, d, n, cents in db.session.execute(query)]


def _report(rows, periods, year=None) -> Report:
    names = _category_names()
    by_period = {p: Amounts() for p in periods}
    categories: dict = {}
    total = Amounts()
    for period, category_id, direction, count, cents in rows:
        amount = cents_to_decimal(cents)
        period = int(period)
        by_period.setdefault(period, Amounts()).add(direction, amount, count)
        total.add(direction, amount, count)
        if category_id not in categories:
            categories[category_id] = CategoryRow(
                category_id, names.get(category_id, (None, None))[1])
        row = categories[category_id]
        row.periods.setdefault(period, Amounts()).add(direction, amount, count)
        row.total.add(direction, amount, count)
    # dictionary order; entries without a category (or of a removed one) last
    last = ((1 << 62, 1 << 62), "")
    ordered = sorted(categories.values(),
                     key=lambda r: names.get(r.category_id, last)[0])
    return Report(periods=sorted(by_period), by_period=by_period, by_category=ordered,
                  total=total, year=year)


def monthly(year: int, condition=None) -> Report:
    """月度统计: income and expense of each month of ``year`` and of each category,
    from approved entries within ``condition`` (the caller's scope)."""
    rows = _summary_grouped(True, condition, year)
    if rows is None:
        start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
        rows = _grouped(month_of(JournalEntry.entry_date), condition,
                        JournalEntry.entry_date >= start, JournalEntry.entry_date < end)
    return _report(rows, range(1, 13), year=year)


def yearly(condition=None) -> Report:
    """年度统计: income and expense of each year that has approved entries, and of
    each category per year, within ``condition``."""
    rows = _summary_grouped(False, condition)
    if rows is None:
        rows = _grouped(year_of(JournalEntry.entry_date), condition)
    return _report(rows, sorted({int(r[0]) for r in rows}))


def tax_by_kind(year: int, condition=None) -> list[tuple[str, list, decimal.Decimal]]:
    """The tax amounts recorded with 完成 in ``year`` (by the day they were recorded),
    per tax kind and month: ``[(kind name, [12 amounts], total)]``, through
    ``condition`` (the caller's scope on the records)."""
    from ..models import ObligationRecord, ObligationType

    start = datetime.datetime(year, 1, 1)
    end = datetime.datetime(year + 1, 1, 1)
    month = month_of(ObligationRecord.at)
    query = (select(ObligationType.name, ObligationType.sort_order, month,
                    sum_cents(ObligationRecord.tax_amount))
             .join(ObligationType, ObligationType.id == ObligationRecord.type_id)
             .where(ObligationRecord.kind == "complete",
                    ObligationRecord.tax_amount.isnot(None),
                    ObligationRecord.at >= start, ObligationRecord.at < end)
             .group_by(ObligationType.name, ObligationType.sort_order, month))
    if condition is not None:
        query = query.where(condition)
    kinds: dict = {}
    for name, order, m, cents in db.session.execute(query):
        row = kinds.setdefault((order, name), [ZERO] * 12)
        row[int(m) - 1] += cents_to_decimal(cents)
    return [(name, months, sum(months, ZERO)) for (_, name), months in sorted(kinds.items())]


# ---- the summary against a recount -----------------------------------------------------
def _recount(per_client: bool):
    """{key: (entries, cents)} of the approved entries, counted from the entries."""
    keys = [year_of(JournalEntry.entry_date), month_of(JournalEntry.entry_date),
            func.coalesce(JournalEntry.category_id, literal(NO_CATEGORY_KEY)),
            JournalEntry.direction]
    where = [JournalEntry.status == APPROVED]
    if per_client:
        keys.insert(0, JournalEntry.client_id)
        where.append(JournalEntry.client_id.isnot(None))
    query = select(*keys, func.count(), sum_cents(JournalEntry.amount)) \
        .where(*where).group_by(*keys)
    return {tuple(row[:-2]): (int(row[-2]), int(row[-1])) for row in db.session.execute(query)}


def _kept(model):
    keys = [c for c in model.__table__.primary_key.columns]
    return {tuple(row[:-2]): (int(row[-2]), int(row[-1])) for row in db.session.execute(
        select(*keys, model.entries, model.cents))}


def check_summary(fix: bool = False) -> dict:
    """Recount the approved entries and compare with both summaries.

    :param fix: replace a summary that differs by the recount (same transaction,
        committed).
    :return: {table name: [(key, kept (entries, cents) or None, counted or None)]}
        — empty lists when the summaries are exact.
    """
    report = {}
    for model, per_client in ((JournalMonth, False), (JournalClientMonth, True)):
        counted, kept = _recount(per_client), _kept(model)
        report[model.__tablename__] = [
            (key, kept.get(key), counted.get(key))
            for key in sorted(set(counted) | set(kept), key=str)
            if kept.get(key) != counted.get(key)]
        if fix and report[model.__tablename__]:
            names = [c.name for c in model.__table__.primary_key.columns]
            db.session.execute(delete(model))
            if counted:
                db.session.execute(insert(model), [
                    {**dict(zip(names, key)), "entries": n, "cents": cents}
                    for key, (n, cents) in counted.items()])
    if fix:
        db.session.commit()
    return report
