"""Writes are checked too: nobody moves a client out of his own scope or creates
one he could not see, through a form or the API."""
from ..conftest import PASSWORD, valid_code


def row(app, cid):
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        db.session.expire_all()
        c = db.session.get(Client, cid)
        return c.name, c.bookkeeper_id


def test_accountant_cannot_hand_his_client_to_someone_else_via_form(app, world, client):
    client.login(world.a)
    resp = client.post_form(f"/clients/edit/{world.mine}", {
        "name": "甲方自己的客户有限公司", "status": "active", "taxpayer_type": "small",
        "tax_device_type": "none", "billing_cycle": "month", "billing_state": "billed",
        "service_fee": "0", "bookkeeper": str(world.b.id), "field_agent": "",
    })
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "未保存" in html
    assert row(app, world.mine)[1] == world.a.id


def test_accountant_cannot_create_client_for_someone_else(app, world, client):
    from app.extensions import db
    from app.models import Client

    client.login(world.a)
    data = {"name": "新建给别人有限公司", "credit_code": valid_code(), "status": "active",
            "taxpayer_type": "small", "tax_device_type": "none", "billing_cycle": "month",
            "billing_state": "billed", "service_fee": "0", "bookkeeper": str(world.b.id)}
    html = client.post_form("/clients/add", data).get_data(as_text=True)
    assert "未保存" in html
    with app.app_context():
        assert db.session.query(Client).filter_by(name="新建给别人有限公司").count() == 0
    data["bookkeeper"] = str(world.a.id)
    data["credit_code"] = valid_code()
    assert client.post_form("/clients/add", data).status_code == 302
    with app.app_context():
        assert db.session.query(Client).filter_by(name="新建给别人有限公司").count() == 1


def test_api_put_moving_client_out_of_scope_is_422_and_changes_nothing(app, world):
    c = app.test_client()
    token = c.post("/api/v1/security/login", json={
        "username": world.a.username, "password": PASSWORD, "provider": "db"}).json["access_token"]
    resp = c.put(f"/api/v1/clients/{world.mine}", headers={"Authorization": f"Bearer {token}"},
                 json={"bookkeeper": world.b.id, "field_agent": None, "name": "改名了"})
    assert resp.status_code == 422
    assert "未保存" in str(resp.json)
    assert row(app, world.mine) == ("甲方自己的客户有限公司", world.a.id)


def test_manager_assigns_many_clients_at_once(app, world, make_user, make_client, client):
    manager = make_user("Manager")
    extra = make_client(name="第三个客户", bookkeeper=world.b)
    client.login(manager)
    resp = client.post_form("/clients/action_post", {"action": "assign",
                                                      "rowid": [world.mine, extra]})
    assert resp.status_code == 302 and "/clients/assign/" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "第三个客户" in page
    resp = client.post_form("/clients/assign/", {"ids": f"{world.mine},{extra}",
                                                  "bookkeeper_id": str(world.b.id),
                                                  "field_agent_id": ""})
    assert resp.status_code == 302
    assert row(app, world.mine)[1] == world.b.id and row(app, extra)[1] == world.b.id


def test_read_only_user_sees_no_edit_or_delete_buttons(app, world, client):
    client.login(world.agent)  # FieldAgent: list and show only
    html = client.get("/clients/list/").get_data(as_text=True)
    assert "甲方自己的客户有限公司" in html
    assert f"/clients/edit/{world.mine}" not in html
    assert f"/clients/delete/{world.mine}" not in html
    assert client.get(f"/clients/edit/{world.mine}").status_code in (302, 403)
