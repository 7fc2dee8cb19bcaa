"""业务请求: a client opens a request in the portal, it goes to his 记账会计 (or waits
in the pool), a Manager dispatches, nobody accepting in time sends it back to the
pool, the assignee progresses it with notes, the client confirms it."""
import datetime

import pytest

from ..conftest import WebClient
from ..security.test_portal import add_portal_user


def _item(app, name="开具证明"):
    from app.extensions import db
    from app.models import ServiceItem

    with app.app_context():
        item = db.session.query(ServiceItem).filter_by(name=name).one()
        return item.id, item.accept_hours, item.expected_days


def _req(app, rid):
    from app.extensions import db
    from app.models import ServiceRequest

    with app.app_context():
        db.session.expire_all()
        r = db.session.get(ServiceRequest, rid)
        db.session.expunge(r)
        return r


def _last_request(app, client_id):
    from app.extensions import db
    from app.models import ServiceRequest

    with app.app_context():
        return db.session.query(ServiceRequest).filter_by(client_id=client_id).order_by(
            ServiceRequest.id.desc()).first().id


@pytest.fixture
def desk(app, make_user, make_client, client):
    acct = make_user("Accountant")
    other = make_user("Accountant")
    manager = make_user("Manager")
    mine = make_client(name="请求测试有限公司", bookkeeper=acct)
    orphan = make_client(name="无会计有限公司")
    theirs = make_client(name="别人请求有限公司", bookkeeper=other)
    boss = add_portal_user(app, [mine])
    client.login(boss)
    return type("D", (), {"acct": acct, "other": other, "manager": manager, "mine": mine,
                          "orphan": orphan, "theirs": theirs, "boss": boss, "portal": client})


def open_in_portal(desk, client_id, title="开在职证明", item=None, app=None):
    item_id = item or _item(app)[0]
    return desk.portal.post_form(f"/portal/{client_id}/requests/",
                                 {"item_id": str(item_id), "title": title,
                                  "description": "需要盖章", "urgency": "urgent"})


def test_a_request_opened_in_the_portal_goes_to_the_clients_accountant(app, desk):
    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        start = db.session.query(db.func.max(AuditLog.id)).scalar() or 0
    resp = open_in_portal(desk, desk.mine, app=app)
    assert resp.status_code == 302
    r = _req(app, _last_request(app, desk.mine))
    assert (r.status, r.assignee_id, r.created_by_id) == ("assigned", desk.acct.id, desk.boss.id)
    assert r.assigned_at is not None and r.urgency == "urgent"
    html = desk.portal.get(f"/portal/{desk.mine}/requests/").get_data(as_text=True)
    assert "开在职证明" in html and "已分配" in html
    with app.app_context():
        rows = db.session.query(AuditLog).filter(AuditLog.id > start,
                                                 AuditLog.table_name == "service_request").all()
        assert {row.action for row in rows} >= {"insert", "update"}


def test_a_request_with_bad_values_is_refused_in_chinese(app, desk):
    resp = desk.portal.post_form(f"/portal/{desk.mine}/requests/",
                                 {"item_id": "999999", "title": "", "urgency": "normal"})
    assert resp.status_code == 422
    assert "请选择服务项目" in resp.get_data(as_text=True)


def test_without_an_accountant_it_waits_and_a_manager_dispatches(app, desk, client):
    from ..conftest import v

    add_portal_user(app, [desk.orphan], username=desk.boss.username)
    open_in_portal(desk, desk.orphan, app=app)
    rid = _last_request(app, desk.orphan)
    assert _req(app, rid).status == "new"
    staff = WebClient(app.test_client())
    staff.login(desk.manager)
    form = staff.get(f"/service-requests/step/dispatch/{rid}{v(app, 'ServiceRequest', rid)}")
    assert form.status_code == 200
    resp = staff.post_form(f"/service-requests/step/dispatch/{rid}",
                           {"assignee_id": str(desk.other.id),
                            "version": v(app, "ServiceRequest", rid)[3:]})
    assert resp.status_code == 302
    r = _req(app, rid)
    assert (r.status, r.assignee_id) == ("assigned", desk.other.id)
    # a forged assignee (a client user) is not on the list: refused, nothing moves
    resp = staff.post_form(f"/service-requests/step/dispatch/{rid}",
                           {"assignee_id": str(desk.boss.id),
                            "version": v(app, "ServiceRequest", rid)[3:]})
    assert _req(app, rid).assignee_id == desk.other.id
    # an accountant may not dispatch
    acct = WebClient(app.test_client())
    acct.login(desk.acct)
    resp = acct.post_form(f"/service-requests/step/dispatch/{rid}",
                          {"assignee_id": str(desk.acct.id), "version": "1"})
    assert resp.status_code in (302, 403, 404)
    assert _req(app, rid).assignee_id == desk.other.id


