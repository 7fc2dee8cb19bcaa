"""字段可见性: a field hidden from a role is absent from every surface, and a posted
value for it is ignored."""
import io

import pytest
from openpyxl import load_workbook

from ..conftest import PASSWORD

PHONE = "13912349876"
CODE = "91110105776655442A"  # a valid code no other test uses


@pytest.fixture
def hidden_phone(app, make_user, make_client):
    """Legal rep phone hidden from FieldAgent; a field agent with one client."""
    from app.extensions import db
    from app.models import HiddenField

    with app.app_context():
        role = app.appbuilder.sm.find_role("FieldAgent")
        db.session.add(HiddenField(role_id=role.id, model="client", field="legal_rep_phone"))
        db.session.commit()
    agent = make_user("FieldAgent")
    cid = make_client(name="隐藏字段测试有限公司", legal_rep_phone=PHONE, field_agent=agent)
    yield agent, cid
    with app.app_context():
        db.session.query(HiddenField).delete()
        db.session.commit()


def test_hidden_field_absent_from_list_show_and_search(client, hidden_phone):
    agent, cid = hidden_phone
    client.login(agent)
    assert PHONE not in client.get("/clients/list/").get_data(as_text=True)
    show = client.get(f"/clients/show/{cid}").get_data(as_text=True)
    assert "隐藏字段测试有限公司" in show and PHONE not in show
    assert "法人电话" not in show
    # searching by the hidden value must not reveal who has it
    assert "隐藏字段测试有限公司" not in client.get(f"/clients/list/?q={PHONE}").get_data(as_text=True)
    # a column filter on the hidden field is ignored, not applied
    filtered = client.get("/clients/list/?_flt_0_legal_rep_phone=000").get_data(as_text=True)
    assert "隐藏字段测试有限公司" in filtered


def test_role_without_hiding_still_sees_the_field(client, hidden_phone, make_user, app):
    client.login(make_user("Manager"))
    _, cid = hidden_phone
    assert PHONE in client.get(f"/clients/show/{cid}").get_data(as_text=True)


def test_hidden_field_absent_from_api(app, hidden_phone):
    agent, cid = hidden_phone
    c = app.test_client()
    token = c.post("/api/v1/security/login", json={
        "username": agent.username, "password": PASSWORD, "provider": "db"}).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    one = c.get(f"/api/v1/clients/{cid}", headers=headers).json
    assert one["result"]["name"] == "隐藏字段测试有限公司"
    assert "legal_rep_phone" not in one["result"] and PHONE not in str(one)
    listed = c.get("/api/v1/clients/", headers=headers).json
    assert PHONE not in str(listed)


def test_hidden_field_absent_from_export(app, hidden_phone, client, grant):
    agent, _ = hidden_phone
    grant("FieldAgent", "can_export", "ClientModelView")
    client.login(agent)
    resp = client.get("/clients/export.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]
    assert "隐藏字段测试有限公司" in cells
    assert PHONE not in cells and "法人电话" not in cells


def export_cells(client) -> list[str]:
    resp = client.get("/clients/export.xlsx")
    assert resp.status_code == 200
    sheet = load_workbook(io.BytesIO(resp.data), read_only=True).active
    return [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v]


def test_hidden_exported_column_is_left_out_of_the_export(app, make_user, make_client,
                                                          client, grant):
    """统一社会信用代码 is one of the client export's columns: hidden from FieldAgent,
    his export has neither the column nor a code, while a Manager's still has both."""
    from app.extensions import db
    from app.models import HiddenField

    agent = make_user("FieldAgent")
    make_client(name="导出隐藏信用代码有限公司", credit_code=CODE, field_agent=agent)
    grant("FieldAgent", "can_export", "ClientModelView")
    grant("Manager", "can_export", "ClientModelView")
    with app.app_context():
        role = app.appbuilder.sm.find_role("FieldAgent")
        db.session.add(HiddenField(role_id=role.id, model="client", field="credit_code"))
        db.session.commit()
    try:
        client.login(agent)
        cells = export_cells(client)
        assert "导出隐藏信用代码有限公司" in cells
        assert CODE not in cells and "统一社会信用代码" not in cells
        client.login(make_user("Manager"))
        cells = export_cells(client)
        assert CODE in cells and "统一社会信用代码" in cells
    finally:
        with app.app_context():
            db.session.query(HiddenField).delete()
            db.session.commit()


def test_posted_value_for_hidden_field_is_ignored(app, hidden_phone, client, grant):
    from app.extensions import db
    from app.models import Client

    agent, cid = hidden_phone
    grant("FieldAgent", "can_edit", "ClientModelView")
    if True:
        client.login(agent)
        form = client.get(f"/clients/edit/{cid}").get_data(as_text=True)
        assert 'name="legal_rep_phone"' not in form
        resp = client.post_form(f"/clients/edit/{cid}", {
            "name": "隐藏字段测试有限公司", "status": "active", "taxpayer_type": "small",
            "tax_device_type": "none", "billing_cycle": "month", "billing_state": "billed",
            "service_fee": "0", "field_agent": str(agent.id),
            "legal_rep_phone": "13000000000"})
        assert resp.status_code == 302
        with app.app_context():
            assert db.session.get(Client, cid).legal_rep_phone == PHONE
