"""Search benchmark: milliseconds of SQL per search request, through the text index
and without it, at a million clients.

    python bench/bench_search.py                                   # SQLite, bench/out/search_<N>.db
    python bench/bench_search.py --clients 1000000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/agencydesk_search
    python bench/bench_search.py --reuse --database-url sqlite:///bench/out/demo_1m.db   # a `flask demo load` database

It builds (or reuses) a database of ``--clients`` demo clients (``flask init`` +
``load_demo`` in chunks), logs in as the admin and as an accountant, and for each
fragment — 3 and 4 characters of real names, a 2-character one, digits of a phone
and of a credit code — times the search box (``/clients/list/?q=…``) and the search
form's "contains" filter on 公司名称: the SQL time of the request (its statements,
captured from one request and run again on a raw connection, each fetched to the
end), median of ``--requests``, with the index and with
it switched off (SQLite: no FTS rewrite; PostgreSQL: ``enable_bitmapscan`` and
``enable_indexscan`` off for the session). ``--explain`` prints the plans.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_pages import DEFAULT_PASSWORD, login, pg_create, pg_exists  # noqa: E402


def pg_fill(session, target: int, chunk: int = 100_000) -> int:
    """PostgreSQL only: grow ``client`` to ``target`` rows in SQL (generate_series),
    names drawn the way ``load_demo`` draws them (city, two trade characters,
    industry, suffix; Chinese legal representative and contact; mobile numbers),
    the other columns copied from the demo rows already there. ~100x faster than
    the Python loader on this shared machine; the trigram indexes are dropped and
    rebuilt around it (textsearch.bulk_load)."""
    from sqlalchemy import text

    from app.data import textsearch
    from app.models import Client
    from app.services import demo

    have = session.execute(text("SELECT count(*) FROM client")).scalar()
    if have >= target:
        return 0
    generated = ("name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
                 "contact_name", "contact_phone")
    copied = [c for c in session.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'client' "
        "ORDER BY ordinal_position")).scalars() if c not in generated and c != "id"]
    lo_id, n_base = session.execute(text("SELECT min(id), count(*) FROM client")).one()

    def pick(values) -> str:
        arr = "ARRAY[" + ",".join("'" + v + "'" for v in values) + "]"
        return f"({arr})[1 + floor(random() * {len(values)})::int]"

    def char(chars: str) -> str:
        return f"substr('{chars}', 1 + floor(random() * {len(chars)})::int, 1)"

    person = f"{char(demo.SURNAMES)} || {char(demo.GIVEN)} || " \
             f"CASE WHEN random() < 0.7 THEN {char(demo.GIVEN)} ELSE '' END"
    mobile = "'1' || (3 + floor(random() * 7))::int::text || " \
             "lpad(floor(random() * 1000000000)::bigint::text, 9, '0')"
    cities = [c for c, _ in demo.CITIES]
    sql = f"""
        INSERT INTO client ({", ".join(generated)}, {", ".join(copied)})
        SELECT city || trade || industry || {pick(demo.SUFFIXES)},
               trade || left(industry, 2),
               '91' || region || upper(substr(md5(g::text || clock_timestamp()::text), 1, 10)),
               {person}, {mobile}, {person}, {mobile},
               {", ".join("b." + c for c in copied)}
        FROM generate_series(:lo, :hi) AS g
        -- "+ 0 * g": a lateral subquery not referring to the row is computed once
        CROSS JOIN LATERAL (SELECT floor(random() * {len(cities)} + 0 * g)::int AS k) AS r
        CROSS JOIN LATERAL (SELECT (ARRAY[{",".join("'" + c + "'" for c in cities)}])[1 + r.k] AS city,
                                   (ARRAY[{",".join("'" + x + "'" for _, x in demo.CITIES)}])[1 + r.k] AS region,
                                   {char(demo.TRADE_CHARS)} || {char(demo.TRADE_CHARS)} AS trade,
                                   {pick(demo.INDUSTRIES)} AS industry, g AS row_no) AS t
        JOIN client AS b ON b.id = :base + (g % :n)
    """
    added = 0
    with textsearch.bulk_load(session, Client):
        start = have
        while start < target:
            hi = min(target, start + chunk)
            session.execute(text(sql), {"lo": start, "hi": hi - 1, "base": lo_id, "n": n_base})
            session.commit()
            added += hi - start
            print(f"  {hi} clients", flush=True)
            start = hi
    return added


class SqlTimer:
    """Sum of statement times (before/after cursor execute) per request."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.total = 0.0
        self.n = 0
        self._t0 = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args):
        self._t0 = time.perf_counter()

    def _after(self, *args):
        self.total += time.perf_counter() - self._t0
        self.n += 1

    def reset(self):
        self.total, self.n = 0.0, 0


