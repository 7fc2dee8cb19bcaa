"""月度统计 / 年度统计 (income and expense by month, by year and by category) and
the finance cards of the 工作台.

What counts: APPROVED journal entries only (a 待审核 receipt is not money yet), of
the clients the user may see. The scope is the one visibility rule
(``scope.condition``), applied to the statistics query like to every list:

- a user who sees all clients (``can_see_all``) gets every approved entry, and
  that includes the entries with no client (the firm's own rent, wages, office
  costs): firm-wide money is for those who see the whole firm;
- everyone else gets the entries of his visible clients only; an entry without a
  client belongs to no visible client, so it is left out (``client_id IN (…)`` is
  not true for NULL).

Each page runs ONE grouped query (GROUP BY period, category, direction) and builds
both of its tables from it in Python; the category names are a second, tiny read.
Month and year come from ``EXTRACT`` (SQLAlchemy writes ``strftime`` on SQLite
and ``EXTRACT`` on PostgreSQL). Sums are exact on both databases: SQLite keeps
NUMERIC values as binary floats, so amounts are summed as integer cents
(``SUM(CAST(ROUND(amount * 100) AS BIGINT))``) and turned back into ``Decimal``.
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Integer, cast, extract, func, select

from ..extensions import db
from ..models import DictItem, JournalEntry

ZERO = decimal.Decimal("0.00")
CENT = decimal.Decimal("0.01")
APPROVED = "approved"
INCOME, EXPENSE = "income", "expense"
CATEGORY_KIND = "journal_category"
#: the row of entries that have no category
NO_CATEGORY = None


# ---- exact money sums on SQLite and PostgreSQL -----------------------------------------
def sum_cents(column):
    """``SUM`` of a NUMERIC(12,2) column as an integer number of cents (exact on
    SQLite, whose NUMERIC values are floats)."""
    return func.sum(cast(func.round(column * 100), BigInteger))


def cents_to_decimal(cents) -> decimal.Decimal:
    """Cents (an int, or None for an empty sum) as a two-place ``Decimal``."""
    return (decimal.Decimal(int(cents or 0)) / 100).quantize(CENT)


def month_of(column):
    """The month (1–12) of a Date or DateTime column, on SQLite and PostgreSQL."""
    return cast(extract("month", column), Integer)


def year_of(column):
    return cast(extract("year", column), Integer)


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
    start, end = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    rows = _grouped(month_of(JournalEntry.entry_date), condition,
                    JournalEntry.entry_date >= start, JournalEntry.entry_date < end)
    return _report(rows, range(1, 13), year=year)


def yearly(condition=None) -> Report:
    """年度统计: income and expense of each year that has approved entries, and of
    each category per year, within ``condition``."""
    rows = _grouped(year_of(JournalEntry.entry_date), condition)
    return _report(rows, sorted({int(r[0]) for r in rows}))


# ---- 工作台 cards --------------------------------------------------------------------
#: the screens the cards link to (app/views/finance.py, app/views/invoices.py)
JOURNAL_VIEW = "JournalModelView"
ARREARS_VIEW = "ArrearsView"
INVOICE_VIEW = "InvoiceModelView"
STATS_VIEW = "StatsView"


def finance_cards(user) -> list[tuple]:
    """The 工作台's finance cards for ``user``: ``(label, number, url, level)``.

    - 待审核日记账: pending journal entries he may approve (``can_approve`` on the
      journal), not counting his own unless self-approval is allowed;
    - 待审核开票申请: invoice requests waiting for approval, likewise;
    - 欠费金额: the service fees of billed, active clients whose next fee date has
      passed (a sum of money, not a count), for users of the finance statistics or
      the arrears list.

    Every number goes through the user's scope. A card whose screen this build does
    not have is left out.
    """
    from flask import current_app, url_for
    from flask_babel import gettext

    from .. import clock
    from ..models import Client, Invoice
    from ..security import scope
    from . import invoices as invoice_service

    if user is None or not getattr(user, "is_authenticated", False):
        return []
    sm = current_app.appbuilder.sm

    def can(perm, view):
        return sm.user_has(user, perm, view)

    def condition(model):
        return scope.condition(user, model, can, db.session)

    def url(endpoint, args=""):
        try:
            return url_for(endpoint) + args
        except Exception:  # a screen this build does not register
            return None

    def count(model, *where):
        query = select(func.count()).select_from(model).where(*where)
        cond = condition(model)
        if cond is not None:
            query = query.where(cond)
        return db.session.execute(query).scalar()

    allow_self = invoice_service.self_approval_allowed()
    cards = []
    link = url(f"{JOURNAL_VIEW}.list", "?_flt_0_status=pending")
    if link and can("can_approve", JOURNAL_VIEW):
        where = [JournalEntry.status == "pending"]
        if not allow_self:
            where.append(JournalEntry.created_by_id.is_distinct_from(user.id))
        cards.append((gettext("Journal entries waiting for approval"),
                      count(JournalEntry, *where), link, "warning"))
    link = url(f"{INVOICE_VIEW}.list", "?_flt_0_status=applied")
    if link and can("can_approve", INVOICE_VIEW):
        where = [Invoice.status == invoice_service.APPLIED]
        if not allow_self:
            where.append(Invoice.created_by_id.is_distinct_from(user.id))
        cards.append((gettext("Invoice requests waiting for approval"),
                      count(Invoice, *where), link, "warning"))
    arrears_link = url(f"{ARREARS_VIEW}.list")
    if can("can_monthly", STATS_VIEW) or (arrears_link and can("can_list", ARREARS_VIEW)):
        from .finance import arrears_condition

        # the arrears list's own rule, narrowed to "already overdue" (due before today)
        query = select(func.coalesce(sum_cents(Client.service_fee), 0)).where(
            arrears_condition(clock.today(), -1))
        cond = condition(Client)
        if cond is not None:
            query = query.where(cond)
        total = cents_to_decimal(db.session.execute(query).scalar())
        cards.append((gettext("Arrears (service fees overdue)"), total,
                      arrears_link or url("ClientModelView.list"),
                      "danger" if total else "default"))
    return cards
