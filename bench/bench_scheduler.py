"""Scheduler benchmark: the daily obligation sync at 100,000 clients × 7 types.

    python bench/bench_scheduler.py                    # SQLite file under bench/out/
    python bench/bench_scheduler.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_sched
    python bench/bench_scheduler.py --chunk 2000       # the scheduler's chunk size

Prints (from empty: ~480,000 obligations created; fastest and median of ``--repeat``):

- the first sync after ``flask init`` + demo load, when the planner's statistics say the
  obligation table is empty;
- the sync in one transaction (what saving a type on its screen runs), from empty and
  with nothing to do, with the statistics of a full table (a live system);
- the sync as the scheduler runs it (``run_job``): before issue 15 one transaction, after it
  chunks of ``--chunk`` clients, each committed with the run's progress; from empty, with
  nothing to do, and from empty with the statistics of an empty table;
- after issue 15: a run killed (simulated: an exception) half-way, then the retry that
  does only the rest.

``BENCH_CODE=/path/to/an/older/tree`` runs the same script against that code (the
numbers "before": ``git archive <commit> | tar -x -C /tmp/old``).
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_pages import DEFAULT_PASSWORD, pg_create, pg_drop, pg_exists  # noqa: E402

# after bench_pages, which puts this checkout first on sys.path
sys.path.insert(0, os.environ.get("BENCH_CODE", os.path.dirname(HERE)))

TODAY = datetime.date(2026, 11, 30)
TZ = "Asia/Shanghai"


def timed(label, fn):
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<58} {elapsed * 1000:10.0f} ms   {value if value is not None else ''}",
          flush=True)
    return value, elapsed


def repeated(label, fn, before, times):
    """``fn`` ``times`` times, ``before`` untimed ahead of each: fastest and median
    (another process may share the machine)."""
    runs = []
    for _ in range(times):
        before()
        start = time.perf_counter()
        value = fn()
        runs.append(time.perf_counter() - start)
    print(f"{label:<58} {min(runs) * 1000:10.0f} ms   median {statistics.median(runs) * 1000:.0f} ms"
          f" of {times}, {value}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each sync from empty; the fastest and the median are shown")
    args = parser.parse_args(argv)

    url = args.database_url
    created = False
    if url and url.startswith("postgresql"):
        if pg_exists(url):
            pg_drop(url)
        pg_create(url)
        created = True
    if not url:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", "bench_scheduler.db")
        for suffix in ("", "-journal"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        url = "sqlite:///" + path
    try:
        return run(args, url)
    finally:
        if created:
            pg_drop(url)


def analyze(db, table=""):
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ANALYZE {table}"))


def reset(db, stale=False):
    """No obligations, no runs, the sync due again. The planner keeps the statistics
    of a full obligation table (as on a live system) unless ``stale``: then it sees
    the table empty, as right after ``flask init``."""
    from sqlalchemy import text

    db.session.execute(text("DELETE FROM obligation"))
    db.session.execute(text("DELETE FROM job_run"))
    db.session.execute(text("UPDATE scheduled_job SET last_tick = NULL"))
    db.session.commit()
    analyze(db, "obligation" if stale else "client")


def run(args, url) -> int:
    import app as app_package
    from app import create_app, scheduler
    from app.services.setup import initialise

    logging.getLogger("app.scheduler").setLevel(logging.CRITICAL)  # the simulated crash
    chunked = hasattr(scheduler, "JobContext")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AGENCYDESK_TODAY": TODAY.isoformat(),
                      "SCHEDULER_CHUNK_SIZE": args.chunk, "SCHEDULER_RETRY_MINUTES": "0"})
    from app.extensions import db
    from app.models import Obligation, ScheduledJob
    from app.services.demo import load_demo
    from app.services.obligations import sync_obligations

    code = os.path.dirname(os.path.dirname(app_package.__file__))
    print(f"database: {url.split('@')[-1]}  clients: {args.clients}  code: {code}  "
          f"scheduler: {'chunks of %d clients' % args.chunk if chunked else 'one transaction'}")
    tick = datetime.datetime(2026, 11, 30, 1, 0)
    with app.app_context():
        initialise(app)
        timed("demo load", lambda: load_demo(args.clients, 50, DEFAULT_PASSWORD).clients)
        job = db.session.query(ScheduledJob).filter_by(code="sync_obligations").one()
        analyze(db)  # as `flask init` leaves it: obligation analyzed while empty
        timed("first sync after init (stats of an empty table)",
              lambda: sync_obligations(TODAY, TZ).created)
        print(f"{'obligations':<58} {db.session.query(Obligation).count():>10}")
        analyze(db)
        repeated("sync from empty, one transaction (created)",
                 lambda: sync_obligations(TODAY, TZ).created, lambda: reset(db), args.repeat)
        repeated("sync again, one transaction, nothing to do (rows)",
                 lambda: sync_obligations(TODAY, TZ).rows, lambda: None, args.repeat)
        label = f"scheduler sync from empty, {'chunked' if chunked else 'one transaction'} (rows)"
        repeated(label, lambda: scheduler.run_job(job, tick).rows, lambda: reset(db), args.repeat)
        later = iter(range(1, 1000))
        repeated("scheduler sync again, nothing to do (rows)",
                 lambda: scheduler.run_job(job, tick + datetime.timedelta(days=next(later))).rows,
                 lambda: None, args.repeat)
        reset(db, stale=True)
        timed("scheduler sync from empty, stats of an empty table",
              lambda: scheduler.run_job(job, tick).rows)
        analyze(db)
        if chunked:
            reset(db)
            name, rule, sync = scheduler.JOBS["sync_obligations"]
            half = args.clients // args.chunk // 2

            def killed_half_way(ctx):
                real, done = ctx.checkpoint, []

                def checkpoint(cursor, rows):
                    if ctx.attempt == 1 and len(done) == half:
                        raise RuntimeError("killed")
                    done.append(cursor)
                    real(cursor, rows)

                ctx.checkpoint = checkpoint
                return sync(ctx)

            scheduler.JOBS["sync_obligations"] = (name, rule, killed_half_way)
            timed(f"  attempt 1 dies after {half} chunks (rows kept)",
                  lambda: scheduler.run_job(job, tick).rows)
            timed("  attempt 2 does the rest (rows)", lambda: scheduler.run_job(job, tick).rows)
            print(f"{'  obligations':<58} {db.session.query(Obligation).count():>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
