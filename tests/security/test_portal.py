"""客户门户: a client user signs in on the staff login page, lands in the portal,
sees his own company's filings, invoices, contract and accountants — and nothing
else: every staff URL answers 403/404 to him, every portal URL with another
client's id answers 404, the API refuses his token."""
import datetime
import decimal
import re

import pytest

from ..conftest import PASSWORD, WebClient, valid_code


def add_portal_user(app, client_ids, must_change=False, username=None, phone=""):
    from app.services.portal import add_client_user

    import uuid

    username = username or f"boss_{uuid.uuid4().hex[:8]}"
    with app.app_context():
        for cid in client_ids:
            user = add_client_user(username, cid, PASSWORD, name="王老板", phone=phone,
                                   must_change=must_change)
        from app.extensions import db

        user = db.session.get(type(user), user.id)
        db.session.refresh(user)
        db.session.expunge(user)
        return user


@pytest.fixture
def two_companies(app, make_user, make_client):
    """Two clients of two accountants, each with a filing, an invoice and a contract;
    a client user of the first."""
    from app.extensions import db
    from app.models import (Contract, Invoice, Obligation, ObligationRecord, ObligationType,
                            Staff)

    acct = make_user("Accountant", first_name="会计", last_name="李")
    agent = make_user("FieldAgent", first_name="外勤", last_name="赵")
    other_acct = make_user("Accountant")
    with app.app_context():
        db.session.get(Staff, acct.id).phone = "13800001111"
        db.session.commit()
    mine = make_client(name="甲门户科技有限公司", bookkeeper=acct, field_agent=agent)
    theirs = make_client(name="乙别家贸易有限公司", bookkeeper=other_acct)
    with app.app_context():
        vat = db.session.query(ObligationType).filter_by(category="filing").order_by(
            ObligationType.id).first()
        for cid, amount, period, fee in ((mine, "1234.56", "2026-10", "3600.00"),
                                         (theirs, "9876.54", "2026-09", "9999.00")):
            ob = Obligation(client_id=cid, type_id=vat.id, deadline=datetime.date(2026, 12, 15),
                            period="2026-11", active=True)
            db.session.add(ob)
            db.session.flush()
            db.session.add(ObligationRecord(obligation_id=ob.id, client_id=cid, type_id=vat.id,
                                            due_date=datetime.date(2026, 11, 16), period=period,
                                            kind="complete"))
            db.session.add(Invoice(client_id=cid, title="抬头", tax_id=valid_code(),
                                   amount=decimal.Decimal(amount), content="代理记账费",
                                   note="内部备注不给客户看"))
            db.session.add(Contract(client_id=cid, number=f"HT-{cid}", status="approved",
                                    start_date=datetime.date(2026, 1, 1),
                                    end_date=datetime.date(2026, 12, 31),
                                    fee=decimal.Decimal(fee), billing_cycle="year"))
        db.session.commit()
        kind = vat.name
        requests = {}
        from app.models import ServiceItem, ServiceRequest

        item = db.session.query(ServiceItem).order_by(ServiceItem.id).first()
        for cid, title in ((mine, "甲的请求变更地址"), (theirs, "乙的秘密请求")):
            req = ServiceRequest(client_id=cid, item_id=item.id, title=title, status="waiting")
            db.session.add(req)
            db.session.commit()
            requests[cid] = req.id
    user = add_portal_user(app, [mine])
    return type("W", (), {"mine": mine, "theirs": theirs, "user": user, "kind": kind,
                          "acct": acct, "agent": agent, "requests": requests})


@pytest.fixture
def portal(client, two_companies):
    client.login(two_companies.user)
    return client


def test_a_client_user_signs_in_on_the_login_page_and_lands_on_his_company(portal, two_companies):
    resp = portal.get("/", follow_redirects=True)
    assert resp.status_code == 200
    assert resp.request.path == f"/portal/{two_companies.mine}/"
    html = resp.get_data(as_text=True)
    assert "甲门户科技有限公司" in html


