"""应收 as Finance uses it, on SQLite and PostgreSQL: the charge run (the issue's
client owes two periods; a rerun or a second machine charges once), receipts
approved once and matched oldest first with a prepayment, locked receipts, refunds,
write-offs, statements whose closing balance adds up, gapless 收据 numbers, and the
migration's derived charges."""
import datetime
import io
import random
import re
import threading
from decimal import Decimal

import pytest

from ..conftest import seen
from .test_journal import finance_roles  # noqa: F401  (fixture)

D = datetime.date
TODAY = D(2026, 11, 30)


@pytest.fixture
def pinned(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


@pytest.fixture
def staff(make_user, finance_roles, pinned):  # noqa: F811
    finance_roles("Accountant", "Finance", "Manager")
    return {"acct": make_user("Accountant"), "finance": make_user("Finance"),
            "finance2": make_user("Finance"), "manager": make_user("Manager")}


@pytest.fixture
def debtor(make_client, staff):
    """The issue's client: monthly, 300 a month, 下次收费日期 2026-10-01."""
    return make_client(name="两期欠费有限公司", bookkeeper=staff["acct"], billing_cycle="month",
                       service_fee=Decimal("300.00"), next_fee_date=D(2026, 10, 1))


def run_charges(app, today=TODAY):
    from app.services.ledger import generate_charges

    with app.app_context():
        return generate_charges(today)


def charges_of(app, cid):
    from app.extensions import db
    from app.models import Charge

    with app.app_context():
        return [(c.due_date, c.amount, c.paid, c.state) for c in db.session.query(Charge)
                .filter_by(client_id=cid).order_by(Charge.due_date, Charge.id)]


def add_receipt(app, cid, author, amount, on=TODAY):
    from app.extensions import db
    from app.models import Receipt

    with app.app_context():
        r = Receipt(client_id=cid, amount=Decimal(amount), received_on=on, status="pending",
                    version=1, created_by_id=author.id)
        db.session.add(r)
        db.session.commit()
        return r.id


def approve(web, app, pk):
    return web.post_form("/receipts/action_post",
                         {"action": "approve", "rowid": [seen(app, "Receipt", pk)]})


def receipt(app, pk):
    from app.extensions import db
    from app.models import Receipt

    with app.app_context():
        r = db.session.get(Receipt, pk)
        db.session.expunge(r)
        return r


def allocations(app, pk=None):
    from app.extensions import db
    from app.models import Allocation

    with app.app_context():
        q = db.session.query(Allocation)
        if pk is not None:
            q = q.filter_by(receipt_id=pk)
        return q.count()


def row_of(html, text):
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


def cells(row):
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


# ---- the charge run ---------------------------------------------------------------------
def test_the_issue_example_owes_two_periods(app, client, staff, debtor):
    assert run_charges(app) == 2
    assert [c[0] for c in charges_of(app, debtor)] == [D(2026, 10, 1), D(2026, 11, 1)]
    client.login(staff["finance"])
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "两期欠费有限公司"))[-3:] == ["2026-10-01", "2", "600.00"]


def test_a_rerun_charges_nothing_twice(app, staff, debtor):
    run_charges(app)
    assert run_charges(app) == 0
    assert len(charges_of(app, debtor)) == 2
    assert run_charges(app, D(2026, 12, 1)) == 1  # the next fee date arrives
    assert len(charges_of(app, debtor)) == 3


def test_two_machines_running_the_charge_run_at_once_charge_once(app, staff, make_client):
    for i in range(30):
        make_client(name=f"并发客户{i}", billing_cycle="month", service_fee=Decimal("100"),
                    next_fee_date=D(2026, 10, 1))
    from app.extensions import db
    from app.models import Charge

    barrier = threading.Barrier(2)
    errors = []

    def run():
        from app.services.ledger import generate_charges

        with app.app_context():
            try:
                barrier.wait(5)
                generate_charges(TODAY, chunk_size=7)
            except Exception as exc:  # noqa: BLE001 - SQLite may refuse the second writer
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    run_charges(app)  # whoever was refused: the next tick finishes the work
    with app.app_context():
        assert db.session.query(Charge).count() == 60
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert not errors, errors


