"""日记账 as staff use it: an entry is 待审核 until Finance approves it (never its own
creator), approved entries are locked until a manager unlocks them with a reason,
approving twice approves once, a client's payment is refused here (it is a 收款
receipt, whose approval posts the journal's entry) and approving an entry moves no
next fee date, and the add form's helpers stay inside the visibility scope.

The roles hold these permissions as shipped (the one grants table,
``app.security.grants``).
"""
import datetime
import json
import re
from decimal import Decimal

import pytest

from tests.conftest import seen

TODAY = datetime.date(2026, 11, 23)
D = datetime.date


@pytest.fixture
def pinned_today(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


@pytest.fixture
def finance_roles(app):
    """``finance_roles("Finance", "Accountant")``: the roles as shipped hold the
    finance permissions (``app.security.grants``); this checks they still do."""
    from app.security.grants import grants_of

    def do(*roles):
        with app.app_context():
            for role in roles:
                have = {(p.permission.name, p.view_menu.name)
                        for p in app.appbuilder.sm.find_role(role).permissions}
                assert {(perm, view) for view, perms in grants_of(role).items()
                        for perm in perms} <= have, role
    return do


@pytest.fixture
def staff(make_user, finance_roles):
    """An accountant, a finance clerk and a manager with the finance permissions."""
    finance_roles("Accountant", "Finance", "Manager")
    return {"acct": make_user("Accountant"), "finance": make_user("Finance"),
            "manager": make_user("Manager")}


def category_id(app, name="代理记账费", kind="journal_category"):
    from app.extensions import db
    from app.models import DictItem

    with app.app_context():
        return db.session.query(DictItem.id).filter_by(kind=kind, name=name).scalar()


def entry_form(app, client_id, **fields):
    """An expense paid for a client (a client's payment is a receipt, not typed here)."""
    form = {"entry_date": "2026-11-20", "client": str(client_id) if client_id else "",
            "direction": "expense", "category": str(category_id(app, "办公费")),
            "method": str(category_id(app, "微信", "payment_method")), "amount": "900.00",
            "period_start": "2026-11-01", "period_end": "2027-01-31",
            "note": "代客户垫付三个月税控服务费"}
    form.update(fields)
    return form


def entries(app, **where):
    from app.extensions import db
    from app.models import JournalEntry

    with app.app_context():
        db.session.expire_all()
        rows = db.session.query(JournalEntry).filter_by(**where).order_by(JournalEntry.id).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def make_entry(app, client_id, creator, **fields):
    from app.extensions import db
    from app.models import JournalEntry

    values = dict(entry_date=D(2026, 11, 20), client_id=client_id, direction="expense",
                  amount=Decimal("900.00"), status="pending", created_by_id=creator.id)
    values.update(fields)
    with app.app_context():
        entry = JournalEntry(**values)
        db.session.add(entry)
        db.session.commit()
        return entry.id


def get_entry(app, pk):
    from app.extensions import db
    from app.models import JournalEntry

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(JournalEntry, pk)
        if row is not None:
            db.session.expunge(row)
        return row


def client_row(app, cid):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(Client, cid)
        db.session.expunge(row)
        return row


_audit_start = {}


@pytest.fixture(autouse=True)
def audit_start(app):
    """The audit log is kept between tests and ids of deleted rows come back (SQLite):
    a test reads only the audit rows written since it started."""
    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        _audit_start["id"] = db.session.query(func.max(AuditLog.id)).scalar() or 0


def audit_rows(app, action, table, row_id):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return [(r.action, r.username, json.loads(r.changes or "null"))
                for r in db.session.query(AuditLog).filter(
                    AuditLog.id > _audit_start["id"], AuditLog.action == action,
                    AuditLog.table_name == table, AuditLog.row_id == str(row_id))
                .order_by(AuditLog.id)]


def approve(web, pk, token=None):
    """审核 from the list, as the page posts it: the row with the version it showed."""
    token = token or seen(web.c.application, "JournalEntry", pk)
    return web.post_form("/journal/action_post", {"action": "approve", "rowid": [token]})


# ---- adding ---------------------------------------------------------------------------
def test_a_new_entry_is_pending_and_records_its_creator(app, client, staff, make_client,
                                                        pinned_today):
    cid = make_client(name="日记账测试有限公司", bookkeeper=staff["acct"])
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, cid))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    [entry] = entries(app, client_id=cid)
    assert entry.status == "pending" and entry.created_by_id == staff["acct"].id
    assert entry.amount == Decimal("900.00") and isinstance(entry.amount, Decimal)
    assert entry.approved_by_id is None


