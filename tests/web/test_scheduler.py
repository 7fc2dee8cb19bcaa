"""定时任务: due jobs run once per tick, a missed tick is caught up once, two
machines ticking together run it once; a failed or abandoned run is retried with
back-off, a long sync resumes where it stopped, and /jobs/, the home page and
``flask scheduler status`` say when a job is late.

The same runs killed for real (SIGKILL, SIGTERM, two schedulers) are in
test_scheduler_crash.py."""
import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

SH = ZoneInfo("Asia/Shanghai")


def at(text_: str) -> datetime.datetime:
    """An aware Beijing time: what the scheduler's clock would read."""
    return datetime.datetime.fromisoformat(text_).replace(tzinfo=SH)


@pytest.fixture
def jobs(app):
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    def reset():
        with app.app_context():
            db.session.query(JobRun).delete()
            for job in db.session.query(ScheduledJob).all():
                job.last_tick = datetime.datetime(2026, 11, 20, 0, 0)
                job.last_run_at = job.last_success_at = job.last_failure_at = None
                job.enabled = True
            db.session.commit()

    reset()
    yield
    reset()


def only(app, code):
    """Leave only one job enabled (the others would run on every tick)."""
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        for job in db.session.query(ScheduledJob).all():
            job.enabled = job.code == code
        db.session.commit()


def runs(app, code=None):
    """(code, tick, rows, error) of every run, oldest first."""
    return [(c, r.tick, r.rows, r.error) for c, r in run_rows(app, code)]


def run_rows(app, code=None):
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    with app.app_context():
        q = db.session.query(ScheduledJob.code, JobRun).join(ScheduledJob)
        if code:
            q = q.filter(ScheduledJob.code == code)
        rows = q.order_by(JobRun.id).all()
        db.session.expunge_all()
        return rows


def attempts(app, code):
    """(attempt, status) of a job's runs, oldest first."""
    return [(r.attempt, r.status) for _, r in run_rows(app, code)]


def job_row(app, code):
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code=code).one()
        db.session.expunge(job)
        return job


def failing(times, error="数据库不可用"):
    """A job function that raises the first ``times`` times, then succeeds."""
    calls = []

    def job(ctx):
        calls.append(ctx.attempt)
        if len(calls) <= times:
            raise RuntimeError(error)
        return 7

    job.calls = calls
    return job


# ---- once per tick ------------------------------------------------------------------
def test_missed_days_are_caught_up_once(app, jobs):
    from app import scheduler

    with app.app_context():
        out = scheduler.tick(at("2026-11-23 09:00"))
    sync_runs = runs(app, "sync_obligations")
    # three missed 01:00 ticks (21st, 22nd, 23rd): one run, for the latest
    assert [t for _, t, _, _ in sync_runs] == [datetime.datetime(2026, 11, 23, 1, 0)]
    assert {o.status for o in out} == {"ran"}
    with app.app_context():
        assert scheduler.tick(at("2026-11-23 09:30")) == []


def test_second_machine_on_the_same_tick_runs_nothing(app, jobs):
    from app import scheduler
    from app.extensions import db
    from app.models import ScheduledJob

    tick = datetime.datetime(2026, 11, 23, 2, 0)
    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        first = scheduler.run_job(job, tick)
        second = scheduler.run_job(job, tick)
    assert (first.status, second.status) == ("ran", "taken")
    assert len(runs(app, "flag_overdue")) == 1


def test_a_failing_job_is_recorded_and_others_still_run(app, jobs, monkeypatch):
    from app import scheduler

    monkeypatch.setitem(scheduler.JOBS, "flag_overdue",
                        ("Flag overdue obligations", "0 2 * * *", failing(1)))
    with app.app_context():
        out = {o.job: o.status for o in scheduler.tick(at("2026-11-23 09:00"))}
    assert out["flag_overdue"] == "failed" and out["sync_obligations"] == "ran"
    assert "RuntimeError" in runs(app, "flag_overdue")[0][3]
    assert job_row(app, "flag_overdue").last_failure_at is not None


def test_cli_tick_and_run(app, jobs):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "tick"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["scheduler", "run", "--iterations", "2", "--interval", "0"])
    assert result.exit_code == 0, result.output


def test_run_now_from_the_jobs_screen(app, jobs, admin_client):
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        jid = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one().id
    resp = admin_client.post_form(f"/jobs/action/run_now/{jid}")
    assert resp.status_code == 302
    assert len(runs(app, "flag_overdue")) == 1
    html = admin_client.get("/job-runs/list/").get_data(as_text=True)
    assert "标记逾期" in html


