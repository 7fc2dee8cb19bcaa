"""开票登记 as finance and the clerks use it: a clerk requests an invoice for his
client, finance approves it (not his own), issues it with a unique number, voids it
with a reason; every step once, in order, audited; nobody reaches another's invoice."""
import datetime
import decimal
import json

import pytest

from tests.conftest import seen, v

D = decimal.Decimal
ALL_PERMS = ("can_list", "can_show", "can_add", "can_edit", "can_delete", "can_export",
             "can_approve", "can_issue", "can_void", "can_monthly")


@pytest.fixture
def grant_invoices(grant):
    """``grant_invoices("Accountant", "can_add", ...)``; no names: everything."""

    def do(role, *perms):
        for perm in perms or ALL_PERMS:
            grant(role, perm, "InvoiceModelView")

    return do


@pytest.fixture
def clerk(make_user, grant_invoices):
    grant_invoices("Accountant", "can_list", "can_show", "can_add", "can_edit", "can_delete")
    return make_user("Accountant")


@pytest.fixture
def finance(make_user, grant_invoices):
    grant_invoices("Finance")
    return make_user("Finance")


@pytest.fixture
def clerk_client(make_client, clerk):
    return make_client(name="开票测试有限公司", bookkeeper=clerk)


def make_invoice(app, client_id, by, status="applied", **fields):
    """An invoice row as the register would hold it, in ``status``."""
    from app.extensions import db
    from app.models import Client, Invoice

    with app.app_context():
        client = db.session.get(Client, client_id)
        invoice = Invoice(client_id=client_id, title=fields.pop("title", client.name),
                          tax_id=fields.pop("tax_id", client.credit_code),
                          amount=fields.pop("amount", D("1280.00")),
                          invoice_type=fields.pop("invoice_type", "normal"),
                          status=status, created_by_id=by.id, **fields)
        if status in ("approved", "issued", "void"):
            invoice.approved_at = invoice.approved_at or datetime.datetime(2026, 3, 1, 9, 0)
        db.session.add(invoice)
        db.session.commit()
        return invoice.id


def invoice_row(app, pk):
    from app.extensions import db
    from app.models import Invoice

    with app.app_context():
        db.session.expire_all()
        inv = db.session.get(Invoice, pk)
        if inv is None:
            return None
        return {c.name: getattr(inv, c.name) for c in Invoice.__table__.columns}


def invoice_count(app):
    from app.extensions import db
    from app.models import Invoice

    with app.app_context():
        return db.session.query(Invoice).count()


def status_audits(app, pk):
    """The status changes the audit log holds for one invoice: [(old, new)]."""
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        # ids are reused across tests (rows are deleted, the log is kept): from the
        # insert of this invoice on
        mine = (db.session.query(AuditLog.id)
                .filter(AuditLog.table_name == "invoice", AuditLog.row_id == str(pk),
                        AuditLog.action == "insert").order_by(AuditLog.id.desc()).limit(1)
                .scalar()) or 0
        rows = (db.session.query(AuditLog)
                .filter(AuditLog.table_name == "invoice", AuditLog.row_id == str(pk),
                        AuditLog.action == "update", AuditLog.id > mine)
                .order_by(AuditLog.id).all())
        changes = [json.loads(r.changes or "{}") for r in rows]
        return [tuple(c["status"]) for c in changes if "status" in c]


def step(web, app, name, pk, **form):
    """A step that asks for something (开票's number, 作废's reason), posted from its
    form page with the version that page showed."""
    version = seen(app, "Invoice", pk).split("@")[1]
    return web.post_form(f"/invoices/step/{name}/{pk}", {"version": version, **form})


def approve(web, app, pk, token=None):
    """审核 from the list, with the version the list showed."""
    return web.post_form("/invoices/action_post", {
        "action": "approve", "rowid": [token or seen(app, "Invoice", pk)]})


def add_form(clerk_client, **fields):
    data = {"client": str(clerk_client), "title": "", "tax_id": "", "amount": "1280.00",
            "content": "代理记账服务费", "invoice_type": "normal", "address_phone": "",
            "bank_account": "", "note": ""}
    data.update(fields)
    return data


