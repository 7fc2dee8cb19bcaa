"""欠费客户 as Finance and accountants use it: who is listed (billed, 代理记账, due
date passed or within N days), periods and amount owed in Decimal, red and amber
rows, the export with its computed columns, the scope, and 催费 notices."""
import datetime
import io
import re
from decimal import Decimal

import pytest

from .test_journal import finance_roles  # noqa: F401  (fixture)

TODAY = datetime.date(2026, 11, 23)
D = datetime.date


@pytest.fixture
def pinned_today(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


@pytest.fixture
def staff(make_user, finance_roles, pinned_today):  # noqa: F811
    finance_roles("Accountant", "Finance", "Manager")
    return {"acct": make_user("Accountant"), "finance": make_user("Finance")}


@pytest.fixture
def debtors(app, make_client, staff):
    acct = staff["acct"]
    made = {
        # the fees of 1 Aug, 1 Sep, 1 Oct and 1 Nov: 4 × 300
        "monthly": make_client(name="按月欠费有限公司", bookkeeper=acct, billing_cycle="month",
                               service_fee=Decimal("300.00"), next_fee_date=D(2026, 8, 1)),
        # passed, less than a quarter: at least one period
        "quarterly": make_client(name="按季欠费有限公司", bookkeeper=acct, billing_cycle="quarter",
                                 service_fee=Decimal("899.99"), next_fee_date=D(2026, 11, 1)),
        # due in 10 days: amber, nothing owed yet
        "soon": make_client(name="即将到期有限公司", bookkeeper=acct, billing_cycle="year",
                            service_fee=Decimal("3600.00"), next_fee_date=D(2026, 12, 3)),
        # not listed: far ahead, free, stopped status, no date
        "later": make_client(name="还早有限公司", bookkeeper=acct, next_fee_date=D(2027, 3, 1)),
        "free": make_client(name="免费客户有限公司", bookkeeper=acct, billing_state="free",
                            next_fee_date=D(2026, 1, 1)),
        "gone": make_client(name="已停止客户有限公司", bookkeeper=acct, status="stopped",
                            next_fee_date=D(2026, 1, 1)),
    }
    with app.app_context():  # arrears are the ledger: the charge run makes the charges
        from app.services.ledger import generate_charges

        generate_charges(TODAY)
    return made


def row_of(html, text):
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


def cells(row):
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_arrears_lists_overdue_and_due_soon_billed_clients(app, client, staff, debtors):
    client.login(staff["finance"])
    html = client.get("/arrears/list/").get_data(as_text=True)
    for name in ("按月欠费有限公司", "按季欠费有限公司", "即将到期有限公司"):
        assert name in html
    for name in ("还早有限公司", "免费客户有限公司", "已停止客户有限公司"):
        assert name not in html


def test_periods_and_amount_owed(app, client, staff, debtors):
    client.login(staff["finance"])
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "按月欠费有限公司"))[-3:] == ["2026-08-01", "4", "1,200.00"]
    assert cells(row_of(html, "按季欠费有限公司"))[-2:] == ["1", "899.99"]
    assert cells(row_of(html, "即将到期有限公司"))[-2:] == ["0", "0.00"]


def test_overdue_rows_are_red_and_due_soon_amber(app, client, staff, debtors):
    client.login(staff["finance"])
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert 'class="row-overdue"' in row_of(html, "按月欠费有限公司")
    assert 'class="row-due-soon"' in row_of(html, "即将到期有限公司")


def test_days_come_from_the_query_or_the_setting(app, client, staff, debtors):
    from app.extensions import db
    from app.models import Setting

    client.login(staff["finance"])
    assert "即将到期有限公司" not in client.get("/arrears/list/?days=5").get_data(as_text=True)
    assert "还早有限公司" in client.get("/arrears/list/?days=120").get_data(as_text=True)
    with app.app_context():
        db.session.add(Setting(key="arrears_days", value="5"))
        db.session.commit()
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert "即将到期有限公司" not in html and "按月欠费有限公司" in html
    # a malformed ?days= falls back to the setting, never an error
    assert client.get("/arrears/list/?days=abc").status_code == 200


def test_an_accountant_sees_only_his_clients_in_arrears(app, client, staff, debtors,
                                                        make_user, make_client):
    theirs = make_client(name="别人的欠费客户有限公司", bookkeeper=make_user("Accountant"),
                         next_fee_date=D(2026, 1, 1))
    client.login(staff["acct"])
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert "按月欠费有限公司" in html and "别人的欠费客户有限公司" not in html
    resp = client.post_form("/arrears/action_post", {"action": "dun", "rowid": [str(theirs)]})
    assert resp.status_code == 404


