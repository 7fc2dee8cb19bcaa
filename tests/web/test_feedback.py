"""评价 once per completed request, 投诉 to the Managers tracked to closure, and the
staff performance table equal to a recount."""
import datetime

import pytest

from ..conftest import WebClient
from ..security.test_portal import add_portal_user


def make_request(app, client_id, assignee_id, status="done", opened=None, closed=None,
                 item_name="开具证明", title="已办结请求"):
    from app.extensions import db
    from app.models import ServiceItem, ServiceRequest

    with app.app_context():
        item = db.session.query(ServiceItem).filter_by(name=item_name).one()
        r = ServiceRequest(client_id=client_id, item_id=item.id, title=title, status=status,
                           assignee_id=assignee_id)
        if opened:
            r.created_on = opened
        if closed:
            r.closed_at = closed
        elif status == "done":
            r.closed_at = datetime.datetime.now()
        db.session.add(r)
        db.session.commit()
        return r.id


@pytest.fixture
def shop(app, make_user, make_client, client):
    acct = make_user("Accountant", first_name="评价", last_name="钱")
    manager = make_user("Manager")
    mine = make_client(name="评价客户有限公司", bookkeeper=acct)
    boss = add_portal_user(app, [mine])
    client.login(boss)
    return type("S", (), {"acct": acct, "manager": manager, "mine": mine, "boss": boss,
                          "portal": client})


def ratings(app):
    from app.extensions import db
    from app.models import ServiceRating

    with app.app_context():
        return [(r.request_id, r.staff_id, r.overall, r.attitude, r.speed, r.comment)
                for r in db.session.query(ServiceRating).all()]


def test_a_completed_request_is_rated_once(app, shop):
    rid = make_request(app, shop.mine, shop.acct.id)
    url = f"/portal/{shop.mine}/requests/{rid}"
    assert "提交评价" in shop.portal.get(url).get_data(as_text=True)
    resp = shop.portal.post_form(url + "/rate", {"overall": "good", "attitude": "5",
                                                 "speed": "4", "comment": "很快"})
    assert resp.status_code == 302
    assert ratings(app) == [(rid, shop.acct.id, "good", 5, 4, "很快")]
    page = shop.portal.get(url).get_data(as_text=True)
    assert "好评" in page and "提交评价" not in page
    resp = shop.portal.post_form(url + "/rate", {"overall": "bad", "attitude": "1",
                                                 "speed": "1"}, follow_redirects=True)
    assert "此请求已评价过" in resp.get_data(as_text=True)
    assert ratings(app) == [(rid, shop.acct.id, "good", 5, 4, "很快")]


def test_the_database_keeps_one_rating_per_request(app, shop):
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from app.models import ServiceRating

    rid = make_request(app, shop.mine, shop.acct.id)
    with app.app_context():
        conn = db.session.connection()
        row = {"request_id": rid, "client_id": shop.mine, "overall": "good", "attitude": 5,
               "speed": 5, "created_on": datetime.datetime.now()}
        conn.execute(ServiceRating.__table__.insert(), [row])
        with pytest.raises(IntegrityError):
            conn.execute(ServiceRating.__table__.insert(), [row])
        db.session.rollback()


@pytest.mark.parametrize("form", [
    {"overall": "great", "attitude": "5", "speed": "5"},
    {"overall": "good", "attitude": "9", "speed": "5"},
    {"overall": "good", "attitude": "5", "speed": "0"},
    {"overall": "good", "attitude": "x", "speed": "5"}])
def test_bad_ratings_are_refused(app, shop, form):
    rid = make_request(app, shop.mine, shop.acct.id)
    shop.portal.post_form(f"/portal/{shop.mine}/requests/{rid}/rate", form)
    assert ratings(app) == []


def test_a_request_not_completed_cannot_be_rated(app, shop):
    rid = make_request(app, shop.mine, shop.acct.id, status="in_progress")
    shop.portal.post_form(f"/portal/{shop.mine}/requests/{rid}/rate",
                          {"overall": "bad", "attitude": "1", "speed": "1"})
    assert ratings(app) == []


def test_a_complaint_goes_to_the_managers_and_is_closed_with_its_resolution(app, shop):
    from app.extensions import db
    from app.models import Complaint

    from ..conftest import v

    rid = make_request(app, shop.mine, shop.acct.id, status="in_progress")
    resp = shop.portal.post_form(f"/portal/{shop.mine}/requests/{rid}/complain",
                                 {"text": "拖了两周还没办"})
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.query(Complaint).one()
        cid = c.id
        assert (c.status, c.staff_id, c.request_id, c.created_by_id) == (
            "open", shop.acct.id, rid, shop.boss.id)
    acct = WebClient(app.test_client())
    acct.login(shop.acct)
    assert acct.get("/complaints/list/").status_code in (302, 403)
    manager = WebClient(app.test_client())
    manager.login(shop.manager)
    assert "拖了两周还没办" in manager.get("/complaints/list/").get_data(as_text=True)
    assert "待处理的客户投诉" in manager.get("/").get_data(as_text=True)
    resp = manager.post_form(f"/complaints/step/close/{cid}",
                             {"reason": "已致电客户道歉，改由经理跟进",
                              "version": v(app, "Complaint", cid)[3:]})
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Complaint, cid)
        assert (c.status, c.handled_by_id) == ("closed", shop.manager.id)
        assert c.resolution == "已致电客户道歉，改由经理跟进" and c.closed_at is not None
    page = shop.portal.get(f"/portal/{shop.mine}/").get_data(as_text=True)
    assert "已关闭" in page and "已致电客户道歉" in page


