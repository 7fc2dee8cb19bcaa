"""定时任务: due jobs run once per tick, a missed tick is caught up once, two
machines ticking together run it once, failures are recorded."""
import datetime
from zoneinfo import ZoneInfo

import pytest

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def jobs(app):
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    with app.app_context():
        db.session.query(JobRun).delete()
        for job in db.session.query(ScheduledJob).all():
            job.last_tick = datetime.datetime(2026, 11, 20, 0, 0)
            job.last_run_at = None
        db.session.commit()
    yield
    with app.app_context():
        db.session.query(JobRun).delete()
        db.session.commit()


def runs(app, code=None):
    from app.extensions import db
    from app.models import JobRun, ScheduledJob

    with app.app_context():
        q = db.session.query(JobRun, ScheduledJob.code).join(ScheduledJob)
        if code:
            q = q.filter(ScheduledJob.code == code)
        return [(c, r.tick, r.rows, r.error) for r, c in q.order_by(JobRun.id).all()]


def test_missed_days_are_caught_up_once(app, jobs):
    from app import scheduler

    with app.app_context():
        out = scheduler.tick(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SH))
    sync_runs = runs(app, "sync_obligations")
    # three missed 01:00 ticks (21st, 22nd, 23rd): one run, for the latest
    assert [t for _, t, _, _ in sync_runs] == [datetime.datetime(2026, 11, 23, 1, 0)]
    assert {o.status for o in out} == {"ran"}
    with app.app_context():
        assert scheduler.tick(datetime.datetime(2026, 11, 23, 9, 30, tzinfo=SH)) == []


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

    def boom(today, tz):
        raise RuntimeError("数据库不可用")

    monkeypatch.setitem(scheduler.JOBS, "flag_overdue",
                        ("Flag overdue obligations", "0 2 * * *", boom))
    with app.app_context():
        out = {o.job: o.status for o in scheduler.tick(datetime.datetime(2026, 11, 23, 9, 0, tzinfo=SH))}
    assert out["flag_overdue"] == "failed" and out["sync_obligations"] == "ran"
    assert "RuntimeError" in runs(app, "flag_overdue")[0][3]


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
    """PostgreSQL: the advisory lock is per job and released after each run."""
    from app import scheduler
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        job = db.session.query(ScheduledJob).filter_by(code="flag_overdue").one()
        holder = scheduler._advisory_lock(job.id)
        try:
            if holder is not True:  # PostgreSQL: another machine holds the lock
                assert scheduler.run_now(job).status == "busy"
        finally:
            scheduler._advisory_unlock(holder, job.id)
        assert scheduler.run_now(job).status == "ran"
        assert scheduler.run_now(job).status == "ran"  # released again after a run
