"""Contains-search (``LIKE '%fragment%'``) through a model's text index.

A model declares ``__text_search__ = (fts_table, columns)``; migration 5b2e8c41d7a9
builds the index for ``client``:

- PostgreSQL: a pg_trgm GIN index per column. The planner uses them for ``LIKE`` and
  ``ILIKE '%x%'`` by itself (3 characters or more), so nothing here changes the SQL.
  A 1–2 character fragment has no trigram: PostgreSQL reads every row (a 2-character
  Chinese fragment such as 科技 matches a large share of names anyway; neither a
  ``to_tsvector`` index — no Chinese parser — nor pg_bigm — not installed — helps).
- SQLite: an FTS5 trigram table kept by triggers. SQLite never uses it by itself:
  :func:`candidates` gives ``id IN (SELECT rowid FROM client_fts WHERE client_fts
  MATCH '"fragment"')`` for a fragment of 3 characters or more, which callers AND
  with the LIKE they always ran. The index narrows, LIKE decides, so the rows found
  are exactly LIKE's (FTS5 folds case more widely than SQLite's LIKE: its matches are
  a superset). Shorter fragments, and text with LIKE wildcards where the caller lets
  them act as wildcards, keep the plain LIKE.
"""
from __future__ import annotations

import contextlib
import weakref

from sqlalchemy import String, bindparam, literal_column, select, table

MIN_CHARS = 3  # a trigram index needs three characters

_ready: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def index_of(model):
    """``(fts_table, columns)`` or None."""
    return getattr(model, "__text_search__", None)


def _sqlite_index_ready(session, fts_table: str) -> bool:
    """Whether the FTS table exists (asked once per engine: an old SQLite without
    the trigram tokenizer, or a database not yet upgraded, searches by LIKE)."""
    engine = session.get_bind()
    known = _ready.setdefault(engine, {})
    if fts_table not in known:
        known[fts_table] = session.execute(
            select(literal_column("1")).select_from(table("sqlite_master"))
            .where(literal_column("type") == "table", literal_column("name") == fts_table)
        ).first() is not None
    return known[fts_table]


def match_expression(fragment: str, columns, all_columns) -> str:
    """An FTS5 query for ``fragment`` as a substring of any of ``columns``: one
    quoted phrase (the trigram tokenizer matches it anywhere), with a column filter
    when not every indexed column is searched."""
    phrase = '"' + fragment.replace('"', '""') + '"'
    if set(columns) >= set(all_columns):
        return phrase
    return "{" + " ".join(c for c in all_columns if c in columns) + "} : " + phrase


def candidates(session, model, columns, fragment: str):
    """A condition ``model.id IN (ids whose columns may contain fragment)`` from the
    SQLite FTS index, or None where the index cannot answer (other databases, a
    short fragment, a column outside the index, no index). Callers AND it with their
    own LIKE condition, which decides."""
    index = index_of(model)
    if index is None or len(fragment) < MIN_CHARS:
        return None
    if session.get_bind().dialect.name != "sqlite":
        return None
    fts_table, indexed = index
    if not columns or any(c not in indexed for c in columns):
        return None
    if not _sqlite_index_ready(session, fts_table):
        return None
    query = bindparam(None, match_expression(fragment, columns, indexed), type_=String)
    ids = (select(literal_column("rowid")).select_from(table(fts_table))
           .where(literal_column(fts_table).op("MATCH")(query)))
    return model.id.in_(ids)


@contextlib.contextmanager
def bulk_insert(session, model):
    """Around a bulk INSERT of new rows of ``model`` in the session's transaction:
    on SQLite, the FTS insert trigger is dropped and the new rows are indexed with
    one INSERT … SELECT afterwards, then the trigger is put back — about four times
    faster than a trigger per row (a million demo clients). SQLite's DDL is
    transactional, so a crash leaves the trigger and the index as they were. Other
    databases: nothing to do."""
    from sqlalchemy import func, text

    index = index_of(model)
    if (index is None or session.get_bind().dialect.name != "sqlite"
            or not _sqlite_index_ready(session, index[0])):
        yield
        return
    fts_table, columns = index
    trigger = f"{fts_table}_ai"
    ddl = session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND name = :name"), {"name": trigger}).scalar()
    if ddl is None:  # no insert trigger here: nothing to speed up
        yield
        return
    last = session.execute(select(func.max(model.id))).scalar() or 0
    session.execute(text(f"DROP TRIGGER {trigger}"))
    yield
    cols = ", ".join(columns)
    session.execute(text(f"INSERT INTO {fts_table}(rowid, {cols}) SELECT id, {cols} "
                         f"FROM {model.__tablename__} WHERE id > :last"), {"last": last})
    session.execute(text(ddl))


def ensure_pg_indexes(session, model) -> int:
    """Create the trigram indexes of ``model`` that are missing on PostgreSQL (a load
    killed before it rebuilt them; ``flask init`` and every bulk load call this).
    Nothing where pg_trgm is not installed in the database. Returns how many."""
    from sqlalchemy import text

    index = index_of(model)
    if index is None or session.get_bind().dialect.name != "postgresql":
        return 0
    if not session.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
        return 0
    table_name = model.__tablename__
    have = set(session.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                               {"t": table_name}).scalars())
    made = 0
    for column in index[1]:
        name = f"ix_{table_name}_{column}_trgm"  # as migration 5b2e8c41d7a9 names them
        if name not in have:
            session.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {table_name} "
                                 f"USING gin ({column} gin_trgm_ops)"))
            made += 1
    session.commit()
    return made


@contextlib.contextmanager
def bulk_load(session, model):
    """Around a load of many rows of ``model`` (``flask demo load``): on PostgreSQL
    the trigram GIN indexes are dropped first and built again at the end, in one
    pass each (maintaining seven GIN indexes row by row made a million clients take
    most of an hour). They are rebuilt from their own definitions, also when the
    load fails. Other databases: nothing to do (SQLite indexes per chunk, see
    :func:`bulk_insert`)."""
    from sqlalchemy import text

    if index_of(model) is None or session.get_bind().dialect.name != "postgresql":
        yield
        return
    ensure_pg_indexes(session, model)  # a killed load's missing indexes come back
    defs = session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
        "AND indexname LIKE '%\\_trgm'"), {"t": model.__tablename__}).all()
    for name, _ in defs:
        session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
    session.commit()
    try:
        yield
    finally:
        session.rollback()
        session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for _, ddl in defs:
            session.execute(text(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)))
        session.commit()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: the search indexes are not models (autogenerate must not
    drop them, and the models-match-migrations test must not see them)."""
    if type_ == "table" and name and "_fts" in name and name.split("_fts")[0] in _FTS_BASES:
        return False
    if type_ == "index" and name and name.endswith("_trgm"):
        return False
    return True


# the tables whose FTS tables (and FTS5's shadow tables: _data, _idx, _docsize,
# _config) alembic must leave alone
_FTS_BASES = {"client"}
