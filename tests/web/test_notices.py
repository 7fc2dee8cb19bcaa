"""通知: stored notices and the bell's unread count for staff and client users, each
reader's own only; e-mail through SMTP when configured (a local aiosmtpd server)."""
import re

import pytest

from ..conftest import WebClient, seen
from ..security.test_portal import add_portal_user
from .test_service_requests import _item, _last_request


@pytest.fixture
def office(app, make_user, make_client, client):
    acct = make_user("Accountant")
    manager = make_user("Manager")
    mine = make_client(name="通知客户有限公司", bookkeeper=acct)
    boss = add_portal_user(app, [mine])
    client.login(boss)
    staff = WebClient(app.test_client())
    staff.login(acct)
    return type("O", (), {"acct": acct, "manager": manager, "mine": mine, "boss": boss,
                          "portal": client, "staff": staff})


def open_request(office, app, title="要开证明"):
    office.portal.post_form(f"/portal/{office.mine}/requests/",
                            {"item_id": str(_item(app)[0]), "title": title, "urgency": "normal"})
    return _last_request(app, office.mine)


def unread_badge(html):
    m = re.search(r'class="badge notice-unread">(\d+)<', html)
    return int(m.group(1)) if m else 0


def test_the_accountant_is_told_of_a_request_dispatched_to_him(app, office):
    assert unread_badge(office.staff.get("/").get_data(as_text=True)) == 0
    rid = open_request(office, app)
    html = office.staff.get("/notices/").get_data(as_text=True)
    assert "要开证明" in html
    assert unread_badge(office.staff.get("/clients/list/").get_data(as_text=True)) == 1
    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        nid = db.session.query(Notice).filter_by(user_id=office.acct.id).one().id
    resp = office.staff.get(f"/notices/open/{nid}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/service-requests/show/{rid}")
    assert unread_badge(office.staff.get("/clients/list/").get_data(as_text=True)) == 0
    # another user's notice: 404, and it stays unread for him
    other = WebClient(app.test_client())
    other.login(office.manager)
    assert other.get(f"/notices/open/{nid}").status_code == 404
    assert office.portal.get(f"/portal/notices/{nid}").status_code == 404


def test_the_client_is_told_of_progress_and_completion_not_of_internal_notes(app, office):
    rid = open_request(office, app)
    office.staff.post_form("/service-requests/action_post",
                           {"action": "accept", "rowid": seen(app, "ServiceRequest", rid)})
    office.staff.post_form(f"/service-requests/note/{rid}", {"text": "内部备注"})
    assert unread_badge(office.portal.get(f"/portal/{office.mine}/").get_data(as_text=True)) == 0
    office.staff.post_form(f"/service-requests/note/{rid}", {"text": "已受理", "public": "1"})
    office.staff.post_form("/service-requests/action_post",
                           {"action": "finish", "rowid": seen(app, "ServiceRequest", rid)})
    page = office.portal.get(f"/portal/{office.mine}/").get_data(as_text=True)
    assert unread_badge(page) == 2
    html = office.portal.get("/portal/notices").get_data(as_text=True)
    assert "要开证明" in html and "请确认" in html
    # the client confirms: the accountant is told
    office.portal.post_form(f"/portal/{office.mine}/requests/{rid}/confirm")
    assert "客户已回复" in office.staff.get("/notices/").get_data(as_text=True)


def test_a_complaint_tells_the_managers(app, office):
    manager = WebClient(app.test_client())
    manager.login(office.manager)
    office.portal.post_form(f"/portal/{office.mine}/complaints",
                            {"about": "bookkeeper", "text": "不回电话"})
    assert "通知客户有限公司" in manager.get("/notices/").get_data(as_text=True)
    assert "通知客户有限公司" not in office.staff.get("/notices/").get_data(as_text=True)


def test_notices_are_emailed_through_smtp_when_configured(app, office):
    import socket

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("AGENCYDESK_SMTP_HOST", "AGENCYDESK_SMTP_PORT", "AGENCYDESK_SMTP_SENDER")
    kept = {key: app.config.get(key) for key in keys}
    app.config.update(AGENCYDESK_SMTP_HOST="127.0.0.1", AGENCYDESK_SMTP_PORT=port,
                      AGENCYDESK_SMTP_SENDER="desk@firm.test")
    try:
        open_request(office, app, title="邮件测试请求")
    finally:
        controller.stop()
        app.config.update(kept)
    assert len(received) == 1
    rcpts, content = received[0]
    assert rcpts == [office.acct.email]
    assert "Subject:" in content
    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        assert db.session.query(Notice).filter_by(user_id=office.acct.id).one().emailed_at


