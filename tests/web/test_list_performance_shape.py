"""The shape of a list page's SQL, not its speed: the number of statements a list
request runs must not depend on the page size or on how many different related
rows (记账会计, 外勤会计) the page shows — no query per row (N+1) and no growing
preload. Timings live in bench/bench_pages.py."""
from __future__ import annotations

import contextlib
import datetime

import pytest

from ..conftest import valid_code

N_CLIENTS = 130  # more than the larger page size: both pages are full pages


@pytest.fixture
def many_clients(app, make_user):
    """N_CLIENTS clients spread over three bookkeepers and two field agents; the
    first bookkeeper gets every third one."""
    from app.extensions import db
    from app.models import Client

    bookkeepers = [make_user("Accountant") for _ in range(3)]
    agents = [make_user("FieldAgent") for _ in range(2)]
    now = datetime.datetime.now()
    with app.app_context():
        db.session.add_all([
            Client(name=f"形状测试有限公司{i:03d}", credit_code=valid_code(),
                   bookkeeper_id=bookkeepers[i % 3].id, field_agent_id=agents[i % 2].id,
                   created_on=now, changed_on=now)
            for i in range(N_CLIENTS)])
        db.session.commit()
    return bookkeepers


@contextlib.contextmanager
def count_statements(app):
    from sqlalchemy import event

    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def statements_for(app, client, path) -> list[str]:
    client.get(path)  # warm: first-request work is not the page's shape
    with count_statements(app) as seen:
        resp = client.get(path)
    assert resp.status_code == 200
    return list(seen)


@pytest.mark.parametrize("path", ["/clients/list/", "/clients-basic/list/"])
def test_admin_list_statements_do_not_grow_with_page_size(app, admin_client, many_clients,
                                                          path):
    view = "ClientModelView" if path.startswith("/clients/") else "ClientBasicView"
    small = statements_for(app, admin_client, path)
    large = statements_for(app, admin_client, f"{path}?psize_{view}=100")
    assert len(small) == len(large), (small, large)
    html = admin_client.get(f"{path}?psize_{view}=100").get_data(as_text=True)
    assert html.count("形状测试有限公司") >= 100  # the large page really shows 100 rows


def test_scoped_list_statements_do_not_grow_with_page_size(app, client, many_clients):
    client.login(many_clients[0])  # sees his own ~44 clients only
    small = statements_for(app, client, "/clients/list/")
    large = statements_for(app, client, "/clients/list/?psize_ClientModelView=100")
    # 20 of ~44 is a full page (COUNT runs); 100 is a short page, whose total the
    # page itself shows (COUNT skipped): never more statements for more rows.
    assert len(large) <= len(small), (small, large)


def test_list_count_is_right_when_the_count_is_skipped(app, admin_client, many_clients):
    """A short page gives its own total; a full one asks the database."""
    short = admin_client.get("/clients/list/?psize_ClientModelView=100&page_ClientModelView=1"
                             ).get_data(as_text=True)
    assert short.count("形状测试有限公司") == N_CLIENTS - 100
    full = admin_client.get("/clients/list/").get_data(as_text=True)
    beyond = admin_client.get("/clients/list/?page_ClientModelView=50").get_data(as_text=True)
    for html in (short, full, beyond):  # FAB prints "<strong>Record Count:</strong> N"
        assert f"</strong> {N_CLIENTS}" in html


def test_filing_board_statements_do_not_grow_with_its_clients(app, admin_client, make_user,
                                                              make_client):
    """申报进度: a page of 3 clients of 3 accountants and one of 15 clients of 15 run the
    same statements (the accountants are loaded with the page, not one by one)."""
    def board():
        return statements_for(app, admin_client, "/filing-board/?month=2026-11")

    for _ in range(3):
        make_client(bookkeeper=make_user("Accountant"))
    small = board()
    for _ in range(12):
        make_client(bookkeeper=make_user("Accountant"))
    large = board()
    assert len(large) == len(small), (len(small), len(large))


def test_client_panels_statements_do_not_grow_with_his_records(app, client, make_user,
                                                               make_client):
    """The client page's panels: one client with one record per kind and one with a
    dozen per kind (more than a panel shows) run the same statements — no query per
    row, and the page itself reads none of them."""
    from app.extensions import db
    from app.models import Contract, JournalEntry, Todo

    acct = make_user("Accountant")
    few, many = make_client(bookkeeper=acct), make_client(bookkeeper=acct)
    with app.app_context():
        for cid, n in ((few, 1), (many, 12)):
            for i in range(n):
                db.session.add_all([
                    Contract(client_id=cid, number=f"HT-形状-{cid}-{i}",
                             start_date=datetime.date(2026, 1, 1),
                             end_date=datetime.date(2026, 12, 31), fee=100,
                             billing_cycle="month", created_by_id=acct.id),
                    Todo(title=f"形状待办{i}", client_id=cid, assignee_id=acct.id,
                         created_by_id=acct.id),
                    JournalEntry(entry_date=datetime.date(2026, 11, 1), client_id=cid,
                                 direction="expense", amount=10, created_by_id=acct.id)])
        db.session.commit()
    client.login(acct)
    small = statements_for(app, client, f"/clients/panels/{few}")
    large = statements_for(app, client, f"/clients/panels/{many}")
    assert len(large) == len(small), (len(small), len(large))
    page = statements_for(app, client, f"/clients/show/{many}")
    assert not any("FROM contract" in s or "FROM todo" in s for s in page)


def test_a_clerks_count_covers_every_way_a_client_is_his(app, client, make_user, make_client):
    """The accountant's list total (counted per column on SQLite, then united) is the
    clients he keeps the books of, visits as field accountant or sold — each once even
    when he is two of them — without the deleted ones or anybody else's; on a full
    page (the count runs) and filtered."""
    from app.extensions import db
    from app.models import Client

    me, other = make_user("Accountant"), make_user("Accountant")
    now = datetime.datetime.now()
    with app.app_context():
        rows = ([dict(bookkeeper_id=me.id)] * 12 + [dict(field_agent_id=me.id)] * 7
                + [dict(sales_id=me.id, bookkeeper_id=other.id)] * 5
                + [dict(bookkeeper_id=me.id, field_agent_id=me.id)] * 2
                + [dict(bookkeeper_id=me.id, status="deleted")] * 3
                + [dict(bookkeeper_id=other.id)] * 9)
        db.session.add_all([Client(name=f"计数测试有限公司{i:02d}", credit_code=valid_code(),
                                   created_on=now, changed_on=now, **row)
                            for i, row in enumerate(rows)])
        db.session.commit()
    client.login(me)
    html = client.get("/clients/list/").get_data(as_text=True)
    assert html.count("计数测试有限公司") == 20 and "</strong> 26" in html
    html = client.get("/clients/list/?_flt_0_status=active&psize_ClientModelView=25"
                      ).get_data(as_text=True)
    assert "</strong> 26" in html
