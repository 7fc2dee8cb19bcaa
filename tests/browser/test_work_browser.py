"""待办事项 in a real browser: the client box searches as one types (select2 asking
the view's scoped ``client-search`` endpoint), a todo is saved for the chosen client,
and 完成 from the list marks it done.
"""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser


def test_add_a_todo_choosing_its_client_by_typing(page, live_server, make_user, make_client,
                                                  app):
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import Todo

    me = make_user("Accountant")
    cid = make_client(name="浏览器待办客户有限公司", bookkeeper=me)
    make_client(name="浏览器别人的客户有限公司", bookkeeper=make_user("Accountant"))

    page.goto("/login/")
    page.locator("#username").fill(me.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)

    page.goto("/todos/add")
    page.locator("#title").fill("浏览器里加的待办")
    # select2 replaces the <select> with its own box; typing asks the server.
    page.locator("#client + .select2-container").click()
    page.locator(".select2-search__field").fill("浏览器")
    options = page.locator(".select2-results__option")
    expect(options).to_have_count(1)  # the other user's client is not offered
    expect(options.first).to_contain_text("浏览器待办客户有限公司")
    options.first.click()
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/todos/add" not in url)
    page.goto("/todos/list/")
    expect(page.locator("table.table-bordered")).to_contain_text("浏览器里加的待办")

    with app.app_context():
        todo = db.session.query(Todo).filter_by(title="浏览器里加的待办").one()
        assert (todo.client_id, todo.assignee_id, todo.created_by_id) == (cid, me.id, me.id)
    assert not real_errors(page.js_errors), page.js_errors