def test_without_smtp_settings_nothing_is_sent_and_the_notice_stays(app, office):
    assert not app.config.get("AGENCYDESK_SMTP_HOST")
    open_request(office, app)
    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        n = db.session.query(Notice).filter_by(user_id=office.acct.id).one()
        assert n.emailed_at is None and n.read_at is None


def _notices(app, user_id, key):
    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        return [n.params for n in db.session.query(Notice).filter_by(user_id=user_id, key=key)]


def test_the_client_is_told_once_when_his_filing_is_done(app, office, make_client, make_user):
    """完成 of his filing (even posted twice) leaves his portal user one notice naming
    the kind and the period; the other client's user hears nothing."""
    import datetime

    from app.extensions import db
    from app.models import Obligation, ObligationType

    other_boss = add_portal_user(app, [make_client(name="别家通知有限公司",
                                                   bookkeeper=make_user("Accountant"))])
    with app.app_context():
        vat = db.session.query(ObligationType).filter_by(code="vat").one()
        ob = Obligation(client_id=office.mine, type_id=vat.id, period="2026-11",
                        deadline=datetime.date(2026, 12, 15), active=True,
                        assignee_id=office.acct.id)
        db.session.add(ob)
        db.session.commit()
        ob_id, kind = ob.id, vat.name
    form = {"action": "complete", "rowid": f"{ob_id}@2026-12-15"}
    for _ in range(2):  # a double click
        office.staff.post_form("/obligations/action_post", form)
    told = _notices(app, office.boss.id, "filing_done")
    assert len(told) == 1 and kind in told[0] and "2026-11" in told[0], told
    assert "已申报" in office.portal.get("/portal/notices").get_data(as_text=True)
    assert _notices(app, other_boss.id, "filing_done") == []


def test_the_client_is_told_once_of_a_fee_charged(app, office, make_client):
    """The charge run tells the client's portal users of each fee it charges — once:
    a rerun charges nothing and tells nothing."""
    import datetime
    from decimal import Decimal

    from app.extensions import db
    from app.models import Client
    from app.services.ledger import generate_charges

    with app.app_context():
        row = db.session.get(Client, office.mine)
        row.billing_cycle, row.service_fee = "month", Decimal("350.00")
        row.next_fee_date, row.billing_state = datetime.date(2026, 11, 1), "billed"
        db.session.commit()
        first = generate_charges(datetime.date(2026, 11, 30))
        again = generate_charges(datetime.date(2026, 11, 30))
    told = _notices(app, office.boss.id, "fee_due")
    assert first >= 1 and again == 0
    assert len(told) == first and "350.00" in told[0] and "2026-11-01" in told[0], told
    assert "350.00 元" in office.portal.get("/portal/notices").get_data(as_text=True)


def test_a_filing_done_is_emailed_to_the_client_when_smtp_is_configured(app, office):
    """The batch notices (报税 完成, a fee charged) go out by e-mail too, after their
    transaction committed, one message per client user."""
    import datetime
    import socket

    from aiosmtpd.controller import Controller

    from app.extensions import db
    from app.models import Obligation, ObligationType, Staff

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    with app.app_context():
        db.session.get(Staff, office.boss.id).email = "boss@client.test"
        vat = db.session.query(ObligationType).filter_by(code="vat").one()
        ob = Obligation(client_id=office.mine, type_id=vat.id, period="2026-11",
                        deadline=datetime.date(2026, 12, 15), active=True)
        db.session.add(ob)
        db.session.commit()
        ob_id = ob.id
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    keys = ("AGENCYDESK_SMTP_HOST", "AGENCYDESK_SMTP_PORT", "AGENCYDESK_SMTP_SENDER")
    kept = {key: app.config.get(key) for key in keys}
    app.config.update(AGENCYDESK_SMTP_HOST="127.0.0.1", AGENCYDESK_SMTP_PORT=port,
                      AGENCYDESK_SMTP_SENDER="desk@firm.test")
    try:
        office.staff.post_form("/obligations/action_post",
                               {"action": "complete", "rowid": f"{ob_id}@2026-12-15"})
    finally:
        controller.stop()
        app.config.update(kept)
    to_boss = [content for rcpts, content in received if rcpts == ["boss@client.test"]]
    assert len(to_boss) == 1, received
    assert "2026-11" in to_boss[0] or "=?utf-8?" in to_boss[0]
