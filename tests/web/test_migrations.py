"""Schema changes go through Alembic: upgrading an existing database keeps its data,
and the models match the migrations (nothing changed without a revision)."""
import os
import tempfile

import pytest
from sqlalchemy import text


@pytest.fixture
def fresh_app(database_url):
    """An app on its own empty database (SQLite file, or a new PostgreSQL database)."""
    from app import create_app

    drop = None
    if database_url.startswith("postgresql"):
        from ..conftest import _pg_database

        url, drop = _pg_database()
    else:
        url = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "migr.db")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    yield app
    with app.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def revisions(app):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.extensions["migrate"].directory)
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def test_upgrade_from_first_revision_keeps_data(fresh_app):
    from flask_migrate import upgrade

    from app.extensions import db

    revs = revisions(fresh_app)
    with fresh_app.app_context():
        upgrade(directory=fresh_app.extensions["migrate"].directory, revision=revs[0])
        db.session.execute(text(
            "INSERT INTO client (name, credit_code, taxpayer_type, tax_device_type, "
            "tax_device_custody, provides_address, onsite_bookkeeping, billing_cycle, "
            "service_fee, billing_state, status, created_on, changed_on) VALUES "
            "('升级前的客户', '91350100M000100Y43', 'small', 'none', false, false, false, "
            "'month', 123.45, 'billed', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
        db.session.commit()
        upgrade(directory=fresh_app.extensions["migrate"].directory)
        row = db.session.execute(text("SELECT name, service_fee FROM client")).one()
        assert row[0] == "升级前的客户" and str(row[1]) in ("123.45", "123.4500000000")
        # head has the tables later revisions add
        db.session.execute(text("SELECT count(*) FROM audit_log")).scalar()


def test_models_match_migrations(fresh_app):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from flask_appbuilder import Model
    from flask_migrate import upgrade

    from app.extensions import db

    with fresh_app.app_context():
        upgrade(directory=fresh_app.extensions["migrate"].directory)
        with db.engine.connect() as conn:
            # the search indexes (FTS5 table, trigram indexes) are no models: the
            # filter autogenerate uses leaves them out here too
            include = fresh_app.extensions["migrate"].configure_args["include_object"]
            ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_object": include})
            diff = compare_metadata(ctx, Model.metadata)
    assert diff == [], f"models changed without a migration: {diff}"


def test_upgrade_turns_a_claim_left_by_a_killed_scheduler_into_a_retry(fresh_app):
    """c384e6441033 (job run attempts): the runs recorded before keep their data; a
    claim left open by a killed process becomes abandoned, so the next tick retries
    it; a job whose last_tick a failed run had moved gets back its last success."""
    from flask_migrate import upgrade

    from app.extensions import db

    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="679b0d574ae1")
        db.session.execute(text(
            "INSERT INTO scheduled_job (id, code, name, rule, enabled, last_tick) VALUES "
            "(1, 'sync_obligations', '同步', '0 1 * * *', true, '2026-11-29 01:00:00'), "
            "(2, 'flag_overdue', '标记', '0 2 * * *', true, '2026-11-28 02:00:00')"))
        db.session.execute(text(
            "INSERT INTO job_run (job_id, tick, started_at, finished_at, rows, error, manual) VALUES "
            "(1, '2026-11-28 01:00:00', '2026-11-28 01:00:01', '2026-11-28 01:00:09', 30, NULL, false), "
            "(1, '2026-11-29 01:00:00', '2026-11-29 01:00:01', '2026-11-29 01:00:02', 0, 'Traceback', false), "
            "(2, '2026-11-29 02:00:00', '2026-11-29 02:00:01', NULL, NULL, NULL, false), "
            "(2, '2026-11-30 02:00:00', '2026-11-30 02:00:01', NULL, NULL, NULL, false)"))
        db.session.commit()
        upgrade(directory=directory, revision="c384e6441033")
        runs = db.session.execute(text(
            "SELECT job_id, attempt, status, rows, finished_at IS NOT NULL FROM job_run "
            "ORDER BY id")).all()
        jobs = db.session.execute(text(
            "SELECT last_tick, last_success_at, last_failure_at FROM scheduled_job "
            "ORDER BY id")).all()
    assert [tuple(r) for r in runs] == [(1, 1, "succeeded", 30, True), (1, 1, "failed", 0, True),
                                        (2, 1, "abandoned", None, True),
                                        (2, 1, "abandoned", None, True)]
    as_text = [[str(v)[:19] if v is not None else None for v in row] for row in jobs]
    assert as_text[0] == ["2026-11-28 01:00:00", "2026-11-28 01:00:09", "2026-11-29 01:00:02"]
    assert as_text[1] == ["2026-11-28 02:00:00", None, "2026-11-30 02:00:01"]


def test_upgrade_gives_a_client_with_a_term_its_approved_contract(fresh_app):
    """b7d2e5c1a9f0 (one source of truth for the fee): a client whose row carries a
    term and who has no contract gets an approved contract with that term, fee and
    cycle; one with a contract keeps only his; a downgrade takes back only what the
    upgrade made."""
    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="25afd1c42972")
        for n, code in ((1, "91350100M000100Y43"), (2, "91110105MA0000000X")):
            db.session.execute(text(
                "INSERT INTO client (id, name, credit_code, taxpayer_type, tax_device_type, "
                "tax_device_custody, provides_address, onsite_bookkeeping, billing_cycle, "
                "service_fee, billing_state, status, created_on, changed_on, ticket_pickup, "
                "contract_start, contract_end) VALUES "
                f"({n}, '有合同期的客户{n}', NULL, 'small', 'none', false, false, false, "
                "'quarter', 450.00, 'billed', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "'none', '2026-01-01', '2026-12-31')"))
        db.session.execute(text(
            "INSERT INTO contract (client_id, number, start_date, end_date, fee, billing_cycle, "
            "status, version, created_on) VALUES (2, 'HT-已有', '2025-01-01', '2025-12-31', "
            "100.00, 'month', 'pending', 1, CURRENT_TIMESTAMP)"))
        db.session.commit()
        upgrade(directory=directory, revision="b7d2e5c1a9f0")
        rows = db.session.execute(text(
            "SELECT client_id, number, start_date, end_date, fee, billing_cycle, status "
            "FROM contract ORDER BY client_id")).all()
        assert len(rows) == 2
        made = rows[0]
        assert (made[0], made[5], made[6]) == (1, "quarter", "approved")
        assert str(made[2])[:10] == "2026-01-01" and str(made[3])[:10] == "2026-12-31"
        assert str(made[4]).startswith("450")
        assert rows[1][1] == "HT-已有"
        downgrade(directory=directory, revision="25afd1c42972")
        left = db.session.execute(text("SELECT client_id FROM contract")).scalars().all()
        assert left == [2]
        db.session.commit()


SEARCH_REVISION = "5b2e8c41d7a9"


def _search_index_objects(db) -> set[str]:
    """The search index's objects present: FTS table and triggers (SQLite) or the
    trigram indexes (PostgreSQL)."""
    if db.engine.dialect.name == "sqlite":
        return set(db.session.execute(text(
            "SELECT name FROM sqlite_master WHERE name LIKE 'client_fts%' "
            "AND type IN ('table', 'trigger')")).scalars())
    return set(db.session.execute(text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'client' "
        "AND indexname LIKE '%_trgm'")).scalars())


