"""Journal benchmark: 月度统计 / 年度统计 over 1,000,000 journal entries, from the
entries (before) and from the monthly summary (after), and 审核 of 500 entries in one
action.

    python bench/bench_journal.py                    # SQLite file under bench/out/
    python bench/bench_journal.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_journal

The entries are generated in one INSERT … SELECT (deterministic: derived from the row
number), spread over 2024-01 … 2026-11, the clients of the demo load (a tenth of
the entries with no client: the firm's own costs), the journal categories, 80 %
income, 95 % approved; the summary triggers fill the summary as they go in.

Prints: the bulk insert, the page (median of 15 requests) and its SQL for the
admin (every entry) — the old grouped query over the entries, then the summary —,
the same reports for an accountant (his clients' entries, his scope), 审核 of 500
pending entries through the web action (time, statements), and ``stats rebuild
--check`` (a full recount compared with the summary).
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
    DEFAULT_PASSWORD, StatementCounter, csrf_token, fresh_database, login, p90, timed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--approve", type=int, default=500)
    args = parser.parse_args(argv)
    with fresh_database(args.database_url, "bench_journal") as url:
        return run(args, url)


def _generate_sql(dialect: str, n: int, first_client: int, n_clients: int, categories: list,
                  method: int, author: int) -> str:
    """One INSERT … SELECT of ``n`` entries derived from the row number ``g``."""
    cats = len(categories)
    cat_case = "CASE " + " ".join(f"WHEN (g * 7) % {cats} = {i} THEN {c}"
                                  for i, c in enumerate(categories)) + " END"
    if dialect == "postgresql":
        rows = f"generate_series(CAST(1 AS BIGINT), {n}) AS s(g)"
        day = "(DATE '2024-01-01' + CAST((g * 37) % 1060 AS INTEGER))"
        with_ = ""
    else:
        rows = "s"
        day = "date('2024-01-01', '+' || ((g * 37) % 1060) || ' days')"
        with_ = f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
    return (
        f"{with_}INSERT INTO journal_entry (entry_date, client_id, direction, category_id, "
        f"method_id, amount, status, version, created_on, created_by_id, approved_by_id, "
        f"approved_at) SELECT {day}, "
        f"CASE WHEN g % 10 = 0 THEN NULL ELSE {first_client} + (g * 7919) % {n_clients} END, "
        f"CASE WHEN g % 5 = 0 THEN 'expense' ELSE 'income' END, {cat_case}, {method}, "
        f"((g * 104729) % 500000 + 1) / 100.0, "
        f"CASE WHEN g % 20 = 0 THEN 'pending' ELSE 'approved' END, 1, "
        f"CURRENT_TIMESTAMP, {author}, NULL, NULL FROM {rows}")


def run(args, url) -> int:
    from sqlalchemy import func, select, text

    from app import create_app
    from app.services.setup import initialise

    today = datetime.date(2026, 11, 23)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "AGENCYDESK_TODAY": today.isoformat(),
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    from app.extensions import db
    from app.models import Client, DictItem, JournalEntry, JournalMonth, Staff

    print(f"database: {url.split('@')[-1]}  clients: {args.clients}  entries: {args.entries}")
    with app.app_context():
        initialise(app)
        from app.services.demo import load_demo

        timed("demo load (clients)", lambda: load_demo(args.clients, 50, DEFAULT_PASSWORD,
                                                       ).clients)
        lo, hi = db.session.execute(select(func.min(Client.id), func.max(Client.id))).one()
        categories = [i for (i,) in db.session.execute(
            select(DictItem.id).where(DictItem.kind == "journal_category").order_by(DictItem.id))]
        method = db.session.execute(select(DictItem.id).where(
            DictItem.kind == "payment_method")).scalars().first()
        acct = db.session.execute(select(Staff.id).where(Staff.username == "acct01")).scalar()
        sql = _generate_sql(db.engine.dialect.name, args.entries, lo, hi - lo + 1, categories,
                            method, acct)

        def generate():
            db.session.execute(text(sql))
            db.session.commit()
            return db.session.execute(select(func.count()).select_from(JournalEntry)).scalar()

        timed(f"{args.entries:,} entries in one INSERT … SELECT (summary by triggers)",
              generate)
        months = db.session.execute(select(func.count()).select_from(JournalMonth)).scalar()
        print(f"{'summary rows (firm-wide / per client)':<56} {months} / "
              f"{db.session.execute(text('SELECT count(*) FROM journal_client_month')).scalar()}")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql"
                           else "ANALYZE"))

    admin = login(app, "admin", DEFAULT_PASSWORD)
    with app.app_context():
        counter = StatementCounter(db.engine)
        sql_timer = SqlTimer(db.engine)

    from app.services import stats

    def page(web, path, label, n=15):
        times, sql_times = [], []
        for i in range(n + 2):
            counter.n, sql_timer.total = 0, 0.0
            start = time.perf_counter()
            resp = web.get(path)
            assert resp.status_code == 200, (path, resp.status_code)
            if i >= 2:
                times.append((time.perf_counter() - start) * 1000)
                sql_times.append(sql_timer.total * 1000)
        print(f"{label:<56} {statistics.median(times):8.1f} ms   p90 {p90(times):.1f} ms, "
              f"SQL {statistics.median(sql_times):.1f} ms, {counter.n} statements")

    real = stats._summary_grouped
    for mode in ("entries (before)", "summary (after)"):
        if mode.startswith("entries"):
            stats._summary_grouped = lambda *a, **k: None  # the grouped query of before
        else:
            stats._summary_grouped = real
        page(admin, "/stats/monthly/?year=2026", f"月度统计 2026, admin, {mode}")
        page(admin, "/stats/yearly/", f"年度统计, admin, {mode}")
        with app.app_context():
            from app.security import scope

            user = db.session.execute(select(Staff).where(Staff.username == "acct01")).scalar()
            cond = scope.condition(user, JournalEntry, lambda *a: False, db.session)
            for label, build in (("月度统计 2026", lambda: stats.monthly(2026, cond)),
                                 ("年度统计", lambda: stats.yearly(cond))):
                times = []
                for i in range(12):
                    start = time.perf_counter()
                    report = build()
                    if i >= 2:
                        times.append((time.perf_counter() - start) * 1000)
                print(f"{label + ', accountant acct01 (service), ' + mode:<56} "
                      f"{statistics.median(times):8.1f} ms   "
                      f"{report.total.entries} entries counted")
    stats._summary_grouped = real

    # 审核 of 500 pending entries in one action (the web action, CSRF on)
    with app.app_context():
        rows = db.session.execute(select(JournalEntry.id, JournalEntry.version).where(
            JournalEntry.status == "pending", JournalEntry.created_by_id != 1)
            .order_by(JournalEntry.id).limit(args.approve)).all()
    tokens = [f"{i}@{v}" for i, v in rows]
    token = csrf_token(admin, app)
    counter.n = 0
    start = time.perf_counter()
    resp = admin.post("/journal/action_post", data={"action": "approve", "rowid": tokens,
                                                     "csrf_token": token})
    elapsed = time.perf_counter() - start
    assert resp.status_code == 302, resp.status_code
    with app.app_context():
        done = db.session.execute(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.id.in_([i for i, _ in rows]),
            JournalEntry.status == "approved")).scalar()
    print(f"{'审核 on %d entries (one action)' % len(rows):<56} {elapsed * 1000:8.0f} ms   "
          f"{counter.n} statements, {done} approved")
    counter.n = 0
    start = time.perf_counter()
    admin.post("/journal/action_post", data={"action": "approve", "rowid": tokens,
                                              "csrf_token": token})
    print(f"{'the same 审核 posted again (double click)':<56} "
          f"{(time.perf_counter() - start) * 1000:8.0f} ms   {counter.n} statements")

    with app.app_context():
        timed("stats rebuild --check (recount vs summary)", lambda: {
            table: len(diff) for table, diff in stats.check_summary().items()}, width=56)
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


if __name__ == "__main__":
    raise SystemExit(main())