# ---- 申请 --------------------------------------------------------------------------
def test_request_takes_title_and_tax_id_from_the_client(app, client, clerk, clerk_client):
    from app.extensions import db
    from app.models import Client, Invoice

    client.login(clerk)
    resp = client.post_form("/invoices/add", add_form(clerk_client))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        inv = db.session.query(Invoice).one()
        company = db.session.get(Client, clerk_client)
        assert (inv.title, inv.tax_id) == ("开票测试有限公司", company.credit_code)
        assert inv.status == "applied" and inv.created_by_id == clerk.id
        assert inv.amount == D("1280.00") and inv.invoice_number is None


def test_request_keeps_a_typed_title_and_tax_id(app, client, clerk, clerk_client):
    from tests.conftest import valid_code

    code = valid_code()
    client.login(clerk)
    client.post_form("/invoices/add", add_form(clerk_client, title="开票测试（北京）分公司",
                                               tax_id=code.lower()))
    from app.extensions import db
    from app.models import Invoice

    with app.app_context():
        inv = db.session.query(Invoice).one()
        assert (inv.title, inv.tax_id) == ("开票测试（北京）分公司", code)


@pytest.mark.parametrize("tax_id", ["91110105MA0123456", "91110105MA01234567X",
                                    "9111010SMA0123456A"])
def test_a_wrong_taxpayer_id_is_refused_beside_the_field(app, client, clerk, clerk_client,
                                                         tax_id):
    client.login(clerk)
    resp = client.post_form("/invoices/add", add_form(clerk_client, tax_id=tax_id))
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "has-error" in html or "help-block" in html
    assert invoice_count(app) == 0


def test_a_wrong_check_digit_gets_the_chinese_message(app, client, clerk, clerk_client):
    from tests.conftest import valid_code

    code = valid_code()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    client.login(clerk)
    html = client.post_form("/invoices/add", add_form(clerk_client, tax_id=wrong)
                            ).get_data(as_text=True)
    assert "校验位错误" in html
    assert invoice_count(app) == 0


@pytest.mark.parametrize("amount", ["0", "-5", "12.345", "abc", "", "NaN",
                                    "100000000000"])
def test_a_bad_amount_is_refused(app, client, clerk, clerk_client, amount):
    client.login(clerk)
    resp = client.post_form("/invoices/add", add_form(clerk_client, amount=amount))
    assert resp.status_code == 422
    assert invoice_count(app) == 0


def test_client_search_offers_only_visible_clients(app, client, clerk, clerk_client,
                                                   make_client, make_user):
    other = make_user("Accountant")
    make_client(name="开票测试他人有限公司", bookkeeper=other)
    for i in range(25):
        make_client(name=f"开票测试批量{i:02d}有限公司", bookkeeper=clerk)
    client.login(clerk)
    data = client.get("/invoices/client-search?q=开票测试").get_json()
    names = [r["text"] for r in data["results"]]
    assert len(names) == 20
    assert not any("他人" in n for n in names)
    one = client.get("/invoices/client-search?q=开票测试有限").get_json()["results"]
    assert [r["id"] for r in one] == [clerk_client]
    assert one[0]["name"] == "开票测试有限公司" and len(one[0]["credit_code"]) == 18


def test_client_search_needs_the_right_to_request(app, client, make_user):
    client.login(make_user("FieldAgent"))
    assert client.get("/invoices/client-search?q=a").status_code == 403


def test_a_forged_client_id_is_not_saved(app, client, clerk, clerk_client, make_client,
                                         make_user):
    hidden = make_client(name="别人的客户", bookkeeper=make_user("Accountant"))
    client.login(clerk)
    resp = client.post_form("/invoices/add", add_form(hidden))
    assert resp.status_code == 422
    assert invoice_count(app) == 0