@pytest.mark.parametrize("amount", ["0", "-100", "12.345", "abc", ""])
def test_a_bad_amount_is_not_saved(app, client, staff, make_client, amount):
    cid = make_client(bookkeeper=staff["acct"])
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, cid, amount=amount))
    assert resp.status_code == 422
    assert entries(app, client_id=cid) == []


@pytest.mark.parametrize("amount, words", [
    ("0", "大于"), ("-100", "负"), ("12.345", "两位小数"), ("abc", "金额"), ("", "金额"),
])
def test_a_bad_amount_gets_a_chinese_error(app, client, staff, make_client, amount, words):
    """(Chinese once the translations of /tmp/finance_zh.json are merged.)"""
    cid = make_client(bookkeeper=staff["acct"])
    client.login(staff["acct"])
    html = client.post_form("/journal/add", entry_form(app, cid, amount=amount)).get_data(as_text=True)
    errors = " ".join(re.findall(r'<span class="help-block">(.*?)</span>', html, re.S) +
                      re.findall(r'alert-danger[^>]*>(.*?)</div>', html, re.S))
    assert words in errors, errors


def test_the_period_cannot_end_before_it_starts(app, client, staff, make_client):
    cid = make_client(bookkeeper=staff["acct"])
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, cid, period_start="2026-12-01",
                                                       period_end="2026-11-01"))
    assert resp.status_code == 422 and entries(app, client_id=cid) == []


def test_an_entry_for_a_client_one_may_not_see_is_refused(app, client, staff, make_user,
                                                          make_client):
    other = make_user("Accountant")
    cid = make_client(bookkeeper=other)
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, cid))
    assert resp.status_code == 422 and entries(app, client_id=cid) == []


def test_finance_records_a_firm_expense_without_a_client(app, client, staff):
    client.login(staff["finance"])
    resp = client.post_form("/journal/add", entry_form(
        app, None, direction="expense", category=str(category_id(app, "房租")), amount="5000",
        period_start="", period_end="", note="十一月房租"))
    assert resp.status_code == 302
    assert [e.amount for e in entries(app, note="十一月房租")] == [Decimal("5000.00")]


def test_an_accountant_cannot_record_an_entry_without_a_client(app, client, staff):
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, None, note="无客户"))
    assert resp.status_code == 422 and entries(app, note="无客户") == []


def test_the_add_form_has_no_dropdown_of_all_clients(app, client, staff, make_client):
    make_client(name="不该出现在下拉框有限公司", bookkeeper=staff["acct"])
    client.login(staff["finance"])
    html = client.get("/journal/add").get_data(as_text=True)
    assert "不该出现在下拉框有限公司" not in html
    assert "/journal/client-search" in html and 'id="earlier-payments"' in html


# ---- the add form's helpers ------------------------------------------------------------
def test_the_client_search_offers_visible_clients_at_most_20(app, client, staff, make_user,
                                                             make_client):
    for i in range(25):
        make_client(name=f"搜索日记账公司{i:02d}", bookkeeper=staff["acct"])
    hidden = make_client(name="搜索日记账公司别人的", bookkeeper=make_user("Accountant"))
    client.login(staff["acct"])
    results = client.get("/journal/client-search?q=搜索日记账").get_json()["results"]
    assert len(results) == 20
    assert hidden not in {r["id"] for r in results}
    assert {"id", "name", "credit_code"} <= set(results[0])


