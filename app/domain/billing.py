"""Fees: arrears and the next payment date. Pure rules (no Flask, no session, no
clock): "today" is always a parameter.

A client is billed per cycle (月/季/半年/年, ``BILLING_CYCLE_MONTHS``) and has a next
fee date: the day the next cycle's fee is due.

- **Overdue** (已欠费): the next fee date has passed (is before today). The periods
  owed are the fee dates passed: the next fee date and each cycle after it that is
  before today (the cycle that starts on a fee date is owed as soon as that day has
  passed, even before a whole cycle has gone by).
- **Due soon** (即将到期): the next fee date is today or within ``days`` days; nothing
  is owed yet (0 periods).
- Amount owed = periods × the client's service fee (``Decimal``, two places).

Months are calendar months; a day the target month does not have is clamped to its
last day (31 January + 1 month = 28/29 February), as 民法典 第二百零二条 counts a
period whose end month has no corresponding day.
"""
from __future__ import annotations

import calendar
import datetime
from decimal import ROUND_HALF_UP, Decimal

from .choices import BILLING_CYCLE_MONTHS, N_

ONE_DAY = datetime.timedelta(days=1)
CENT = Decimal("0.01")

OVERDUE = "overdue"
DUE_SOON = "due_soon"
#: what a list shows for each state (English msgids, translated at the edge)
ARREARS_STATE = {OVERDUE: N_("Overdue"), DUE_SOON: N_("Due soon")}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cycle_months(cycle: str | None) -> int:
    """Months in a billing cycle code (an unknown code counts as monthly)."""
    return BILLING_CYCLE_MONTHS.get(cycle or "", 1)


def whole_cycles(start: datetime.date, today: datetime.date, cycle: str | None) -> int:
    """How many whole billing cycles lie between ``start`` and ``today`` (0 when
    ``today`` is not after ``start``).

    >>> whole_cycles(datetime.date(2026, 8, 1), datetime.date(2026, 11, 23), "month")
    3
    >>> whole_cycles(datetime.date(2026, 1, 31), datetime.date(2026, 2, 28), "month")
    1
    """
    if today <= start:
        return 0
    step = cycle_months(cycle)
    months = (today.year - start.year) * 12 + today.month - start.month
    n = months // step
    # calendar arithmetic may overshoot by one (the day of month not reached yet)
    while n > 0 and add_months(start, n * step) > today:
        n -= 1
    return n


def arrears_state(next_fee_date: datetime.date | None, today: datetime.date,
                  days: int) -> str:
    """OVERDUE (the next fee date has passed), DUE_SOON (today or within ``days``
    days) or "" (no date, or further away)."""
    if next_fee_date is None:
        return ""
    if next_fee_date < today:
        return OVERDUE
    if next_fee_date <= today + datetime.timedelta(days=days):
        return DUE_SOON
    return ""


def periods_owed(next_fee_date: datetime.date | None, today: datetime.date,
                 cycle: str | None) -> int:
    """Billing cycles owed today: the fee dates from the next (oldest unpaid) fee date
    on — that date, one cycle later, … — that lie before today; 0 when it has not
    passed (due soon, or no date). A monthly client whose next fee date is 1 October
    owes two periods on 30 November (the fees of 1 October and 1 November), not the
    one whole month that lies between.

    >>> periods_owed(datetime.date(2026, 10, 1), datetime.date(2026, 11, 30), "month")
    2
    """
    if next_fee_date is None or next_fee_date >= today:
        return 0
    step = cycle_months(cycle)
    months = (today.year - next_fee_date.year) * 12 + today.month - next_fee_date.month
    n = months // step + 1  # an upper bound: corrected for the day of the month
    while n > 0 and add_months(next_fee_date, (n - 1) * step) >= today:
        n -= 1
    return n


def amount_owed(periods: int, fee) -> Decimal:
    """periods × fee, as money (two places)."""
    return (Decimal(periods) * Decimal(fee or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_due(next_fee_date: datetime.date | None, today: datetime.date,
               cycle: str | None, fee) -> Decimal:
    """What a dunning notice asks for: the amount owed when overdue; for a client
    only due soon, the coming cycle's fee (nothing is owed yet, one cycle falls due)."""
    return amount_owed(max(1, periods_owed(next_fee_date, today, cycle)), fee)


# ---- money ----------------------------------------------------------------------------
def cents_to_decimal(cents) -> Decimal:
    """Cents (an int, or None for an empty sum) as a two-place ``Decimal``."""
    return (Decimal(int(cents or 0)) / 100).quantize(CENT)
