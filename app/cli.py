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
@click.option("--clients", "n_clients", default=500, show_default=True, type=int)
@click.option("--staff", "n_staff", default=20, show_default=True, type=int)
@click.option("--password", default=None, help="Password for the demo accounts.")
@click.option("--seed", default=20261123, show_default=True, type=int)
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
    click.echo(f"demo: {result.clients} clients, {result.staff} staff in {elapsed:.1f}s")
    click.echo(f"demo admin: username=admin password={result.admin_password}")
    click.echo(f"demo staff (same password): {', '.join(result.sample_users)}")
