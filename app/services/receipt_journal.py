"""One record of a client's fee money: the 收款 receipt. Its 审核 posts ONE linked
journal entry (income, the receipt's client, date, amount and method, category
代理记账费, approved, its note naming the 收据编号; ``receipt.journal_entry_id``), so
the 日记账, its monthly summary (the triggers on ``journal_entry``) and 月度/年度统计
count the fee income exactly once; its 解锁 takes that entry back (deleted, audited:
the summary triggers subtract it), and approving it again posts it again, once.

A 退款 posts one approved expense entry the same way (``post_refund_entry``): the
money paid back leaves the cash book, and the month's fee income is net of it.

A journal entry linked to a receipt or a refund belongs to it: the journal's screens and API
cannot edit, delete, unlock or approve it (``held_entries``, read by
``app.services.transitions``); a client's payment is never typed on the journal
(the domain rule on ``journal_entry``: no income entry with a client).

Set-based statements with their own audit rows (the session listener only sees ORM
changes), in the caller's transaction (the workflow step's).
"""
from __future__ import annotations

import datetime

from sqlalchemy import delete, insert, select, update

from .. import audit
from ..domain.choices import N_
from ..models import DictItem, JournalEntry, Receipt, Refund

#: the 日记账分类 a receipt's journal entry gets (the dictionary's fee category)
FEE_CATEGORY = "代理记账费"
#: the note of a receipt's journal entry (in the language of whoever approved it)
ENTRY_NOTE = N_("Fee received, receipt number %(number)s")
#: the note of a refund's journal entry
REFUND_NOTE = N_("Fee refunded (receipt number %(number)s): %(reason)s")


def fee_category_id(conn) -> int | None:
    """The id of the fee category of the 日记账分类 dictionary (None when an
    administrator removed it: the entry then has no category)."""
    d = DictItem.__table__.c
    return conn.execute(select(d.id).where(d.kind == "journal_category",
                                           d.name == FEE_CATEGORY)
                        .order_by(d.active.desc(), d.id).limit(1)).scalar()


def _note(number) -> str:
    from flask_babel import gettext

    return gettext(ENTRY_NOTE, number=number or "")


def post_entry(conn, receipt_id: int, by_id, now: datetime.datetime) -> int | None:
    """Post the approved receipt's journal entry and link it (compare-and-set on the
    receipt's empty link: a receipt never has two); returns the new entry's id, or
    None when it already has one."""
    r = Receipt.__table__.c
    row = conn.execute(select(r.client_id, r.amount, r.received_on, r.method_id, r.number,
                              r.created_by_id, r.journal_entry_id)
                       .where(r.id == receipt_id)).one()
    if row.journal_entry_id is not None:
        return None
    return _post_linked(conn, Receipt.__table__, receipt_id, {
        "entry_date": row.received_on, "client_id": row.client_id, "direction": "income",
        "category_id": fee_category_id(conn), "method_id": row.method_id,
        "amount": row.amount, "note": _note(row.number), "status": "approved",
        "version": 1, "created_on": now, "created_by_id": row.created_by_id,
        "approved_by_id": by_id, "approved_at": now})


def _post_linked(conn, owner, owner_id: int, values: dict) -> int | None:
    """Insert an approved journal entry and link it from its owner's row (a receipt
    or a refund: ``journal_entry_id``, compare-and-set on the empty link — a second
    transaction that linked one first wins and this entry is removed again), both
    audited; returns the entry's id, or None when the owner had one already."""
    j = JournalEntry.__table__
    entry_id = conn.execute(insert(j).values(**values).returning(j.c.id)).scalar_one()
    linked = conn.execute(update(owner).where(
        owner.c.id == owner_id, owner.c.journal_entry_id.is_(None))
        .values(journal_entry_id=entry_id)).rowcount
    if linked != 1:
        conn.execute(delete(j).where(j.c.id == entry_id))
        return None
    audit.record(conn, "insert", j.name, entry_id, changes={
        key: [None, audit.plain(value)] for key, value in values.items() if value is not None})
    audit.record(conn, "update", owner.name, owner_id,
                 changes={"journal_entry_id": [None, entry_id]})
    return entry_id


def withdraw_entry(conn, receipt_id: int) -> int | None:
    """Take back the journal entry of a receipt being unlocked (unlinked, then
    deleted: the summary triggers subtract it); returns its id, None when it had
    none."""
    r, j = Receipt.__table__.c, JournalEntry.__table__
    entry_id = conn.execute(select(r.journal_entry_id).where(r.id == receipt_id)).scalar()
    if entry_id is None:
        return None
    old = conn.execute(select(j).where(j.c.id == entry_id)).mappings().first()
    conn.execute(update(Receipt.__table__).where(r.id == receipt_id)
                 .values(journal_entry_id=None))
    conn.execute(delete(j).where(j.c.id == entry_id))
    audit.record(conn, "update", Receipt.__tablename__, receipt_id,
                 changes={"journal_entry_id": [entry_id, None]})
    if old is not None:
        audit.record(conn, "delete", j.name, entry_id, changes={
            key: [audit.plain(value), None] for key, value in old.items()
            if value is not None and key != "id"})
    return entry_id


def post_refund_entry(conn, refund_id: int, by_id, now: datetime.datetime) -> int | None:
    """退款's side of the one record: money paid back leaves the cash book as one
    approved expense entry (the receipt's client, the refund's date and amount,
    category 代理记账费 — the fee income of the month is net of it), linked to the
    refund; returns the entry's id, None when the refund already has one."""
    f, r = Refund.__table__.c, Receipt.__table__.c
    row = conn.execute(select(f.client_id, f.amount, f.refunded_on, f.reason,
                              f.journal_entry_id, r.method_id, r.number)
                       .join(Receipt.__table__, r.id == f.receipt_id)
                       .where(f.id == refund_id)).one()
    if row.journal_entry_id is not None:
        return None
    return _post_linked(conn, Refund.__table__, refund_id, {
        "entry_date": row.refunded_on, "client_id": row.client_id, "direction": "expense",
        "category_id": fee_category_id(conn), "method_id": row.method_id,
        "amount": row.amount, "note": _refund_note(row.number, row.reason),
        "status": "approved", "version": 1, "created_on": now, "created_by_id": by_id,
        "approved_by_id": by_id, "approved_at": now})


def _refund_note(number, reason) -> str:
    from flask_babel import gettext

    return gettext(REFUND_NOTE, number=number or "", reason=reason or "")


def held_entries(conn, entry_ids) -> set:
    """The journal entries among ``entry_ids`` that belong to a receipt or a refund."""
    ids = [i for i in entry_ids if i is not None]
    if not ids:
        return set()
    r, f = Receipt.__table__.c, Refund.__table__.c
    return set(conn.execute(select(r.journal_entry_id).where(r.journal_entry_id.in_(ids))
                            .union(select(f.journal_entry_id)
                                   .where(f.journal_entry_id.in_(ids)))).scalars())
