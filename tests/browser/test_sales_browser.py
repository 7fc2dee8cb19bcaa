"""销售 in a real browser: a salesperson enters a lead, opens it, enters the won
lead's sales contract with an item from the price list and submits it; his manager
approves it, and the lead is a client in the client list and in 合同管理."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser


def _login(page, user):
    page.goto("/logout/")
    page.goto("/login/")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)


def _fire(page, view, name):
    """A details page's action button, then the confirmation's OK."""
    page.locator(f"#btn-action-{view}\\.action-{name}").click()
    page.locator("#modal-confirm-ok:visible").first.click()
    page.wait_for_load_state()


def test_lead_to_contract_to_approval_to_client(page, live_server, make_user, app):
    from playwright.sync_api import expect
    from sqlalchemy import select

    from app.extensions import db
    from app.models import BusinessType

    boss = make_user("Manager", first_name="经理", last_name="周")
    seller = make_user("Sales", first_name="伟", last_name="王", superior_id=boss.id)
    with app.app_context():
        btype = db.session.execute(select(BusinessType.id).where(
            BusinessType.name == "代理记账")).scalar()

    _login(page, seller)
    page.goto("/leads/add")
    page.locator("#name").fill("浏览器餐饮管理有限公司")
    page.locator("#contact_name").fill("刘总")
    page.locator("#mobile").fill("+86 137-1111-2222")
    page.locator("form [type=submit]").first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto("/leads/list/")
    page.locator("tr", has_text="浏览器餐饮管理有限公司").locator("a[href*='/leads/show/']").first.click()
    expect(page.locator(".follow-up-timeline li")).to_have_count(3)   # 1-3-7
    expect(page.locator("body")).to_contain_text("13711112222")

    page.locator("a.won-contract").click()
    page.wait_for_url("**/sales-contracts/add**")
    page.locator("#number").fill("XS-浏览器-001")
    # the date pickers' inputs, set as the picker would
    page.evaluate("""() => {
        for (const [id, v] of [["start_date", "2027-01-01"], ["end_date", "2027-12-31"],
                               ["first_fee_date", "2027-01-01"]]) {
            document.getElementById(id).value = v;
        }
    }""")
    page.locator("form [type=submit]").first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto("/sales-contracts/list/")
    page.locator("tr", has_text="XS-浏览器-001").locator("a[href*='/sales-contracts/show/']").first.click()
    page.locator("a.add-line").click()
    page.wait_for_url("**/sales-contract-lines/add**")
    page.evaluate("([id]) => { document.getElementById('business_type').value = String(id); }", [btype])
    page.locator("#quantity").fill("12")
    page.locator("form [type=submit]").first.click()
    expect(page.locator(".alert-success")).to_be_visible()
    page.goto("/sales-contracts/list/")
    page.locator("tr", has_text="XS-浏览器-001").locator("a[href*='/sales-contracts/show/']").first.click()
    expect(page.locator(".sales-lines")).to_contain_text("代理记账")
    _fire(page, "SalesContractModelView", "submit")
    expect(page.locator("body")).to_contain_text("待审核")

    _login(page, boss)
    page.goto("/sales-contracts/list/")
    page.locator("tr", has_text="XS-浏览器-001").locator("a[href*='/sales-contracts/show/']").first.click()
    _fire(page, "SalesContractModelView", "approve")
    expect(page.locator("body")).to_contain_text("已成为客户")
    page.goto("/clients/list/")
    expect(page.locator("body")).to_contain_text("浏览器餐饮管理有限公司")
    page.goto("/contracts/list/")
    expect(page.locator("body")).to_contain_text("XS-浏览器-001")
    _login(page, seller)
    page.goto("/clients/list/")
    expect(page.locator("body")).to_contain_text("浏览器餐饮管理有限公司")
    assert not real_errors(page.js_errors), page.js_errors
