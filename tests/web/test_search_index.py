"""Client search through the text index (app.data.textsearch, migration 5b2e8c41d7a9)
finds exactly the rows plain LIKE finds — on every path (the search box, the search
form's "contains" filter) and after clients are added, renamed and deleted (SQLite's
triggers keep the FTS table in step; PostgreSQL's GIN indexes are the database's)."""
from __future__ import annotations

import datetime
import re

import pytest
from sqlalchemy import or_, select, text

NAMES = ["北京瑞丰科技有限公司", "上海瑞丰商贸有限公司", "深圳恒达瑞丰建筑工程有限公司",
         "杭州ABC Trading有限公司", "成都abc食品商行", 'Quote"d 引号公司', "100%纯净水有限公司",
         "南京_下划线工作室"]
FRAGMENTS = ["瑞丰科技", "瑞丰", "瑞丰商贸", "有限公司", "abc", "ABC", "aBc trad", 'e"d 引',
             "100%", "_下划线", "13900001111", "139000", "不存在的名字", "恒达瑞丰建"]
SEARCHED = ("name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
            "contact_name", "contact_phone")


@pytest.fixture
def named_clients(make_client):
    ids = [make_client(name=name, short_name=name[2:6], legal_rep="王五",
                       contact_name="赵六", contact_phone=f"1390000{1111 + i:04d}")
           for i, name in enumerate(NAMES)]
    return ids


def like_ids(app, fragment: str) -> set[int]:
    """The ids plain LIKE finds (the search box's own rule: escaped, ASCII caseless
    on SQLite, ILIKE for cased text on PostgreSQL), with no index involved."""
    from app.extensions import db
    from app.models import Client

    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    with app.app_context():
        caseless = fragment.lower() == fragment.upper()
        plain = caseless or db.engine.dialect.name == "sqlite"
        conds = [(getattr(Client, c).like(pattern, escape="\\") if plain
                  else getattr(Client, c).ilike(pattern, escape="\\")) for c in SEARCHED]
        return set(db.session.execute(select(Client.id).where(
            or_(*conds), Client.status != "deleted")).scalars())


def listed_ids(client, query: str) -> set[int]:
    html = client.get(f"/clients/list/?{query}&psize_ClientModelView=100").get_data(as_text=True)
    return {int(i) for i in re.findall(r'class="action_check" name="rowid" value="(\d+)', html)}


@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_search_box_finds_what_like_finds(app, admin_client, named_clients, fragment):
    from urllib.parse import quote

    assert listed_ids(admin_client, f"q={quote(fragment)}") == like_ids(app, fragment)


def test_search_box_follows_inserts_renames_and_deletes(app, admin_client, named_clients,
                                                        make_client):
    from app.extensions import db
    from app.models import Client

    new = make_client(name="新增的瑞丰科技公司")
    assert new in listed_ids(admin_client, "q=瑞丰科技")
    with app.app_context():
        db.session.get(Client, new).name = "改名后的公司"
        db.session.get(Client, named_clients[0]).contact_name = "瑞丰科技联系人"
        db.session.commit()
    found = listed_ids(admin_client, "q=瑞丰科技")
    assert new not in found and named_clients[0] in found
    assert found == like_ids(app, "瑞丰科技")
    assert new in listed_ids(admin_client, "q=改名后的")
    with app.app_context():
        db.session.execute(text("DELETE FROM client WHERE id = :id"), {"id": new})
        db.session.commit()
    assert listed_ids(admin_client, "q=改名后的") == set() == like_ids(app, "改名后的")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():  # the FTS index holds what the table holds, no more
            assert db.session.execute(text(
                "SELECT count(*) FROM client_fts WHERE client_fts MATCH '\"改名后的\"'")
            ).scalar() == 0


