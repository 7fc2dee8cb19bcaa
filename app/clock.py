"""The firm's clock: today and now in the firm's time zone (AGENCYDESK_TIMEZONE).

Rules never read the clock (they take dates); views, services' callers, the CLI and
the scheduler ask here. ``AGENCYDESK_TODAY`` (ISO date) pins "today" for tests and
demos.
"""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TZ = "Asia/Shanghai"


def tz_name() -> str:
    if has_app_context():
        return current_app.config.get("AGENCYDESK_TIMEZONE", DEFAULT_TZ)
    return DEFAULT_TZ


def now() -> datetime.datetime:
    """Aware now in the firm's time zone."""
    return datetime.datetime.now(ZoneInfo(tz_name()))


def today() -> datetime.date:
    if has_app_context():
        pinned = current_app.config.get("AGENCYDESK_TODAY")
        if pinned:
            return datetime.date.fromisoformat(str(pinned))
    return now().date()


def local_now() -> datetime.datetime:
    """Naive firm-local now: what every stored timestamp holds (the server may run
    in UTC; the firm reads Beijing time)."""
    return now().replace(tzinfo=None)
