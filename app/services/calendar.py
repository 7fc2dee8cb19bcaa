"""The 征期 calendar as the firm keeps it: the holidays and 调休 working days an
Admin entered (2026 shipped), the deadlines the tax administration announced, and
what follows from them — each period's deadline (``app.domain.deadlines``)."""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from .. import audit
from ..domain import deadlines as dl
from ..domain.taxkinds import CALENDAR_2026
from ..extensions import db
from ..models import CalendarDay, DeadlineOverride, Obligation, ObligationType

COMPUTED, ANNOUNCED = "computed", "announced"


@dataclass
class Calendar:
    """Everything the deadlines depend on, read once (a few dozen rows a year)."""

    holidays: set = field(default_factory=set)
    workdays: set = field(default_factory=set)
    overrides: dict = field(default_factory=dict)   # (year, month) -> date

    @classmethod
    def load(cls) -> "Calendar":
        cal = cls()
        for day, kind in db.session.execute(select(CalendarDay.day, CalendarDay.kind)):
            (cal.holidays if kind == "holiday" else cal.workdays).add(day)
        for year, month, day in db.session.execute(
                select(DeadlineOverride.year, DeadlineOverride.month, DeadlineOverride.deadline)):
            cal.overrides[(year, month)] = day
        return cal

    def has_holidays(self, year: int) -> bool:
        """Whether anyone entered the holidays of ``year`` (else: weekends only)."""
        return any(d.year == year for d in self.holidays)

    def monthly(self, year: int, month: int) -> tuple[datetime.date, str]:
        """The filing deadline in ``month`` and where it comes from."""
        announced = self.overrides.get((year, month))
        if announced is not None:
            return announced, ANNOUNCED
        return dl.monthly_deadline(year, month, self.holidays, self.workdays), COMPUTED

    def deadline(self, period: str, annual: tuple | None = None) -> datetime.date:
        """The deadline of ``period`` (``2026-11``, ``2026-Q3``, ``2025``); a yearly
        period with its own day (``annual`` = (month, day)) is due that day."""
        cycle, _, _ = dl.parse_period(period)
        if cycle == dl.YEARLY and annual:
            return dl.fixed_deadline(dl.annual_due_day(period, *annual), self.holidays,
                                     self.workdays)
        return self.monthly(*dl.filing_month(period))[0]

    def first_open(self, cycle: str, today: datetime.date,
                   annual: tuple | None = None) -> tuple[str, datetime.date]:
        """(period, deadline) a client starting today files first: the earliest
        period whose deadline is today or later."""
        period = dl.previous_period(dl.previous_period(dl.period_key(cycle, today)))
        while True:
            due = self.deadline(period, annual)
            if due >= today:
                return period, due
            period = dl.next_period(period)

    def year(self, year: int) -> list[tuple[int, datetime.date, str]]:
        """The twelve monthly deadlines of ``year``: (month, deadline, source)."""
        return [(m, *self.monthly(year, m)) for m in range(1, 13)]


def annual_of(otype) -> tuple | None:
    if otype.annual_month and otype.annual_day:
        return otype.annual_month, otype.annual_day
    return None


def ship_2026() -> int:
    """The 2026 holidays and 调休 working days, once (an Admin's later edits stay)."""
    start, end = datetime.date(2026, 1, 1), datetime.date(2026, 12, 31)
    if db.session.execute(select(CalendarDay.id).where(CalendarDay.day >= start,
                                                       CalendarDay.day <= end).limit(1)).first():
        return 0
    db.session.add_all(CalendarDay(day=day, kind=kind, name=name)
                       for day, kind, name in CALENDAR_2026)
    return len(CALENDAR_2026)


def refresh_deadlines(commit: bool = True) -> int:
    """Keep every open filing's deadline in step with the calendar (after an Admin
    changed holidays, 调休 days or an announced deadline): one UPDATE per (type,
    period) whose deadline moved, audited. :return: obligations changed."""
    cal = Calendar.load()
    types = {t.id: t for t in db.session.execute(
        select(ObligationType).where(ObligationType.category == "filing")).scalars()}
    if not types:
        return 0
    pairs = db.session.execute(
        select(Obligation.type_id, Obligation.period)
        .where(Obligation.type_id.in_(types), Obligation.period.isnot(None))
        .group_by(Obligation.type_id, Obligation.period)).all()
    conn = db.session.connection()
    changed = 0
    for type_id, period in pairs:
        try:
            due = cal.deadline(period, annual_of(types[type_id]))
        except ValueError:
            continue
        n = conn.execute(update(Obligation).where(
            Obligation.type_id == type_id, Obligation.period == period,
            Obligation.deadline != due).values(deadline=due)).rowcount
        if n:
            audit.record(conn, "update", "obligation", changes={
                "type_id": type_id, "period": period, "deadline": due.isoformat(), "rows": n})
            changed += n
    if commit:
        db.session.commit()
    return changed


def years_entered() -> set[int]:
    """The years whose holidays someone entered."""
    year = func.extract("year", CalendarDay.day)
    return {int(y) for (y,) in db.session.execute(
        select(year).where(CalendarDay.kind == "holiday").distinct())}