def test_a_job_held_by_another_machine_is_busy_then_free(app, jobs):
    """The per-job lock (advisory on PostgreSQL, flock on a SQLite file) is held
    for the run and released after it."""
    from app import scheduler
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        holder = scheduler.hold_job_lock(job.id)
        assert holder is not None and holder.kind in ("advisory", "file")
        try:
            assert scheduler.run_now(job).status == "busy"
        finally:
            scheduler.release_job_lock(holder)
        assert scheduler.run_now(job).status == "ran"
        assert scheduler.run_now(job).status == "ran"  # released again after a run


# ---- retries -------------------------------------------------------------------------
def test_a_failed_tick_is_retried_with_backoff_until_it_succeeds(app, jobs, monkeypatch,
                                                               admin_client):
    from app import scheduler

    only(app, "flag_overdue")
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "1,5,15,60")
    monkeypatch.setitem(scheduler.JOBS, "flag_overdue", ("x", "0 2 * * *", failing(2)))

    def status(when):
        with app.app_context():
            (outcome,) = scheduler.tick(at(when))
        return outcome.status, outcome.attempt

    assert status("2026-11-23 09:00:00") == ("failed", 1)
    assert status("2026-11-23 09:00:50") == ("waiting", 2)     # 1 minute after the failure
    assert status("2026-11-23 09:01:02") == ("failed", 2)
    assert status("2026-11-23 09:05:30") == ("waiting", 3)     # 5 minutes after the 2nd
    assert status("2026-11-23 09:06:10") == ("ran", 3)
    with app.app_context():
        assert scheduler.tick(at("2026-11-23 10:00")) == []     # done until tomorrow 02:00
    assert attempts(app, "flag_overdue") == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert {r.tick for _, r in run_rows(app, "flag_overdue")} == {datetime.datetime(2026, 11, 23, 2, 0)}
    assert "数据库不可用" in runs(app, "flag_overdue")[1][3]
    assert job_row(app, "flag_overdue").last_tick == datetime.datetime(2026, 11, 23, 2, 0)
    # each attempt is a row of /job-runs/, with its number and result
    html = admin_client.get("/job-runs/list/").get_data(as_text=True)
    assert html.count("失败") >= 2 and "成功" in html and "尝试次数" in html


def test_a_later_occurrence_supersedes_a_tick_that_keeps_failing(app, jobs, monkeypatch):
    from app import scheduler

    only(app, "flag_overdue")
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "1")
    monkeypatch.setitem(scheduler.JOBS, "flag_overdue", ("x", "0 2 * * *", failing(3)))
    with app.app_context():
        scheduler.tick(at("2026-11-23 09:00"))
        scheduler.tick(at("2026-11-23 09:10"))
        (outcome,) = scheduler.tick(at("2026-11-24 09:00"))  # the 24th's 02:00 is due now
        assert (outcome.tick, outcome.attempt, outcome.status) == (
            datetime.datetime(2026, 11, 24, 2, 0), 1, "failed")
        (outcome,) = scheduler.tick(at("2026-11-24 09:05"))
        assert outcome.status == "ran"
        assert scheduler.tick(at("2026-11-24 09:30")) == []  # the 23rd is not run any more
    ticks = [(r.tick.day, r.attempt, r.status) for _, r in run_rows(app, "flag_overdue")]
    assert ticks == [(23, 1, "failed"), (23, 2, "failed"), (24, 1, "failed"), (24, 2, "succeeded")]


def test_a_dead_claim_is_abandoned_and_retried_a_live_one_is_left_alone(app, jobs, monkeypatch):
    """A claim left by a killed process (no finished_at, nobody holding the job's
    lock) is closed as abandoned and retried after the back-off; while a live
    process holds the lock the job is busy and its claim untouched."""
    from app import scheduler
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    only(app, "flag_overdue")
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "1")
    tick = datetime.datetime(2026, 11, 23, 2, 0)
    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        db.session.add(JobRun(job_id=job.id, tick=tick, attempt=1, status="running",
                              started_at=tick, heartbeat_at=datetime.datetime(2026, 11, 23, 2, 0, 30),
                              host="machine-b", pid=4242))
        db.session.commit()
        holder = scheduler.hold_job_lock(job.id)  # its process is still alive
        try:
            (outcome,) = scheduler.tick(at("2026-11-23 09:00"))
            assert outcome.status == "busy"
            assert attempts(app, "flag_overdue") == [(1, "running")]
        finally:
            scheduler.release_job_lock(holder)  # … and now it is gone
        (outcome,) = scheduler.tick(at("2026-11-23 09:00:10"))
        assert (outcome.status, outcome.attempt) == ("ran", 2)  # last sign of life 02:00:30
    dead = run_rows(app, "flag_overdue")[0][1]
    assert (dead.status, dead.finished_at) == ("abandoned", datetime.datetime(2026, 11, 23, 2, 0, 30))
    assert attempts(app, "flag_overdue") == [(1, "abandoned"), (2, "succeeded")]


