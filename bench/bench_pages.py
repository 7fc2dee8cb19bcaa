"""Page benchmark: how long the client pages take at 100,000 clients, and how many SQL
statements each request runs.

    python bench/bench_pages.py                       # SQLite file under bench/out/
    python bench/bench_pages.py --reuse               # skip the demo load if the DB exists
    python bench/bench_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench
    python bench/bench_pages.py --reuse --profile client_list   # cProfile of one page
    python bench/bench_pages.py --reuse --django      # + Django admin 5.2, same run, side by side

It builds its own database (init + ``load_demo``), logs in through Flask's test client
(CSRF on, as in production) and prints, per page: median and p90 of ``--requests``
timed requests after ``--warmup`` untimed ones, SQL statements per request (counted
with a ``before_cursor_execute`` listener) and the response size.

A PostgreSQL database named in ``--database-url`` is created if missing and dropped at
the end when this run created it, unless ``--keep`` (or ``--reuse``) is given.

``--django`` then runs the Django admin peer (``/work/shared/bench/django-admin``, or
``--django-script``) on as many clients, same database engine, same repeats, and
prints both sides with their ratio: the machine is shared and noisy, so only figures
from the same run compare. On PostgreSQL the peer uses its own database
(``--django-pgdb``, created if missing).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

DEFAULT_PASSWORD = "Bench-Passw0rd!"


# ---- database ------------------------------------------------------------------
def _pg_admin(url: str) -> tuple[str, str]:
    """(libpq URL of the server's ``postgres`` database, the database name)."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    base, name = plain.rsplit("/", 1)
    name = name.split("?", 1)[0]
    return base + "/postgres", name


def pg_exists(url: str) -> bool:
    import psycopg

    admin, name = _pg_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def pg_create(url: str) -> None:
    import psycopg

    admin, name = _pg_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def pg_drop(url: str) -> None:
    import psycopg

    admin, name = _pg_admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- login ---------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(url: str | None, name: str, reuse: bool = False):
    """The database a benchmark runs on: ``url`` (a PostgreSQL one is created anew and
    dropped afterwards), else ``bench/out/<name>.db`` (removed first unless ``reuse``)."""
    created = False
    if url and url.startswith("postgresql"):
        if pg_exists(url):
            pg_drop(url)
        pg_create(url)
        created = True
    if not url:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        path = os.path.join(HERE, "out", f"{name}.db")
        if os.path.exists(path) and not reuse:
            os.remove(path)
        url = "sqlite:///" + path
    try:
        yield url
    finally:
        if created:
            pg_drop(url)


def timed(label, fn, width: int = 48):
    """Run ``fn`` once and print how long it took beside its value."""
    start = time.perf_counter()
    value = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<{width}} {elapsed * 1000:10.0f} ms   {value if value is not None else ''}")
    return value, elapsed


def csrf_token(client, app) -> str:
    """The session's CSRF token signed as Flask-WTF's ``generate_csrf`` does
    (same as tests/conftest.py ``WebClient.csrf_token``)."""
    from itsdangerous import URLSafeTimedSerializer

    with client.session_transaction() as sess:
        raw = sess.get("csrf_token")
        if raw is None:
            raw = hashlib.sha1(os.urandom(64)).hexdigest()
            sess["csrf_token"] = raw
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def login(app, username: str, password: str):
    client = app.test_client()
    resp = client.post("/login/", data={"username": username, "password": password,
                                        "csrf_token": csrf_token(client, app)})
    if resp.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {resp.status_code}")
    # a failed login also redirects (back to /login/): check we really are in
    if client.get("/clients/list/").status_code != 200:
        raise SystemExit(f"login as {username} failed (list page not reachable)")
    return client


