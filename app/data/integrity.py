"""The field rules, enforced for every writer: a ``before_flush`` check on every
Session.

Screens, the REST API, the import, the CLI and scheduled jobs all write through
SQLAlchemy sessions; whatever they put on a row is checked here before it reaches
the database, against the rules of ``app.domain.validation`` — derived from each
column's type and completed by ``app.domain.rules`` — and normalised in place
(codes upper-cased, amounts as two-place Decimals). A refused value raises
:class:`~app.domain.validation.FieldErrors` and nothing is flushed; the screens show
the messages beside the fields, the API answers 422 with them. The database's own
constraints (NOT NULL, CHECK on choices and amounts, foreign keys — switched on for
SQLite here too) are the last line behind this one.

Set-based statements (``UPDATE … WHERE``) bypass the ORM and this check: the
services that use them write values they computed themselves, never a user's text.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Integer, Numeric, String, Text,
                        event, inspect, select)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..domain import rules as declared
from ..domain import validation as v

#: tables FAB keeps in step itself (permission bookkeeping) and the log
SKIP_TABLES = {"audit_log", "ab_permission", "ab_view_menu", "ab_permission_view",
               "ab_permission_view_role", "ab_register_user"}


def table_of(model) -> v.Table:
    return declared.TABLES.get(model.__tablename__, v.Table())


@lru_cache(maxsize=None)
def rules_of(model) -> dict:
    """Column → Rule for a mapped class: derived from the column types, replaced by
    the table's declarations in ``app.domain.rules``."""
    rules = {}
    choices = getattr(model, "__choices__", {})
    for attr in stored_attrs(model):
        if len(attr.columns) != 1:
            continue
        column = attr.columns[0]
        rule = _derived(column, choices.get(attr.key))
        if rule is not None:
            rules[attr.key] = rule
    rules.update(table_of(model).rules)
    return rules


@lru_cache(maxsize=None)
def defaults_of(model) -> dict:
    """NOT NULL columns with a plain default: a blank value means that default."""
    found = {}
    for attr in stored_attrs(model):
        column = attr.columns[0]
        default = column.default
        if not column.nullable and default is not None and getattr(default, "is_scalar", False):
            found[attr.key] = default.arg
    return found


def stored_attrs(model) -> list:
    """The column attributes stored in the model's own table (not the read-only
    computed ones, like the client's next 抄税清卡 date)."""
    from sqlalchemy import Column

    return [attr for attr in inspect(model).column_attrs
            if isinstance(attr.columns[0], Column)]


def _derived(column, choices):
    if column.primary_key:
        return None
    required = not column.nullable and column.default is None and column.server_default is None
    if choices:
        return v.Choice(codes=tuple(choices), required=required)
    kind = column.type
    if column.foreign_keys:
        # the shape of an id; the database's foreign key checks that the row exists
        # (declared References in app.domain.rules also check it here, with a message)
        return v.Integer(minimum=1, required=required)
    if isinstance(kind, Boolean):
        return v.Boolean(required=required)
    if isinstance(kind, DateTime):
        return v.DateTime(required=required)
    if isinstance(kind, Date):
        return v.Date(required=required)
    if isinstance(kind, Numeric):
        return v.Money(required=required)
    if isinstance(kind, BigInteger):
        return v.Integer(minimum=-v.MAX_INT64, maximum=v.MAX_INT64, required=required)
    if isinstance(kind, Integer):
        return v.Integer(required=required)
    if isinstance(kind, (String, Text)):
        length = getattr(kind, "length", None) or v.MAX_TEXT
        return v.Text(max_length=length, required=required)
    return None


def _row_values(obj, new: bool) -> tuple[dict, dict]:
    """(values to check: all set columns of a new row, the changed ones of an old
    row; every current value, for the checks across columns)."""
    state = inspect(obj)
    changed, current = {}, {}
    for attr in stored_attrs(state.mapper):
        key = attr.key
        value = state.dict.get(key)
        current[key] = value
        if new:
            if key in state.dict:
                changed[key] = value
        elif state.attrs[key].history.added:
            changed[key] = value
    return changed, current


def check_object(session: Session, obj, new: bool) -> None:
    """Check and normalise one row about to be written.

    :raises FieldErrors: (nothing is changed in the database)
    """
    model = type(obj)
    rules = rules_of(model)
    changed, current = _row_values(obj, new)
    related = _related_keys(obj)
    if not changed and not related:
        return
    # a foreign key given by its relationship (a form or the API sets ``client``, the
    # flush copies its id later) counts for the checks across columns
    current.update({k: val for k, val in related.items() if current.get(k) is None})
    # required columns a new row leaves unset (no default) are errors too
    missing = {name for name, rule in rules.items()
               if new and rule.required and current.get(name) is None
               and name not in changed and not _set_by_relationship(obj, name)}
    own = inspect(obj).identity
    cleaned, errors = check_values(session, model, changed, current,
                                   own[0] if own else None, touched=set(related))
    for name in missing:
        errors.setdefault(name, []).append(("required", {}))
    defaults = defaults_of(model)
    for name, value in cleaned.items():
        if name in errors:
            continue
        if value is None and name in defaults:
            value = defaults[name]  # left blank: the column's default, not NULL
        if value != changed[name]:
            setattr(obj, name, value)
    if errors:
        raise v.FieldErrors(errors)


