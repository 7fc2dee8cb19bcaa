"""客户门户 at phone width (375 × 740): a client signs in on the login page, opens a
request with an attachment, staff progress it, the client reads the progress and
rates it. Screenshots of each step are left in the test's tmp folder
(AGENCYDESK_SHOTS=folder keeps them elsewhere)."""
from __future__ import annotations

import os

import pytest

from tests.conftest import PASSWORD, WebClient, seen

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_client_asks_follows_and_rates_on_a_phone(browser, live_server, app, make_user,
                                                     make_client, tmp_path):
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import ServiceAttachment, ServiceRequest

    from ..security.test_portal import add_portal_user

    shots = os.environ.get("AGENCYDESK_SHOTS") or str(tmp_path)
    acct = make_user("Accountant", first_name="小红", last_name="陈", phone="13700001234")
    cid = make_client(name="手机门户测试有限公司", bookkeeper=acct)
    boss = add_portal_user(app, [cid])
    context = browser.new_context(base_url=live_server, locale="zh-CN",
                                  timezone_id="Asia/Shanghai",
                                  viewport={"width": 375, "height": 740},
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text} "
                                               f"({m.location.get('url', '')})")
            if m.type == "error" else None)
    try:
        page.goto("/login/")
        page.locator("#username").fill(boss.username)
        page.locator("#password").fill(PASSWORD)
        page.locator("form [type=submit]").first.click()
        page.wait_for_url(f"**/portal/{cid}/")
        expect(page.locator("#portal-people")).to_contain_text("陈小红")
        expect(page.locator("#portal-people")).to_contain_text("13700001234")
        # nothing wider than the phone: no sideways scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
        page.screenshot(path=os.path.join(shots, "portal-1-company.png"), full_page=True)

        page.locator(".portal-tabs a").nth(1).click()
        page.locator("#item_id").select_option(label="开具证明")
        page.locator("#title").fill("开一份纳税证明")
        page.locator("#description").fill("银行贷款要用")
        pdf = tmp_path / "营业执照.pdf"
        pdf.write_bytes(PDF)
        page.locator("#files").set_input_files(str(pdf))
        page.screenshot(path=os.path.join(shots, "portal-2-new-request.png"), full_page=True)
        page.locator("#portal-new-request button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        expect(page.locator("#portal-request-list")).to_contain_text("开一份纳税证明")
        expect(page.locator("#portal-request-list")).to_contain_text("已分配")

        with app.app_context():
            req = db.session.query(ServiceRequest).filter_by(client_id=cid).one()
            rid = req.id
            assert db.session.query(ServiceAttachment).filter_by(request_id=rid).count() == 1
        staff = WebClient(app.test_client())
        staff.login(acct)
        staff.post_form("/service-requests/action_post",
                        {"action": "accept", "rowid": seen(app, "ServiceRequest", rid)})
        staff.post_form(f"/service-requests/note/{rid}",
                        {"text": "已在电子税务局提交，明天取证明", "public": "1"})
        staff.post_form("/service-requests/action_post",
                        {"action": "finish", "rowid": seen(app, "ServiceRequest", rid)})

        page.goto(f"/portal/{cid}/requests/{rid}")
        expect(page.locator("#portal-progress")).to_contain_text("已在电子税务局提交")
        expect(page.locator("#portal-files")).to_contain_text("营业执照.pdf")
        expect(page.locator(".portal-bell .notice-unread")).to_have_text("2")
        page.screenshot(path=os.path.join(shots, "portal-3-progress.png"), full_page=True)
        page.get_by_role("button", name="确认完成").click()
        expect(page.locator("#portal-rating")).to_be_visible()
        page.locator("#portal-rating label", has_text="好评").click()
        page.locator("#attitude").select_option("5")
        page.locator("#speed").select_option("4")
        page.locator("#portal-rating textarea").fill("很及时")
        page.get_by_role("button", name="提交评价").click()
        expect(page.locator(".alert-success")).to_contain_text("感谢您的评价")
        expect(page.locator("#portal-rating")).to_contain_text("服务态度 5/5")
        page.screenshot(path=os.path.join(shots, "portal-4-rated.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
        assert real_errors(errors) == []
        with app.app_context():
            assert db.session.get(ServiceRequest, rid).status == "done"
    finally:
        context.close()
