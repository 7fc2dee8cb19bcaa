"""报税日历 as an accountant's month runs: each client files his tax kinds at his
cycle, each period by its legal deadline (the 征期 calendar), the 申报进度 board shows
who still has to file what, 完成 advances once, 上门取票 reaches the field agent."""
import datetime
import io
import re
from decimal import Decimal

import pytest

from ..conftest import PASSWORD

D = datetime.date
TODAY = D(2026, 12, 5)   # the day: the November filings are due 15 December
TZ = "Asia/Shanghai"


@pytest.fixture
def pinned(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


def sync(app, today=TODAY):
    from app.services.obligations import sync_obligations

    with app.app_context():
        return sync_obligations(today, TZ)


def kinds(app, cid) -> dict:
    """code → (obligation id, cycle, period, deadline, active)."""
    from app.extensions import db
    from app.models import Obligation, ObligationType

    with app.app_context():
        db.session.expire_all()
        rows = (db.session.query(ObligationType.code, Obligation)
                .join(Obligation, Obligation.type_id == ObligationType.id)
                .filter(Obligation.client_id == cid, ObligationType.category == "filing").all())
        return {code: (o.id, o.cycle, o.period, o.deadline, o.active) for code, o in rows}


def type_id(app, code):
    from app.extensions import db
    from app.models import ObligationType

    with app.app_context():
        return db.session.query(ObligationType.id).filter_by(code=code).scalar()


@pytest.fixture
def two_clients(app, make_user, make_client, pinned):
    acct = make_user("Accountant")
    general = make_client(name="一般纳税人测试有限公司", taxpayer_type="general", bookkeeper=acct)
    small = make_client(name="小规模测试有限公司", taxpayer_type="small", bookkeeper=acct)
    sync(app)
    return acct, general, small


def test_kinds_and_deadlines_follow_the_taxpayer_type(app, two_clients):
    _, general, small = two_clients
    g, s = kinds(app, general), kinds(app, small)
    # 一般纳税人: 增值税 monthly; the November period is due 15 December — not overdue
    assert g["vat"][1:4] == ("month", "2026-11", D(2026, 12, 15))
    assert g["surtax"][1] == "month" and g["iit"][1] == "month"
    # 小规模: 增值税 and 附加 quarterly, filed in January by its deadline
    assert s["vat"][1:4] == ("quarter", "2026-Q4", D(2027, 1, 15))
    assert s["surtax"][1] == "quarter"
    # everyone: 个税 monthly, 企业所得税 quarterly, the annual ones by their own day
    assert s["iit"][1:3] == ("month", "2026-11") and s["cit"][1:3] == ("quarter", "2026-Q4")
    assert s["cit_annual"][2:4] == ("2026", D(2027, 5, 31))
    assert s["business_annual"][2:4] == ("2026", D(2027, 6, 30))
    assert sync(app).rows == 0  # a second sync finds nothing to do


def test_the_deadline_is_the_legal_one_not_the_first_of_the_month(app, two_clients, client):
    acct, general, _ = two_clients
    client.login(acct)
    home = client.get("/").get_data(as_text=True)
    overdue = re.search(r"逾期的报税事项</div>\s*<div class=\"panel-body\"><a [^>]*><strong[^>]*>(\d+)",
                        home)
    assert overdue and overdue.group(1) == "0"  # 5 December: nothing is past its deadline


def test_changing_a_kind_on_the_client_form_retires_and_creates_at_once(app, two_clients,
                                                                         admin_client):
    _, general, _ = two_clients
    from tests.web.test_clients import client_form

    form = {**client_form(name="一般纳税人测试有限公司", credit_code=""),
            "taxpayer_type": "general",
            f"tax_kinds-{type_id(app, 'stamp')}": "none",
            f"tax_kinds-{type_id(app, 'vat')}": "quarter"}
    resp = admin_client.post_form(f"/clients/edit/{general}", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:400]
    g = kinds(app, general)
    assert g["stamp"][4] is False                       # retired
    assert g["vat"][1:4] == ("quarter", "2026-Q4", D(2027, 1, 15))
    form[f"tax_kinds-{type_id(app, 'stamp')}"] = "year"
    admin_client.post_form(f"/clients/edit/{general}", form)
    g = kinds(app, general)
    assert g["stamp"][1:5] == ("year", "2026", D(2027, 1, 15), True)  # back, yearly


def test_a_forged_cycle_on_the_form_is_refused(app, two_clients, admin_client):
    _, general, _ = two_clients
    from tests.web.test_clients import client_form

    form = {**client_form(name="一般纳税人测试有限公司", credit_code=""),
            f"tax_kinds-{type_id(app, 'vat')}": "weekly"}
    resp = admin_client.post_form(f"/clients/edit/{general}", form)
    assert resp.status_code == 422 and "不是允许的选项" in resp.get_data(as_text=True)
    assert kinds(app, general)["vat"][1] == "month"


def api_headers(app, user):
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db"})
    return {"Authorization": "Bearer " + resp.json["access_token"]}


def test_kinds_and_ticket_pickup_over_the_api(app, admin, pinned):
    c = app.test_client()
    resp = c.post("/api/v1/clients/", headers=api_headers(app, admin), json={
        "name": "接口税种有限公司", "taxpayer_type": "small", "ticket_pickup": "quarter",
        "tax_kinds": {"印花税": "none", "增值税": "month"}})
    assert resp.status_code == 201, resp.json
    cid = resp.json["id"]
    k = kinds(app, cid)
    assert k["vat"][1] == "month" and "stamp" not in k  # never filed: no obligation
    shown = c.get(f"/api/v1/clients/{cid}", headers=api_headers(app, admin)).json["result"]
    assert shown["tax_kinds"]["增值税"] == "month" and shown["tax_kinds"]["印花税"] == "none"
    assert shown["tax_kinds"]["个人所得税（代扣代缴）"] == "month"
    assert shown["ticket_pickup"] == "quarter"
    for bad in ({"增值税": "weekly"}, {"不存在的税": "month"}, ["增值税"]):
        resp = c.put(f"/api/v1/clients/{cid}", headers=api_headers(app, admin),
                     json={"tax_kinds": bad})
        assert resp.status_code == 422 and "tax_kinds" in resp.json["message"]
    assert c.put(f"/api/v1/clients/{cid}", headers=api_headers(app, admin),
                 json={"ticket_pickup": "weekly"}).status_code == 422
    assert kinds(app, cid)["vat"][1] == "month"


def workbook(rows) -> io.BytesIO:
    from openpyxl import Workbook

    from app.imports import HEADERS

    book = Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row.get(h, "") for h in HEADERS])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    return data