def test_the_charge_run_is_a_scheduled_job_that_runs_with_the_pinned_day(app, staff, debtor):
    from sqlalchemy import select

    from app import scheduler
    from app.extensions import db
    from app.models import ScheduledJob

    with app.app_context():
        scheduler.ensure_jobs()
        job = db.session.execute(select(ScheduledJob).where(
            ScheduledJob.code == "generate_charges")).scalar_one()
        outcome = scheduler.run_now(job)
        assert outcome.status == "ran", outcome
    assert len(charges_of(app, debtor)) == 2


def test_no_charge_after_the_contract_term_nor_for_free_clients(app, staff, make_client):
    ended = make_client(billing_cycle="month", service_fee=Decimal("100"),
                        next_fee_date=D(2026, 9, 1), contract_end=D(2026, 10, 15))
    free = make_client(billing_cycle="month", service_fee=Decimal("100"),
                       billing_state="free", next_fee_date=D(2026, 9, 1))
    run_charges(app)
    assert [c[0] for c in charges_of(app, ended)] == [D(2026, 9, 1), D(2026, 10, 1)]
    assert charges_of(app, free) == []


# ---- receipts: 审核 matches once -----------------------------------------------------------
def test_an_approved_receipt_is_numbered_and_matched_oldest_first(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    client.login(staff["finance"])
    assert approve(client, app, pk).status_code == 302
    r = receipt(app, pk)
    assert r.status == "approved" and r.number == "2026-000001"
    assert r.matched == Decimal("450.00")
    assert charges_of(app, debtor) == [
        (D(2026, 10, 1), Decimal("300.00"), Decimal("300.00"), "paid"),
        (D(2026, 11, 1), Decimal("300.00"), Decimal("150.00"), "open")]
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "两期欠费有限公司"))[-3:] == ["2026-11-01", "1", "150.00"]