def test_a_complaint_about_the_accountant_names_him(app, shop):
    from app.extensions import db
    from app.models import Complaint

    shop.portal.post_form(f"/portal/{shop.mine}/complaints",
                          {"about": "bookkeeper", "text": "电话总是不接"})
    shop.portal.post_form(f"/portal/{shop.mine}/complaints", {"about": "", "text": "   "})
    with app.app_context():
        assert [(c.staff_id, c.text) for c in db.session.query(Complaint).all()] == [
            (shop.acct.id, "电话总是不接")]


def test_performance_equals_a_recount(app, shop, make_user, make_client):
    from app.extensions import db
    from app.models import Complaint, ServiceRating

    other = make_user("Accountant", first_name="绩效", last_name="孙")
    second = make_client(name="绩效二有限公司", bookkeeper=other)
    nov = datetime.datetime(2026, 11, 10, 9, 0)
    # 开具证明: 3 expected days. acct: 3 done in November (2 on time), 1 in October;
    # other: 1 on time. Ratings and complaints in November.
    r1 = make_request(app, shop.mine, shop.acct.id, opened=nov, closed=nov + datetime.timedelta(days=1))
    r2 = make_request(app, shop.mine, shop.acct.id, opened=nov, closed=nov + datetime.timedelta(days=3))
    make_request(app, shop.mine, shop.acct.id, opened=nov, closed=nov + datetime.timedelta(days=8))
    make_request(app, shop.mine, shop.acct.id, opened=nov - datetime.timedelta(days=40),
                 closed=nov - datetime.timedelta(days=38))
    make_request(app, shop.mine, shop.acct.id, status="in_progress", opened=nov)
    r5 = make_request(app, second, other.id, opened=nov, closed=nov)
    with app.app_context():
        for rid, staff, overall, att, spd in ((r1, shop.acct.id, "good", 5, 4),
                                              (r2, shop.acct.id, "bad", 2, 1),
                                              (r5, other.id, "neutral", 4, 4)):
            db.session.add(ServiceRating(request_id=rid, client_id=shop.mine if staff == shop.acct.id else second,
                                         staff_id=staff, overall=overall, attitude=att,
                                         speed=spd, created_on=nov + datetime.timedelta(days=5)))
        db.session.add(Complaint(client_id=shop.mine, staff_id=shop.acct.id, text="慢",
                                 created_on=nov))
        db.session.add(Complaint(client_id=shop.mine, staff_id=shop.acct.id, text="十月的",
                                 created_on=nov - datetime.timedelta(days=30)))
        db.session.commit()
    manager = WebClient(app.test_client())
    manager.login(shop.manager)
    html = manager.get("/service-performance/?month=2026-11").get_data(as_text=True)

    def cell(username, cls):
        import re

        row = re.search(r'<tr data-staff="%s">(.*?)</tr>' % re.escape(username), html, re.S)
        assert row, username
        return re.search(r'class="text-right %s[^"]*">([^<]*)<' % cls, row.group(1)).group(1)

    assert (cell(shop.acct.username, "handled"), cell(shop.acct.username, "on-time"),
            cell(shop.acct.username, "attitude"), cell(shop.acct.username, "speed"),
            cell(shop.acct.username, "complaints")) == ("3", "66.7", "3.5", "2.5", "1")
    assert (cell(other.username, "handled"), cell(other.username, "on-time"),
            cell(other.username, "attitude")) == ("1", "100.0", "4.0")
    # the chart (ECharts, vendored) draws the same figures as the table
    import json
    import re

    assert 'id="chart-performance"' in html
    chart = json.loads(re.search(r"var c = (\{.*?\});", html).group(1))
    at = chart["names"].index(shop.acct.get_full_name()
                              if hasattr(shop.acct, "get_full_name") else chart["names"][0])
    assert (chart["handled"][at], chart["on_time"][at], chart["complaints"][at]) == (3, 66.7, 1)
    # scoped: the accountant's own view would leave the other out — the table is the
    # Manager's; an accountant is refused it
    acct = WebClient(app.test_client())
    acct.login(shop.acct)
    assert acct.get("/service-performance/?month=2026-11").status_code in (302, 403)
