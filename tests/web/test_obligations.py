"""报税管理 as the clerks use it: obligations appear for clients, 完成 advances once,
跳过 advances, the history records it, a Manager can undo, types are data."""
import datetime

import pytest

TODAY = datetime.date(2026, 11, 23)
TZ = "Asia/Shanghai"


@pytest.fixture
def pinned_today(app):
    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    yield TODAY
    app.config.pop("AGENCYDESK_TODAY", None)


def sync(app):
    from app.services.obligations import sync_obligations

    with app.app_context():
        return sync_obligations(TODAY, TZ)


def obligations_of(app, cid):
    from app.extensions import db
    from app.models import Obligation, ObligationType

    with app.app_context():
        db.session.expire_all()
        rows = (db.session.query(ObligationType.code, Obligation)
                .join(Obligation, Obligation.type_id == ObligationType.id)
                .filter(Obligation.client_id == cid).all())
        return {code: (o.id, o.deadline, o.active, o.last_period) for code, o in rows}


@pytest.fixture
def filer(app, make_user, make_client, pinned_today):
    acct = make_user("Accountant")
    cid = make_client(name="报税测试有限公司", bookkeeper=acct, tax_device_type="ukey")
    sync(app)
    return acct, cid


def test_sync_creates_each_applicable_obligation_once(app, filer):
    _, cid = filer
    obs = obligations_of(app, cid)
    assert {"tax_clearing", "social_security_base", "housing_fund_rollover",
            "vat", "iit", "cit", "cit_annual", "business_annual"} <= set(obs)
    assert "ticket_pickup" not in obs  # the client did not ask for it
    assert obs["tax_clearing"][1] == datetime.date(2026, 12, 1)
    assert sync(app).rows == 0  # a second run finds nothing to do


def test_stopping_a_client_retires_its_obligations_and_return_restores(app, filer):
    from app.extensions import db
    from app.models import Client

    _, cid = filer
    with app.app_context():
        db.session.get(Client, cid).status = "stopped"
        db.session.commit()
    sync(app)
    assert not any(active for _, _, active, _ in obligations_of(app, cid).values())
    with app.app_context():
        db.session.get(Client, cid).status = "active"
        db.session.commit()
    sync(app)
    assert all(active for _, _, active, _ in obligations_of(app, cid).values())


def test_complete_advances_to_next_period_and_records_it(app, filer, client):
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    resp = client.post_form("/obligations/action_post",
                            {"action": "complete", "rowid": [f"{oid}@{due.isoformat()}"]})
    assert resp.status_code == 302
    _, new_due, _, period = obligations_of(app, cid)["tax_clearing"]
    assert new_due == datetime.date(2027, 1, 1) and period == "2026-11"
    history = client.get("/obligation-records/list/").get_data(as_text=True)
    assert "报税测试有限公司" in history and "2026-11" in history


def test_double_click_completes_once(app, filer, client):
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    token = f"{oid}@{due.isoformat()}"
    client.post_form("/obligations/action_post", {"action": "complete", "rowid": [token]})
    client.post_form("/obligations/action_post", {"action": "complete", "rowid": [token]})
    client.post_form(f"/obligations/action/complete/{oid}?v={due.isoformat()}")
    assert obligations_of(app, cid)["tax_clearing"][1] == datetime.date(2027, 1, 1)


@pytest.mark.parametrize("post", [
    lambda c, oid: c.post_form("/obligations/action_post",
                               {"action": "complete", "rowid": [str(oid)]}),
    lambda c, oid: c.post_form(f"/obligations/action/complete/{oid}"),
    lambda c, oid: c.post_form(f"/obligations/action/skip/{oid}"),
    lambda c, oid: c.post_form("/obligations/action_post",
                               {"action": "complete", "rowid": [f"{oid}@not-a-date"]}),
], ids=["list-without-date", "details-without-date", "skip-without-date", "forged-date"])
def test_completing_without_the_seen_due_date_is_refused(app, filer, client, post):
    """A script, a stale bookmark or a retried request that does not say which due
    date it completes is refused (409) — three posts never advance three periods."""
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    for _ in range(3):
        resp = post(client, oid)
        assert resp.status_code == 409
        assert "页面已过期" in resp.get_data(as_text=True)
    assert obligations_of(app, cid)["tax_clearing"][1] == due
    assert "报税测试有限公司" not in client.get("/obligation-records/list/").get_data(as_text=True)


def test_two_clerks_completing_at_once_advance_once(app, filer):
    """Both pages showed the same due date; the second clerk's request loads the row
    after the first saved (the race inside one request is the test below)."""
    from app.extensions import db
    from app.models import Obligation
    from app.services.obligations import record

    _, cid = filer
    oid = obligations_of(app, cid)["tax_clearing"][0]
    with app.app_context():
        first = db.session.get(Obligation, oid)
        stale_copy_due = first.deadline
        r1 = record([first], "complete", None, TZ, seen={oid: stale_copy_due})
        # the second clerk's page still shows the old due date
        second = db.session.get(Obligation, oid)
        r2 = record([second], "complete", None, TZ, seen={oid: stale_copy_due})
    assert (r1.done, r2.done, r2.stale) == (1, 0, 1)
    assert obligations_of(app, cid)["tax_clearing"][1] == datetime.date(2027, 1, 1)


