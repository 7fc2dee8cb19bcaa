"""The job runner: the only module besides cli.py that reads the clock.

Jobs are rows (``ScheduledJob``: a croniter rule in the firm's time zone). A tick
looks, for each enabled job, at the latest occurrence at or before now that is later
than the job's last SUCCESSFUL tick (``last_tick``): several missed occurrences are
caught up once (the latest), and one that failed stays due — retried with back-off —
until it succeeds or a later occurrence supersedes it. The rules (which occurrence,
when to retry, when a job is late) are pure, in ``domain/schedule.py``.

A claim dies with its holder
----------------------------
Running one tick of a job goes, in this order:

1. **Hold the job's lock**: on PostgreSQL an advisory lock on a connection of its
   own; on SQLite an exclusive ``flock`` on a file beside the database file (the
   operating-system lock SQLite itself uses). Both belong to the process: the server
   or the kernel drops them the moment it dies (kill -9, out of memory, a machine
   that vanishes closes its connection). Who cannot take the lock answers ``busy``:
   a live holder is at work.
2. **Settle old claims**: holding the lock, every open claim (a ``JobRun`` without
   ``finished_at``) of the job belongs to a dead process and is closed as
   ``abandoned`` at its last heartbeat. Where no lock exists (SQLite in memory) an
   open claim is taken over only when its heartbeat is older than the lease, by
   compare-and-set.
3. **Decide** (``schedule.next_attempt``): the tick already succeeded (``taken``),
   its last attempt failed less than the back-off ago (``waiting``), or attempt n+1
   starts now, resuming where the committed chunks of the previous attempt stopped.
4. **Claim**: insert ``JobRun(job, tick, attempt)`` — unique per (job, tick,
   attempt), and at most one open claim per job (a partial unique index) — and
   commit it, so /jobs/ shows the run in progress.
5. **Work in chunks**: each chunk commits its rows together with the run's cursor and
   heartbeat, by compare-and-set on the still-open claim; a holder whose claim was
   taken over rolls its chunk back and stops (``lost``): two machines never both
   finish a tick. On SIGTERM the chunk at hand is finished and the run stops
   (``interrupted``); the next tick resumes it at once.
6. **Finish**: the outcome (``succeeded``, ``failed`` with its traceback,
   ``interrupted``), the job's last success or failure and, on success, its
   ``last_tick``, committed with the last piece of work; then the lock is released.
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import os
import signal
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select, text, update
from sqlalchemy.exc import IntegrityError

from . import audit, clock
from .domain import schedule
from .domain.schedule import ABANDONED, FAILED, INTERRUPTED, RUNNING, SUCCEEDED
from .extensions import db
from .models import JobRun, ScheduledJob

try:  # not on Windows: there SQLite falls back to the lease
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

log = logging.getLogger(__name__)
ADVISORY_LOCK_BASE = 7_300_000  # advisory lock key = base + job id
#: set by SIGTERM / SIGINT (``flask scheduler run`` and ``tick``): stop at the next
#: chunk boundary, start nothing new.
STOP = threading.Event()


class JobInterrupted(Exception):
    """A stop was asked for: raised at a chunk boundary, after that chunk committed."""


class ClaimLost(Exception):
    """The run's claim was closed by someone else (its lease had expired): this
    holder's uncommitted chunk is rolled back and it stops."""


# ---- settings ------------------------------------------------------------------
def _config(name: str, default):
    return current_app.config.get(name, default)


def backoff_steps() -> tuple[datetime.timedelta, ...]:
    return schedule.parse_backoff(_config("SCHEDULER_RETRY_MINUTES", schedule.DEFAULT_BACKOFF))


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(_config("SCHEDULER_LEASE_SECONDS", 600)))


def late_grace() -> datetime.timedelta:
    return datetime.timedelta(minutes=int(_config("SCHEDULER_LATE_MINUTES", 120)))


