"""审核 of many journal entries at once: one compare-and-set statement for all the
rows, the same counts as one by one (the author's own refused, a stale or already
approved one skipped, a receipt's own entry held), one audit row per entry, no
client's fee date touched (that rule is the ledger's) — and two approvers at once
approve each entry once."""
import datetime
import threading
from decimal import Decimal

import pytest

NOW = datetime.datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def pending_entries(app, make_user, make_client):
    """``make(n, author)`` → ids of ``n`` pending expenses paid for a client, one
    client each (a client's payment is a receipt, never a journal entry)."""
    from app.extensions import db
    from app.models import JournalEntry

    def make(n, author):
        ids = []
        with app.app_context():
            for i in range(n):
                cid = make_client(billing_state="billed",
                                  next_fee_date=datetime.date(2026, 11, 1))
                entry = JournalEntry(entry_date=datetime.date(2026, 11, 20), client_id=cid,
                                     direction="expense", amount=Decimal("300.00"),
                                     period_start=datetime.date(2026, 11, 1),
                                     period_end=datetime.date(2026, 11, 30),
                                     status="pending", version=1, created_by_id=author.id)
                db.session.add(entry)
                db.session.commit()
                ids.append(entry.id)
        return ids

    return make


def approve(app, ids, user, versions=None):
    from app.extensions import db
    from app.models import JournalEntry
    from app.services import transitions

    with app.app_context():
        items = db.session.query(JournalEntry).filter(JournalEntry.id.in_(ids)).all()
        seen = {e.id: e.version for e in items} if versions is None else versions
        return transitions.fire(JournalEntry, items, "approve", user, NOW, seen=seen)


@pytest.fixture
def statements(app):
    from sqlalchemy import event

    from app.extensions import db

    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def test_approving_fifty_takes_as_many_statements_as_approving_five(
        app, make_user, pending_entries, statements):
    acct, finance = make_user("Accountant"), make_user("Finance")
    few, many = pending_entries(5, acct), pending_entries(50, acct)
    statements.clear()
    r5 = approve(app, few, finance)
    n5 = len(statements)
    statements.clear()
    r50 = approve(app, many, finance)
    n50 = len(statements)
    assert (r5.changed, r50.changed) == (5, 50)
    assert (r5.notes, r50.notes) == ({}, {})
    assert n50 == n5, statements


def test_counts_are_those_of_one_by_one(app, make_user, pending_entries):
    """Of five: one the approver wrote himself (refused), one whose version he did
    not see (skipped), one approved already (skipped), two approved."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import JournalEntry

    acct, finance = make_user("Accountant"), make_user("Finance")
    others = pending_entries(4, acct)
    own = pending_entries(1, finance)
    approve(app, [others[3]], finance)  # approved already
    with app.app_context():  # someone edited this one since the page was loaded
        db.session.execute(update(JournalEntry).where(JournalEntry.id == others[2])
                           .values(version=2))
        db.session.commit()
    versions = {i: 1 for i in others + own}
    versions[others[3]] = 2
    result = approve(app, others + own, finance, versions=versions)
    assert (result.changed, result.skipped, result.refused) == (2, 2, 1)
    with app.app_context():
        status = dict(db.session.query(JournalEntry.id, JournalEntry.status)
                      .filter(JournalEntry.id.in_(others + own)))
    assert [status[i] for i in others + own] == ["approved", "approved", "pending",
                                                 "approved", "pending"]


def test_each_approved_entry_has_its_audit_row_and_no_client_is_touched(
        app, make_user, pending_entries):
    import json

    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog, Client, JournalEntry

    acct, finance = make_user("Accountant"), make_user("Finance")
    ids = pending_entries(3, acct)
    with app.app_context():
        before = db.session.query(func.max(AuditLog.id)).scalar() or 0
    approve(app, ids, finance)
    with app.app_context():
        rows = db.session.query(AuditLog).filter(AuditLog.id > before).all()
        clients = [c for (c,) in db.session.query(JournalEntry.client_id)
                   .filter(JournalEntry.id.in_(ids))]
        fee_dates = {d for (d,) in db.session.query(Client.next_fee_date)
                     .filter(Client.id.in_(clients))}
    approved = {int(r.row_id): json.loads(r.changes) for r in rows
                if r.table_name == "journal_entry"}
    assert set(approved) == set(ids)
    assert all(c["status"] == ["pending", "approved"]
               and c["approved_by_id"] == [None, finance.id] for c in approved.values())
    assert [r for r in rows if r.table_name == "client"] == []
    assert fee_dates == {datetime.date(2026, 11, 1)}


def test_an_entry_a_receipt_holds_is_not_approved_with_the_others(app, make_user,
                                                                  pending_entries):
    from app.extensions import db
    from app.models import JournalEntry, Receipt

    acct, finance = make_user("Accountant"), make_user("Finance")
    free, free2, held = pending_entries(3, acct)
    with app.app_context():
        client_id = db.session.get(JournalEntry, held).client_id
        db.session.add(Receipt(client_id=client_id, amount=Decimal("300.00"),
                               received_on=datetime.date(2026, 11, 20), status="approved",
                               version=2, journal_entry_id=held, created_by_id=acct.id))
        db.session.commit()
    result = approve(app, [free, free2, held], finance)
    assert (result.changed, result.held, result.skipped, result.refused) == (2, 1, 0, 0)
    with app.app_context():
        assert db.session.get(JournalEntry, held).status == "pending"


def test_two_approvers_at_once_approve_each_entry_once(app, make_user, pending_entries):
    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent writers: PostgreSQL (SQLite has one writer at a time)")
    acct = make_user("Accountant")
    approvers = [make_user("Finance"), make_user("Finance")]
    ids = pending_entries(30, acct)
    with app.app_context():
        before = db.session.query(func.max(AuditLog.id)).scalar() or 0
    start = threading.Barrier(2)
    results, errors = [], []

    def approver(user):
        from app.models import JournalEntry
        from app.services import transitions

        try:
            with app.app_context():
                items = db.session.query(JournalEntry).filter(JournalEntry.id.in_(ids)).all()
                seen = {e.id: e.version for e in items}
                start.wait(timeout=10)
                results.append(transitions.fire(JournalEntry, items, "approve", user, NOW,
                                                seen=seen))
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=approver, args=(u,)) for u in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.changed for r in results) == 30
    assert sum(r.skipped for r in results) == 30
    with app.app_context():
        audited = db.session.query(func.count()).select_from(AuditLog).filter(
            AuditLog.id > before, AuditLog.table_name == "journal_entry",
            AuditLog.row_id.in_([str(i) for i in ids])).scalar()
    assert audited == 30
