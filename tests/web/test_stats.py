"""月度统计 / 年度统计 as finance reads them: approved entries only, exact sums, by
month, year and category, through the visibility scope; tables always, charts when
the vendored ECharts file is there. And the 工作台's finance cards."""
import datetime
import decimal
import re

import pytest

D = decimal.Decimal


@pytest.fixture
def journal(app):
    """``journal(date, amount, direction, category=..., client_id=..., status=...)``
    adds an entry as a statement writes it (a client's income is the entry a receipt
    posts, or one the migration linked to its receipt: never typed through the ORM,
    whose check refuses it); all entries are removed after the test (before the
    clients)."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import JournalEntry

    def add(day, amount, direction="income", category=None, client_id=None,
            status="approved", created_by=None):
        with app.app_context():
            entry_id = db.session.execute(insert(JournalEntry).values(
                entry_date=day, amount=D(amount), direction=direction,
                category_id=category, client_id=client_id, status=status, version=1,
                created_on=datetime.datetime(2026, 11, 1, 9),
                created_by_id=getattr(created_by, "id", None))
                .returning(JournalEntry.id)).scalar_one()
            db.session.commit()
            return entry_id

    yield add
    with app.app_context():
        db.session.rollback()
        db.session.query(JournalEntry).delete()
        db.session.commit()


@pytest.fixture
def categories(app):
    """{name: id} of the shipped 日记账分类."""
    from app.extensions import db
    from app.models import DictItem

    with app.app_context():
        return {d.name: d.id for d in db.session.query(DictItem).filter(
            DictItem.kind == "journal_category")}


@pytest.fixture
def stats_user(make_user, grant):
    grant("Finance", "can_monthly", "StatsView")
    grant("Finance", "can_yearly", "StatsView")
    return make_user("Finance")


@pytest.fixture
def known_entries(journal, categories, make_client, make_user):
    """A known set: two clients of two accountants, firm entries without a client,
    pending entries, three years. Returns (accountant A, his client, other client)."""
    acct = make_user("Accountant")
    mine = make_client(name="统计甲有限公司", bookkeeper=acct)
    theirs = make_client(name="统计乙有限公司", bookkeeper=make_user("Accountant"))
    fee, rent, change = categories["代理记账费"], categories["房租"], categories["工商变更费"]
    # 2025-01: 0.10 + 0.20 income (floats would give 0.30000000000000004)
    journal(datetime.date(2025, 1, 1), "0.10", category=fee, client_id=mine)
    journal(datetime.date(2025, 1, 31), "0.20", category=fee, client_id=mine)
    journal(datetime.date(2025, 1, 15), "1000.01", "expense", category=rent)  # firm, no client
    journal(datetime.date(2025, 2, 28), "99999.99", category=change, client_id=theirs)
    journal(datetime.date(2025, 12, 31), "1234.56", category=fee, client_id=mine)
    journal(datetime.date(2025, 6, 1), "777.77", category=None, client_id=mine)  # no category
    journal(datetime.date(2025, 3, 3), "5000.00", category=fee, client_id=mine,
            status="pending")  # not money yet
    journal(datetime.date(2024, 12, 31), "300.00", category=fee, client_id=mine)
    journal(datetime.date(2026, 1, 1), "45.45", "expense", category=rent, client_id=theirs)
    return acct, mine, theirs


# ---- the numbers ---------------------------------------------------------------------
def test_monthly_sums_are_exact_and_count_approved_entries_only(app, known_entries,
                                                                categories):
    from app.services.stats import monthly

    with app.app_context():
        report = monthly(2025)
    assert report.periods == list(range(1, 13))
    jan, feb, mar = report.by_period[1], report.by_period[2], report.by_period[3]
    assert (jan.income, jan.expense, jan.net) == (D("0.30"), D("1000.01"), D("-999.71"))
    assert str(jan.income) == "0.30"
    assert feb.income == D("99999.99") and mar.income == D("0.00")  # pending left out
    assert report.by_period[12].income == D("1234.56")
    assert report.total.income == D("0.30") + D("99999.99") + D("1234.56") + D("777.77")
    assert report.total.expense == D("1000.01")
    assert report.total.entries == 6
    names = {row.name: row for row in report.by_category}
    assert names["代理记账费"].total.income == D("1234.86")
    assert names["房租"].total.expense == D("1000.01")
    assert names["工商变更费"].periods[2].income == D("99999.99")
    assert report.by_category[-1].category_id is None  # no category: last row
    assert report.by_category[-1].total.income == D("777.77")


def test_yearly_groups_by_year(app, known_entries):
    from app.services.stats import yearly

    with app.app_context():
        report = yearly()
    assert report.periods == [2024, 2025, 2026]
    assert report.by_period[2024].income == D("300.00")
    assert report.by_period[2025].income == D("102012.62")
    assert report.by_period[2026].expense == D("45.45")
    fee = next(r for r in report.by_category if r.name == "代理记账费")
    assert fee.periods[2024].income == D("300.00") and fee.periods[2025].income == D("1234.86")


def test_each_page_runs_one_grouped_query(app, known_entries):
    from sqlalchemy import event

    from app.extensions import db
    from app.services.stats import monthly, yearly

    with app.app_context():
        seen = []

        def on_execute(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            for build in (lambda: monthly(2025), yearly):
                seen.clear()
                build()
                assert sum("GROUP BY" in s.upper() for s in seen) == 1, seen
                assert len(seen) <= 2, seen  # + the category names
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)


# ---- the scope -----------------------------------------------------------------------
def test_a_user_who_sees_all_gets_every_entry_including_firm_ones(app, client, stats_user,
                                                                  known_entries):
    client.login(stats_user)
    html = client.get("/stats/monthly/?year=2025").get_data(as_text=True)
    assert "99,999.99" in html and "1,000.01" in html and "0.30" in html


def test_an_accountant_sees_only_his_clients_entries(app, client, grant, known_entries):
    from app.extensions import db
    from app.models import JournalEntry
    from app.security import scope
    from app.services.stats import monthly

    grant("Accountant", "can_monthly", "StatsView")
    grant("Accountant", "can_yearly", "StatsView")
    acct, _, _ = known_entries
    client.login(acct)
    html = client.get("/stats/monthly/?year=2025").get_data(as_text=True)
    assert "0.30" in html and "1,234.56" in html
    assert "99,999.99" not in html  # another accountant's client
    assert "1,000.01" not in html   # the firm's rent: no client
    yearly_html = client.get("/stats/yearly/").get_data(as_text=True)
    assert "45.45" not in yearly_html and "300.00" in yearly_html
    with app.app_context():
        user = db.session.merge(acct)
        cond = scope.condition(user, JournalEntry, lambda *a: False, db.session)
        report = monthly(2025, cond)
    assert report.total.income == D("0.30") + D("1234.56") + D("777.77")
    assert report.total.expense == D("0.00")


def test_stats_pages_need_their_permission(app, client, make_user):
    client.login(make_user("Accountant"))
    assert client.get("/stats/monthly/").status_code in (302, 403)
    assert client.get("/stats/yearly/").status_code in (302, 403)


# ---- tables and charts -----------------------------------------------------------------
def test_charts_are_served_by_the_app_itself(app, client, stats_user, known_entries,
                                             monkeypatch):
    from app.views import stats as stats_view

    monkeypatch.setattr(stats_view, "echarts_available", lambda: True)
    client.login(stats_user)
    for path in ("/stats/monthly/?year=2025", "/stats/yearly/"):
        html = client.get(path).get_data(as_text=True)
        assert 'id="period-chart"' in html and 'id="category-chart"' in html
        assert 'src="/static/vendor/echarts.min.js"' in html
        assert "echarts.init" in html
        assert "stats-by-period" in html and "stats-by-category" in html
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
        assert sources and all(s.startswith("/") and not s.startswith("//")
                               for s in sources), sources  # nothing from another host


def test_without_the_chart_file_the_tables_stay_and_a_note_replaces_charts(
        app, client, stats_user, known_entries, monkeypatch):
    from app.views import stats as stats_view

    monkeypatch.setattr(stats_view, "echarts_available", lambda: False)
    client.login(stats_user)
    html = client.get("/stats/monthly/?year=2025").get_data(as_text=True)
    assert "echarts.min.js" not in html and 'id="period-chart"' not in html
    assert "chart-missing" in html
    assert "stats-by-period" in html and "99,999.99" in html


def test_the_chart_file_is_looked_for_in_static_vendor(app):
    import os

    from app.views.stats import ECHARTS_FILE, echarts_available

    with app.test_request_context():
        path = os.path.join(app.static_folder, ECHARTS_FILE)
        assert echarts_available() == os.path.isfile(path)
        assert path.endswith(os.path.join("app", "static", "vendor", "echarts.min.js"))


def test_no_year_is_this_year_and_a_bad_year_is_400(app, client, stats_user):
    app.config["AGENCYDESK_TODAY"] = "2026-11-23"
    try:
        client.login(stats_user)
        resp = client.get("/stats/monthly/")
        assert resp.status_code == 200 and 'value="2026"' in resp.get_data(as_text=True)
        for year in ("abc", "99999", "-1", "9" * 25, "1899", "2026\x00"):
            resp = client.get(f"/stats/monthly/?year={year}")
            assert resp.status_code == 400, year
            assert "年份" in resp.get_data(as_text=True) or "控制字符" in resp.get_data(as_text=True)
    finally:
        app.config.pop("AGENCYDESK_TODAY", None)


def test_chinese_labels_on_the_monthly_page(app, client, stats_user, known_entries):
    client.login(stats_user)
    html = client.get("/stats/monthly/?year=2025").get_data(as_text=True)
    assert "收入" in html and "支出" in html and "1月" in html


# ---- 工作台 ---------------------------------------------------------------------------
def home_cards(web) -> dict:
    """The home page's work cards: label → (number as shown, link, panel level)."""
    import re

    html = web.get("/").get_data(as_text=True)
    found = re.findall(r'panel-(\w+) work-card">\s*<div class="panel-heading">([^<]*)</div>\s*'
                       r'<div class="panel-body"><a href="([^"]*)"><strong[^>]*>([^<]*)</strong>',
                       html)
    return {label: (number, url, level) for level, label, url, number in found}