def test_a_request_nobody_accepts_in_time_goes_back_to_the_pool(app, desk):
    from app.services.service_requests import release_unaccepted

    open_in_portal(desk, desk.mine, app=app)
    rid = _last_request(app, desk.mine)
    r = _req(app, rid)
    hours = _item(app)[1]
    tz = datetime.timezone(datetime.timedelta(hours=8))
    just_before = (r.assigned_at + datetime.timedelta(hours=hours, minutes=-1)).replace(tzinfo=tz)
    with app.app_context():
        assert release_unaccepted(just_before) == 0
    assert _req(app, rid).status == "assigned"
    with app.app_context():
        assert release_unaccepted(just_before + datetime.timedelta(minutes=1)) == 1
    r = _req(app, rid)
    assert (r.status, r.assignee_id, r.assigned_at) == ("new", None, None)
    with app.app_context():  # twice: nothing more
        assert release_unaccepted(just_before + datetime.timedelta(hours=5)) == 0


def test_the_scheduler_job_returns_them_on_its_tick(app, desk):
    from app import scheduler

    open_in_portal(desk, desk.mine, app=app)
    rid = _last_request(app, desk.mine)
    r = _req(app, rid)
    later = r.assigned_at + datetime.timedelta(hours=_item(app)[1], minutes=20)
    with app.app_context():
        from app.extensions import db
        from app.models import ScheduledJob

        job = db.session.query(ScheduledJob).filter_by(code="release_service_requests").one()
        scheduler.run_job(job, later.replace(minute=0, second=0, microsecond=0), now=later)
    assert _req(app, rid).status == "new"


def test_an_accepted_request_stays_with_its_assignee(app, desk):
    from app.services.service_requests import release_unaccepted

    open_in_portal(desk, desk.mine, app=app)
    rid = _last_request(app, desk.mine)
    staff = WebClient(app.test_client())
    staff.login(desk.acct)
    from ..conftest import seen

    resp = staff.post_form("/service-requests/action_post",
                           {"action": "accept", "rowid": seen(app, "ServiceRequest", rid)})
    assert resp.status_code == 302
    r = _req(app, rid)
    assert r.status == "in_progress" and r.accepted_at is not None
    tz = datetime.timezone(datetime.timedelta(hours=8))
    with app.app_context():
        assert release_unaccepted((r.assigned_at + datetime.timedelta(days=30)).replace(
            tzinfo=tz)) == 0


def test_only_the_assignee_accepts(app, desk):
    from app.services import service_requests
    from app.models import ServiceRequest, Staff
    from app.extensions import db

    open_in_portal(desk, desk.mine, app=app)
    rid = _last_request(app, desk.mine)
    with app.app_context():
        r = db.session.get(ServiceRequest, rid)
        with pytest.raises(service_requests.RequestError):
            service_requests.step(r, "accept", db.session.get(Staff, desk.manager.id),
                                  datetime.datetime.now(), r.version)
    assert _req(app, rid).status == "assigned"


def test_the_whole_way_with_notes_and_the_client_confirms(app, desk):
    from ..conftest import seen

    open_in_portal(desk, desk.mine, app=app)
    rid = _last_request(app, desk.mine)
    staff = WebClient(app.test_client())
    staff.login(desk.acct)
    staff.post_form("/service-requests/action_post",
                    {"action": "accept", "rowid": seen(app, "ServiceRequest", rid)})
    assert staff.post_form(f"/service-requests/note/{rid}",
                           {"text": "材料已收到，正在办理", "public": "1"}).status_code == 302
    staff.post_form(f"/service-requests/note/{rid}", {"text": "内部：客户欠费，先办"})
    staff.post_form("/service-requests/action_post",
                    {"action": "finish", "rowid": seen(app, "ServiceRequest", rid)})
    assert _req(app, rid).status == "waiting"
    show = staff.get(f"/service-requests/show/{rid}").get_data(as_text=True)
    assert "材料已收到" in show and "内部：客户欠费" in show
    page = desk.portal.get(f"/portal/{desk.mine}/requests/{rid}").get_data(as_text=True)
    assert "材料已收到，正在办理" in page and "内部：客户欠费" not in page
    assert "待客户确认" in page
    resp = desk.portal.post_form(f"/portal/{desk.mine}/requests/{rid}/confirm")
    assert resp.status_code == 302
    r = _req(app, rid)
    assert r.status == "done" and r.closed_at is not None
    # done is locked: a second confirm changes nothing, an edit is refused
    desk.portal.post_form(f"/portal/{desk.mine}/requests/{rid}/confirm")
    assert _req(app, rid).version == r.version