def chunk_size() -> int:
    return max(1, int(_config("SCHEDULER_CHUNK_SIZE", 5000)))


class _Clock:
    """One tick's now: the real clock, or a pinned start (tests) that moves on with
    the real time elapsed, so a run's stored times stay in order."""

    def __init__(self, start: datetime.datetime | None = None):
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=ZoneInfo(clock.tz_name()))
        self.start, self.t0 = start, time.monotonic()

    def now(self) -> datetime.datetime:
        if self.start is None:
            return clock.now()
        return self.start + datetime.timedelta(seconds=time.monotonic() - self.t0)

    def local(self) -> datetime.datetime:
        """Naive firm-local now, as stored."""
        return self.now().astimezone(ZoneInfo(clock.tz_name())).replace(tzinfo=None)


# ---- the jobs --------------------------------------------------------------------
@dataclass
class JobContext:
    """What a job function is handed: the day and zone, the chunk size, where the
    previous attempt at this tick stopped, and :meth:`checkpoint` to commit a chunk."""

    today: datetime.date
    tz: str
    chunk_size: int
    resume_from: str | None
    run_id: int
    attempt: int
    clock: _Clock
    rows: int = 0  # rows this attempt has committed so far

    def checkpoint(self, cursor: str | None, rows: int) -> None:
        """Commit the work done since the last checkpoint together with the run's
        progress (cursor, rows, heartbeat), if the claim is still this run's.

        :raises ClaimLost: the claim was taken over; the work is rolled back.
        :raises JobInterrupted: a stop was asked for (after committing).
        """
        values = {"rows": self.rows + rows, "heartbeat_at": self.clock.local()}
        if cursor is not None:
            values["cursor"] = cursor
        moved = db.session.connection().execute(
            update(JobRun.__table__).where(JobRun.id == self.run_id,
                                           JobRun.finished_at.is_(None))
            .values(**values)).rowcount
        if moved != 1:
            db.session.rollback()
            raise ClaimLost(self.run_id)
        db.session.commit()
        self.rows += rows
        if STOP.is_set():
            raise JobInterrupted()


def _sync(ctx: JobContext) -> int:
    from .services.obligations import sync_obligations

    after = int(ctx.resume_from) if ctx.resume_from else None
    return sync_obligations(ctx.today, ctx.tz, after=after, chunk_size=ctx.chunk_size,
                            checkpoint=ctx.checkpoint).rows


def _overdue(ctx: JobContext) -> int:
    from .services.obligations import flag_overdue

    from .services.calendar import refresh_deadlines

    # a calendar edited outside the screens (or a new year's first deadlines)
    return refresh_deadlines(commit=False) + flag_overdue(ctx.today, commit=False)


def _expiring(ctx: JobContext) -> int:
    from .services.reminders import remind_expiring
    from .services.work import sync_address_flags

    # an address service that ran out today takes 提供注册地址 away
    return remind_expiring(ctx.today, commit=False) + sync_address_flags(ctx.today)


def _deadlines(ctx: JobContext) -> int:
    from .services.reminders import remind_deadlines

    return remind_deadlines(ctx.today, commit=False)


def _lead_pool(ctx: JobContext) -> int:
    from .services.sales import return_to_pool

    # 公共池: leads without a follow-up for the setting's days lose their owner
    return return_to_pool(ctx.today, commit=False)


def _release_requests(ctx: JobContext) -> int:
    from .services.service_requests import release_unaccepted

    # 业务请求: dispatched but not accepted within the item's hours → back to the pool
    return release_unaccepted(ctx.clock.now())


def _charges(ctx: JobContext) -> int:
    from .services.ledger import generate_charges

    # 应收: one charge per billed client per fee date arrived; resumes after the last
    # client whose chunk was committed
    after = int(ctx.resume_from) if ctx.resume_from else None
    return generate_charges(ctx.today, after=after, chunk_size=ctx.chunk_size,
                            checkpoint=ctx.checkpoint)


