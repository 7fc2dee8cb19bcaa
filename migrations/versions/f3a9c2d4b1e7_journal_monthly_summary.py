"""journal monthly summary: 月度统计 / 年度统计 read approved amounts per month,
category and direction from two small tables kept exact by triggers

- ``journal_month``: firm-wide, per (year, month, category, direction): entries and
  their sum in cents (category 0: none — a key column cannot be NULL and still
  collide on ``ON CONFLICT``). What a user who sees every entry reads.
- ``journal_client_month``: the same per client (entries with a client only), so a
  scoped user's statistics are the sum of his visible clients' rows — exactly his
  entries, whatever his scope (own clients, groups, subordinates).

Both are filled from the approved entries here and kept in step, in the same
transaction as the change, by triggers on ``journal_entry``: an approval (one
UPDATE of 500 rows or one), an unlock, and any insert, edit or delete of an approved
row, from any path (screens, API, CLI, raw SQL, tests). A row whose count falls to
zero is deleted, so the tables equal a recount (``flask stats rebuild --check``).

- PostgreSQL: statement-level triggers with transition tables: one set-based upsert
  per statement, its rows in key order (two approvals at once lock the summary rows
  in the same order: no deadlock); TRUNCATE empties the summary.
- SQLite: row-level triggers (``AFTER UPDATE OF`` the columns that count).

NOTE for later migrations: a batch ("move and copy") rebuild of ``journal_entry`` on
SQLite drops its triggers; re-create them with :func:`create_sqlite_triggers`.

Revision ID: f3a9c2d4b1e7
Revises: d2f4b6a8c0e1
Create Date: 2026-11-30 10:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c2d4b1e7'
down_revision = "d2f4b6a8c0e1"
branch_labels = None
depends_on = None

MONTH, CLIENT = "journal_month", "journal_client_month"
KEYS = {MONTH: ("year", "month", "category_id", "direction"),
        CLIENT: ("client_id", "year", "month", "category_id", "direction")}
#: the columns whose change moves an approved entry in the summary
COUNTED = ("status", "entry_date", "amount", "category_id", "client_id", "direction")


def upgrade():
    op.create_table(
        MONTH,
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('entries', sa.Integer(), server_default='0', nullable=False),
        sa.Column('cents', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('year', 'month', 'category_id', 'direction'))
    op.create_table(
        CLIENT,
        sa.Column('client_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('category_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('entries', sa.Integer(), server_default='0', nullable=False),
        sa.Column('cents', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('client_id', 'year', 'month', 'category_id', 'direction'))
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    year, month = (("CAST(strftime('%Y', entry_date) AS INTEGER)",
                    "CAST(strftime('%m', entry_date) AS INTEGER)") if sqlite else
                   ("CAST(EXTRACT(YEAR FROM entry_date) AS INTEGER)",
                    "CAST(EXTRACT(MONTH FROM entry_date) AS INTEGER)"))
    cents = "SUM(CAST(ROUND(amount * 100) AS BIGINT))"
    op.execute(f"INSERT INTO {MONTH} (year, month, category_id, direction, entries, cents) "
               f"SELECT {year}, {month}, COALESCE(category_id, 0), direction, COUNT(*), "
               f"{cents} FROM journal_entry WHERE status = 'approved' GROUP BY 1, 2, 3, 4")
    op.execute(f"INSERT INTO {CLIENT} (client_id, year, month, category_id, direction, "
               f"entries, cents) SELECT client_id, {year}, {month}, COALESCE(category_id, 0), "
               f"direction, COUNT(*), {cents} FROM journal_entry WHERE status = 'approved' "
               f"AND client_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5")
    if sqlite:
        create_sqlite_triggers()
    elif bind.dialect.name == "postgresql":
        create_postgresql_triggers()


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS journal_summary_{suffix}")
    elif bind.dialect.name == "postgresql":
        for suffix in ("ins", "upd", "del", "trunc"):
            op.execute(f"DROP TRIGGER IF EXISTS journal_summary_{suffix} ON journal_entry")
        op.execute("DROP FUNCTION IF EXISTS journal_summary_apply()")
    op.drop_table(CLIENT)
    op.drop_table(MONTH)


# ---- SQLite: row-level triggers ------------------------------------------------------
def _sqlite_add(table, row, sign):
    keys = ", ".join(KEYS[table])
    client = f"{row}.client_id, " if table == CLIENT else ""
    where = f"WHERE {row}.status = 'approved'"
    if table == CLIENT:
        where += f" AND {row}.client_id IS NOT NULL"
    return (f"INSERT INTO {table} ({keys}, entries, cents) SELECT {client}"
            f"CAST(strftime('%Y', {row}.entry_date) AS INTEGER), "
            f"CAST(strftime('%m', {row}.entry_date) AS INTEGER), "
            f"COALESCE({row}.category_id, 0), {row}.direction, {sign}, "
            f"{sign} * CAST(ROUND({row}.amount * 100) AS INTEGER) {where} "
            f"ON CONFLICT ({keys}) DO UPDATE SET entries = entries + excluded.entries, "
            f"cents = cents + excluded.cents;")


def _sqlite_drop_empty(table, row):
    match = {"client_id": f"{row}.client_id",
             "year": f"CAST(strftime('%Y', {row}.entry_date) AS INTEGER)",
             "month": f"CAST(strftime('%m', {row}.entry_date) AS INTEGER)",
             "category_id": f"COALESCE({row}.category_id, 0)",
             "direction": f"{row}.direction"}
    cond = " AND ".join(f"{key} = {match[key]}" for key in KEYS[table])
    return f"DELETE FROM {table} WHERE {cond} AND entries = 0 AND cents = 0;"


def create_sqlite_triggers():
    """The three triggers keeping both summaries in step with ``journal_entry``."""
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS journal_summary_{suffix}")
    add_new = " ".join(_sqlite_add(t, "new", 1) for t in (MONTH, CLIENT))
    take_old = " ".join(_sqlite_add(t, "old", -1) + " " + _sqlite_drop_empty(t, "old")
                        for t in (MONTH, CLIENT))
    op.execute("CREATE TRIGGER journal_summary_ai AFTER INSERT ON journal_entry "
               f"WHEN new.status = 'approved' BEGIN {add_new} END")
    op.execute("CREATE TRIGGER journal_summary_ad AFTER DELETE ON journal_entry "
               f"WHEN old.status = 'approved' BEGIN {take_old} END")
    op.execute(f"CREATE TRIGGER journal_summary_au AFTER UPDATE OF {', '.join(COUNTED)} "
               "ON journal_entry WHEN old.status = 'approved' OR new.status = 'approved' "
               f"BEGIN {take_old} {add_new} END")


# ---- PostgreSQL: statement-level triggers with transition tables ---------------------
def _pg_rows(table, source, sign):
    client = "r.client_id, " if table == CLIENT else ""
    where = "r.status = 'approved'" + (" AND r.client_id IS NOT NULL" if table == CLIENT
                                       else "")
    return (f"SELECT {client}CAST(EXTRACT(YEAR FROM r.entry_date) AS INTEGER) AS year, "
            f"CAST(EXTRACT(MONTH FROM r.entry_date) AS INTEGER) AS month, "
            f"COALESCE(r.category_id, 0) AS category_id, r.direction AS direction, "
            f"{sign} AS entries, {sign} * CAST(ROUND(r.amount * 100) AS BIGINT) AS cents "
            f"FROM {source} r WHERE {where}")


def _pg_apply(table, sources):
    """One upsert of the statement's net change to ``table`` (rows in key order),
    then the rows it brought to zero deleted."""
    keys = ", ".join(KEYS[table])
    union = " UNION ALL ".join(_pg_rows(table, src, sign) for src, sign in sources)
    sql = (f"INSERT INTO {table} AS t ({keys}, entries, cents) "
           f"SELECT {keys}, SUM(entries), SUM(cents) FROM ({union}) d GROUP BY {keys} "
           f"HAVING SUM(entries) <> 0 OR SUM(cents) <> 0 ORDER BY {keys} "
           f"ON CONFLICT ({keys}) DO UPDATE SET entries = t.entries + EXCLUDED.entries, "
           f"cents = t.cents + EXCLUDED.cents;")
    if any(sign < 0 for _, sign in sources):
        old = _pg_rows(table, "old_rows", -1)
        match = " AND ".join(f"t.{k} = z.{k}" for k in KEYS[table])
        sql += (f" DELETE FROM {table} t USING (SELECT DISTINCT {keys} FROM ({old}) o) z "
                f"WHERE {match} AND t.entries = 0 AND t.cents = 0;")
    return sql


def create_postgresql_triggers():
    """The function and the four triggers keeping both summaries in step."""
    def both(sources):
        return " ".join(_pg_apply(t, sources) for t in (MONTH, CLIENT))

    op.execute(f"""