def test_kinds_and_ticket_pickup_from_the_import(app, admin_client, pinned):
    from app.extensions import db
    from app.models import Client

    data = workbook([{"公司名称": "导入税种有限公司", "纳税人类型": "小规模纳税人", "上门取票": "每季",
                      "报税税种": "增值税:月；印花税:无"}])
    resp = admin_client.post_form("/clients/import/", {"file": (data, "clients.xlsx")},
                                  content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:600]
    with app.app_context():
        client = db.session.query(Client).filter_by(name="导入税种有限公司").one()
        assert client.ticket_pickup == "quarter"
        cid = client.id
    k = kinds(app, cid)
    assert k["vat"][1] == "month" and "stamp" not in k and k["cit"][1] == "quarter"


@pytest.mark.parametrize("cell,says", [("上门取票", "每季"), ("报税税种", "未知税种")])
def test_a_bad_kind_or_pickup_in_the_import_writes_nothing(app, admin_client, pinned,
                                                            cell, says):
    from app.extensions import db
    from app.models import Client

    row = {"公司名称": "导入错误有限公司", "上门取票": "每天" if cell == "上门取票" else "",
           "报税税种": "营业税:月" if cell == "报税税种" else ""}
    resp = admin_client.post_form("/clients/import/", {"file": (workbook([row]), "c.xlsx")},
                                  content_type="multipart/form-data")
    assert says in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Client).filter_by(name="导入错误有限公司").count() == 0


def test_ticket_pickup_reaches_the_field_agent(app, make_user, make_client, pinned, client):
    agent = make_user("FieldAgent")
    monthly = make_client(name="按月取票有限公司", field_agent=agent, ticket_pickup="month",
                          business_address="北京市朝阳区取票路1号")
    quarterly = make_client(name="按季取票有限公司", field_agent=agent, ticket_pickup="quarter")
    make_client(name="不取票有限公司", field_agent=agent)
    sync(app)
    from app.extensions import db
    from app.models import Obligation, ObligationType

    with app.app_context():
        rows = dict(db.session.query(Obligation.client_id, Obligation.deadline)
                    .join(ObligationType).filter(ObligationType.code == "ticket_pickup",
                                                 Obligation.assignee_id == agent.id).all())
    assert rows == {monthly: D(2027, 1, 1), quarterly: D(2027, 1, 1)}
    # this week's visits on his home page (5 December is a Saturday): the monthly one
    # moved to Sunday
    with app.app_context():
        ob = db.session.query(Obligation).filter_by(client_id=monthly).join(
            ObligationType).filter(ObligationType.code == "ticket_pickup").one()
        ob.deadline = D(2026, 12, 6)
        db.session.commit()
    client.login(agent)
    home = client.get("/").get_data(as_text=True)
    assert "本周上门任务" in home and "按月取票有限公司" in home and "取票路1号" in home
    assert "按季取票有限公司" not in home.split("本周上门任务")[1].split("</table>")[0]