#: code -> (name shown to the firm — data, like obligation type names —, default rule,
#: function(JobContext) -> rows). A job commits its chunks through
#: ``ctx.checkpoint``; what it leaves uncommitted is committed with its outcome.
JOBS = {
    "sync_obligations": ("同步客户报税事项", "0 1 * * *", _sync),
    "flag_overdue": ("标记逾期报税事项", "0 2 * * *", _overdue),
    "remind_expiring": ("合同和地址到期提醒", "0 3 * * *", _expiring),
    "remind_deadlines": ("申报期限提醒", "0 4 * * *", _deadlines),
    "return_leads_to_pool": ("意向客户退回公共池", "0 5 * * *", _lead_pool),
    "release_service_requests": ("业务请求超时退回", "0 * * * *", _release_requests),
    "generate_charges": ("生成应收费用", "30 0 * * *", _charges),
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
    return schedule.latest_occurrence(rule, now, after)


# ---- the lock that dies with its holder -------------------------------------------
@dataclass
class JobLock:
    """A held per-job lock. ``kind``: ``advisory`` (PostgreSQL), ``file`` (SQLite
    flock) or ``None`` (no lock here: the lease decides)."""

    job_id: int
    kind: str | None
    handle: object = None


def _lock_file(job_id: int) -> str | None:
    if fcntl is None:
        return None
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return f"{os.path.abspath(path)}.job-{job_id}.lock"


def hold_job_lock(job_id: int) -> JobLock | None:
    """Take the job's lock without waiting; None if a live process holds it.

    On PostgreSQL it is an advisory lock on a connection of its own (an advisory
    lock belongs to a connection: taken through the ORM session it could be released
    on another pooled connection and stay held). On a SQLite file it is an exclusive
    flock on ``<database>.job-<id>.lock`` (per open file, so two schedulers in one
    process exclude each other too).
    """
    if db.engine.dialect.name == "postgresql":
        conn = db.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                           {"k": ADVISORY_LOCK_BASE + job_id}).scalar()
        conn.commit()
        if not got:
            conn.close()
            return None
        return JobLock(job_id, "advisory", conn)
    path = _lock_file(job_id)
    if path is None:
        return JobLock(job_id, None)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    except OSError:  # e.g. created by another user: the lease decides instead
        log.warning("cannot open the job lock file %s; falling back to the lease", path)
        return JobLock(job_id, None)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return JobLock(job_id, "file", fd)


def release_job_lock(lock: JobLock | None) -> None:
    if lock is None or lock.kind is None:
        return
    if lock.kind == "file":
        try:
            fcntl.flock(lock.handle, fcntl.LOCK_UN)
        finally:
            os.close(lock.handle)
        return
    try:
        lock.handle.execute(text("SELECT pg_advisory_unlock(:k)"),
                            {"k": ADVISORY_LOCK_BASE + lock.job_id})
        lock.handle.commit()
    finally:
        lock.handle.close()


# ---- one run ---------------------------------------------------------------------
@dataclass
class RunOutcome:
    job: str
    tick: datetime.datetime
    status: str   # ran / failed / interrupted / lost / taken / busy / waiting
    rows: int = 0
    error: str | None = None
    attempt: int | None = None
    retry_at: datetime.datetime | None = None


