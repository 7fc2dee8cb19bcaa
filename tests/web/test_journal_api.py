"""/api/v1/journal/: the lock and the scope hold over REST too."""
import datetime
from decimal import Decimal

import pytest

from ..conftest import PASSWORD


def token(app, user):
    resp = app.test_client().post("/api/v1/security/login", json={
        "username": user.username, "password": PASSWORD, "provider": "db"})
    return {"Authorization": "Bearer " + resp.json["access_token"]}


@pytest.fixture
def entries(app, make_user, make_client):
    from app.extensions import db
    from app.models import JournalEntry

    fin = make_user("Finance")
    acct = make_user("Accountant")
    cid = make_client(name="接口日记账客户", bookkeeper=acct)
    other = make_client(name="别人的日记账客户", bookkeeper=make_user("Accountant"))
    with app.app_context():
        rows = [JournalEntry(entry_date=datetime.date(2026, 11, 1), client_id=c, amount=Decimal("300.00"),
                             direction="expense", status=s)
                for c, s in ((cid, "approved"), (cid, "pending"), (other, "pending"))]
        db.session.add_all(rows)
        db.session.commit()
        ids = [r.id for r in rows]
    return fin, acct, ids


def amount_of(app, eid):
    from app.extensions import db
    from app.models import JournalEntry

    with app.app_context():
        db.session.expire_all()
        e = db.session.get(JournalEntry, eid)
        return None if e is None else e.amount


def test_approved_entry_cannot_be_changed_or_deleted_over_the_api(app, entries):
    fin, _, (approved, pending, _) = entries
    c, h = app.test_client(), token(app, fin)
    resp = c.put(f"/api/v1/journal/{approved}", headers=h, json={"amount": "1.00"})
    assert resp.status_code == 422 and "锁定" in str(resp.json)
    assert c.delete(f"/api/v1/journal/{approved}", headers=h).status_code == 422
    assert amount_of(app, approved) == Decimal("300.00")
    assert c.put(f"/api/v1/journal/{pending}", headers=h, json={"amount": "280.50"}).status_code == 200
    assert amount_of(app, pending) == Decimal("280.50")


def test_status_cannot_be_set_over_the_api(app, entries):
    fin, _, (_, pending, _) = entries
    resp = app.test_client().put(f"/api/v1/journal/{pending}", headers=token(app, fin),
                                 json={"status": "approved"})
    assert resp.status_code in (400, 422)


def test_accountant_sees_only_his_clients_entries(app, entries):
    _, acct, (approved, pending, foreign) = entries
    c, h = app.test_client(), token(app, acct)
    listed = {r["id"] for r in c.get("/api/v1/journal/", headers=h).json["result"]}
    assert listed == {approved, pending}
    assert c.get(f"/api/v1/journal/{foreign}", headers=h).status_code == 404
