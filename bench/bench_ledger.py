"""Receivables benchmark: the monthly charge run for 100,000 clients, and 欠费客户 at
100,000 clients with two years of charges.

    python bench/bench_ledger.py                   # SQLite file under bench/out/
    python bench/bench_ledger.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_ledger

Prints: the demo load; two years of charges made by the charge run itself (every
client billed monthly from 2024-12-01: the catch-up of 24 fee dates), most of them
then marked paid (one client in ten keeps his last months open); the monthly run on
2026-12-01 (one charge per client) and its rerun (nothing to do); the arrears list,
first page and its export, and the home page's ledger cards, as an admin and as an
accountant (in-process test client, median of 10 requests, SQL statements per
request); the reconciliation of the old periods × fee with the ledger, itemised.
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

from bench_pages import DEFAULT_PASSWORD, StatementCounter, fresh_database, login, timed  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=50)
    args = parser.parse_args(argv)
    with fresh_database(args.database_url, "bench_ledger") as url:
        return run(args, url)


def run(args, url) -> int:
    import logging

    from sqlalchemy import func, select, text, true, update

    from app import create_app
    from app.extensions import db
    from app.models import Charge, Client, FeeSchedule, Staff

    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    start = datetime.date(2024, 12, 1)
    today = datetime.date(2026, 11, 30)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "AGENCYDESK_TODAY": today.isoformat(),
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    print(f"database: {url.split('@')[-1]}  clients: {args.clients}")
    with app.app_context():
        from app.services.demo import load_demo
        from app.services.ledger import generate_charges
        from app.services.setup import initialise

        initialise(app)
        timed("load_demo", lambda: load_demo(args.clients, args.staff, DEFAULT_PASSWORD).clients)
        # every client billed monthly from 2024-12-01, no schedule yet
        db.session.execute(update(Client).values(
            billing_state="billed", status="active", billing_cycle="month",
            next_fee_date=start, contract_end=None,
            service_fee=func.coalesce(func.nullif(Client.service_fee, 0), 300)))
        db.session.execute(FeeSchedule.__table__.delete())
        db.session.execute(Charge.__table__.delete())
        db.session.commit()

        timed("charge run catching up 24 months (history)",
              lambda: generate_charges(today, chunk_size=2000))
        # most paid; one client in ten keeps Sep-Nov 2026 open (in arrears)
        def settle_history():
            moved = db.session.execute(update(Charge).where(
                (Charge.client_id % 10 != 0) | (Charge.due_date < datetime.date(2026, 9, 1)))
                .values(paid=Charge.amount, state="paid")).rowcount
            # 下次收费日期 as the ledger derives it
            from app.services.ledger import refresh_next_fee_dates

            refresh_next_fee_dates(true())
            db.session.commit()
            return moved

        timed("history marked paid (bulk UPDATE)", settle_history)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        total = db.session.execute(select(func.count(Charge.id))).scalar()
        open_ = db.session.execute(select(func.count(Charge.id)).where(Charge.state == "open")).scalar()
        print(f"{'charges in table / open':<48} {total:>10} / {open_}")

        day = datetime.date(2026, 12, 1)
        timed("monthly charge run 2026-12-01 (all clients)",
              lambda: generate_charges(day, chunk_size=2000))
        timed("rerun of the same day (nothing to do)",
              lambda: generate_charges(day, chunk_size=2000))
        from app.services.ledger import reconciliation, reconciliation_report

        found = {}
        timed("reconciliation (unexplained: should be 0.00)",
              lambda: found.setdefault("rec", reconciliation(db.session.connection(),
                                                             day)).residual)
        for line in reconciliation_report(found["rec"]):
            print("  " + line)
        db.session.rollback()
        acct = db.session.execute(
            select(Staff.username).join(Client, Client.bookkeeper_id == Staff.id)
            .group_by(Staff.username).order_by(func.count(Client.id).desc()).limit(1)).scalar()

    app.config["AGENCYDESK_TODAY"] = day.isoformat()
    with app.app_context():
        counter = StatementCounter(db.engine)
    for who in ("admin", acct):
        client = login(app, who, DEFAULT_PASSWORD)
        for label, path, n in (("home page (owed / received this month cards)", "/", 10),
                               ("arrears list, first page", "/arrears/list/", 10),
                               ("arrears list, newest due first", "/arrears/list/?_oc_ArrearsView=next_fee_date&_od_ArrearsView=desc", 10),
                               ("arrears export (xlsx, every row)", "/arrears/export.xlsx", 1)):
            if path.endswith(".xlsx") and who != "admin":
                continue  # accountants may not export 欠费客户
            times, statements = [], []
            for i in range(n + 1):
                counter.n = 0
                s = time.perf_counter()
                r = client.get(path)
                elapsed = time.perf_counter() - s
                assert r.status_code == 200, (path, r.status_code)
                if i >= 1 or n == 1:
                    times.append(elapsed)
                    statements.append(counter.n)
            print(f"{label + ' (' + who + ')':<60} {statistics.median(times) * 1000:10.1f} ms   "
                  f"median of {len(times)}, {statistics.median(statements):.0f} statements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
