"""One record of a client's fee money, on SQLite and PostgreSQL: approving a 收款
receipt posts ONE journal entry (income, the receipt's client, date, amount and
method, category 代理记账费, its 收据编号 in the note), so the 日记账 and 月度/年度统计
count it once; 解锁 takes it back and approving again posts it again, once — twice
or at once by two clerks included; the journal's screens and API cannot change,
unlock or delete it, and a user outside the client's scope cannot reach it."""
import datetime
import json
import threading
from decimal import Decimal

import pytest

from ..conftest import seen
from .test_journal import finance_roles  # noqa: F401  (fixture)
from .test_ledger import (add_receipt, allocations, approve, debtor, pinned,  # noqa: F401
                          receipt, run_charges, staff)

D = datetime.date


def journal_of(app, cid):
    from app.extensions import db
    from app.models import DictItem, JournalEntry

    with app.app_context():
        db.session.expire_all()
        rows = db.session.query(JournalEntry).filter_by(client_id=cid).order_by(
            JournalEntry.id).all()
        names = {d.id: d.name for d in db.session.query(DictItem)}
        return [dict(id=e.id, date=e.entry_date, direction=e.direction, amount=e.amount,
                     status=e.status, category=names.get(e.category_id),
                     method=names.get(e.method_id), note=e.note,
                     created_by_id=e.created_by_id, approved_by_id=e.approved_by_id)
                for e in rows]


def fee_income(app, year=2026, month=11):
    """月度统计's income of one month, and of the fee category, as Finance reads it."""
    from app.services import stats

    with app.app_context():
        report = stats.monthly(year)
        fee = [r for r in report.by_category if r.name == "代理记账费"]
        in_fee = fee[0].periods.get(month).income if fee and fee[0].periods.get(month) else 0
        return report.by_period[month].income, in_fee, stats.yearly().total.income


def method_id(app, name="微信"):
    from app.extensions import db
    from app.models import DictItem

    with app.app_context():
        return db.session.query(DictItem.id).filter_by(kind="payment_method",
                                                       name=name).scalar()


def audit_of(app, table, row_id, action, since=0):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.query(AuditLog).filter_by(table_name=table, row_id=str(row_id),
                                                    action=action).filter(
            AuditLog.id > since).count()


def last_audit(app):
    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        return db.session.query(func.max(AuditLog.id)).scalar() or 0


def text_of(resp) -> str:
    return json.dumps(resp.json, ensure_ascii=False)


def test_approving_a_receipt_posts_one_approved_journal_entry(app, client, staff, debtor):
    from app.extensions import db
    from app.models import Receipt

    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    with app.app_context():
        db.session.get(Receipt, pk).method_id = method_id(app)
        db.session.commit()
    assert journal_of(app, debtor) == []  # a pending receipt is not money yet
    client.login(staff["finance"])
    since = last_audit(app)
    approve(client, app, pk)
    [entry] = journal_of(app, debtor)
    assert entry == dict(entry, date=D(2026, 11, 30), direction="income",
                         amount=Decimal("450.00"), status="approved", category="代理记账费",
                         method="微信", created_by_id=staff["acct"].id,
                         approved_by_id=staff["finance"].id)
    assert "2026-000001" in entry["note"] and "收据" in entry["note"]
    assert receipt(app, pk).journal_entry_id == entry["id"]
    assert audit_of(app, "journal_entry", entry["id"], "insert", since) == 1
    # the 日记账 lists it; statistics count it once
    assert "两期欠费有限公司" in client.get("/journal/list/").get_data(as_text=True)
    assert fee_income(app) == (Decimal("450.00"), Decimal("450.00"), Decimal("450.00"))