def test_his_page_shows_his_filings_invoices_contract_and_accountants_only(portal, two_companies):
    html = portal.get(f"/portal/{two_companies.mine}/").get_data(as_text=True)
    assert two_companies.kind in html
    assert "已申报" in html and "待申报" in html and "2026-10" in html and "2026-12-15" in html
    assert "1,234.56" in html                       # his invoice
    assert "3,600.00" in html and "2026-12-31" in html   # his approved contract
    assert "李会计" in html and "13800001111" in html and "赵外勤" in html
    # nothing of the other client, nothing internal
    for foreign in ("乙别家贸易有限公司", "9,876.54", "9,999.00", "2026-09", "内部备注不给客户看"):
        assert foreign not in html
    # and the page is in Chinese
    assert "我的会计" in html or "您的会计" in html
    # the complaint form once, in the page (not inside its <title>)
    assert html.count('id="portal-complaints"') == 1
    title = html[html.index("<title>"):html.index("</title>")]
    assert "<" not in title[len("<title>"):] and "甲门户科技有限公司" in title


def test_his_page_shows_what_he_owes_and_paid_from_the_ledger_only(app, portal, two_companies):
    """费用: his open charges (past due in red) and what he owes in all, his approved
    receipts — never the other client's, never a pending (unapproved) receipt."""
    from app import clock
    from app.extensions import db
    from app.models import Charge, Receipt

    today = clock.today()
    past, soon = today - datetime.timedelta(days=40), today + datetime.timedelta(days=5)
    with app.app_context():
        for cid, amounts in ((two_companies.mine, ("300.00", "450.00", "600.00")),
                             (two_companies.theirs, ("777.77", "888.88", "999.99"))):
            db.session.add_all([
                Charge(client_id=cid, kind="periodic", period=past.isoformat(),
                       amount=decimal.Decimal(amounts[0]), due_date=past, state="open",
                       paid=decimal.Decimal("100.00")),
                Charge(client_id=cid, kind="periodic", period=soon.isoformat(),
                       amount=decimal.Decimal(amounts[1]), due_date=soon, state="open")])
            db.session.add(Receipt(client_id=cid, amount=decimal.Decimal(amounts[2]),
                                   received_on=past, status="approved", number=f"R-{cid}"))
            db.session.add(Receipt(client_id=cid, amount=decimal.Decimal("123.45"),
                                   received_on=past, status="pending"))
        db.session.commit()
    html = portal.get(f"/portal/{two_companies.mine}/").get_data(as_text=True)
    fees = html[html.index('id="portal-fees"'):html.index('id="portal-filings"')]
    assert "200.00" in fees        # 300 due 40 days ago, 100 of it paid: owed, in red
    assert "450.00" in fees        # due in five days: listed, not yet owed
    assert "600.00" in fees and f"R-{two_companies.mine}" in fees   # his approved receipt
    assert "欠费" in fees and "¥200.00" in fees
    assert "123.45" not in fees    # a receipt not approved is no payment yet
    for foreign in ("777.77", "677.77", "888.88", "999.99", f"R-{two_companies.theirs}"):
        assert foreign not in html


#: every portal route that names a client (and a request): GET or POST
PORTAL_ROUTES = [("get", "/portal/{id}/"), ("get", "/portal/{id}/requests/"),
                 ("post", "/portal/{id}/requests/"),
                 ("get", "/portal/{id}/requests/{rid}"),
                 ("post", "/portal/{id}/requests/{rid}/confirm"),
                 ("post", "/portal/{id}/requests/{rid}/reopen"),
                 ("post", "/portal/{id}/requests/{rid}/cancel"),
                 ("post", "/portal/{id}/requests/{rid}/files"),
                 ("get", "/portal/{id}/requests/{rid}/files/1"),
                 ("post", "/portal/{id}/requests/{rid}/rate"),
                 ("post", "/portal/{id}/requests/{rid}/complain"),
                 ("post", "/portal/{id}/complaints")]