def check_values(session, model, changed: dict, current: dict | None = None,
                 own_id=None, touched=frozenset()) -> tuple[dict, dict]:
    """The rules of ``model`` on ``changed`` (column → value as given), with the
    checks across columns (on the row's ``current`` values merged with the changed
    ones; ``touched``: more columns that changed, through their relationship), the
    declared references and unique values.

    :return: (cleaned values, errors ``{column: [(reason, params)]}``)
    """
    table = table_of(model)
    rules = rules_of(model)
    cleaned, errors = v.check(v.Table(), rules, changed, new=False)
    merged = {**(current or {}), **{k: val for k, val in cleaned.items() if k not in errors}}
    for chk in table.checks:
        if chk.field in errors or chk.other in errors:
            continue
        if not {chk.field, chk.other} & (set(changed) | set(touched)):
            continue
        bad = chk.check(merged)
        if bad:
            errors.setdefault(bad, []).append((chk.message, {}))
    _check_references(session, rules, changed, cleaned, errors)
    _check_unique(session, model, table, own_id, changed, merged, errors)
    return cleaned, table.reworded(errors)


def _related_keys(obj) -> dict:
    """Foreign key → the related row's id (True while that row is new) for the
    many-to-one relationships of ``obj`` that were set or changed (the flush copies
    the id into the key later)."""
    state = inspect(obj)
    found = {}
    for rel in state.mapper.relationships:
        if rel.direction.name != "MANYTOONE" or len(rel.local_columns) != 1:
            continue
        if rel.key not in state.dict or not state.attrs[rel.key].history.added:
            continue
        target = state.dict.get(rel.key)
        if target is None:
            continue
        key = next(iter(rel.local_columns)).key
        found[key] = getattr(target, "id", None) or True
    return found


def _set_by_relationship(obj, column: str) -> bool:
    """A foreign key left None on the object but given by its relationship (the
    flush copies the related row's id into it)."""
    state = inspect(obj)
    for rel in state.mapper.relationships:
        if any(c.key == column for c in rel.local_columns):
            return state.dict.get(rel.key) is not None
    return False


def _check_references(session, rules, changed, cleaned, errors) -> None:
    for name, rule in rules.items():
        if not isinstance(rule, v.Reference) or name not in changed or name in errors:
            continue
        value = cleaned.get(name)
        if value is None:
            continue
        if not reference_exists(session, rule, value):
            errors.setdefault(name, []).append(("reference", {}))


def reference_exists(session, rule: v.Reference, value: int) -> bool:
    """Whether row ``value`` of ``rule.table`` exists (and is active when the rule
    says so)."""
    from sqlalchemy import table as sql_table, column

    target = sql_table(rule.table, column("id"), column("active"))
    query = select(target.c.id).where(target.c.id == value)
    if rule.active_only:
        query = query.where(target.c.active.is_(True))
    with session.no_autoflush:
        return session.execute(query.limit(1)).first() is not None


def _check_unique(session, model, table, own_id, changed, merged, errors) -> None:
    for spec in table.unique:
        names = (spec,) if isinstance(spec, str) else tuple(spec)
        if not any(n in changed for n in names) or any(n in errors for n in names):
            continue
        values = {n: merged.get(n) for n in names}
        if any(val is None for val in values.values()):
            continue
        if taken_by_other(session, model, values, own_id):
            errors.setdefault(names[-1], []).append(("unique", {}))


def taken_by_other(session, model, values: dict, own_id=None) -> bool:
    """Whether another row of ``model`` already has these column values (the whole
    table, not the user's scope: uniqueness does not depend on who looks)."""
    query = select(model.id).where(*[getattr(model, n) == val for n, val in values.items()])
    if own_id is not None:
        query = query.where(model.id != own_id)
    with session.no_autoflush:
        return session.execute(query.limit(1)).first() is not None


def taken(model, column: str, value, own_id=None) -> bool:
    """``taken_by_other`` for one column, on the app's session."""
    from ..extensions import db

    return taken_by_other(db.session, model, {column: value}, own_id)


def _bump_version(session, obj) -> None:
    """A document with a workflow gets a new version whenever its row changes, so
    a step posted from a page that showed the old version is refused."""
    from ..domain.workflows import BY_TABLE

    wf = BY_TABLE.get(getattr(type(obj), "__tablename__", ""))
    if wf is None or not session.is_modified(obj, include_collections=False):
        return
    state = inspect(obj)
    if state.attrs[wf.version_column].history.added:
        return  # set by the caller already
    setattr(obj, wf.version_column, (getattr(obj, wf.version_column) or 0) + 1)


def _before_flush(session: Session, flush_context, instances) -> None:
    problems = v.FieldErrors({})
    for new, objects in ((True, list(session.new)), (False, list(session.dirty))):
        for obj in objects:
            try:
                table = inspect(obj).mapper.local_table.name
            except Exception:
                continue
            if table in SKIP_TABLES or (not new and not session.is_modified(obj)):
                continue
            try:
                check_object(session, obj, new)
            except v.FieldErrors as exc:
                problems.merge(exc)
            if not new:
                _bump_version(session, obj)
    if problems.errors:
        raise problems


def _sqlite_foreign_keys(dbapi_connection, connection_record) -> None:
    # SQLite only enforces foreign keys when asked, per connection.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


_installed = False


def install() -> None:
    """Listen on every Session and connection once per process."""
    global _installed
    if not _installed:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Engine, "connect", _sqlite_foreign_keys)
        _installed = True