# ---- the board -------------------------------------------------------------------------
def cells_of(html: str) -> dict:
    """client id → [cell states] of the board page."""
    rows = {}
    for cid, body in re.findall(r'<tr class="board-row" data-client="(\d+)">(.*?)</tr>', html,
                                re.S):
        rows[int(cid)] = re.findall(r'data-state="(\w+)"', body)
    return rows


def kind_columns(html: str) -> list:
    return re.findall(r'<th class="kind-column">([^<]*)<br><small class="column-count">'
                      r'(\d+) / (\d+)', html)


def test_the_board_shows_each_clients_cells_and_the_counts(app, two_clients, client):
    acct, general, small = two_clients
    client.login(acct)
    html = client.get("/filing-board/?month=2026-11").get_data(as_text=True)
    cells = cells_of(html)
    columns = [name for name, _, _ in kind_columns(html)]
    vat = columns.index("增值税")
    assert cells[general][vat] == "pending"       # monthly: November to file
    assert cells[small][vat] == "not_due"         # quarterly: nothing closes in November
    counts = dict((name, (int(d), int(t))) for name, d, t in kind_columns(html))
    assert counts["增值税"] == (0, 1) and counts["个人所得税（代扣代缴）"] == (0, 2)
    december = cells_of(client.get("/filing-board/?month=2026-12").get_data(as_text=True))
    assert december[small][vat] == "pending"      # Q4 closes in December


def test_completing_a_cell_twice_advances_once(app, two_clients, client):
    acct, general, _ = two_clients
    vat_id, _, period, deadline, _ = kinds(app, general)["vat"]
    client.login(acct)
    board = client.get("/filing-board/?month=2026-11").get_data(as_text=True)
    action = f"/obligations/action/complete/{vat_id}?v={deadline.isoformat()}"
    assert action in board
    for _ in range(2):  # a double click on the same cell
        resp = client.post_form(action)
        assert resp.status_code == 302
    assert kinds(app, general)["vat"][2:4] == ("2026-12", D(2027, 1, 15))
    html = client.get("/filing-board/?month=2026-11").get_data(as_text=True)
    columns = [name for name, _, _ in kind_columns(html)]
    assert cells_of(html)[general][columns.index("增值税")] == "filed"
    # the counts (cached: aggregates over the whole scope) follow the 完成 at once
    counts = dict((name, (int(d), int(t))) for name, d, t in kind_columns(html))
    assert counts["增值税"] == (1, 1)
    from app.extensions import db
    from app.models import ObligationRecord

    with app.app_context():
        assert db.session.query(ObligationRecord).filter_by(obligation_id=vat_id).count() == 1


def test_zero_filing_and_tax_amount_are_recorded_and_searchable(app, two_clients, client,
                                                                 grant):
    acct, general, _ = two_clients
    iit_id, _, _, deadline, _ = kinds(app, general)["iit"]
    vat_id, _, _, vat_deadline, _ = kinds(app, general)["vat"]
    client.login(acct)
    client.post_form(f"/obligations/action/zero/{iit_id}?v={deadline}")
    form = client.get(f"/obligations/report/{vat_id}?v={vat_deadline}")
    assert form.status_code == 200 and "税额" in form.get_data(as_text=True)
    bad = client.post_form(f"/obligations/report/{vat_id}",
                           {"version": vat_deadline.isoformat(), "tax_amount": "NaN"})
    assert bad.status_code == 422 and kinds(app, general)["vat"][2] == "2026-11"
    client.post_form(f"/obligations/report/{vat_id}",
                     {"version": vat_deadline.isoformat(), "tax_amount": "1,234.50"})
    from app.extensions import db
    from app.models import ObligationRecord

    with app.app_context():
        zero = db.session.query(ObligationRecord).filter_by(obligation_id=iit_id).one()
        paid = db.session.query(ObligationRecord).filter_by(obligation_id=vat_id).one()
        assert zero.zero_filing and zero.tax_amount is None
        assert paid.tax_amount == Decimal("1234.50") and not paid.zero_filing
    html = client.get("/obligation-records/list/?_flt_0_zero_filing=y").get_data(as_text=True)
    assert "个人所得税" in html and "1,234.50" not in html
    cells = cells_of(client.get("/filing-board/?month=2026-11").get_data(as_text=True))
    assert "zero" in cells[general] and "filed" in cells[general]
    grant("Accountant", "can_monthly", "StatsView")
    stats = client.get("/stats/monthly/?year=2026").get_data(as_text=True)
    assert "各税种缴纳税额" in stats and "1,234.50" in stats


