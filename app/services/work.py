"""待办事项 完成, 合同 续签 / 审核, 提供地址 续费, and finding a client for their forms.

Each action takes rows the caller already loaded through the scope, checks each one,
changes it with a guarded UPDATE (``… WHERE id = :id AND <the state it was seen
in>``: a second click, or a second clerk at the same moment, finds nothing left to
do and is counted, not redone), writes the audit rows those set-based UPDATEs need
(the session listener only sees ORM changes), and commits once.
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from sqlalchemy import or_, update

from .. import audit
from ..domain import terms
from ..domain.choices import STATUS_DELETED
from ..extensions import db
from ..models import AddressService, Client, Contract, ContractTerm, Todo
from . import settings

PENDING = "pending"
APPROVED = "approved"
YEARLY = "yearly"
#: Setting key: "1" lets the creator of a contract approve it (one-person firms)
ALLOW_SELF_APPROVAL = "allow_self_approval"
#: at most this many clients are offered by the client search of a form
CLIENT_SEARCH_LIMIT = 20


@dataclass
class Result:
    """What an action did: ``changed`` rows, ``skipped`` rows that were already in the
    wanted state (or changed by someone else first), ``refused`` rows it may not
    change (own contract, one-off address)."""

    changed: int = 0
    skipped: int = 0
    refused: int = 0


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _guarded_update(obj, guard, values: dict) -> bool:
    """``UPDATE <table> SET values WHERE id = obj.id AND guard``; audited when a row
    changed. False when the guard matched nothing (someone else changed it first)."""
    model = type(obj)
    old = {key: getattr(obj, key) for key in values}
    result = db.session.execute(
        update(model).where(model.id == obj.id, *guard).values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    audit.record(db.session.connection(), "update", model.__tablename__, obj.id,
                 changes={key: [_plain(old[key]), _plain(value)]
                          for key, value in values.items() if old[key] != value})
    return True


def _stamp(now: datetime.datetime) -> datetime.datetime:
    """Timestamps are stored naive, in the firm's local time, to the second."""
    return now.replace(tzinfo=None, microsecond=0)


# ---- 待办事项 -------------------------------------------------------------------
def complete_todos(todos, by, now: datetime.datetime) -> Result:
    """完成: stamp ``done_at`` and ``done_by`` on the open todos; a todo already done
    is skipped and keeps its first completion."""
    result = Result()
    for todo in todos:
        if todo.done_at is not None:
            result.skipped += 1
        elif _guarded_update(todo, [Todo.done_at.is_(None)],
                             {"done_at": _stamp(now), "done_by_id": by.id}):
            result.changed += 1
        else:
            result.skipped += 1
    db.session.commit()
    return result


# ---- 合同管理 -------------------------------------------------------------------
def renew_contracts(contracts, by, now: datetime.datetime, seen: dict | None = None) -> Result:
    """续签: keep each contract's current term in its history (``ContractTerm``) and
    move it one year on (:func:`app.domain.terms.next_term`); the new term needs
    approval again, so the contract goes back to 待审核.

    :param seen: ``{contract id: end date the user saw}``; a contract whose end date
        has moved since (renewed by a double click or by someone else) is skipped.
    """
    result = Result()
    seen = seen or {}
    for contract in contracts:
        start, end = contract.start_date, contract.end_date
        if seen.get(contract.id, end) != end:
            result.skipped += 1
            continue
        new_start, new_end = terms.next_term(start, end)
        changed = _guarded_update(
            contract, [Contract.start_date == start, Contract.end_date == end],
            {"start_date": new_start, "end_date": new_end, "status": PENDING,
             "approved_by_id": None, "approved_at": None})
        if not changed:
            result.skipped += 1
            continue
        db.session.add(ContractTerm(contract_id=contract.id, start_date=start, end_date=end,
                                    fee=contract.fee, renewed_at=_stamp(now),
                                    renewed_by_id=by.id))
        result.changed += 1
    db.session.commit()
    return result