def make_receipt(app, client_id, creator, **fields):
    from app.extensions import db
    from app.models import Receipt

    values = dict(client_id=client_id, amount=Decimal("900.00"), received_on=D(2026, 11, 20),
                  status="pending", version=1, created_by_id=creator.id)
    values.update(fields)
    with app.app_context():
        row = Receipt(**values)
        db.session.add(row)
        db.session.commit()
        return row.id


def test_earlier_payments_of_a_visible_client_are_his_receipts(app, client, staff,
                                                               make_client):
    cid = make_client(bookkeeper=staff["acct"])
    make_receipt(app, cid, staff["finance"], received_on=D(2026, 8, 1),
                 amount=Decimal("900"), status="approved", number="2026-000007")
    make_receipt(app, cid, staff["finance"], received_on=D(2026, 11, 2),
                 amount=Decimal("905.50"))
    make_entry(app, cid, staff["finance"], direction="expense", amount=Decimal("50"))
    client.login(staff["acct"])
    data = client.get(f"/journal/client-payments/{cid}").get_json()
    assert [p["amount"] for p in data["payments"]] == ["905.50", "900.00"]  # newest first
    assert [p["number"] for p in data["payments"]] == ["", "2026-000007"]
    assert [p["status_label"] for p in data["payments"]] == ["待审核", "已审核"]


def test_earlier_payments_of_another_accountants_client_are_404(app, client, staff,
                                                                make_user, make_client):
    cid = make_client(bookkeeper=make_user("Accountant"))
    make_entry(app, cid, staff["finance"])
    client.login(staff["acct"])
    assert client.get(f"/journal/client-payments/{cid}").status_code == 404
    assert client.get("/journal/client-payments/987654321").status_code == 404


def test_the_helpers_need_a_login_and_a_form_permission(app, client, make_user, make_client):
    cid = make_client()
    assert client.get(f"/journal/client-payments/{cid}").status_code in (401, 302)
    client.login(make_user("Sales"))
    assert client.get(f"/journal/client-payments/{cid}").status_code == 403
    assert client.get("/journal/client-search?q=a").status_code == 403


def test_an_accountant_lists_only_entries_of_his_clients(app, client, staff, make_user,
                                                         make_client):
    mine = make_client(name="我的日记账客户有限公司", bookkeeper=staff["acct"])
    theirs = make_client(name="别人的日记账客户有限公司", bookkeeper=make_user("Accountant"))
    make_entry(app, mine, staff["finance"])
    other = make_entry(app, theirs, staff["finance"])
    client.login(staff["acct"])
    html = client.get("/journal/list/").get_data(as_text=True)
    assert "我的日记账客户有限公司" in html and "别人的日记账客户有限公司" not in html
    assert client.get(f"/journal/show/{other}").status_code == 404


# ---- 审核 ------------------------------------------------------------------------------
def test_the_creator_cannot_approve_his_own_entry(app, client, staff, make_client):
    cid = make_client(bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["finance"])
    client.login(staff["finance"])
    approve(client, pk)
    assert get_entry(app, pk).status == "pending"


def test_refused_self_approval_says_why_in_chinese(app, client, staff, make_client):
    """(Chinese once the translations are merged.)"""
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["finance"])
    client.login(staff["finance"])
    html = client.get(approve(client, pk).headers["Location"]).get_data(as_text=True)
    assert "不能审核" in html


def test_a_setting_allows_self_approval_for_one_person_firms(app, client, staff, make_client):
    from app.extensions import db
    from app.models import Setting

    with app.app_context():
        db.session.add(Setting(key="allow_self_approval", value="1"))
        db.session.commit()
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["finance"])
    client.login(staff["finance"])
    approve(client, pk)
    assert get_entry(app, pk).status == "approved"


