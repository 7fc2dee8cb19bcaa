"""Dates of 待办事项, 合同 and 提供地址: pure rules (no Flask, no session, no clock).

A term is a closed range of days ``[start, end]``. One year from a day is its
anniversary; 29 February has none in a common year, and its anniversary is then
1 March (the day after 28 February), so a one-year term that starts on 29 February
ends on 28 February — as 民法典 第二百零二条 counts a period whose end month has no
corresponding day (the month's last day is the period's last day).
"""
from __future__ import annotations

import datetime

ONE_DAY = datetime.timedelta(days=1)
#: a contract or an address service is "about to expire" this many days ahead
DUE_SOON_DAYS = 30

EXPIRED = "expired"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
DUE_TODAY = "due_today"


def anniversary(day: datetime.date, years: int = 1) -> datetime.date:
    """The same day ``years`` later; 29 Feb → 1 Mar when that year has no 29 Feb."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return datetime.date(day.year + years, 3, 1)


def next_term(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The term after ``[start, end]``: it starts the day after ``end`` and lasts one
    year (it ends the day before the new start's anniversary).

    >>> next_term(datetime.date(2023, 3, 1), datetime.date(2024, 2, 29))
    (datetime.date(2024, 3, 1), datetime.date(2025, 2, 28))
    """
    new_start = end + ONE_DAY
    return new_start, anniversary(new_start) - ONE_DAY


def next_expiry(expiry: datetime.date) -> datetime.date:
    """A yearly service paid up to ``expiry``, paid one more year: up to the end of
    the year that starts the day after ``expiry`` (2024-02-29 → 2025-02-28,
    2025-06-30 → 2026-06-30)."""
    return next_term(expiry, expiry)[1]


def expiry_state(end: datetime.date | None, today: datetime.date,
                 soon_days: int = DUE_SOON_DAYS) -> str:
    """EXPIRED (ended before today), DUE_SOON (ends within ``soon_days``, today
    included) or "" (no end date, or far enough away)."""
    if end is None:
        return ""
    if end < today:
        return EXPIRED
    if end <= today + datetime.timedelta(days=soon_days):
        return DUE_SOON
    return ""


def todo_state(expected: datetime.date | None, done: bool, today: datetime.date) -> str:
    """OVERDUE (open, expected before today), DUE_TODAY (open, expected today) or ""."""
    if done or expected is None:
        return ""
    if expected < today:
        return OVERDUE
    if expected == today:
        return DUE_TODAY
    return ""