def test_approving_twice_posts_once(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    client.login(staff["finance"])
    token = seen(app, "Receipt", pk)
    client.post_form("/receipts/action_post", {"action": "approve", "rowid": [token]})
    client.post_form("/receipts/action_post", {"action": "approve", "rowid": [token]})
    assert len(journal_of(app, debtor)) == 1
    assert fee_income(app)[0] == Decimal("450.00")


def test_two_clerks_approving_at_once_post_once(app, staff, debtor):
    from app.extensions import db
    from app.models import Receipt
    from app.services import transitions

    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    barrier = threading.Barrier(2)
    results = []

    def go(user):
        with app.app_context():
            try:
                item = db.session.get(Receipt, pk)
                barrier.wait(5)
                results.append(transitions.fire(Receipt, [item], "approve", user,
                                                datetime.datetime(2026, 11, 30, 10),
                                                seen={pk: 1}).changed)
            except Exception as exc:  # noqa: BLE001 - SQLite: the second writer may be refused
                results.append(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=go, args=(u,))
               for u in (staff["finance"], staff["finance2"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(1) == 1, results
    [entry] = journal_of(app, debtor)
    assert receipt(app, pk).journal_entry_id == entry["id"]
    assert fee_income(app)[0] == Decimal("450.00")


def test_unlocking_takes_the_entry_back_and_approving_again_posts_it_once(app, client, staff,
                                                                           debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "300.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    [first] = journal_of(app, debtor)
    client.login(staff["manager"])
    since = last_audit(app)
    resp = client.post_form(f"/receipts/step/unlock/{pk}",
                            {"version": str(receipt(app, pk).version), "reason": "金额录错"})
    assert resp.status_code == 302
    assert journal_of(app, debtor) == [] and receipt(app, pk).journal_entry_id is None
    assert fee_income(app) == (Decimal("0"), 0, Decimal("0"))
    assert audit_of(app, "journal_entry", first["id"], "delete", since) == 1
    client.login(staff["finance"])
    approve(client, app, pk)
    [again] = journal_of(app, debtor)
    assert receipt(app, pk).journal_entry_id == again["id"] and allocations(app, pk) == 1
    assert "2026-000001" in again["note"]  # the receipt kept its number
    assert fee_income(app)[0] == Decimal("300.00")


@pytest.fixture
def posted(app, client, staff, debtor):
    """An approved receipt of the debtor and the journal entry it posted."""
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "300.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    [entry] = journal_of(app, debtor)
    return pk, entry["id"]


HELD = "属于收款"


def test_the_journal_screens_cannot_change_unlock_or_delete_a_receipt_s_entry(
        app, client, staff, debtor, posted):
    pk, entry_id = posted
    client.login(staff["manager"])
    html = client.post_form(f"/journal/edit/{entry_id}", {
        "entry_date": "2026-11-30", "client": str(debtor), "direction": "expense",
        "amount": "1.00"}).get_data(as_text=True)
    assert HELD in html
    resp = client.post_form(f"/journal/delete/{entry_id}", follow_redirects=True)
    assert HELD in resp.get_data(as_text=True)
    token = seen(app, "JournalEntry", entry_id)
    resp = client.post_form(f"/journal/step/unlock/{entry_id}",
                            {"version": token.split("@")[1] if "@" in token else "1",
                             "reason": "想改金额"}, follow_redirects=True)
    assert HELD in resp.get_data(as_text=True)
    resp = client.post_form("/journal/action_post", {"action": "approve", "rowid": [token]},
                            follow_redirects=True)
    assert HELD in resp.get_data(as_text=True)
    [entry] = journal_of(app, debtor)
    assert (entry["id"], entry["status"], entry["amount"]) == (entry_id, "approved",
                                                               Decimal("300.00"))
    assert receipt(app, pk).status == "approved"


def test_the_journal_api_cannot_change_unlock_or_delete_a_receipt_s_entry(
        app, staff, debtor, posted):
    from .test_journal_api import token

    pk, entry_id = posted
    c, h = app.test_client(), token(app, staff["manager"])
    version = c.get(f"/api/v1/journal/{entry_id}", headers=h).json["result"]["version"]
    resp = c.put(f"/api/v1/journal/{entry_id}", headers=h, json={"amount": "1.00"})
    assert resp.status_code == 422 and HELD in text_of(resp)
    resp = c.delete(f"/api/v1/journal/{entry_id}", headers=h)
    assert resp.status_code in (403, 422)
    for step, body in (("unlock", {"version": version, "reason": "想改"}),
                       ("approve", {"version": version})):
        resp = c.post(f"/api/v1/journal/{entry_id}/{step}", headers=h, json=body)
        assert resp.status_code == 422 and HELD in text_of(resp), step
    [entry] = journal_of(app, debtor)
    assert (entry["status"], entry["amount"]) == ("approved", Decimal("300.00"))


def test_the_api_refuses_a_client_s_income_on_the_journal(app, staff, debtor):
    from .test_journal_api import token

    c, h = app.test_client(), token(app, staff["acct"])
    resp = c.post("/api/v1/journal/", headers=h, json={
        "entry_date": "2026-11-30", "direction": "income", "amount": "300.00",
        "client": debtor})
    assert resp.status_code == 422
    assert "客户缴费请在收款中登记" in text_of(resp)
    assert journal_of(app, debtor) == []


def test_a_clerk_outside_the_scope_reaches_neither_the_receipt_nor_its_entry(
        app, client, staff, make_user, debtor, posted):
    """Another accountant types the debtor's receipt and journal ids: 404, nothing
    changes (and no entry is posted twice)."""
    from .test_journal_api import token

    pk, entry_id = posted
    stranger = make_user("Accountant")
    client.login(stranger)
    assert client.get(f"/journal/show/{entry_id}").status_code == 404
    assert client.get(f"/receipts/show/{pk}").status_code == 404
    # (no 解锁 permission for an accountant: 403 before the scope is asked)
    assert client.post_form(f"/journal/step/unlock/{entry_id}",
                            {"version": "1", "reason": "x"}).status_code in (403, 404)
    h = token(app, stranger)
    assert app.test_client().get(f"/api/v1/journal/{entry_id}", headers=h).status_code == 404
    assert app.test_client().post(f"/api/v1/receipts/{pk}/unlock", headers=h,
                                  json={"version": 1, "reason": "x"}).status_code == 404
    assert len(journal_of(app, debtor)) == 1 and receipt(app, pk).status == "approved"


# ---- the migration: fee journal entries become receipts -----------------------------------
from .test_migrations import fresh_app  # noqa: E402,F401  (fixture)


def test_the_migration_turns_fee_entries_into_receipts_with_equal_totals(fresh_app, capsys,  # noqa: F811
                                                                        caplog):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app.extensions import db

    fresh_app.config["AGENCYDESK_TODAY"] = "2026-11-30"
    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="3c1d9e7f2a10")  # before the ledger
        ids = {}
        for name, due in (("老客户甲", "2026-10-01"), ("老客户乙", "2027-01-01")):
            ids[name] = db.session.execute(text(
                "INSERT INTO client (name, credit_code, taxpayer_type, tax_device_type, "
                "tax_device_custody, provides_address, onsite_bookkeeping, ticket_pickup, "
                "billing_cycle, service_fee, billing_state, next_fee_date, status, created_on, "
                "changed_on) VALUES (:n, NULL, 'small', 'none', false, false, false, 'none', "
                "'month', 300, 'billed', :d, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                "RETURNING id"), {"n": name, "d": due}).scalar_one()
        a, b = ids["老客户甲"], ids["老客户乙"]
        for day, cid, direction, amount, status, start, end in (
                ("2025-03-02", a, "income", "900.00", "approved", "2025-03-01", "2025-05-31"),
                ("2025-03-02", b, "income", "300.00", "approved", "2025-03-01", "2025-03-31"),
                ("2026-02-10", a, "income", "1800.50", "approved", "2025-06-01", "2025-11-30"),
                ("2026-11-20", b, "income", "600.00", "pending", "2026-12-01", "2027-01-31"),
                ("2026-11-21", None, "income", "88.00", "approved", None, None),   # 利息
                ("2026-11-22", a, "expense", "50.00", "approved", None, None)):   # 垫付
            db.session.execute(text(
                "INSERT INTO journal_entry (entry_date, client_id, direction, amount, status, "
                "version, created_on, period_start, period_end, note, approved_at) VALUES "
                "(:d, :c, :dir, :amt, :s, 1, CURRENT_TIMESTAMP, :ps, :pe, '代账费', "
                "CURRENT_TIMESTAMP)"),
                {"d": day, "c": cid, "dir": direction, "amt": amount, "s": status,
                 "ps": start, "pe": end})
        db.session.commit()
        upgrade(directory=directory, revision="77aa3e8bb62b")  # open charges derived
        # a receipt approved on the ledger already holds 2026's first number
        db.session.execute(text(
            "INSERT INTO receipt (client_id, amount, received_on, status, number, "
            "number_year, number_seq, matched, refunded, version, created_on) VALUES "
            "(:c, 300, '2026-11-25', 'approved', '2026-000001', 2026, 1, 300, 0, 2, "
            "CURRENT_TIMESTAMP)"), {"c": a})
        db.session.execute(text("INSERT INTO receipt_counter (year, last) VALUES (2026, 1)"))
        db.session.commit()

        def open_charges():
            return [tuple(r) for r in db.session.execute(text(
                "SELECT client_id, due_date, amount, paid FROM charge WHERE state = 'open' "
                "ORDER BY client_id, due_date")).all()]

        def summary():
            return sorted(tuple(r) for r in db.session.execute(text(
                "SELECT year, month, direction, entries, cents FROM journal_month")).all())

        charges_before, summary_before = open_charges(), summary()
        assert len(charges_before) == 2  # 老客户甲 owes 2026-10 and 2026-11
        db.session.commit()  # the migration runs on its own connection: hold no lock
        capsys.readouterr()
        upgrade(directory=directory)
        printed = capsys.readouterr().out
        assert open_charges() == charges_before
        assert summary() == summary_before  # the approved entries are counted once, as before
        receipts = db.session.execute(text(
            "SELECT r.client_id, r.amount, r.received_on, r.status, r.number, "
            "r.journal_entry_id IS NOT NULL, r.matched FROM receipt r ORDER BY r.id")).all()
        got = [(r[0], Decimal(str(r[1])), str(r[2])[:10], r[3], r[4], bool(r[5]),
                Decimal(str(r[6]))) for r in receipts]
        assert got[1:] == [
            (a, Decimal("900"), "2025-03-02", "approved", "2025-000001", True, Decimal("900")),
            (b, Decimal("300"), "2025-03-02", "approved", "2025-000002", True, Decimal("300")),
            (a, Decimal("1800.5"), "2026-02-10", "approved", "2026-000002", True,
             Decimal("1800.5")),
            (b, Decimal("600"), "2026-11-20", "pending", None, False, Decimal("0"))]
        assert db.session.execute(text(
            "SELECT last FROM receipt_counter ORDER BY year")).scalars().all() == [2, 2]
        # each historical receipt pays its own settled charge, nothing else
        settled = db.session.execute(text(
            "SELECT ch.kind, ch.state, ch.amount, ch.paid, al.amount FROM charge ch "
            "JOIN allocation al ON al.charge_id = ch.id ORDER BY ch.id")).all()
        assert [(k, s) for k, s, *_ in settled] == [("historical", "paid")] * 3
        assert all(Decimal(str(x)) == Decimal(str(y)) == Decimal(str(z))
                   for _, _, x, y, z in settled)
        # one record: the pending fee entry is now only the pending receipt
        left = db.session.execute(text(
            "SELECT direction, client_id IS NULL, status FROM journal_entry "
            "ORDER BY entry_date")).all()
        assert [tuple(r) for r in left] == [("income", False, "approved"),
                                            ("income", False, "approved"),
                                            ("income", False, "approved"),
                                            ("income", True, "approved"),
                                            ("expense", False, "approved")]
        note = db.session.execute(text(
            "SELECT note FROM receipt WHERE status = 'pending'")).scalar()
        assert "2026-12-01 ~ 2027-01-31" in note
        db.session.commit()
        # going back would lose the receipts: refused, with the reason (Flask-Migrate
        # logs it and exits 1, as `flask db downgrade` does)
        with pytest.raises(SystemExit):
            downgrade(directory=directory, revision="77aa3e8bb62b")
        said = capsys.readouterr()
        assert "cannot be downgraded" in caplog.text + said.err + said.out
        db.session.rollback()
        assert db.session.execute(text(
            "SELECT count(*) FROM charge WHERE kind = 'historical'")).scalar() == 3
    assert ("before 3 approved fee journal entries (3000.50), 1 pending (600.00), "
            "2 open charges (600.00); after 3 approved receipts (3000.50), 1 pending "
            "receipts (600.00), 2 open charges (600.00)") in printed


# ---- refunds leave the cash book too ------------------------------------------------------
def test_a_refund_posts_one_expense_entry_held_like_the_receipt_s(app, client, staff, debtor,
                                                                   posted):
    """退款 250 of a 300 receipt: one approved expense entry of the client (代理记账费,
    the refund's date and amount, the 收据编号 and reason in its note), linked and
    audited; the month's fee income is 50 net; the journal screens cannot change it."""
    from app.extensions import db
    from app.models import Refund

    pk, receipt_entry = posted
    client.login(staff["manager"])
    since = last_audit(app)
    resp = client.post_form(f"/receipts/refund/{pk}", {"amount": "250", "reason": "多收退回"})
    assert resp.status_code == 302
    income, refund_entry = journal_of(app, debtor)
    assert income["id"] == receipt_entry
    assert refund_entry == dict(refund_entry, direction="expense", amount=Decimal("250.00"),
                                status="approved", category="代理记账费",
                                approved_by_id=staff["manager"].id)
    assert "多收退回" in refund_entry["note"] and "2026-000001" in refund_entry["note"]
    with app.app_context():
        [refund] = db.session.query(Refund).filter_by(receipt_id=pk).all()
        assert refund.journal_entry_id == refund_entry["id"]
    assert audit_of(app, "journal_entry", refund_entry["id"], "insert", since) == 1
    from app.services import stats

    with app.app_context():
        report = stats.monthly(2026)
        month = report.by_period[11]
        assert (month.income, month.expense) == (Decimal("300.00"), Decimal("250.00"))
    html = client.post_form(f"/journal/edit/{refund_entry['id']}", {
        "entry_date": "2026-11-30", "client": str(debtor), "direction": "expense",
        "amount": "1.00"}).get_data(as_text=True)
    assert HELD in html
    resp = client.post_form(f"/journal/delete/{refund_entry['id']}", follow_redirects=True)
    assert HELD in resp.get_data(as_text=True)
    assert journal_of(app, debtor)[1]["amount"] == Decimal("250.00")


def test_the_upgrade_posts_the_entries_of_earlier_refunds_once(app, client, staff, debtor,
                                                               posted):
    """Refunds made before revision a8e3f1c2d9b4 (no entry) get theirs from it; a
    refund that has one is left alone, and a second run posts nothing."""
    import importlib.util
    import pathlib

    from sqlalchemy import text

    from app.extensions import db

    pk, _ = posted
    client.login(staff["manager"])
    client.post_form(f"/receipts/refund/{pk}", {"amount": "100", "reason": "退一部分"})
    client.post_form(f"/receipts/refund/{pk}", {"amount": "50", "reason": "再退"})
    with app.app_context():  # the first refund as it was before the revision
        first = db.session.execute(text(
            "SELECT id, journal_entry_id FROM refund ORDER BY id LIMIT 1")).one()
        db.session.execute(text("UPDATE refund SET journal_entry_id = NULL WHERE id = :id"),
                           {"id": first.id})
        db.session.execute(text("DELETE FROM journal_entry WHERE id = :id"),
                           {"id": first.journal_entry_id})
        db.session.commit()
    path = next(pathlib.Path("migrations/versions").glob("a8e3f1c2d9b4_*.py"))
    spec = importlib.util.spec_from_file_location("refund_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with app.app_context():
        with db.engine.begin() as conn:
            assert "1 journal expense entries posted" in module.post_missing_entries(conn)
        with db.engine.begin() as conn:
            assert "0 journal expense entries posted" in module.post_missing_entries(conn)
    expenses = [e for e in journal_of(app, debtor) if e["direction"] == "expense"]
    assert sorted(e["amount"] for e in expenses) == [Decimal("50.00"), Decimal("100.00")]