def test_waiting_work_and_arrears_cards_count_through_the_scope(
        app, client, make_user, make_client, grant, journal):
    """The cards come from the workflows' declarations (steps marked as waiting for
    someone) and the arrears rule, through the user's scope, without his own
    documents (no self-approval)."""
    from app.extensions import db
    from app.models import Invoice

    grant("Accountant", "can_approve", "InvoiceModelView")
    grant("Accountant", "can_approve", "JournalModelView")
    grant("Accountant", "can_monthly", "StatsView")
    app.config["AGENCYDESK_TODAY"] = "2026-11-23"
    acct = make_user("Accountant")
    other = make_user("Accountant")
    mine = make_client(bookkeeper=acct, service_fee=D("300.10"),
                       next_fee_date=datetime.date(2026, 11, 1))
    make_client(bookkeeper=acct, service_fee=D("0.20"),
                next_fee_date=datetime.date(2026, 11, 22))
    make_client(bookkeeper=acct, service_fee=D("999.00"),
                next_fee_date=datetime.date(2026, 11, 23))          # due today: not yet
    make_client(bookkeeper=acct, service_fee=D("888.00"), billing_state="free",
                next_fee_date=datetime.date(2026, 1, 1))
    make_client(bookkeeper=acct, service_fee=D("777.00"), status="stopped",
                next_fee_date=datetime.date(2026, 1, 1))
    theirs = make_client(bookkeeper=other, service_fee=D("5000.00"),
                         next_fee_date=datetime.date(2026, 1, 1))
    try:
        from app.domain.codes import make_uscc

        with app.app_context():
            for client_id, by in ((mine, other), (mine, acct), (theirs, other)):
                db.session.add(Invoice(client_id=client_id, title="t",
                                       tax_id=make_uscc("91", "110105", "87654321"),
                                       amount=D("1.00"), created_by_id=by.id))
            db.session.commit()
        day = datetime.date(2026, 11, 20)
        for amount, client_id, status, by in (
                ("1.00", mine, "pending", other), ("2.00", mine, "pending", other),
                ("3.00", mine, "pending", acct),                      # his own
                ("4.00", mine, "approved", other), ("5.00", theirs, "pending", other)):
            journal(day, amount, "expense", client_id=client_id, status=status,
                    created_by=by)
        with app.app_context():  # the arrears card reads the ledger: charge them first
            from app.services.ledger import generate_charges

            generate_charges(datetime.date(2026, 11, 23))
        client.login(acct)
        cards = home_cards(client)
        entries = next(v for k, v in cards.items() if "日记账" in k)
        assert entries[0] == "2" and "/journal/list/" in entries[1]
        waiting = next(v for k, v in cards.items() if "开票" in k)
        assert waiting[0] == "1"  # not his own request, not an invisible client's
        assert "/invoices/list/" in waiting[1]
        arrears = next(v for k, v in cards.items() if "欠费" in k)
        assert arrears[0] == "300.30" and arrears[2] == "danger"
        assert "/arrears/list/" in arrears[1]
    finally:
        app.config.pop("AGENCYDESK_TODAY", None)


def test_no_finance_cards_for_a_user_without_finance_rights(app, client, make_user):
    client.login(make_user("FieldAgent"))
    cards = home_cards(client)
    assert cards  # his own work is there
    assert not [k for k in cards if "日记账" in k or "开票" in k or "欠费" in k]
