"""The REST API refuses exactly what the form refuses, field by field, in the same
words (the rules live once, in ``app.domain``): the finding was an API that stored a
status "bogus", a weekly billing cycle, a negative or NaN fee, a lower-case
duplicate credit code, a direction "sideways" and a user that did not exist."""
import pytest

from ..conftest import PASSWORD, valid_code

GOOD_CLIENT = {"name": "对照测试有限公司", "status": "active", "taxpayer_type": "small",
               "tax_device_type": "none", "billing_cycle": "month", "billing_state": "billed",
               "service_fee": "300"}

# (field, hostile value, what the message says, in Chinese)
CLIENT_CASES = [
    ("status", "bogus", "允许"),
    ("billing_cycle", "weekly", "允许"),
    ("service_fee", "-5", "负"),
    ("service_fee", "NaN", "金额"),
    ("service_fee", "Infinity", "金额"),
    ("service_fee", "99999999999", "过大"),
    ("service_fee", "12.345", "两位"),
    ("credit_code", "91110105MA0123456", "18"),
    ("legal_rep_phone", "12345", "手机"),
    ("contract_start", "9999-12-31", "2100"),
    ("name", "a\x00b", "控制字符"),
    ("name", "长" * 201, "200"),
]


def api_headers(app, user) -> dict:
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db"})
    return {"Authorization": "Bearer " + resp.json["access_token"]}


def client_count(app) -> int:
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        return db.session.query(Client).count()


@pytest.mark.parametrize("field,value,says", CLIENT_CASES,
                         ids=[f"{f}={v[:12]!r}" for f, v, _ in CLIENT_CASES])
def test_form_and_api_refuse_the_same_client_value(app, admin, admin_client, field, value,
                                                   says):
    before = client_count(app)
    form = admin_client.post_form("/clients/add", {**GOOD_CLIENT, field: value})
    html = form.get_data(as_text=True)
    # a NUL byte in a form never reaches a field: the request itself is refused
    assert form.status_code in (400, 422), form.status_code
    api = app.test_client().post("/api/v1/clients/", json={**GOOD_CLIENT, field: value},
                                 headers=api_headers(app, admin))
    assert api.status_code == 422
    messages = api.json["message"][field]
    assert any(says in m for m in messages), messages
    if form.status_code == 422:
        for message in messages:
            assert message in html, (field, message)
    assert client_count(app) == before


def test_a_lower_case_duplicate_credit_code_is_refused_on_both(app, admin, admin_client,
                                                               make_client):
    code = valid_code()
    make_client(credit_code=code)
    before = client_count(app)
    html = admin_client.post_form("/clients/add", {**GOOD_CLIENT, "credit_code": code.lower()}
                                  ).get_data(as_text=True)
    api = app.test_client().post("/api/v1/clients/", json={**GOOD_CLIENT,
                                                           "credit_code": f" {code.lower()} "},
                                 headers=api_headers(app, admin))
    assert api.status_code == 422
    [message] = api.json["message"]["credit_code"]
    assert "已有客户使用" in message and message in html
    assert client_count(app) == before


def test_an_api_put_with_bad_values_changes_nothing(app, admin, make_client):
    from app.extensions import db
    from app.models import Client

    cid = make_client(name="修改对照有限公司")
    with app.app_context():
        before = {c.name: getattr(db.session.get(Client, cid), c.name)
                  for c in Client.__table__.columns}
    resp = app.test_client().put(f"/api/v1/clients/{cid}", json={
        "status": "bogus", "billing_cycle": "weekly", "service_fee": -5},
        headers=api_headers(app, admin))
    assert resp.status_code == 422
    assert set(resp.json["message"]) == {"status", "billing_cycle", "service_fee"}
    with app.app_context():
        db.session.expire_all()
        after = {c.name: getattr(db.session.get(Client, cid), c.name)
                 for c in Client.__table__.columns}
    assert after == before


@pytest.mark.parametrize("staff_id", [999999999, "9" * 25, -1, "abc"])
def test_an_unknown_user_as_accountant_is_refused_not_created(app, admin, staff_id):
    from app.extensions import db
    from app.models import Staff

    with app.app_context():
        users = db.session.query(Staff).count()
    resp = app.test_client().post("/api/v1/clients/", json={
        **GOOD_CLIENT, "bookkeeper": staff_id}, headers=api_headers(app, admin))
    assert resp.status_code == 422 and "bookkeeper" in resp.json["message"]
    with app.app_context():
        assert db.session.query(Staff).count() == users


@pytest.mark.parametrize("field,value", [("direction", "sideways"), ("amount", "0"),
                                         ("amount", "-5"), ("amount", "NaN"),
                                         ("period_end", "9999-12-31"),
                                         ("entry_date", "not-a-date")])
def test_a_journal_entry_the_form_refuses_is_refused_over_the_api(app, make_user, make_client,
                                                                  field, value):
    from app.extensions import db
    from app.models import JournalEntry

    finance = make_user("Finance")
    cid = make_client()
    body = {"entry_date": "2026-11-20", "client": cid, "direction": "expense",
            "amount": "300.00", field: value}
    resp = app.test_client().post("/api/v1/journal/", json=body,
                                  headers=api_headers(app, finance))
    assert resp.status_code == 422 and field in resp.json["message"]
    with app.app_context():
        assert db.session.query(JournalEntry).count() == 0


def test_the_api_ignores_a_hidden_field_and_refuses_an_unknown_one(app, admin):
    resp = app.test_client().post("/api/v1/clients/", json={**GOOD_CLIENT, "is_admin": True},
                                  headers=api_headers(app, admin))
    assert resp.status_code == 422 and "is_admin" in resp.json["message"]
    assert "未知字段" in resp.json["message"]["is_admin"][0]
