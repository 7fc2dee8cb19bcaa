"""销售 as a salesperson's week runs: he enters a lead (its 1-3-7 follow-ups appear),
防撞单 refuses a contact another salesperson or a client already holds (naming only
the holder and the date), follow-ups fill the timeline, a neglected lead returns to
the 公共池 and is claimed once, a won lead's sales contract is approved by a manager
and the lead becomes exactly one client — and no salesperson ever reaches another's
leads."""
import datetime
import io
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ..conftest import PASSWORD, WebClient, seen, valid_code

D = datetime.date
TODAY = D(2026, 12, 1)


@pytest.fixture
def pinned(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


@pytest.fixture
def team(app, make_user):
    """A sales manager (Manager role) with two salespeople under him, and a salesperson
    of another team."""
    boss = make_user("Manager", first_name="经理", last_name="周")
    wang = make_user("Sales", first_name="伟", last_name="王", superior_id=boss.id)
    li = make_user("Sales", first_name="娜", last_name="李", superior_id=boss.id)
    other_boss = make_user("Sales", first_name="强", last_name="赵")
    return type("Team", (), {"boss": boss, "wang": wang, "li": li, "zhao": other_boss})


def web(app, user) -> WebClient:
    c = WebClient(app.test_client())
    c.login(user)
    return c


def make_lead(app, owner, **fields) -> int:
    """A lead of ``owner`` entered through the service path every writer uses."""
    from app.extensions import db
    from app.models import Lead
    from app.services import sales

    with app.app_context():
        lead = Lead(name=fields.pop("name", "张总的新公司"), owner_id=owner.id, **fields)
        sales.prepare_new_lead(lead, owner, fields.get("today", TODAY))
        lead.owner_id = owner.id
        db.session.add(lead)
        db.session.flush()
        sales.start_cadence(lead, TODAY)
        db.session.commit()
        return lead.id


def lead_row(app, pk):
    from app.extensions import db
    from app.models import Lead

    with app.app_context():
        db.session.expire_all()
        row = db.session.get(Lead, pk)
        if row is not None:
            db.session.expunge(row)
        return row


def count(app, model_name, *where) -> int:
    from app import models
    from app.extensions import db

    with app.app_context():
        model = getattr(models, model_name)
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()


def lead_form(**fields) -> dict:
    data = {"name": "李总的餐饮公司", "stage": "new"}
    data.update(fields)
    return data


# ---- entering a lead ----------------------------------------------------------------------
def test_a_new_lead_is_his_with_normalised_contacts_and_1_3_7_follow_ups(app, team, pinned):
    from app.models import ContactKey, FollowUp, Lead

    c = web(app, team.wang)
    resp = c.post_form("/leads/add", lead_form(mobile="+86 138-0013-8000",
                                               email="Foo@Bar.com",
                                               landline="(010) 8888-6666"))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app.app_context():
        from app.extensions import db

        lead = db.session.execute(select(Lead)).scalars().one()
        assert (lead.owner_id, lead.stage, lead.mobile, lead.email, lead.landline) == \
            (team.wang.id, "new", "13800138000", "foo@bar.com", "010-88886666")
        dues = db.session.execute(select(FollowUp.cadence_day, FollowUp.due_date)
                                  .where(FollowUp.lead_id == lead.id)
                                  .order_by(FollowUp.due_date)).all()
        assert dues == [(1, D(2026, 12, 2)), (3, D(2026, 12, 4)), (7, D(2026, 12, 8))]
        keys = set(db.session.execute(select(ContactKey.kind, ContactKey.value)
                                      .where(ContactKey.lead_id == lead.id)).all())
        assert keys == {("mobile", "13800138000"), ("email", "foo@bar.com"),
                        ("landline", "010-88886666")}


def test_the_cadence_is_a_setting(app, team, pinned):
    from app.services import settings

    with app.app_context():
        settings.put("sales_cadence", "2,5")
        from app.extensions import db

        db.session.commit()
    pk = make_lead(app, team.wang)
    assert count(app, "FollowUp", __import__("app.models", fromlist=["FollowUp"]).FollowUp.lead_id == pk) == 2


# ---- 防撞单 ---------------------------------------------------------------------------------
HELD = {"mobile": "13800138000", "wechat": "wangzong88", "qq": "12345678",
        "landline": "010-88886666", "email": "foo@bar.com", "credit_code": None}
TYPED = {"mobile": "+86 138 0013 8000", "wechat": "WangZong88", "qq": " 12345678",
         "landline": "(010) 8888-6666", "email": "FOO@bar.COM", "credit_code": None}


@pytest.mark.parametrize("field", list(HELD))
def test_a_contact_held_by_another_salespersons_lead_is_refused_naming_only_him(
        app, team, pinned, field):
    code = valid_code()
    held = dict(HELD, credit_code=code)
    make_lead(app, team.wang, name="王伟跟进的秘密公司", note="老板很急", **held)
    typed = dict(TYPED, credit_code=code.lower())
    c = web(app, team.li)
    resp = c.post_form("/leads/add", lead_form(**{field: typed[field]}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "王伟" in page and TODAY.isoformat() in page and "防撞单" in page
    # nothing else of the other lead: not its name, note or other contact values
    for secret in ("王伟跟进的秘密公司", "老板很急") + tuple(v for k, v in held.items()
                                                 if k != field):
        assert secret not in page
    assert count(app, "Lead") == 1


@pytest.mark.parametrize("field,typed", [("mobile", "138-0013-8000"),
                                         ("landline", "010 8888 6666"),
                                         ("credit_code", None)])
def test_a_contact_held_by_a_client_is_refused_as_a_signed_client(app, team, pinned,
                                                                   make_client, field, typed):
    code = valid_code()
    make_client(name="老客户有限公司", credit_code=code, contact_phone="13800138000",
                legal_rep_phone="010-88886666")
    c = web(app, team.li)
    resp = c.post_form("/leads/add", lead_form(**{field: typed or code}))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "已签约客户" in page and "老客户有限公司" not in page
    assert count(app, "Lead") == 0


def test_editing_a_lead_to_a_held_value_is_refused_and_changes_nothing(app, team, pinned):
    make_lead(app, team.wang, mobile="13800138000")
    mine = make_lead(app, team.li, name="李娜的线索", mobile="13900000000")
    c = web(app, team.li)
    resp = c.post_form(f"/leads/edit/{mine}", lead_form(name="李娜的线索", mobile="13800138000"))
    assert resp.status_code == 422
    assert lead_row(app, mine).mobile == "13900000000"


def test_a_lost_or_pooled_lead_and_ones_own_lead_do_not_block(app, team, pinned):
    from app.extensions import db
    from app.models import Lead

    lost = make_lead(app, team.wang, mobile="13800138000")
    with app.app_context():
        db.session.get(Lead, lost).stage = "lost"
        db.session.commit()
    make_lead(app, team.li, mobile="13900000000")
    c = web(app, team.li)
    assert c.post_form("/leads/add", lead_form(mobile="13800138000")).status_code == 302
    assert c.post_form("/leads/add", lead_form(name="同一个老板的第二家", mobile="13900000000")
                       ).status_code == 302


def test_a_further_contact_of_a_lead_passes_the_same_check(app, team, pinned):
    make_lead(app, team.wang, wechat="wangzong88")
    mine = make_lead(app, team.li, name="李娜的线索")
    c = web(app, team.li)
    resp = c.post_form("/contacts/add", {"lead": str(mine), "name": "出纳小刘",
                                         "wechat": "WANGZONG88"})
    assert resp.status_code == 422 and "王伟" in resp.get_data(as_text=True)
    assert count(app, "Contact") == 0
    ok = c.post_form("/contacts/add", {"lead": str(mine), "name": "出纳小刘",
                                       "mobile": "13700000000", "qq": "9876543"})
    assert ok.status_code == 302
    from app.models import ContactKey

    assert count(app, "ContactKey", ContactKey.lead_id == mine, ContactKey.kind == "qq") == 1


def token(app, user):
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": "Bearer " + resp.json["access_token"]}


def test_the_api_refuses_a_duplicate_with_422_and_creates_leads_with_follow_ups(
        app, team, pinned):
    make_lead(app, team.wang, qq="12345678")
    headers = token(app, team.li)
    api = app.test_client()
    refused = api.post("/api/v1/leads/", json={"name": "API 线索", "qq": "12345678"},
                       headers=headers)
    assert refused.status_code == 422
    assert "王伟" in str(refused.json) and "防撞单" in str(refused.json)
    created = api.post("/api/v1/leads/", json={"name": "API 线索", "qq": "87654321"},
                       headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    from app.models import FollowUp

    assert count(app, "FollowUp", FollowUp.lead_id == created.json["id"]) == 3


def test_the_import_is_all_or_nothing_with_the_duplicate_check(app, team, pinned):
    import openpyxl

    make_lead(app, team.wang, mobile="13800138000")

    def sheet(rows):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["公司或个人名称", "手机", "微信", "客户来源"])
        for row in rows:
            ws.append(row)
        out = io.BytesIO()
        wb.save(out)
        out.seek(0)
        return out

    c = web(app, team.li)
    bad = c.post_form("/leads/import/", {"file": (sheet([
        ["第一家", "13900000001", "", "转介绍"], ["第二家", "+86 13800138000", "", ""],
        ["第三家", "13900000001", "", ""]]), "leads.xlsx")},
        content_type="multipart/form-data")
    page = bad.get_data(as_text=True)
    assert "王伟" in page and count(app, "Lead") == 1
    good = c.post_form("/leads/import/", {"file": (sheet([
        ["第一家", "13900000001", "", "转介绍"], ["第二家", "13900000002", "Wx_2", ""]]),
        "leads.xlsx")}, content_type="multipart/form-data")
    assert good.status_code == 302, good.get_data(as_text=True)[:3000]
    assert count(app, "Lead") == 3 and count(app, "FollowUp") == 9


# ---- follow-ups ------------------------------------------------------------------------------
def test_a_follow_up_fills_the_timeline_plans_the_next_and_late_ones_are_listed(
        app, team, pinned):
    from app.models import FollowUp

    pk = make_lead(app, team.wang, name="跟进测试公司")
    c = web(app, team.wang)
    resp = c.post_form("/follow-ups/add", {"lead": str(pk), "way": "wechat",
                                           "content": "发了注册流程资料",
                                           "next_contact_date": "2026-12-10"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    lead = lead_row(app, pk)
    assert (lead.stage, lead.last_follow_up_on) == ("following", TODAY)
    assert count(app, "FollowUp", FollowUp.lead_id == pk, FollowUp.due_date == D(2026, 12, 10)) == 1
    page = c.get(f"/leads/show/{pk}").get_data(as_text=True)
    assert "发了注册流程资料" in page and "follow-up-timeline" in page
    # a week later, the day-1 and day-3 steps were never done: 未完成 1-3-7
    app.config["AGENCYDESK_TODAY"] = "2026-12-09"
    missed = c.get("/follow-ups-missed/list/").get_data(as_text=True)
    assert missed.count("跟进测试公司") == 3  # day 1, 3, 7


def test_a_supervisors_comment_shows_on_the_salespersons_timeline(app, team, pinned):
    from app.extensions import db
    from app.models import FollowUp

    pk = make_lead(app, team.wang, name="批注测试公司")
    with app.app_context():
        fid = db.session.execute(select(FollowUp.id).where(FollowUp.lead_id == pk)
                                 .order_by(FollowUp.id)).scalars().first()
    boss = web(app, team.boss)
    resp = boss.post_form(f"/follow-ups/comment/{fid}", {"comment": "先报价再约见面"})
    assert resp.status_code == 302
    page = web(app, team.wang).get(f"/leads/show/{pk}").get_data(as_text=True)
    assert "先报价再约见面" in page
    # a salesperson may not comment
    assert web(app, team.li).post_form(f"/follow-ups/comment/{fid}",
                                       {"comment": "x"}).status_code in (302, 403, 404)


# ---- 公共池 ---------------------------------------------------------------------------------
def test_a_neglected_lead_returns_to_the_pool_and_is_audited(app, team, pinned):
    from app.extensions import db
    from app.models import AuditLog, Lead
    from app.services import sales

    old = make_lead(app, team.wang, name="没人跟进的公司")
    fresh = make_lead(app, team.wang, name="刚跟进的公司")
    with app.app_context():
        db.session.get(Lead, old).assigned_on = TODAY - datetime.timedelta(days=40)
        db.session.get(Lead, fresh).assigned_on = TODAY - datetime.timedelta(days=40)
        db.session.get(Lead, fresh).last_follow_up_on = TODAY - datetime.timedelta(days=3)
        db.session.commit()
        assert sales.return_to_pool(TODAY, 30) == 1
        assert sales.return_to_pool(TODAY, 30) == 0
    row = lead_row(app, old)
    assert (row.stage, row.owner_id, row.pool_on) == ("pool", None, TODAY)
    assert lead_row(app, fresh).stage == "new"
    assert count(app, "AuditLog", AuditLog.table_name == "lead",
                 AuditLog.row_id == str(old)) >= 1
    # gone from his list, in the pool for everyone
    assert "没人跟进的公司" not in web(app, team.wang).get("/leads/list/").get_data(as_text=True)
    assert "没人跟进的公司" in web(app, team.zhao).get("/lead-pool/list/").get_data(as_text=True)
    assert web(app, team.wang).get(f"/leads/show/{old}").status_code == 404
    # the pool shows the lead, not its follow-ups (nor contacts, nor contracts)
    assert "没人跟进的公司" not in web(app, team.zhao).get("/follow-ups/list/").get_data(
        as_text=True)


def pooled(app, owner, name):
    from app.extensions import db
    from app.models import Lead

    pk = make_lead(app, owner, name=name)
    with app.app_context():
        lead = db.session.get(Lead, pk)
        lead.stage, lead.owner_id = "pool", None
        db.session.commit()
    return pk


def test_claiming_is_exactly_once_and_up_to_the_limit(app, team, pinned):
    from app.services import settings

    a = pooled(app, team.wang, "公共池甲")
    b = pooled(app, team.wang, "公共池乙")
    li, zhao = web(app, team.li), web(app, team.zhao)
    assert li.post_form(f"/lead-pool/action/claim/{a}").status_code == 302
    assert lead_row(app, a).owner_id == team.li.id
    # the second salesperson's page still showed it: nothing happens to the lead
    resp = zhao.post_form("/lead-pool/action_post", {"action": "claim", "rowid": [str(a)]})
    assert resp.status_code in (302, 404)
    assert lead_row(app, a).owner_id == team.li.id
    with app.app_context():
        from app.extensions import db

        settings.put("sales_claim_limit", "1")
        db.session.commit()
    li.post_form(f"/lead-pool/action/claim/{b}")
    assert lead_row(app, b).stage == "pool"  # he holds 1 active lead: the limit


def test_two_salespeople_claiming_at_once_one_wins(app, team, pinned):
    import threading

    from app.extensions import db
    from app.models import Lead
    from app.services import sales

    pk = pooled(app, team.wang, "抢单公司")
    results = {}
    barrier = threading.Barrier(2)

    def claim(user):
        with app.app_context():
            try:
                item = db.session.get(Lead, pk)
                barrier.wait(5)
                results[user.id] = sales.claim([item], user, TODAY).changed
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (team.li, team.zhao)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == [0, 1]
    assert lead_row(app, pk).owner_id in (team.li.id, team.zhao.id)


# ---- sales contract → client ------------------------------------------------------------------
def contract_for(app, team, pinned, make_client=None):
    """王伟 wins 李总's company: a sales contract of 代理记账 for a year and 工商注册, entered
    and submitted by him through the screens. → (lead id, contract id)."""
    from app.extensions import db
    from app.models import BusinessType, SalesContract

    code = valid_code()
    pk = make_lead(app, team.wang, name="李总的餐饮公司", credit_code=code, contact_name="李总",
                   mobile="13800138000", wechat="lizong")
    c = web(app, team.wang)
    resp = c.post_form("/sales-contracts/add", {
        "lead": str(pk), "number": "XS-2026-001", "sign_date": "2026-12-01",
        "start_date": "2027-01-01", "end_date": "2027-12-31", "first_fee_date": "2027-01-01",
        "invoice_needed": "y", "invoice_tax_id": code, "note": "先注册后记账"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with app.app_context():
        sc = db.session.execute(select(SalesContract.id)).scalar()
        types = dict(db.session.execute(select(BusinessType.name, BusinessType.id)).all())
    for btype, qty, discount in (("代理记账", "12", "600"), ("工商注册", "1", "0")):
        resp = c.post_form("/sales-contract-lines/add", {
            "contract": str(sc), "business_type": str(types[btype]), "quantity": qty,
            "discount": discount, "cycle": ""})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    resp = c.post_form(f"/sales-contracts/action/submit/{sc}?v=" + seen(app, "SalesContract", sc).split("@")[1])
    assert resp.status_code == 302
    return pk, sc


def test_approval_turns_the_lead_into_one_client_with_its_contract(app, team, pinned):
    from app.extensions import db
    from app.models import Client, ContactKey, Contract, Lead, SalesContract

    pk, sc = contract_for(app, team, pinned)
    with app.app_context():
        contract = db.session.get(SalesContract, sc)
        assert (contract.status, contract.total) == ("pending", Decimal("3800.00"))
    version = seen(app, "SalesContract", sc)
    # the author cannot approve; the manager can, once
    wang = web(app, team.wang)
    assert wang.post_form("/sales-contracts/action_post",
                          {"action": "approve", "rowid": [version]}).status_code in (302, 403)
    assert count(app, "Client") == 0
    boss = web(app, team.boss)
    for _ in range(2):  # a double click
        resp = boss.post_form("/sales-contracts/action_post", {"action": "approve",
                                                                "rowid": [version]})
        assert resp.status_code == 302
    with app.app_context():
        clients = db.session.execute(select(Client)).scalars().all()
        assert len(clients) == 1
        client = clients[0]
        lead = db.session.get(Lead, pk)
        assert (client.name, client.credit_code, client.contact_name, client.contact_phone) == \
            ("李总的餐饮公司", lead.credit_code, "李总", "13800138000")
        assert (client.sales_id, client.billing_cycle, client.service_fee) == \
            (team.wang.id, "month", Decimal("250.00"))
        assert (client.contract_start, client.contract_end, client.next_fee_date) == \
            (D(2027, 1, 1), D(2027, 12, 31), D(2027, 1, 1))
        assert (lead.stage, lead.client_id) == ("won", client.id)
        contract = db.session.execute(select(Contract)).scalars().one()
        assert (contract.client_id, contract.fee, contract.status) == \
            (client.id, Decimal("3800.00"), "approved")
        keys = db.session.execute(select(ContactKey.client_id)
                                  .where(ContactKey.lead_id == pk)).scalars().all()
        assert keys and set(keys) == {client.id}
    # the client appears in 合同管理 and in the salesperson's client list; its contacts
    # now refuse another salesperson as a signed client
    assert "XS-2026-001" in boss.get("/contracts/list/").get_data(as_text=True)
    assert "李总的餐饮公司" in wang.get("/clients/list/").get_data(as_text=True)
    resp = web(app, team.li).post_form("/leads/add", lead_form(wechat="LIZONG"))
    assert resp.status_code == 422 and "已签约客户" in resp.get_data(as_text=True)


def test_an_approved_contract_and_its_items_are_locked(app, team, pinned):
    from app.extensions import db
    from app.models import SalesContractLine

    pk, sc = contract_for(app, team, pinned)
    with app.app_context():
        line = db.session.execute(select(SalesContractLine.id)).scalars().first()
    wang = web(app, team.wang)
    wang.post_form(f"/sales-contracts/edit/{sc}", {"lead": str(pk), "number": "改过",
                                                   "start_date": "2027-01-01",
                                                   "end_date": "2027-12-31"})
    wang.post_form(f"/sales-contract-lines/delete/{line}")
    with app.app_context():
        from app.models import SalesContract

        assert db.session.get(SalesContract, sc).number == "XS-2026-001"
        assert db.session.get(SalesContractLine, line) is not None


def test_two_managers_approving_at_once_make_one_client(app, team, pinned, make_user):
    import threading

    from app.extensions import db
    from app.models import SalesContract
    from app.services import transitions

    pk, sc = contract_for(app, team, pinned)
    second = make_user("Manager")
    with app.app_context():
        version = db.session.get(SalesContract, sc).version
    barrier = threading.Barrier(2)
    results = []

    def approve(user):
        with app.app_context():
            try:
                item = db.session.get(SalesContract, sc)
                barrier.wait(5)
                result = transitions.fire(SalesContract, [item], "approve", user,
                                          datetime.datetime(2026, 12, 1, 10, 0),
                                          seen={sc: version})
                results.append(result.changed)
            except Exception as exc:  # noqa: BLE001 - reported below
                results.append(exc)
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (team.boss, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert count(app, "Client") == 1
    assert results.count(1) == 1, results


# ---- the Sales scope ---------------------------------------------------------------------------
@pytest.fixture
def two_leads(app, team, pinned):
    mine = make_lead(app, team.li, name="李娜自己的线索", mobile="13900000009")
    theirs = make_lead(app, team.zhao, name="赵强的秘密线索", mobile="13700000007",
                       note="赵强的备注")
    return mine, theirs


@pytest.mark.parametrize("path", ["/leads/show/{id}", "/leads/edit/{id}"])
def test_another_salespersons_lead_by_id_is_404(app, team, two_leads, path):
    mine, theirs = two_leads
    c = web(app, team.li)
    assert c.get(path.format(id=theirs)).status_code == 404
    assert c.get(path.format(id=mine)).status_code == 200


def test_writes_and_actions_on_another_salespersons_lead_change_nothing(app, team, two_leads):
    mine, theirs = two_leads
    c = web(app, team.li)
    assert c.post_form(f"/leads/edit/{theirs}", lead_form(name="改掉")).status_code == 404
    assert c.post_form(f"/leads/action/mark_lost/{theirs}").status_code == 404
    assert c.post_form("/leads/action_post", {"action": "mark_lost",
                                              "rowid": [str(mine), str(theirs)]}).status_code == 404
    assert c.post_form("/follow-ups/add", {"lead": str(theirs), "content": "x",
                                           "way": "phone"}).status_code in (200, 422)
    row = lead_row(app, theirs)
    assert (row.name, row.stage) == ("赵强的秘密线索", "new")
    assert lead_row(app, mine).stage == "new"


def test_list_export_and_api_hold_only_his_own_leads(app, team, two_leads):
    import openpyxl

    mine, theirs = two_leads
    c = web(app, team.li)
    page = c.get("/leads/list/").get_data(as_text=True)
    assert "李娜自己的线索" in page and "赵强的秘密线索" not in page
    export = c.get("/leads/export.xlsx")
    assert export.status_code == 200
    cells = [str(v) for row in openpyxl.load_workbook(io.BytesIO(export.data)).active
             .iter_rows(values_only=True) for v in row]
    assert "李娜自己的线索" in cells and "赵强的秘密线索" not in cells
    headers = token(app, team.li)
    api = app.test_client()
    assert api.get(f"/api/v1/leads/{theirs}", headers=headers).status_code == 404
    assert api.put(f"/api/v1/leads/{theirs}", json={"name": "改掉"},
                   headers=headers).status_code == 404
    names = [r["name"] for r in api.get("/api/v1/leads/", headers=headers).json["result"]]
    assert names == ["李娜自己的线索"]
    assert lead_row(app, theirs).name == "赵强的秘密线索"
    # the follow-ups of another's lead are out of reach too
    assert "赵强的秘密线索" not in c.get("/follow-ups/list/").get_data(as_text=True)


def test_the_superior_sees_his_teams_leads_and_reassigns_them(app, team, pinned):
    a = make_lead(app, team.wang, name="王伟的线索")
    b = make_lead(app, team.li, name="李娜的线索")
    z = make_lead(app, team.zhao, name="赵强的线索")
    boss = web(app, team.boss)
    page = boss.get("/leads/list/").get_data(as_text=True)
    assert "王伟的线索" in page and "李娜的线索" in page
    resp = boss.post_form("/leads/reassign/", {"ids": f"{a},{b}", "owner_id": str(team.li.id)})
    assert resp.status_code == 302
    assert lead_row(app, a).owner_id == team.li.id and lead_row(app, b).owner_id == team.li.id
    assert "王伟的线索" in web(app, team.li).get("/leads/list/").get_data(as_text=True)
    assert "王伟的线索" not in web(app, team.wang).get("/leads/list/").get_data(as_text=True)
    # a salesperson cannot reassign
    assert web(app, team.wang).post_form(
        "/leads/reassign/", {"ids": str(z), "owner_id": str(team.wang.id)}).status_code in (302, 403)
    assert lead_row(app, z).owner_id == team.zhao.id


def test_a_salesperson_sees_the_clients_he_won_and_not_others(app, team, pinned, make_client):
    make_client(name="王伟签下的客户", sales_id=team.wang.id)
    make_client(name="别人的客户")
    page = web(app, team.wang).get("/clients/list/").get_data(as_text=True)
    assert "王伟签下的客户" in page and "别人的客户" not in page


# ---- the desk and the reports ------------------------------------------------------------------
def test_the_sales_desk_and_reports_show_the_numbers(app, team, pinned):
    make_lead(app, team.wang, name="工作台线索")
    app.config["AGENCYDESK_TODAY"] = "2026-12-02"
    page = web(app, team.wang).get("/").get_data(as_text=True)
    assert "sales-desk" in page and "工作台线索" in page
    boss = web(app, team.boss)
    assert "sales-desk" in boss.get("/").get_data(as_text=True)
    report = boss.get("/sales-reports/?year=2026")
    assert report.status_code == 200 and "echarts" in report.get_data(as_text=True)


def test_the_pool_job_is_a_scheduled_job_that_runs_with_the_pinned_day(app, team, pinned):
    from app import scheduler
    from app.extensions import db
    from app.models import Lead, ScheduledJob

    pk = make_lead(app, team.wang, name="定时任务退回的公司")
    with app.app_context():
        db.session.get(Lead, pk).assigned_on = TODAY - datetime.timedelta(days=31)
        db.session.commit()
        scheduler.ensure_jobs()
        job = db.session.execute(select(ScheduledJob).where(
            ScheduledJob.code == "return_leads_to_pool")).scalar_one()
        outcome = scheduler.run_now(job)
        assert outcome.status == "ran", outcome
    assert lead_row(app, pk).stage == "pool"


def test_the_object_form_of_the_sales_scope_agrees_with_the_sql_form(app, team, pinned):
    """``scope.allows`` and ``scope.condition`` give the same leads, follow-ups,
    contracts and contacts for each salesperson, his superior and another team."""
    from app.extensions import db
    from app.models import Contact, FollowUp, Lead, SalesContract, Staff
    from app.security import scope

    leads = [make_lead(app, owner, name=f"一致性{i}") for i, owner in
             enumerate((team.wang, team.li, team.zhao))]
    pool = pooled(app, team.zhao, "一致性公共池")
    with app.app_context():
        for pk in leads + [pool]:
            db.session.add(Contact(lead_id=pk, name="联系人"))
            db.session.add(SalesContract(lead_id=pk, start_date=TODAY, end_date=TODAY,
                                         status="draft"))
        db.session.commit()
        sm = app.appbuilder.sm
        for who in (team.wang, team.li, team.zhao):
            user = db.session.get(Staff, who.id)
            may = lambda perm, view, u=user: sm.user_has(u, perm, view)  # noqa: E731
            for model in (Lead, FollowUp, SalesContract, Contact):
                cond = scope.condition(user, model, may, db.session)
                by_sql = set(db.session.execute(select(model.id).where(cond)).scalars())
                by_obj = {row.id for row in db.session.execute(select(model)).scalars()
                          if scope.allows(user, row, may, db.session)}
                assert by_sql == by_obj, (who.username, model.__name__)
                assert by_sql, model.__name__


def test_a_stage_only_the_system_sets_is_refused_on_the_form_and_the_api(app, team, pinned):
    pk = make_lead(app, team.li, name="阶段测试")
    c = web(app, team.li)
    resp = c.post_form(f"/leads/edit/{pk}", lead_form(name="阶段测试", stage="won"))
    assert resp.status_code == 422 and "销售合同" in resp.get_data(as_text=True)
    api = app.test_client().put(f"/api/v1/leads/{pk}", json={"stage": "pool"},
                                headers=token(app, team.li))
    assert api.status_code == 422
    assert lead_row(app, pk).stage == "new"
    # giving a lead to another team's salesperson leaves it where it was
    resp = c.post_form(f"/leads/edit/{pk}", lead_form(name="阶段测试", owner=str(team.zhao.id)))
    assert resp.status_code == 422 and "您的团队" in resp.get_data(as_text=True)
    assert lead_row(app, pk).owner_id == team.li.id


def test_two_salespeople_entering_the_same_mobile_at_once_one_is_refused(app, team, pinned):
    """On PostgreSQL the check holds the value until the commit (advisory lock): the
    second salesperson's save waits, then finds the first one's key."""
    import threading
    import time

    from app.extensions import db
    from app.models import Lead
    from app.services import sales
    from app.services.contacts import DuplicateContact

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite writes one transaction at a time")
    results = {}
    barrier = threading.Barrier(2)

    def enter(user):
        with app.app_context():
            try:
                lead = Lead(name=f"{user.username}的线索", mobile="13600000000")
                sales.prepare_new_lead(lead, user, TODAY)
                db.session.add(lead)
                barrier.wait(5)
                db.session.flush()
                time.sleep(0.5)  # hold the transaction open a while
                db.session.commit()
                results[user.id] = "saved"
            except DuplicateContact:
                db.session.rollback()
                results[user.id] = "refused"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=enter, args=(u,)) for u in (team.li, team.zhao)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["refused", "saved"], results