# ---- measuring -----------------------------------------------------------------
class StatementCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n = 0
        self.statements: list[str] = []
        self.keep = False
        event.listen(engine, "before_cursor_execute", self._on_execute)

        self.timing: list[list] | None = None   # [statement, seconds] of one request
        event.listen(engine, "after_cursor_execute", self._after_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        if self.keep:
            self.statements.append(statement)
        if self.timing is not None:
            self.timing.append([statement, time.perf_counter()])

    def _after_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.timing:
            self.timing[-1][1] = time.perf_counter() - self.timing[-1][1]


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def measure(client, counter, url, requests, warmup):
    statuses = set()
    for _ in range(warmup):
        statuses.add(client.get(url).status_code)
    times, counts, size = [], [], 0
    for _ in range(requests):
        counter.n = 0
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        counts.append(counter.n)
        statuses.add(resp.status_code)
        size = len(resp.data)
    return {
        "median": statistics.median(times), "p90": p90(times),
        "statements": counts[-1] if len(set(counts)) == 1 else f"{min(counts)}-{max(counts)}",
        "kb": size / 1024, "status": ",".join(str(s) for s in sorted(statuses)),
    }


# ---- the Django admin peer ----------------------------------------------------------
#: our page key -> the peer's key (bench_peer.py), for the side-by-side table
PEER_PAGES = [("client_list", "all_list"), ("page_100", "all_page_100"),
              ("search_name", "all_search"), ("acct_list", "list"),
              ("acct_page_5", "list_page_5"), ("acct_search", "search"),
              ("acct_filter", "filter"), ("acct_show", "show")]
PEER_SCRIPT = "/work/shared/bench/django-admin"


def run_django_peer(args, url) -> dict:
    """Median ms per page of Django admin 5.2 on ``args.clients`` clients (its JSON)."""
    env = dict(os.environ)
    if url.startswith("postgresql"):
        base = url.rsplit("/", 1)[0]
        peer_url = f"{base}/{args.django_pgdb}"
        if not pg_exists(peer_url):
            pg_create(peer_url)
        env.update(PEER_DATABASE="postgres", PEER_PGDB=args.django_pgdb)
        # the peer script makes its venv under $TMPDIR with Django only: on PostgreSQL
        # it needs psycopg too, so it gets a venv of its own with both
        tmp = os.path.join(HERE, "out", "django_peer")
        venv = os.path.join(tmp, "django-admin-peer-venv")
        if not os.path.exists(os.path.join(venv, "bin", "python")):
            os.makedirs(tmp, exist_ok=True)
            subprocess.run(["python3", "-m", "venv", venv], check=True)
            subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q",
                            "django==5.2.*", "psycopg[binary]"], check=True)
        env["TMPDIR"] = tmp
    t0 = time.perf_counter()
    proc = subprocess.run([args.django_script, str(args.clients), str(args.requests)],
                          env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"django peer failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    out = json.loads(lines[-1])
    out["_seconds"] = time.perf_counter() - t0
    return out


def print_side_by_side(rows, peer) -> None:
    ours = {key: (who, path, r) for key, who, path, r in rows}
    print()
    print(f"AgencyDesk vs Django admin 5.2 ({peer.get('db')}, {peer.get('n')} clients, "
          f"medians of the same run; peer took {peer['_seconds']:.0f} s)")
    head = f"{'page':<14} {'user':<6} {'AgencyDesk ms':>13} {'Django ms':>10} {'ratio':>6}  url"
    print(head)
    print("-" * len(head))
    for key, peer_key in PEER_PAGES:
        if key not in ours or peer_key not in peer:
            continue
        who, path, r = ours[key]
        ratio = r["median"] / peer[peer_key] if peer[peer_key] else float("nan")
        flag = "" if ratio <= 1.0 else "  <-- slower"
        print(f"{key:<14} {who:<6} {r['median']:>13.1f} {peer[peer_key]:>10.1f} "
              f"{ratio:>6.2f}  {path}{flag}")
    try:
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} CPUs")
    except OSError:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database-url", default=None,
                        help="default: sqlite:///bench/out/bench_<clients>.db")
    parser.add_argument("--reuse", action="store_true",
                        help="skip init+load when the database already holds clients")
    parser.add_argument("--keep", action="store_true",
                        help="keep a PostgreSQL database this run created")
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--accountant", default="acct01")
    parser.add_argument("--only", default="", help="comma-separated page keys to run")
    parser.add_argument("--profile", default="",
                        help="page key: print a cProfile of --requests requests instead")
    parser.add_argument("--profiler", choices=["cprofile", "pyinstrument"], default="cprofile",
                        help="pyinstrument must be pip-installed (not a requirement)")
    parser.add_argument("--django", action="store_true",
                        help="also run the Django admin peer and print both side by side")
    parser.add_argument("--django-script", default=os.environ.get("DJANGO_ADMIN_BENCH",
                                                                   PEER_SCRIPT))
    parser.add_argument("--django-pgdb", default="agencydesk_django_peer",
                        help="the peer's PostgreSQL database (with --django on PostgreSQL)")
    parser.add_argument("--sql-times", default="",
                        help="page key: print each statement's median database time")
    parser.add_argument("--show-sql", default="",
                        help="page key: print the SQL statements of one request")
    args = parser.parse_args(argv)

    os.environ.setdefault("FLASK_APP", "run.py")
    url = args.database_url
    created_pg = False
    if url is None:
        out = os.path.join(HERE, "out")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"bench_{args.clients}.db")
        if os.path.exists(path) and not args.reuse:
            os.remove(path)
        url = "sqlite:///" + path
    elif url.startswith("postgresql"):
        if not pg_exists(url):
            pg_create(url)
            created_pg = True
        elif not args.reuse:
            pg_drop(url)
            pg_create(url)
            created_pg = True

    try:
        return run(args, url)
    finally:
        if created_pg and not (args.keep or args.reuse):
            pg_drop(url)


