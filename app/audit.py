"""操作日志: every insert, update and delete, from any path, in the same transaction.

A SQLAlchemy ``after_flush`` listener on every Session sees screens, actions, the
API, the CLI and jobs alike (FAB's view hooks are bypassed by actions: FAB_NOTES).
At that point the flushed rows have their ids and attribute history still holds
old and new values; the log rows are inserted on the same connection, so they
commit or roll back with the change. Set-based ``UPDATE`` statements bypass the
ORM: services that use them call :func:`record` themselves.
"""
from __future__ import annotations

import datetime
import decimal
import getpass
import json

from flask import g, has_request_context, request
from sqlalchemy import Column, event, insert, inspect
from sqlalchemy.orm import Session

from .models import AuditLog
from .clock import local_now

# FAB's permission bookkeeping is synchronised by `flask init`, not changed by people.
SKIP_TABLES = {"audit_log", "ab_permission", "ab_view_menu", "ab_permission_view"}
# Login bookkeeping on the user row is recorded as login events instead.
SKIP_FIELDS = {"ab_user": {"last_login", "login_count", "fail_login_count", "changed_on",
                           "session_version"},
               "client": {"changed_on", "created_on"}}
SECRET_FIELDS = {"password", "secret_enc"}
MASK = "******"


def plain(value):
    """A value as the audit log (JSON) keeps it: dates as ISO text, money as text."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def actor() -> dict:
    """Who is acting, and from where: the request's user and IP, or the CLI user."""
    if has_request_context():
        user = getattr(g, "user", None)
        uid = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
        return {"user_id": uid,
                "username": getattr(user, "username", None) if uid else None,
                "ip": request.remote_addr}
    try:
        who = getpass.getuser()
    except Exception:  # no login name in some containers
        who = "system"
    return {"user_id": None, "username": f"cli:{who}", "ip": None}


def record(connection, action: str, table: str | None = None, row_id=None,
           changes: dict | None = None, **who) -> None:
    """Write one audit row on ``connection`` (inside the caller's transaction)."""
    row = {**actor(), **who}
    connection.execute(insert(AuditLog.__table__), [{
        "at": local_now(), "action": action, "table_name": table,
        "row_id": None if row_id is None else str(row_id),
        "changes": json.dumps(changes, ensure_ascii=False, default=str) if changes else None,
        **row,
    }])


def record_many(connection, action: str, table: str, rows) -> int:
    """Write one audit row per ``(row_id, changes)`` of ``rows`` in one statement
    (set-based changes: one row each, as :func:`record` would write them)."""
    rows = list(rows)
    if not rows:
        return 0
    who, now = actor(), local_now()
    if connection.dialect.name == "postgresql" and len(rows) > 1:
        from .data.sql import insert_unnest

        connection.execute(insert_unnest(
            AuditLog.__table__,
            constants={"at": now, "action": action, "table_name": table, **who},
            arrays={"row_id": [None if row_id is None else str(row_id) for row_id, _ in rows],
                    "changes": [json.dumps(changes, ensure_ascii=False, default=str)
                                if changes else None for _, changes in rows]}))
        return len(rows)
    connection.execute(insert(AuditLog.__table__), [{
        "at": now, "action": action, "table_name": table,
        "row_id": None if row_id is None else str(row_id),
        "changes": json.dumps(changes, ensure_ascii=False, default=str) if changes else None,
        **who,
    } for row_id, changes in rows])
    return len(rows)


def _columns(obj):
    state = inspect(obj)
    table = state.mapper.local_table.name
    skip = SKIP_FIELDS.get(table, set())
    for attr in state.mapper.column_attrs:
        # stored columns only (not computed ones like the client's next 抄税清卡 date)
        if attr.key not in skip and isinstance(attr.columns[0], Column):
            yield table, attr.key, state.attrs[attr.key]


def _row_id(obj):
    # In after_flush the identity key of a new row is not assigned yet; its primary
    # key attributes already hold the values the INSERT produced.
    state = inspect(obj)
    ident = state.identity or state.mapper.primary_key_from_instance(obj)
    if not ident or all(v is None for v in ident):
        return None
    return ident[0] if len(ident) == 1 else ",".join(map(str, ident))


def _changes_for(obj, kind: str) -> tuple[str, dict]:
    state = inspect(obj)
    table = state.mapper.local_table.name
    changes = {}
    for _, key, attr in _columns(obj):
        hist = attr.history
        if kind == "insert":
            value = state.dict.get(key)
            if value is not None:
                changes[key] = [None, MASK if key in SECRET_FIELDS else plain(value)]
        elif kind == "delete":
            value = state.dict.get(key)  # never lazy-load a row that is gone
            if value is not None:
                changes[key] = [MASK if key in SECRET_FIELDS else plain(value), None]
        elif hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
            if key in SECRET_FIELDS:
                old, new = MASK, MASK
            changes[key] = [plain(old), plain(new)]
    return table, changes


def _after_flush(session: Session, flush_context) -> None:
    rows = []
    for kind, objects in (("insert", session.new), ("update", session.dirty),
                          ("delete", session.deleted)):
        for obj in objects:
            if isinstance(obj, AuditLog):
                continue
            try:
                table = inspect(obj).mapper.local_table.name
            except Exception:
                continue
            if table in SKIP_TABLES:
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            table, changes = _changes_for(obj, kind)
            if kind == "update" and not changes:
                continue
            rows.append((kind, table, _row_id(obj), changes))
    if not rows:
        return
    connection = session.connection()
    who = actor()
    now = local_now()
    connection.execute(insert(AuditLog.__table__), [{
        "at": now, "action": kind, "table_name": table,
        "row_id": None if row_id is None else str(row_id),
        "changes": json.dumps(changes, ensure_ascii=False, default=str), **who,
    } for kind, table, row_id, changes in rows])


_installed = False


def install() -> None:
    """Listen on every Session once per process (create_app may run many times)."""
    global _installed
    if not _installed:
        event.listen(Session, "after_flush", _after_flush)
        _installed = True
