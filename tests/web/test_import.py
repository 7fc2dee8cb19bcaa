"""客户导入 as a manager uses it: the template, a good file written whole, a file with
one bad row writing nothing and a report naming row and column, duplicate credit
codes within the file and against the database, Chinese labels for choices, staff
by user name, the importer's scope, and every imported client in the audit log."""
import base64
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from ..conftest import valid_code
from .test_journal import finance_roles  # noqa: F401  (fixture)

HEADERS = ["公司名称", "简称", "统一社会信用代码", "法人", "法人电话", "联系人", "联系电话",
           "客户来源", "纳税人类型", "收费周期", "服务费", "下次收费日期", "记账会计(用户名)",
           "外勤会计(用户名)", "备注", "上门取票", "报税税种"]


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers] if isinstance(row, dict) else row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def good_row(**values):
    row = {"公司名称": f"导入测试有限公司{valid_code()[-6:]}", "简称": "导入",
           "统一社会信用代码": valid_code(), "法人": "王伟", "法人电话": "13800138000",
           "联系人": "李娜", "联系电话": "010-12345678", "客户来源": "转介绍",
           "纳税人类型": "小规模纳税人", "收费周期": "按季", "服务费": 900,
           "下次收费日期": datetime.datetime(2026, 12, 1), "备注": "导入"}
    row.update(values)
    return row


