"""Workflow steps over REST (``POST /api/v1/journal/<id>/<step>``): the same
declaration, permission, scope, self-approval rule and version as on the screen."""
import datetime
from decimal import Decimal

import pytest

from .test_journal import get_entry, make_entry
from .test_journal_api import token


@pytest.fixture
def people(make_user):
    return {"acct": make_user("Accountant"), "finance": make_user("Finance"),
            "manager": make_user("Manager")}


def post_step(app, user, pk, step, **body):
    return app.test_client().post(f"/api/v1/journal/{pk}/{step}", json=body,
                                  headers=token(app, user))


def test_finance_approves_over_the_api_with_the_version_read(app, people, make_client):
    cid = make_client(bookkeeper=people["acct"], next_fee_date=datetime.date(2026, 11, 1))
    pk = make_entry(app, cid, people["acct"], period_end=datetime.date(2027, 1, 31))
    read = app.test_client().get(f"/api/v1/journal/{pk}", headers=token(app, people["finance"]))
    version = read.json["result"]["version"]
    resp = post_step(app, people["finance"], pk, "approve", version=version)
    assert resp.status_code == 200
    assert resp.json["status"] == "approved" and resp.json["version"] == version + 1
    entry = get_entry(app, pk)
    assert entry.status == "approved" and entry.approved_by_id == people["finance"].id
    # the journal's 审核 moves no fee date (that rule is the ledger's)
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        assert db.session.get(Client, cid).next_fee_date == datetime.date(2026, 11, 1)


def test_a_step_without_the_version_is_refused_and_changes_nothing(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"])
    for body in ({}, {"version": "abc"}, {"version": None}, {"version": [1]}):
        resp = post_step(app, people["finance"], pk, "approve", **body)
        assert resp.status_code == 409 and "版本" in resp.json["message"]
    assert get_entry(app, pk).status == "pending"


def test_a_stale_version_or_a_second_post_changes_nothing(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"])
    assert post_step(app, people["finance"], pk, "approve", version=1).status_code == 200
    again = post_step(app, people["finance"], pk, "approve", version=1)
    assert again.status_code == 409 and "跳过" in again.json["message"]
    # unlocked by a manager and corrected: the approver's old page is out of date
    assert post_step(app, people["manager"], pk, "unlock", version=2,
                     reason="金额录错").status_code == 200
    assert post_step(app, people["finance"], pk, "approve", version=2).status_code == 409
    assert get_entry(app, pk).status == "pending"


def test_the_author_may_not_approve_his_own_entry_over_the_api(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["finance"])
    resp = post_step(app, people["finance"], pk, "approve", version=1)
    assert resp.status_code == 403 and "不能审核" in resp.json["message"]
    assert get_entry(app, pk).status == "pending"


def test_a_step_needs_the_screens_permission(app, people, make_client):
    """An accountant reads the journal over the API but may not approve or unlock."""
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["manager"])
    assert post_step(app, people["acct"], pk, "approve", version=1).status_code == 403
    assert get_entry(app, pk).status == "pending"


def test_another_accountants_entry_is_404(app, people, make_user, make_client, grant):
    grant("Accountant", "can_approve", "JournalModelView")
    pk = make_entry(app, make_client(bookkeeper=make_user("Accountant")), people["manager"])
    resp = post_step(app, people["acct"], pk, "approve", version=1)
    assert resp.status_code == 404
    assert get_entry(app, pk).status == "pending"


def test_unlock_needs_a_reason_over_the_api_too(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"],
                    status="approved")
    resp = post_step(app, people["manager"], pk, "unlock", version=1, reason="  ")
    assert resp.status_code == 422 and "reason" in resp.json["message"]
    assert get_entry(app, pk).status == "approved"


@pytest.mark.parametrize("step", ["nosuchstep", "approve_all", "99999999999999999999999"])
def test_an_unknown_step_is_404(app, people, make_client, step):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"])
    assert post_step(app, people["finance"], pk, step, version=1).status_code == 404


def test_the_status_cannot_be_written_by_a_put(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"])
    resp = app.test_client().put(f"/api/v1/journal/{pk}", json={"status": "approved"},
                                 headers=token(app, people["finance"]))
    assert resp.status_code == 422 and "status" in resp.json["message"]
    assert get_entry(app, pk).status == "pending"


def test_an_edit_makes_the_version_the_approver_saw_stale(app, people, make_client):
    pk = make_entry(app, make_client(bookkeeper=people["acct"]), people["acct"])
    resp = app.test_client().put(f"/api/v1/journal/{pk}", json={"amount": "950.00"},
                                 headers=token(app, people["finance"]))
    assert resp.status_code == 200
    assert post_step(app, people["finance"], pk, "approve", version=1).status_code == 409
    entry = get_entry(app, pk)
    assert entry.status == "pending" and entry.amount == Decimal("950.00")
