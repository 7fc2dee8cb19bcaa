"""Load test: gunicorn (4 workers) on PostgreSQL, N logged-in users of mixed roles
browsing, searching, opening clients, completing obligations and approving journal
entries — through the same pages and forms (CSRF tokens and all) a browser uses.

    python bench/load.py                        # 50 users, 60 s, both modes
    python bench/load.py --mode people --users 50 --duration 60
    python bench/load.py --mode max --users 20 --duration 30

Two modes:
- ``people``: each simulated user waits 2–5 s between clicks (what 50 clerks do);
  when the clock starts each is part-way through a pause (0–5 s to his first click);
- ``max``: closed loop, no waits: the throughput the server can give.

``--instances 2`` starts two gunicorn servers on the same database (two machines
behind a load balancer): users alternate between them, a third of the 完成 and 审核
posts are sent to both servers at once (a double click landing on two machines, two
clerks on one row), and ``flask scheduler tick`` runs on both at once, twice, after
the jobs' latest runs are forgotten (bench database only). At the end it counts what
was done twice: journal entries approved more than once, obligations recorded twice
for one due date, job occurrences that succeeded twice — each must be 0.

Loopback only, bounded: ``--duration`` seconds and at most ``--max-requests``
requests per mode; gunicorn is started on a free 127.0.0.1 port and stopped at the
end. The database (``--database-url``, default the page benchmark's
``agencydesk_bench``) must hold demo data (``bench_pages.py --keep`` or ``flask demo
load``) with the demo password; missing obligations are synced and pending journal
entries are added once. Prints, per mode: requests, throughput, and per page kind
p50/p95/p99 (ms) and errors (HTTP >= 400, a login page where a page was expected,
connection errors). Standard library only (urllib, threads).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_bench"
DEFAULT_PASSWORD = "Bench-Passw0rd!"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
ROWID = re.compile(r'name="rowid" value="([^"]+)"')
SHOW = re.compile(r'href="(/clients/show/\d+)')
PANELS = re.compile(r'id="client-panels" data-src="(/clients/panels/\d+)"')


# ---- preparing the database ---------------------------------------------------------------
def prepare(url: str, password: str, pending: int) -> dict:
    """Users by role, search fragments; syncs obligations and adds pending journal
    entries when there are none (once per database)."""
    import datetime
    import logging

    from sqlalchemy import func, select, text

    logging.getLogger("alembic").setLevel(logging.WARNING)
    from app import create_app
    from app.extensions import db
    from app.models import Client

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        from app import clock
        from app.services.obligations import sync_obligations

        filled = False
        if not db.session.execute(text("SELECT count(*) FROM obligation")).scalar():
            t0 = time.perf_counter()
            result = sync_obligations(clock.today(), clock.tz_name(), chunk_size=20_000)
            print(f"synced obligations: {result.created} in {time.perf_counter() - t0:.0f} s")
            filled = True
        rows = db.session.execute(text(
            "SELECT u.username, r.name FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
            "JOIN ab_role r ON r.id = ur.role_id WHERE u.active")).all()
        users: dict[str, list[str]] = defaultdict(list)
        for username, role in rows:
            users[role].append(username)
        have = db.session.execute(text(
            "SELECT count(*) FROM journal_entry WHERE status = 'pending'")).scalar()
        if have < pending:
            authors = db.session.execute(text(
                "SELECT u.id FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
                "JOIN ab_role r ON r.id = ur.role_id WHERE r.name = 'Accountant'")).scalars().all()
            ids = db.session.execute(select(Client.id).order_by(Client.id.desc())
                                     .limit(pending)).scalars().all()
            now = datetime.datetime.now()
            rng = random.Random(7)
            # expenses paid for a client (代垫): a client's own payments are 收款 receipts,
            # never journal income (the journal's rule)
            db.session.execute(text(
                "INSERT INTO journal_entry (entry_date, client_id, direction, amount, status, "
                "created_by_id, created_on, version) VALUES (:d, :c, 'expense', :a, 'pending', "
                ":by, :now, 1)"),
                [{"d": now.date(), "c": cid, "a": rng.choice([300, 500, 800]),
                  "by": rng.choice(authors), "now": now} for cid in ids[: pending - have]])
            db.session.commit()
            print(f"added {pending - have} pending journal entries")
            filled = True
        if filled and db.engine.dialect.name == "postgresql":
            # what autovacuum does after a bulk insert (this machine's PostgreSQL runs
            # with autovacuum off): without it the visibility map is empty and every
            # index-only count reads the heap (an accountant's 报税管理 count 79 → 21 ms)
            t0 = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE obligation"))
                conn.execute(text("VACUUM ANALYZE journal_entry"))
            print(f"VACUUM ANALYZE after the bulk inserts: {time.perf_counter() - t0:.1f} s")
        names = db.session.execute(select(Client.short_name).order_by(func.random())
                                   .limit(300)).scalars().all()
        db.session.remove()
        db.engine.dispose()
    fragments = sorted({n[:4] for n in names if n and len(n) >= 4})
    return {"users": dict(users), "fragments": fragments}


# ---- the server ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(url: str, workers: int, n: int = 1):
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="load-test-secret-key-0123456789abcdef",
               # one address logs 50 users in at once: the login limit is per address
               AUTH_RATE_LIMIT="100000 per minute")
    log = open(os.path.join(HERE, "out", f"load_gunicorn{'' if n == 1 else n}.log"), "w")
    proc = subprocess.Popen([gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "--timeout", "60", "app:create_app()"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/login/", timeout=2)
            return proc, base
        except Exception:
            if proc.poll() is not None:
                raise SystemExit("gunicorn did not start: see bench/out/load_gunicorn*.log")
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not answer in 60 s")


# ---- one simulated user ---------------------------------------------------------------------
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a POST's 302 is its answer: timed alone, not with the next page


class User:
    def __init__(self, base: str, username: str, role: str, password: str, stats, rng,
                 other: str | None = None):
        self.base, self.username, self.role, self.password = base, username, role, password
        self.other = other  # the second server (--instances 2)
        self.stats, self.rng = stats, rng
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect)
        self.token = None
        self.client_links: list[str] = []

    def request(self, kind: str, path: str, data: dict | None = None,
                base: str | None = None) -> str | None:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        t0 = time.perf_counter()
        status, html = 0, ""
        try:
            with self.opener.open((base or self.base) + path, data=body, timeout=30) as resp:
                status, html = resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status = exc.code
            if status in (301, 302, 303):
                html = ""
        except Exception as exc:  # connection refused, timeout
            self.stats.record(kind, (time.perf_counter() - t0) * 1000, f"{type(exc).__name__}")
            return None
        elapsed = (time.perf_counter() - t0) * 1000
        error = None
        if status >= 400:
            error = f"HTTP {status}"
        elif data is None and status == 302:
            error = "redirected (logged out?)"
        self.stats.record(kind, elapsed, error)
        if error:
            return None
        match = TOKEN.search(html)
        if match:
            self.token = match.group(1) or match.group(2)
        return html

    def login(self) -> bool:
        self.request("login_page", "/login/")
        self.request("login", "/login/", {"username": self.username, "password": self.password,
                                          "csrf_token": self.token or ""})
        return self.request("home", "/") is not None

    def step(self, fragments):
        """One click, chosen by role."""
        r = self.rng.random()
        if self.role in ("Accountant", "FieldAgent") and r < 0.2:
            return self.complete_obligation()
        if self.role in ("Manager", "Finance") and r < 0.2:
            return self.approve_entry()
        if r < 0.5:
            page = self.rng.randrange(0, 20)
            html = self.request("client_list", f"/clients/list/?page_ClientModelView={page}")
        elif r < 0.75:
            frag = urllib.parse.quote(self.rng.choice(fragments))
            html = self.request("client_search", f"/clients/list/?q={frag}")
        else:
            if not self.client_links:
                html = self.request("client_list", "/clients/list/")
            else:
                # the client page, then its panels as the browser fetches them
                html = self.request("client_show", self.rng.choice(self.client_links))
                match = PANELS.search(html or "")
                if match:
                    self.request("client_panels", match.group(1))
                return
        if html:
            links = SHOW.findall(html)
            if links:
                self.client_links = links[:20]

    def complete_obligation(self):
        html = self.request("obligation_list", "/obligations/list/")
        rows = ROWID.findall(html or "")
        if rows and self.token:
            self.post_twice("obligation_complete", "/obligations/action_post",
                            {"action": "complete", "rowid": self.rng.choice(rows[:10]),
                             "csrf_token": self.token})

    def approve_entry(self):
        html = self.request("journal_list", "/journal/list/?_flt_0_status=pending")
        rows = ROWID.findall(html or "")
        if rows and self.token:
            self.post_twice("journal_approve", "/journal/action_post",
                            {"action": "approve", "rowid": self.rng.choice(rows[:10]),
                             "csrf_token": self.token})

    def post_twice(self, kind: str, path: str, data: dict):
        """The post; with two servers, a third of the time also the same post to the
        other server at the same moment (same session cookie and token)."""
        if not self.other or self.rng.random() >= 1 / 3:
            return self.request(kind, path, data)
        twin = threading.Thread(target=self.request, args=(kind, path, data),
                                kwargs={"base": self.other})
        twin.start()
        self.request(kind, path, data)
        twin.join()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.count = 0
        self.samples: list[tuple[float, str, float]] = []  # (finished at, kind, ms)

    def record(self, kind: str, ms: float, error: str | None):
        with self.lock:
            self.count += 1
            self.times[kind].append(ms)
            self.samples.append((time.perf_counter(), kind, ms))
            if error:
                self.errors[kind][error] += 1


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run_mode(mode: str, bases: list, prep: dict, args) -> Stats:
    stats = Stats()
    rng = random.Random(args.seed)
    users = prep["users"]
    # mixed roles, about as an agency has them: accountants the most
    plan = (["Accountant"] * 6 + ["FieldAgent"] * 2 + ["Manager"] + ["Finance"] + ["Admin"])
    people = []
    for i in range(args.users):
        role = plan[i % len(plan)]
        names = users.get(role) or users["Accountant"]
        base, other = bases[i % len(bases)], None
        if len(bases) > 1:
            other = bases[(i + 1) % len(bases)]
        people.append(User(base, names[i % len(names)], role, args.password, stats,
                           random.Random(rng.random()), other))
    stop_at = [0.0]
    ready, ready_lock = [0], threading.Lock()  # users logged in (and warmed up)
    timed = Stats()  # what happens after every user has logged in

    def worker(u: User):
        if not u.login():
            return
        for _ in range(args.warmup):  # untimed: each worker process compiles its pages once
            u.step(prep["fragments"])
        with ready_lock:
            ready[0] += 1
        while time.perf_counter() < stop_at[0] - 10 ** 5:  # everyone ready: the clock starts
            time.sleep(0.05)
        u.stats = timed
        if mode == "people":
            # people are not in step: when the clock starts each is somewhere in his
            # 2–5 s pause (all 50 clicking in the same millisecond is no office's
            # morning — it queued 50 requests at once and made the first second's
            # answers the run's p95–p99)
            pause_until = min(stop_at[0], time.perf_counter() + u.rng.uniform(0.0, 5.0))
            while time.perf_counter() < pause_until:
                time.sleep(min(0.25, pause_until - time.perf_counter()))
        while time.perf_counter() < stop_at[0] and timed.count < args.max_requests:
            u.step(prep["fragments"])
            if mode == "people":
                pause = u.rng.uniform(2.0, 5.0)
                end = min(stop_at[0], time.perf_counter() + pause)
                while time.perf_counter() < end:
                    time.sleep(min(0.25, end - time.perf_counter()))

    threads = [threading.Thread(target=worker, args=(u,), daemon=True) for u in people]
    stop_at[0] = time.perf_counter() + 10 ** 6
    for t in threads:
        t.start()
    # logins happen first (each user logs in once, at once): then the clock starts
    t_login = time.perf_counter()
    while any(t.is_alive() for t in threads) \
            and ready[0] < sum(t.is_alive() for t in threads) \
            and time.perf_counter() - t_login < 120:
        time.sleep(0.05)
    started = time.perf_counter()
    stop_at[0] = started + args.duration
    for t in threads:
        t.join(timeout=args.duration + 60)
    elapsed = time.perf_counter() - started
    report(mode, args, stats, timed, elapsed)
    if args.samples:
        # one line per timed request: when it finished (s from the start), kind, ms
        with open(f"{args.samples}.{mode}.csv", "w") as out:
            out.write("t,kind,ms\n")
            for t, kind, ms in timed.samples:
                out.write(f"{t - started:.3f},{kind},{ms:.1f}\n")
    return timed


def report(mode, args, logins: Stats, stats: Stats, elapsed: float):
    total = sum(len(v) for v in stats.times.values())
    errors = sum(sum(e.values()) for e in stats.errors.values())
    login_errors = sum(sum(e.values()) for e in logins.errors.values())
    print()
    print(f"mode {mode}: {args.users} users, {elapsed:.0f} s, {total} requests, "
          f"{total / elapsed:.1f} req/s, {errors} errors "
          f"(logins: {len(logins.times.get('login', []))}, {login_errors} errors)")
    head = f"{'page kind':<20} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(head)
    print("-" * len(head))
    for kind in sorted(stats.times):
        values = stats.times[kind]
        errs = stats.errors.get(kind, {})
        print(f"{kind:<20} {len(values):>8} {statistics.median(values):>8.0f} "
              f"{pct(values, 95):>8.0f} {pct(values, 99):>8.0f} {sum(errs.values()):>7}"
              + (f"  {dict(errs)}" if errs else ""))
    everything = [v for values in stats.times.values() for v in values]
    if everything:
        print(f"{'all':<20} {len(everything):>8} {statistics.median(everything):>8.0f} "
              f"{pct(everything, 95):>8.0f} {pct(everything, 99):>8.0f} {errors:>7}")
    try:
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs")
    except OSError:
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--mode", choices=["people", "max", "both"], default="both")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per instance")
    parser.add_argument("--instances", type=int, default=1, choices=[1, 2],
                        help="gunicorn servers on the same database (2: the done-once checks)")
    parser.add_argument("--max-requests", type=int, default=100_000,
                        help="stop a mode after this many requests")
    parser.add_argument("--pending", type=int, default=5000,
                        help="pending journal entries to have for approvals")
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=0,
                        help="untimed clicks per user before the clock starts (warm workers)")
    parser.add_argument("--samples", default="",
                        help="write every timed request to SAMPLES.<mode>.csv (t, kind, ms)")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when redirected to a file
    if not args.database_url.startswith("postgresql"):
        print("note: the load test is meant for PostgreSQL (SQLite serialises writers)")
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    prep = prepare(args.database_url, args.password, args.pending)
    print(f"users by role: { {k: len(v) for k, v in prep['users'].items()} }; "
          f"{len(prep['fragments'])} search fragments")
    servers = [start_gunicorn(args.database_url, args.workers, n + 1)
               for n in range(args.instances)]
    bases = [base for _, base in servers]
    marks = high_water(args.database_url) if args.instances > 1 else None
    ticks = None
    try:
        print(f"gunicorn: {args.instances} × {args.workers} workers at {', '.join(bases)}")
        if args.instances > 1:
            ticks = threading.Thread(target=double_ticks, args=(args, 2, marks), daemon=True)
            ticks.start()
        modes = ["people", "max"] if args.mode == "both" else [args.mode]
        for mode in modes:
            run_mode(mode, bases, prep, args)
        if ticks is not None:
            ticks.join(timeout=600)
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    if marks is not None:
        return report_twice(args.database_url, marks)
    return 0


# ---- two instances: was anything done twice? ----------------------------------------------
def _engine(url: str):
    from sqlalchemy import create_engine

    return create_engine(url)


def high_water(url: str) -> dict:
    """The last ids before the run: what comes after is this run's."""
    from sqlalchemy import text

    engine = _engine(url)
    with engine.connect() as conn:
        marks = {t: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar()
                 for t in ("audit_log", "obligation_record", "job_run")}
    engine.dispose()
    return marks