MOVED = datetime.date(2026, 12, 15)  # 征期延长: the bureau moved the deadline on


def move_deadline(app, oid, to=MOVED):
    """Another clerk or the nightly job moves the deadline, on its own connection."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Obligation

    with db.engine.begin() as conn:
        conn.execute(update(Obligation).where(Obligation.id == oid).values(deadline=to))


def the_token_on_the_page(client, oid) -> str:
    """What the clerk's list page posts back for the row: ``id@deadline``."""
    import re

    html = client.get("/obligations/list/").get_data(as_text=True)
    return re.search(rf'name="rowid" value="({oid}@[0-9-]+)"', html).group(1)


def records_of(app, oid) -> int:
    from app.extensions import db
    from app.models import ObligationRecord

    with app.app_context():
        return db.session.query(ObligationRecord).filter_by(obligation_id=oid).count()


def test_completing_a_page_whose_deadline_moved_since_changes_nothing(app, filer, client):
    """The clerk's page shows the old deadline; the deadline moved before he clicked
    完成: nothing is recorded, nothing advances, he is told someone else handled it."""
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    token = the_token_on_the_page(client, oid)
    assert token == f"{oid}@{due.isoformat()}"
    with app.app_context():
        move_deadline(app, oid)
    resp = client.post_form("/obligations/action_post", {"action": "complete", "rowid": [token]},
                            follow_redirects=True)
    assert "已完成 0 项，跳过 1 项（已被他人处理）。" in resp.get_data(as_text=True)
    assert obligations_of(app, cid)["tax_clearing"][1] == MOVED
    assert records_of(app, oid) == 0


def test_deadline_moved_while_completing_is_not_advanced(app, filer, client, monkeypatch):
    """The race the compare-and-set is for: the request has loaded the row with the
    deadline the clerk saw, and the deadline moves before its UPDATE runs. The UPDATE
    must compare the deadline in the database, not the copy it loaded: nothing is
    recorded, the moved deadline stays, and the clerk is told."""
    from app.services import obligations as service

    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    token = the_token_on_the_page(client, oid)
    real_advance_of = service.advance_of

    def advance_of_after_another_clerk(ob, *args):
        assert ob.deadline == due  # the request loaded the row as the clerk saw it
        move_deadline(app, oid)
        return real_advance_of(ob, *args)

    monkeypatch.setattr(service, "advance_of", advance_of_after_another_clerk)
    resp = client.post_form("/obligations/action_post", {"action": "complete", "rowid": [token]},
                            follow_redirects=True)
    assert "已完成 0 项，跳过 1 项（已被他人处理）。" in resp.get_data(as_text=True)
    assert obligations_of(app, cid)["tax_clearing"][1] == MOVED
    assert records_of(app, oid) == 0


def test_skip_advances_and_is_recorded_as_skip(app, filer, client):
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["social_security_base"]
    client.login(acct)
    client.post_form("/obligations/action_post",
                     {"action": "skip", "rowid": [f"{oid}@{due.isoformat()}"]})
    assert obligations_of(app, cid)["social_security_base"][1] > due
    html = client.get("/obligation-records/list/?_flt_0_kind=skip").get_data(as_text=True)
    assert "报税测试有限公司" in html


def test_manager_undoes_last_record(app, filer, client, make_user):
    acct, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(acct)
    client.post_form("/obligations/action_post",
                     {"action": "complete", "rowid": [f"{oid}@{due.isoformat()}"]})
    # an accountant may not undo
    client.post_form(f"/obligations/action/undo/{oid}?v=2027-01-01")
    assert obligations_of(app, cid)["tax_clearing"][1] == datetime.date(2027, 1, 1)
    client.login(make_user("Manager"))
    client.post_form(f"/obligations/action/undo/{oid}?v=2027-01-01")
    assert obligations_of(app, cid)["tax_clearing"][1] == due


def test_overdue_rows_are_red_and_due_soon_amber(app, filer, client):
    from app.extensions import db
    from app.models import Obligation

    acct, cid = filer
    obs = obligations_of(app, cid)
    with app.app_context():
        db.session.get(Obligation, obs["tax_clearing"][0]).deadline = datetime.date(2026, 11, 1)
        db.session.get(Obligation, obs["social_security_base"][0]).deadline = \
            datetime.date(2026, 11, 25)
        db.session.commit()
    client.login(acct)
    html = client.get("/obligations/list/").get_data(as_text=True)
    assert 'class="row-overdue"' in html and 'class="row-due-soon"' in html


