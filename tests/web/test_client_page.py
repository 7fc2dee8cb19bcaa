"""One client, one page: each panel shows his rows (scoped, hidden fields left out),
links to the full list filtered to him, and offers the row actions the user holds."""
from __future__ import annotations

import datetime
import decimal
import re

from sqlalchemy import text


def _panel(html: str, key: str) -> str | None:
    m = re.search(rf'id="panel-{key}" data-count="(\d+)"(.*?)</div>\s*</div>\s*</div>', html,
                  re.S)
    return m.group(0) if m else None


def _count(html, key) -> int | None:
    m = re.search(rf'id="panel-{key}" data-count="(\d+)"', html)
    return int(m.group(1)) if m else None


def _page(client, cid) -> str:
    """The client page as the browser shows it: the fields, then the panels it loads
    from the address the page names (its second request)."""
    html = client.get(f"/clients/show/{cid}").get_data(as_text=True)
    src = re.search(r'id="client-panels" data-src="([^"]+)"', html).group(1)
    resp = client.get(src)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    return html + resp.get_data(as_text=True)


def _seed(app, client_id, user):
    from app.extensions import db
    from app.models import AddressService, ClientCredential, Contract, Todo

    with app.app_context():
        db.session.add_all([
            Contract(client_id=client_id, number="HT-页面-1", start_date=datetime.date(2026, 1, 1),
                     end_date=datetime.date(2026, 12, 31), fee=decimal.Decimal("1200.00"),
                     billing_cycle="year", created_by_id=user.id),
            AddressService(client_id=client_id, address="北京市海淀区页面路1号", fee_type="yearly",
                           fee=decimal.Decimal("800.00"), start_date=datetime.date(2026, 1, 1),
                           expiry_date=datetime.date(2026, 12, 31)),
            Todo(title="页面测试待办", client_id=client_id, assignee_id=user.id,
                 created_by_id=user.id, expected_date=datetime.date(2026, 12, 3)),
        ])
        login = ClientCredential(client_id=client_id, system="etax", account="页面税务账号")
        login.secret = "页面密码"
        db.session.add(login)
        db.session.commit()


def test_the_client_page_shows_his_records_in_panels(app, client, make_user, make_client):
    from app import clock
    from app.services.obligations import sync_client

    acct = make_user("Accountant")
    cid = make_client(bookkeeper=acct, name="页面测试有限公司")
    other = make_client(bookkeeper=acct, name="另一家有限公司")
    _seed(app, cid, acct)
    _seed(app, other, acct)
    with app.app_context():
        sync_client(cid, clock.today(), clock.tz_name())
    client.login(acct)
    html = _page(client, cid)
    assert _count(html, "contracts") == 1 and "HT-页面-1" in html
    assert _count(html, "addresses") == 1 and "北京市海淀区页面路1号" in html
    assert _count(html, "todos") == 1 and "页面测试待办" in html
    assert _count(html, "credentials") == 1 and "页面税务账号" in html and "页面密码" not in html
    assert _count(html, "obligations") >= 3        # his tax kinds and tasks
    assert "/obligations/action/complete/" in _panel(html, "obligations")
    assert _count(html, "audit") is None           # an accountant has no audit log screen
    # the full list of his contracts, and only his
    listed = client.get(f"/contracts/list/?client={cid}").get_data(as_text=True)
    assert "HT-页面-1" in listed and listed.count("HT-页面-1") >= 1
    with app.app_context():
        from app.extensions import db

        n_all = db.session.execute(text("SELECT COUNT(*) FROM contract")).scalar()
    assert n_all == 2
    assert client.get("/contracts/list/?client=abc").status_code == 404
    # 新增 from the panel starts with this client chosen
    add = client.get(f"/todos/add?client={cid}").get_data(as_text=True)
    assert re.search(rf'<option value="{cid}" selected>', add)