def self_approval_allowed() -> bool:
    """Whether the firm lets the creator of a contract approve it (Setting
    ``allow_self_approval`` = "1")."""
    return settings.get(ALLOW_SELF_APPROVAL, "0").strip() == "1"


def approve_contracts(contracts, by, now: datetime.datetime) -> Result:
    """审核: approve the pending contracts. Already approved ones are skipped; one
    the approver created himself is refused unless self-approval is allowed."""
    result = Result()
    allow_self = self_approval_allowed()
    for contract in contracts:
        if contract.status != PENDING:
            result.skipped += 1
        elif contract.created_by_id == by.id and not allow_self:
            result.refused += 1
        elif _guarded_update(contract, [Contract.status == PENDING],
                             {"status": APPROVED, "approved_by_id": by.id,
                              "approved_at": _stamp(now)}):
            result.changed += 1
        else:
            result.skipped += 1
    db.session.commit()
    return result


def is_locked(contract) -> bool:
    """An approved contract is locked: neither edited nor deleted."""
    return contract.status == APPROVED


def delete_contract_history(contract) -> None:
    """Remove the previous terms of a contract that is being deleted (in the
    caller's transaction; the audit log keeps them)."""
    for term in list(contract.terms):
        db.session.delete(term)


# ---- 提供地址 -------------------------------------------------------------------
def renew_addresses(addresses, seen: dict | None = None) -> Result:
    """续费: a yearly address service is paid one more year
    (:func:`app.domain.terms.next_expiry`). One-off services, and services without an
    expiry date, are refused.

    :param seen: ``{id: expiry date the user saw}``; a row renewed since is skipped.
    """
    result = Result()
    seen = seen or {}
    for service in addresses:
        expiry = service.expiry_date
        if service.fee_type != YEARLY or expiry is None:
            result.refused += 1
        elif seen.get(service.id, expiry) != expiry:
            result.skipped += 1
        elif _guarded_update(service, [AddressService.expiry_date == expiry],
                             {"expiry_date": terms.next_expiry(expiry)}):
            result.changed += 1
        else:
            result.skipped += 1
    db.session.commit()
    return result


# ---- the client of a form ---------------------------------------------------------
class ClientLookupError(ValueError):
    """No visible client, or more than one, answers to a typed name or code."""

    def __init__(self, reason: str, text: str):
        super().__init__(reason, text)
        self.reason, self.text = reason, text


def search_clients(visible, text: str, limit: int = CLIENT_SEARCH_LIMIT) -> list:
    """Up to ``limit`` clients of ``visible`` (a query already limited to the user's
    clients) whose name or short name contains ``text`` or whose credit code starts
    with it, in name order; deleted clients are not offered."""
    text = (text or "").strip()
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    contains = f"%{escaped}%"
    return (visible.filter(Client.status != STATUS_DELETED,
                           or_(Client.name.ilike(contains, escape="\\"),
                               Client.short_name.ilike(contains, escape="\\"),
                               Client.credit_code.like(escaped.upper() + "%", escape="\\")))
            .order_by(Client.name, Client.id).limit(limit).all())


def resolve_client(visible, text: str):
    """The one client of ``visible`` that ``text`` names: its id (what the search box
    posts), or its exact name, short name or credit code (typed by hand).

    :raises ClientLookupError: ``reason`` "none" (no such client, or not one the user
        may see) or "ambiguous" (several clients have that name).
    """
    text = (text or "").strip()
    if text.isdigit() and len(text) < 10:  # an id; credit codes have 18 characters
        client = visible.filter(Client.id == int(text)).first()
        if client is None:
            raise ClientLookupError("none", text)
        return client
    found = (visible.filter(Client.status != STATUS_DELETED,
                            or_(Client.name == text, Client.short_name == text,
                                Client.credit_code == text.upper()))
             .limit(2).all())
    if not found:
        raise ClientLookupError("none", text)
    if len(found) > 1:
        raise ClientLookupError("ambiguous", text)
    return found[0]
