"""Sales benchmark: the 防撞单 lookup among 1,000,000 contact keys, and the lead list
at 100,000 leads.

    python bench/bench_sales.py                    # SQLite file under bench/out/
    python bench/bench_sales.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_sales

Prints: the bulk insert of the keys (executemany straight into ``contact_key``, as
if a firm had entered that many leads and clients), the duplicate check of one new
lead (all six kinds: one index lookup each, median of 200 checks, a hit and a miss),
and the lead list as an admin and as a salesperson (in-process test client, median
of 20 requests, SQL statements per request).
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
    DEFAULT_PASSWORD, StatementCounter, fresh_database, timed, login, pg_create, pg_drop)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=100_000)
    args = parser.parse_args(argv)
    with fresh_database(args.database_url, "bench_sales") as url:
        return run(args, url)
        pg_create(url)
        created = True
    if not url:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", "bench_sales.db")
        if os.path.exists(path):
            os.remove(path)
        url = "sqlite:///" + path
    try:
        return run(args, url)
    finally:
        if created:
            pg_drop(url)


KINDS = ("mobile", "wechat", "qq", "landline", "email", "credit")


def key_value(kind: str, n: int) -> str:
    return {"mobile": f"13{n:09d}", "wechat": f"wx_{n}", "qq": str(10000 + n),
            "landline": f"010-{20000000 + n % 70000000}", "email": f"u{n}@example.cn",
            "credit": f"K{n:017d}"}[kind]


def run(args, url) -> int:
    from sqlalchemy import insert, select, text

    from app import create_app
    from app.services.setup import initialise

    today = datetime.date(2026, 12, 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AGENCYDESK_TODAY": today.isoformat(),
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    from app.extensions import db
    from app.models import ContactKey, Lead, Staff

    print(f"database: {url.split('@')[-1]}  contact keys: {args.keys}  leads: {args.leads}")
    with app.app_context():
        initialise(app)
        from app.services.demo import load_demo

        load_demo(200, 20, DEFAULT_PASSWORD)
        sellers = [s.id for s in db.session.execute(select(Staff).where(
            Staff.username.like("sales%"))).scalars()]
        now = datetime.datetime(2026, 11, 1, 9, 0)

        # the leads, in bulk (owned by the demo salespeople)
        def load_leads():
            table = Lead.__table__
            chunk = []
            for i in range(args.leads):
                chunk.append({"name": f"意向客户{i}", "contact_name": "张总",
                              "mobile": f"15{i:09d}", "stage": "following" if i % 3 else "new",
                              "owner_id": sellers[i % len(sellers)], "assigned_on": today,
                              "created_on": now + datetime.timedelta(seconds=i),
                              "changed_on": now})
                if len(chunk) == 10_000:
                    db.session.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                db.session.execute(insert(table), chunk)
            db.session.commit()
            return args.leads

        timed("bulk insert of the leads", load_leads)
        first_lead = db.session.execute(select(Lead.id).order_by(Lead.id)).scalar()

        def load_keys():
            table = ContactKey.__table__
            chunk, written = [], 0
            for n in range(args.keys):
                kind = KINDS[n % len(KINDS)]
                lead = first_lead + (n % args.leads)
                chunk.append({"kind": kind, "value": key_value(kind, n), "lead_id": lead,
                              "owner_id": sellers[n % len(sellers)], "created_at": now})
                if len(chunk) == 20_000:
                    db.session.execute(insert(table), chunk)
                    written += len(chunk)
                    chunk = []
            if chunk:
                db.session.execute(insert(table), chunk)
                written += len(chunk)
            db.session.commit()
            return written

        timed("bulk insert of the contact keys", load_keys)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql"
                           else "ANALYZE"))
        total = db.session.execute(select(text("count(*)")).select_from(ContactKey)).scalar()
        print(f"{'contact keys in table':<52} {total:>10}")

        from app.services import contacts

        outsider = sellers[-1] + 100000
        for label, pick in (("duplicate check, hit (one value)", lambda n: n * 4999 % args.keys),
                            ("duplicate check, miss (one value)", lambda n: args.keys + n)):
            times = []
            for n in range(200):
                k = pick(n)
                kind = KINDS[k % len(KINDS)]
                s = time.perf_counter()
                contacts.find_holder(db.session, kind, key_value(kind, k), None, outsider)
                times.append(time.perf_counter() - s)
            print(f"{label:<52} {statistics.median(times) * 1000:10.3f} ms   median of 200")
        # a whole new lead: six values, the check every writer runs
        values = {"mobile": "13999999999", "wechat": "wx_new", "qq": "999999999",
                  "landline": "010-99999999", "email": "new@example.cn",
                  "credit_code": None}
        times = []
        for _ in range(50):
            s = time.perf_counter()
            contacts.check_lead_values(db.session, values, None, outsider)
            times.append(time.perf_counter() - s)
        print(f"{'duplicate check of a new lead (5 values)':<52} "
              f"{statistics.median(times) * 1000:10.3f} ms   median of 50")
        plan_sql = ("EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ")
        plan = db.session.execute(text(
            plan_sql + "SELECT id FROM contact_key WHERE kind = 'mobile' AND value = '13000000006'"
        )).all()
        print("plan:", " | ".join(str(r[-1]) for r in plan))
        seller = db.session.get(Staff, sellers[0]).username

    with app.app_context():
        counter = StatementCounter(db.engine)
    for who in ("admin", seller):
        client = login(app, who, DEFAULT_PASSWORD)
        for label, path in (("lead list, first page", "/leads/list/"),
                            ("lead list, quick search", "/leads/list/?q=1500000"),
                            ("pool list", "/lead-pool/list/")):
            times, statements = [], []
            for i in range(23):
                counter.n = 0
                s = time.perf_counter()
                r = client.get(path)
                elapsed = time.perf_counter() - s
                assert r.status_code == 200, (path, r.status_code)
                if i >= 3:
                    times.append(elapsed)
                    statements.append(counter.n)
            print(f"{label + ' (' + who + ')':<52} {statistics.median(times) * 1000:10.1f} ms   "
                  f"median of 20, {statistics.median(statements):.0f} statements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