def _settle_open_claims(lock: JobLock, clk: _Clock) -> bool:
    """Close the job's open claims whose holders are gone (all of them when this
    process holds the lock; those past the lease otherwise). False when a live
    claim remains."""
    live = False
    conn = db.session.connection()
    now = clk.local()
    for run in db.session.execute(select(JobRun).where(
            JobRun.job_id == lock.job_id, JobRun.finished_at.is_(None))).scalars().all():
        seen = run.heartbeat_at or run.started_at
        if lock.kind is None and not schedule.is_stale(seen, now, lease()):
            live = True
            continue
        closed = conn.execute(
            update(JobRun.__table__).where(
                JobRun.id == run.id, JobRun.finished_at.is_(None),
                JobRun.heartbeat_at == run.heartbeat_at if run.heartbeat_at is not None
                else JobRun.heartbeat_at.is_(None))
            .values(status=ABANDONED, finished_at=seen)).rowcount
        if closed != 1:
            live = True  # it moved on meanwhile: alive after all
            continue
        audit.record(conn, "update", "job_run", run.id,
                     changes={"status": [RUNNING, ABANDONED]})
        conn.execute(update(ScheduledJob.__table__).where(
            ScheduledJob.id == lock.job_id,
            or_(ScheduledJob.last_failure_at.is_(None), ScheduledJob.last_failure_at < seen))
            .values(last_failure_at=seen))
        log.warning("job %s: run %s (attempt %s, host %s pid %s) was abandoned by its holder",
                    lock.job_id, run.id, run.attempt, run.host, run.pid)
    db.session.commit()
    return not live


def _claim(job_id: int, tick, attempt: int, manual: bool, cursor: str | None,
           clk: _Clock) -> int | None:
    now = clk.local()
    run = JobRun(job_id=job_id, tick=tick, attempt=attempt, status=RUNNING, started_at=now,
                 heartbeat_at=now, host=socket.gethostname()[:128], pid=os.getpid(),
                 manual=manual, cursor=cursor, rows=0)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:  # the same attempt, or another open claim, got in first
        db.session.rollback()
        return None
    return run.id


def _finish(job_id: int, run_id: int, tick, manual: bool, status: str, rows: int,
            error: str | None, clk: _Clock) -> bool:
    """Record the outcome (compare-and-set on the open claim) and commit it with
    whatever work is still uncommitted. False when the claim was taken over."""
    now = clk.local()
    conn = db.session.connection()
    closed = conn.execute(
        update(JobRun.__table__).where(JobRun.id == run_id, JobRun.finished_at.is_(None))
        .values(status=status, finished_at=now, heartbeat_at=now, rows=rows,
                error=error)).rowcount
    if closed != 1:
        db.session.rollback()
        return False
    audit.record(conn, "update", "job_run", run_id, changes={"status": [RUNNING, status]})
    job = db.session.get(ScheduledJob, job_id)
    job.last_run_at = now
    if status == SUCCEEDED:
        job.last_success_at = now
        if not manual and (job.last_tick is None or job.last_tick < tick):
            job.last_tick = tick
    elif status == FAILED:
        job.last_failure_at = now
    db.session.commit()
    return True


_OUTCOME = {SUCCEEDED: "ran", FAILED: "failed", INTERRUPTED: "interrupted"}


def run_job(job, tick: datetime.datetime, manual: bool = False,
            today: datetime.date | None = None, now=None) -> RunOutcome:
    """Run one tick of a job: lock, settle dead claims, decide, claim, work, finish
    (see the module's docstring). Safe to call from several machines at once: the
    tick runs once, and a failed tick is retried on later calls after its back-off.
    """
    clk = now if isinstance(now, _Clock) else _Clock(now)
    job_id, code = job.id, job.code
    lock = hold_job_lock(job_id)
    if lock is None:
        return RunOutcome(code, tick, "busy")
    try:
        if not _settle_open_claims(lock, clk):
            return RunOutcome(code, tick, "busy")
        attempts = db.session.execute(select(JobRun).where(
            JobRun.job_id == job_id, JobRun.tick == tick).order_by(JobRun.attempt)).scalars().all()
        plan = schedule.next_attempt(
            [schedule.Attempt(a.attempt, a.status, a.finished_at) for a in attempts],
            backoff_steps())
        if plan is None:  # done already (by another machine, or before a crash)
            if not manual:
                sj = db.session.get(ScheduledJob, job_id)
                if sj.last_tick is None or sj.last_tick < tick:
                    sj.last_tick = tick
                db.session.commit()
            return RunOutcome(code, tick, "taken")
        if plan.not_before is not None and clk.local() < plan.not_before:
            return RunOutcome(code, tick, "waiting", attempt=plan.number,
                              retry_at=plan.not_before)
        resume = attempts[-1].cursor if attempts else None
        run_id = _claim(job_id, tick, plan.number, manual, resume, clk)
        if run_id is None:
            return RunOutcome(code, tick, "busy")
        return _execute(job_id, code, tick, run_id, plan.number, manual, resume,
                        today or clock.today(), clk)
    finally:
        release_job_lock(lock)