@pytest.mark.parametrize("method, path", PORTAL_ROUTES)
def test_another_clients_id_in_a_portal_url_is_404(app, portal, two_companies, method, path):
    from app.extensions import db
    from app.models import ServiceRequest

    w = two_companies
    theirs, mine = w.requests[w.theirs], w.requests[w.mine]
    for cid, rid in ((w.theirs, theirs), (w.mine, theirs), (w.theirs, mine),
                     (999999999, mine), (w.mine, 999999999)):
        if "{rid}" not in path and cid == w.mine:
            continue
        url = path.format(id=cid, rid=rid)
        if method == "get":
            resp = portal.get(url)
        else:
            resp = portal.post_form(url, {"title": "伪造", "item_id": "1", "reason": "x",
                                          "text": "伪造投诉", "overall": "bad",
                                          "attitude": "1", "speed": "1"})
        assert resp.status_code == 404, url
        html = resp.get_data(as_text=True)
        assert "乙别家贸易有限公司" not in html and "乙的秘密请求" not in html
    with app.app_context():
        other = db.session.get(ServiceRequest, theirs)
        assert other.status == "waiting"          # nothing confirmed, reopened, cancelled
        assert db.session.query(ServiceRequest).filter_by(title="伪造").count() == 0
        from app.models import Complaint, ServiceRating

        assert db.session.query(Complaint).count() == 0
        assert db.session.query(ServiceRating).count() == 0


def test_every_portal_route_is_covered_by_the_404_test(app):
    """A new portal route with a client id must be added to PORTAL_ROUTES."""
    def shape(rule):
        text = rule.rule.replace("<int:client_id>", "{id}").replace("<int:request_id>", "{rid}")
        text = text.replace("<int:file_id>", "1")
        return text.replace("<any(confirm, reopen, cancel):step>", "confirm")

    with_id = {shape(r) for r in app.url_map.iter_rules()
               if r.endpoint.startswith("portal.") and "client_id" in r.arguments}
    assert with_id <= {path for _, path in PORTAL_ROUTES}


def _url_for_rule(rule, some_id):
    url = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg].__class__.__name__
        value = str(some_id) if conv in ("IntegerConverter",) else "x"
        url = re.sub(r"<[^>]*\b%s>" % arg, value, url)
    return url


def test_every_staff_url_answers_403_or_404_to_a_client_user(app, portal, two_companies):
    from app.security.portal import OPEN_ENDPOINTS

    walked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_ENDPOINTS or rule.endpoint.startswith("portal.") \
                or rule.rule == "/":
            continue
        for some_id in (two_companies.mine, two_companies.theirs):
            url = _url_for_rule(rule, some_id)
            if "GET" in rule.methods:
                resp = portal.get(url)
            else:
                method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
                resp = portal.c.open(url, method=method,
                                     data={"csrf_token": portal.csrf_token()})
            assert resp.status_code in (403, 404), (rule.rule, url, resp.status_code)
            walked += 1
    assert walked > 200  # every screen, action, export and API resource was tried


def test_the_home_page_sends_a_client_user_to_the_portal(portal):
    resp = portal.get("/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/")


