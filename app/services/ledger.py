"""应收 (receivables): the charge run, 审核's matching (核销) and numbering, 解锁,
refunds, write-offs, statements and the arrears figures — the ledger every other
money screen reads.

Every change here is a set-based statement with its own audit row (the session
listener only sees ORM changes). Matching for one client is serialised by a lock on
his client row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer), so
two approvals, a refund and the charge run never match the same money twice.
``Client.next_fee_date`` is derived here: the client's oldest open periodic charge,
else the first fee date not charged yet.
"""
from __future__ import annotations

import datetime
from decimal import Decimal

from sqlalchemy import (and_, bindparam, delete, exists, false, func, insert, or_, select,
                        update)

from .. import audit
from . import notices
from ..domain import ledger
from ..domain.choices import STATUS_ACTIVE, N_
from ..domain.ledger import OPEN, PERIODIC, WRITTEN_OFF, OpenCharge, money
from ..extensions import db
from ..models import Allocation, Charge, Client, FeeSchedule, Receipt, ReceiptCounter, Refund


#: the charge states that count (owed, paid or written off); a pending or rejected
#: adjustment counts nowhere — arrears, statements, matching, dashboards
COUNTED = (OPEN, ledger.PAID, WRITTEN_OFF)


class LedgerError(ValueError):
    """A refund, write-off or charge the ledger refuses (``reason``: a msgid)."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason, self.params = reason, params


def _insert(conn, table):
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing()


def lock_client(conn, client_id: int) -> None:
    """Hold the client's row until the transaction ends: his matching is serialised."""
    query = select(Client.__table__.c.id).where(Client.__table__.c.id == client_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    conn.execute(query)


def _expire(model, ids) -> None:
    for row_id in ids:
        obj = db.session.identity_map.get(db.session.identity_key(model, row_id))
        if obj is not None:
            db.session.expire(obj)


# ---- matching ---------------------------------------------------------------------------
def settle(conn, client_id: int) -> int:
    """Match the unmatched money of the client's approved receipts (oldest receipt
    first) to his open charges (oldest due date first); returns the number of
    matches made. Idempotent: only what is left on both sides is matched. A receipt
    Finance matches by hand (``match_by_hand``) is left alone: automatic matching
    never takes money Finance placed, nor the money Finance freed to place."""
    lock_client(conn, client_id)
    c, r = Charge.__table__.c, Receipt.__table__.c
    receipts = conn.execute(
        select(r.id, r.amount, r.matched, r.refunded)
        .where(r.client_id == client_id, r.status == "approved",
               r.match_by_hand == false(), r.amount > r.matched + r.refunded)
        .order_by(r.received_on, r.id)).all()
    if not receipts:
        return 0
    rows = conn.execute(
        select(c.id, c.due_date, c.amount, c.paid, c.written_off)
        .where(c.client_id == client_id, c.state == OPEN)).all()
    charges = {row.id: OpenCharge(row.id, row.due_date,
                                  money(row.amount) - money(row.paid) - money(row.written_off))
               for row in rows}
    paid = {row.id: money(row.paid) for row in rows}
    amounts = {row.id: (money(row.amount), money(row.written_off)) for row in rows}
    made = 0
    touched = set()
    for receipt in receipts:
        left = money(receipt.amount) - money(receipt.matched) - money(receipt.refunded)
        matched, _ = ledger.match(left, [ch for ch in charges.values() if ch.outstanding > 0])
        if not matched:
            break
        total = sum((m for _, m in matched), Decimal("0"))
        conn.execute(insert(Allocation.__table__),
                     [{"receipt_id": receipt.id, "charge_id": cid, "amount": m,
                       "created_on": _now()} for cid, m in matched])
        conn.execute(update(Receipt.__table__).where(r.id == receipt.id)
                     .values(matched=r.matched + total))
        for cid, m in matched:
            ch = charges[cid]
            charges[cid] = OpenCharge(cid, ch.due_date, ch.outstanding - m)
            paid[cid] += m
            touched.add(cid)
        audit.record(conn, "match", Receipt.__tablename__, receipt.id,
                     changes={"charges": [[cid, str(m)] for cid, m in matched]})
        made += len(matched)
    for cid in touched:
        amount, written_off = amounts[cid]
        conn.execute(update(Charge.__table__).where(c.id == cid).values(
            paid=paid[cid], state=ledger.charge_state(amount, paid[cid], written_off)))
    _expire(Charge, touched)
    _expire(Receipt, [rc.id for rc in receipts])
    refresh_next_fee_date(conn, client_id)
    return made


def _now():
    from ..clock import local_now

    return local_now()


def unmatch_receipt(conn, receipt_id: int) -> Decimal:
    """Take back every match of a receipt (its charges reopen); returns the amount."""
    a = Allocation.__table__.c
    rows = conn.execute(select(a.id, a.charge_id, a.amount)
                        .where(a.receipt_id == receipt_id)).all()
    total = Decimal("0")
    for row in rows:
        _reopen(conn, row.charge_id, money(row.amount))
        total += money(row.amount)
    conn.execute(delete(Allocation.__table__).where(a.receipt_id == receipt_id))
    conn.execute(update(Receipt.__table__).where(Receipt.__table__.c.id == receipt_id)
                 .values(matched=Receipt.__table__.c.matched - total))
    if rows:
        audit.record(conn, "unmatch", Receipt.__tablename__, receipt_id,
                     changes={"charges": [[row.charge_id, str(row.amount)] for row in rows]})
    _expire(Charge, {row.charge_id for row in rows})
    return total


def _reopen(conn, charge_id: int, amount: Decimal) -> None:
    c = Charge.__table__.c
    row = conn.execute(select(c.amount, c.paid, c.written_off).where(c.id == charge_id)).one()
    paid = money(row.paid) - amount
    conn.execute(update(Charge.__table__).where(c.id == charge_id).values(
        paid=paid, state=ledger.charge_state(row.amount, paid, row.written_off)))


# ---- 手工核销: Finance matches by hand ---------------------------------------------------
class StaleError(LedgerError):
    """The receipt's matches changed since the page was loaded (a double submit, or
    another user): nothing was done."""


def match_token(conn, receipt_id: int) -> str:
    """What a matching page shows of a receipt's matches, posted back with a change:
    a page whose token is no longer the receipt's (a second submit of the same form,
    another user in between) changes nothing."""
    r, a = Receipt.__table__.c, Allocation.__table__.c
    row = conn.execute(select(r.matched, r.refunded, r.status).where(r.id == receipt_id)).one()
    n, last = conn.execute(select(func.count(a.id), func.max(a.id))
                           .where(a.receipt_id == receipt_id)).one()
    return f"{money(row.matched)}-{money(row.refunded)}-{row.status}-{n}-{last or 0}"


def _locked_receipt(conn, receipt_id: int, seen: str):
    r = Receipt.__table__.c
    client_id = conn.execute(select(r.client_id).where(r.id == receipt_id)).scalar_one()
    lock_client(conn, client_id)
    if match_token(conn, receipt_id) != seen:
        raise StaleError(N_("The receipt's matches changed since the page was loaded: "
                            "nothing was changed. Check them and try again."))
    row = conn.execute(select(r.client_id, r.amount, r.matched, r.refunded, r.status)
                       .where(r.id == receipt_id)).one()
    if row.status != "approved":
        raise LedgerError(N_("Only an approved receipt can be matched."))
    return row


def hand_match(receipt: Receipt, picks: dict, seen: str, by) -> Decimal:
    """手工核销: match ``picks`` (charge id → amount, Decimal) of an approved receipt's
    unmatched money to open charges of the same client, in part or in full; the
    receipt is matched by hand from then on (automatic matching leaves it alone).
    Serialised per client; audited; returns the amount matched.

    :raises LookupError: a charge that is not this client's (the caller answers 404).
    :raises StaleError: the matches changed since the page was loaded.
    :raises LedgerError: a charge no longer open, an amount more than is left on the
        charge, or more than the receipt has unmatched.
    """
    conn = db.session.connection()
    row = _locked_receipt(conn, receipt.id, seen)
    picks = {cid: money(amount) for cid, amount in picks.items() if money(amount) != 0}
    if not picks:
        raise LedgerError(N_("Enter the amount to match against at least one charge."))
    c, r = Charge.__table__.c, Receipt.__table__.c
    charges = {ch.id: ch for ch in conn.execute(
        select(c.id, c.amount, c.paid, c.written_off, c.state)
        .where(c.id.in_(list(picks)), c.client_id == row.client_id))}
    if len(charges) != len(picks):
        raise LookupError("charge")  # another client's charge, or none
    for cid, amount in picks.items():
        ch = charges[cid]
        if ch.state != OPEN:
            raise LedgerError(N_("Charge %(id)s is no longer open."), id=cid)
        left = money(ch.amount) - money(ch.paid) - money(ch.written_off)
        if amount <= 0 or amount > left:
            raise LedgerError(N_("Charge %(id)s: enter an amount from 0.01 to %(most)s."),
                              id=cid, most=f"{left:,.2f}")
    total = sum(picks.values(), Decimal("0"))
    free = money(row.amount) - money(row.matched) - money(row.refunded)
    if total > free:
        raise LedgerError(N_("The receipt has %(free)s unmatched: %(total)s is more."),
                          free=f"{free:,.2f}", total=f"{total:,.2f}")
    conn.execute(insert(Allocation.__table__),
                 [{"receipt_id": receipt.id, "charge_id": cid, "amount": m, "manual": True,
                   "created_on": _now()} for cid, m in sorted(picks.items())])
    for cid, m in picks.items():
        ch = charges[cid]
        paid = money(ch.paid) + m
        # the guard is the CHECK's own rule: never more than the charge
        moved = conn.execute(update(Charge.__table__).where(
            c.id == cid, c.state == OPEN, c.paid + c.written_off + m <= c.amount).values(
            paid=paid, state=ledger.charge_state(ch.amount, paid, ch.written_off))).rowcount
        if moved != 1:
            raise StaleError(N_("The receipt's matches changed since the page was loaded: "
                                "nothing was changed. Check them and try again."))
    conn.execute(update(Receipt.__table__).where(r.id == receipt.id).values(
        matched=r.matched + total, match_by_hand=True))
    audit.record(conn, "match", Receipt.__tablename__, receipt.id, changes={
        "charges": [[cid, str(m)] for cid, m in sorted(picks.items())], "by_hand": True,
        "matched": [str(money(row.matched)), str(money(row.matched) + total)]})
    refresh_next_fee_date(conn, row.client_id)
    db.session.commit()
    _expire(Charge, list(picks))
    _expire(Receipt, [receipt.id])
    return total


def hand_unmatch(receipt: Receipt, allocation_id: int, seen: str, by) -> Decimal:
    """Undo one match of an approved receipt (its charge reopens by that much); the
    money is the receipt's unmatched money again and stays so (the receipt is matched
    by hand from then on) until Finance matches it or hands it back to automatic
    matching. Serialised per client; audited; returns the amount taken back.

    :raises LookupError: no such match on this receipt (the caller answers 404).
    :raises StaleError: the matches changed since the page was loaded.
    """
    conn = db.session.connection()
    row = _locked_receipt(conn, receipt.id, seen)
    a, r = Allocation.__table__.c, Receipt.__table__.c
    alloc = conn.execute(select(a.id, a.charge_id, a.amount).where(
        a.id == allocation_id, a.receipt_id == receipt.id)).first()
    if alloc is None:
        raise LookupError("allocation")
    amount = money(alloc.amount)
    _reopen(conn, alloc.charge_id, amount)
    conn.execute(delete(Allocation.__table__).where(a.id == alloc.id))
    conn.execute(update(Receipt.__table__).where(r.id == receipt.id).values(
        matched=r.matched - amount, match_by_hand=True))
    audit.record(conn, "unmatch", Receipt.__tablename__, receipt.id, changes={
        "charges": [[alloc.charge_id, str(amount)]], "by_hand": True,
        "matched": [str(money(row.matched)), str(money(row.matched) - amount)]})
    refresh_next_fee_date(conn, row.client_id)
    db.session.commit()
    _expire(Charge, [alloc.charge_id])
    _expire(Receipt, [receipt.id])
    return amount


def match_automatically(receipt: Receipt, seen: str, by) -> int:
    """Hand a receipt matched by hand back to automatic matching: what is left of it
    pays the client's oldest open charges now and the next ones as they come.

    :raises StaleError: the matches changed since the page was loaded.
    """
    conn = db.session.connection()
    row = _locked_receipt(conn, receipt.id, seen)
    r = Receipt.__table__.c
    conn.execute(update(Receipt.__table__).where(r.id == receipt.id)
                 .values(match_by_hand=False))
    audit.record(conn, "update", Receipt.__tablename__, receipt.id,
                 changes={"match_by_hand": [True, False]})
    made = settle(conn, row.client_id)
    db.session.commit()
    _expire(Receipt, [receipt.id])
    return made


def matching_page(receipt_id: int):
    """What the 手工核销 page shows: the receipt's matches (with their charges) and the
    open charges of its client, oldest first, and the token to post back."""
    conn = db.session.connection()
    r = Receipt.__table__.c
    client_id = conn.execute(select(r.client_id).where(r.id == receipt_id)).scalar_one()
    matches = db.session.execute(
        select(Allocation, Charge).join(Charge, Charge.id == Allocation.charge_id)
        .where(Allocation.receipt_id == receipt_id).order_by(Allocation.id)).all()
    open_rows = db.session.execute(select(Charge).where(
        Charge.client_id == client_id, Charge.state == OPEN)
        .order_by(Charge.due_date, Charge.id)).scalars().all()
    return matches, open_rows, match_token(conn, receipt_id)


# ---- 审核 and 解锁 (transitions.EFFECTS) ----------------------------------------------
def next_receipt_number(conn, year: int) -> int:
    """The next 收据 number of ``year``, taken in the caller's transaction (the
    counter row stays locked until it ends; a rollback gives the number back)."""
    conn.execute(_insert(conn, ReceiptCounter.__table__).values(year=year, last=0))
    t = ReceiptCounter.__table__
    return conn.execute(update(t).where(t.c.year == year).values(last=t.c.last + 1)
                        .returning(t.c.last)).scalar_one()


def receipt_approved(conn, receipt: Receipt, now: datetime.datetime) -> bool:
    """审核's effect: number the receipt (once: a receipt unlocked and approved again
    keeps its number) and match it to the client's oldest open charges."""
    r = Receipt.__table__.c
    numbered = conn.execute(select(r.number).where(r.id == receipt.id)).scalar()
    if numbered is None:
        seq = next_receipt_number(conn, now.year)
        number = ledger.receipt_number(now.year, seq)
        conn.execute(update(Receipt.__table__).where(r.id == receipt.id).values(
            number=number, number_year=now.year, number_seq=seq))
        audit.record(conn, "update", Receipt.__tablename__, receipt.id,
                     changes={"number": [None, number]})
    settle(conn, receipt.client_id)
    return True


def receipt_unlocked(conn, receipt: Receipt) -> None:
    """解锁's effect: the receipt's matches are taken back (its charges reopen) until
    it is approved again; other receipts' prepayments may pay them meanwhile."""
    lock_client(conn, receipt.client_id)
    unmatch_receipt(conn, receipt.id)
    # approved again, it is matched automatically (Finance may match it by hand again)
    conn.execute(update(Receipt.__table__).where(Receipt.__table__.c.id == receipt.id)
                 .values(match_by_hand=False))
    settle(conn, receipt.client_id)
    refresh_next_fee_date(conn, receipt.client_id)


def charge_approved(conn, charge: Charge) -> None:
    """审核 of an adjustment: it counts from now on — a prepayment pays it."""
    settle(conn, charge.client_id)


# ---- 下次收费日期, derived -------------------------------------------------------------
def refresh_next_fee_date(conn, client_id: int) -> None:
    """Set a billed client's next fee date to his oldest open periodic charge, else
    his first fee date not charged yet (unchanged when he has neither)."""
    c, s, cl = Charge.__table__.c, FeeSchedule.__table__.c, Client.__table__.c
    oldest = conn.execute(select(func.min(c.due_date)).where(
        c.client_id == client_id, c.kind == PERIODIC, c.state == OPEN)).scalar()
    if oldest is None:
        oldest = conn.execute(select(s.next_due).where(s.client_id == client_id)).scalar()
    if oldest is None:
        return
    current = conn.execute(select(cl.next_fee_date, cl.billing_state)
                           .where(cl.id == client_id)).first()
    if current is None or current.billing_state != "billed" or current.next_fee_date == oldest:
        return
    conn.execute(update(Client.__table__).where(cl.id == client_id)
                 .values(next_fee_date=oldest))
    audit.record(conn, "update", Client.__tablename__, client_id, changes={
        "next_fee_date": [audit.plain(current.next_fee_date), oldest.isoformat()]})
    _expire(Client, [client_id])


def refresh_next_fee_dates(condition) -> int:
    """:func:`refresh_next_fee_date` for every billed client matching ``condition`` (a
    condition on ``Client``) in one statement, unaudited: for bulk loads (the demo
    firm, the benchmark), not for a user's change."""
    oldest_open = (select(func.min(Charge.due_date))
                   .where(Charge.client_id == Client.id, Charge.state == OPEN,
                          Charge.kind == PERIODIC).scalar_subquery())
    next_due = (select(FeeSchedule.next_due).where(FeeSchedule.client_id == Client.id)
                .scalar_subquery())
    return db.session.execute(update(Client).where(Client.billing_state == "billed", condition)
                              .values(next_fee_date=func.coalesce(oldest_open, next_due,
                                                                  Client.next_fee_date))).rowcount


# ---- what a client's own row may say: 下次收费日期 and 停止计费 ------------------------------
_WATCHED = ("billing_state", "status", "next_fee_date")


def _billable(billing_state, status) -> bool:
    return billing_state == "billed" and status == STATUS_ACTIVE


def resume_schedule(conn, client_id: int, today: datetime.date) -> datetime.date | None:
    """A client billed again (停止计费 → 正常收费, or 已停止 → 代理记账): the fee dates
    that passed while he was not billed are never charged — his schedule starts again
    on ``today`` (the resume date: charged today, then every cycle). Unchanged when
    no fee date was skipped. Returns the new first fee date, or None."""
    s = FeeSchedule.__table__.c
    row = conn.execute(select(s.anchor, s.next_seq, s.next_due)
                       .where(s.client_id == client_id)).first()
    if row is None or row.next_due >= today:
        return None
    moved = conn.execute(update(FeeSchedule.__table__).where(
        s.client_id == client_id, s.next_seq == row.next_seq).values(
        anchor=today, next_seq=0, next_due=today)).rowcount
    if moved != 1:
        return None
    audit.record(conn, "update", FeeSchedule.__tablename__, client_id, changes={
        "anchor": [row.anchor.isoformat(), today.isoformat()],
        "next_due": [row.next_due.isoformat(), today.isoformat()],
        "reason": "billing resumed: fee dates while not billed are not charged"})
    return today


def _client_before_flush(session, flush_context, instances) -> None:
    """Every writer of a client row (the form, the API, the import, the 恢复 action)
    passes here: for a billed client with a ledger (a fee schedule), 下次收费日期 is
    the ledger's — a typed or forged value is put back; a client billed again gets
    his schedule restarted on the resume date. A new client has no ledger yet: his
    typed first fee date starts it (``ensure_schedules``)."""
    from sqlalchemy import inspect

    from .. import clock

    for obj in list(session.dirty):
        if not isinstance(obj, Client) or obj.id is None:
            continue
        attrs = inspect(obj).attrs
        if not any(attrs[key].history.has_changes() for key in _WATCHED):
            continue
        conn = session.connection()
        cl, s = Client.__table__.c, FeeSchedule.__table__.c
        old = conn.execute(select(cl.billing_state, cl.status, cl.next_fee_date)
                           .where(cl.id == obj.id)).first()
        has_ledger = conn.execute(select(s.client_id).where(s.client_id == obj.id)).first()
        if old is None or has_ledger is None:
            continue
        if obj.billing_state == "billed" and obj.next_fee_date != old.next_fee_date:
            obj.next_fee_date = old.next_fee_date  # derived, never typed
        if _billable(obj.billing_state, obj.status) and not _billable(old.billing_state,
                                                                      old.status):
            # the flush has no caller to hand it the day: the firm's today
            restart = resume_schedule(conn, obj.id, clock.today())
            if restart is not None:
                c = Charge.__table__.c
                oldest = conn.execute(select(func.min(c.due_date)).where(
                    c.client_id == obj.id, c.kind == PERIODIC, c.state == OPEN)).scalar()
                obj.next_fee_date = oldest or restart


def has_ledger(client_id: int) -> bool:
    """Whether the client has a fee schedule (the ledger derives his next fee date)."""
    s = FeeSchedule.__table__.c
    return db.session.execute(select(s.client_id).where(s.client_id == client_id)).first() \
        is not None


_installed = False


def install() -> None:
    """Listen on every Session once per process (``create_app``)."""
    global _installed
    if not _installed:
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        event.listen(Session, "before_flush", _client_before_flush)
        _installed = True


# ---- the charge run --------------------------------------------------------------------
def _billed():
    cl = Client.__table__.c
    return and_(cl.billing_state == "billed", cl.status == STATUS_ACTIVE, cl.service_fee > 0)


def ensure_schedules(conn) -> int:
    """Give every billed client with a next fee date and no schedule one anchored on
    that date (new clients; the migration gave the existing ones theirs)."""
    cl, s = Client.__table__.c, FeeSchedule.__table__.c
    query = select(cl.id, cl.next_fee_date, 0, cl.next_fee_date).where(
        _billed(), cl.next_fee_date.isnot(None),
        ~exists().where(s.client_id == cl.id))
    # ON CONFLICT: a second machine running the charge run at the same moment
    return conn.execute(_insert(conn, FeeSchedule.__table__).from_select(
        ["client_id", "anchor", "next_seq", "next_due"], query)).rowcount or 0


def generate_charges(today: datetime.date, after: int | None = None, chunk_size: int = 1000,
                     checkpoint=None) -> int:
    """The charge run: one periodic charge per billed client per fee date that has
    arrived (fee and cycle of the client, as his approved contract set them; none
    after his term), in chunks of clients by id from ``after`` on; each chunk
    commits through ``checkpoint(cursor, rows)`` (or itself). Idempotent: each charge
    is unique per (client, kind, period) and inserted ON CONFLICT DO NOTHING, and the
    schedule moves on by compare-and-set — a rerun, or a second machine, creates
    nothing twice. A client with a prepayment has it matched to the new charges.
    Returns the charges created."""
    conn = db.session.connection()
    ensure_schedules(conn)
    cl, s, r = Client.__table__.c, FeeSchedule.__table__.c, Receipt.__table__.c
    created = 0
    cursor = after or 0
    while True:
        rows = conn.execute(
            select(s.client_id, s.anchor, s.next_seq, s.next_due, cl.billing_cycle,
                   cl.service_fee, cl.contract_end)
            .join(Client.__table__, cl.id == s.client_id)
            .where(s.next_due <= today, s.client_id > cursor, _billed(),
                   or_(cl.contract_end.is_(None), s.next_due <= cl.contract_end))
            .order_by(s.client_id).limit(chunk_size)).all()
        if not rows:
            break
        charges, moves = [], []
        for row in rows:
            dates, nxt = ledger.fee_dates_due(row.anchor, row.next_seq, row.billing_cycle,
                                              today, row.contract_end)
            for day in dates:
                charges.append({"client_id": row.client_id, "kind": PERIODIC,
                                "period": ledger.period_key(day), "amount": row.service_fee,
                                "due_date": day, "state": OPEN, "paid": 0,
                                "written_off": 0, "created_on": _now()})
            moves.append({"cid": row.client_id, "seen": row.next_seq, "seq": nxt,
                          "due": ledger.fee_date(row.anchor, nxt, row.billing_cycle)})
        chunk = 0
        if charges:
            c = Charge.__table__.c
            made = conn.execute(_insert(conn, Charge.__table__)
                                .returning(c.client_id, c.amount, c.due_date), charges).all()
            chunk = len(made)
            # the client's portal users see the fee due (once: with the charge itself)
            told = notices.for_clients(conn, "fee_due", [
                (cid, {"amount": f"{amount:,.2f}", "due": due.isoformat()})
                for cid, amount, due in made])
        conn.execute(update(FeeSchedule.__table__)
                     .where(s.client_id == bindparam("cid"), s.next_seq == bindparam("seen"))
                     .values(next_seq=bindparam("seq"), next_due=bindparam("due")), moves)
        ids = [row.client_id for row in rows]
        prepaid = conn.execute(select(r.client_id).distinct().where(
            r.client_id.in_(ids), r.status == "approved", r.match_by_hand == false(),
            r.amount > r.matched + r.refunded)).scalars().all()
        for client_id in prepaid:
            settle(conn, client_id)
        created += chunk
        cursor = ids[-1]
        if checkpoint is not None:
            checkpoint(str(cursor), chunk)
        else:
            db.session.commit()
        if charges:
            notices.email_told(told)  # committed: now it may be sent
        conn = db.session.connection()
    return created


# ---- one-off charges, write-offs, refunds ------------------------------------------------
def charge_added(charge: Charge) -> None:
    """A one-off charge or adjustment saved from the screen: a prepayment pays it."""
    conn = db.session.connection()
    settle(conn, charge.client_id)
    db.session.commit()


def write_off(charge: Charge, reason: str, by, today: datetime.date) -> bool:
    """坏账: what is left of an open charge is written off (a manager, with a reason),
    audited; False when it is no longer open (someone else was first)."""
    conn = db.session.connection()
    lock_client(conn, charge.client_id)
    c = Charge.__table__.c
    row = conn.execute(select(c.amount, c.paid, c.state).where(c.id == charge.id)).one()
    if row.state != OPEN:
        db.session.rollback()
        return False
    left = money(row.amount) - money(row.paid)
    moved = conn.execute(update(Charge.__table__).where(c.id == charge.id, c.state == OPEN)
                         .values(state=WRITTEN_OFF, written_off=left, written_off_on=today,
                                 write_off_reason=reason,
                                 written_off_by_id=getattr(by, "id", None))).rowcount
    if moved != 1:
        db.session.rollback()
        return False
    audit.record(conn, "write_off", Charge.__tablename__, charge.id, changes={
        "state": [OPEN, WRITTEN_OFF], "written_off": ["0.00", str(left)], "reason": reason})
    refresh_next_fee_date(conn, charge.client_id)
    db.session.commit()
    _expire(Charge, [charge.id])
    return True


def refund(receipt: Receipt, amount, reason: str, by, today: datetime.date) -> Refund:
    """退款: pay back part of an approved receipt (a manager, with a reason). What the
    receipt has not matched goes first; beyond that its latest matches are taken
    back (their charges reopen).

    :raises LedgerError: the receipt is not approved, or the amount is not between
        0.01 and what is left of it.
    """
    conn = db.session.connection()
    lock_client(conn, receipt.client_id)
    r, a = Receipt.__table__.c, Allocation.__table__.c
    row = conn.execute(select(r.amount, r.matched, r.refunded, r.status)
                       .where(r.id == receipt.id)).one()
    if row.status != "approved":
        raise LedgerError(N_("Only an approved receipt can be refunded."))
    amount = money(amount)
    most = ledger.refundable(row.amount, row.refunded)
    if amount <= 0 or amount > most:
        raise LedgerError(N_("Enter an amount from 0.01 to %(most)s."), most=f"{most:,.2f}")
    free = money(row.amount) - money(row.matched) - money(row.refunded)
    if amount > free:
        # newest first, automatic matches before those Finance made by hand
        allocs = conn.execute(select(a.id, a.amount, a.charge_id).where(a.receipt_id == receipt.id)
                              .order_by(a.manual.desc(), a.id)).all()
        charge_of = {al.id: al.charge_id for al in allocs}
        held = {al.id: money(al.amount) for al in allocs}
        taken = ledger.unmatch(amount - free, [(al.id, al.amount) for al in allocs])
        for alloc_id, take in taken:
            _reopen(conn, charge_of[alloc_id], take)
            if take >= held[alloc_id]:
                conn.execute(delete(Allocation.__table__).where(a.id == alloc_id))
            else:
                conn.execute(update(Allocation.__table__).where(a.id == alloc_id)
                             .values(amount=a.amount - take))
        audit.record(conn, "unmatch", Receipt.__tablename__, receipt.id, changes={
            "charges": [[charge_of[al], str(t)] for al, t in taken]})
        back = sum((t for _, t in taken), Decimal("0"))
        conn.execute(update(Receipt.__table__).where(r.id == receipt.id)
                     .values(matched=r.matched - back))
        _expire(Charge, set(charge_of.values()))
    conn.execute(update(Receipt.__table__).where(r.id == receipt.id)
                 .values(refunded=r.refunded + amount))
    item = Refund(receipt_id=receipt.id, client_id=receipt.client_id, amount=amount,
                  refunded_on=today, reason=reason, created_by_id=getattr(by, "id", None))
    db.session.add(item)
    db.session.flush()  # the session listener audits the new row
    from .receipt_journal import post_refund_entry

    post_refund_entry(conn, item.id, getattr(by, "id", None), _now())
    refresh_next_fee_date(conn, receipt.client_id)
    db.session.commit()
    _expire(Receipt, [receipt.id])
    _expire(Refund, [item.id])
    return item


# ---- what screens read -------------------------------------------------------------------
def arrears_figures(client_ids, today: datetime.date) -> dict:
    """client id → (periods owed, amount owed, oldest due date) from his open charges
    past due (due before today); clients owing nothing are absent."""
    if not client_ids:
        return {}
    c = Charge.__table__.c
    rows = db.session.execute(
        select(c.client_id, func.count(c.id).filter(c.kind == PERIODIC),
               func.sum(c.amount - c.paid - c.written_off), func.min(c.due_date))
        .where(c.client_id.in_(list(client_ids)), c.state == OPEN, c.due_date < today)
        .group_by(c.client_id)).all()
    return {row[0]: (int(row[1] or 0), money(row[2]), row[3]) for row in rows}


def owed_past_due(today: datetime.date, condition=None) -> Decimal:
    """What the clients owe past due (the open charges due before ``today``, less
    what is paid and written off), through ``condition`` (on ``Client``: the
    caller's scope) — the 欠费客户 list's total."""
    c = Charge.__table__.c
    query = (select(func.coalesce(func.sum(c.amount - c.paid - c.written_off), 0))
             .select_from(Charge.__table__)
             .where(c.state == OPEN, c.due_date < today))
    if condition is not None:
        query = query.join(Client.__table__, Client.__table__.c.id == c.client_id)\
            .where(condition)
    return money(db.session.execute(query).scalar())


def received_between(start: datetime.date, end: datetime.date, condition=None) -> Decimal:
    """Money received in ``[start, end]``: the approved receipts received then, less
    the refunds paid back then, through ``condition`` (on ``Client``)."""
    r, f = Receipt.__table__.c, Refund.__table__.c
    cl = Client.__table__

    def total(table, amount, day, *where):
        query = (select(func.coalesce(func.sum(amount), 0)).select_from(table)
                 .where(day >= start, day <= end, *where))
        if condition is not None:
            query = query.join(cl, cl.c.id == table.c.client_id).where(condition)
        return money(db.session.execute(query).scalar())

    return (total(Receipt.__table__, r.amount, r.received_on, r.status == "approved")
            - total(Refund.__table__, f.amount, f.refunded_on))


#: the report's line for each reason (an operator's log: Chinese, as the issue asks)
RECONCILE_TEXT = {
    ledger.AFTER_TERM: "不计：合同到期后的期数",
    ledger.NOT_CHARGED: "不计：未生成应收的期数（停止计费期间、恢复计费后重新起算）",
    ledger.PAID_SINCE: "不计：已收款核销",
    ledger.WRITTEN_OFF_SINCE: "不计：坏账核销",
    ledger.FEE_CHANGED: "不计：应收金额与现行服务费之差",
    ledger.OTHER_CHARGES: "计入：一次性收费和调整",
    ledger.OTHER_PERIODS: "计入：下次收费日期之前或不在其收费周期上的期数",
    ledger.OTHER_CLIENTS: "计入：原口径之外的客户（停止计费、免费、已停止 …）的未结应收",
}


def reconciliation(conn, today: datetime.date) -> ledger.Reconciliation:
    """The old arithmetic (periods × fee of each billed 代理记账 client with a fee and
    a next fee date) against the ledger's open charges past due, itemised
    (``ledger.reconcile``). Reads named columns only: the migrations call it too."""
    cl, c = Client.__table__.c, Charge.__table__.c
    clients = [ledger.FeeClient(
        row.id, money(row.service_fee), row.billing_cycle, row.next_fee_date, row.contract_end,
        row.billing_state == "billed" and row.status == STATUS_ACTIVE
        and row.next_fee_date is not None and money(row.service_fee) > 0)
        for row in conn.execute(select(cl.id, cl.service_fee, cl.billing_cycle,
                                       cl.next_fee_date, cl.contract_end, cl.billing_state,
                                       cl.status))]
    charges = (ledger.LedgerCharge(*row) for row in conn.execute(
        select(c.client_id, c.kind, c.period, c.amount, c.paid, c.written_off, c.state,
               c.due_date)))
    return ledger.reconcile(clients, charges, today)


def reconciliation_report(rec: ledger.Reconciliation) -> list[str]:
    """The reconciliation as the lines an operator reads: before, each reason with
    its count and amount, after, and the check that they add up."""
    out = [f"owed past due before (periods × fee) {rec.before}"]
    for key in ledger.RECONCILE_ORDER:
        if key in rec.lines:
            n, amount = rec.lines[key]
            out.append(f"  {RECONCILE_TEXT[key]}：{n} 笔 {amount}")
    out.append(f"after (open charges) {rec.after}")
    out.append(f"check: before = after + lines: {rec.before} = {rec.after} + "
               f"{rec.explained} ({'OK' if rec.residual == 0 else 'UNEXPLAINED ' + str(rec.residual)})")
    return out


def past_due_condition(today: datetime.date):
    """SQL condition on ``Client``: he has an open charge due before ``today``."""
    # IN (…) rather than a correlated EXISTS: the open charges past due are read once
    # off ix_charge_state_due (state, due_date, client_id) — a few per cent of the
    # ledger — instead of each client's whole history
    c = Charge.__table__.c
    return Client.id.in_(select(c.client_id).where(c.state == OPEN, c.due_date < today))


def open_charges(client_id: int, today: datetime.date) -> list:
    """The client's open charges past due, oldest first (the 催费 notice's items)."""
    return db.session.execute(select(Charge).where(
        Charge.client_id == client_id, Charge.state == OPEN, Charge.due_date < today)
        .order_by(Charge.due_date, Charge.id)).scalars().all()


def statement_lines(client_id: int, end: datetime.date) -> list:
    """Every ledger line of the client up to ``end`` (charges on their due date,
    approved receipts on the day received, refunds, write-offs)."""
    from flask_babel import gettext

    from ..domain.choices import CHARGE_KIND

    lines = []
    for ch in db.session.execute(select(Charge).where(
            Charge.client_id == client_id, Charge.due_date <= end,
            Charge.state.in_(COUNTED))).scalars():
        text = ch.description or gettext(CHARGE_KIND.get(ch.kind, ch.kind))
        if ch.kind == PERIODIC and ch.period:
            text = f"{text} {ch.period}"
        lines.append(ledger.Line(ch.due_date, ledger.CHARGE, money(ch.amount), text, ch.id))
        if ch.written_off and ch.written_off_on and ch.written_off_on <= end:
            lines.append(ledger.Line(ch.written_off_on, ledger.WRITE_OFF,
                                     money(ch.written_off), ch.write_off_reason or "", ch.id))
    for rc in db.session.execute(select(Receipt).where(
            Receipt.client_id == client_id, Receipt.status == "approved",
            Receipt.received_on <= end)).scalars():
        lines.append(ledger.Line(rc.received_on, ledger.RECEIPT, money(rc.amount),
                                 rc.number or "", rc.id))
    for rf in db.session.execute(select(Refund).where(
            Refund.client_id == client_id, Refund.refunded_on <= end)).scalars():
        lines.append(ledger.Line(rf.refunded_on, ledger.REFUND, money(rf.amount),
                                 rf.reason, rf.id))
    return lines


def client_statement(client_id: int, start: datetime.date, end: datetime.date):
    """客户对账单 of ``[start, end]`` (``ledger.Statement``)."""
    return ledger.statement(statement_lines(client_id, end), start, end)