@pytest.mark.parametrize("fragment", ["瑞丰科技", "瑞丰", "abc", "100%", "引号公司"])
def test_contains_filter_finds_what_ilike_finds(app, admin_client, named_clients, fragment):
    """The search form's "包含" on 公司名称 (FAB's ILIKE, wildcards and all)."""
    from urllib.parse import quote

    from app.extensions import db
    from app.models import Client

    with app.app_context():
        expected = set(db.session.execute(select(Client.id).where(
            Client.name.ilike(f"%{fragment}%"), Client.status != "deleted")).scalars())
    assert listed_ids(admin_client, f"_flt_2_name={quote(fragment)}") == expected


def test_sqlite_search_asks_the_fts_index(app, admin_client, named_clients):
    """A fragment of 3+ characters goes through client_fts; shorter ones do not."""
    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's FTS5 rewrite; PostgreSQL's planner picks its GIN indexes")
    with app.app_context():
        engine = db.engine
    from sqlalchemy import event

    seen = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    admin_client.get("/clients/list/?q=瑞丰科技")
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        admin_client.get("/clients/list/?q=瑞丰科技")
        long_sql = list(seen)
        seen.clear()
        admin_client.get("/clients/list/?q=瑞丰")
        short_sql = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert any("client_fts MATCH" in s for s in long_sql)
    assert not any("client_fts" in s for s in short_sql)


def test_postgresql_search_can_use_the_trigram_indexes(app, named_clients):
    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("pg_trgm GIN indexes are PostgreSQL's")
    with app.app_context():
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(db.session.execute(text(
            "EXPLAIN SELECT id FROM client WHERE name LIKE '%瑞丰科技%' "
            "OR contact_phone LIKE '%瑞丰科技%'")).scalars())
        db.session.rollback()
    assert "ix_client_name_trgm" in plan and "ix_client_contact_phone_trgm" in plan


def test_a_short_fragment_counts_only_up_to_a_cap(admin_client, make_client, monkeypatch):
    """1–2 characters have no trigram: rows are read one by one, so the list counts
    them only up to QuickSearch.SHORT_COUNT_CAP ("3+" here); 3+ characters count
    exactly through the index."""
    from app.views.base import QuickSearch

    monkeypatch.setattr(QuickSearch, "SHORT_COUNT_CAP", 3)
    for i in range(5):
        make_client(name=f"封顶计数测试{i}有限公司")
    short = admin_client.get("/clients/list/?q=封顶&psize_ClientModelView=2").get_data(as_text=True)
    assert "</strong> 3+" in short and short.count("封顶计数测试") == 2
    exact = admin_client.get("/clients/list/?q=封顶计数&psize_ClientModelView=2").get_data(as_text=True)
    assert "</strong> 5" in exact
    last = admin_client.get("/clients/list/?q=封顶&psize_ClientModelView=2&page_ClientModelView=2"
                            ).get_data(as_text=True)
    assert "</strong> 5" in last  # a short last page knows its total


def test_bulk_insert_indexes_the_new_clients_and_keeps_the_triggers(app, admin_client,
                                                                    named_clients):
    """The demo loader's bulk path (SQLite: insert trigger off, the chunk indexed at
    once, the trigger back, all in one transaction) leaves the index as the
    triggers would have."""
    from sqlalchemy import insert

    from app.data import textsearch
    from app.extensions import db
    from app.models import Client

    from ..conftest import valid_code

    with app.app_context():
        with textsearch.bulk_insert(db.session, Client):
            db.session.execute(insert(Client), [
                {"name": f"批量导入瑞丰科技{i}公司", "credit_code": valid_code(),
                 "created_on": datetime.datetime.now(), "changed_on": datetime.datetime.now()}
                for i in range(3)])
        db.session.commit()
        if db.engine.dialect.name == "sqlite":
            triggers = set(db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'client_fts_%'")).scalars())
            assert triggers == {"client_fts_ai", "client_fts_ad", "client_fts_au"}
    assert len(listed_ids(admin_client, "q=批量导入瑞丰")) == 3
    assert listed_ids(admin_client, "q=瑞丰科技") == like_ids(app, "瑞丰科技")
    assert len(listed_ids(admin_client, "q=批量导入瑞丰科技1")) == 1
