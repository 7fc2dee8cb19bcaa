"""Jobs that survive a crash, for real: ``flask scheduler tick`` and ``run`` as
subprocesses on the test database (a SQLite file, or the PostgreSQL server), killed
with SIGKILL in the middle of a large sync, failing, two at once, stopped by SIGTERM.

Each test loads a few thousand demo clients and syncs them 50 at a time; the fault
harness (scheduler_app.py) pauses inside each chunk so that a kill lands mid-way.
Every wait is for a row in the database (the claim and its committed progress) and
has a timeout. The result is compared with what one uninterrupted sync leaves.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from sqlalchemy import select

from .test_scheduler import attempts, jobs, obligation_rows, only, run_rows, uninterrupted_sync  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
HARNESS = "tests/web/scheduler_app.py:create"
CLIENTS = 2000
CHUNK = 50
TIMEOUT = 25


class Scheduler:
    """One ``flask scheduler …`` process, its output in a file."""

    def __init__(self, database_url, *args, **settings):
        env = dict(os.environ, DATABASE_URL=database_url, AGENCYDESK_SYNC_CHUNK=str(CHUNK),
                   AGENCYDESK_RETRY_MINUTES="0", SECRET_KEY="scheduler-test-secret-0123456789")
        env.update({k: str(v) for k, v in settings.items()})
        self.out = tempfile.NamedTemporaryFile(prefix="scheduler-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([FLASK, "--app", HARNESS, "scheduler", *args], cwd=ROOT,
                                     env=env, stdout=self.out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        with open(self.out.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def wait(self, timeout=TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"scheduler did not exit within {timeout}s:\n{self.output()[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        os.unlink(self.out.name)


@pytest.fixture
def schedulers():
    started = []

    def start(*args, **kwargs):
        s = Scheduler(*args, **kwargs)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def tick(database_url, **settings) -> str:
    """``flask scheduler tick`` to the end; its output."""
    s = Scheduler(database_url, "tick", **settings)
    try:
        code = s.wait()
        out = s.output()
        assert code == 0, out
        return out
    finally:
        s.stop()


def wait_for(what, condition, timeout=TIMEOUT, proc: Scheduler | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.proc.poll() is not None:
            pytest.fail(f"scheduler exited before {what}:\n{proc.output()[-3000:]}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {timeout}s" + (f":\n{proc.output()[-3000:]}" if proc else ""))


def claim_with_progress(app):
    """The open claim, once it has committed a chunk (its rows > 0)."""
    from app.extensions import db
    from app.models import JobRun

    with app.app_context():
        with db.engine.connect() as conn:
            return conn.execute(select(JobRun.id, JobRun.rows, JobRun.pid).where(
                JobRun.finished_at.is_(None), JobRun.rows > 0)).first()


def succeeded(app):
    from app.extensions import db
    from app.models import JobRun

    with app.app_context():
        with db.engine.connect() as conn:
            return conn.execute(select(JobRun.id).where(JobRun.status == "succeeded")).first()


@pytest.fixture
def big_sync(app, jobs):  # noqa: F811
    """Only the sync enabled, CLIENTS new clients without obligations; yields what
    one uninterrupted sync would leave."""
    from app import clock
    from app.extensions import db
    from app.services.demo import load_demo

    only(app, "sync_obligations")
    with app.app_context():
        load_demo(n_clients=CLIENTS, n_staff=6, password="Demo-pass-123")
        db.session.commit()
        today = clock.today()
    expected = uninterrupted_sync(app, today)
    assert len(expected) > 2 * CLIENTS
    with app.app_context():
        db.session.remove()
    return expected


def test_a_sync_killed_mid_way_is_taken_over_and_every_obligation_created_once(
        app, database_url, big_sync, schedulers):
    first = schedulers(database_url, "tick", AGENCYDESK_TEST_CHUNK_PAUSE=0.1)
    wait_for("claim with progress", lambda: claim_with_progress(app), proc=first)
    first.proc.send_signal(signal.SIGKILL)  # as the OOM killer or a redeploy would
    first.wait()
    kept = obligation_rows(app)
    (_, killed), = run_rows(app, "sync_obligations")
    assert (killed.status, killed.finished_at, killed.pid) == ("running", None, first.pid)
    # the committed chunks stay, exactly as far as the run's progress says
    assert 0 < len(kept) == killed.rows < len(big_sync)

    out = tick(database_url)
    assert ": ran, " in out and "attempt 2" in out, out
    assert obligation_rows(app) == big_sync  # what one uninterrupted run leaves
    (_, dead), (_, second) = run_rows(app, "sync_obligations")
    assert (dead.status, second.status) == ("abandoned", "succeeded")
    assert dead.finished_at is not None and second.finished_at is not None
    assert second.rows == len(big_sync) - len(kept)  # the rerun did only the rest
    assert killed.rows + second.rows == len(big_sync)  # each obligation created once
    assert "nothing due" in tick(database_url)


def test_a_sync_that_raises_is_retried_after_its_backoff_then_succeeds(
        app, database_url, big_sync):
    out = tick(database_url, AGENCYDESK_TEST_FAIL="1:3")
    assert ": failed, " in out and "injected failure at chunk 3" in out, out
    kept = obligation_rows(app)
    assert len(kept) == run_rows(app, "sync_obligations")[0][1].rows > 0  # two chunks kept
    out = tick(database_url, AGENCYDESK_RETRY_MINUTES="1,5")
    assert ": waiting, " in out and "retry at" in out, out  # one minute after the failure
    out = tick(database_url)  # back-off 0: due now
    assert ": ran, " in out and "attempt 2" in out, out
    assert obligation_rows(app) == big_sync
    assert attempts(app, "sync_obligations") == [(1, "failed"), (2, "succeeded")]
    assert "injected failure" in run_rows(app, "sync_obligations")[0][1].error


def test_two_schedulers_run_the_tick_once_and_the_survivor_finishes_after_a_kill(
        app, database_url, big_sync, schedulers):
    a = schedulers(database_url, "run", "--interval", "0.2", AGENCYDESK_TEST_CHUNK_PAUSE=0.25)
    wait_for("claim with progress", lambda: claim_with_progress(app), proc=a)
    b = schedulers(database_url, "run", "--interval", "0.2")
    wait_for("the second scheduler to find the job busy", lambda: ": busy (" in b.output(), proc=b)
    assert len(run_rows(app, "sync_obligations")) == 1  # it claimed nothing
    a.proc.send_signal(signal.SIGKILL)
    a.wait()
    wait_for("the survivor to finish the tick", lambda: succeeded(app), proc=b)
    b.proc.send_signal(signal.SIGTERM)
    assert b.wait() == 0
    (_, first), (_, second) = run_rows(app, "sync_obligations")
    assert (first.attempt, first.status, first.pid) == (1, "abandoned", a.pid)
    assert (second.attempt, second.status, second.pid) == (2, "succeeded", b.pid)
    assert first.rows + second.rows == len(big_sync)
    assert obligation_rows(app) == big_sync


def test_sigterm_stops_scheduler_run_within_seconds_and_leaves_no_claim(
        app, database_url, big_sync, schedulers):
    s = schedulers(database_url, "run", "--interval", "0.2", AGENCYDESK_TEST_CHUNK_PAUSE=0.25,
                   AGENCYDESK_RETRY_MINUTES=60)
    wait_for("claim with progress", lambda: claim_with_progress(app), proc=s)
    started = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)  # systemctl stop, docker stop
    assert s.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    (_, stopped), = run_rows(app, "sync_obligations")
    assert stopped.status == "interrupted" and stopped.finished_at is not None  # no stale claim
    assert len(obligation_rows(app)) == stopped.rows  # the chunk at hand was finished
    assert "stopping after the current chunk" in s.output()
    out = tick(database_url, AGENCYDESK_RETRY_MINUTES=60)  # a clean stop is no failure
    assert ": ran, " in out and "attempt 2" in out, out
    assert obligation_rows(app) == big_sync
