"""What each worker keeps of the configuration between requests, per config token.

Every page needs the same small configuration: the user's permissions, his hidden
fields, the firm's settings, the obligation types of the menu, his team and the
client groups he manages. Read per request, that was four to six statements of
every page (each a round trip on PostgreSQL). ``config_version.token`` takes a new
random value, by triggers in the same transaction, with every change to the tables
they come from (migration c7f2a9e4d1b3), whatever made the change: a screen, the
API, the CLI, raw SQL, another worker.

A request reads the token once — with its user, in the statement that loads him
(:func:`token_column`), or on first use — and :func:`cached` answers from what this
worker read under that token, reading afresh under a new one. A change committed
before a request starts is therefore seen by that request in every worker; a request
that commits a change forgets its token, so it sees its own change too. Outside a
request (CLI, scheduler, tests calling a service) nothing is kept.

Values kept are plain data (tuples, frozensets, strings, dicts copied out): never an
ORM object, which belongs to one session.
"""
from __future__ import annotations

from flask import current_app, has_request_context
from flask.globals import _cv_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..models import ConfigVersion

_TOKEN = "_agencydesk_config_token"
_KEPT = "agencydesk_config_cache"


def request_store() -> dict:
    """``g``'s attribute dict, reached without LocalProxy lookups ({} outside)."""
    ctx = _cv_app.get(None)
    return ctx.g.__dict__ if ctx is not None else {}


def token_column():
    """The token as a scalar subquery, for a statement the request makes anyway."""
    return select(ConfigVersion.token).where(ConfigVersion.id == 1).scalar_subquery()


def note_token(value) -> None:
    """The token read by the request's first statement (the user's)."""
    if value is not None and has_request_context():
        request_store()[_TOKEN] = value


def token(session) -> int | None:
    """The request's token (read now if no statement brought it yet)."""
    store = request_store()
    value = store.get(_TOKEN)
    if value is None:
        value = session.execute(
            select(ConfigVersion.token).where(ConfigVersion.id == 1)).scalar()
        if value is not None:
            store[_TOKEN] = value
    return value


def cached(name: str, loader, *key, session=None):
    """``loader()``'s value, kept by this worker until the config token changes.
    ``name`` and ``key`` say what it is (the loader must depend on nothing else)."""
    if not has_request_context():
        return loader()
    if session is None:
        from ..extensions import db

        session = db.session
    current = token(session)
    if current is None:
        return loader()
    app = current_app._get_current_object()
    # one dict per token: a request still on an older token never writes into the
    # newer token's dict (threads of one worker)
    holder = app.extensions.get(_KEPT)
    if holder is None or holder[0] != current:
        holder = app.extensions[_KEPT] = (current, {})
    kept = holder[1]
    k = (name, *key)
    try:
        return kept[k]
    except KeyError:
        value = kept[k] = loader()
        return value


@event.listens_for(Session, "after_commit")
def _forget_token(session) -> None:
    """A request that committed may have changed the configuration: its next
    question reads the token again."""
    request_store().pop(_TOKEN, None)
