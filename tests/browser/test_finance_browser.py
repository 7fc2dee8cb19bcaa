"""财务管理 in a real browser: an invoice request takes its title and taxpayer id from
the client chosen in the search box, and the statistics page draws its charts with
the ECharts the app serves itself (or, without that file, says so beside the tables).
"""
from __future__ import annotations

import datetime
import decimal
import os

import pytest

from tests.conftest import PASSWORD

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser


def _login(page, user):
    page.goto("/login/")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_request_an_invoice_choosing_the_client_by_typing(page, live_server, make_user,
                                                          make_client, grant, app):
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import Client, Invoice

    for perm in ("can_list", "can_show", "can_add"):
        grant("Accountant", perm, "InvoiceModelView")
    me = make_user("Accountant")
    cid = make_client(name="浏览器开票客户有限公司", bookkeeper=me)
    _login(page, me)

    page.goto("/invoices/add")
    page.locator("#client + .select2-container").click()
    page.locator(".select2-search__field").fill("浏览器开票")
    options = page.locator(".select2-results__option")
    expect(options).to_have_count(1)
    options.first.click()
    expect(page.locator("#title")).to_have_value("浏览器开票客户有限公司")
    with app.app_context():
        code = db.session.get(Client, cid).credit_code
    expect(page.locator("#tax_id")).to_have_value(code)
    page.locator("#amount").fill("1280.50")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/invoices/add" not in url)

    with app.app_context():
        inv = db.session.query(Invoice).one()
        assert (inv.client_id, inv.title, inv.tax_id, inv.amount, inv.status) == (
            cid, "浏览器开票客户有限公司", code, decimal.Decimal("1280.50"), "applied")
    assert not real_errors(page.js_errors), page.js_errors


def test_monthly_statistics_draw_their_charts(page, live_server, make_user, grant, app,
                                             tmp_path):
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import JournalEntry

    grant("Finance", "can_monthly", "StatsView")
    me = make_user("Finance")
    with app.app_context():
        db.session.add_all([
            JournalEntry(entry_date=datetime.date(2025, m, 10), amount=decimal.Decimal(a),
                         direction=d, status="approved")
            for m, a, d in ((1, "100.00", "income"), (2, "250.50", "income"),
                            (2, "80.00", "expense"))])
        db.session.commit()
    try:
        _login(page, me)
        page.goto("/stats/monthly/?year=2025")
        expect(page.locator("table.stats-by-period")).to_contain_text("250.50")
        vendored = os.path.isfile(os.path.join(app.static_folder, "vendor", "echarts.min.js"))
        if vendored:
            expect(page.locator("#period-chart canvas")).to_have_count(1)
            expect(page.locator("#category-chart canvas")).to_have_count(1)
            expect(page.locator(".chart-missing")).to_be_hidden()
        else:  # the setup step has not run: the tables, and a note instead
            expect(page.locator(".chart-missing")).to_be_visible()
        page.screenshot(path=str(tmp_path / "stats-monthly.png"), full_page=True)
        assert not real_errors(page.js_errors), page.js_errors
    finally:
        with app.app_context():
            db.session.query(JournalEntry).delete()
            db.session.commit()
