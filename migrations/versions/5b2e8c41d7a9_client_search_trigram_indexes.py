"""client search through trigram indexes: pg_trgm GIN indexes on PostgreSQL, an FTS5
trigram table kept in step by triggers on SQLite

The search box (``?q=``) and the search form's "contains" filters look for a fragment
anywhere in a name, a code or a phone number: ``LIKE '%…%'``, which no B-tree index
serves, so every search read all clients (130 ms at 100,000; over a second at a
million).

- PostgreSQL: ``CREATE EXTENSION IF NOT EXISTS pg_trgm`` and one GIN
  ``gin_trgm_ops`` index per searched column; the planner then answers
  ``LIKE``/``ILIKE '%x%'`` of 3 characters or more from them (a BitmapOr for the
  search box's OR over seven columns). Where the extension may not be created (no
  superuser, not installed), the upgrade goes on without the indexes — search keeps
  working by scanning — and says how to add them later.
- SQLite (3.34+ has the trigram tokenizer): an external-content FTS5 table
  ``client_fts`` over the same columns, filled from the existing rows on upgrade and
  kept in step by three triggers. The app asks it for the candidate ids of a
  fragment of 3 characters or more and re-checks them with the LIKE it always used
  (app.data.textsearch), so the rows found are exactly LIKE's.

NOTE for later migrations: a batch ("move and copy") rebuild of ``client`` on
SQLite drops its triggers; re-create them with :func:`create_sqlite_triggers` of
this module after such a rebuild (tests/web/test_migrations.py checks head has them).

Revision ID: 5b2e8c41d7a9
Revises: c4e8a1f2b3d5
Create Date: 2026-11-30 07:20:00.000000

"""
import logging
import sqlite3

from alembic import op
from sqlalchemy.exc import DBAPIError

# revision identifiers, used by Alembic.
revision = '5b2e8c41d7a9'
down_revision = "c4e8a1f2b3d5"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

COLUMNS = ("name", "short_name", "credit_code", "legal_rep", "legal_rep_phone",
           "contact_name", "contact_phone")
FTS = "client_fts"


def _pg_index_sql(column: str) -> str:
    return (f"CREATE INDEX IF NOT EXISTS ix_client_{column}_trgm ON client "
            f"USING gin ({column} gin_trgm_ops)")


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _upgrade_postgresql(bind)
    elif bind.dialect.name == "sqlite":
        _upgrade_sqlite(bind)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for column in COLUMNS:
            op.execute(f"DROP INDEX IF EXISTS ix_client_{column}_trgm")
        # the pg_trgm extension stays: other objects may use it, and dropping it
        # needs the rights creating it needed
    elif bind.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")


def _upgrade_postgresql(bind):
    try:
        with bind.begin_nested():  # a refusal must not abort the migration's transaction
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        statements = ";\n  ".join(["CREATE EXTENSION IF NOT EXISTS pg_trgm"] +
                                  [_pg_index_sql(c) for c in COLUMNS])
        log.warning(
            "pg_trgm could not be created in this database (%s). Client search will "
            "work but read every row. To index it, a superuser runs in this "
            "database:\n  %s;", str(getattr(exc, "orig", exc)).strip().splitlines()[0],
            statements)
        return
    for column in COLUMNS:
        op.execute(_pg_index_sql(column))


def _upgrade_sqlite(bind):
    if sqlite3.sqlite_version_info < (3, 34, 0):
        log.warning("SQLite %s has no FTS5 trigram tokenizer (3.34+): client search "
                    "will read every row.", sqlite3.sqlite_version)
        return
    cols = ", ".join(COLUMNS)
    op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5({cols}, "
               f"content='client', content_rowid='id', tokenize='trigram')")
    create_sqlite_triggers()
    # the index of the rows already there
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def create_sqlite_triggers():
    """The three triggers keeping ``client_fts`` in step with ``client`` (an external
    content table: a row is removed by giving its old values to 'delete')."""
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    op.execute(f"DROP TRIGGER IF EXISTS {FTS}_ai")
    op.execute(f"DROP TRIGGER IF EXISTS {FTS}_ad")
    op.execute(f"DROP TRIGGER IF EXISTS {FTS}_au")
    op.execute(f"CREATE TRIGGER {FTS}_ai AFTER INSERT ON client BEGIN "
               f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {FTS}_ad AFTER DELETE ON client BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER {FTS}_au AFTER UPDATE OF {cols} ON client BEGIN "
               f"INSERT INTO {FTS}({FTS}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {FTS}(rowid, {cols}) VALUES (new.id, {new}); END")