def test_an_abandoned_claim_waits_for_its_backoff(app, jobs, monkeypatch):
    from app import scheduler
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    only(app, "flag_overdue")
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "5")
    tick = datetime.datetime(2026, 11, 23, 2, 0)
    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        db.session.add(JobRun(job_id=job.id, tick=tick, attempt=1, status="running",
                              started_at=tick, heartbeat_at=datetime.datetime(2026, 11, 23, 8, 58)))
        db.session.commit()
        (outcome,) = scheduler.tick(at("2026-11-23 09:00"))
        assert (outcome.status, outcome.retry_at) == ("waiting", datetime.datetime(2026, 11, 23, 9, 3))
        (outcome,) = scheduler.tick(at("2026-11-23 09:03:01"))
        assert outcome.status == "ran"


def test_where_no_lock_exists_the_lease_decides_and_a_late_holder_cannot_finish(
        app, jobs, monkeypatch):
    """Without a per-job lock (SQLite in memory) a claim is taken over only after
    its lease; the holder that lost it rolls back its last piece of work and
    records nothing: the tick is finished once."""
    from app import scheduler
    from app.extensions import db
    from app.models import JobRun, ScheduledJob, Setting

    only(app, "flag_overdue")
    monkeypatch.setattr(scheduler, "hold_job_lock", lambda job_id: scheduler.JobLock(job_id, None))
    monkeypatch.setitem(app.config, "SCHEDULER_LEASE_SECONDS", 600)
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "0")
    tick = datetime.datetime(2026, 11, 23, 2, 0)
    taken_over = []

    def slow_holder(ctx):
        # while this holder works, another machine finds its lease expired and takes over
        with db.engine.connect() as other:
            other.execute(update(JobRun.__table__).where(JobRun.id == ctx.run_id)
                          .values(status="abandoned", finished_at=tick))
            other.commit()
        taken_over.append(ctx.run_id)
        db.session.add(Setting(key="work-of-the-late-holder", value="x"))
        db.session.flush()
        return 1

    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        db.session.add(JobRun(job_id=job.id, tick=tick, attempt=1, status="running",
                              started_at=tick, heartbeat_at=datetime.datetime(2026, 11, 23, 8, 55)))
        db.session.commit()
        (outcome,) = scheduler.tick(at("2026-11-23 09:00"))
        assert outcome.status == "busy"  # heartbeat 5 minutes ago: within the lease
        monkeypatch.setitem(scheduler.JOBS, "flag_overdue", ("x", "0 2 * * *", slow_holder))
        (outcome,) = scheduler.tick(at("2026-11-23 09:05:01"))
        assert (outcome.status, outcome.attempt) == ("lost", 2)
        assert db.session.get(Setting, "work-of-the-late-holder") is None
    assert attempts(app, "flag_overdue") == [(1, "abandoned"), (2, "abandoned")]
    assert job_row(app, "flag_overdue").last_tick == datetime.datetime(2026, 11, 20, 0, 0)


# ---- chunks ------------------------------------------------------------------------------
def obligation_rows(app):
    from app.extensions import db
    from app.models import Obligation

    with app.app_context():
        return set(db.session.execute(select(
            Obligation.client_id, Obligation.type_id, Obligation.deadline,
            Obligation.assignee_id, Obligation.active)).all())


def uninterrupted_sync(app, today):
    """The obligations one uninterrupted sync would leave (computed, then rolled back)."""
    from app.extensions import db
    from app.services.obligations import sync_obligations

    with app.app_context():
        sync_obligations(today, "Asia/Shanghai", checkpoint=lambda cursor, rows: None)
        from app.models import Obligation

        rows = set(db.session.execute(select(
            Obligation.client_id, Obligation.type_id, Obligation.deadline,
            Obligation.assignee_id, Obligation.active)).all())
        db.session.rollback()
    return rows