def test_staff_lists_are_scoped_like_clients(app, desk):
    open_in_portal(desk, desk.mine, title="甲客户的请求", app=app)
    rid = _last_request(app, desk.mine)
    other = WebClient(app.test_client())
    other.login(desk.other)
    assert "甲客户的请求" not in other.get("/service-requests/list/").get_data(as_text=True)
    assert other.get(f"/service-requests/show/{rid}").status_code == 404
    assert other.post_form(f"/service-requests/note/{rid}", {"text": "x"}).status_code == 404
    mine = WebClient(app.test_client())
    mine.login(desk.acct)
    assert "甲客户的请求" in mine.get("/service-requests/list/").get_data(as_text=True)


def test_late_requests_are_amber_then_red_on_the_staff_list(app, desk):
    from app.extensions import db
    from app.models import ServiceRequest

    open_in_portal(desk, desk.mine, title="迟到的请求", app=app)
    rid = _last_request(app, desk.mine)
    days = _item(app)[2]
    staff = WebClient(app.test_client())
    staff.login(desk.acct)
    with app.app_context():
        r = db.session.get(ServiceRequest, rid)
        opened = r.created_on.date()
    app.config["AGENCYDESK_TODAY"] = (opened + datetime.timedelta(days=days)).isoformat()
    try:
        html = staff.get("/service-requests/list/").get_data(as_text=True)
        assert "row-due-soon" in html and "row-overdue" not in html
        app.config["AGENCYDESK_TODAY"] = (opened + datetime.timedelta(days=days + 1)).isoformat()
        html = staff.get("/service-requests/list/").get_data(as_text=True)
        assert "row-overdue" in html
    finally:
        app.config.pop("AGENCYDESK_TODAY", None)


def test_staff_open_a_request_on_the_clients_behalf(app, desk):
    staff = WebClient(app.test_client())
    staff.login(desk.acct)
    item_id = _item(app)[0]
    resp = staff.post_form("/service-requests/add",
                           {"client": str(desk.mine), "item": str(item_id),
                            "title": "代客户提交的请求", "urgency": "normal"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    r = _req(app, _last_request(app, desk.mine))
    assert (r.title, r.status, r.assignee_id) == ("代客户提交的请求", "assigned", desk.acct.id)
    # not for another accountant's client
    resp = staff.post_form("/service-requests/add",
                           {"client": str(desk.theirs), "item": str(item_id),
                            "title": "越权请求", "urgency": "normal"})
    from app.extensions import db
    from app.models import ServiceRequest

    with app.app_context():
        assert db.session.query(ServiceRequest).filter_by(title="越权请求").count() == 0



def test_the_home_page_counts_my_overdue_requests_and_the_pool(app, desk):
    import re

    open_in_portal(desk, desk.mine, title="首页计数请求", app=app)
    rid = _last_request(app, desk.mine)
    r = _req(app, rid)
    days = _item(app)[2]
    staff = WebClient(app.test_client())
    staff.login(desk.acct)

    def card(html, label):
        m = re.search(re.escape(label) + r".{0,400}?font-size:22px\">(\d+)<", html, re.S)
        return int(m.group(1)) if m else None

    assert card(staff.get("/").get_data(as_text=True), "我逾期的业务请求") == 0
    app.config["AGENCYDESK_TODAY"] = (r.created_on.date() + datetime.timedelta(days=days + 1)).isoformat()
    try:
        html = staff.get("/").get_data(as_text=True)
        assert card(html, "我逾期的业务请求") == 1
        html = staff.get(f"/service-requests/list/?_flt_0_assignee={desk.acct.id}").get_data(as_text=True)
        assert "首页计数请求" in html
    finally:
        app.config.pop("AGENCYDESK_TODAY", None)