def test_the_api_refuses_a_client_users_token_and_his_cookie(app, portal, two_companies):
    api = app.test_client()
    resp = api.post("/api/v1/security/login", json={"username": two_companies.user.username,
                                                    "password": PASSWORD, "provider": "db"})
    token = (resp.get_json() or {}).get("access_token")
    if token:
        got = api.get("/api/v1/client/", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code in (401, 403, 404)
        got = api.get(f"/api/v1/client/{two_companies.mine}",
                      headers={"Authorization": f"Bearer {token}"})
        assert got.status_code in (401, 403, 404)
    assert portal.get("/api/v1/client/").status_code in (401, 403, 404)


def test_the_client_user_role_holds_no_permission(app):
    from app.security.grants import CLIENT_ROLE

    with app.app_context():
        assert app.appbuilder.sm.find_role(CLIENT_ROLE).permissions == []


def test_staff_find_no_portal(client, make_user, two_companies):
    client.login(make_user("Manager"))
    assert client.get("/portal/").status_code == 404
    assert client.get(f"/portal/{two_companies.mine}/").status_code == 404


def test_a_boss_with_two_companies_picks_one(app, client, two_companies):
    boss = add_portal_user(app, [two_companies.mine])
    add_portal_user(app, [two_companies.theirs], username=boss.username)
    client.login(boss)
    html = client.get("/portal/").get_data(as_text=True)
    assert "甲门户科技有限公司" in html and "乙别家贸易有限公司" in html
    assert client.get(f"/portal/{two_companies.theirs}/").status_code == 200


# ---- logins made by staff and by the CLI --------------------------------------------
def test_staff_create_a_login_from_the_client_page_and_the_client_must_change_it(
        app, client, two_companies):
    client.login(two_companies.acct)
    page = client.get(f"/clients/panels/{two_companies.mine}").get_data(as_text=True)
    assert "门户登录" in page
    resp = client.post_form(f"/portal-logins/create/{two_companies.mine}",
                            {"username": "zhang_cashier", "name": "张出纳",
                             "phone": "13900002222", "password": "Init-pass-1"})
    assert resp.status_code == 302
    # another accountant's client: 404, nothing made
    resp = client.post_form(f"/portal-logins/create/{two_companies.theirs}",
                            {"username": "intruder_login", "password": "Init-pass-1"})
    assert resp.status_code == 404
    fresh = WebClient(app.test_client())
    fresh.login("zhang_cashier", "Init-pass-1")
    resp = fresh.get(f"/portal/{two_companies.mine}/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/portal/password")
    assert fresh.post_form("/portal/password", {"old": "Init-pass-1", "new": "short",
                                                "confirm": "short"}).status_code == 422
    resp = fresh.post_form("/portal/password", {"old": "Init-pass-1", "new": "New-pass-22",
                                                "confirm": "New-pass-22"})
    assert resp.status_code == 302
    assert fresh.get(f"/portal/{two_companies.mine}/").status_code == 200
    fresh.login("zhang_cashier", "New-pass-22")
    with app.app_context():
        from app.extensions import db
        from app.models import Staff

        assert db.session.query(Staff).filter_by(username="intruder_login").first() is None


def test_a_staff_user_name_cannot_become_a_client_login(client, two_companies):
    client.login(two_companies.acct)
    client.post_form(f"/portal-logins/create/{two_companies.mine}",
                     {"username": two_companies.acct.username, "password": "Init-pass-1"})
    # the accountant is still staff, not a client user
    assert client.get("/clients/list/").status_code == 200


def test_flask_portal_add_user(app, client, two_companies):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "add-user", "cli_boss", "--client-id",
                                 str(two_companies.mine), "--password", "Cli-pass-123"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["portal", "add-user", "cli_boss", "--client-id",
                                 str(two_companies.theirs)])
    assert result.exit_code == 0, result.output
    client.login("cli_boss", "Cli-pass-123")
    assert client.get(f"/portal/{two_companies.theirs}/").status_code == 200  # not forced
    result = runner.invoke(args=["portal", "add-user", "x", "--client-id", "1"])
    assert result.exit_code != 0


# ---- the same /login/ rules ------------------------------------------------------------
def test_a_client_user_is_locked_out_after_repeated_failures(app, client, two_companies):
    from app.extensions import db
    from app.models import Staff

    for _ in range(app.config["AUTH_LOCKOUT_THRESHOLD"]):
        client.c.post("/login/", data={"username": two_companies.user.username,
                                       "password": "Wrong-pass-9",
                                       "csrf_token": client.csrf_token()})
    with app.app_context():
        assert db.session.get(Staff, two_companies.user.id).locked_at is not None
    client.c.post("/login/", data={"username": two_companies.user.username,
                                   "password": PASSWORD, "csrf_token": client.csrf_token()})
    assert client.get(f"/portal/{two_companies.mine}/").status_code != 200


def test_the_login_and_the_portal_forms_need_the_csrf_token(client, two_companies):
    resp = client.c.post("/login/", data={"username": two_companies.user.username,
                                          "password": PASSWORD})
    assert client.get(f"/portal/{two_companies.mine}/").status_code != 200
    client.login(two_companies.user)
    resp = client.c.post("/portal/password", data={"old": PASSWORD, "new": "New-pass-22",
                                                   "confirm": "New-pass-22"})
    assert resp.status_code == 400


def test_the_login_rate_limit_holds_for_client_users(database_url, two_companies):
    from app import create_app

    limited = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                          "AUTH_RATE_LIMIT": "3 per minute",
                          "SECRET_KEY": "rate-limit-test-key-long-enough-for-jwt-32"})
    c = WebClient(limited.test_client())
    codes = [c.post_form("/login/", {"username": two_companies.user.username,
                                     "password": "Wrong-pass-9"}).status_code
             for _ in range(5)]
    assert codes[0] != 429 and codes[-1] == 429
