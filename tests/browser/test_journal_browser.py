"""日记账 and 催费 in a real browser: choosing the client of an entry by typing shows
that client's earlier payments beside the form (the add template's script asking the
scoped ``client-payments`` endpoint), the entry is saved 待审核, and the dunning page
renders its notices with working copy buttons.
"""
from __future__ import annotations

import datetime
import os
from decimal import Decimal

import pytest

from tests.conftest import PASSWORD

from .test_client_browser import real_errors

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("AGENCYDESK_SHOTS")  # a folder: save screenshots there


def _login(page, user):
    page.goto("/login/")
    page.locator("#username").fill(user.username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/login" not in url)


def _grant_all(grant, role, view, perms):
    for perm in perms:
        grant(role, perm, view)


def test_add_an_expense_seeing_the_clients_earlier_receipts(page, live_server, make_user,
                                                            make_client, grant, app):
    """The side panel lists the client's 收款 receipts (his payments are receipts);
    the journal entry typed beside it is an expense paid for him."""
    from playwright.sync_api import expect

    from app.extensions import db
    from app.models import JournalEntry, Receipt

    _grant_all(grant, "Accountant", "JournalModelView", ("can_list", "can_show", "can_add"))
    me = make_user("Accountant")
    cid = make_client(name="浏览器日记账客户有限公司", bookkeeper=me, billing_cycle="quarter",
                      service_fee=Decimal("900"), next_fee_date=datetime.date(2026, 11, 1))
    with app.app_context():
        db.session.add(Receipt(client_id=cid, amount=Decimal("900.00"),
                               received_on=datetime.date(2026, 8, 3), status="approved",
                               number="2026-000003", number_year=2026, number_seq=3,
                               version=2, created_by_id=me.id))
        db.session.commit()
    _login(page, me)

    page.goto("/journal/add")
    expect(page.locator("#earlier-payments .earlier-empty")).to_be_visible()
    page.locator("#client + .select2-container").click()
    page.locator(".select2-search__field").fill("浏览器日记账")
    options = page.locator(".select2-results__option")
    expect(options).to_have_count(1)
    options.first.click()
    panel = page.locator("#earlier-payments")
    expect(panel.locator("tbody tr")).to_have_count(1)
    expect(panel.locator("tbody")).to_contain_text("900.00")
    expect(panel.locator("tbody")).to_contain_text("2026-000003")
    expect(panel.locator(".earlier-client")).to_contain_text("2026-11-01")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "journal_add.png"), full_page=True)

    page.locator("#direction").select_option("expense")
    page.locator("#amount").fill("900")
    page.locator("#period_start").fill("2026-11-01")
    page.locator("#period_end").fill("2027-01-31")
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(lambda url: "/journal/add" not in url)
    with app.app_context():
        entry = (db.session.query(JournalEntry).filter_by(client_id=cid)
                 .order_by(JournalEntry.id.desc()).first())
        assert (entry.direction, entry.amount, entry.status, entry.created_by_id) == (
            "expense", Decimal("900.00"), "pending", me.id)
    assert not real_errors(page.js_errors), page.js_errors


def test_dunning_notices_render_and_copy(page, live_server, make_user, make_client, grant,
                                         app):
    from playwright.sync_api import expect

    _grant_all(grant, "Finance", "ArrearsView", ("can_list", "can_dun"))
    grant("Finance", "menu_access", "Arrears")
    me = make_user("Finance")
    make_client(name="浏览器欠费客户有限公司", next_fee_date=datetime.date(2026, 1, 1),
                service_fee=Decimal("300"))
    with app.app_context():  # 欠费客户 reads the ledger: the charge run charges him first
        from app import clock
        from app.services.ledger import generate_charges

        generate_charges(clock.today())
    _login(page, me)
    page.goto("/arrears/list/")
    row = page.locator("tr", has_text="浏览器欠费客户有限公司")
    expect(row).to_have_class("row-overdue")
    row.locator("input.action_check").check()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "arrears_list.png"), full_page=True)
    # FAB's action menu (操作), then its 催费 entry (no confirmation)
    page.locator("button.btn-sm.dropdown-toggle").first.click()
    page.locator("a.dun_menu_item").click()
    expect(page.locator(".dunning-text")).to_have_count(1)
    expect(page.locator(".dunning-text")).to_contain_text("浏览器欠费客户有限公司")
    page.locator(".copy-one").click()
    expect(page.locator(".copy-one")).to_have_class("btn btn-xs btn-default copy-one btn-success")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "dunning.png"), full_page=True)
    assert not real_errors(page.js_errors), page.js_errors
