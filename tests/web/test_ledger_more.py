"""应收, the rest of issue 14, on SQLite and PostgreSQL: Finance matches receipts by
hand (手工核销) and undoes matches; adjustments (调整) count only once someone other
than their author approved them; a client back from 停止计费 is not charged for the
time he was stopped; 下次收费日期 is the ledger's, never typed; the home page's money
figures come from the ledger, scoped; the migration's report adds up."""
import re
import threading
from decimal import Decimal

import pytest

from ..conftest import seen
from .test_journal import finance_roles  # noqa: F401  (fixture)
from .test_ledger import (TODAY, D, add_receipt, approve, cells, charges_of, pinned,  # noqa: F401
                          receipt, row_of, run_charges)


@pytest.fixture
def staff(make_user, finance_roles, pinned):  # noqa: F811
    finance_roles("Accountant", "Finance", "Manager")
    return {"acct": make_user("Accountant"), "acct2": make_user("Accountant"),
            "finance": make_user("Finance"), "finance2": make_user("Finance"),
            "manager": make_user("Manager")}


@pytest.fixture
def debtor(make_client, staff):
    """Monthly, 300 a month, 下次收费日期 2026-10-01: owes 2026-10-01 and 2026-11-01."""
    return make_client(name="手工核销有限公司", bookkeeper=staff["acct"], billing_cycle="month",
                       service_fee=Decimal("300.00"), next_fee_date=D(2026, 10, 1))


def charge_ids(app, cid):
    from app.extensions import db
    from app.models import Charge

    with app.app_context():
        return [c.id for c in db.session.query(Charge).filter_by(client_id=cid)
                .order_by(Charge.due_date, Charge.id)]


def matches(app, pk):
    """[(charge id, amount, by hand)] of a receipt."""
    from app.extensions import db
    from app.models import Allocation

    with app.app_context():
        return [(a.charge_id, a.amount, a.manual) for a in db.session.query(Allocation)
                .filter_by(receipt_id=pk).order_by(Allocation.id)]


def token(web, pk):
    html = web.get(f"/receipts/match/{pk}").get_data(as_text=True)
    return re.search(r'name="seen" value="([^"]+)"', html).group(1)


def approved_receipt(app, web, staff, cid, amount):
    pk = add_receipt(app, cid, staff["acct"], amount)
    web.login(staff["finance"])
    approve(web, app, pk)
    assert receipt(app, pk).status == "approved"
    return pk