def _execute(job_id, code, tick, run_id, attempt, manual, resume, today, clk) -> RunOutcome:
    func = JOBS.get(code, (None, None, None))[2]
    ctx = JobContext(today=today, tz=clock.tz_name(), chunk_size=chunk_size(),
                     resume_from=resume, run_id=run_id, attempt=attempt, clock=clk)
    error = None
    try:
        if func is None:
            raise LookupError(f"no code for job {code}")
        rows, status = func(ctx), SUCCEEDED
    except JobInterrupted:
        rows, status = ctx.rows, INTERRUPTED
        log.info("job %s stopped at a chunk boundary (%s rows done)", code, ctx.rows)
    except ClaimLost:
        log.warning("job %s: run %s was taken over by another machine", code, run_id)
        return RunOutcome(code, tick, "lost", ctx.rows, attempt=attempt)
    except Exception:  # a job's failure is recorded and retried, never lost
        db.session.rollback()
        rows, status, error = ctx.rows, FAILED, traceback.format_exc(limit=5)
        log.exception("job %s failed (attempt %s)", code, attempt)
    if not _finish(job_id, run_id, tick, manual, status, rows, error, clk):
        log.warning("job %s: run %s was taken over before it finished", code, run_id)
        return RunOutcome(code, tick, "lost", ctx.rows, attempt=attempt)
    return RunOutcome(code, tick, _OUTCOME[status], rows, error, attempt)


def tick(now: datetime.datetime | None = None) -> list[RunOutcome]:
    """Run every enabled job whose latest due occurrence has not succeeded yet
    (once; a failed one after its back-off). Stops early on SIGTERM."""
    clk = _Clock(now)
    today = clk.now().date() if now is not None else clock.today()
    outcomes = []
    jobs = db.session.execute(select(ScheduledJob).where(ScheduledJob.enabled.is_(True))
                              .order_by(ScheduledJob.id)).scalars().all()
    for job in jobs:
        if STOP.is_set():
            break
        due = schedule.latest_occurrence(job.rule, clk.now(), job.last_tick)
        if due is not None:
            outcomes.append(run_job(job, due, today=today, now=clk))
    return outcomes


def run_now(job: ScheduledJob) -> RunOutcome:
    """立即运行: a manual run, recorded like the others (does not move last_tick)."""
    clk = _Clock()
    return run_job(job, clk.local(), manual=True, now=clk)


# ---- running as a service -----------------------------------------------------------
@contextlib.contextmanager
def stop_on_signals():
    """While inside: SIGTERM (systemd, ``docker stop``) and SIGINT finish the chunk
    at hand, record the run as stopped and end the loop — no claim is left behind.
    The previous handlers come back afterwards."""

    def stop(signum, frame):
        log.info("signal %s: stopping after the current chunk", signum)
        STOP.set()

    STOP.clear()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def loop(interval: float = 30.0, iterations: int | None = None) -> None:
    """``flask scheduler run``: tick every ``interval`` seconds (forever by default)
    until SIGTERM; a tick that fails (the database away for a moment) is logged and
    the next one tried."""
    n = 0
    while not STOP.is_set() and (iterations is None or n < iterations):
        try:
            for outcome in tick():
                log.info("job %s tick %s: %s (%s rows%s)", outcome.job, outcome.tick,
                         outcome.status, outcome.rows,
                         f", retry at {outcome.retry_at}" if outcome.retry_at else "")
        except Exception:
            log.exception("tick failed")
            db.session.rollback()
        db.session.remove()
        n += 1
        if iterations is None or n < iterations:
            STOP.wait(interval)
    log.info("scheduler stopped")


