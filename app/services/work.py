"""待办事项 完成, 提供地址 续费, and what 续签 keeps of a contract's term. (A
contract's 审核 and 续签 are its workflow: ``app.domain.workflows.CONTRACT``.)

Each action takes rows the caller already loaded through the scope, checks each one,
changes it with a guarded UPDATE (``… WHERE id = :id AND <the state it was seen
in>``: a second click, or a second clerk at the same moment, finds nothing left to
do and is counted, not redone), writes the audit rows those set-based UPDATEs need
(the session listener only sees ORM changes), and commits once.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import select, update

from .. import audit
from ..domain import terms
from ..extensions import db
from ..models import AddressService, Client, Contract, ContractTerm, Todo

YEARLY = "yearly"


@dataclass
class Result:
    """What an action did: ``changed`` rows, ``skipped`` rows that were already in the
    wanted state (or changed by someone else first), ``refused`` rows it may not
    change (own contract, one-off address)."""

    changed: int = 0
    skipped: int = 0
    refused: int = 0




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
                 changes={key: [audit.plain(old[key]), audit.plain(value)]
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
def keep_previous_term(conn, contract, by, now: datetime.datetime) -> None:
    """续签's effect: the term the contract had (its dates and fee as loaded, before
    the renewal moved them) goes to its history (``ContractTerm``)."""
    db.session.add(ContractTerm(contract_id=contract.id, start_date=contract.start_date,
                                end_date=contract.end_date, fee=contract.fee,
                                renewed_at=now, renewed_by_id=by.id))
    db.session.flush()


def contract_defines_client(conn, contract) -> bool:
    """审核's effect: the client takes the approved contract's term, fee and billing
    cycle (unless a later approved contract of his already defines them); his next
    fee date starts at the contract's start when he has none. Through the ORM, so
    the audit log has the client's old and new values.

    :return: whether the client row changed.
    """
    later = db.session.execute(
        select(Contract.id).where(Contract.client_id == contract.client_id,
                                  Contract.status == "approved", Contract.id != contract.id,
                                  Contract.start_date > contract.start_date).limit(1)).first()
    if later is not None:
        return False
    client = db.session.get(Client, contract.client_id)
    values = {"contract_start": contract.start_date, "contract_end": contract.end_date,
              "service_fee": contract.fee, "billing_cycle": contract.billing_cycle}
    if client.billing_state == "billed" and client.next_fee_date is None:
        values["next_fee_date"] = contract.start_date
    changed = {k: v for k, v in values.items() if getattr(client, k) != v}
    for key, value in changed.items():
        setattr(client, key, value)
    if changed:
        db.session.flush()
    return bool(changed)


def delete_contract_history(contract) -> None:
    """Remove the previous terms of a contract that is being deleted (in the
    caller's transaction; the audit log keeps them)."""
    for term in list(contract.terms):
        db.session.delete(term)


# ---- 提供地址 -------------------------------------------------------------------
def clock_today() -> datetime.date:
    from .. import clock

    return clock.today()


def sync_address_flags(today: datetime.date, client_ids=None) -> int:
    """提供注册地址 is derived: a client has it while one of his 提供地址 rows runs
    (started, not expired). Set-based, audited; the caller commits.

    :param client_ids: only these clients (None: all — the daily job).
    :return: how many clients changed.
    """
    from sqlalchemy import and_, exists, or_

    runs = exists().where(AddressService.client_id == Client.id,
                          or_(AddressService.start_date.is_(None),
                              AddressService.start_date <= today),
                          or_(AddressService.expiry_date.is_(None),
                              AddressService.expiry_date >= today))
    where = []
    stale = or_(and_(Client.provides_address.is_(True), ~runs),
                and_(Client.provides_address.is_(False), runs))
    if client_ids is not None:
        ids = [i for i in client_ids if i is not None]
        if not ids:
            return 0
        where.append(Client.id.in_(ids))
    conn = db.session.connection()
    changed = db.session.execute(select(Client.id, Client.provides_address)
                                 .where(stale, *where)).all()
    if not changed:
        return 0
    conn.execute(update(Client).where(Client.id.in_([c.id for c in changed]))
                 .values(provides_address=~Client.provides_address)
                 .execution_options(synchronize_session=False))
    for cid, old in changed:
        audit.record(conn, "update", "client", cid,
                     changes={"provides_address": [old, not old]})
    return len(changed)


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
    sync_address_flags(clock_today(), [a.client_id for a in addresses])
    db.session.commit()
    return result
