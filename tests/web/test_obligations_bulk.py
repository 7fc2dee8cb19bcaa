"""完成 / 跳过 on many obligations at once: a handful of statements whatever the
number of rows, each obligation advanced once — also when two clerks complete the
same selection at the same moment — with its record and its audit rows."""
import datetime
import threading

import pytest

TODAY = datetime.date(2026, 11, 23)
TZ = "Asia/Shanghai"


@pytest.fixture
def clients_with_obligations(app, make_user, make_client):
    """``make(n)`` → the ids of ``n`` 社保调基数 obligations (one per new client)."""
    from app.extensions import db
    from app.models import Obligation, ObligationType
    from app.services.obligations import sync_obligations

    app.config["AGENCYDESK_TODAY"] = TODAY.isoformat()
    acct = make_user("Accountant")

    def make(n):
        ids = [make_client(bookkeeper=acct) for _ in range(n)]
        with app.app_context():
            sync_obligations(TODAY, TZ)
            return [oid for (oid,) in db.session.query(Obligation.id).join(ObligationType)
                    .filter(Obligation.client_id.in_(ids),
                            ObligationType.code == "social_security_base")
                    .order_by(Obligation.id)]

    yield make
    app.config.pop("AGENCYDESK_TODAY", None)


def complete(app, ids, kind="complete", counter=None):
    """Load the obligations as a clerk's page showed them and record ``kind``."""
    from app.extensions import db
    from app.models import Obligation
    from app.services.obligations import record

    with app.app_context():
        obs = db.session.query(Obligation).filter(Obligation.id.in_(ids)).all()
        seen = {o.id: o.deadline for o in obs}
        if counter is not None:
            counter.clear()
        return record(obs, kind, None, TZ, seen=seen)


def deadlines(app, ids):
    from app.extensions import db
    from app.models import Obligation

    with app.app_context():
        db.session.expire_all()
        return dict(db.session.query(Obligation.id, Obligation.deadline)
                    .filter(Obligation.id.in_(ids)))


def records(app, ids):
    from sqlalchemy import func

    from app.extensions import db
    from app.models import ObligationRecord

    with app.app_context():
        return dict(db.session.query(ObligationRecord.obligation_id, func.count())
                    .filter(ObligationRecord.obligation_id.in_(ids))
                    .group_by(ObligationRecord.obligation_id))


@pytest.fixture
def statements(app):
    """The SQL statements the database receives (from ``clear()`` on)."""
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


def test_completing_fifty_takes_as_many_statements_as_completing_five(
        app, clients_with_obligations, statements):
    few, many = clients_with_obligations(5), clients_with_obligations(50)
    assert len(few) == 5 and len(many) == 50
    assert complete(app, few, counter=statements).done == 5
    n_few = len(statements)
    assert complete(app, many, counter=statements).done == 50
    n_many = len(statements)
    assert n_many == n_few and n_many <= 12, statements
    assert set(deadlines(app, many).values()) == {datetime.date(2028, 7, 1)}
    assert records(app, many) == {oid: 1 for oid in many}


def test_skipping_many_is_set_based_too(app, clients_with_obligations, statements):
    ids = clients_with_obligations(20)
    result = complete(app, ids, "skip", counter=statements)
    assert (result.done, result.stale) == (20, 0) and len(statements) <= 12
    assert set(deadlines(app, ids).values()) == {datetime.date(2028, 7, 1)}


def test_each_advanced_obligation_has_its_audit_rows(app, clients_with_obligations):
    import json

    from sqlalchemy import func

    from app.extensions import db
    from app.models import AuditLog

    ids = clients_with_obligations(3)
    with app.app_context():
        before = db.session.query(func.max(AuditLog.id)).scalar() or 0
    complete(app, ids)
    with app.app_context():
        rows = db.session.query(AuditLog).filter(AuditLog.id > before).all()
    moved = {int(r.row_id): json.loads(r.changes) for r in rows
             if r.table_name == "obligation" and r.action == "update"}
    assert set(moved) == set(ids)
    assert all(c["deadline"][1] == "2028-07-01" and c["period"][1] for c in moved.values())
    inserted = [json.loads(r.changes) for r in rows
                if r.table_name == "obligation_record" and r.action == "insert"]
    assert sorted(c["obligation_id"][1] for c in inserted) == sorted(ids)
    assert all(c["kind"] == [None, "complete"] for c in inserted)


def test_the_second_of_two_identical_posts_changes_nothing(app, clients_with_obligations):
    ids = clients_with_obligations(10)
    from app.extensions import db
    from app.models import Obligation
    from app.services.obligations import record

    with app.app_context():
        obs = db.session.query(Obligation).filter(Obligation.id.in_(ids)).all()
        seen = {o.id: o.deadline for o in obs}
    first = complete(app, ids)
    with app.app_context():  # the same page posted again: same seen dates
        obs = db.session.query(Obligation).filter(Obligation.id.in_(ids)).all()
        second = record(obs, "complete", None, TZ, seen=seen)
    assert (first.done, second.done, second.stale) == (10, 0, 10)
    assert records(app, ids) == {oid: 1 for oid in ids}


def test_a_deadline_moved_under_the_batch_is_left_alone_and_its_record_dropped(
        app, clients_with_obligations, monkeypatch):
    """The row moved between the read and the UPDATE: its record is not kept, the
    others of the same batch advance."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Obligation
    from app.services import obligations as service

    ids = clients_with_obligations(4)
    moved_to = datetime.date(2026, 12, 15)
    real = service.advance_of
    calls = []

    def advance_after_someone_moved_one(ob, *args):
        if not calls:
            with db.engine.begin() as conn:
                conn.execute(update(Obligation).where(Obligation.id == ids[0])
                             .values(deadline=moved_to))
        calls.append(ob.id)
        return real(ob, *args)

    monkeypatch.setattr(service, "advance_of", advance_after_someone_moved_one)
    result = complete(app, ids)
    assert (result.done, result.stale) == (3, 1)
    assert deadlines(app, ids)[ids[0]] == moved_to
    assert records(app, ids) == {oid: 1 for oid in ids[1:]}


def test_two_clerks_completing_the_same_selection_at_once_advance_each_once(
        app, clients_with_obligations):
    """Two threads, two sessions, the same 30 rows as both pages showed them,
    started together: each obligation moves one period and has one record, and the
    two results add up to 30 done."""
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrent writers: PostgreSQL (SQLite has one writer at a time)")
    ids = clients_with_obligations(30)
    start = threading.Barrier(2)
    results, errors = [], []

    def clerk():
        from app.models import Obligation
        from app.services.obligations import record

        try:
            with app.app_context():
                obs = db.session.query(Obligation).filter(Obligation.id.in_(ids)).all()
                seen = {o.id: o.deadline for o in obs}
                start.wait(timeout=10)
                results.append(record(obs, "complete", None, TZ, seen=seen))
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r.done for r in results) == 30
    assert sum(r.stale for r in results) == 30
    assert set(deadlines(app, ids).values()) == {datetime.date(2028, 7, 1)}
    assert records(app, ids) == {oid: 1 for oid in ids}
