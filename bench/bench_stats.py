"""Statistics benchmark: 月度统计 / 年度统计 over 1,000,000 journal entries.

    python bench/bench_stats.py                     # SQLite file under bench/out/
    python bench/bench_stats.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_stats

Builds its own database: init, demo staff and ``--clients`` clients, then
``--entries`` journal entries bulk-inserted (spread over the three years
2024–2026, ten categories, 70 % income, 90 % approved, 10 % without a client; in
date order as a journal grows, or ``--shuffled``).
Prints the load time, then for each page (as admin, who sees everything, and as the
accountant ``acct01``, whose scope limits the rows): median and p90 of
``--requests`` timed requests after ``--warmup`` untimed ones, and the SQL
statements per request. A PostgreSQL database is created for the run and dropped
at the end (``--keep`` keeps it).
"""
from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from bench_pages import (  # noqa: E402
    DEFAULT_PASSWORD, StatementCounter, login, measure, pg_create, pg_drop, pg_exists)

START = datetime.date(2024, 1, 1)
DAYS = (datetime.date(2027, 1, 1) - START).days  # three years
EXTRA_CATEGORY = "咨询服务费"  # the shipped dictionary has nine: the tenth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--shuffled", action="store_true",
                        help="insert in random date order (default: by date, as a journal "
                             "grows; random order is the worst case for date-range reads)")
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
        path = os.path.join(HERE, "out", "bench_stats.db")
        if os.path.exists(path):
            os.remove(path)
        url = "sqlite:///" + path
    try:
        return run(args, url)
    finally:
        if created and not args.keep:
            pg_drop(url)


def _rows(n, client_ids, category_ids, user_ids, seed=20261123):
    """``n`` journal entries as tuples, deterministic for a seed."""
    rng = random.Random(seed)
    now = datetime.datetime(2026, 11, 23, 9, 0)
    for _ in range(n):
        day = START + datetime.timedelta(days=rng.randrange(DAYS))
        direction = "income" if rng.random() < 0.7 else "expense"
        client_id = rng.choice(client_ids) if rng.random() < 0.9 else None
        status = "approved" if rng.random() < 0.9 else "pending"
        cents = rng.randrange(100, 2_000_000)
        yield (day, client_id, direction, rng.choice(category_ids),
               f"{cents // 100}.{cents % 100:02d}", status, rng.choice(user_ids), now)


COLUMNS = ("entry_date", "client_id", "direction", "category_id", "amount", "status",
           "created_by_id", "created_on")


def bulk_insert(db, n, client_ids, category_ids, user_ids, shuffled=False,
                batch=50_000) -> None:
    """COPY on PostgreSQL; batched executemany on SQLite (one transaction)."""
    rows = _rows(n, client_ids, category_ids, user_ids)
    if not shuffled:
        rows = sorted(rows, key=lambda row: row[0])
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY journal_entry ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    from sqlalchemy import insert

    from app.models import JournalEntry

    with db.engine.begin() as conn:
        chunk = []
        for row in rows:
            chunk.append(dict(zip(COLUMNS, row)))
            if len(chunk) == batch:
                conn.execute(insert(JournalEntry.__table__), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(JournalEntry.__table__), chunk)


def run(args, url) -> int:
    import logging

    from sqlalchemy import func, select

    from app import create_app
    from app.services.setup import initialise

    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "AGENCYDESK_TODAY": "2026-11-23",
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    from app.extensions import db
    from app.models import Client, DictItem, JournalEntry, Staff

    dialect = url.split(":", 1)[0]
    print(f"database: {url.split('@')[-1]}")
    with app.app_context():
        initialise(app)
        from app.services.demo import load_demo

        t0 = time.perf_counter()
        load_demo(args.clients, args.staff, DEFAULT_PASSWORD)
        print(f"demo load ({args.clients} clients, {args.staff} staff): "
              f"{time.perf_counter() - t0:.1f} s")
        if db.session.execute(select(DictItem.id).where(
                DictItem.kind == "journal_category", DictItem.name == EXTRA_CATEGORY)).first() is None:
            db.session.add(DictItem(kind="journal_category", name=EXTRA_CATEGORY, sort_order=99))
            db.session.commit()
        category_ids = list(db.session.execute(select(DictItem.id).where(
            DictItem.kind == "journal_category")).scalars())
        client_ids = list(db.session.execute(select(Client.id)).scalars())
        user_ids = list(db.session.execute(select(Staff.id)).scalars())
        t0 = time.perf_counter()
        bulk_insert(db, args.entries, client_ids, category_ids, user_ids, args.shuffled)
        print(f"bulk insert of {args.entries:,} journal entries ({len(category_ids)} "
              f"categories, {START.year}–{START.year + 2}, "
              f"{'random order' if args.shuffled else 'in date order'}): "
              f"{time.perf_counter() - t0:.1f} s")
        if dialect.startswith("postgresql"):
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(db.text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(db.text("ANALYZE"))
        total = db.session.execute(select(func.count(JournalEntry.id))).scalar()
        approved_2025 = db.session.execute(select(func.count(JournalEntry.id)).where(
            JournalEntry.status == "approved",
            JournalEntry.entry_date >= datetime.date(2025, 1, 1),
            JournalEntry.entry_date < datetime.date(2026, 1, 1))).scalar()
        # the accountant sees his clients' statistics (Accountant holds no statistics
        # right by default: given here for the measurement)
        sm = app.appbuilder.sm
        role = sm.find_role("Accountant")
        for perm in ("can_monthly", "can_yearly"):
            sm.add_permission_role(role, sm.find_permission_view_menu(perm, "StatsView"))
        engine = db.engine
        db.session.remove()
    print(f"journal entries: {total:,}; approved in 2025: {approved_2025:,}")

    counter = StatementCounter(engine)
    clients = {"admin": login(app, "admin", DEFAULT_PASSWORD),
               "acct": login(app, "acct01", DEFAULT_PASSWORD)}
    pages = [
        ("monthly_2025", "admin", "/stats/monthly/?year=2025"),
        ("yearly", "admin", "/stats/yearly/"),
        ("monthly_2025", "acct", "/stats/monthly/?year=2025"),
        ("yearly", "acct", "/stats/yearly/"),
    ]
    rows = [(key, who, path, measure(clients[who], counter, path, args.requests, args.warmup))
            for key, who, path in pages]
    print()
    print(f"{dialect}, {total:,} journal entries, median of {args.requests} after "
          f"{args.warmup} warm-ups")
    head = f"{'page':<14} {'user':<6} {'median ms':>9} {'p90 ms':>8} {'stmts':>6} {'KB':>6} {'HTTP':>5}  url"
    print(head)
    print("-" * len(head))
    for key, who, path, r in rows:
        print(f"{key:<14} {who:<6} {r['median']:>9.1f} {r['p90']:>8.1f} "
              f"{str(r['statements']):>6} {r['kb']:>6.1f} {r['status']:>5}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
