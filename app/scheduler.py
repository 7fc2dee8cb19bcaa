"""The job runner: the only module besides cli.py that reads the clock.

Jobs are rows (``ScheduledJob``: a croniter rule in the firm's time zone). A tick
looks, for each enabled job, for the latest occurrence at or before now that is
later than the job's ``last_tick``; several missed occurrences are caught up ONCE
(the latest), not once each. Claiming a run is an INSERT of ``JobRun(job, tick)``
under a unique constraint, so two machines ticking at once run it once; on
PostgreSQL the run also holds an advisory lock per job, so a manual 立即运行 and a
scheduled run never overlap. Each run records start, end, rows affected, error.
"""
from __future__ import annotations

import datetime
import logging
import socket
import time
import traceback
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from . import clock
from .extensions import db
from .models import JobRun, ScheduledJob

log = logging.getLogger(__name__)
ADVISORY_LOCK_BASE = 7_300_000  # advisory lock key = base + job id


def _sync(today, tz):
    from .services.obligations import sync_obligations

    return sync_obligations(today, tz).rows


def _overdue(today, tz):
    from .services.obligations import flag_overdue

    return flag_overdue(today)


def _expiring(today, tz):
    from .services.reminders import remind_expiring

    return remind_expiring(today)


#: code -> (name shown to the firm — data, like obligation type names —, default rule,
#: function(today, tz) -> rows)
JOBS = {
    "sync_obligations": ("同步客户报税事项", "0 1 * * *", _sync),
    "flag_overdue": ("标记逾期报税事项", "0 2 * * *", _overdue),
    "remind_expiring": ("合同和地址到期提醒", "0 3 * * *", _expiring),
}


def ensure_jobs() -> int:
    """Create the shipped jobs that are missing (``flask init``)."""
    have = set(db.session.execute(select(ScheduledJob.code)).scalars())
    added = 0
    for code, (name, rule, _) in JOBS.items():
        if code not in have:
            db.session.add(ScheduledJob(code=code, name=name, rule=rule, enabled=True))
            added += 1
    db.session.commit()
    return added


def latest_tick(rule: str, now: datetime.datetime, after: datetime.datetime | None):
    """The latest occurrence of ``rule`` at or before ``now`` and after ``after``
    (naive local times in the firm's zone), or None."""
    tz = now.tzinfo
    it = croniter(rule, now + datetime.timedelta(seconds=1))
    prev = it.get_prev(datetime.datetime)
    if prev.tzinfo is None:
        prev = prev.replace(tzinfo=tz)
    prev_naive = prev.astimezone(tz).replace(tzinfo=None)
    if after is not None and prev_naive <= after:
        return None
    return prev_naive


@dataclass
class RunOutcome:
    job: str
    tick: datetime.datetime
    status: str   # ran / failed / taken / busy
    rows: int = 0
    error: str | None = None


def _claim(job: ScheduledJob, tick: datetime.datetime, manual: bool) -> JobRun | None:
    run = JobRun(job_id=job.id, tick=tick, started_at=clock.local_now(),
                 host=socket.gethostname(), manual=manual)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def _advisory_lock(job_id: int):
    """Hold a PostgreSQL advisory lock for the job on a connection of its own (an
    advisory lock belongs to a connection: taken and released through the ORM session
    it could be released on another pooled connection and stay held). Returns the
    connection holding it, True on SQLite (the unique JobRun insert is the lock), or
    None if another machine holds it."""
    if db.engine.dialect.name != "postgresql":
        return True
    conn = db.engine.connect()
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                       {"k": ADVISORY_LOCK_BASE + job_id}).scalar()
    conn.commit()
    if not got:
        conn.close()
        return None
    return conn


def _advisory_unlock(holder, job_id: int) -> None:
    if holder is True or holder is None:
        return
    try:
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_BASE + job_id})
        holder.commit()
    finally:
        holder.close()


def run_job(job: ScheduledJob, tick: datetime.datetime, manual: bool = False,
            today: datetime.date | None = None) -> RunOutcome:
    """Claim ``(job, tick)``, run it, record the run. Safe to call from several
    machines: the loser of the claim returns ``taken`` and runs nothing."""
    tz = clock.tz_name()
    holder = _advisory_lock(job.id)
    if holder is None:
        return RunOutcome(job.code, tick, "busy")
    try:
        run = _claim(job, tick, manual)
        if run is None:
            return RunOutcome(job.code, tick, "taken")
        func = JOBS.get(job.code, (None, None, None))[2]
        try:
            if func is None:
                raise LookupError(f"no code for job {job.code}")
            rows = func(today or clock.today(), tz)
            status, error = "ran", None
        except Exception:  # a job's failure is recorded, never lost
            db.session.rollback()
            rows, status, error = 0, "failed", traceback.format_exc(limit=5)
            log.exception("job %s failed", job.code)
        run = db.session.get(JobRun, run.id)
        run.finished_at = clock.local_now()
        run.rows = rows
        run.error = error
        job = db.session.get(ScheduledJob, job.id)
        job.last_run_at = run.finished_at
        if not manual:
            job.last_tick = max(tick, job.last_tick) if job.last_tick else tick
        db.session.commit()
        return RunOutcome(job.code, tick, status, rows, error)
    finally:
        _advisory_unlock(holder, job.id)


def tick(now: datetime.datetime | None = None) -> list[RunOutcome]:
    """Run every enabled job that has a due occurrence not yet run (once)."""
    now = now or clock.now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo(clock.tz_name()))
    outcomes = []
    jobs = db.session.execute(select(ScheduledJob).where(ScheduledJob.enabled.is_(True))
                              .order_by(ScheduledJob.id)).scalars().all()
    for job in jobs:
        due = latest_tick(job.rule, now, job.last_tick)
        if due is not None:
            outcomes.append(run_job(job, due, today=now.date()))
    return outcomes


def run_now(job: ScheduledJob) -> RunOutcome:
    """立即运行: a manual run, recorded like the others (does not move last_tick)."""
    return run_job(job, clock.local_now(), manual=True)


def loop(interval: float = 30.0, iterations: int | None = None, sleep=time.sleep) -> None:
    """``flask scheduler run``: tick every ``interval`` seconds (forever by default)."""
    n = 0
    while iterations is None or n < iterations:
        for outcome in tick():
            log.info("job %s tick %s: %s (%s rows)", outcome.job, outcome.tick,
                     outcome.status, outcome.rows)
        db.session.remove()
        n += 1
        if iterations is None or n < iterations:
            sleep(interval)