def test_finance_approves_an_accountants_entry(app, client, staff, make_client):
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["acct"])
    client.login(staff["finance"])
    assert approve(client, pk).status_code == 302
    entry = get_entry(app, pk)
    assert entry.status == "approved" and entry.approved_by_id == staff["finance"].id
    assert entry.approved_at is not None


def test_an_accountant_cannot_approve(app, client, staff, make_user, make_client):
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), make_user("Finance"))
    client.login(staff["acct"])
    approve(client, pk)
    assert get_entry(app, pk).status == "pending"


def test_an_approved_entry_cannot_be_edited_or_deleted(app, client, staff, make_client):
    cid = make_client(bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["acct"])
    client.login(staff["finance"])
    approve(client, pk)
    resp = client.post_form(f"/journal/edit/{pk}", entry_form(app, cid, amount="1.00"))
    assert resp.status_code == 422
    client.post_form(f"/journal/delete/{pk}")
    entry = get_entry(app, pk)
    assert entry is not None and entry.amount == Decimal("900.00") and entry.status == "approved"


def test_locked_entry_refusal_is_chinese(app, client, staff, make_client):
    """(Chinese once the translations are merged.)"""
    cid = make_client(bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["acct"], status="approved")
    client.login(staff["finance"])
    html = client.post_form(f"/journal/edit/{pk}", entry_form(app, cid, amount="1.00")).get_data(as_text=True)
    assert "已审核" in html and "锁定" in html
    html = client.post_form(f"/journal/delete/{pk}", follow_redirects=True).get_data(as_text=True)
    assert "锁定" in html


def test_a_pending_entry_can_be_edited(app, client, staff, make_client):
    cid = make_client(bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["acct"])
    client.login(staff["finance"])
    assert client.post_form(f"/journal/edit/{pk}", entry_form(app, cid, amount="950")).status_code == 302
    assert get_entry(app, pk).amount == Decimal("950.00")


def test_an_approval_between_loading_and_saving_an_edit_wins(app, staff, make_client):
    """The lock is checked in the database at save time, not on the loaded row."""
    from app.extensions import db
    from app.models import JournalEntry
    from app.services import transitions

    pk = make_entry(app, make_client(), staff["acct"])
    with app.app_context():
        stale = db.session.get(JournalEntry, pk)  # the edit form loaded it pending
        db.session.execute(JournalEntry.__table__.update().where(JournalEntry.id == pk)
                           .values(status="approved"))  # another clerk approves
        stale.amount = Decimal("1.00")
        with pytest.raises(transitions.LockedError):
            transitions.ensure_editable(stale)
        db.session.rollback()
    assert get_entry(app, pk).amount == Decimal("900.00")


def test_approving_twice_approves_once(app, client, staff, make_client):
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["acct"])
    client.login(staff["finance"])
    token = seen(app, "JournalEntry", pk)  # the page the clerk clicks on, twice
    approve(client, pk, token)
    approve(client, pk, token)
    client.post_form(f"/journal/action/approve/{pk}?v={token.split('@')[1]}")
    approvals = [c for _, _, c in audit_rows(app, "update", "journal_entry", pk)
                 if c.get("status") == ["pending", "approved"]]
    assert len(approvals) == 1


def test_two_approvers_at_once_approve_once(app, staff, make_user, make_client):
    """Both loaded the entry pending before either saved (the race the CAS is for)."""
    from app.extensions import db
    from app.models import JournalEntry
    from app.services import transitions

    pk = make_entry(app, make_client(), staff["acct"])
    other = make_user("Finance")
    now = datetime.datetime(2026, 11, 23, 10, 0)
    with app.app_context():
        first = db.session.get(JournalEntry, pk)
        db.session.expunge(first)
        second = db.session.get(JournalEntry, pk)
        db.session.expunge(second)
        r1 = transitions.fire(JournalEntry, [first], "approve", staff["finance"], now,
                              seen={pk: 1})
        r2 = transitions.fire(JournalEntry, [second], "approve", other, now, seen={pk: 1})
    assert (r1.changed, r2.changed, r2.skipped) == (1, 0, 1)
    assert get_entry(app, pk).approved_by_id == staff["finance"].id