def run(args, url) -> int:
    import logging

    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.models import Client, Staff

    logging.getLogger("flask_appbuilder").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "WTF_CSRF_ENABLED": True})
    dialect = url.split(":", 1)[0]

    with app.app_context():
        from app.services.demo import load_demo
        from app.services.setup import initialise

        existing = 0
        if args.reuse:
            try:
                existing = db.session.execute(select(func.count(Client.id))).scalar()
            except Exception:
                db.session.rollback()
        # init is idempotent: on a reused database it applies newer migrations
        t0 = time.perf_counter()
        initialise(app)
        init_s = time.perf_counter() - t0
        if existing:
            print(f"reusing {url}: {existing} clients (init {init_s:.2f} s, no load)")
            load_s = None
        else:
            t0 = time.perf_counter()
            result = load_demo(n_clients=args.clients, n_staff=args.staff, password=args.password)
            load_s = time.perf_counter() - t0
            print(f"database: {url}")
            print(f"init: {init_s:.2f} s;  load_demo({result.clients} clients, {result.staff} staff): "
                  f"{load_s:.2f} s")
            if dialect.startswith("postgresql"):
                # What autovacuum does a little later on a live server: statistics for
                # the planner and the visibility map that index-only scans (COUNT)
                # need. Without it the first minutes after a bulk load seq-scan.
                db.session.commit()
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(db.text("VACUUM ANALYZE"))
        # targets: a live client visible to the accountant (so every page shows a row)
        acct = db.session.execute(select(Staff).where(Staff.username == args.accountant)).scalar()
        row = db.session.execute(
            select(Client.id, Client.contact_phone)
            .where(Client.status == "active", Client.bookkeeper_id == acct.id)
            .order_by(Client.id.desc()).limit(1)).one()
        target_id, phone = row
        # a 4-character fragment of a real name, as selective as the peer's "测试123"
        fragment = db.session.execute(select(Client.short_name).where(
            Client.id == target_id)).scalar()[:4]
        total = db.session.execute(select(func.count(Client.id))).scalar()
        visible = db.session.execute(select(func.count(Client.id)).where(
            Client.status != "deleted")).scalar()
        acct_visible = db.session.execute(select(func.count(Client.id)).where(
            Client.status != "deleted",
            (Client.bookkeeper_id == acct.id) | (Client.field_agent_id == acct.id))).scalar()
        engine = db.engine
        db.session.remove()

    print(f"clients: {total} total, {visible} not deleted, {acct_visible} visible to "
          f"{args.accountant}; sample client id {target_id}, phone {phone}")

    pages = [
        ("client_list", "admin", "/clients/list/"),
        ("page_2", "admin", "/clients/list/?page_ClientModelView=1"),
        ("page_size_100", "admin", "/clients/list/?psize_ClientModelView=100"),
        ("page_100", "admin", "/clients/list/?page_ClientModelView=99"),
        ("search_keji", "admin", "/clients/list/?q=科技"),
        ("search_name", "admin", f"/clients/list/?q={fragment}"),
        ("search_phone", "admin", f"/clients/list/?q={phone}"),
        ("filter_status", "admin", "/clients/list/?_flt_0_status=active"),
        ("sort_name", "admin", "/clients/list/?_oc_ClientModelView=name&_od_ClientModelView=asc"),
        ("show", "admin", f"/clients/show/{target_id}"),
        # the client page's second request: his records in 12 panels (the fields
        # above show without them); ``show_inline`` is both in one response
        ("panels", "admin", f"/clients/panels/{target_id}"),
        ("show_inline", "admin", f"/clients/show/{target_id}?panels=inline"),
        ("edit", "admin", f"/clients/edit/{target_id}"),
        ("basic_list", "admin", "/clients-basic/list/"),
        ("home", "admin", "/"),
        ("acct_list", "acct", "/clients/list/"),
        ("acct_page_size_100", "acct", "/clients/list/?psize_ClientModelView=100"),
        ("acct_page_5", "acct", "/clients/list/?page_ClientModelView=4"),
        ("acct_search", "acct", f"/clients/list/?q={fragment}"),
        ("acct_filter", "acct", "/clients/list/?_flt_0_status=active"),
        ("acct_show", "acct", f"/clients/show/{target_id}"),
        ("acct_panels", "acct", f"/clients/panels/{target_id}"),
        ("acct_show_inline", "acct", f"/clients/show/{target_id}?panels=inline"),
        ("acct_edit", "acct", f"/clients/edit/{target_id}"),
        # the other lists clerks live in (obligations need a sync: load.py does one)
        ("obligations", "admin", "/obligations/list/"),
        ("acct_obligations", "acct", "/obligations/list/"),
        ("journal", "admin", "/journal/list/"),
        ("acct_journal", "acct", "/journal/list/"),
        ("filing_board", "acct", "/filing-board/"),
    ]
    if args.only:
        keys = set(args.only.split(","))
        pages = [p for p in pages if p[0] in keys]

    counter = StatementCounter(engine)
    clients = {"admin": login(app, "admin", args.password),
               "acct": login(app, args.accountant, args.password)}

    if args.show_sql:
        key, who, path = next(p for p in pages if p[0] == args.show_sql)
        clients[who].get(path)
        counter.keep, counter.statements = True, []
        clients[who].get(path)
        counter.keep = False
        for i, s in enumerate(counter.statements, 1):
            print(f"--- {i}\n{s}")
        return 0

    if args.sql_times:
        # each statement's database time (cursor execute, median of --requests), beside
        # the whole request's: how much of a page is SQL and which statement it is
        key, who, path = next(p for p in pages if p[0] == args.sql_times)
        for _ in range(args.warmup):
            clients[who].get(path)
        per, totals = [], []
        for _ in range(args.requests):
            counter.timing = []
            start = time.perf_counter()
            clients[who].get(path)
            totals.append(time.perf_counter() - start)
            for i, (statement, took) in enumerate(counter.timing):
                if i == len(per):
                    per.append((statement, []))
                per[i][1].append(took)
        counter.timing = None
        sql = 0.0
        for i, (statement, took) in enumerate(per, 1):
            median = statistics.median(took) * 1000
            sql += median
            print(f"{i:3d} {median:7.2f} ms  {' '.join(statement.split())[:110]}")
        print(f"SQL {sql:.1f} ms of {statistics.median(totals) * 1000:.1f} ms per request")
        return 0

    if args.profile:
        import cProfile
        import pstats

        key, who, path = next(p for p in pages if p[0] == args.profile)
        for _ in range(args.warmup):
            clients[who].get(path)
        if args.profiler == "pyinstrument":
            from pyinstrument import Profiler

            prof = Profiler(interval=0.0005)
            prof.start()
            for _ in range(args.requests):
                clients[who].get(path)
            prof.stop()
            print(prof.output_text(unicode=True, color=False, show_all=False))
            return 0
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.requests):
            clients[who].get(path)
        prof.disable()
        stats = pstats.Stats(prof).sort_stats("cumulative")
        stats.print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        if os.environ.get("BENCH_CALLERS"):
            stats.print_callers(os.environ["BENCH_CALLERS"])
        return 0

    rows = []
    t_all = time.perf_counter()
    for key, who, path in pages:
        r = measure(clients[who], counter, path, args.requests, args.warmup)
        rows.append((key, who, path, r))
    elapsed = time.perf_counter() - t_all

    print()
    print(f"{dialect}, {total} clients, {args.requests} requests after {args.warmup} warm-ups "
          f"(measuring took {elapsed:.0f} s)")
    head = f"{'page':<20} {'user':<6} {'median ms':>9} {'p90 ms':>8} {'stmts':>6} {'KB':>7} {'HTTP':>5}  url"
    print(head)
    print("-" * len(head))
    for key, who, path, r in rows:
        print(f"{key:<20} {who:<6} {r['median']:>9.1f} {r['p90']:>8.1f} {str(r['statements']):>6} "
              f"{r['kb']:>7.1f} {r['status']:>5}  {path}")
    if args.django:
        print_side_by_side(rows, run_django_peer(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