def test_the_export_has_the_computed_columns(app, client, staff, debtors):
    from openpyxl import load_workbook

    client.login(staff["finance"])
    resp = client.get("/arrears/export.xlsx")
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data), read_only=True).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    by_name = {r[0]: dict(zip(header, r)) for r in body}
    periods, amount = header[-2], header[-1]
    assert by_name["按月欠费有限公司"][periods] == 4
    assert by_name["按月欠费有限公司"][amount] == 1200
    assert by_name["即将到期有限公司"][amount] in (0, None)


def test_dunning_notices_fill_the_template(app, client, staff, debtors):
    from app.extensions import db
    from app.models import Setting

    with app.app_context():
        db.session.add(Setting(key="dunning_template",
                               value="{公司名称}：截至{到期日期}前应付{收费周期}服务费，欠费{欠费金额}元"
                                     "（{欠费期数}期）。{公司} {未知}"))
        db.session.add(Setting(key="company_name", value="诚信代账"))
        db.session.commit()
    client.login(staff["acct"])
    resp = client.post_form("/arrears/action_post", {
        "action": "dun", "rowid": [str(debtors["monthly"]), str(debtors["soon"])]})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "按月欠费有限公司：截至" in html and "欠费1,200.00元（4期）。诚信代账 {未知}" in html
    # a client only due soon is asked for the coming cycle's fee
    assert "欠费3,600.00元（0期）" in html
    assert "window.print()" in html and "@media print" in html


def test_the_default_dunning_notice_is_chinese(app, client, staff, debtors):
    """(Chinese once the translations are merged.)"""
    client.login(staff["finance"])
    html = client.post_form("/arrears/action_post", {
        "action": "dun", "rowid": [str(debtors["monthly"])]}).get_data(as_text=True)
    text = re.search(r'<div class="dunning-text">(.*?)</div>', html, re.S).group(1)
    assert "按月欠费有限公司" in text and "1,200.00" in text
    assert re.search("2026年0?8月0?1日", text), text
    assert "按月" in text
    assert not re.search(r"[A-Za-z]{3,}", text), text
    assert "复制" in html and "打印" in html


def test_dunning_is_audited(app, client, staff, debtors):
    import json

    from app.extensions import db
    from app.models import AuditLog

    client.login(staff["finance"])
    client.post_form("/arrears/action_post", {"action": "dun", "rowid": [str(debtors["monthly"])]})
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(action="dun").order_by(AuditLog.id.desc()).first()
        assert json.loads(row.changes)["clients"] == [debtors["monthly"]]


def test_the_settings_page_saves_the_notice_and_the_days(app, admin_client, staff, debtors):
    """Needs ``register_admin`` (系统管理 › 催费通知设置) to be called in app/views."""
    from app.services import finance

    assert admin_client.get("/settings/finance/form").status_code == 200
    resp = admin_client.post_form("/settings/finance/form", {
        "dunning_template": "{公司名称} 请付 {欠费金额}", "arrears_days": "30"})
    assert resp.status_code == 302
    with app.test_request_context():
        assert finance.dunning_template() == "{公司名称} 请付 {欠费金额}"
        assert finance.arrears_days() == 30
    assert admin_client.post_form("/settings/finance/form", {
        "dunning_template": "x", "arrears_days": "-1"}).status_code == 200


def test_the_arrears_pages_are_chinese(app, client, staff, debtors):
    """(Chinese once the translations are merged.)"""
    from .test_chinese_pages import PageChecker

    client.login(staff["finance"])
    checker = PageChecker(app, client)
    checker.open("/arrears/list/")
    checker.open(f"/arrears/show/{debtors['monthly']}")
    html = client.post_form("/arrears/action_post", {
        "action": "dun", "rowid": [str(debtors["monthly"])]}).get_data(as_text=True)
    checker.check_html("dunning notices", html)
    assert not checker.findings, checker.report()


def test_a_hidden_fee_hides_the_amount_owed_everywhere(app, client, staff, debtors):
    """字段可见性: the amount owed is the fee times the periods, so it is hidden with it."""
    from app.extensions import db
    from app.models import HiddenField, Setting

    with app.app_context():
        role = app.appbuilder.sm.find_role("Accountant")
        db.session.add(HiddenField(role_id=role.id, model="client", field="service_fee"))
        db.session.add(Setting(key="dunning_template", value="{公司名称}|{欠费金额}|{到期日期}"))
        db.session.commit()
    try:
        client.login(staff["acct"])
        html = client.get("/arrears/list/").get_data(as_text=True)
        assert "1,200.00" not in html and "按月欠费有限公司" in html
        html = client.post_form("/arrears/action_post", {
            "action": "dun", "rowid": [str(debtors["monthly"])]}).get_data(as_text=True)
        assert re.search(r"按月欠费有限公司\|\|2026年0?8月0?1日", html)
        data = client.get(f"/journal/client-payments/{debtors['monthly']}").get_json()
        assert data["client"]["service_fee"] == ""
    finally:
        with app.app_context():
            db.session.query(HiddenField).delete()
            db.session.commit()
