"""Obligation benchmark: 100,000 clients × their obligation types and tax kinds.

    python bench/bench_obligations.py                    # SQLite file under bench/out/
    python bench/bench_obligations.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_ob

Prints: demo load, the sync job from empty (set-based INSERT … SELECT), a second sync
with nothing to do, a daily scheduler tick with nothing to do, 完成 on 500 selected
rows in one multi-row action (through the web action, CSRF on; then the same post
again, as a double click, and 跳过 on 500 more), the overdue list
page (median of 20, statements per request), and the 申报进度 board: one page of 50
clients × the tax kinds, with its SQL time (the statements' own time, summed) next to
the page's, for the admin (every client) and an accountant (his ~2% of them).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from bench_pages import (  # noqa: E402
    DEFAULT_PASSWORD, StatementCounter, fresh_database, timed, csrf_token, login, p90, pg_create, pg_drop,
    pg_exists)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--complete", type=int, default=500)
    parser.add_argument("--keep", action="store_true",
                        help="PostgreSQL: keep the database (created if absent) for --reuse")
    parser.add_argument("--reuse", action="store_true",
                        help="PostgreSQL: a database kept by --keep, loaded and synced: "
                             "time 完成/跳过 and the pages only")
    parser.add_argument("--profile-complete", action="store_true",
                        help="print a cProfile of the 完成 on --complete rows")
    parser.add_argument("--board-only", action="store_true",
                        help="reuse the SQLite database of the last run; time the board only")
    args = parser.parse_args(argv)

    if args.reuse and args.database_url and args.database_url.startswith("postgresql"):
        # a kept PostgreSQL database (--keep): straight to the timed steps
        return run(args, args.database_url)
    if args.keep and args.database_url and args.database_url.startswith("postgresql"):
        if not pg_exists(args.database_url):
            pg_create(args.database_url)
        return run(args, args.database_url)
    with fresh_database(args.database_url, "bench_obligations", reuse=args.board_only) as url:
        return run(args, url)
        pg_create(url)
        created = True
    if not url:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", "bench_obligations.db")
        if os.path.exists(path) and not args.board_only:
            os.remove(path)
        url = "sqlite:///" + path
    try:
        return run(args, url)
    finally:
        if created:
            pg_drop(url)


def run(args, url) -> int:
    from app import create_app
    from app.services.setup import initialise

    today = datetime.date(2026, 11, 23)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AGENCYDESK_TODAY": today.isoformat(),
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    from app.extensions import db
    from app.models import Obligation

    print(f"database: {url.split('@')[-1]}  clients: {args.clients}")
    if args.board_only:
        return board(app, login(app, "admin", DEFAULT_PASSWORD))
    if args.reuse:
        with app.app_context():
            ids = [r for (r,) in db.session.query(Obligation.id)
                   .filter(Obligation.active.is_(True))
                   .order_by(Obligation.id).limit(args.complete).all()]
        return timed_steps(args, app, ids, today)
    with app.app_context():
        initialise(app)
        from app.services.demo import load_demo

        timed("demo load", lambda: load_demo(args.clients, 50, DEFAULT_PASSWORD).clients)
        from app.services.obligations import sync_obligations

        timed("sync from empty (obligations created)",
              lambda: sync_obligations(today, "Asia/Shanghai").created)
        if db.engine.dialect.name == "postgresql":
            # what autovacuum does soon after a bulk load on a live server
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                from sqlalchemy import text

                c.execute(text("VACUUM ANALYZE"))
        n = db.session.query(Obligation).count()
        print(f"{'obligations in table':<48} {n:>10}")
        timed("sync again, nothing to do (rows changed)",
              lambda: sync_obligations(today, "Asia/Shanghai").rows)
        from app import scheduler
        from app.models import ScheduledJob
        from zoneinfo import ZoneInfo

        noon = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        for job in db.session.query(ScheduledJob).all():
            job.last_tick = datetime.datetime(2026, 11, 22, 12, 0)
        db.session.commit()
        timed("daily tick: 3 jobs (sync, overdue flags, reminders)",
              lambda: [(o.job, o.rows) for o in scheduler.tick(noon)])
        timed("tick again, nothing due", lambda: len(scheduler.tick(noon)))
        # make some overdue for the list page
        ids = [r for (r,) in db.session.query(Obligation.id).filter(Obligation.active.is_(True))
               .order_by(Obligation.id).limit(args.complete).all()]
    return timed_steps(args, app, ids, today)


def timed_steps(args, app, ids, today) -> int:
    """完成 on ``ids`` (then again, as a double click), 跳过 on as many more, the
    obligation lists and the 申报进度 board."""
    from app.extensions import db
    from app.models import Obligation

    client = login(app, "admin", DEFAULT_PASSWORD)
    with app.app_context():
        counter = StatementCounter(db.engine)
        # a server that has already served a 完成 (its statements compiled, the
        # calendar and croniter warm): 20 other rows, not timed
        warm = dict(db.session.query(Obligation.id, Obligation.deadline)
                    .filter(Obligation.active.is_(True), Obligation.id.notin_(ids))
                    .order_by(Obligation.id.desc()).limit(20).all())
    client.post("/obligations/action_post", data={
        "action": "complete", "rowid": [f"{i}@{d.isoformat()}" for i, d in warm.items()],
        "csrf_token": csrf_token(client, app)})
    with app.app_context():
        dues = dict(db.session.query(Obligation.id, Obligation.deadline)
                    .filter(Obligation.id.in_(ids)).all())
    tokens = [f"{i}@{dues[i].isoformat()}" for i in ids]
    token = csrf_token(client, app)
    counter.n = 0
    profile = None
    if args.profile_complete:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    start = time.perf_counter()
    resp = client.post("/obligations/action_post",
                       data={"action": "complete", "rowid": tokens, "csrf_token": token})
    elapsed = time.perf_counter() - start
    if profile is not None:
        import pstats

        profile.disable()
        stats = pstats.Stats(profile).sort_stats("cumulative")
        stats.print_stats(40)
        if os.environ.get("BENCH_CALLERS"):
            stats.print_callers(os.environ["BENCH_CALLERS"])
    assert resp.status_code == 302, resp.status_code
    with app.app_context():
        moved = db.session.query(Obligation).filter(Obligation.id.in_(ids),
                                                    Obligation.deadline > today).count()
    print(f"{'完成 on %d rows (one action)' % len(ids):<48} {elapsed * 1000:10.0f} ms   "
          f"{counter.n} statements, {moved} advanced")
    # the same page posted again (a double click): every row is stale, nothing moves
    counter.n = 0
    start = time.perf_counter()
    resp = client.post("/obligations/action_post",
                       data={"action": "complete", "rowid": tokens, "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    print(f"{'the same 完成 posted again (double click)':<48} "
          f"{(time.perf_counter() - start) * 1000:10.0f} ms   {counter.n} statements")
    # 跳过 on the next 500 rows
    with app.app_context():
        more = dict(db.session.query(Obligation.id, Obligation.deadline)
                    .filter(Obligation.active.is_(True), Obligation.id.notin_(ids))
                    .order_by(Obligation.id).limit(args.complete).all())
    counter.n = 0
    start = time.perf_counter()
    resp = client.post("/obligations/action_post", data={
        "action": "skip", "rowid": [f"{i}@{d.isoformat()}" for i, d in more.items()],
        "csrf_token": token})
    assert resp.status_code == 302, resp.status_code
    print(f"{'跳过 on %d rows (one action)' % len(more):<48} "
          f"{(time.perf_counter() - start) * 1000:10.0f} ms   {counter.n} statements")

    for label, path in [("overdue list (deadline < today)", f"/obligations/list/?_flt_2_deadline={today}"),
                        ("all obligations list", "/obligations/list/"),
                        ("one type's list", "/obligations/list/?_flt_0_type=1"),
                        ("history list", "/obligation-records/list/")]:
        times = []
        for i in range(23):
            counter.n = 0
            s = time.perf_counter()
            r = client.get(path)
            if i >= 3:
                times.append((time.perf_counter() - s) * 1000)
            assert r.status_code == 200, (path, r.status_code)
        print(f"{label:<48} {statistics.median(times):10.1f} ms   p90 {p90(times):.1f} ms, "
              f"{counter.n} statements")

    return board(app, client)


def board(app, client) -> int:
    """申报进度: one page of 50 clients × their tax kinds, admin and accountant."""
    from app.extensions import db

    with app.app_context():
        counter = StatementCounter(db.engine)
        sql = SqlTimer(db.engine)
    accountant = _an_accountant(app)
    for who, web in (("admin", client), ("accountant", login(app, accountant, DEFAULT_PASSWORD))):
        for label, path in [(f"filing board, {who}, 2026-11", "/filing-board/?month=2026-11"),
                            (f"filing board, {who}, 2026-12 (quarters close)",
                             "/filing-board/?month=2026-12"),
                            (f"filing board, {who}, overdue only",
                             "/filing-board/?month=2026-10&state=overdue")]:
            times, sql_times, cold = [], [], None
            for i in range(13):
                counter.n, sql.total = 0, 0.0
                s = time.perf_counter()
                r = web.get(path)
                if i == 0:  # the counts computed, not yet kept
                    cold = ((time.perf_counter() - s) * 1000, sql.total * 1000)
                if i >= 3:
                    times.append((time.perf_counter() - s) * 1000)
                    sql_times.append(sql.total * 1000)
                assert r.status_code == 200, (path, r.status_code)
            print(f"{label:<48} {statistics.median(times):10.1f} ms   SQL "
                  f"{statistics.median(sql_times):.1f} ms, {counter.n} statements; first "
                  f"(counts computed) {cold[0]:.0f} ms, SQL {cold[1]:.0f} ms")
    return 0


class SqlTimer:
    """The time the database statements themselves take (summed per request)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.total = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.total += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())


def _an_accountant(app) -> str:
    from sqlalchemy import func

    from app.extensions import db
    from app.models import Client, Staff

    with app.app_context():
        return db.session.query(Staff.username).join(Client, Client.bookkeeper_id == Staff.id) \
            .filter(Staff.username.like("acct%")).group_by(Staff.username) \
            .order_by(func.count().desc()).first()[0]


if __name__ == "__main__":
    raise SystemExit(main())
