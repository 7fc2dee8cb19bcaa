"""待办事项, 合同管理, 提供地址 and 上门做账 as the staff use them: adding, 完成 (twice
is once), 续签 with its history, 审核 by someone else, locked contracts, 续费, red
and amber rows, and every list and id inside the visibility scope."""
import datetime
import io
import re
from decimal import Decimal

import pytest

from tests.conftest import seen, v

TODAY = datetime.date(2026, 11, 23)
D = datetime.date


@pytest.fixture
def pinned_today(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


def _get(app, model, pk):
    from app.extensions import db

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(model, pk)
        if row is not None:
            db.session.expunge(row)
        return row


def _rows(app, model, **where):
    from app.extensions import db

    with app.app_context():
        rows = db.session.query(model).filter_by(**where).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _add(app, obj):
    from app.extensions import db

    with app.app_context():
        db.session.add(obj)
        db.session.commit()
        return getattr(obj, "id", None)


@pytest.fixture
def make_todo(app):
    from app.models import Todo

    def make(title, creator, assignee=None, client_id=None, **fields):
        return _add(app, Todo(title=title, created_by_id=creator.id,
                              assignee_id=(assignee or creator).id, client_id=client_id,
                              **fields))
    return make


@pytest.fixture
def make_contract(app):
    from app.models import Contract

    def make(client_id, start=D(2025, 1, 1), end=D(2025, 12, 31), creator=None, **fields):
        fields.setdefault("fee", Decimal("3600.00"))
        return _add(app, Contract(client_id=client_id, start_date=start, end_date=end,
                                  created_by_id=creator.id if creator else None, **fields))
    return make


@pytest.fixture
def make_address(app):
    from app.models import AddressService

    def make(client_id, **fields):
        fields.setdefault("address", "北京市朝阳区建国路88号1201室")
        fields.setdefault("fee", Decimal("2000.00"))
        return _add(app, AddressService(client_id=client_id, **fields))
    return make


def follow(web, resp):
    assert resp.status_code == 302, resp.status_code
    return web.get(resp.headers["Location"]).get_data(as_text=True)


def row_of(html, text):
    """The <tr> of a list that shows ``text``."""
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


# ---- 待办事项 -------------------------------------------------------------------
def test_adding_a_todo_records_its_creator_and_assigns_it_to_him(app, client, make_user,
                                                                  make_client):
    from app.models import Todo

    me = make_user("Accountant")
    cid = make_client(name="待办测试有限公司", bookkeeper=me)
    client.login(me)
    form = client.get("/todos/add").get_data(as_text=True)
    assert re.search(rf'<option selected value="{me.id}"|<option value="{me.id}" selected', form)
    resp = client.post_form("/todos/add", {"title": "催收三月发票", "client": str(cid),
                                           "assignee": "__None", "expected_date": "2026-12-01",
                                           "note": ""})
    assert resp.status_code == 302
    [todo] = _rows(app, Todo, title="催收三月发票")
    assert (todo.created_by_id, todo.assignee_id, todo.client_id) == (me.id, me.id, cid)
    assert todo.expected_date == D(2026, 12, 1) and todo.done_at is None


def test_a_todo_names_its_client_by_exact_name_or_credit_code(app, client, make_user,
                                                              make_client):
    from app.models import Client, Todo

    me = make_user("Accountant")
    cid = make_client(name="按名称选择有限公司", bookkeeper=me)
    code = _get(app, Client, cid).credit_code
    client.login(me)
    client.post_form("/todos/add", {"title": "按名称", "client": "按名称选择有限公司"})
    client.post_form("/todos/add", {"title": "按代码", "client": code.lower()})
    assert [t.client_id for t in _rows(app, Todo, title="按名称")] == [cid]
    assert [t.client_id for t in _rows(app, Todo, title="按代码")] == [cid]


@pytest.mark.parametrize("how", ["id", "name", "credit_code"])
def test_a_todo_naming_an_invisible_client_is_refused(app, client, make_user, make_client, how):
    from app.models import Client, Todo

    me = make_user("Accountant")
    other = make_user("Accountant")
    foreign = make_client(name="别人的客户有限公司", bookkeeper=other)
    value = {"id": str(foreign), "name": "别人的客户有限公司",
             "credit_code": _get(app, Client, foreign).credit_code}[how]
    client.login(me)
    resp = client.post_form("/todos/add", {"title": "越权待办", "client": value})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "在您可见的客户中，找不到" in html
    assert _rows(app, Todo, title="越权待办") == []


def test_an_ambiguous_client_name_asks_for_the_credit_code(app, client, make_user, make_client):
    from app.models import Todo

    me = make_user("Accountant")
    make_client(name="同名有限公司", bookkeeper=me)
    make_client(name="同名有限公司", bookkeeper=me)
    client.login(me)
    html = client.post_form("/todos/add", {"title": "同名", "client": "同名有限公司"}
                            ).get_data(as_text=True)
    assert "请改为输入统一社会信用代码" in html
    assert _rows(app, Todo, title="同名") == []


def test_the_client_search_offers_only_visible_clients_at_most_20(app, client, make_user,
                                                                  make_client):
    me = make_user("Accountant")
    other = make_user("Accountant")
    for n in range(25):
        make_client(name=f"搜索测试{n:02d}有限公司", bookkeeper=me)
    make_client(name="搜索测试别人的有限公司", bookkeeper=other)
    make_client(name="搜索测试已删除有限公司", bookkeeper=me, status="deleted")
    client.login(me)
    for view in ("todos", "contracts"):  # the views he may add to
        data = client.get(f"/{view}/client-search?q=搜索测试").get_json()
        names = [r["text"] for r in data["results"]]
        assert len(names) == 20
        assert not any("别人" in n or "已删除" in n for n in names)
    assert client.get("/todos/client-search?q=").get_json() == {"results": []}


def test_the_client_search_needs_a_login_and_a_form_permission(app, client, make_user):
    assert client.get("/todos/client-search?q=a").status_code in (401, 302)
    client.login(make_user("Finance"))  # reads contracts, adds none
    assert client.get("/contracts/client-search?q=a").status_code == 403


def test_completing_twice_completes_once(app, client, make_user, make_todo, pinned_today):
    from app.models import Todo

    me = make_user("Accountant")
    tid = make_todo("报送年报", me)
    client.login(me)
    html = follow(client, client.post_form(f"/todos/action/complete/{tid}"))
    assert "已完成 1 项待办事项" in html
    first = _get(app, Todo, tid)
    assert first.done_by_id == me.id and first.done_at is not None
    assert first.done_at.tzinfo is None
    html = follow(client, client.post_form("/todos/action_post",
                                           {"action": "complete", "rowid": [str(tid)]}))
    assert "已完成，跳过 1 项" in html
    again = _get(app, Todo, tid)
    assert (again.done_at, again.done_by_id) == (first.done_at, first.done_by_id)


def test_two_users_completing_at_once_complete_once(app, make_user, make_todo):
    """The second clerk's page (and loaded row) still shows the todo open."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Todo
    from app.services.work import complete_todos

    first, second = make_user("Accountant"), make_user("Accountant")
    tid = make_todo("两人同时完成", first, assignee=second)
    at = datetime.datetime(2026, 11, 23, 9, 30)
    with app.app_context():
        stale = db.session.get(Todo, tid)
        db.session.expunge(stale)
        db.session.rollback()
        db.session.execute(update(Todo).where(Todo.id == tid)
                           .values(done_at=at, done_by_id=first.id))
        db.session.commit()
        result = complete_todos([stale], by=second, now=datetime.datetime(2026, 11, 23, 9, 31))
    assert (result.changed, result.skipped) == (0, 1)
    todo = _get(app, Todo, tid)
    assert (todo.done_at, todo.done_by_id) == (at, first.id)


def test_two_users_renewing_at_once_renew_once(app, make_user, make_client, make_contract):
    from app.extensions import db
    from app.models import Contract, ContractTerm
    from app.services.transitions import fire

    first, second = make_user("Manager"), make_user("Manager")
    kid = make_contract(make_client())
    now = datetime.datetime(2026, 11, 23, 9, 30)
    with app.app_context():
        stale = db.session.get(Contract, kid)
        db.session.expunge(stale)
        db.session.rollback()
        fresh = db.session.get(Contract, kid)
        assert fire(Contract, [fresh], "renew", first, now, seen={kid: 1}).changed == 1
        result = fire(Contract, [stale], "renew", second, now, seen={kid: 1})
    assert (result.changed, result.skipped) == (0, 1)
    assert _get(app, Contract, kid).end_date == D(2026, 12, 31)
    assert len(_rows(app, ContractTerm, contract_id=kid)) == 1


def test_completing_is_audited(app, client, make_user, make_todo):
    from app.extensions import db
    from app.models import AuditLog

    me = make_user("Accountant")
    tid = make_todo("审计测试", me)
    client.login(me)
    client.post_form(f"/todos/action/complete/{tid}")
    with app.app_context():
        log = (db.session.query(AuditLog).filter_by(table_name="todo", row_id=str(tid),
                                                    action="update", user_id=me.id).one())
        assert "done_at" in log.changes and "done_by_id" in log.changes


def test_a_field_agent_sees_only_the_todos_assigned_to_him(app, client, make_user,
                                                           make_client, make_todo):
    agent = make_user("FieldAgent")
    accountant = make_user("Accountant")
    cid = make_client(name="外勤客户有限公司", bookkeeper=accountant, field_agent=agent)
    make_todo("外勤自己的待办", accountant, assignee=agent, client_id=cid)
    make_todo("会计的客户待办", accountant, client_id=cid)
    client.login(agent)
    html = client.get("/todos/list/").get_data(as_text=True)
    assert "外勤自己的待办" in html
    assert "会计的客户待办" not in html


def test_an_accountant_sees_the_todos_of_his_clients(app, client, make_user, make_client,
                                                     make_todo):
    accountant = make_user("Accountant")
    manager = make_user("Manager")
    mine = make_client(name="我的客户有限公司", bookkeeper=accountant)
    other = make_client(name="别人的客户有限公司", bookkeeper=make_user("Accountant"))
    make_todo("我客户的待办", manager, client_id=mine)
    make_todo("别人客户的待办", manager, client_id=other)
    make_todo("经理自己的事", manager)
    client.login(accountant)
    html = client.get("/todos/list/").get_data(as_text=True)
    assert "我客户的待办" in html
    assert "别人客户的待办" not in html and "经理自己的事" not in html


def test_an_assignee_may_edit_a_todo_whose_client_he_does_not_see(app, client, make_user,
                                                                  make_client, make_todo):
    from app.models import Todo

    agent = make_user("FieldAgent")
    manager = make_user("Manager")
    cid = make_client(name="外勤看不到的客户有限公司", bookkeeper=manager)
    tid = make_todo("去税务局领票", manager, assignee=agent, client_id=cid)
    client.login(agent)
    assert "外勤看不到的客户有限公司" in client.get(f"/todos/edit/{tid}").get_data(as_text=True)
    resp = client.post_form(f"/todos/edit/{tid}", {"title": "去税务局领票（已预约）",
                                                   "client": str(cid),
                                                   "assignee": str(agent.id)})
    assert resp.status_code == 302
    todo = _get(app, Todo, tid)
    assert (todo.title, todo.client_id) == ("去税务局领票（已预约）", cid)


@pytest.fixture
def foreign_todo(app, client, make_user, make_client, make_todo, grant):
    """A logged-in accountant (allowed to delete todos) and a todo he must not see
    (another's client, another's assignment)."""
    grant("Accountant", "can_delete", "TodoModelView")
    me = make_user("Accountant")
    owner = make_user("Accountant")
    cid = make_client(name="别人的客户有限公司", bookkeeper=owner)
    tid = make_todo("别人的待办事项", owner, client_id=cid)
    client.login(me)
    return tid


@pytest.mark.parametrize("path", ["/todos/show/{id}", "/todos/edit/{id}"])
def test_another_users_todo_by_id_is_404(client, foreign_todo, path):
    resp = client.get(path.format(id=foreign_todo))
    assert resp.status_code == 404
    assert "别人的待办事项" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("path, data", [
    ("/todos/edit/{id}", {"title": "被篡改的待办"}),
    ("/todos/delete/{id}", {}),
    ("/todos/action/complete/{id}", {}),
    ("/todos/action_post", {"action": "complete", "rowid": ["{id}"]}),
])
def test_another_users_todo_is_not_changed(app, client, foreign_todo, path, data):
    from app.models import Todo

    form = {k: ([x.format(id=foreign_todo) for x in v] if isinstance(v, list) else v)
            for k, v in data.items()}
    resp = client.post_form(path.format(id=foreign_todo), form)
    assert resp.status_code == 404
    todo = _get(app, Todo, foreign_todo)
    assert todo is not None and todo.title == "别人的待办事项" and todo.done_at is None


def test_overdue_todos_are_red_and_todays_amber_open_ones_first(app, client, make_user,
                                                                make_todo, pinned_today):
    me = make_user("Accountant")
    make_todo("已办完的事", me, expected_date=D(2026, 11, 1),
              done_at=datetime.datetime(2026, 11, 2, 9, 0), done_by_id=me.id)
    make_todo("下周的事", me, expected_date=D(2026, 11, 30))
    make_todo("今天的事", me, expected_date=TODAY)
    make_todo("逾期的事", me, expected_date=D(2026, 11, 20))
    client.login(me)
    html = client.get("/todos/list/").get_data(as_text=True)
    assert 'class="row-overdue"' in row_of(html, "逾期的事")
    assert 'class="row-due-soon"' in row_of(html, "今天的事")
    assert 'class="row-' not in row_of(html, "下周的事") + row_of(html, "已办完的事")
    order = [html.index(t) for t in ("逾期的事", "今天的事", "下周的事", "已办完的事")]
    assert order == sorted(order)


def test_the_client_todos_permission_exists_and_field_agents_lack_it(app):
    from app.security.scope import CLIENT_TODOS_PERMISSION

    with app.app_context():
        sm = app.appbuilder.sm
        assert sm.find_permission_view_menu(*CLIENT_TODOS_PERMISSION) is not None
        holders = {role for role in ("Admin", "Manager", "Accountant", "Sales", "FieldAgent",
                                     "Finance")
                   if any((p.permission.name, p.view_menu.name) == CLIENT_TODOS_PERMISSION
                          for p in sm.find_role(role).permissions)}
    assert holders == {"Admin", "Manager", "Accountant", "Sales"}


# ---- 合同管理 -------------------------------------------------------------------
def contract_form(cid, **overrides):
    data = {"client": str(cid), "number": "HT-2026-001", "start_date": "2026-01-01",
            "end_date": "2026-12-31", "fee": "3600.00", "billing_cycle": "year", "note": ""}
    data.update(overrides)
    return data


def test_adding_a_contract_makes_it_pending_and_records_its_creator(app, client, make_user,
                                                                    make_client):
    from app.models import Contract

    me = make_user("Accountant")
    cid = make_client(bookkeeper=me)
    client.login(me)
    assert client.post_form("/contracts/add", contract_form(cid)).status_code == 302
    [contract] = _rows(app, Contract, client_id=cid)
    assert (contract.status, contract.created_by_id, contract.fee) == (
        "pending", me.id, Decimal("3600.00"))


@pytest.mark.parametrize("field, value, message", [
    ("end_date", "2025-12-31", "到期日期早于开始日期"),
    ("fee", "-1", "金额不能为负数"),
    ("client", "", "请选择客户"),
])
def test_a_bad_contract_form_gets_a_chinese_error(app, client, make_user, make_client,
                                                  field, value, message):
    from app.models import Contract

    me = make_user("Manager")
    cid = make_client(bookkeeper=me)
    client.login(me)
    resp = client.post_form("/contracts/add", contract_form(cid, **{field: value}))
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert _rows(app, Contract, client_id=cid) == []


def test_renewing_a_contract_keeps_the_previous_term(app, client, make_user, make_client,
                                                     make_contract):
    from app.models import Contract, ContractTerm

    manager = make_user("Manager")
    cid = make_client(name="续签测试有限公司")
    kid = make_contract(cid, status="approved", approved_by_id=manager.id,
                        approved_at=datetime.datetime(2025, 1, 2, 10, 0))
    client.login(manager)
    html = follow(client, client.post_form(f"/contracts/action/renew/{kid}{v(app, 'Contract', kid)}"))
    assert "续签：已完成 1 项" in html
    contract = _get(app, Contract, kid)
    assert (contract.start_date, contract.end_date) == (D(2026, 1, 1), D(2026, 12, 31))
    assert contract.status == "pending" and contract.approved_by_id is None
    [term] = _rows(app, ContractTerm, contract_id=kid)
    assert (term.start_date, term.end_date, term.fee, term.renewed_by_id) == (
        D(2025, 1, 1), D(2025, 12, 31), Decimal("3600.00"), manager.id)
    show = client.get(f"/contracts/show/{kid}").get_data(as_text=True)
    assert "历史合同期" in show and "2025-01-01" in show and "2025-12-31" in show


def test_renewing_a_term_that_ends_on_29_february(app, client, make_user, make_client,
                                                  make_contract):
    from app.models import Contract

    manager = make_user("Manager")
    kid = make_contract(make_client(), start=D(2023, 3, 1), end=D(2024, 2, 29))
    client.login(manager)
    client.post_form("/contracts/action_post", {"action": "renew",
                                                "rowid": [seen(app, "Contract", kid)]})
    contract = _get(app, Contract, kid)
    assert (contract.start_date, contract.end_date) == (D(2024, 3, 1), D(2025, 2, 28))


def test_renewing_from_an_out_of_date_page_renews_once(app, client, make_user, make_client,
                                                       make_contract):
    from app.models import Contract, ContractTerm

    manager = make_user("Manager")
    kid = make_contract(make_client())
    client.login(manager)
    token = seen(app, "Contract", kid)  # the version the list showed
    for _ in range(2):  # a double click
        client.post_form("/contracts/action_post", {"action": "renew", "rowid": [token]})
    assert _get(app, Contract, kid).end_date == D(2026, 12, 31)
    assert len(_rows(app, ContractTerm, contract_id=kid)) == 1


def test_the_creator_of_a_contract_cannot_approve_it(app, client, make_user, make_client,
                                                     make_contract):
    from app.models import Contract

    creator = make_user("Manager")
    kid = make_contract(make_client(), creator=creator)
    client.login(creator)
    html = follow(client, client.post_form(f"/contracts/action/approve/{kid}?v=1"))
    assert "创建人不能审核" in html
    assert _get(app, Contract, kid).status == "pending"
    other = make_user("Manager")
    client.login(other)
    client.post_form(f"/contracts/action/approve/{kid}?v=1")
    contract = _get(app, Contract, kid)
    assert (contract.status, contract.approved_by_id) == ("approved", other.id)
    assert contract.approved_at is not None


def test_a_one_person_firm_may_allow_self_approval(app, client, make_user, make_client,
                                                   make_contract):
    from app.models import Contract, Setting

    _add(app, Setting(key="allow_self_approval", value="1"))
    creator = make_user("Manager")
    kid = make_contract(make_client(), creator=creator)
    client.login(creator)
    client.post_form(f"/contracts/action/approve/{kid}?v=1")
    assert _get(app, Contract, kid).status == "approved"


def test_an_accountant_may_not_approve(app, client, make_user, make_client, make_contract):
    from app.models import Contract

    me = make_user("Accountant")
    kid = make_contract(make_client(bookkeeper=me))
    client.login(me)
    client.post_form(f"/contracts/action/approve/{kid}?v=1")
    assert _get(app, Contract, kid).status == "pending"


def test_an_approved_contract_is_locked(app, client, make_user, make_client, make_contract):
    from app.models import Contract

    manager = make_user("Manager")
    cid = make_client()
    kid = make_contract(cid, number="HT-LOCK", status="approved")
    client.login(manager)
    assert "已锁定" in client.get(f"/contracts/edit/{kid}").get_data(as_text=True)
    html = client.post_form(f"/contracts/edit/{kid}", contract_form(
        cid, number="HT-CHANGED", fee="1.00")).get_data(as_text=True)
    assert "已锁定" in html
    html = follow(client, client.post_form(f"/contracts/delete/{kid}"))
    assert "已锁定" in html
    contract = _get(app, Contract, kid)
    assert (contract.number, contract.fee) == ("HT-LOCK", Decimal("3600.00"))


def test_a_pending_contract_with_history_can_be_deleted(app, client, make_user, make_client,
                                                        make_contract):
    from app.models import Contract, ContractTerm

    manager = make_user("Manager")
    kid = make_contract(make_client())
    client.login(manager)
    client.post_form(f"/contracts/action/renew/{kid}?v=1")
    client.post_form(f"/contracts/delete/{kid}")
    assert _get(app, Contract, kid) is None
    assert _rows(app, ContractTerm, contract_id=kid) == []


def test_expired_contracts_are_red_and_expiring_ones_amber(app, client, make_user, make_client,
                                                           make_contract, pinned_today):
    manager = make_user("Manager")
    make_contract(make_client(), number="HT-EXPIRED", end=D(2026, 11, 22))
    make_contract(make_client(), number="HT-SOON", end=D(2026, 12, 20))
    make_contract(make_client(), number="HT-LATER", end=D(2027, 6, 30))
    client.login(manager)
    html = client.get("/contracts/list/").get_data(as_text=True)
    assert 'class="row-overdue"' in row_of(html, "HT-EXPIRED")
    assert 'class="row-due-soon"' in row_of(html, "HT-SOON")
    assert 'class="row-' not in row_of(html, "HT-LATER")


def test_contracts_are_scoped_in_list_and_by_id(app, client, make_user, make_client,
                                                make_contract):
    from app.models import Contract

    me = make_user("Accountant")
    mine = make_contract(make_client(bookkeeper=me), number="HT-MINE")
    foreign = make_contract(make_client(bookkeeper=make_user("Accountant")), number="HT-FOREIGN")
    client.login(me)
    html = client.get("/contracts/list/").get_data(as_text=True)
    assert "HT-MINE" in html and "HT-FOREIGN" not in html
    assert client.get(f"/contracts/show/{foreign}").status_code == 404
    assert client.post_form(f"/contracts/action/renew/{foreign}").status_code == 404
    assert client.post_form("/contracts/action_post", {
        "action": "renew", "rowid": [str(mine), str(foreign)]}).status_code == 404
    assert _get(app, Contract, mine).end_date == D(2025, 12, 31)  # all or nothing
    assert _get(app, Contract, foreign).end_date == D(2025, 12, 31)


def test_contract_export_is_an_xlsx_of_the_list(app, client, make_user, make_client,
                                                make_contract):
    from openpyxl import load_workbook

    manager = make_user("Manager")
    make_contract(make_client(name="导出测试有限公司"), number="HT-XLSX")
    client.login(manager)
    resp = client.get("/contracts/export.xlsx")
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data), read_only=True).active.values)
    assert rows[0][0] == "客户" and ("导出测试有限公司", "HT-XLSX") == rows[1][:2]


# ---- 提供地址 -------------------------------------------------------------------
def test_renewing_a_yearly_address_adds_a_year_and_one_off_is_refused(app, client, make_user,
                                                                      make_client,
                                                                      make_address):
    from app.models import AddressService

    me = make_user("Accountant")
    cid = make_client(bookkeeper=me)
    yearly = make_address(cid, fee_type="yearly", start_date=D(2025, 7, 1),
                          expiry_date=D(2026, 6, 30))
    once = make_address(cid, fee_type="one_off", address="一次性地址")
    client.login(me)
    html = follow(client, client.post_form("/addresses/action_post", {
        "action": "renew", "rowid": [str(yearly), str(once)]}))
    assert "已续费 1 项" in html and "1 项未续费" in html
    assert _get(app, AddressService, yearly).expiry_date == D(2027, 6, 30)
    assert _get(app, AddressService, once).expiry_date is None


def test_expired_addresses_are_red_and_one_off_without_expiry_never(app, client, make_user,
                                                                    make_client, make_address,
                                                                    pinned_today):
    me = make_user("Accountant")
    cid = make_client(bookkeeper=me)
    make_address(cid, address="过期的地址", expiry_date=D(2026, 10, 31))
    make_address(cid, address="快到期的地址", expiry_date=D(2026, 12, 1))
    make_address(cid, address="一次性的地址", fee_type="one_off")
    client.login(me)
    html = client.get("/addresses/list/").get_data(as_text=True)
    assert 'class="row-overdue"' in row_of(html, "过期的地址")
    assert 'class="row-due-soon"' in row_of(html, "快到期的地址")
    assert 'class="row-' not in row_of(html, "一次性的地址")


def test_adding_an_address_for_an_invisible_client_is_refused(app, client, make_user,
                                                              make_client):
    from app.models import AddressService

    me = make_user("Manager")  # sees all: the scope check is the field's own
    client.login(me)
    cid = make_client()
    resp = client.post_form("/addresses/add", {
        "client": str(cid), "address": "新地址", "fee_type": "yearly", "fee": "1000",
        "start_date": "2026-01-01", "expiry_date": "2026-12-31"})
    assert resp.status_code == 302
    assert len(_rows(app, AddressService, client_id=cid)) == 1
    agent = make_user("FieldAgent")  # reads addresses, may not add
    client.login(agent)
    assert client.post_form("/addresses/add", {"client": str(cid), "address": "越权地址",
                                               "fee_type": "yearly", "fee": "1"}
                            ).status_code in (302, 403)
    assert len(_rows(app, AddressService, client_id=cid)) == 1


# ---- 上门做账 -------------------------------------------------------------------
def test_the_onsite_list_shows_my_onsite_clients_only(app, client, make_user, make_client):
    me = make_user("Accountant")
    make_client(name="上门我的客户有限公司", bookkeeper=me, onsite_bookkeeping=True,
                business_address="海淀区中关村大街1号")
    make_client(name="不上门我的客户有限公司", bookkeeper=me)
    make_client(name="上门已删除客户有限公司", bookkeeper=me, onsite_bookkeeping=True,
                status="deleted")
    make_client(name="上门别人的客户有限公司", bookkeeper=make_user("Accountant"),
                onsite_bookkeeping=True)
    client.login(me)
    html = client.get("/onsite/list/").get_data(as_text=True)
    assert "上门我的客户有限公司" in html and "海淀区中关村大街1号" in html
    for name in ("不上门我的客户", "上门已删除客户", "上门别人的客户"):
        assert name not in html


def test_the_onsite_list_is_read_only(app, client, make_user, make_client):
    manager = make_user("Manager")
    cid = make_client(onsite_bookkeeping=True)
    client.login(manager)
    assert client.get(f"/onsite/show/{cid}").status_code == 200
    assert client.get(f"/onsite/edit/{cid}").status_code == 404
    assert client.post_form(f"/onsite/delete/{cid}").status_code == 404
    assert client.get("/onsite/add").status_code == 404
    assert client.get(f"/onsite/show/{make_client()}").status_code == 404  # not on-site


# ---- the menu --------------------------------------------------------------------
@pytest.mark.parametrize("role, visible, hidden", [
    ("Manager", ["/todos/list/", "/contracts/list/", "/onsite/list/", "/addresses/list/"], []),
    ("FieldAgent", ["/todos/list/", "/onsite/list/", "/addresses/list/"], ["/contracts/list/"]),
    ("Finance", ["/contracts/list/", "/addresses/list/"], ["/todos/list/", "/onsite/list/"]),
    ("Sales", ["/todos/list/", "/contracts/list/"], ["/onsite/list/", "/addresses/list/"]),
])
def test_each_role_finds_its_screens_in_the_menu(client, make_user, role, visible, hidden):
    client.login(make_user(role))
    html = client.get("/").get_data(as_text=True)
    for path in visible:
        assert f'href="{path}"' in html, path
    for path in hidden:
        assert f'href="{path}"' not in html, path


# ---- Chinese ----------------------------------------------------------------------
def test_the_work_pages_are_chinese(app, client, make_user, make_client, make_todo,
                                    make_contract, make_address, pinned_today):
    from .test_chinese_pages import PageChecker

    manager = make_user("Manager")
    cid = make_client(name="中文页面测试有限公司", onsite_bookkeeping=True,
                      business_address="朝阳区建国路1号")
    tid = make_todo("中文页面待办", manager, client_id=cid, expected_date=TODAY,
                    note="带上公章")
    done = make_todo("中文页面已办", manager, done_at=datetime.datetime(2026, 11, 2, 9, 0),
                     done_by_id=manager.id)
    kid = make_contract(cid, number="HT-ZH", creator=manager, note="按年收费")
    locked = make_contract(cid, number="HT-ZH-2", status="approved",
                           approved_by_id=manager.id,
                           approved_at=datetime.datetime(2026, 1, 2, 9, 0))
    aid = make_address(cid, fee_type="yearly", start_date=D(2026, 1, 1),
                       expiry_date=D(2026, 12, 31), note="每年续费")
    client.login(manager)
    client.post_form(f"/contracts/action/renew/{kid}?v=1")
    checker = PageChecker(app, client)
    for path in ("/todos/list/", "/todos/add", f"/todos/show/{tid}", f"/todos/edit/{tid}",
                 f"/todos/show/{done}", "/contracts/list/", "/contracts/add",
                 f"/contracts/show/{kid}", f"/contracts/edit/{kid}",
                 f"/contracts/show/{locked}", f"/contracts/edit/{locked}",
                 "/addresses/list/", "/addresses/add", f"/addresses/show/{aid}",
                 f"/addresses/edit/{aid}", "/onsite/list/", f"/onsite/show/{cid}"):
        checker.open(path)
    for path, form in (
            ("/todos/add", {"title": "", "client": "没有这个客户"}),
            ("/contracts/add", contract_form("", start_date="2026-05-01",
                                             end_date="2026-04-01", fee="-5")),
            ("/addresses/add", {"client": "", "address": "", "fee_type": "yearly", "fee": "x",
                                "start_date": "2026-05-01", "expiry_date": "2026-04-01"})):
        html = client.post_form(path, form).get_data(as_text=True)
        checker.check_html(f"{path} with errors", html)
    for path, form in (
            ("/todos/action_post", {"action": "complete", "rowid": [str(tid), str(done)]}),
            ("/contracts/action_post", {"action": "approve", "rowid": [
                seen(app, "Contract", kid), seen(app, "Contract", locked)]}),
            ("/contracts/action_post", {"action": "renew", "rowid": [seen(app, "Contract", kid)]}),
            ("/addresses/action_post", {"action": "renew", "rowid": [str(aid)]}),
            (f"/contracts/delete/{locked}", {})):
        checker.check_html(f"{path} {form.get('action', '')} flash",
                           follow(client, client.post_form(path, form)))
    assert not checker.findings, checker.report()


def test_a_pending_contract_can_be_edited(app, client, make_user, make_client, make_contract):
    from app.models import Contract

    me = make_user("Manager")
    cid = make_client()
    kid = make_contract(cid, number="HT-OLD")
    client.login(me)
    resp = client.post_form(f"/contracts/edit/{kid}", contract_form(cid, number="HT-NEW",
                                                                    fee="4800.00"))
    assert resp.status_code == 302
    contract = _get(app, Contract, kid)
    assert (contract.number, contract.fee, contract.status) == (
        "HT-NEW", Decimal("4800.00"), "pending")


@pytest.mark.parametrize("path", ["/todos/export.xlsx", "/contracts/export.xlsx",
                                  "/addresses/export.xlsx", "/onsite/export.xlsx"])
def test_each_list_exports_its_rows(app, client, make_user, make_client, make_todo,
                                    make_contract, make_address, path):
    from openpyxl import load_workbook

    manager = make_user("Manager")
    cid = make_client(name="导出客户有限公司", onsite_bookkeeping=True)
    make_todo("导出待办", manager, client_id=cid)
    make_contract(cid)
    make_address(cid)
    client.login(manager)
    resp = client.get(path)
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data), read_only=True).active.values)
    assert len(rows) == 2 and any("导出" in str(v) for v in rows[1])


def test_the_approved_contract_defines_the_clients_term_fee_and_cycle(
        app, client, make_user, make_client, make_contract):
    """One source of truth: approving a contract (and approving it again after 续签)
    gives the client its term, fee and billing cycle, with the change audited; an
    older contract approved later does not override a newer one."""
    from app.models import AuditLog, Client

    manager = make_user("Manager")
    cid = make_client(contract_start=D(2024, 1, 1), contract_end=D(2024, 12, 31),
                      service_fee=Decimal("300.00"), billing_cycle="month")
    kid = make_contract(cid, start=D(2025, 1, 1), end=D(2025, 12, 31),
                        fee=Decimal("900.00"), billing_cycle="quarter")
    client.login(manager)
    client.post_form(f"/contracts/action/approve/{kid}?v=1")
    c = _get(app, Client, cid)
    assert (c.contract_start, c.contract_end, c.service_fee, c.billing_cycle) == \
        (D(2025, 1, 1), D(2025, 12, 31), Decimal("900.00"), "quarter")
    with app.app_context():
        from app.extensions import db

        logged = db.session.query(AuditLog).filter_by(table_name="client", row_id=str(cid),
                                                      action="update").all()
        assert any('"contract_end": ["2024-12-31", "2025-12-31"]' in (a.changes or "")
                   for a in logged)
    # 续签 → approval again → the client's dates move one year on
    client.post_form("/contracts/action_post", {"action": "renew",
                                                "rowid": [seen(app, "Contract", kid)]})
    assert _get(app, Client, cid).contract_end == D(2025, 12, 31)  # not approved yet
    client.login(make_user("Manager"))
    client.post_form(f"/contracts/action/approve/{kid}?v={seen(app, 'Contract', kid).split('@')[1]}")
    assert _get(app, Client, cid).contract_end == D(2026, 12, 31)
    # an old contract approved now does not take the client back
    old = make_contract(cid, start=D(2023, 1, 1), end=D(2023, 12, 31), fee=Decimal("100.00"))
    client.post_form(f"/contracts/action/approve/{old}?v=1")
    c = _get(app, Client, cid)
    assert (c.contract_end, c.service_fee) == (D(2026, 12, 31), Decimal("900.00"))


def test_the_registered_address_flag_follows_the_running_address_services(
        app, client, make_user, make_client, make_address):
    """提供注册地址 is derived: an address service that runs gives it, its expiry (the
    daily job) or deletion takes it away; the client form and the API do not set it."""
    from app.models import AuditLog, Client
    from app.services.work import sync_address_flags

    manager = make_user("Manager")
    cid = make_client()

    def flag_rows():
        with app.app_context():
            from app.extensions import db

            return db.session.query(AuditLog).filter_by(table_name="client", row_id=str(cid))\
                .filter(AuditLog.changes.like("%provides_address%")).count()

    before = flag_rows()  # the log outlives the ids of earlier tests' clients
    client.login(manager)
    resp = client.post_form("/addresses/add", {
        "client": str(cid), "address": "北京市朝阳区派生路1号", "fee_type": "yearly",
        "fee": "800", "start_date": "2026-01-01", "expiry_date": "2026-12-31"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    assert _get(app, Client, cid).provides_address is True
    with app.app_context():
        from app.extensions import db

        assert sync_address_flags(D(2027, 1, 1)) >= 1   # the daily job after expiry
        db.session.commit()
    assert flag_rows() - before == 2
    assert _get(app, Client, cid).provides_address is False
    with app.app_context():
        from app.extensions import db

        assert sync_address_flags(D(2026, 6, 1)) >= 1
        db.session.commit()
    other = make_client(provides_address=True)  # set by hand: no running address
    with app.app_context():
        sync_address_flags(D(2026, 6, 1), [other])
        db.session.commit()
    assert _get(app, Client, other).provides_address is False
    assert "provides_address" not in client.get(f"/clients/edit/{cid}").get_data(as_text=True)