@pytest.fixture
def many_clients(app, make_client, make_user):
    accountant = make_user("Accountant")
    agent = make_user("FieldAgent")
    return [make_client(bookkeeper=accountant, field_agent=agent, ticket_pickup=("month" if i % 3 == 0 else "none"),
                        tax_device_type="ukey" if i % 2 else "none") for i in range(40)]


def test_a_sync_that_fails_halfway_keeps_its_chunks_and_the_retry_does_only_the_rest(
        app, jobs, monkeypatch, many_clients):
    from app import scheduler

    only(app, "sync_obligations")
    monkeypatch.setitem(app.config, "SCHEDULER_CHUNK_SIZE", 7)
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "1")
    expected = uninterrupted_sync(app, datetime.date(2026, 11, 23))
    name, rule, sync = scheduler.JOBS["sync_obligations"]

    chunks = {1: [], 2: []}  # the cursors each attempt committed

    def breaks_at_third_chunk(ctx):
        real, done = ctx.checkpoint, chunks[ctx.attempt]

        def checkpoint(cursor, rows):
            if ctx.attempt == 1 and len(done) == 2:
                raise RuntimeError("磁盘已满")
            done.append(cursor)
            real(cursor, rows)

        ctx.checkpoint = checkpoint
        return sync(ctx)

    monkeypatch.setitem(scheduler.JOBS, "sync_obligations", (name, rule, breaks_at_third_chunk))
    with app.app_context():
        (first,) = scheduler.tick(at("2026-11-23 09:00"))
    assert first.status == "failed"
    kept = obligation_rows(app)
    (_, failed_run), = run_rows(app, "sync_obligations")
    # two chunks (14 clients) committed with the run's progress, the third rolled back
    assert 0 < len(kept) == failed_run.rows < len(expected)
    assert failed_run.cursor == str(sorted(many_clients)[13])
    assert {c for c, *_ in kept} == set(sorted(many_clients)[:14])
    with app.app_context():
        (second,) = scheduler.tick(at("2026-11-23 09:01:30"))
    assert (second.status, second.attempt) == ("ran", 2)
    # only the rest: clients 15-40 in 4 chunks, starting after the cursor
    ids = [str(i) for i in sorted(many_clients)]
    assert chunks[2] == [ids[20], ids[27], ids[34], ids[39]]
    assert second.rows == len(expected) - len(kept)
    assert obligation_rows(app) == expected          # as one uninterrupted run
    with app.app_context():
        from app.services.obligations import sync_obligations

        assert sync_obligations(datetime.date(2026, 11, 23), "Asia/Shanghai").rows == 0


def test_two_syncs_at_once_create_each_obligation_once(app, many_clients):
    """A type saved on its screen (a sync in the request) while the daily job syncs:
    the second waits for the first and skips what it created, instead of failing on
    the unique (client, type) constraint."""
    import threading
    import time

    from app.extensions import db
    from app.services.obligations import sync_obligations

    today = datetime.date(2026, 11, 23)
    expected = uninterrupted_sync(app, today)
    second = {}

    def sync_in_another_session():
        with app.app_context():
            try:
                second["created"] = sync_obligations(today, "Asia/Shanghai").created
            except Exception as exc:  # noqa: BLE001 - the test reports it
                second["created"] = exc
            finally:
                db.session.remove()

    with app.app_context():
        first = sync_obligations(today, "Asia/Shanghai", checkpoint=lambda cursor, rows: None)
        thread = threading.Thread(target=sync_in_another_session)
        thread.start()
        time.sleep(0.5)  # the second sync is now waiting for the first one's rows
        db.session.commit()
        thread.join(30)
    assert (first.created, second["created"]) == (len(expected), 0)
    assert obligation_rows(app) == expected


