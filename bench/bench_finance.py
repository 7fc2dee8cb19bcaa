"""Finance benchmark: exports at 10,000 and 100,000 clients, and 客户导入 of 10,000 rows.

    python bench/bench_finance.py                      # SQLite file under bench/out/
    python bench/bench_finance.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench_fin

Prints, for the client list export (/clients/export.xlsx) and the arrears export
(/arrears/export.xlsx, with its computed columns) at 10,000 and then 100,000 clients:
seconds (an untraced request), the peak of Python allocations during a second, traced
request (tracemalloc) and the process's peak RSS growth (getrusage; it only grows when
a request needs more than any before it). Exports stream rows in batches into
xlsxwriter's constant-memory mode, so the peak should stay nearly flat while the rows
grow tenfold; what grows with the rows is the finished file itself (held once in
memory to send it).

Then imports 10,000 rows through the web page (CSRF on, as Admin): once with 1% bad
rows (seconds; and that nothing was written), once all good (seconds; clients and
audit rows written).
"""
from __future__ import annotations

import argparse
import datetime
import io
import os
import resource
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from bench_pages import DEFAULT_PASSWORD, csrf_token, login, pg_create, pg_drop, pg_exists  # noqa: E402

TODAY = datetime.date(2026, 11, 23)
HEADERS = ["公司名称", "简称", "统一社会信用代码", "法人", "法人电话", "联系人", "联系电话",
           "客户来源", "纳税人类型", "收费周期", "服务费", "下次收费日期", "记账会计(用户名)",
           "外勤会计(用户名)", "备注"]


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def measure_get(client, url):
    """(seconds, traced peak MB, RSS growth MB, bytes) of one GET, and its response."""
    start = time.perf_counter()
    resp = client.get(url)
    seconds = time.perf_counter() - start
    assert resp.status_code == 200, (url, resp.status_code)
    size = len(resp.data)
    del resp
    rss_before = maxrss_mb()
    tracemalloc.start()
    tracemalloc.reset_peak()
    resp = client.get(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert resp.status_code == 200
    return seconds, peak / 2**20, maxrss_mb() - rss_before, size


def import_file(n_rows: int, bad_every: int | None, staff: str) -> bytes:
    """An .xlsx register of ``n_rows`` new clients; every ``bad_every``-th row has a
    fee with three decimals (an error)."""
    from openpyxl import Workbook

    from app.domain.codes import make_uscc

    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(HEADERS)
    base = 70_000_000 + (1_000_000 if bad_every is None else 0)
    for i in range(n_rows):
        bad = bad_every is not None and i % bad_every == bad_every - 1
        sheet.append([f"导入压测第{i:05d}号有限公司", f"压测{i}", make_uscc("92", "310115", str(base + i)),
                      "王伟", "138%08d" % i, "李娜", "010-12345678", "转介绍", "小规模纳税人",
                      "按季", "12.345" if bad else 900, datetime.datetime(2026, 12, 1), staff, None,
                      "压测导入"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--import-rows", type=int, default=10_000)
    args = parser.parse_args(argv)
    url, created = args.database_url, False
    if url and url.startswith("postgresql"):
        if pg_exists(url):
            pg_drop(url)
        pg_create(url)
        created = True
    if not url:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", "bench_finance.db")
        if os.path.exists(path):
            os.remove(path)
        url = "sqlite:///" + path
    try:
        return run(args, url)
    finally:
        if created:
            pg_drop(url)


def run(args, url) -> int:
    from app import create_app
    from app.extensions import db
    from app.models import AuditLog, Client
    from app.services.demo import load_demo
    from app.services.setup import initialise

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "AGENCYDESK_TODAY": TODAY.isoformat(),
                      "AUTH_RATE_LIMIT": "100000 per minute"})
    print(f"database: {url.split('@')[-1]}")
    with app.app_context():
        initialise(app)
    print(f"{'export':<34}{'clients':>9}{'seconds':>9}{'peak MB':>9}{'RSS+ MB':>9}{'file MB':>9}")
    client = None
    for target in (10_000, 100_000):
        with app.app_context():
            have = db.session.query(Client).count()
            start = time.perf_counter()
            load_demo(target - have, 50, DEFAULT_PASSWORD)
            loaded = time.perf_counter() - start
        if client is None:
            client = login(app, "admin", DEFAULT_PASSWORD)
        print(f"  (demo load to {target}: {loaded:.1f} s)")
        for label, path in (("clients /clients/export.xlsx", "/clients/export.xlsx"),
                            ("arrears /arrears/export.xlsx", "/arrears/export.xlsx")):
            seconds, peak, rss, size = measure_get(client, path)
            print(f"{label:<34}{target:>9}{seconds:>9.2f}{peak:>9.1f}{rss:>9.1f}{size / 2**20:>9.1f}")

    with app.app_context():
        staff = db.session.execute(db.text("SELECT username FROM ab_user WHERE username LIKE "
                                           "'acct%' ORDER BY id LIMIT 1")).scalar()
        before = db.session.query(Client).count()
        audit_before = db.session.query(AuditLog).count()
    n = args.import_rows
    for label, bad_every in (("1% bad rows", 100), ("all good", None)):
        data = import_file(n, bad_every, staff)
        token = csrf_token(client, app)
        start = time.perf_counter()
        resp = client.post("/clients/import/", data={"csrf_token": token,
                                                     "file": (io.BytesIO(data), "压测.xlsx")},
                           content_type="multipart/form-data")
        seconds = time.perf_counter() - start
        with app.app_context():
            after = db.session.query(Client).count()
            audits = db.session.query(AuditLog).count() - audit_before
        if bad_every:
            html = resp.get_data(as_text=True)
            errors = html.count("<tr><td>") if resp.status_code == 200 else -1
            print(f"import {n} rows, {label:<12} {seconds:6.2f} s   HTTP {resp.status_code}, "
                  f"{errors} error rows listed, clients written: {after - before} "
                  f"(nothing: {after == before})")
            assert after == before, "a file with bad rows wrote clients"
        else:
            print(f"import {n} rows, {label:<12} {seconds:6.2f} s   HTTP {resp.status_code}, "
                  f"clients written: {after - before}, audit rows: {audits} "
                  f"({audits - (after - before)} besides the per-client rows)")
            assert after - before == n
        before, audit_before = after, audit_before + audits
    return 0


if __name__ == "__main__":
    sys.exit(main())
