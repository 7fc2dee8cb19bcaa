"""选择列: each user chooses and orders his client list's columns; the export follows;
other users keep theirs; a forged or hidden column is refused."""
from __future__ import annotations

import io
import re

from openpyxl import load_workbook


def _headers(html: str) -> list[str]:
    table = html[html.index("<table"):]
    head = table[:table.index("</thead>")]
    return [re.sub(r"<[^>]+>|\s+", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
            if re.sub(r"<[^>]+>|\s+", "", h)]


def test_a_user_chooses_his_columns_and_the_export_follows(app, client, make_user,
                                                            make_client):
    me, other = make_user("Manager"), make_user("Manager")
    make_client(name="选列测试有限公司", contact_name="周八")
    client.login(me)
    assert "选择列" in client.get("/clients/list/").get_data(as_text=True)
    resp = client.post_form("/clients/columns", {"col": ["contact_name", "name"],
                                                 "order_contact_name": "2", "order_name": "1"})
    assert resp.status_code == 302
    heads = _headers(client.get("/clients/list/").get_data(as_text=True))
    assert heads == ["公司名称", "联系人"], heads
    book = load_workbook(io.BytesIO(client.get("/clients/export.xlsx").data)).active
    assert [c.value for c in next(book.iter_rows())] == ["公司名称", "联系人"]
    client.login(other)
    assert "统一社会信用代码" in _headers(client.get("/clients/list/").get_data(as_text=True))
    client.login(me)
    for bad in ({"col": ["password"]}, {"col": []}, {"col": ["name", "name"]},
                {"col": ["name\x00"]}):
        assert client.post_form("/clients/columns", bad).status_code == 400
    assert client.post_form("/clients/columns", {"reset": "1"}).status_code == 302
    assert "统一社会信用代码" in _headers(client.get("/clients/list/").get_data(as_text=True))


def test_a_hidden_field_cannot_be_chosen(app, client, make_user, grant):
    from sqlalchemy import text

    from app.extensions import db
    from app.models import HiddenField

    me = make_user("Accountant")
    with app.app_context():
        role = app.appbuilder.sm.find_role("Accountant")
        db.session.add(HiddenField(role_id=role.id, model="client", field="contact_phone"))
        db.session.commit()
    try:
        client.login(me)
        page = client.get("/clients/columns").get_data(as_text=True)
        assert 'value="contact_phone"' not in page
        assert client.post_form("/clients/columns", {"col": ["name", "contact_phone"]}) \
            .status_code == 400
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM hidden_field WHERE field = 'contact_phone'"))
            db.session.commit()
