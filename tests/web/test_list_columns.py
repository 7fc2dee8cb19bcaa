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


def test_next_tax_clearing_and_annual_report_dates_as_columns(app, client, make_user,
                                                              make_client):
    """选择列 offers 下次抄税清卡 and 下次工商年报: each row shows the deadline of that
    client's open period, read in the page's own statement (no query per row), and
    the export carries them too."""
    import datetime

    from app.extensions import db
    from app.models import Obligation, ObligationType
    from app.services.obligations import sync_obligations

    from .test_list_performance_shape import count_statements

    today = datetime.date(2026, 11, 23)
    app.config["AGENCYDESK_TODAY"] = today.isoformat()
    try:
        me = make_user("Accountant")
        with_device = [make_client(name=f"税控列测试{i}有限公司", bookkeeper=me,
                                   tax_device_type="ukey") for i in range(3)]
        without = make_client(name="无税控列测试有限公司", bookkeeper=me)
        with app.app_context():
            sync_obligations(today, "Asia/Shanghai")
            due = dict(db.session.query(Obligation.client_id, Obligation.deadline)
                       .join(ObligationType, ObligationType.id == Obligation.type_id)
                       .filter(ObligationType.code == "tax_clearing",
                               Obligation.client_id.in_(with_device)).all())
            annual = dict(db.session.query(Obligation.client_id, Obligation.deadline)
                          .join(ObligationType, ObligationType.id == Obligation.type_id)
                          .filter(ObligationType.code == "business_annual",
                                  Obligation.client_id == without).all())
        assert set(due) == set(with_device) and without in annual
        client.login(me)
        page = client.get("/clients/columns").get_data(as_text=True)
        assert 'value="next_tax_clearing"' in page and 'value="next_business_annual"' in page
        client.post_form("/clients/columns", {"col": ["name", "tax_device_type"]})
        client.get("/clients/list/?psize_ClientModelView=100")  # warm
        with count_statements(app) as plain:
            client.get("/clients/list/?psize_ClientModelView=100")
        resp = client.post_form("/clients/columns", {
            "col": ["name", "next_tax_clearing", "next_business_annual"],
            "order_name": "1", "order_next_tax_clearing": "2", "order_next_business_annual": "3"})
        assert resp.status_code == 302
        client.get("/clients/list/?psize_ClientModelView=100")  # warm
        with count_statements(app) as chosen:
            html = client.get("/clients/list/?psize_ClientModelView=100").get_data(as_text=True)
        assert _headers(html) == ["公司名称", "下次抄税清卡", "下次工商年报"], _headers(html)
        for cid in with_device:
            assert str(due[cid]) in html
        assert str(annual[without]) in html
        # the dates come with the page: no statement per row or per column
        assert len(chosen) == len(plain), (len(plain), len(chosen))
        book = load_workbook(io.BytesIO(client.get("/clients/export.xlsx").data)).active
        rows = list(book.iter_rows(values_only=True))
        assert rows[0] == ("公司名称", "下次抄税清卡", "下次工商年报")
        by_name = {r[0]: r for r in rows[1:]}
        assert str(by_name["税控列测试0有限公司"][1])[:10] == str(due[with_device[0]])
        assert by_name["无税控列测试有限公司"][1] in (None, "")
    finally:
        app.config.pop("AGENCYDESK_TODAY", None)