def test_another_accountants_obligation_is_404_and_unchanged(app, filer, client, make_user):
    _, cid = filer
    oid, due, _, _ = obligations_of(app, cid)["tax_clearing"]
    client.login(make_user("Accountant"))
    assert client.get(f"/obligations/show/{oid}").status_code == 404
    token = f"{oid}@{due.isoformat()}"
    resp = client.post_form("/obligations/action_post", {"action": "complete", "rowid": [token]})
    assert resp.status_code == 404
    assert client.post_form(f"/obligations/action/complete/{oid}?v={due}").status_code == 404
    assert obligations_of(app, cid)["tax_clearing"][1] == due
    assert "报税测试有限公司" not in client.get("/obligations/list/").get_data(as_text=True)


def test_admin_adds_a_type_and_its_list_appears_in_the_menu(app, filer, admin_client):
    _, cid = filer
    resp = admin_client.post_form("/obligation-types/add", {
        "name": "残保金申报", "rule": "0 0 1 7 *", "applies_to": "all_active",
        "warn_days": "10", "active": "y", "sort_order": "20"})
    assert resp.status_code == 302
    home = admin_client.get("/").get_data(as_text=True)
    assert "残保金申报" in home  # menu entry, no restart
    from app.extensions import db
    from app.models import ObligationType

    with app.app_context():
        tid = db.session.query(ObligationType).filter_by(name="残保金申报").one().id
    page = admin_client.get(f"/obligations/list/?_flt_0_type={tid}").get_data(as_text=True)
    assert "报税测试有限公司" in page and "2027-07-01" in page


def test_bad_rule_gets_a_chinese_error(admin_client):
    html = admin_client.post_form("/obligation-types/add", {
        "name": "坏规则", "rule": "every month", "applies_to": "all_active",
        "warn_days": "5", "active": "y", "sort_order": "1"}).get_data(as_text=True)
    assert "规则" in html and "坏规则" not in admin_client.get("/obligation-types/list/").get_data(as_text=True)


def test_client_rule_override_changes_its_cadence(app, make_user, make_client, pinned_today, client):
    from app.extensions import db
    from app.models import Obligation

    acct = make_user("Accountant")
    agent = make_user("FieldAgent")
    cid = make_client(name="季度取票有限公司", bookkeeper=acct, field_agent=agent,
                      ticket_pickup="quarter")
    sync(app)
    oid, due, _, _ = obligations_of(app, cid)["ticket_pickup"]
    with app.app_context():
        assert db.session.get(Obligation, oid).rule_override == "0 0 1 1,4,7,10 *"
    assert due == datetime.date(2027, 1, 1)
    with app.app_context():
        db.session.get(Obligation, oid).rule_override = "0 0 1 * *"  # monthly after all
        db.session.commit()
    due = obligations_of(app, cid)["ticket_pickup"][1]
    client.login(agent)  # ticket pickup defaults to the field agent
    client.post_form("/obligations/action_post",
                     {"action": "complete", "rowid": [f"{oid}@{due.isoformat()}"]})
    assert obligations_of(app, cid)["ticket_pickup"][1] == datetime.date(2027, 2, 1)


def test_month_filter_and_quick_search(app, filer, client):
    acct, cid = filer
    client.login(acct)
    dec = client.get("/obligations/list/?month=2026-12").get_data(as_text=True)
    assert "报税测试有限公司" in dec
    jan = client.get("/obligations/list/?month=2030-01").get_data(as_text=True)
    assert "报税测试有限公司" not in jan
    assert "报税测试有限公司" in client.get("/obligations/list/?q=报税测试").get_data(as_text=True)


def test_a_bulk_sync_refreshes_statistics_and_creates_the_same(app, make_user, make_client,
                                                              pinned_today, monkeypatch):
    """Every insert of the sync counting as "bulk" (PostgreSQL then ANALYZEs inside the
    sync's transaction): the same obligations, once, and a second run finds nothing."""
    from app.extensions import db
    from app.services import obligations as svc

    acct = make_user("Accountant")
    cids = [make_client(bookkeeper=acct, tax_device_type="ukey") for _ in range(3)]
    analyzed = []
    monkeypatch.setattr(svc, "RESTAT_ROWS", 1)
    real = svc._restat
    monkeypatch.setattr(svc, "_restat", lambda conn, n, table: (
        analyzed.append(table) if n >= 1 else None, real(conn, n, table)))
    result = sync(app)
    assert result.created >= 3 * 8 and {"obligation", "client_tax_kind"} <= set(analyzed)
    for cid in cids:
        assert {"tax_clearing", "vat", "iit", "cit", "business_annual"} <= \
            set(obligations_of(app, cid))
    with app.app_context():
        assert db.session.execute(db.text(
            "SELECT count(*) FROM obligation GROUP BY client_id, type_id "
            "ORDER BY 1 DESC LIMIT 1")).scalar() == 1
    assert sync(app).rows == 0
