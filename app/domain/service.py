"""客户服务 (seed 002): when a service request is late. Pure: dates and hours in,
answers out."""
from __future__ import annotations

import datetime

#: states in which the request is still being worked on (its lateness counts)
OPEN_STATES = frozenset({"new", "assigned", "in_progress"})
ON_TIME, DUE_SOON, OVERDUE = "", "due_soon", "overdue"


def due_date(opened_on: datetime.date, expected_days: int) -> datetime.date:
    """The day a request should be done by: opened + the item's expected days."""
    return opened_on + datetime.timedelta(days=max(int(expected_days or 0), 0))


def lateness(opened_on: datetime.date, expected_days: int, status: str,
             today: datetime.date) -> str:
    """:data:`OVERDUE` (red) past its due date, :data:`DUE_SOON` (amber) on its due
    date or the day before, else :data:`ON_TIME`; a request no longer being worked
    on is never late."""
    if status not in OPEN_STATES:
        return ON_TIME
    due = due_date(opened_on, expected_days)
    if today > due:
        return OVERDUE
    if (due - today).days <= 1:
        return DUE_SOON
    return ON_TIME


def acceptance_expired(assigned_at: datetime.datetime | None, accept_hours: int,
                       now: datetime.datetime) -> bool:
    """Whether a dispatched request waited longer than the item's hours to be
    accepted (then it goes back to the pool)."""
    if assigned_at is None:
        return False
    return now - assigned_at >= datetime.timedelta(hours=max(int(accept_hours or 0), 1))
