"""月度统计's summary stays equal to a full recount whatever happens to the journal:
random approvals (many at once), unlocks, new approved rows, edits and deletes — on
both databases; the pages read the summary; ``flask stats rebuild --check`` finds a
summary someone tampered with and ``rebuild`` repairs it."""
import datetime
import random
from decimal import Decimal

import pytest

NOW = datetime.datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def journal_world(app, make_user, make_client):
    """Two accountants' clients, a finance clerk, the categories; entries are
    removed after the test."""
    from app.extensions import db
    from app.models import DictItem, JournalEntry

    acct, other = make_user("Accountant"), make_user("Accountant")
    finance, manager = make_user("Finance"), make_user("Manager")
    clients = [make_client(bookkeeper=acct) for _ in range(3)] + \
        [make_client(bookkeeper=other) for _ in range(2)]
    with app.app_context():
        categories = [i for (i,) in db.session.query(DictItem.id).filter(
            DictItem.kind == "journal_category")]
    yield {"acct": acct, "finance": finance, "manager": manager, "clients": clients,
           "categories": categories + [None]}
    with app.app_context():
        db.session.rollback()
        db.session.query(JournalEntry).delete()
        db.session.commit()


def summary_differences(app):
    from app.services.stats import check_summary

    with app.app_context():
        report = check_summary()
    return {table: rows for table, rows in report.items() if rows}


def random_entry(rng, world, author, status="pending"):
    from app.models import JournalEntry

    day = datetime.date(rng.choice([2025, 2026]), rng.randint(1, 12), rng.randint(1, 28))
    client_id = rng.choice(world["clients"] + [None])
    direction = rng.choice(["income", "expense"])
    if client_id is not None and direction == "income":
        direction = "expense"  # a client's payment is a receipt (its entry: Core INSERT)
    return JournalEntry(entry_date=day, client_id=client_id, direction=direction,
                        category_id=rng.choice(world["categories"]),
                        amount=Decimal(rng.randint(1, 10_000_000)) / 100, status=status,
                        version=1, created_by_id=author.id)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_summary_equals_a_recount_after_random_approvals_and_unlocks(
        app, journal_world, seed):
    from app.extensions import db
    from app.models import JournalEntry
    from app.services import transitions

    rng = random.Random(seed)
    world = journal_world
    with app.app_context():
        db.session.add_all(random_entry(rng, world, world["acct"]) for _ in range(40))
        db.session.commit()
    for step in range(40):
        action = rng.choice(["approve", "approve", "unlock", "add_approved", "edit", "delete"])
        with app.app_context():
            rows = db.session.query(JournalEntry).order_by(JournalEntry.id).all()
            pending = [e for e in rows if e.status == "pending"]
            approved = [e for e in rows if e.status == "approved"]
            if action == "approve" and pending:
                chosen = rng.sample(pending, rng.randint(1, len(pending)))
                transitions.fire(JournalEntry, chosen, "approve", world["finance"], NOW,
                                 seen={e.id: e.version for e in chosen})
            elif action == "unlock" and approved:
                entry = rng.choice(approved)
                transitions.fire(JournalEntry, [entry], "unlock", world["manager"], NOW,
                                 seen={entry.id: entry.version}, reason="金额录错")
            elif action == "add_approved":  # an import or a script writes it approved
                db.session.add(random_entry(rng, world, world["acct"], status="approved"))
                db.session.commit()
            elif action == "edit" and pending:
                entry = rng.choice(pending)
                entry.amount = Decimal(rng.randint(1, 10_000_000)) / 100
                entry.entry_date = datetime.date(2026, rng.randint(1, 12), 3)
                entry.category_id = rng.choice(world["categories"])
                db.session.commit()
            elif action == "delete" and rows:
                db.session.delete(rng.choice(rows))  # approved too: a raw delete counts
                db.session.commit()
        if step % 5 == 4:
            assert summary_differences(app) == {}, (seed, step, action)
    assert summary_differences(app) == {}


def test_pages_read_the_summary_and_a_scoped_user_gets_his_clients_only(
        app, journal_world):
    """The numbers from the summary are those of the entries, for who sees all and
    for an accountant (his clients' entries only)."""
    from sqlalchemy import event

    from app.extensions import db
    from app.models import JournalEntry
    from app.security import scope
    from app.services import stats

    rng = random.Random(7)
    world = journal_world
    with app.app_context():
        db.session.add_all(random_entry(rng, world, world["acct"], status="approved")
                           for _ in range(60))
        db.session.commit()
        user = db.session.merge(world["acct"])
        cond = scope.condition(user, JournalEntry, lambda *a: False, db.session)
        seen = []

        def on_execute(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", on_execute)
        try:
            for condition in (None, cond):
                seen.clear()
                from_summary = stats.monthly(2026, condition)
                assert any("journal_month" in s or "journal_client_month" in s for s in seen)
                assert not any("FROM journal_entry" in s for s in seen), seen
                rows = stats._grouped(stats.month_of(JournalEntry.entry_date), condition,
                                      JournalEntry.entry_date >= datetime.date(2026, 1, 1),
                                      JournalEntry.entry_date < datetime.date(2027, 1, 1))
                recount = stats._report(rows, range(1, 13), year=2026)
                assert from_summary.by_period == recount.by_period
                assert from_summary.total == recount.total
                assert [(r.category_id, r.total) for r in from_summary.by_category] == \
                    [(r.category_id, r.total) for r in recount.by_category]
                yearly, yearly_recount = stats.yearly(condition), stats._report(
                    stats._grouped(stats.year_of(JournalEntry.entry_date), condition),
                    [2025, 2026])
                assert yearly.by_period == yearly_recount.by_period
        finally:
            event.remove(db.engine, "before_cursor_execute", on_execute)
        mine = set(world["clients"][:3])
        expected = sum((e.amount for e in db.session.query(JournalEntry).filter(
            JournalEntry.status == "approved", JournalEntry.direction == "income",
            JournalEntry.entry_date >= datetime.date(2026, 1, 1),
            JournalEntry.entry_date < datetime.date(2027, 1, 1)) if e.client_id in mine),
            Decimal("0.00"))
        assert stats.monthly(2026, cond).total.income == expected


def test_rebuild_check_reports_a_tampered_summary_and_rebuild_repairs_it(
        app, journal_world):
    from sqlalchemy import update

    from app.extensions import db
    from app.models import JournalMonth

    rng = random.Random(11)
    with app.app_context():
        db.session.add_all(random_entry(rng, journal_world, journal_world["acct"],
                                        status="approved") for _ in range(10))
        db.session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["stats", "rebuild", "--check"])
    assert ok.exit_code == 0 and "0 difference(s)" in ok.output
    with app.app_context():
        db.session.execute(update(JournalMonth).values(cents=JournalMonth.cents + 1))
        db.session.commit()
    bad = runner.invoke(args=["stats", "rebuild", "--check"])
    assert bad.exit_code == 1 and "journal_month: " in bad.output
    assert "journal_month: 0 difference(s)" not in bad.output
    assert summary_differences(app)  # --check changed nothing
    fixed = runner.invoke(args=["stats", "rebuild"])
    assert fixed.exit_code == 0
    assert summary_differences(app) == {}