def replay_ms(engine, statements) -> float:
    """The statements of one request run again on a raw connection, each executed
    and fetched to the end: SQLite computes rows while they are fetched, so the
    cursor events alone would miss most of a scan."""
    conn = engine.raw_connection()
    try:
        cur = conn.cursor()
        t0 = time.perf_counter()
        for statement, params in statements:
            cur.execute(statement, params)
            if cur.description is not None:
                cur.fetchall()
        elapsed = time.perf_counter() - t0
        conn.rollback()
        return elapsed * 1000
    finally:
        conn.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--accountant", default="acct01")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--sql-fill", action="store_true",
                        help="PostgreSQL: grow a database already holding demo clients to "
                             "--clients in SQL (pg_fill) rather than with the Python loader")
    args = parser.parse_args(argv)

    url = args.database_url
    if url is None:
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        url = "sqlite:///" + os.path.join(HERE, "out", f"search_{args.clients}.db")
    elif url.startswith("postgresql") and not pg_exists(url):
        pg_create(url)

    logging.getLogger("alembic").setLevel(logging.WARNING)
    from sqlalchemy import func, select, text

    from app import create_app
    from app.extensions import db
    from app.models import Client
    from app.services.demo import load_demo
    from app.services.setup import initialise, refresh_statistics

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret",
                      "WTF_CSRF_ENABLED": True})
    dialect = url.split(":", 1)[0].split("+")[0]
    with app.app_context():
        initialise(app)
        have = db.session.execute(select(func.count(Client.id))).scalar()
        if have < args.clients and not args.reuse:
            t0 = time.perf_counter()
            if dialect == "postgresql" and args.sql_fill and have:
                pg_fill(db.session, args.clients)
            else:
                load_demo(n_clients=args.clients - have, n_staff=50, password=args.password)
            refresh_statistics()
            print(f"loaded {args.clients - have} clients in {time.perf_counter() - t0:.0f} s")
        total = db.session.execute(select(func.count(Client.id))).scalar()
        sample = db.session.execute(select(Client.name, Client.short_name, Client.contact_phone,
                                           Client.credit_code)
                                    .order_by(Client.id.desc()).limit(1)).one()
        engine = db.engine
        db.session.remove()

    name, short, phone, code = sample
    fragments = [("4 chars", short[:4]), ("3 chars", name[2:5]), ("3 chars, rare", name[-7:-4]),
                 ("2 chars", short[2:4]), ("phone, 7 digits", phone[-7:]),
                 ("credit code, 8", code[6:14])]
    timer = SqlTimer(engine)
    admin = login(app, "admin", args.password)
    acct = login(app, args.accountant, args.password)

    from app.data import textsearch

    def timed(client, path, indexed: bool):
        original = textsearch.candidates
        if not indexed and dialect == "sqlite":
            textsearch.candidates = lambda *a, **k: None
        try:
            client.get(path)  # warm
            from sqlalchemy import event

            captured = []

            def capture(conn, cursor, statement, parameters, context, executemany):
                captured.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", capture)
            try:
                client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            sql, wall, rows = [], [], None
            for _ in range(args.requests):
                t0 = time.perf_counter()
                resp = client.get(path)
                wall.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200, (path, resp.status_code)
                rows = resp.get_data(as_text=True).count('name="rowid"')
                sql.append(replay_ms(engine, captured))
            return statistics.median(sql), statistics.median(wall), rows
        finally:
            textsearch.candidates = original

    pg_index = {"on": True}
    if dialect == "postgresql":
        from sqlalchemy import event

        def checkout(dbapi_conn, record, proxy):
            # each checkout: the planner may use indexes or not, as the row asks
            value = "on" if pg_index["on"] else "off"
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET enable_bitmapscan = {value}")
                cur.execute(f"SET enable_indexscan = {value}")
            dbapi_conn.commit()

        event.listen(engine, "checkout", checkout)

    def set_pg_index(enabled: bool):
        pg_index["on"] = enabled

    print(f"{dialect}, {total} clients; SQL ms per request (sum of its statements), median of "
          f"{args.requests}; wall ms in brackets")
    head = (f"{'fragment':<18} {'text':<10} {'who':<6} {'what':<9} {'indexed SQL':>11} "
            f"{'(wall)':>8} {'no index SQL':>12} {'(wall)':>8} {'rows':>5}")
    print(head)
    print("-" * len(head))
    results = []
    for label, frag in fragments:
        for who, client in (("admin", admin), ("acct", acct)):
            for what, path in (("box", f"/clients/list/?q={quote(frag)}"),
                               ("contains", f"/clients/list/?_flt_2_name={quote(frag)}")):
                if what == "contains" and not label.startswith(("4", "3", "2")):
                    continue
                set_pg_index(True)
                with_sql, with_wall, rows = timed(client, path, True)
                set_pg_index(False)
                no_sql, no_wall, _ = timed(client, path, False)
                set_pg_index(True)
                results.append((label, frag, who, what, with_sql, no_sql))
                print(f"{label:<18} {frag:<10} {who:<6} {what:<9} {with_sql:>11.1f} "
                      f"({with_wall:>6.1f}) {no_sql:>12.1f} ({no_wall:>6.1f}) {rows:>5}")
    if args.explain:
        with app.app_context():
            frag = short[:4]
            if dialect == "sqlite":
                q = ("SELECT id FROM client WHERE status != 'deleted' AND id IN (SELECT rowid "
                     "FROM client_fts WHERE client_fts MATCH :m) AND (name LIKE :p OR "
                     "contact_phone LIKE :p) ORDER BY id DESC LIMIT 20")
                plan = db.session.execute(text("EXPLAIN QUERY PLAN " + q),
                                          {"m": f'"{frag}"', "p": f"%{frag}%"}).all()
            else:
                q = ("SELECT id FROM client WHERE status != 'deleted' AND (name LIKE :p OR "
                     "short_name LIKE :p OR credit_code LIKE :p OR legal_rep LIKE :p OR "
                     "legal_rep_phone LIKE :p OR contact_name LIKE :p OR contact_phone LIKE :p) "
                     "ORDER BY id DESC LIMIT 20")
                plan = db.session.execute(text("EXPLAIN ANALYZE " + q), {"p": f"%{frag}%"}).all()
            print("\nplan of the 4-character search box query:")
            for row in plan:
                print("  ", row[-1] if dialect == "sqlite" else row[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
