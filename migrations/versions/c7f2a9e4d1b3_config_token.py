"""config token: one row whose value changes with every change to the tables that
configure a page (permissions, hidden fields, settings, obligation types, the team
and group structure), so each worker keeps what it read of them until it changes

Every page read the same small configuration for every request: the user's
permissions, his hidden fields, the firm's settings, the obligation types of the
menu, his team (上级) and the client groups his staff groups manage — four to six
statements of every page, each a round trip on PostgreSQL. ``config_version.token``
is set to a new random value by triggers on those tables, in the same transaction
as the change, from any path (screens, API, CLI, raw SQL, another worker, tests).
The request reads the token with the user (one statement it already made) and
each worker keeps what it read per token (``app.data.config_cache``): a change
committed before a request starts is seen by that request in every worker.

Random rather than counted: two databases made from one template (the tests) start
from one token and must not meet on the same later value with different contents.

- PostgreSQL: one function; statement-level triggers (TRUNCATE included).
- SQLite: row-level triggers (a statement that changes no row changes nothing).
- ``ab_user`` counts on insert, delete and a change of 上级 only (a login updates the
  row on every login and changes no configuration).

NOTE for later migrations: a batch ("move and copy") rebuild on SQLite of one of the
``TABLES`` (or ``ab_user``) drops its triggers; re-create them with
:func:`create_triggers`.

Revision ID: c7f2a9e4d1b3
Revises: b41e6d2c9a73
Create Date: 2026-11-30 16:40:00.000000

"""
import random

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7f2a9e4d1b3'
down_revision = 'b41e6d2c9a73'
branch_labels = None
depends_on = None

#: tables whose every change is a configuration change
TABLES = ("setting", "hidden_field", "obligation_type", "ab_permission",
          "ab_view_menu", "ab_permission_view", "ab_permission_view_role", "ab_role",
          "ab_user_group", "client_group_manager")
#: a new random token: SQLite's random() is a 64-bit integer; PostgreSQL's a float
SQLITE_NEW = "UPDATE config_version SET token = random() WHERE id = 1;"
PG_NEW = ("UPDATE config_version SET token = "
          "CAST(floor(random() * 9007199254740991) AS BIGINT) WHERE id = 1;")


def upgrade():
    op.create_table(
        'config_version',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.execute(sa.text("INSERT INTO config_version (id, token) VALUES (1, :t)")
               .bindparams(t=random.randrange(1, 2 ** 53)))
    create_triggers()


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION config_version_new() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN {PG_NEW} RETURN NULL; END $$")
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{table} ON {table}")
            op.execute(f"CREATE TRIGGER config_version_{table} AFTER INSERT OR UPDATE OR "
                       f"DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION config_version_new()")
        for suffix, event in (("ab_user", "INSERT OR DELETE OR TRUNCATE"),
                              ("ab_user_superior", "UPDATE OF superior_id")):
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{suffix} ON ab_user")
            op.execute(f"CREATE TRIGGER config_version_{suffix} AFTER {event} ON ab_user "
                       "FOR EACH STATEMENT EXECUTE FUNCTION config_version_new()")
        return
    for table in TABLES:
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE")):
            name = f"config_version_{table}_{suffix}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                       f"BEGIN {SQLITE_NEW} END")
    for suffix, event, when in (
            ("ai", "INSERT", ""), ("ad", "DELETE", ""),
            ("au", "UPDATE OF superior_id", "WHEN old.superior_id IS NOT new.superior_id ")):
        name = f"config_version_ab_user_{suffix}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON ab_user {when}"
                   f"BEGIN {SQLITE_NEW} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{table} ON {table}")
        for suffix in ("ab_user", "ab_user_superior"):
            op.execute(f"DROP TRIGGER IF EXISTS config_version_{suffix} ON ab_user")
        op.execute("DROP FUNCTION IF EXISTS config_version_new()")
    else:
        for table in TABLES + ("ab_user",):
            for suffix in ("ai", "au", "ad"):
                op.execute(f"DROP TRIGGER IF EXISTS config_version_{table}_{suffix}")
    op.drop_table('config_version')