def test_sigterm_finishes_the_chunk_and_the_next_tick_resumes_at_once(
        app, jobs, monkeypatch, many_clients):
    from app import scheduler

    only(app, "sync_obligations")
    monkeypatch.setitem(app.config, "SCHEDULER_CHUNK_SIZE", 10)
    monkeypatch.setitem(app.config, "SCHEDULER_RETRY_MINUTES", "60")
    expected = uninterrupted_sync(app, datetime.date(2026, 11, 23))
    name, rule, sync = scheduler.JOBS["sync_obligations"]

    def stopped_after_first_chunk(ctx):
        real = ctx.checkpoint

        def checkpoint(cursor, rows):
            scheduler.STOP.set()  # SIGTERM arrives while the chunk runs
            real(cursor, rows)

        ctx.checkpoint = checkpoint if ctx.attempt == 1 else real
        return sync(ctx)

    monkeypatch.setitem(scheduler.JOBS, "sync_obligations", (name, rule, stopped_after_first_chunk))
    try:
        with app.app_context():
            (first,) = scheduler.tick(at("2026-11-23 09:00"))
    finally:
        scheduler.STOP.clear()
    assert (first.status, first.rows) == ("interrupted", len(obligation_rows(app)))
    (_, stopped), = run_rows(app, "sync_obligations")
    assert stopped.status == "interrupted" and stopped.finished_at is not None
    with app.app_context():
        (second,) = scheduler.tick(at("2026-11-23 09:00:05"))  # no back-off for a clean stop
    assert (second.status, second.attempt) == ("ran", 2)
    assert obligation_rows(app) == expected


# ---- who sees it -----------------------------------------------------------------------
def test_jobs_page_shows_success_failure_a_run_in_progress_and_a_stale_claim(
        app, jobs, admin_client, monkeypatch):
    from app import clock, scheduler
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    monkeypatch.setitem(scheduler.JOBS, "flag_overdue", ("x", "0 2 * * *", failing(5)))
    with app.app_context():
        scheduler.tick()  # sync and reminders succeed, flag_overdue fails
        remind = db.session.query(ScheduledJob).filter_by(code="remind_expiring").one()
        now = clock.local_now()
        db.session.add(JobRun(job_id=remind.id, tick=now.replace(hour=3, minute=0), attempt=2,
                              status="running", started_at=now - datetime.timedelta(minutes=47),
                              heartbeat_at=now - datetime.timedelta(minutes=31), rows=120,
                              host="机房二号机", pid=4242))
        db.session.commit()
    html = admin_client.get("/jobs/list/").get_data(as_text=True)
    status = html[html.index("job-status"):html.index("</table>", html.index("job-status"))]
    rows = status.split("<tr class=")[1:]
    assert len(rows) == len(scheduler.JOBS)

    def row(name):
        return next(r for r in rows if name in r)

    sync, flag, remind = row("同步客户报税事项"), row("标记逾期报税事项"), row("合同和地址到期提醒")
    assert "申报期限提醒" in status
    assert "正常" in sync and f"{now:%Y-%m-%d}" in sync              # its last success
    # 02:00 today has not succeeded (more than 2 hours ago): late, retry waiting
    assert "未按时完成" in flag and "已失败 1 次，下次重试" in flag
    assert "/job-runs/show/" in flag                                  # its last failure
    assert "运行中" in remind and "已运行 47 分" in remind and "机房二号机" in remind
    assert "占用已失效" in remind and "占用已失效" not in sync + flag   # no heartbeat for 31 min


def test_home_shows_a_red_card_while_a_job_is_late(app, jobs, admin_client, make_user, client):
    from app import clock, scheduler
    from app.domain.schedule import latest_occurrence
    from app.extensions import db
    from app.models import ScheduledJob

    html = admin_client.get("/").get_data(as_text=True)
    assert "定时任务未按时完成" in html and "panel-danger" in html
    assert "同步客户报税事项" in html
    with app.app_context():
        for job in db.session.query(ScheduledJob).all():
            job.last_tick = latest_occurrence(job.rule, clock.now())
        db.session.commit()
        assert scheduler.late_jobs() == []
    assert "定时任务未按时完成" not in admin_client.get("/").get_data(as_text=True)
    # only who sees the jobs screen sees the card
    client.login(make_user("Accountant"))
    with app.app_context():
        db.session.execute(update(ScheduledJob).values(last_tick=None))
        db.session.commit()
    assert "定时任务未按时完成" not in client.get("/").get_data(as_text=True)


def test_status_command_prints_each_job_and_fails_while_one_is_late(app, jobs):
    from app import clock, scheduler
    from app.domain.schedule import latest_occurrence
    from app.extensions import db
    from app.models import ScheduledJob

    runner = app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 1
    assert "LATE" in result.output and "sync_obligations" in result.output
    with app.app_context():
        for job in db.session.query(ScheduledJob).all():
            job.last_tick = latest_occurrence(job.rule, clock.now())
        db.session.commit()
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines()
            if not line.startswith(" ")] == ["OK"] * len(scheduler.JOBS)