CREATE OR REPLACE FUNCTION journal_summary_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF EXISTS (SELECT 1 FROM new_rows WHERE status = 'approved') THEN
      {both([("new_rows", 1)])}
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM old_rows WHERE status = 'approved') THEN
      {both([("old_rows", -1)])}
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    IF EXISTS (SELECT 1 FROM old_rows WHERE status = 'approved')
       OR EXISTS (SELECT 1 FROM new_rows WHERE status = 'approved') THEN
      {both([("new_rows", 1), ("old_rows", -1)])}
    END IF;
  ELSE
    DELETE FROM {MONTH};
    DELETE FROM {CLIENT};
  END IF;
  RETURN NULL;
END
$$""")
    for suffix in ("ins", "upd", "del", "trunc"):
        op.execute(f"DROP TRIGGER IF EXISTS journal_summary_{suffix} ON journal_entry")
    op.execute("CREATE TRIGGER journal_summary_ins AFTER INSERT ON journal_entry "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION journal_summary_apply()")
    op.execute("CREATE TRIGGER journal_summary_upd AFTER UPDATE ON journal_entry "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION journal_summary_apply()")
    op.execute("CREATE TRIGGER journal_summary_del AFTER DELETE ON journal_entry "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION journal_summary_apply()")
    op.execute("CREATE TRIGGER journal_summary_trunc AFTER TRUNCATE ON journal_entry "
               "FOR EACH STATEMENT EXECUTE FUNCTION journal_summary_apply()")
