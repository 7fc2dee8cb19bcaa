"""客户列表 in a real browser: log in, add a client with a mistyped 统一社会信用代码,
read the Chinese error next to the field, fix the code, find the client in the list.

Headless Debian Chromium driven by Playwright (fixtures in conftest.py beside this
file); the app is served over real HTTP with CSRF on, so the tokens come from the
forms as they do for a person.
"""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, valid_code

pytestmark = pytest.mark.browser

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# Console noise that is not a fault of the screen under test: browsers ask for
# /favicon.ico on their own and the app has none; a form posted with errors is
# answered 422 (with the form and its messages), which Chromium logs.
IGNORED_CONSOLE = [re.compile(r"Failed to load resource: .*404.*/favicon\.ico"),
                   re.compile(r"Failed to load resource: .*status of 422 .*/(add|edit)")]


def mistyped(code: str) -> str:
    """``code`` with a wrong 18th character (the GB 32100 check digit)."""
    wrong = USCC_ALPHABET[(USCC_ALPHABET.index(code[17]) + 1) % len(USCC_ALPHABET)]
    return code[:17] + wrong


def real_errors(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(p.search(e) for p in IGNORED_CONSOLE)]


def test_add_client_with_wrong_credit_code_then_fix_it(page, live_server, make_user,
                                                       app, tmp_path):
    from playwright.sync_api import expect

    admin = make_user("Admin")
    name = "浏览器测试科技有限公司"
    good_code = valid_code()
    bad_code = mistyped(good_code)

    # Log in through the form (its CSRF token comes with the page).
    page.goto("/login/")
    page.locator("#username").fill(admin.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)

    # 客户列表, in Chinese, empty for now.
    page.goto("/clients/list/")
    expect(page.locator(".panel-title").first).to_have_text("客户列表")

    # The list's add button opens the form.
    page.locator("a[href*='/clients/add']").first.click()
    page.wait_for_url(re.compile(r"/clients/add"))

    page.locator("#name").fill(name)
    page.locator("#credit_code").fill(bad_code)
    # Required selects come preset; change one through its Select2 widget to prove
    # the widget works and its value is posted.
    page.locator("#select2-taxpayer_type-container").click()
    page.locator(".select2-results__option", has_text="一般纳税人").click()
    expect(page.locator("#select2-taxpayer_type-container")).to_contain_text("一般纳税人")
    page.locator("form button[type=submit]").first.click()

    # Back on the form: the error sits in the credit code's own cell, in Chinese,
    # and what was typed is kept.
    page.wait_for_load_state()
    error = page.locator("td:has(#credit_code) .alert-danger")
    expect(error).to_be_visible()
    expect(error).to_contain_text("校验")
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#credit_code")).to_have_value(bad_code)
    shot = tmp_path / "credit_code_error.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000, "the error screen rendered nothing"

    # Fix the code: FAB saves and returns to the list, which shows the client.
    page.locator("#credit_code").fill(good_code)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/clients/list"))
    expect(page.locator(".panel-title").first).to_have_text("客户列表")
    row = page.locator("table tr", has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(good_code)

    with app.app_context():
        from app.extensions import db
        from app.models import Client

        saved = db.session.query(Client).filter_by(name=name).one()
        assert (saved.credit_code, saved.taxpayer_type) == (good_code, "general")
        db.session.remove()

    assert real_errors(page.js_errors) == [], "\n".join(page.js_errors)