def test_search_index_is_built_from_existing_rows_and_downgrades_cleanly(fresh_app):
    """5b2e8c41d7a9: clients there before the upgrade are found through the index;
    downgrading removes every object it made and keeps the clients."""
    from flask_migrate import downgrade, upgrade

    from app.extensions import db

    directory = fresh_app.extensions["migrate"].directory
    with fresh_app.app_context():
        upgrade(directory=directory, revision="c4e8a1f2b3d5")
        db.session.execute(text(
            "INSERT INTO client (name, short_name, credit_code, taxpayer_type, tax_device_type, "
            "tax_device_custody, provides_address, onsite_bookkeeping, billing_cycle, "
            "service_fee, billing_state, status, created_on, changed_on) VALUES "
            "('升级前的瑞丰科技有限公司', '瑞丰科技', '91350100M000100Y43', 'small', 'none', "
            "false, false, false, 'month', 123.45, 'billed', 'active', CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP)"))
        db.session.commit()
        assert _search_index_objects(db) == set()
        upgrade(directory=directory, revision=SEARCH_REVISION)
        built = _search_index_objects(db)
        if db.engine.dialect.name == "sqlite":
            assert {"client_fts", "client_fts_ai", "client_fts_ad", "client_fts_au"} <= built
            found = db.session.execute(text(
                "SELECT rowid FROM client_fts WHERE client_fts MATCH '\"瑞丰科技有限\"'")).all()
            assert len(found) == 1
        else:
            assert "ix_client_name_trgm" in built and len(built) == 7
        downgrade(directory=directory, revision="c4e8a1f2b3d5")
        assert _search_index_objects(db) == set()
        assert db.session.execute(text("SELECT name FROM client")).scalar() == "升级前的瑞丰科技有限公司"
        db.session.commit()  # the later revisions ALTER client: no open read may hold it
        upgrade(directory=directory)
        assert _search_index_objects(db) == built


def test_head_keeps_the_client_search_triggers(fresh_app):
    """A later migration that rebuilds ``client`` in batch mode on SQLite drops its
    triggers: it must re-create them (5b2e8c41d7a9's create_sqlite_triggers)."""
    from flask_migrate import upgrade

    from app.extensions import db

    with fresh_app.app_context():
        upgrade(directory=fresh_app.extensions["migrate"].directory)
        objects = _search_index_objects(db)
        if db.engine.dialect.name == "sqlite":
            assert {"client_fts_ai", "client_fts_ad", "client_fts_au"} <= objects
        else:
            assert len(objects) == 7