def double_ticks(args, rounds: int, marks: dict) -> None:
    """``flask scheduler tick`` on both machines at the same moment, ``rounds`` times.
    Before the first round every job is made due again (bench database only: its
    last successful tick is forgotten and the earlier runs deleted), so the first
    round runs each job once between the two machines and the later rounds find
    nothing due."""
    from sqlalchemy import text

    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    env = dict(os.environ, DATABASE_URL=args.database_url, FLASK_APP="run.py",
               SECRET_KEY="load-test-secret-key-0123456789abcdef")
    engine = _engine(args.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM job_run WHERE id <= :m AND finished_at IS NOT NULL"),
                     {"m": marks["job_run"]})
        conn.execute(text("UPDATE scheduled_job SET last_tick = NULL"))
    engine.dispose()
    for r in range(rounds):
        time.sleep(5 if r == 0 else 10)
        t0 = time.perf_counter()
        procs = [subprocess.Popen([flask, "scheduler", "tick"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for _ in range(2)]
        outs = [p.communicate(timeout=900)[0] for p in procs]
        print(f"\nscheduler round {r + 1}: two ticks at once, {time.perf_counter() - t0:.0f} s")
        for n, out in enumerate(outs, 1):
            lines = [line.strip() for line in out.splitlines() if line.strip()]
            print(f"  machine {n}: " + "; ".join(lines[-8:]))


def report_twice(url: str, marks: dict) -> int:
    from sqlalchemy import text

    checks = {
        "journal entries approved twice": (
            "SELECT count(*) FROM (SELECT row_id FROM audit_log WHERE id > :audit_log "
            "AND table_name = 'journal_entry' AND changes LIKE :approved "
            "GROUP BY row_id HAVING count(*) > 1) x"),
        "journal entries approved (once)": (
            "SELECT count(DISTINCT row_id) FROM audit_log WHERE id > :audit_log "
            "AND table_name = 'journal_entry' AND changes LIKE :approved"),
        "obligations recorded twice for one due date": (
            "SELECT count(*) FROM (SELECT obligation_id, due_date FROM obligation_record "
            "WHERE id > :obligation_record GROUP BY obligation_id, due_date "
            "HAVING count(*) > 1) x"),
        "obligations recorded (once)": (
            "SELECT count(*) FROM obligation_record WHERE id > :obligation_record"),
        "job occurrences succeeded twice": (
            "SELECT count(*) FROM (SELECT job_id, tick FROM job_run WHERE id > :job_run "
            "AND status = 'succeeded' GROUP BY job_id, tick HAVING count(*) > 1) x"),
        "job runs (all attempts)": "SELECT count(*) FROM job_run WHERE id > :job_run",
    }
    engine = _engine(url)
    bad = 0
    print("\nwhat the two instances did:")
    with engine.connect() as conn:
        for label, sql in checks.items():
            n = conn.execute(text(sql), {**marks, "approved":
                                         '%"status": ["pending", "approved"]%'}).scalar()
            print(f"  {label:<46} {n}")
            if "twice" in label:
                bad += n
    engine.dispose()
    print("nothing was done twice" if not bad else f"DONE TWICE: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
