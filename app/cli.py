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
@with_appcontext
def demo_load(n_clients, n_staff, password, seed, if_empty):
    """Load realistic Chinese demo data in bulk (idempotent accounts, appended clients)."""
    from .extensions import db
    from .models import Client
    from .services.demo import load_demo

    if if_empty and db.session.query(Client.id).limit(1).first() is not None:
        n_clients = 0

    started = time.perf_counter()
    result = load_demo(n_clients=n_clients, n_staff=n_staff, password=password, seed=seed)
    elapsed = time.perf_counter() - started
    from . import clock
    from .services.obligations import sync_obligations

    synced = sync_obligations(clock.today(), clock.tz_name())
    click.echo(f"obligations: {synced.created} created")
    from .services.setup import refresh_statistics

    refresh_statistics()
    click.echo(f"demo: {result.clients} clients, {result.staff} staff in {elapsed:.1f}s")
    click.echo(f"demo admin: username=admin password={result.admin_password}")
    click.echo(f"demo staff (same password): {', '.join(result.sample_users)}")


@click.group("scheduler")
def scheduler_group():
    """Scheduled jobs (daily syncs and flags)."""


@scheduler_group.command("tick")
@with_appcontext
def scheduler_tick():
    """Run the jobs that are due, once, and exit."""
    from . import scheduler

    outcomes = scheduler.tick()
    for o in outcomes:
        click.echo(f"{o.job} @ {o.tick:%Y-%m-%d %H:%M}: {o.status}, {o.rows} rows"
                   + (f"\n{o.error}" if o.error else ""))
    if not outcomes:
        click.echo("nothing due")


@scheduler_group.command("run")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between ticks.")
@click.option("--iterations", default=None, type=int, help="Stop after N ticks (tests).")
@with_appcontext
def scheduler_run(interval, iterations):
    """Tick forever (safe to start on several machines at once)."""
    import logging

    from . import scheduler

    logging.basicConfig(level=logging.INFO)
    scheduler.loop(interval=interval, iterations=iterations)
