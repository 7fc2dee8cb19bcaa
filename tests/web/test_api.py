"""/api/v1/clients/: JWT login, list, get, create with validation, update."""
import pytest

from ..conftest import PASSWORD, valid_code


@pytest.fixture
def token(app, admin):
    c = app.test_client()
    resp = c.post("/api/v1/security/login", json={
        "username": admin.username, "password": PASSWORD, "provider": "db"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json["access_token"]


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_requires_login(app):
    assert app.test_client().get("/api/v1/clients/").status_code == 401


def test_api_lists_and_gets_clients(app, token, make_client):
    cid = make_client(name="接口测试有限公司", service_fee="350.50")
    c = app.test_client()
    listed = c.get("/api/v1/clients/", headers=auth(token)).json
    assert listed["count"] == 1
    assert listed["result"][0]["name"] == "接口测试有限公司"
    one = c.get(f"/api/v1/clients/{cid}", headers=auth(token)).json["result"]
    assert one["credit_code"]
    assert str(one["service_fee"]) in ("350.5", "350.50")
    assert "password" not in str(one)


def test_api_create_validates_credit_code_in_chinese(app, token):
    c = app.test_client()
    resp = c.post("/api/v1/clients/", headers=auth(token), json={
        "name": "坏代码有限公司", "credit_code": "91350100M000100Y44"})
    assert resp.status_code == 422
    assert "校验" in str(resp.json)
    resp = c.post("/api/v1/clients/", headers=auth(token), json={
        "name": "好代码有限公司", "credit_code": valid_code(), "service_fee": "300.00"})
    assert resp.status_code == 201, resp.json


def test_api_update_changes_the_row(app, token, make_client):
    cid = make_client(name="旧名称有限公司")
    c = app.test_client()
    resp = c.put(f"/api/v1/clients/{cid}", headers=auth(token), json={"name": "新名称有限公司"})
    assert resp.status_code == 200, resp.json
    assert c.get(f"/api/v1/clients/{cid}", headers=auth(token)).json["result"]["name"] == "新名称有限公司"