def invariants_hold(app):
    """Nothing over-matched anywhere: the sums of the matches are what the charges
    and receipts say, within their amounts."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Allocation, Charge, Receipt

    with app.app_context():
        by_charge = dict(db.session.execute(select(Allocation.charge_id, func.sum(
            Allocation.amount)).group_by(Allocation.charge_id)).all())
        by_receipt = dict(db.session.execute(select(Allocation.receipt_id, func.sum(
            Allocation.amount)).group_by(Allocation.receipt_id)).all())
        for ch in db.session.query(Charge):
            assert ch.paid == by_charge.get(ch.id, 0) and ch.paid + ch.written_off <= ch.amount
        for r in db.session.query(Receipt):
            assert r.matched == by_receipt.get(r.id, 0) and r.matched + r.refunded <= r.amount


# ---- 手工核销 ---------------------------------------------------------------------------------
def test_finance_moves_a_match_by_hand_and_the_charge_run_leaves_it_there(app, client, staff,
                                                                          debtor):
    run_charges(app)
    october, november = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "300.00")
    assert matches(app, pk) == [(october, Decimal("300.00"), False)]  # oldest first
    (alloc,) = re.findall(r'name="allocation" value="(\d+)"',
                          client.get(f"/receipts/match/{pk}").get_data(as_text=True))
    resp = client.post_form(f"/receipts/unmatch/{pk}", {"allocation": alloc,
                                                        "seen": token(client, pk)})
    assert resp.status_code == 302
    assert receipt(app, pk).matched == 0 and receipt(app, pk).match_by_hand
    resp = client.post_form(f"/receipts/match/{pk}", {f"amount_{november}": "300",
                                                      "seen": token(client, pk)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    assert matches(app, pk) == [(november, Decimal("300.00"), True)]
    assert [c[3] for c in charges_of(app, debtor)] == ["open", "paid"]
    # the next charge run, a new charge, a second receipt: the hand match stays
    run_charges(app, D(2026, 12, 1))
    assert matches(app, pk) == [(november, Decimal("300.00"), True)]
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "手工核销有限公司"))[-3:] == ["2026-10-01", "1", "300.00"]
    invariants_hold(app)


def test_a_partial_match_by_hand_and_its_rest_is_not_taken_automatically(app, client, staff,
                                                                         debtor):
    run_charges(app)
    october, november = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "700.00")  # 600 matched, 100 预收
    resp = client.post_form(f"/receipts/match/{pk}", {f"amount_{october}": "1",
                                                      "seen": token(client, pk)})
    assert resp.status_code == 422  # october is paid already: not open
    assert receipt(app, pk).matched == Decimal("600.00")
    # a one-off charge: Finance pays part of it by hand, the rest of the money stays
    resp = client.post_form("/charges/add", {"client": str(debtor), "kind": "one_off",
                                             "description": "工商变更费", "amount": "80",
                                             "due_date": "2026-11-30"})
    assert resp.status_code == 302
    assert receipt(app, pk).matched == Decimal("680.00")  # automatic: the prepayment paid it
    fee = charge_ids(app, debtor)[-1]
    client.post_form(f"/receipts/unmatch/{pk}", {
        "allocation": str(max(a for a in _alloc_ids(app, pk))), "seen": token(client, pk)})
    assert receipt(app, pk).matched == Decimal("600.00")
    resp = client.post_form(f"/receipts/match/{pk}", {f"amount_{fee}": "30.50",
                                                      "seen": token(client, pk)})
    assert resp.status_code == 302
    assert receipt(app, pk).matched == Decimal("630.50")
    client.post_form("/charges/add", {"client": str(debtor), "kind": "one_off",
                                      "description": "地址费", "amount": "10",
                                      "due_date": "2026-11-30"})
    assert receipt(app, pk).matched == Decimal("630.50")  # by hand: left alone
    client.post_form(f"/receipts/automatch/{pk}", {"seen": token(client, pk)})
    r = receipt(app, pk)
    assert r.matched == Decimal("690.00") and not r.match_by_hand  # 80 + 10 all paid
    invariants_hold(app)


def _alloc_ids(app, pk):
    from app.extensions import db
    from app.models import Allocation

    with app.app_context():
        return [a.id for a in db.session.query(Allocation).filter_by(receipt_id=pk)]


def test_matching_by_hand_never_over_matches(app, client, staff, debtor):
    run_charges(app)
    october, november = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "300.00")
    client.post_form(f"/receipts/unmatch/{pk}", {"allocation": str(_alloc_ids(app, pk)[0]),
                                                 "seen": token(client, pk)})
    for form in ({f"amount_{november}": "300.01"},                      # more than the charge
                 {f"amount_{october}": "200", f"amount_{november}": "200"},  # than the receipt
                 {f"amount_{october}": "NaN"}, {f"amount_{october}": "Infinity"},
                 {f"amount_{october}": "-5"}, {f"amount_{october}": "1e3"},
                 {f"amount_{october}": "1\x00"}, {}):
        resp = client.post_form(f"/receipts/match/{pk}", {**form, "seen": token(client, pk)})
        assert resp.status_code in (400, 422), form  # a NUL byte: 400 before the view
        assert matches(app, pk) == [], form
    for key in ("amount_9999999999999999999999999", "amount_abc", "amount_0"):
        resp = client.post_form(f"/receipts/match/{pk}", {key: "1", "seen": token(client, pk)})
        assert resp.status_code == 404
    assert receipt(app, pk).matched == 0
    invariants_hold(app)


def test_another_clients_charge_or_match_is_404_and_changes_nothing(app, client, staff, debtor,
                                                                     make_client):
    other = make_client(name="别的客户有限公司", billing_cycle="month",
                        service_fee=Decimal("300"), next_fee_date=D(2026, 10, 1))
    run_charges(app)
    theirs = charge_ids(app, other)[0]
    pk = approved_receipt(app, client, staff, debtor, "900.00")  # 300 预收
    resp = client.post_form(f"/receipts/match/{pk}", {f"amount_{theirs}": "100",
                                                      "seen": token(client, pk)})
    assert resp.status_code == 404
    their_receipt = approved_receipt(app, client, staff, other, "100.00")
    their_alloc = _alloc_ids(app, their_receipt)[0]
    resp = client.post_form(f"/receipts/unmatch/{pk}", {"allocation": str(their_alloc),
                                                        "seen": token(client, pk)})
    assert resp.status_code == 404
    assert charges_of(app, other)[0][2] == Decimal("100.00")
    assert receipt(app, pk).matched == Decimal("600.00")
    invariants_hold(app)


def test_a_clerk_matches_only_receipts_of_his_clients(app, client, staff, debtor, make_client,
                                                      grant):
    grant("Accountant", "can_match", "ReceiptModelView")
    other = make_client(name="别人的预收有限公司", bookkeeper=staff["acct2"],
                        billing_cycle="month", service_fee=Decimal("300"),
                        next_fee_date=D(2026, 10, 1))
    run_charges(app)
    theirs = approved_receipt(app, client, staff, other, "1000.00")
    mine = approved_receipt(app, client, staff, debtor, "100.00")
    client.login(staff["acct"])
    assert client.get(f"/receipts/match/{mine}").status_code == 200
    assert client.get(f"/receipts/match/{theirs}").status_code == 404
    for path in (f"/receipts/match/{theirs}", f"/receipts/unmatch/{theirs}",
                 f"/receipts/automatch/{theirs}"):
        resp = client.post_form(path, {f"amount_{charge_ids(app, other)[1]}": "1",
                                       "allocation": str(_alloc_ids(app, theirs)[0]),
                                       "seen": "x"})
        assert resp.status_code == 404, path
    assert receipt(app, theirs).matched == Decimal("600.00")
    client.login(staff["manager"])
    assert client.get(f"/receipts/match/{theirs}").status_code == 200


def test_a_double_submit_matches_once(app, client, staff, debtor):
    run_charges(app)
    october, november = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "300.00")
    client.post_form(f"/receipts/unmatch/{pk}", {"allocation": str(_alloc_ids(app, pk)[0]),
                                                 "seen": token(client, pk)})
    form = {f"amount_{october}": "100", "seen": token(client, pk)}
    assert client.post_form(f"/receipts/match/{pk}", form).status_code == 302
    assert client.post_form(f"/receipts/match/{pk}", form).status_code == 422
    assert receipt(app, pk).matched == Decimal("100.00")
    undo = {"allocation": str(_alloc_ids(app, pk)[0]), "seen": token(client, pk)}
    assert client.post_form(f"/receipts/unmatch/{pk}", undo).status_code == 302
    assert client.post_form(f"/receipts/unmatch/{pk}", undo).status_code in (404, 422)
    assert receipt(app, pk).matched == 0
    invariants_hold(app)


def test_two_clerks_matching_the_same_money_at_once_match_it_once(app, staff, debtor):
    from app.extensions import db
    from app.models import Receipt
    from app.services import ledger as svc

    run_charges(app)
    october, november = charge_ids(app, debtor)
    with app.app_context():
        r = Receipt(client_id=debtor, amount=Decimal("300"), received_on=TODAY,
                    status="approved", version=2, created_by_id=staff["acct"].id,
                    match_by_hand=True)
        db.session.add(r)
        db.session.commit()
        pk = r.id
        seen_token = svc.match_token(db.session.connection(), pk)
        db.session.rollback()
    barrier = threading.Barrier(2)
    results = []

    def go(user, charge):
        with app.app_context():
            try:
                item = db.session.get(Receipt, pk)
                barrier.wait(5)
                results.append(svc.hand_match(item, {charge: Decimal("300")}, seen_token, user))
            except Exception as exc:  # noqa: BLE001 - the second finds the page stale
                results.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=(staff["finance"], october)),
               threading.Thread(target=go, args=(staff["finance2"], november))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(Decimal("300")) == 1, results
    assert receipt(app, pk).matched == Decimal("300.00")
    invariants_hold(app)


def test_a_refund_takes_back_automatic_matches_before_hand_made_ones(app, client, staff,
                                                                     debtor):
    run_charges(app)
    october, november = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "600.00")  # both, automatically
    client.post_form(f"/receipts/unmatch/{pk}", {"allocation": str(_alloc_ids(app, pk)[0]),
                                                 "seen": token(client, pk)})
    client.post_form(f"/receipts/match/{pk}", {f"amount_{october}": "300",
                                               "seen": token(client, pk)})
    client.login(staff["manager"])
    client.post_form(f"/receipts/refund/{pk}", {"amount": "300", "reason": "多收退回"})
    assert matches(app, pk) == [(october, Decimal("300.00"), True)]
    invariants_hold(app)


def test_matching_by_hand_is_audited(app, client, staff, debtor):
    from app.extensions import db
    from app.models import AuditLog

    run_charges(app)
    october, _ = charge_ids(app, debtor)
    pk = approved_receipt(app, client, staff, debtor, "300.00")
    client.post_form(f"/receipts/unmatch/{pk}", {"allocation": str(_alloc_ids(app, pk)[0]),
                                                 "seen": token(client, pk)})
    client.post_form(f"/receipts/match/{pk}", {f"amount_{october}": "120.35",
                                               "seen": token(client, pk)})
    with app.app_context():
        rows = db.session.query(AuditLog).filter_by(table_name="receipt", row_id=str(pk)).all()
        actions = [r.action for r in rows]
        assert "unmatch" in actions and actions.count("match") >= 2
        assert any("120.35" in str(r.changes) and r.user_id == staff["finance"].id
                   for r in rows if r.action == "match")


# ---- 调整: approved, never by its author ------------------------------------------------------
def add_adjustment(web, cid, amount="200", reason="上月少收的代账费", due="2026-11-15"):
    return web.post_form("/charges/add", {"client": str(cid), "kind": "adjustment",
                                          "description": reason, "amount": amount,
                                          "due_date": due})


def adjustment_of(app, cid):
    from app.extensions import db
    from app.models import Charge

    with app.app_context():
        ch = db.session.query(Charge).filter_by(client_id=cid, kind="adjustment").one()
        db.session.expunge(ch)
        return ch


def test_an_adjustment_counts_only_once_someone_else_approved_it(app, client, staff, debtor):
    run_charges(app)
    client.login(staff["finance"])
    assert add_adjustment(client, debtor).status_code == 302
    adj = adjustment_of(app, debtor)
    assert adj.state == "pending"
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "手工核销有限公司"))[-3:] == ["2026-10-01", "2", "600.00"]
    statement = client.get(f"/statement/?client={debtor}&start=2026-01-01&end=2026-11-30")
    assert "上月少收的代账费" not in statement.get_data(as_text=True)
    # its author may not approve it
    client.post_form("/charges/action_post", {"action": "approve",
                                              "rowid": [seen(app, "Charge", adj.id)]})
    assert adjustment_of(app, debtor).state == "pending"
    client.login(staff["finance2"])
    home = client.get("/").get_data(as_text=True)
    assert "待审核的调整" in home or "Adjustments waiting for approval" in home
    client.post_form("/charges/action_post", {"action": "approve",
                                              "rowid": [seen(app, "Charge", adj.id)]})
    adj = adjustment_of(app, debtor)
    assert adj.state == "open" and adj.approved_by_id == staff["finance2"].id
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "手工核销有限公司"))[-1] == "800.00"
    statement = client.get(f"/statement/?client={debtor}&start=2026-01-01&end=2026-11-30")
    assert "上月少收的代账费" in statement.get_data(as_text=True)
    # approved, it is no longer changed from the screen
    resp = client.post_form(f"/charges/edit/{adj.id}", {
        "client": str(debtor), "kind": "adjustment", "description": "改", "amount": "1",
        "due_date": "2026-11-15"})
    assert resp.status_code in (302, 403, 404, 422)
    assert adjustment_of(app, debtor).amount == Decimal("200.00")


def test_an_approved_adjustment_is_paid_from_a_prepayment(app, client, staff, debtor):
    run_charges(app)
    pk = approved_receipt(app, client, staff, debtor, "1000.00")  # 400 预收
    add_adjustment(client, debtor, amount="150")
    assert receipt(app, pk).matched == Decimal("600.00")  # pending: not paid
    client.login(staff["manager"])
    client.post_form("/charges/action_post", {
        "action": "approve", "rowid": [seen(app, "Charge", adjustment_of(app, debtor).id)]})
    assert receipt(app, pk).matched == Decimal("750.00")
    assert adjustment_of(app, debtor).state == "paid"


def test_an_adjustment_needs_a_reason_and_only_adds(app, client, staff, debtor):
    client.login(staff["finance"])
    add_adjustment(client, debtor, reason="")
    add_adjustment(client, debtor, amount="-100")
    add_adjustment(client, debtor, amount="NaN")
    from app.extensions import db
    from app.models import Charge

    with app.app_context():
        assert db.session.query(Charge).filter_by(client_id=debtor).count() == 0


def test_a_rejected_adjustment_never_counts(app, client, staff, debtor):
    run_charges(app)
    client.login(staff["finance"])
    add_adjustment(client, debtor)
    adj = adjustment_of(app, debtor)
    client.login(staff["manager"])
    resp = client.post_form(f"/charges/step/reject/{adj.id}",
                            {"version": str(adj.version), "reason": "重复录入"})
    assert resp.status_code == 302
    assert adjustment_of(app, debtor).state == "rejected"
    client.post_form("/charges/action_post", {"action": "approve",
                                              "rowid": [seen(app, "Charge", adj.id)]})
    assert adjustment_of(app, debtor).state == "rejected"
    html = client.get("/arrears/list/").get_data(as_text=True)
    assert cells(row_of(html, "手工核销有限公司"))[-1] == "600.00"


def test_a_clerk_cannot_approve_an_adjustment_of_another_clients(app, client, staff, debtor,
                                                                 make_client, grant):
    grant("Accountant", "can_approve", "ChargeModelView")
    other = make_client(name="别人的调整有限公司", bookkeeper=staff["acct2"])
    client.login(staff["finance"])
    add_adjustment(client, other)
    adj = adjustment_of(app, other)
    client.login(staff["acct"])
    client.post_form("/charges/action_post", {"action": "approve",
                                              "rowid": [seen(app, "Charge", adj.id)]})
    assert client.get(f"/charges/step/reject/{adj.id}?v=1").status_code == 404
    assert adjustment_of(app, other).state == "pending"


# ---- 停止计费 → 正常收费: the stopped time is not charged --------------------------------------
def _move_clock(app, day):
    app.config["AGENCYDESK_TODAY"] = day.isoformat()


def _client(app, cid):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        c = db.session.get(Client, cid)
        db.session.expunge(c)
        return c


def _set(app, cid, **values):
    """A change of the client row as any ORM writer makes it (form, API, import)."""
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        c = db.session.get(Client, cid)
        for key, value in values.items():
            setattr(c, key, value)
        db.session.commit()


def test_a_client_back_from_billing_stopped_is_not_charged_for_the_stopped_time(app, staff,
                                                                              make_client):
    from .test_journal_api import token as api_token

    cid = make_client(name="停止计费后恢复有限公司", bookkeeper=staff["acct"],
                      billing_cycle="month", service_fee=Decimal("300"),
                      next_fee_date=D(2026, 6, 1))
    _move_clock(app, D(2026, 7, 15))
    run_charges(app, D(2026, 7, 15))                       # 6-01, 7-01
    _move_clock(app, D(2026, 7, 20))
    _set(app, cid, billing_state="stopped")                # 停止计费
    _move_clock(app, D(2026, 10, 10))
    assert run_charges(app, D(2026, 10, 10)) == 0          # stopped: nothing charged
    # back to 正常收费 through the API, on 10 October
    c, h = app.test_client(), api_token(app, staff["manager"])
    resp = c.put(f"/api/v1/clients/{cid}", headers=h, json={"billing_state": "billed"})
    assert resp.status_code == 200, resp.json
    run_charges(app, D(2026, 10, 10))
    run_charges(app, D(2026, 11, 30))
    assert [ch[0] for ch in charges_of(app, cid)] == [
        D(2026, 6, 1), D(2026, 7, 1), D(2026, 10, 10), D(2026, 11, 10)]
    # the derived 下次收费日期: the oldest unpaid fee date
    assert _client(app, cid).next_fee_date == D(2026, 6, 1)


def test_a_client_restored_to_bookkeeping_restarts_on_the_resume_date(app, staff, make_client):
    cid = make_client(name="恢复代理记账有限公司", billing_cycle="quarter",
                      service_fee=Decimal("900"), next_fee_date=D(2026, 1, 1))
    _move_clock(app, D(2026, 1, 1))
    run_charges(app, D(2026, 1, 1))
    _set(app, cid, status="stopped")                       # 已停止
    _move_clock(app, D(2026, 9, 15))
    _set(app, cid, status="active")                        # back: 代理记账
    run_charges(app, D(2026, 11, 30))
    assert [ch[0] for ch in charges_of(app, cid)] == [D(2026, 1, 1), D(2026, 9, 15)]


def test_stopped_and_resumed_within_a_cycle_keeps_the_schedule(app, staff, make_client):
    cid = make_client(billing_cycle="month", service_fee=Decimal("300"),
                      next_fee_date=D(2026, 11, 1))
    _move_clock(app, D(2026, 11, 1))
    run_charges(app, D(2026, 11, 1))
    _set(app, cid, billing_state="stopped")
    _move_clock(app, D(2026, 11, 20))
    _set(app, cid, billing_state="billed")                 # no fee date was skipped
    run_charges(app, D(2026, 12, 1))
    assert [ch[0] for ch in charges_of(app, cid)] == [D(2026, 11, 1), D(2026, 12, 1)]


# ---- 下次收费日期: derived, never typed ----------------------------------------------------------
def test_the_next_fee_date_of_a_client_with_a_ledger_cannot_be_typed(app, client, staff,
                                                                     debtor):
    from tests.web.test_clients import client_form

    from .test_journal_api import token as api_token

    run_charges(app)
    assert _client(app, debtor).next_fee_date == D(2026, 10, 1)
    client.login(staff["manager"])
    html = client.get(f"/clients/edit/{debtor}").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="next_fee_date"[^>]*>', html).group(0)
    assert "readonly" in field
    form = {**client_form(name="手工核销有限公司", credit_code=_client(app, debtor).credit_code),
            "bookkeeper": str(staff["acct"].id), "next_fee_date": "2027-12-01"}
    resp = client.post_form(f"/clients/edit/{debtor}", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1000]
    assert _client(app, debtor).next_fee_date == D(2026, 10, 1)       # forged: ignored
    c, h = app.test_client(), api_token(app, staff["manager"])
    resp = c.put(f"/api/v1/clients/{debtor}", headers=h, json={"next_fee_date": "2027-12-01",
                                                               "note": "改日期"})
    assert resp.status_code == 200
    assert _client(app, debtor).next_fee_date == D(2026, 10, 1)
    assert _client(app, debtor).note == "改日期"


def test_a_new_client_still_types_his_first_fee_date(app, client, staff):
    from tests.web.test_clients import client_form

    client.login(staff["manager"])
    resp = client.post_form("/clients/add", {**client_form(name="新客户首期有限公司"),
                                             "next_fee_date": "2026-12-01"})
    assert resp.status_code == 302
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        cid = db.session.query(Client).filter_by(name="新客户首期有限公司").one().id
    assert _client(app, cid).next_fee_date == D(2026, 12, 1)
    html = client.get(f"/clients/edit/{cid}").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="next_fee_date"[^>]*>', html).group(0)
    assert "readonly" not in field                       # no ledger yet: typed
    run_charges(app, D(2026, 12, 1))
    assert [ch[0] for ch in charges_of(app, cid)] == [D(2026, 12, 1)]


# ---- 工作台: the ledger's money, scoped ---------------------------------------------------------
def test_the_home_page_shows_the_ledgers_owed_and_received_scoped(app, client, staff, debtor,
                                                                   make_client):
    from .test_stats import home_cards

    theirs = make_client(name="别人的欠费有限公司", bookkeeper=staff["acct2"],
                         billing_cycle="month", service_fee=Decimal("1000"),
                         next_fee_date=D(2026, 10, 1))
    run_charges(app)                                       # 600 + 2000 owed past due
    mine = approved_receipt(app, client, staff, debtor, "450.00")       # this month
    approved_receipt(app, client, staff, theirs, "1000.00")
    early = add_receipt(app, debtor, staff["acct"], "50.00", on=D(2026, 10, 31))
    approve(client, app, early)                            # last month: not this month's
    client.login(staff["manager"])
    client.post_form(f"/receipts/refund/{mine}", {"amount": "20", "reason": "多收退回"})

    def card(user, word):
        client.login(user)
        cards = home_cards(client)
        return next(v for k, v in cards.items() if word in k)

    # 600 − 450 − 50 + 20 (the refund reopens part of November) = 120 for his client
    assert card(staff["acct"], "欠费")[0] == "120.00"
    assert card(staff["acct"], "本月")[0] == "430.00"            # 450 − 20
    assert card(staff["acct2"], "欠费")[0] == "1,000.00"
    assert card(staff["acct2"], "本月")[0] == "1,000.00"
    assert card(staff["finance"], "欠费")[0] == "1,120.00"
    assert card(staff["finance"], "本月")[0] == "1,430.00"
    # a pending adjustment counts nowhere
    client.login(staff["finance"])
    add_adjustment(client, debtor, amount="77")
    assert card(staff["finance"], "欠费")[0] == "1,120.00"


# ---- the migration's totals, itemised ---------------------------------------------------------
from .test_migrations import fresh_app  # noqa: E402,F401  (fixture)


def test_the_upgrade_itemises_why_the_old_arrears_and_the_ledger_differ(fresh_app,  # noqa: F811
                                                                         capsys):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db

    fresh_app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="e7adfabbc262")
        for name, fee, due, cycle, state, status, end in (
                ("两期欠费", "300.00", "2026-10-01", "month", "billed", "active", None),
                # contract ended 2026-07-31: August … November are not charged
                ("合同到期", "500.00", "2026-06-01", "month", "billed", "active", "2026-07-31"),
                ("按季到期", "900.00", "2026-03-31", "quarter", "billed", "active", "2026-05-31"),
                ("停止计费", "300.00", "2026-01-01", "month", "stopped", "active", None),
                ("已停止", "300.00", "2026-01-01", "month", "billed", "stopped", None)):
            db.session.execute(text(
                "INSERT INTO client (name, credit_code, taxpayer_type, tax_device_type, "
                "tax_device_custody, provides_address, onsite_bookkeeping, ticket_pickup, "
                "billing_cycle, service_fee, billing_state, next_fee_date, contract_end, status, "
                "created_on, changed_on) VALUES (:n, NULL, 'small', 'none', false, false, false, "
                "'none', :c, :f, :s, :d, :e, :st, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"n": name, "c": cycle, "f": fee, "s": state, "d": due, "e": end, "st": status})
        db.session.commit()
        upgrade(directory=directory)
        from app.services.ledger import reconciliation

        rec = reconciliation(db.session.connection(), TODAY)
    out = capsys.readouterr().out
    # periods × fee: 2 × 300 + 6 × 500 + 3 × 900 = 6300; the ledger: 600 + 2 × 500 + 900
    assert "before (periods × fee) 6300.00, after (open charges) 2500.00" in out
    assert rec.before == Decimal("6300.00") and rec.after == Decimal("2500.00")
    assert rec.lines == {"after_term": (6, Decimal("3800.00"))}   # 4 × 500 + 2 × 900
    assert rec.before == rec.after + rec.explained and rec.residual == 0
    assert "不计：合同到期后的期数：6 笔 3800.00" in out
    assert "check: before = after + lines: 6300.00 = 2500.00 + 3800.00 (OK)" in out


def test_the_reconciliation_adds_up_on_a_ledger_that_has_lived(app, client, staff, debtor,
                                                               make_client):
    """Payments, write-offs, a one-off fee, adjustments, a fee changed since, a client
    stopped and billed again: before = after + the lines, to the cent."""
    from app.extensions import db
    from app.services import ledger as svc

    ended = make_client(billing_cycle="month", service_fee=Decimal("100"),
                        next_fee_date=D(2026, 8, 1), contract_end=D(2026, 9, 15))
    resumed = make_client(billing_cycle="month", service_fee=Decimal("200"),
                          next_fee_date=D(2026, 6, 1))
    _move_clock(app, D(2026, 7, 2))
    run_charges(app, D(2026, 7, 2))                        # resumed: 6-01, 7-01
    _set(app, resumed, billing_state="stopped")
    _move_clock(app, D(2026, 10, 15))
    _set(app, resumed, billing_state="billed")             # restarts on 10-15
    _move_clock(app, TODAY)
    run_charges(app)
    pk = approved_receipt(app, client, staff, debtor, "450.00")   # oct paid, nov half
    client.post_form("/charges/add", {"client": str(debtor), "kind": "one_off",
                                      "description": "工商变更费", "amount": "88",
                                      "due_date": "2026-11-02"})
    add_adjustment(client, debtor, amount="66")            # pending: counts nowhere
    client.login(staff["manager"])
    with app.app_context():
        from app.models import Charge

        first = db.session.query(Charge).filter_by(client_id=ended).order_by(Charge.due_date).first()
        svc.write_off(first, "坏账", staff["manager"], TODAY)
    _set(app, debtor, service_fee=Decimal("350.00"))       # the fee changed since
    with app.app_context():
        rec = svc.reconciliation(db.session.connection(), TODAY)
        assert rec.residual == 0, rec
        assert rec.before == rec.after + rec.explained
        after = svc.owed_past_due(TODAY)
    assert rec.after == after                               # the dashboard's own figure
    assert rec.lines["after_term"][0] == 2                  # ended: 10-01, 11-01
    assert rec.lines["other_charges"] == (1, Decimal("-88.00"))
    # the stopped months: old arithmetic counts 6-01 … 11-01, the ledger 6-01, 7-01 and,
    # from the resume date, 10-15 and 11-15
    assert rec.lines["not_charged"] == (4, Decimal("800.00"))
    assert rec.lines["other_periods"] == (2, Decimal("-400.00"))
    assert rec.lines["paid"] == (1, Decimal("150.00"))            # November, half paid
    assert rec.lines["fee_changed"] == (1, Decimal("50.00"))      # charged 300, fee 350
    assert receipt(app, pk).matched == Decimal("450.00")


def test_flask_ledger_reconcile_prints_the_itemised_totals(app, staff, debtor):
    run_charges(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "reconcile", "--today", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert "before (periods × fee) 600.00" in result.output and "(OK)" in result.output
    result = runner.invoke(args=["ledger", "reconcile", "--today", "9999-99-99"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_the_new_pages_are_chinese(app, client, staff, debtor):
    from .test_chinese_pages import PageChecker

    run_charges(app)
    pk = approved_receipt(app, client, staff, debtor, "700.00")
    add_adjustment(client, debtor)
    adj = adjustment_of(app, debtor)
    client.login(staff["manager"])
    checker = PageChecker(app, client)
    for path in (f"/receipts/match/{pk}", f"/receipts/show/{pk}", f"/charges/show/{adj.id}",
                 f"/charges/step/reject/{adj.id}?v={adj.version}", "/charges/add", "/",
                 f"/clients/edit/{debtor}"):
        checker.open(path)
    html = client.post_form(f"/receipts/match/{pk}", {f"amount_{charge_ids(app, debtor)[0]}": "5",
                                                      "seen": token(client, pk)}
                            ).get_data(as_text=True)
    assert "已不是未结状态" in html
    checker.check_html("match page with an error", html)
    assert not checker.findings, checker.report()