def test_a_panel_action_completes_exactly_once(app, client, make_user, make_client):
    from app import clock
    from app.extensions import db
    from app.models import ObligationRecord
    from app.services.obligations import sync_client

    acct = make_user("Accountant")
    cid = make_client(bookkeeper=acct)
    with app.app_context():
        sync_client(cid, clock.today(), clock.tz_name())
    client.login(acct)
    html = _page(client, cid)
    url = re.search(r'action="(/obligations/action/complete/\d+\?v=[\d-]+)"',
                    _panel(html, "obligations")).group(1).replace("&amp;", "&")
    assert client.post_form(url).status_code == 302
    assert client.post_form(url).status_code == 302  # the same page posted twice
    with app.app_context():
        assert db.session.query(ObligationRecord).filter_by(client_id=cid).count() == 1


def test_another_accountants_client_page_is_404_and_panels_stay_scoped(
        app, client, make_user, make_client, admin):
    mine, theirs = make_user("Accountant"), make_user("Accountant")
    cid = make_client(bookkeeper=theirs)
    _seed(app, cid, theirs)
    client.login(mine)
    assert client.get(f"/clients/show/{cid}").status_code == 404
    # the panels' own address, and the page with them inline: 404 too, nothing shown
    for path in (f"/clients/panels/{cid}", f"/clients/show/{cid}?panels=inline",
                 "/clients/panels/99999999999999999999999", "/clients/panels/-1"):
        resp = client.get(path)
        assert resp.status_code == 404, path
        assert "北京市海淀区页面路1号" not in resp.get_data(as_text=True)
    listed = client.get(f"/addresses/list/?client={cid}").get_data(as_text=True)
    assert "北京市海淀区页面路1号" not in listed
    client.login(admin)
    html = _page(client, cid)
    assert _count(html, "audit") is not None


def test_hidden_fields_stay_hidden_on_the_panels(app, client, make_user, make_client):
    from app.extensions import db
    from app.models import HiddenField

    acct = make_user("Accountant")
    cid = make_client(bookkeeper=acct)
    _seed(app, cid, acct)
    with app.app_context():
        role = app.appbuilder.sm.find_role("Accountant")
        db.session.add(HiddenField(role_id=role.id, model="address_service", field="address"))
        db.session.commit()
    try:
        client.login(acct)
        html = _page(client, cid)
        assert _count(html, "addresses") == 1
        assert "北京市海淀区页面路1号" not in html
    finally:
        with app.app_context():
            db.session.execute(text("DELETE FROM hidden_field WHERE model = 'address_service'"))
            db.session.commit()


def test_a_won_client_shows_his_lead_and_contacts(app, client, make_user, make_client, admin):
    from app.extensions import db
    from app.models import Contact, Lead

    seller = make_user("Sales")
    cid = make_client(name="签约客户有限公司")
    with app.app_context():
        db.session.add(Lead(name="签约客户有限公司", contact_name="吴九", mobile="16600000001",
                            owner_id=seller.id, stage="won", client_id=cid))
        db.session.add(Contact(client_id=cid, name="吴九", role="老板", mobile="16600000001"))
        db.session.commit()
    client.login(admin)
    html = _page(client, cid)
    assert _count(html, "lead") == 1 and _count(html, "contacts") == 1
    assert "吴九" in _panel(html, "contacts")


def test_the_fields_show_first_and_the_panels_inline_on_request(
        app, client, make_user, make_client):
    """The page itself reads no panel (its records come in the second request);
    ?panels=inline gives both in one page (no JavaScript, printing)."""
    acct = make_user("Accountant")
    cid = make_client(bookkeeper=acct, name="分步加载有限公司")
    _seed(app, cid, acct)
    client.login(acct)
    page = client.get(f"/clients/show/{cid}").get_data(as_text=True)
    assert "分步加载有限公司" in page
    assert 'id="panel-contracts"' not in page and "HT-页面-1" not in page
    assert f'data-src="/clients/panels/{cid}"' in page and "?panels=inline" in page
    inline = client.get(f"/clients/show/{cid}?panels=inline").get_data(as_text=True)
    assert "分步加载有限公司" in inline and _count(inline, "contracts") == 1 \
        and "HT-页面-1" in inline
    fragment = client.get(f"/clients/panels/{cid}").get_data(as_text=True)
    assert _count(fragment, "contracts") == 1 and "<html" not in fragment