def upload(web, data: bytes, name="客户.xlsx"):
    return web.post_form("/clients/import/", {"file": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")


def clients_named(app, *names):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        rows = db.session.query(Client).filter(Client.name.in_(names)).all()
        for row in rows:
            db.session.expunge(row)
        return {c.name: c for c in rows}


def client_count(app):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        return db.session.query(Client).count()


def report_rows(html):
    """The error report behind the page's download link."""
    data = re.search(r'href="data:[^;]+;base64,([^"]+)"', html).group(1)
    sheet = load_workbook(io.BytesIO(base64.b64decode(data)), read_only=True).active
    return list(sheet.iter_rows(values_only=True))[1:]


@pytest.fixture
def manager(make_user, finance_roles):  # noqa: F811
    finance_roles("Manager")
    return make_user("Manager")


def test_the_template_has_the_chinese_headers(app, client, manager):
    client.login(manager)
    resp = client.get("/clients/import/template.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).active
    assert list(next(sheet.iter_rows(values_only=True))) == HEADERS


def test_a_good_file_is_written_whole(app, client, manager, make_user):
    acct = make_user("Accountant", username=f"imp_acct_{valid_code()[-5:].lower()}")
    agent = make_user("FieldAgent")
    rows = [good_row(公司名称="导入甲有限公司", **{"记账会计(用户名)": acct.username,
                                             "外勤会计(用户名)": agent.username}),
            good_row(公司名称="导入乙有限公司", 纳税人类型="一般纳税人", 收费周期="按年",
                     服务费="3600.5", 下次收费日期="2027/01/15", 法人电话=13900139000),
            good_row(公司名称="导入丙有限公司", 统一社会信用代码=None, 服务费=None,
                     下次收费日期="免费", 客户来源=None),
            {}]  # a blank row is skipped
    client.login(manager)
    resp = upload(client, xlsx(rows))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    got = clients_named(app, "导入甲有限公司", "导入乙有限公司", "导入丙有限公司")
    assert len(got) == 3
    a, b, c = got["导入甲有限公司"], got["导入乙有限公司"], got["导入丙有限公司"]
    assert (a.bookkeeper_id, a.field_agent_id) == (acct.id, agent.id)
    assert (a.taxpayer_type, a.billing_cycle, a.service_fee) == ("small", "quarter", Decimal("900.00"))
    assert a.next_fee_date == datetime.date(2026, 12, 1) and a.status == "active"
    assert (b.taxpayer_type, b.billing_cycle, b.service_fee) == ("general", "year", Decimal("3600.50"))
    assert b.next_fee_date == datetime.date(2027, 1, 15) and b.legal_rep_phone == "13900139000"
    assert (c.billing_state, c.next_fee_date, c.credit_code, c.service_fee) == ("free", None, None, Decimal("0.00"))


def test_every_imported_client_is_in_the_audit_log(app, client, manager):
    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():  # the log outlives the tests' rows, whose ids come back
        start = db.session.query(func.max(AuditLog.id)).scalar() or 0
    client.login(manager)
    upload(client, xlsx([good_row(公司名称="审计导入一有限公司"), good_row(公司名称="审计导入二有限公司")]))
    got = clients_named(app, "审计导入一有限公司", "审计导入二有限公司")
    with app.app_context():
        for c in got.values():
            [row] = db.session.query(AuditLog).filter_by(action="insert", table_name="client",
                                                        row_id=str(c.id)).filter(
                AuditLog.id > start).all()
            changes = json.loads(row.changes)
            assert changes["name"] == [None, c.name] and row.username == manager.username
        event = db.session.query(AuditLog).filter_by(action="import").order_by(AuditLog.id.desc()).first()
        assert json.loads(event.changes)["rows"] == 2


def test_one_bad_row_writes_nothing_and_the_report_names_row_and_column(app, client, manager):
    before = client_count(app)
    rows = [good_row(公司名称="好行一有限公司"), good_row(公司名称="好行二有限公司"),
            good_row(公司名称="坏行有限公司", 服务费="12.345"), good_row(公司名称="好行三有限公司")]
    client.login(manager)
    resp = upload(client, xlsx(rows))
    assert resp.status_code == 200
    assert client_count(app) == before
    assert clients_named(app, "好行一有限公司", "好行三有限公司") == {}
    html = resp.get_data(as_text=True)
    report = report_rows(html)
    assert [(r[0], r[1]) for r in report] == [(4, "服务费")]  # header is row 1
    assert "服务费" in html


def test_the_error_report_is_chinese(app, client, manager):
    """(Chinese once the translations are merged.)"""
    client.login(manager)
    html = upload(client, xlsx([good_row(服务费="-1"), good_row(公司名称=None)])).get_data(as_text=True)
    report = report_rows(html)
    assert [(r[0], r[1]) for r in report] == [(2, "服务费"), (3, "公司名称")]
    assert "负" in report[0][2] and "必填" in report[1][2]
    assert "未导入" in html


def test_every_kind_of_bad_cell_is_reported(app, client, manager):
    code = valid_code()
    rows = [good_row(公司名称="", 统一社会信用代码=code[:-1] + ("0" if code[-1] != "0" else "1"),
                     法人电话="12345", 客户来源="不存在的来源", 纳税人类型="个体户", 收费周期="每两月",
                     服务费="abc", 下次收费日期="明年", **{"记账会计(用户名)": "nobody_here"})]
    client.login(manager)
    report = report_rows(upload(client, xlsx(rows)).get_data(as_text=True))
    assert {r[1] for r in report} == {"公司名称", "统一社会信用代码", "法人电话", "客户来源",
                                      "纳税人类型", "收费周期", "服务费", "下次收费日期",
                                      "记账会计(用户名)"}
    assert {r[0] for r in report} == {2}


def test_a_credit_code_twice_in_the_file_is_refused(app, client, manager):
    code = valid_code()
    rows = [good_row(公司名称="重复甲有限公司", 统一社会信用代码=code),
            good_row(公司名称="重复乙有限公司"),
            good_row(公司名称="重复丙有限公司", 统一社会信用代码=code.lower())]
    client.login(manager)
    report = report_rows(upload(client, xlsx(rows)).get_data(as_text=True))
    assert [(r[0], r[1]) for r in report] == [(4, "统一社会信用代码")]
    assert "2" in report[0][2]  # names the first row
    assert clients_named(app, "重复甲有限公司", "重复乙有限公司") == {}


def test_a_credit_code_already_in_the_database_is_refused(app, client, manager, make_client):
    code = valid_code()
    make_client(name="已有客户有限公司", credit_code=code)
    client.login(manager)
    report = report_rows(upload(client, xlsx([good_row(), good_row(统一社会信用代码=code)]))
                         .get_data(as_text=True))
    assert [(r[0], r[1]) for r in report] == [(3, "统一社会信用代码")]


def test_an_accountant_cannot_import_clients_outside_his_scope(app, client, make_user, grant):
    me = make_user("Accountant")
    other = make_user("Accountant")
    grant("Accountant", "can_import", "ClientImportView")
    client.login(me)
    rows = [good_row(公司名称="给自己的有限公司", **{"记账会计(用户名)": me.username}),
            good_row(公司名称="给别人的有限公司", **{"记账会计(用户名)": other.username}),
            good_row(公司名称="没人负责的有限公司")]
    report = report_rows(upload(client, xlsx(rows)).get_data(as_text=True))
    assert [r[0] for r in report] == [3, 4]
    assert clients_named(app, "给自己的有限公司") == {}
    resp = upload(client, xlsx([rows[0]]))
    assert resp.status_code == 302 and clients_named(app, "给自己的有限公司")


def test_columns_may_come_in_any_order_and_unknown_ones_are_ignored(app, client, manager):
    headers = ["备注", "公司名称", "自己的备注列", "收费周期"]
    client.login(manager)
    resp = upload(client, xlsx([["顺序无关", "换序导入有限公司", "随便写", "按月"]], headers=headers))
    assert resp.status_code == 302
    assert clients_named(app, "换序导入有限公司")["换序导入有限公司"].note == "顺序无关"


def test_a_file_that_is_not_a_workbook_is_refused(app, client, manager):
    client.login(manager)
    resp = upload(client, b"name,code\n a,b\n", name="clients.csv")
    assert resp.status_code == 200 and 'class="alert alert-danger import-error"' in resp.get_data(as_text=True)
    resp = upload(client, xlsx([], headers=["随便", "什么"]))
    assert resp.status_code == 200 and "import-error" in resp.get_data(as_text=True)


def test_import_needs_its_permission(app, client, make_user):
    client.login(make_user("Finance"))
    assert client.get("/clients/import/").status_code in (302, 403)
    resp = upload(client, xlsx([good_row(公司名称="无权导入有限公司")]))
    assert clients_named(app, "无权导入有限公司") == {}
    assert resp.status_code in (302, 403)


def test_the_import_pages_are_chinese(app, client, manager):
    """(Chinese once the translations are merged.)"""
    from .test_chinese_pages import PageChecker

    client.login(manager)
    checker = PageChecker(app, client)
    checker.open("/clients/import/")
    html = upload(client, xlsx([good_row(服务费="abc", 客户来源="没有这个来源")])).get_data(as_text=True)
    checker.check_html("import page with errors", html)
    html = upload(client, b"not a workbook").get_data(as_text=True)
    checker.check_html("import page, unreadable file", html)
    assert not checker.findings, checker.report()
