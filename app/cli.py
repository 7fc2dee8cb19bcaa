"""flask init / demo load / backup / restore / vault rotate / stats rebuild. The only
module besides the scheduler that reads the clock or the environment for business
purposes."""
from __future__ import annotations

import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def register(app: Flask) -> None:
    app.cli.add_command(init_command)
    app.cli.add_command(demo)
    app.cli.add_command(scheduler_group)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(vault_group)
    app.cli.add_command(stats_group)
    app.cli.add_command(portal_group)
    app.cli.add_command(ledger_group)


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
    from .services.demo_firm import fill

    click.echo(f"demo firm: {fill(seed)}")
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


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path):
    """Write a consistent snapshot of the database to PATH (and PATH.sha256)."""
    from .extensions import db
    from .services.backup import BackupError, backup

    try:
        done = backup(db.engine, path)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"备份完成：{done['path']}（{done['bytes']} 字节，SHA-256 {done['sha256']}）")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Replace the database by the snapshot at PATH (refused if damaged). Stop the
    app and the scheduler first."""
    from .extensions import db
    from .services.backup import BackupError, restore, verify

    try:
        verify(path)
        if not yes:
            click.confirm("恢复将用备份替换当前数据库的全部数据，确定继续？", abort=True)
        done = restore(db.engine, path)
    except BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"恢复完成：{done['path']}（SHA-256 {done['sha256']}）")


@click.group("vault")
def vault_group():
    """客户账号密码的加密密钥."""


@vault_group.command("rotate")
@click.option("--new-key", default=None, help="The new Fernet key (default: a new one).")
@with_appcontext
def vault_rotate(new_key):
    """Re-encrypt every stored client password under a new key, in one transaction.

    With the key in instance/vault.key the file is replaced (the old one kept as
    vault.key.old until you delete it); with AGENCYDESK_VAULT_KEY the new key is
    printed and must replace the variable's value before the next start.
    """
    import os

    from cryptography.fernet import Fernet

    from . import audit
    from .extensions import db
    from .security import vault

    current = vault.current()
    fresh = (new_key or Fernet.generate_key().decode()).encode()
    try:
        Fernet(fresh)
    except (ValueError, TypeError):
        raise click.ClickException("新密钥无效（需要 32 字节的 urlsafe base64 Fernet 密钥）。")
    pending = None
    if current.source != "env":
        pending = current.source + ".new"
        vault.write_key(pending, fresh)  # on disk before any secret depends on it
    try:
        count = vault.rotate(db.session, current.key, fresh)
        audit.record(db.session.connection(), "rotate", "client_credential",
                     changes={"secrets": count})
        db.session.commit()
    except vault.VaultError as exc:
        db.session.rollback()
        if pending:
            os.remove(pending)
        raise click.ClickException(str(exc))
    if pending:
        os.replace(current.source, current.source + ".old")
        os.replace(pending, current.source)
        click.echo(f"已用新密钥重新加密 {count} 条账号密码；新密钥已写入 {current.source}，"
                   f"旧密钥保存在 {current.source}.old（确认无误后删除）。")
    else:
        click.echo(f"已用新密钥重新加密 {count} 条账号密码。请立即把环境变量 "
                   f"{vault.ENV} 改为：\n{fresh.decode()}")
    current_app.extensions[vault.EXTENSION] = vault.Vault(fresh, current.source)


@click.group("stats")
def stats_group():
    """月度统计's summary tables."""


@stats_group.command("rebuild")
@click.option("--check", is_flag=True,
              help="Only compare the summaries with a recount of the approved entries and "
                   "report the differences (exit status 1 when there are any).")
@with_appcontext
def stats_rebuild(check):
    """Recount the approved journal entries, report where the monthly summaries
    differ, and (without --check) replace the ones that do."""
    from .services.stats import check_summary

    report = check_summary(fix=not check)
    differences = sum(len(rows) for rows in report.values())
    for table, rows in report.items():
        click.echo(f"{table}: {len(rows)} difference(s)")
        for key, kept, counted in rows[:20]:
            click.echo(f"  {key}: summary {kept} recount {counted}")
        if len(rows) > 20:
            click.echo(f"  … {len(rows) - 20} more")
    if differences and not check:
        click.echo("rebuilt from the recount")
    elif not differences:
        click.echo("the summaries equal the recount")
    raise SystemExit(1 if differences and check else 0)


@click.group("ledger")
def ledger_group():
    """应收 (the receivables ledger)."""


@ledger_group.command("reconcile")
@click.option("--today", help="The day to reconcile on (YYYY-MM-DD; default: the firm's today).")
@with_appcontext
def ledger_reconcile(today):
    """The old "periods × fee" against the ledger's open charges past due, itemised
    by reason; exit status 1 when the lines do not add up."""
    import datetime

    from . import clock
    from .extensions import db
    from .services.ledger import reconciliation, reconciliation_report

    try:
        day = datetime.date.fromisoformat(today) if today else clock.today()
    except ValueError:
        raise click.BadParameter("YYYY-MM-DD", param_hint="--today")
    rec = reconciliation(db.session.connection(), day)
    for line in reconciliation_report(rec):
        click.echo(line)
    raise SystemExit(1 if rec.residual else 0)


@click.group("portal")
def portal_group():
    """客户门户: client users."""


@portal_group.command("add-user")
@click.argument("username")
@click.option("--client-id", required=True, type=click.IntRange(1, 2 ** 31 - 1),
              help="The client the login belongs to (run again with another id for a "
                   "boss with several companies).")
@click.option("--password", default="", help="The password (not forced to change).")
@click.option("--name", default="", help="The contact's name.")
@click.option("--phone", default="", help="The contact's phone.")
@with_appcontext
def portal_add_user(username, client_id, password, name, phone):
    """Give a client a portal login, or an existing client user one more client."""
    from .services.portal import PortalError, add_client_user

    try:
        user = add_client_user(username, client_id, password, name=name, phone=phone)
    except PortalError as exc:
        raise click.ClickException(exc.message % exc.params if exc.params else exc.message)
    click.echo(f"portal user {user.username} (id {user.id}) sees client {client_id}")