# ---- 解锁 ------------------------------------------------------------------------------
def test_a_manager_unlocks_with_a_reason_and_it_is_logged(app, client, staff, make_client):
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["acct"],
                    status="approved", approved_by_id=staff["finance"].id,
                    approved_at=datetime.datetime(2026, 11, 21, 9, 0))
    client.login(staff["manager"])
    version = seen(app, "JournalEntry", pk).split("@")[1]
    resp = client.post_form(f"/journal/action/unlock/{pk}?v={version}")
    assert resp.status_code == 302 and f"/journal/step/unlock/{pk}" in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and "原因" in page.get_data(as_text=True)
    form = {"version": version}
    resp = client.post_form(f"/journal/step/unlock/{pk}", {**form, "reason": "  "})
    assert resp.status_code == 422 and "必填" in resp.get_data(as_text=True)
    assert get_entry(app, pk).status == "approved"  # no reason, no unlock
    resp = client.post_form(f"/journal/step/unlock/{pk}", {**form, "reason": "金额录错，应为 950 元"})
    assert resp.status_code == 302
    entry = get_entry(app, pk)
    assert entry.status == "pending" and entry.approved_by_id is None
    [(action, username, changes)] = audit_rows(app, "unlock", "journal_entry", pk)
    assert username == staff["manager"].username
    assert changes["reason"] == "金额录错，应为 950 元"
    assert changes["approved_by_id"] == [staff["finance"].id, None]
    # unlocked: it can be corrected now
    client.login(staff["finance"])
    cid = entry.client_id
    assert client.post_form(f"/journal/edit/{pk}", entry_form(app, cid, amount="950")).status_code == 302
    assert get_entry(app, pk).amount == Decimal("950.00")


def test_finance_and_accountants_cannot_unlock(app, client, staff, make_client):
    pk = make_entry(app, make_client(bookkeeper=staff["acct"]), staff["acct"], status="approved")
    for who in ("finance", "acct"):
        client.login(staff[who])
        client.post_form(f"/journal/action/unlock/{pk}?v=1")
        assert client.post_form(f"/journal/step/unlock/{pk}",
                                {"version": "1", "reason": "想改"}).status_code == 403
        assert get_entry(app, pk).status == "approved"
    assert audit_rows(app, "unlock", "journal_entry", pk) == []


def test_unlocking_another_scope_s_entry_is_404(app, client, make_user, make_client, grant):
    """A manager who does not see all clients (an Accountant with unlock granted)."""
    boss = make_user("Accountant")
    for perm in ("can_list", "can_show", "can_unlock"):
        grant("Accountant", perm, "JournalModelView")
    pk = make_entry(app, make_client(bookkeeper=make_user("Accountant")), boss, status="approved")
    client.login(boss)
    assert client.post_form(f"/journal/action/unlock/{pk}?v=1").status_code == 404
    assert client.post_form(f"/journal/step/unlock/{pk}",
                            {"version": "1", "reason": "x"}).status_code == 404
    assert get_entry(app, pk).status == "approved"


# ---- a client's payment is a receipt; the journal's 审核 moves no fee date ----------
def test_an_income_entry_with_a_client_is_refused_beside_the_client(app, client, staff,
                                                                    make_client):
    cid = make_client(bookkeeper=staff["acct"])
    client.login(staff["acct"])
    resp = client.post_form("/journal/add", entry_form(app, cid, direction="income",
                                                       category=str(category_id(app))))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "客户缴费请在收款中登记" in html
    assert entries(app, client_id=cid) == []