# ---- what /jobs/, the home page and `flask scheduler status` show ---------------------
@dataclass
class JobStatus:
    id: int
    code: str
    name: str
    rule: str
    enabled: bool
    last_success_at: datetime.datetime | None
    last_failure_at: datetime.datetime | None
    last_failure_run: int | None
    last_tick: datetime.datetime | None
    running_since: datetime.datetime | None = None
    running_for: datetime.timedelta | None = None
    running_host: str | None = None
    running_pid: int | None = None
    running_attempt: int | None = None
    running_rows: int | None = None
    heartbeat_at: datetime.datetime | None = None
    stale: bool = False
    late_since: datetime.datetime | None = None
    retry_at: datetime.datetime | None = None
    failures: int = 0

    @property
    def late(self) -> bool:
        return self.late_since is not None


def late_jobs(now: datetime.datetime | None = None) -> list[ScheduledJob]:
    """The enabled jobs whose occurrence due more than the grace ago has not
    succeeded (one query: the home page asks on every visit)."""
    aware, grace = _Clock(now).now(), late_grace()
    jobs = db.session.execute(select(ScheduledJob).where(ScheduledJob.enabled.is_(True))
                              .order_by(ScheduledJob.id)).scalars().all()
    return [job for job in jobs
            if schedule.late_occurrence(job.rule, job.last_tick, aware, grace) is not None]


def status(now: datetime.datetime | None = None) -> list[JobStatus]:
    """Each job's last success and failure, the run in progress (since when, how
    long, stale when its holder showed no sign of life for the lease), the retry
    waiting, and whether it is late: the occurrence due more than the grace ago
    has not succeeded (``schedule.late_occurrence``)."""
    clk = _Clock(now)
    aware, local = clk.now(), clk.local()
    steps, grace, held = backoff_steps(), late_grace(), lease()
    result = []
    for job in db.session.execute(select(ScheduledJob).order_by(ScheduledJob.id)).scalars():
        failed = db.session.execute(
            select(JobRun.id).where(JobRun.job_id == job.id,
                                    JobRun.status.in_(schedule.FAILURES))
            .order_by(JobRun.finished_at.desc(), JobRun.id.desc()).limit(1)).scalar()
        st = JobStatus(job.id, job.code, job.name, job.rule, job.enabled,
                       job.last_success_at, job.last_failure_at, failed, job.last_tick)
        running = db.session.execute(select(JobRun).where(
            JobRun.job_id == job.id, JobRun.finished_at.is_(None))).scalar()
        if running is not None:
            st.running_since = running.started_at
            st.running_for = local - running.started_at
            st.running_host, st.running_pid = running.host, running.pid
            st.running_attempt, st.running_rows = running.attempt, running.rows
            st.heartbeat_at = running.heartbeat_at
            st.stale = schedule.is_stale(running.heartbeat_at or running.started_at,
                                         local, held)
        if job.enabled:
            st.late_since = schedule.late_occurrence(job.rule, job.last_tick, aware, grace)
            due = schedule.latest_occurrence(job.rule, aware, job.last_tick)
            if due is not None and running is None:
                attempts = [schedule.Attempt(a.attempt, a.status, a.finished_at)
                            for a in db.session.execute(select(JobRun).where(
                                JobRun.job_id == job.id, JobRun.tick == due)).scalars()]
                plan = schedule.next_attempt(attempts, steps)
                if plan is not None:
                    st.failures = plan.failures
                    if plan.not_before is not None and plan.not_before > local:
                        st.retry_at = plan.not_before
        result.append(st)
    return result
