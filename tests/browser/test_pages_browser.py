"""The client page and 我的今日 in a real browser: the client page's panels render
(screenshot), and on a 390-px-wide phone 我的今日 has no horizontal scrolling and
one tap on 完成 completes the visit. Screenshots go to bench/out/screens/."""
from __future__ import annotations

import os

import pytest

from tests.conftest import PASSWORD

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser
SCREENS = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "out", "screens")


def _login(page, user):
    page.goto("/login/")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_client_page_panels_and_phone_day(page, browser, live_server, make_user, make_client,
                                          app):
    from playwright.sync_api import expect

    from app import clock
    from app.extensions import db
    from app.models import Obligation, ObligationRecord, ObligationType, Todo
    from app.services.obligations import sync_client

    os.makedirs(SCREENS, exist_ok=True)
    agent = make_user("FieldAgent")
    acct = make_user("Accountant")
    cid = make_client(name="浏览器客户页有限公司", bookkeeper=acct, field_agent=agent,
                      ticket_pickup="month", business_address="北京市朝阳区很长很长的建国路八十八号现代城五号楼一二零一室",
                      contact_name="孙七", contact_phone="13900139000")
    today = clock.today()
    with app.app_context():
        sync_client(cid, today, clock.tz_name())
        ob = db.session.query(Obligation).join(ObligationType).filter(
            Obligation.client_id == cid, ObligationType.code == "ticket_pickup").one()
        ob.deadline = today
        db.session.add(Todo(title="取回本月发票", client_id=cid, assignee_id=agent.id,
                            created_by_id=acct.id, expected_date=today))
        db.session.commit()
        ob_id = ob.id

    _login(page, acct)
    page.goto(f"/clients/show/{cid}")
    expect(page.locator("#panel-obligations")).to_be_visible()
    expect(page.locator("#panel-todos")).to_contain_text("取回本月发票")
    page.screenshot(path=os.path.join(SCREENS, "client-page.png"), full_page=True)
    assert not real_errors(page.js_errors), page.js_errors
    # the panels come after the fields (their own request): their 完成 still asks first —
    # dismissed, nothing is recorded; accepted, once
    with app.app_context():
        other = db.session.query(Obligation.id).filter(
            Obligation.client_id == cid, Obligation.id != ob_id,
            Obligation.active.is_(True)).order_by(Obligation.deadline).first()[0]
    done = page.locator(f"#panel-obligations form[action*='/complete/{other}?'] button")
    page.once("dialog", lambda dialog: dialog.dismiss())
    done.click()
    page.wait_for_timeout(300)
    with app.app_context():
        assert db.session.query(ObligationRecord).filter_by(obligation_id=other).count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        done.click()
    with app.app_context():
        assert db.session.query(ObligationRecord).filter_by(obligation_id=other).count() == 1

    phone = browser.new_context(base_url=live_server, locale="zh-CN",
                                timezone_id="Asia/Shanghai",
                                viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    try:
        mobile = phone.new_page()
        _login(mobile, agent)
        mobile.goto("/my-day/")
        expect(mobile.locator(".visit-card")).to_contain_text("浏览器客户页有限公司")
        expect(mobile.locator(".todo-card")).to_contain_text("取回本月发票")
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"horizontal scrolling on a phone: {width}px"
        mobile.screenshot(path=os.path.join(SCREENS, "my-day-phone.png"), full_page=True)
        with mobile.expect_navigation():
            mobile.locator(".visit-card button[type=submit]").first.tap()
        expect(mobile.locator(".alert")).to_contain_text("1")
        with app.app_context():
            assert db.session.query(ObligationRecord).filter_by(obligation_id=ob_id).count() == 1
    finally:
        phone.close()