def test_an_expense_for_a_client_and_income_without_a_client_are_still_entered(
        app, client, staff, make_client):
    cid = make_client(bookkeeper=staff["acct"])
    client.login(staff["acct"])
    assert client.post_form("/journal/add", entry_form(app, cid)).status_code == 302
    client.login(staff["finance"])
    assert client.post_form("/journal/add", entry_form(
        app, None, direction="income", category=str(category_id(app, "其他")),
        note="利息收入")).status_code == 302
    assert [e.direction for e in entries(app, client_id=cid)] == ["expense"]
    assert [e.note for e in entries(app, client_id=None)] == ["利息收入"]


def test_a_pending_expense_cannot_become_a_client_s_income_by_an_edit(app, client, staff,
                                                                      make_client):
    cid = make_client(bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["acct"])
    client.login(staff["finance"])
    resp = client.post_form(f"/journal/edit/{pk}", entry_form(app, cid, direction="income"))
    assert "客户缴费请在收款中登记" in resp.get_data(as_text=True)
    assert get_entry(app, pk).direction == "expense"


def test_approving_an_entry_moves_no_next_fee_date(app, client, staff, make_client,
                                                   pinned_today):
    """The fee rule lives in the ledger only: even an old fee entry (income with a
    client and a next payment date, typed before receipts) leaves the date alone."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import JournalEntry

    cid = make_client(bookkeeper=staff["acct"], billing_cycle="quarter",
                      service_fee=Decimal("900"), next_fee_date=D(2026, 11, 1))
    expense = make_entry(app, cid, staff["acct"], period_end=D(2027, 1, 31))
    with app.app_context():  # as the data was before the rule (no flush check)
        old = db.session.execute(insert(JournalEntry).values(
            entry_date=D(2026, 11, 20), client_id=cid, direction="income",
            amount=Decimal("900.00"), status="pending", version=1,
            created_on=datetime.datetime(2026, 11, 20, 9), created_by_id=staff["acct"].id,
            next_payment_date=D(2027, 2, 1)).returning(JournalEntry.id)).scalar_one()
        db.session.commit()
    client.login(staff["finance"])
    client.post_form("/journal/action_post", {"action": "approve", "rowid": [
        seen(app, "JournalEntry", expense), seen(app, "JournalEntry", old)]})
    assert {get_entry(app, expense).status, get_entry(app, old).status} == {"approved"}
    assert client_row(app, cid).next_fee_date == D(2026, 11, 1)
    assert audit_rows(app, "update", "client", cid) == []


def test_the_add_form_has_no_next_payment_date_to_type(app, client, staff):
    client.login(staff["finance"])
    html = client.get("/journal/add").get_data(as_text=True)
    assert 'name="next_payment_date"' not in html
    assert 'name="period_end"' in html


def test_the_journal_exports_with_money_as_numbers(app, client, staff, make_client):
    import io

    from openpyxl import load_workbook

    pk = make_entry(app, make_client(name="导出日记账有限公司"), staff["acct"],
                    amount=Decimal("1234.50"))
    client.login(staff["finance"])
    resp = client.get("/journal/export.xlsx")
    assert resp.status_code == 200
    rows = list(load_workbook(io.BytesIO(resp.data), read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 2 and 1234.5 in rows[1] and "导出日记账有限公司" in rows[1]
    assert pk


def test_the_journal_pages_are_chinese(app, client, staff, make_client):
    """(Chinese once the translations are merged.) The add form, the list, a show page
    and the unlock form show no English word."""
    from .test_chinese_pages import PageChecker

    cid = make_client(name="中文页面日记账有限公司", bookkeeper=staff["acct"])
    pk = make_entry(app, cid, staff["acct"], status="approved", note="已收")
    client.login(staff["manager"])
    checker = PageChecker(app, client)
    for path in ("/journal/list/", "/journal/add", f"/journal/show/{pk}", f"/journal/step/unlock/{pk}?v=1",
                 f"/journal/edit/{pk}"):
        checker.open(path)
    html = client.post_form("/journal/add", entry_form(app, cid, amount="-1")).get_data(as_text=True)
    checker.check_html("journal add form with errors", html)
    assert not checker.findings, checker.report()
