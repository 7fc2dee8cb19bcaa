"""flask init / flask demo load. The only module besides the scheduler that reads
the clock or the environment for business purposes."""
from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def register(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(demo)
    app.cli.add_command(scheduler_group)


@click.command("init")
@with_appcontext
def init_command():
    """Bring the database to the current schema, sync permissions, create the roles."""
    from .services.setup import initialise

    report = initialise(current_app)
    click.echo(report)


@click.group("demo")
def demo():
    """Demo data."""


@demo.command("load")
@click.option("--clients", "n_clients", default=500, show_default=True,
              type=click.IntRange(0, 5_000_000))
@click.option("--staff", "n_staff", default=20, show_default=True,
              type=click.IntRange(0, 10_000))
@click.option("--password", default=None, help="Password for the demo accounts.")
@click.option("--seed", default=20261123, show_default=True,
              type=click.IntRange(0, 2 ** 31 - 1))
@click.option("--if-empty", is_flag=True, help="Add clients only if there are none yet.")
@click.option("--obligations/--no-obligations", default=True, show_default=True,
              help="Create the clients' obligations now (about nine per client; with "
                   "--no-obligations the scheduler's daily sync creates them in chunks).")
@with_appcontext
def demo_load(n_clients, n_staff, password, seed, if_empty, obligations):
    """Load realistic Chinese demo data in bulk (idempotent accounts, appended clients)."""
    from .extensions import db
    from .models import Client
    from .services.demo import load_demo

    if if_empty and db.session.query(Client.id).limit(1).first() is not None:
        n_clients = 0

    started = time.perf_counter()
    result = load_demo(n_clients=n_clients, n_staff=n_staff, password=password, seed=seed)
    elapsed = time.perf_counter() - started
    click.echo(f"clients: {result.clients} added in {elapsed:.1f}s")
    from . import clock
    from .services.obligations import sync_obligations

    if obligations:
        # in chunks of clients, each committed: a million clients' obligations do
        # not sit in one transaction
        started = time.perf_counter()
        synced = sync_obligations(clock.today(), clock.tz_name(), chunk_size=20_000)
        click.echo(f"obligations: {synced.created} created in "
                   f"{time.perf_counter() - started:.1f}s")
    from .services.setup import refresh_statistics

    refresh_statistics()
    click.echo(f"demo: {result.clients} clients, {result.staff} staff in {elapsed:.1f}s")
    click.echo(f"demo admin: username=admin password={result.admin_password}")
    click.echo(f"demo staff (same password): {', '.join(result.sample_users)}")


@click.group("scheduler")
def scheduler_group():
    """Scheduled jobs (daily syncs and flags)."""


def _describe(o) -> str:
    line = f"{o.job} @ {o.tick:%Y-%m-%d %H:%M}: {o.status}, {o.rows} rows"
    if o.attempt and o.attempt > 1:
        line += f", attempt {o.attempt}"
    if o.retry_at:
        line += f", retry at {o.retry_at:%Y-%m-%d %H:%M:%S}"
    return line + (f"\n{o.error}" if o.error else "")


@scheduler_group.command("tick")
@with_appcontext
def scheduler_tick():
    """Run the jobs that are due (or due for a retry), once, and exit. SIGTERM stops
    after the chunk at hand."""
    from . import scheduler

    with scheduler.stop_on_signals():
        outcomes = scheduler.tick()
    for o in outcomes:
        click.echo(_describe(o))
    if not outcomes:
        click.echo("nothing due")


@scheduler_group.command("run")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between ticks.")
@click.option("--iterations", default=None, type=int, help="Stop after N ticks (tests).")
@with_appcontext
def scheduler_run(interval, iterations):
    """Tick forever (safe to start on several machines at once). SIGTERM or Ctrl-C
    finishes the chunk at hand, records the run as stopped and exits."""
    import logging

    from . import scheduler

    logging.basicConfig(level=logging.INFO)
    with scheduler.stop_on_signals():
        scheduler.loop(interval=interval, iterations=iterations)


def _duration(delta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _at(value) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


@scheduler_group.command("status")
@with_appcontext
def scheduler_status():
    """Each job's health: last success, last failure, a run in progress and for how
    long, a stale claim, a retry waiting. Exits 1 when a job is late (has not
    succeeded within its expected interval), for monitoring."""
    from . import scheduler

    statuses = scheduler.status()
    for st in statuses:
        if not st.enabled:
            state = "DISABLED"
        elif st.late:
            state = "LATE"
        elif st.running_since is not None:
            state = "RUNNING"
        elif st.retry_at is not None:
            state = "RETRYING"
        else:
            state = "OK"
        click.echo(f"{st.code:<20} {state:<9} last success {_at(st.last_success_at)}"
                   f"  last failure {_at(st.last_failure_at)}")
        if st.late:
            click.echo(f"    late: the run due at {st.late_since:%Y-%m-%d %H:%M} has not succeeded")
        if st.running_since is not None:
            click.echo(f"    running since {_at(st.running_since)} ({_duration(st.running_for)}),"
                       f" attempt {st.running_attempt}, {st.running_rows or 0} rows so far,"
                       f" host {st.running_host} pid {st.running_pid}")
        if st.stale:
            click.echo(f"    STALE CLAIM: no sign of life since "
                       f"{_at(st.heartbeat_at or st.running_since)}")
        if st.retry_at is not None:
            click.echo(f"    {st.failures} failed attempt(s), next retry at {_at(st.retry_at)}")
    late = [st.code for st in statuses if st.late]
    if late:
        click.echo(f"LATE: {', '.join(late)}", err=True)
        click.get_current_context().exit(1)