# ---- 审核 --------------------------------------------------------------------------
def test_finance_approves_a_request(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(finance)
    approve(client, app, pk)
    row = invoice_row(app, pk)
    assert row["status"] == "approved" and row["approved_by_id"] == finance.id
    assert row["approved_at"] is not None
    assert status_audits(app, pk) == [("applied", "approved")]


def test_the_requester_cannot_approve_his_own_request(app, client, finance, clerk_client):
    pk = make_invoice(app, clerk_client, finance)
    client.login(finance)
    client.post_form(f"/invoices/action/approve/{pk}{v(app, 'Invoice', pk)}")
    assert invoice_row(app, pk)["status"] == "applied"
    assert status_audits(app, pk) == []


def test_self_approval_when_the_firm_allows_it(app, client, finance, clerk_client):
    from app.extensions import db
    from app.services import settings

    with app.app_context():
        settings.put("allow_self_approval", "1")
        db.session.commit()
    pk = make_invoice(app, clerk_client, finance)
    client.login(finance)
    client.post_form(f"/invoices/action/approve/{pk}{v(app, 'Invoice', pk)}")
    assert invoice_row(app, pk)["status"] == "approved"


def test_double_click_approves_once(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(finance)
    token = seen(app, "Invoice", pk)  # the page clicked twice
    approve(client, app, pk, token)
    approve(client, app, pk, token)
    client.post_form(f"/invoices/action/approve/{pk}?v={token.split('@')[1]}")
    assert status_audits(app, pk) == [("applied", "approved")]


def test_two_approvers_at_once_approve_once(app, clerk, finance, make_user, clerk_client):
    """Both loaded the request before either saved: the compare-and-set decides."""
    from app.extensions import db
    from app.models import Invoice
    from app.services.transitions import fire

    other = make_user("Finance")
    pk = make_invoice(app, clerk_client, clerk)
    now = datetime.datetime(2026, 3, 2, 10, 0)
    with app.app_context():
        seen_by_first = db.session.get(Invoice, pk)
        stale = Invoice(id=pk, status="applied", created_by_id=clerk.id,
                        version=1)  # the 2nd page
        r1 = fire(Invoice, [seen_by_first], "approve", finance, now, seen={pk: 1})
        db.session.expunge_all()
        r2 = fire(Invoice, [stale], "approve", other, now, seen={pk: 1})
    assert (r1.changed, r2.changed, r2.skipped) == (1, 0, 1)
    assert invoice_row(app, pk)["approved_by_id"] == finance.id


def test_approving_an_issued_invoice_changes_nothing(app, client, clerk, finance,
                                                     clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="issued", invoice_number="00000001")
    client.login(finance)
    client.post_form(f"/invoices/action/approve/{pk}{v(app, 'Invoice', pk)}")
    assert invoice_row(app, pk)["status"] == "issued"


def test_an_accountant_cannot_approve(app, client, clerk, make_user, clerk_client):
    pk = make_invoice(app, clerk_client, make_user("Accountant"))
    client.login(clerk)
    client.post_form(f"/invoices/action/approve/{pk}{v(app, 'Invoice', pk)}")
    assert invoice_row(app, pk)["status"] == "applied"


# ---- 开票 --------------------------------------------------------------------------
def test_issue_asks_for_the_number_and_records_it(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    resp = client.post_form(f"/invoices/action/issue/{pk}{v(app, 'Invoice', pk)}")
    assert resp.status_code == 302
    assert f"/invoices/step/issue/{pk}?v=1" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and 'name="invoice_number"' in page.get_data(as_text=True)
    resp = step(client, app, "issue", pk, invoice_number=" 0445 1234 ")
    assert resp.status_code == 302
    row = invoice_row(app, pk)
    assert (row["status"], row["invoice_number"], row["issued_by_id"]) == (
        "issued", "04451234", finance.id)
    assert status_audits(app, pk) == [("approved", "issued")]


@pytest.mark.parametrize("number", ["", "   ", "发票123", "12/34", "1" * 33])
def test_issue_without_a_usable_number_changes_nothing(app, client, clerk, finance,
                                                       clerk_client, number):
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    resp = step(client, app, "issue", pk, invoice_number=number)
    assert resp.status_code == 422
    assert "has-error" in resp.get_data(as_text=True)
    row = invoice_row(app, pk)
    assert row["status"] == "approved" and row["invoice_number"] is None


def test_a_duplicate_number_is_refused_and_nothing_changes(app, client, clerk, finance,
                                                           clerk_client):
    first = make_invoice(app, clerk_client, clerk, status="approved")
    second = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    step(client, app, "issue", first, invoice_number="12345678")
    resp = step(client, app, "issue", second, invoice_number="12345678")
    assert resp.status_code == 422 and "has-error" in resp.get_data(as_text=True)
    row = invoice_row(app, second)
    assert row["status"] == "approved" and row["invoice_number"] is None
    assert status_audits(app, second) == []


def test_the_number_of_a_voided_invoice_is_not_used_again(app, client, clerk, finance,
                                                          clerk_client):
    make_invoice(app, clerk_client, clerk, status="void", invoice_number="87654321")
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    step(client, app, "issue", pk, invoice_number="87654321")
    assert invoice_row(app, pk)["status"] == "approved"


def test_a_duplicate_number_racing_past_the_check_is_caught(app, clerk, finance,
                                                            clerk_client, monkeypatch):
    """Another clerk registers the number between the check and the UPDATE: the
    database's unique constraint refuses it, with the same message beside the field."""
    from app.data import integrity
    from app.domain.validation import FieldErrors
    from app.extensions import db
    from app.models import Invoice
    from app.services import transitions

    make_invoice(app, clerk_client, clerk, status="issued", invoice_number="55555555")
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    monkeypatch.setattr(integrity, "taken", lambda *args, **kwargs: False)
    with app.app_context():
        with pytest.raises(FieldErrors) as err:
            transitions.fire(Invoice, [db.session.get(Invoice, pk)], "issue", finance,
                             datetime.datetime(2026, 3, 3, 9, 0), seen={pk: 1},
                             values={"invoice_number": "55555555"})
    assert "invoice_number" in err.value.errors
    assert invoice_row(app, pk)["status"] == "approved"


def test_double_submit_of_the_issue_form_issues_once(app, client, clerk, finance,
                                                     clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    form = {"version": "1"}  # the form page, submitted twice
    client.post_form(f"/invoices/step/issue/{pk}", {**form, "invoice_number": "11111111"})
    resp = client.post_form(f"/invoices/step/issue/{pk}", {**form, "invoice_number": "22222222"})
    assert resp.status_code == 302
    assert invoice_row(app, pk)["invoice_number"] == "11111111"
    assert status_audits(app, pk) == [("approved", "issued")]


def test_a_request_cannot_skip_approval(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(finance)
    assert client.get(f"/invoices/step/issue/{pk}?v=1").status_code == 302  # back, warned
    step(client, app, "issue", pk, invoice_number="33333333")
    row = invoice_row(app, pk)
    assert row["status"] == "applied" and row["invoice_number"] is None


# ---- 作废 --------------------------------------------------------------------------
def test_void_asks_for_a_reason_and_records_it(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="issued", invoice_number="44444444")
    client.login(finance)
    resp = client.post_form(f"/invoices/action/void/{pk}{v(app, 'Invoice', pk)}")
    assert f"/invoices/step/void/{pk}" in resp.headers["Location"]
    resp = step(client, app, "void", pk, reason="  ")
    assert resp.status_code == 422 and invoice_row(app, pk)["status"] == "issued"
    step(client, app, "void", pk, reason="抬头开错")
    row = invoice_row(app, pk)
    assert (row["status"], row["void_reason"], row["voided_by_id"]) == (
        "void", "抬头开错", finance.id)
    assert row["invoice_number"] == "44444444"
    assert status_audits(app, pk) == [("issued", "void")]


def test_a_void_invoice_cannot_be_voided_again(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="void", invoice_number="66666666",
                      void_reason="第一次")
    client.login(finance)
    assert client.get(f"/invoices/step/void/{pk}?v=1").status_code == 302
    step(client, app, "void", pk, reason="第二次")
    assert invoice_row(app, pk)["void_reason"] == "第一次"
    assert status_audits(app, pk) == []


@pytest.mark.parametrize("status", ["applied", "approved"])
def test_only_an_issued_invoice_can_be_voided(app, client, clerk, finance, clerk_client,
                                              status):
    pk = make_invoice(app, clerk_client, clerk, status=status)
    client.login(finance)
    step(client, app, "void", pk, reason="不要了")
    assert invoice_row(app, pk)["status"] == status


def test_the_full_path_is_audited_in_order(app, client, clerk, finance, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(finance)
    approve(client, app, pk)
    step(client, app, "issue", pk, invoice_number="77777777")
    step(client, app, "void", pk, reason="金额错误")
    assert status_audits(app, pk) == [("applied", "approved"), ("approved", "issued"),
                                      ("issued", "void")]


@pytest.mark.parametrize("status,offered", [("applied", "approve"), ("approved", "issue"),
                                            ("issued", "void"), ("void", None)])
def test_the_details_page_offers_only_the_next_step(app, client, clerk, finance,
                                                    clerk_client, status, offered):
    pk = make_invoice(app, clerk_client, clerk, status=status,
                      invoice_number=None if status in ("applied", "approved") else "1")
    client.login(finance)
    html = client.get(f"/invoices/show/{pk}").get_data(as_text=True)
    for step in ("approve", "issue", "void"):
        assert (f"/invoices/action/{step}/{pk}" in html) == (step == offered), step


# ---- edit and delete only while a request ------------------------------------------
def test_a_request_can_be_edited(app, client, clerk, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(clerk)
    resp = client.post_form(f"/invoices/edit/{pk}", add_form(clerk_client, amount="99.90"))
    assert resp.status_code == 302
    assert invoice_row(app, pk)["amount"] == D("99.90")


@pytest.mark.parametrize("status", ["approved", "issued", "void"])
def test_no_edit_or_delete_once_approved(app, client, clerk, clerk_client, status):
    pk = make_invoice(app, clerk_client, clerk, status=status,
                      invoice_number=None if status == "approved" else f"9{len(status)}")
    client.login(clerk)
    client.post_form(f"/invoices/edit/{pk}", add_form(clerk_client, amount="1.00"))
    assert invoice_row(app, pk)["amount"] == D("1280.00")
    client.post_form(f"/invoices/delete/{pk}")
    assert invoice_row(app, pk) is not None


def test_a_request_can_be_deleted(app, client, clerk, clerk_client):
    pk = make_invoice(app, clerk_client, clerk)
    client.login(clerk)
    client.post_form(f"/invoices/delete/{pk}")
    assert invoice_row(app, pk) is None


# ---- another user's invoice: 404 everywhere ------------------------------------------
@pytest.mark.parametrize("method,path", [
    ("get", "/invoices/show/{pk}"),
    ("get", "/invoices/edit/{pk}"),
    ("post", "/invoices/edit/{pk}"),
    ("post", "/invoices/delete/{pk}"),
    ("get", "/invoices/step/issue/{pk}?v=1"),
    ("post", "/invoices/step/issue/{pk}"),
    ("get", "/invoices/step/void/{pk}?v=1"),
    ("post", "/invoices/step/void/{pk}"),
    ("post", "/invoices/action/approve/{pk}?v=1"),
    ("post", "/invoices/action/issue/{pk}?v=1"),
    ("post", "/invoices/action/void/{pk}?v=1"),
    ("action_post", "approve"),
])
def test_another_users_invoice_answers_404(app, client, make_user, make_client,
                                           grant_invoices, method, path):
    grant_invoices("Accountant")
    owner = make_user("Accountant")
    pk = make_invoice(app, make_client(bookkeeper=owner), owner, status="approved")
    client.login(make_user("Accountant"))
    if method == "get":
        resp = client.get(path.format(pk=pk))
    elif method == "post":
        resp = client.post_form(path.format(pk=pk), {"invoice_number": "1", "reason": "x",
                                                     "version": "1"})
    else:
        resp = client.post_form("/invoices/action_post", {"action": path,
                                                          "rowid": [f"{pk}@1"]})
    assert resp.status_code == 404
    assert invoice_row(app, pk)["status"] == "approved"


def test_the_list_shows_only_visible_invoices(app, client, clerk, clerk_client, make_user,
                                              make_client):
    other = make_user("Accountant")
    make_invoice(app, make_client(bookkeeper=other), other, title="别人的抬头")
    make_invoice(app, clerk_client, clerk, title="自己的抬头")
    client.login(clerk)
    html = client.get("/invoices/list/").get_data(as_text=True)
    assert "自己的抬头" in html and "别人的抬头" not in html


def test_the_export_holds_only_visible_invoices(app, client, clerk, clerk_client, make_user,
                                                make_client, grant_invoices):
    import io

    from openpyxl import load_workbook

    grant_invoices("Accountant", "can_export")
    other = make_user("Accountant")
    make_invoice(app, make_client(bookkeeper=other), other, title="别人的导出抬头")
    make_invoice(app, clerk_client, clerk, title="=自己的导出抬头")
    client.login(clerk)
    resp = client.get("/invoices/export.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None]
    title = next(c for c in cells if c.value == "=自己的导出抬头")
    assert title.data_type == "s"  # written as text, not as a formula
    assert not any("别人的" in str(c.value) for c in cells)
    assert sheet.max_row == 2


@pytest.mark.parametrize("role,can_request,can_approve,sees_stats", [
    ("Finance", True, True, True), ("Manager", True, True, True),
    ("Accountant", True, False, False), ("Sales", True, False, False),
    ("FieldAgent", False, False, False)])
def test_the_shipped_roles(app, client, make_user, make_client, role,
                           can_request, can_approve, sees_stats):
    """The grants table as shipped: who requests, who approves, who reads the
    statistics."""
    me = make_user(role)
    requester = make_user("Accountant")
    cid = make_client(bookkeeper=me, field_agent=requester)
    pk = make_invoice(app, cid, requester)
    client.login(me)
    assert (client.get("/invoices/add").status_code == 200) == can_request
    client.post_form(f"/invoices/action/approve/{pk}?v=1")
    assert (invoice_row(app, pk)["status"] == "approved") == can_approve
    assert (client.get("/stats/monthly/").status_code == 200) == sees_stats
    assert (client.get("/invoices/monthly/").status_code == 200) == sees_stats


# ---- search -------------------------------------------------------------------------
def test_search_by_month_of_request_client_and_number(app, client, clerk, finance,
                                                      clerk_client, make_client):
    other = make_client(name="另一家科技有限公司", bookkeeper=clerk)
    make_invoice(app, clerk_client, clerk, title="三月末的申请",
                 created_on=datetime.datetime(2026, 3, 31, 23, 59, 59))
    make_invoice(app, other, clerk, title="四月初的申请", status="issued",
                 invoice_number="20260401",
                 created_on=datetime.datetime(2026, 4, 1, 0, 0, 0))
    client.login(finance)
    march = client.get("/invoices/list/?month=2026-03").get_data(as_text=True)
    assert "三月末的申请" in march and "四月初的申请" not in march
    april = client.get("/invoices/list/?month=2026-04").get_data(as_text=True)
    assert "四月初的申请" in april and "三月末的申请" not in april
    by_client = client.get("/invoices/list/?q=另一家").get_data(as_text=True)
    assert "四月初的申请" in by_client and "三月末的申请" not in by_client
    by_number = client.get("/invoices/list/?q=20260401").get_data(as_text=True)
    assert "四月初的申请" in by_number and "三月末的申请" not in by_number


def test_month_filter_handles_date_and_datetime_columns(app):
    """The same ``?month=`` filter on a DATE column (obligations) and a DATETIME one."""
    from app.extensions import db
    from app.models import Invoice, Obligation
    from app.views.base import MonthFilter
    from app.data.interface import ScopedInterface

    with app.app_context():
        for model, column in ((Invoice, "created_on"), (Obligation, "deadline")):
            query = MonthFilter(column, ScopedInterface(model)).apply(
                db.session.query(model), "2026-02")
            sql = str(query.statement.compile(compile_kwargs={"literal_binds": True}))
            assert "2026-02-01" in sql and "2026-03-01" in sql
            query.all()  # runs on this database


# ---- 开票月度汇总 --------------------------------------------------------------------
def test_monthly_totals_count_issued_invoices_only_and_visible_ones(
        app, client, clerk, clerk_client, make_user, make_client, grant_invoices):
    from app.services.invoices import monthly_totals

    grant_invoices("Accountant", "can_monthly")
    other = make_user("Accountant")
    hidden = make_client(bookkeeper=other)
    march = datetime.datetime(2026, 3, 15, 10, 0)
    make_invoice(app, clerk_client, clerk, status="issued", invoice_number="1",
                 amount=D("100.10"), issued_at=march)
    make_invoice(app, clerk_client, clerk, status="issued", invoice_number="2",
                 amount=D("0.20"), issued_at=datetime.datetime(2026, 3, 31, 23, 59, 59))
    make_invoice(app, clerk_client, clerk, status="issued", invoice_number="3",
                 amount=D("200.00"), invoice_type="special", issued_at=march)
    make_invoice(app, clerk_client, clerk, status="void", invoice_number="4",
                 amount=D("5000.00"), issued_at=march)
    make_invoice(app, clerk_client, clerk, status="approved", amount=D("7000.00"))
    make_invoice(app, clerk_client, clerk, status="issued", invoice_number="5",
                 amount=D("30.00"), issued_at=datetime.datetime(2026, 4, 1, 0, 0))
    make_invoice(app, hidden, other, status="issued", invoice_number="6",
                 amount=D("900.00"), issued_at=march)
    with app.app_context():
        everything = monthly_totals(2026)
        assert everything[2].amounts == {"normal": D("1000.30"), "special": D("200.00")}
        assert everything[2].count == 4
        assert everything[3].amounts["normal"] == D("30.00")
        assert monthly_totals(2025)[2].total == 0
    client.login(clerk)
    html = client.get("/invoices/monthly/?year=2026").get_data(as_text=True)
    assert "100.30" in html and "200.00" in html and "330.30" in html  # March, visible only
    assert "1,000.30" not in html and "5,000.00" not in html and "900.00" not in html


def test_monthly_totals_need_their_permission(app, client, clerk):
    client.login(clerk)
    resp = client.get("/invoices/monthly/")
    assert resp.status_code in (302, 403)


# ---- Chinese messages (need the catalogue entries of /tmp/invoices_zh.json) ----------
def test_chinese_message_for_a_duplicate_number(app, client, clerk, finance, clerk_client):
    first = make_invoice(app, clerk_client, clerk, status="issued", invoice_number="88888888")
    second = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(finance)
    html = step(client, app, "issue", second, invoice_number="88888888").get_data(as_text=True)
    assert "发票号码已登记" in html
    assert invoice_row(app, first)["status"] == "issued"


def test_chinese_message_for_self_approval(app, client, finance, clerk_client):
    pk = make_invoice(app, clerk_client, finance)
    client.login(finance)
    html = client.post_form(f"/invoices/action/approve/{pk}?v=1", follow_redirects=True
                            ).get_data(as_text=True)
    assert "不能审核自己" in html


def test_chinese_message_for_an_edit_after_approval(app, client, clerk, clerk_client):
    pk = make_invoice(app, clerk_client, clerk, status="approved")
    client.login(clerk)
    html = client.post_form(f"/invoices/edit/{pk}", add_form(clerk_client, amount="1.00")
                            ).get_data(as_text=True)
    assert "不能修改或删除" in html


def test_chinese_message_for_a_zero_amount(app, client, clerk, clerk_client):
    client.login(clerk)
    html = client.post_form("/invoices/add", add_form(clerk_client, amount="0")
                            ).get_data(as_text=True)
    assert "金额必须大于 0" in html
