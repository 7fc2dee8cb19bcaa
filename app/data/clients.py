"""The one client picker's data: which clients a user may choose, how a typed text
finds one, and what the search box is told about each — through the one scope and
字段可见性 (a hidden credit code is neither shown, nor searched, nor matched).

Every form that chooses a client (todos, contracts, addresses, journal, invoices,
and later leads) asks here; a firm has up to 100,000 clients, so a form offers a
search box, never a dropdown of all of them.
"""
from __future__ import annotations

from sqlalchemy import or_

from ..domain.choices import STATUS_DELETED
from ..extensions import db
from ..models import Client
from ..security.fields import hidden_fields
from .interface import ScopedInterface, current_user_or_none

#: at most this many clients are offered by the search box
SEARCH_LIMIT = 20


class ClientLookupError(ValueError):
    """No visible client, or more than one, answers to a typed name or code."""

    def __init__(self, reason: str, text: str):
        super().__init__(reason, text)
        self.reason, self.text = reason, text


def visible_clients():
    """A query of the clients the current user may see (the one scope)."""
    query = db.session.query(Client)
    cond = ScopedInterface(Client).scope_condition()
    return query if cond is None else query.filter(cond)


def hidden() -> frozenset:
    """Client fields hidden from the current user."""
    return hidden_fields(current_user_or_none(), Client.__tablename__, db.session)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(text: str, limit: int = SEARCH_LIMIT) -> list:
    """Up to ``limit`` visible, not deleted clients whose name or short name contains
    ``text`` or whose credit code (when the user may see codes) starts with it, in
    name order."""
    text = (text or "").strip()[:100]
    if not text:
        return []
    escaped = _escaped(text)
    conditions = [Client.name.ilike(f"%{escaped}%", escape="\\"),
                  Client.short_name.ilike(f"%{escaped}%", escape="\\")]
    if "credit_code" not in hidden():
        conditions.append(Client.credit_code.like(escaped.upper() + "%", escape="\\"))
    return (visible_clients().filter(Client.status != STATUS_DELETED, or_(*conditions))
            .order_by(Client.name, Client.id).limit(limit).all())


def resolve(text: str):
    """The one visible client that ``text`` names: its id (what the search box
    posts), or its exact name, short name or (when visible to the user) credit code.

    :raises ClientLookupError: ``reason`` "none" (no such client, or not one the user
        may see) or "ambiguous" (several clients have that name).
    """
    from ..domain.validation import parse_id

    text = (text or "").strip()
    if text.isdigit() and len(text) < 18:  # an id; credit codes have 18 characters
        pk = parse_id(text)
        client = visible_clients().filter(Client.id == pk).first() if pk else None
        if client is None:
            raise ClientLookupError("none", text)
        return client
    names = [Client.name == text, Client.short_name == text]
    if "credit_code" not in hidden():
        names.append(Client.credit_code == text.upper())
    found = (visible_clients().filter(Client.status != STATUS_DELETED, or_(*names))
             .limit(2).all())
    if not found:
        raise ClientLookupError("none", text)
    if len(found) > 1:
        raise ClientLookupError("ambiguous", text)
    return found[0]


def is_visible(client_id) -> bool:
    """Whether the current user may see (and so choose) this client."""
    return visible_clients().filter(Client.id == client_id).first() is not None


def label(client) -> str:
    """How the box shows a client: 名称（信用代码）, without the code when hidden."""
    if client.credit_code and "credit_code" not in hidden():
        return f"{client.name}（{client.credit_code}）"
    return client.name


def option(client) -> dict:
    """One search result: id, label, and the name and code a form may copy (the code
    empty when hidden from the user)."""
    code = "" if "credit_code" in hidden() else (client.credit_code or "")
    return {"id": client.id, "text": label(client), "name": client.name,
            "credit_code": code}