def test_approving_twice_matches_once(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    client.login(staff["finance"])
    token = seen(app, "Receipt", pk)
    client.post_form("/receipts/action_post", {"action": "approve", "rowid": [token]})
    client.post_form("/receipts/action_post", {"action": "approve", "rowid": [token]})
    assert allocations(app, pk) == 2
    assert receipt(app, pk).matched == Decimal("450.00")


def test_two_clerks_approving_at_once_match_once(app, staff, debtor):
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

    threads = [threading.Thread(target=go, args=(u,)) for u in (staff["finance"], staff["finance2"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(1) == 1, results
    assert allocations(app, pk) == 2
    assert receipt(app, pk).matched == Decimal("450.00")


def test_the_author_cannot_approve_his_own_receipt(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["finance"], "300.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    assert receipt(app, pk).status == "pending" and allocations(app, pk) == 0


def test_a_prepayment_pays_the_next_charges(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "1000.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    assert receipt(app, pk).matched == Decimal("600.00")  # 400.00 预收
    run_charges(app, D(2026, 12, 1))
    assert receipt(app, pk).matched == Decimal("900.00")
    assert [c[3] for c in charges_of(app, debtor)] == ["paid", "paid", "paid"]
    from app.extensions import db
    from app.models import Client

    with app.app_context():  # 下次收费日期 is derived: the first fee date not paid
        assert db.session.get(Client, debtor).next_fee_date == D(2027, 1, 1)


def test_a_locked_receipt_refuses_edits_and_unlock_takes_the_matches_back(app, client, staff,
                                                                           debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "300.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    resp = client.post_form(f"/receipts/edit/{pk}", {
        "client": str(debtor), "received_on": "2026-11-30", "amount": "1.00"})
    assert resp.status_code == 422
    assert receipt(app, pk).amount == Decimal("300.00")
    client.post_form(f"/receipts/delete/{pk}")
    assert receipt(app, pk) is not None
    # a finance clerk may not unlock; a manager may, with a reason
    version = str(receipt(app, pk).version)
    client.post_form(f"/receipts/step/unlock/{pk}", {"version": version, "reason": "错"})
    assert receipt(app, pk).status == "approved"
    client.login(staff["manager"])
    resp = client.post_form(f"/receipts/step/unlock/{pk}", {"version": version,
                                                           "reason": "金额录错"})
    assert resp.status_code == 302
    r = receipt(app, pk)
    assert r.status == "pending" and r.matched == 0 and allocations(app, pk) == 0
    assert [c[3] for c in charges_of(app, debtor)] == ["open", "open"]
    client.login(staff["finance"])
    approve(client, app, pk)
    assert receipt(app, pk).number == "2026-000001"  # keeps its number


# ---- refunds and write-offs ----------------------------------------------------------------
def test_a_refund_beyond_the_prepayment_reopens_the_latest_charge(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "700.00")
    client.login(staff["finance"])
    approve(client, app, pk)  # 600 matched, 100 预收
    assert client.get(f"/receipts/refund/{pk}").status_code in (302, 403)  # not Finance's
    client.login(staff["manager"])
    resp = client.post_form(f"/receipts/refund/{pk}", {"amount": "250", "reason": "多收退回"})
    assert resp.status_code == 302
    r = receipt(app, pk)
    assert r.refunded == Decimal("250.00") and r.matched == Decimal("450.00")
    assert charges_of(app, debtor)[1][2:] == (Decimal("150.00"), "open")
    resp = client.post_form(f"/receipts/refund/{pk}", {"amount": "451", "reason": "太多"})
    assert resp.status_code == 422 and receipt(app, pk).refunded == Decimal("250.00")


def test_a_manager_writes_off_bad_debt_with_a_reason(app, client, staff, debtor):
    from app.extensions import db
    from app.models import Charge

    run_charges(app)
    with app.app_context():
        first = db.session.query(Charge).filter_by(client_id=debtor).order_by(Charge.due_date).first().id
    client.login(staff["finance"])
    assert client.post_form(f"/charges/write-off/{first}", {"reason": "x"}).status_code in (302, 403)
    assert charges_of(app, debtor)[0][3] == "open"
    client.login(staff["manager"])
    assert client.post_form(f"/charges/write-off/{first}", {"reason": ""}).status_code == 422
    assert client.post_form(f"/charges/write-off/{first}",
                            {"reason": "客户已注销，无法收回"}).status_code == 302
    assert charges_of(app, debtor)[0][3] == "written_off"
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "两期欠费有限公司"))[-3:] == ["2026-11-01", "1", "300.00"]


def test_a_one_off_charge_is_added_and_paid_from_a_prepayment(app, client, staff, debtor):
    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "800.00")
    client.login(staff["finance"])
    approve(client, app, pk)
    resp = client.post_form("/charges/add", {"client": str(debtor), "kind": "one_off",
                                             "description": "工商变更费", "amount": "200",
                                             "due_date": "2026-11-30"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert receipt(app, pk).matched == Decimal("800.00")
    resp = client.post_form("/charges/add", {"client": str(debtor), "kind": "periodic",
                                             "amount": "200", "due_date": "2026-11-30"})
    assert len(charges_of(app, debtor)) == 3


# ---- statements ------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_statement_closing_balance_adds_up_for_random_histories(app, client, staff,
                                                                    make_client, seed):
    from app.extensions import db
    from app.models import Charge, Receipt
    from app.services import ledger as svc
    from app.services import transitions

    rnd = random.Random(seed)
    cid = make_client(name="对账客户有限公司", bookkeeper=staff["acct"], billing_cycle="month",
                      service_fee=Decimal(rnd.randrange(100, 900)), next_fee_date=D(2026, 1, 15))
    run_charges(app, D(2026, 11, 30))
    with app.app_context():
        for _ in range(rnd.randrange(3, 8)):
            r = Receipt(client_id=cid, amount=Decimal(rnd.randrange(1, 200000)) / 100,
                        received_on=D(2026, rnd.randrange(1, 12), rnd.randrange(1, 28)),
                        status="pending", version=1, created_by_id=staff["acct"].id)
            db.session.add(r)
            db.session.commit()
            transitions.fire(Receipt, [r], "approve", staff["finance"],
                             datetime.datetime(2026, 11, 30, 9), seen={r.id: 1})
        for r in db.session.query(Receipt).filter_by(client_id=cid).all():
            if rnd.random() < 0.5:
                most = r.amount - r.refunded
                svc.refund(r, (most * Decimal(rnd.random())).quantize(Decimal("0.01")) or
                           Decimal("0.01"), "退", staff["manager"],
                           D(2026, rnd.randrange(1, 12), rnd.randrange(1, 28)))
        for ch in db.session.query(Charge).filter_by(client_id=cid, state="open").all():
            if rnd.random() < 0.3:
                svc.write_off(ch, "坏账", staff["manager"], D(2026, 11, rnd.randrange(1, 30)))
        start = D(2026, rnd.randrange(1, 7), 1)
        end = D(2026, rnd.randrange(7, 12), 28)
        st = svc.client_statement(cid, start, end)
        charges = sum((c.amount for c in db.session.query(Charge).filter_by(client_id=cid)
                       if c.due_date <= end), Decimal(0))
        receipts = sum((r.amount for r in db.session.query(Receipt).filter_by(client_id=cid)
                        if r.received_on <= end), Decimal(0))
        from app.models import Refund

        refunds = sum((f.amount for f in db.session.query(Refund).filter_by(client_id=cid)
                       if f.refunded_on <= end), Decimal(0))
        offs = sum((c.written_off for c in db.session.query(Charge).filter_by(client_id=cid)
                    if c.written_off_on and c.written_off_on <= end), Decimal(0))
    assert st.closing == charges - receipts + refunds - offs
    client.login(staff["finance"])
    html = client.get(f"/statement/?client={cid}&start={start}&end={end}").get_data(as_text=True)
    from app.domain.ledger import yuan

    assert yuan(st.closing) in html and yuan(st.opening) in html
    resp = client.get(f"/statement/export.xlsx?client={cid}&start={start}&end={end}")
    assert resp.status_code == 200
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    last = list(sheet.iter_rows(values_only=True))[-1]
    assert Decimal(str(last[-1])) == st.closing


def test_the_statement_of_a_client_one_may_not_see_is_404(app, client, staff, make_client):
    other = make_client(name="别人的客户有限公司")
    client.login(staff["acct"])
    assert client.get(f"/statement/?client={other}").status_code == 404
    assert client.get("/statement/?client=别人的客户有限公司").status_code == 404
    assert client.get(f"/statement/export.xlsx?client={other}").status_code in (403, 404)


# ---- 收据 ---------------------------------------------------------------------------------------
def test_the_printed_receipt_shows_chinese_money(app, client, staff, debtor):
    pk = add_receipt(app, debtor, staff["acct"], "1234.50")
    client.login(staff["finance"])
    assert client.get(f"/receipts/print/{pk}").status_code == 404  # not approved yet
    approve(client, app, pk)
    html = client.get(f"/receipts/print/{pk}").get_data(as_text=True)
    assert "¥1,234.50" in html and "壹仟贰佰叁拾肆元伍角整" in html and "2026-000001" in html


def test_receipt_numbers_have_no_gaps_under_concurrent_approvals(app, staff, make_client):
    from app.extensions import db
    from app.models import Receipt
    from app.services import transitions

    cid = make_client(billing_cycle="month", service_fee=Decimal("100"))
    pks = [add_receipt(app, cid, staff["acct"], "10.00") for _ in range(12)]
    barrier = threading.Barrier(2)
    errors = []

    def go(user, mine):
        with app.app_context():
            barrier.wait(5)
            for pk in mine:
                for _attempt in range(20):
                    try:
                        item = db.session.get(Receipt, pk)
                        transitions.fire(Receipt, [item], "approve", user,
                                         datetime.datetime(2026, 11, 30, 10), seen={pk: 1})
                        break
                    except Exception as exc:  # noqa: BLE001 - SQLite busy: try again
                        db.session.rollback()
                        errors.append(exc)
            db.session.remove()

    threads = [threading.Thread(target=go, args=(staff["finance"], pks[0::2])),
               threading.Thread(target=go, args=(staff["finance2"], pks[1::2]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with app.app_context():
        seqs = sorted(r.number_seq for r in db.session.query(Receipt).filter(Receipt.id.in_(pks)))
    assert seqs == list(range(1, 13))
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert not errors, errors


# ---- scope -------------------------------------------------------------------------------------
def test_an_accountant_sees_only_his_clients_receipts_and_charges(app, client, staff, debtor,
                                                                   make_client):
    other = make_client(name="别人欠费有限公司", billing_cycle="month",
                        service_fee=Decimal("300"), next_fee_date=D(2026, 10, 1))
    run_charges(app)
    theirs = add_receipt(app, other, staff["finance"], "100.00")
    client.login(staff["acct"])
    html = client.get("/charges/list/").get_data(as_text=True)
    assert "两期欠费有限公司" in html and "别人欠费有限公司" not in html
    assert client.get(f"/receipts/show/{theirs}").status_code == 404
    assert client.get(f"/receipts/print/{theirs}").status_code == 404


# ---- the API -------------------------------------------------------------------------------------
def test_the_api_approves_once_and_a_locked_receipt_refuses_changes(app, staff, debtor,
                                                                   make_client):
    from .test_journal_api import token

    run_charges(app)
    pk = add_receipt(app, debtor, staff["acct"], "450.00")
    c, h = app.test_client(), token(app, staff["finance"])
    assert c.post(f"/api/v1/receipts/{pk}/approve", json={"version": 1}, headers=h).status_code == 200
    assert c.post(f"/api/v1/receipts/{pk}/approve", json={"version": 1}, headers=h).status_code == 409
    assert allocations(app, pk) == 2 and receipt(app, pk).number == "2026-000001"
    resp = c.put(f"/api/v1/receipts/{pk}", headers=h, json={"amount": "1.00"})
    assert resp.status_code == 422 and receipt(app, pk).amount == Decimal("450.00")
    assert c.delete(f"/api/v1/receipts/{pk}", headers=h).status_code in (403, 422)
    # an accountant: his client's receipts only
    other = make_client(name="接口别人的客户")
    theirs = add_receipt(app, other, staff["finance"], "10.00")
    ha = token(app, staff["acct"])
    assert c.get(f"/api/v1/receipts/{theirs}", headers=ha).status_code == 404
    assert c.get(f"/api/v1/receipts/{pk}", headers=ha).status_code == 200


# ---- the migration -------------------------------------------------------------------------------
from .test_migrations import fresh_app  # noqa: E402,F401  (fixture)


def test_the_migration_derives_open_charges_and_reports_equal_totals(fresh_app, capsys):  # noqa: F811
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db

    fresh_app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="e7adfabbc262")
        for name, fee, due, cycle, state in (
                ("两期欠费", "300.00", "2026-10-01", "month", "billed"),
                ("按季", "900.00", "2026-06-30", "quarter", "billed"),
                ("预付到明年", "300.00", "2027-03-01", "month", "billed"),
                ("免费", "300.00", "2026-01-01", "month", "free")):
            db.session.execute(text(
                "INSERT INTO client (name, credit_code, taxpayer_type, tax_device_type, "
                "tax_device_custody, provides_address, onsite_bookkeeping, ticket_pickup, "
                "billing_cycle, service_fee, billing_state, next_fee_date, status, created_on, "
                "changed_on) VALUES (:n, NULL, 'small', 'none', false, false, false, 'none', "
                ":c, :f, :s, :d, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"n": name, "c": cycle, "f": fee, "s": state, "d": due})
        db.session.commit()
        upgrade(directory=directory)
        rows = db.session.execute(text(
            "SELECT c.name, ch.period, ch.amount FROM charge ch JOIN client c "
            "ON c.id = ch.client_id ORDER BY c.name, ch.period")).all()
        got = [(r[0], r[1], Decimal(str(r[2]))) for r in rows]
        assert got == [("两期欠费", "2026-10-01", Decimal("300")),
                       ("两期欠费", "2026-11-01", Decimal("300")),
                       ("按季", "2026-06-30", Decimal("900")),
                       ("按季", "2026-09-30", Decimal("900"))]
        nxt = db.session.execute(text(
            "SELECT s.next_due FROM fee_schedule s JOIN client c ON c.id = s.client_id "
            "WHERE c.name = '两期欠费'")).scalar()
        assert str(nxt)[:10] == "2026-12-01"
    out = capsys.readouterr().out
    assert "3 billed clients, 4 open charges derived (2400.00)" in out
    assert "before (periods × fee) 2400.00, after (open charges) 2400.00" in out
