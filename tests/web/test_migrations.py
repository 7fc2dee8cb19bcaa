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
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, Model.metadata)
    assert diff == [], f"models changed without a migration: {diff}"