def test_the_board_is_scoped_and_its_arguments_checked(app, two_clients, make_user,
                                                       make_client, client):
    _, general, _ = two_clients
    other = make_user("Accountant")
    client.login(other)
    html = client.get("/filing-board/?month=2026-11").get_data(as_text=True)
    assert "一般纳税人测试有限公司" not in html
    vat_id, _, _, deadline, _ = kinds(app, general)["vat"]
    assert client.post_form(f"/obligations/action/complete/{vat_id}?v={deadline}"
                            ).status_code == 404
    for query in ("month=9999-12", "month=abc", "accountant=abc", "group=" + "9" * 25,
                  "state=everything", "page=-1"):
        resp = client.get(f"/filing-board/?{query}")
        assert resp.status_code == 400, query
    assert client.get("/filing-board/export.xlsx?month=2026-11").status_code == 200


def test_the_board_filters_by_state(app, two_clients, client):
    acct, general, small = two_clients
    client.login(acct)
    overdue = cells_of(client.get("/filing-board/?month=2026-10&state=overdue")
                       .get_data(as_text=True))
    assert set(overdue) == set()  # both started with November: nothing of October open
    pending = cells_of(client.get("/filing-board/?month=2026-11&state=pending")
                       .get_data(as_text=True))
    assert set(pending) == {general, small}


# ---- the calendar -------------------------------------------------------------------------
def test_entering_holidays_moves_open_deadlines(app, two_clients, admin_client):
    """2027's 元旦 (1–3 January, entered by the Admin) extends January's deadline by
    three working days: every quarterly filing due then moves at once."""
    from app.extensions import db
    from app.models import CalendarDay

    _, _, small = two_clients
    assert kinds(app, small)["vat"][3] == D(2027, 1, 15)
    html = admin_client.get("/filing-calendar/?year=2027").get_data(as_text=True)
    assert "尚未录入" in html
    try:
        for day in (1, 2, 3):
            resp = admin_client.post_form("/calendar-days/add", {
                "day": f"2027-01-0{day}", "kind": "holiday", "name": "元旦"})
            assert resp.status_code == 302
        assert kinds(app, small)["vat"][3] == D(2027, 1, 20)
        html = admin_client.get("/filing-calendar/?year=2027").get_data(as_text=True)
        assert "尚未录入" not in html and "2027-01-20" in html
    finally:
        with app.app_context():
            db.session.query(CalendarDay).filter(CalendarDay.day >= D(2027, 1, 1)).delete()
            db.session.commit()


def test_an_announced_deadline_wins(app, two_clients, admin_client):
    _, general, _ = two_clients
    resp = admin_client.post_form("/announced-deadlines/add", {
        "year": "2026", "month": "12", "deadline": "2026-12-18", "note": "测试公告"})
    assert resp.status_code == 302
    assert kinds(app, general)["vat"][3] == D(2026, 12, 18)
    html = admin_client.get("/filing-calendar/?year=2026").get_data(as_text=True)
    assert "2026-12-18" in html and "公告" in html


def test_the_2026_calendar_ships_the_announced_deadlines(app, admin_client):
    html = admin_client.get("/filing-calendar/?year=2026").get_data(as_text=True)
    for day in ("2026-01-20", "2026-02-24", "2026-05-22", "2026-10-26", "2026-11-16"):
        assert day in html


def test_reminders_are_made_once_before_the_deadline(app, two_clients):
    from app.extensions import db
    from app.models import Todo
    from app.services.reminders import remind_deadlines

    acct, _, _ = two_clients
    with app.app_context():
        assert remind_deadlines(D(2026, 12, 5)) == 0      # 10 days ahead: not yet
        made = remind_deadlines(D(2026, 12, 11))          # warn days (5) before the 15th
        assert made >= 1
        assert remind_deadlines(D(2026, 12, 12)) == 0     # once
        titles = [t.title for t in db.session.query(Todo).filter_by(assignee_id=acct.id)]
    assert any("增值税" in t and "2026-12-15" in t for t in titles)
