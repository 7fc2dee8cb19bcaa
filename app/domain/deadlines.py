"""The legal filing deadlines (申报期限): the 征期 calendar. Pure: the holidays, the
调休 working days and the announced overrides are parameters (kept as data an Admin
edits); there is no clock here.

The rule (《税收征收管理法实施细则》第一百零九条, as the tax administration applies it):

- a monthly or quarterly filing is due by the 15th of the month after its period;
- when the 15th is a legal holiday or a rest day, it moves to the next working day;
- when the first 15 days of the month hold 3 or more consecutive legal holidays, the
  deadline is extended by that many days, counted as working days (after the move
  above).

A working day is a Monday to Friday that is not a holiday, or a weekend day worked by
调休. Annual filings have their own day (企业所得税汇算清缴 31 May, 工商年报 30 June),
moved to the next working day likewise.

Checked against 税总办征科函〔2025〕64号 (the 2026 calendar) in tests/unit.
"""
from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Collection

ONE_DAY = datetime.timedelta(days=1)
BASE_DAY = 15
#: a run of at least this many consecutive holidays in days 1–15 extends the deadline
EXTENSION_RUN = 3

MONTHLY, QUARTERLY, YEARLY = "month", "quarter", "year"
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2})|-Q([1-4]))?$")


def is_working_day(day: datetime.date, holidays: Collection, workdays: Collection) -> bool:
    """Monday–Friday and not a holiday, or a weekend day worked by 调休."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def next_working_day(day: datetime.date, holidays: Collection,
                     workdays: Collection) -> datetime.date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day, holidays, workdays):
        day += ONE_DAY
    return day


def add_working_days(day: datetime.date, n: int, holidays: Collection,
                     workdays: Collection) -> datetime.date:
    """The ``n``-th working day after ``day``."""
    while n > 0:
        day += ONE_DAY
        if is_working_day(day, holidays, workdays):
            n -= 1
    return day


def holiday_extension(year: int, month: int, holidays: Collection) -> int:
    """Days of extension: the lengths of the runs of at least three consecutive
    holidays within the month's first fifteen days (a break that began the month
    before counts with the days that fall inside)."""
    days = [datetime.date(year, month, d) in holidays for d in range(1, BASE_DAY + 1)]
    extension = run = 0
    for off in days + [False]:
        if off:
            run += 1
            continue
        if run >= EXTENSION_RUN:
            extension += run
        run = 0
    return extension


def monthly_deadline(year: int, month: int, holidays: Collection,
                     workdays: Collection) -> datetime.date:
    """The filing deadline in ``month`` of ``year`` (for the periods that end the
    month before): the 15th, moved to a working day, extended after a long holiday.

    >>> monthly_deadline(2026, 10, {datetime.date(2026, 10, d) for d in range(1, 8)},
    ...                  {datetime.date(2026, 10, 10)})
    datetime.date(2026, 10, 26)
    """
    base = next_working_day(datetime.date(year, month, BASE_DAY), holidays, workdays)
    return add_working_days(base, holiday_extension(year, month, holidays), holidays,
                            workdays)


def fixed_deadline(day: datetime.date, holidays: Collection,
                   workdays: Collection) -> datetime.date:
    """An annual filing's own day (31 May, 30 June …) moved to a working day."""
    return next_working_day(day, holidays, workdays)


# ---- periods ------------------------------------------------------------------------
def period_key(cycle: str, day: datetime.date) -> str:
    """The period (所属期) a day falls in: ``2026-11``, ``2026-Q3``, ``2026``."""
    if cycle == MONTHLY:
        return f"{day.year}-{day.month:02d}"
    if cycle == QUARTERLY:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    if cycle == YEARLY:
        return str(day.year)
    raise ValueError(cycle)


def parse_period(text: str) -> tuple[str, int, int]:
    """(cycle, year, month or quarter or 0) of ``2026-11`` / ``2026-Q3`` / ``2025``.

    :raises ValueError: not a period.
    """
    match = _PERIOD.match((text or "").strip())
    if not match:
        raise ValueError(text)
    year = int(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(text)
        return MONTHLY, year, month
    if match.group(3):
        return QUARTERLY, year, int(match.group(3))
    return YEARLY, year, 0


def period_end(period: str) -> datetime.date:
    """The last day of a period."""
    cycle, year, part = parse_period(period)
    if cycle == MONTHLY:
        month = part
    elif cycle == QUARTERLY:
        month = part * 3
    else:
        month = 12
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def next_period(period: str) -> str:
    """The period after ``period`` of the same cycle."""
    cycle, year, part = parse_period(period)
    end = period_end(period)
    return period_key(cycle, end + ONE_DAY)


def previous_period(period: str) -> str:
    """The period before ``period`` of the same cycle."""
    cycle, year, part = parse_period(period)
    if cycle == MONTHLY:
        return f"{year - 1}-12" if part == 1 else f"{year}-{part - 1:02d}"
    if cycle == QUARTERLY:
        return f"{year - 1}-Q4" if part == 1 else f"{year}-Q{part - 1}"
    return str(year - 1)


def filing_month(period: str) -> tuple[int, int]:
    """(year, month) whose monthly deadline a monthly or quarterly period is filed by:
    the month after the period."""
    after = period_end(period) + ONE_DAY
    return after.year, after.month


def annual_due_day(period: str, month: int, day: int) -> datetime.date:
    """The own day of an annual filing for ``period`` (e.g. ``2025`` → 31 May 2026):
    in the year after the period."""
    _, year, _ = parse_period(period)
    last = calendar.monthrange(year + 1, month)[1]
    return datetime.date(year + 1, month, min(day, last))
