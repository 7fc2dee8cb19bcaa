"""A demo firm that looks real: after ``load_demo`` made the clients and the sync
their obligations, fill every module over the past 12 months — contracts (some
expiring, expired, renewed), provided addresses, journal entries (approved and
pending, income and expenses), invoices in every state, todos, obligation history
with 完成 / 零申报 / 跳过, and client logins — so every list, card and chart of a
first ``make run`` shows data.

Bulk inserts in chunks (constant memory). A module whose table already holds rows
is left alone, so running ``flask demo load`` again adds nothing twice. The
per-client records are made for at most ``SAMPLE`` active clients (all of them in
the 2,000-client demo); contracts and addresses for every client that has them.
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from flask_appbuilder.security.sqla.models import Group
from sqlalchemy import func, insert, select, update

from .. import clock
from ..extensions import db
from ..models import (AddressService, Allocation, Charge, Client, ClientCredential, Contract,
                      ContractTerm, Receipt, ReceiptCounter,
                      DictItem, Invoice, JournalEntry, Obligation, ObligationRecord, Staff,
                      Todo)

SAMPLE = 3000
CHUNK = 5000
MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


@dataclass
class FirmResult:
    rows: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.rows.items() if v) or "nothing to add"


def _empty(model) -> bool:
    return db.session.execute(select(func.count()).select_from(model.__table__)).scalar() == 0


def _write(model, rows: list) -> int:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])
    return len(rows)


def _months_back(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    return datetime.date(year, month, min(day.day, 28))


def _dict_ids(kind: str) -> dict:
    return dict(db.session.execute(select(DictItem.name, DictItem.id)
                                   .where(DictItem.kind == kind)).all())


def fill(seed: int = 20261130) -> FirmResult:
    """Fill the empty modules (see the module docstring); commits."""
    rng = random.Random(seed)
    today = clock.today()
    now = clock.local_now()
    result = FirmResult()
    managers = db.session.execute(select(Staff.id).where(Staff.username == "admin")).scalars().all()
    approver = managers[0] if managers else None
    clients = db.session.execute(
        select(Client.id, Client.name, Client.credit_code, Client.bookkeeper_id,
               Client.field_agent_id, Client.service_fee, Client.billing_cycle,
               Client.contract_start, Client.contract_end, Client.provides_address,
               Client.registered_address, Client.next_fee_date)
        .where(Client.status == "active").order_by(Client.id)).all()
    if not clients:
        return result
    sample = clients[:SAMPLE]

    if _empty(Contract):
        contracts, renewed = [], []
        for c in clients:
            start = c.contract_start or _months_back(today, rng.randint(1, 30))
            end = c.contract_end or start + datetime.timedelta(days=365)
            approved = rng.random() < 0.85
            contracts.append({
                "client_id": c.id, "number": f"HT{start:%Y%m}{c.id:06d}",
                "start_date": start, "end_date": end, "fee": c.service_fee or Decimal("0"),
                "billing_cycle": c.billing_cycle, "version": 1,
                "status": "approved" if approved else "pending",
                "created_on": now, "created_by_id": c.bookkeeper_id,
                "approved_by_id": approver if approved else None,
                "approved_at": now if approved else None})
        result.rows["contracts"] = _write(Contract, contracts)
        # a tenth were renewed once: their previous term is kept
        ids = db.session.execute(select(Contract.id, Contract.start_date, Contract.fee)
                                 .where(Contract.status == "approved")).all()
        for cid, start, fee in ids:
            if rng.random() < 0.1:
                renewed.append({"contract_id": cid,
                                "start_date": start - datetime.timedelta(days=365),
                                "end_date": start - datetime.timedelta(days=1), "fee": fee,
                                "renewed_at": now, "renewed_by_id": approver})
        result.rows["contract terms"] = _write(ContractTerm, renewed)

    if _empty(AddressService):
        addresses = []
        for c in clients:
            if not c.provides_address:
                continue
            start = _months_back(today, rng.randint(0, 20))
            addresses.append({
                "client_id": c.id, "address": c.registered_address or "园区托管地址",
                "fee_type": "yearly", "fee": rng.choice([Decimal("800.00"), Decimal("1200.00"),
                                                         Decimal("1500.00")]),
                "start_date": start,
                "expiry_date": start + datetime.timedelta(days=365),
                "note": None})
        result.rows["addresses"] = _write(AddressService, addresses)

    if _empty(JournalEntry):
        categories, methods = _dict_ids("journal_category"), _dict_ids("payment_method")
        # the clients' fees are not typed here: they are the receipts' own entries,
        # posted with the ledger below (one record of a client's money)
        entries = []
        for back in range(12):  # the firm's own costs
            month = _months_back(today, back).replace(day=5)
            for name, amount in (("房租", "18000.00"), ("工资", "96000.00"), ("办公费", "2300.00")):
                entries.append({
                    "entry_date": month, "client_id": None, "direction": "expense",
                    "category_id": categories.get(name), "method_id": methods.get("银行转账"),
                    "amount": Decimal(amount), "period_start": None, "period_end": None,
                    "next_payment_date": None, "note": None, "status": "approved",
                    "version": 1, "created_on": now, "created_by_id": approver,
                    "approved_by_id": approver, "approved_at": now})
        result.rows["journal entries"] = _write(JournalEntry, entries)

    if _empty(Invoice):
        invoices, number = [], 44000000
        for c in sample:
            if rng.random() > 0.35 or not c.credit_code:
                continue
            state = rng.choices(["applied", "approved", "issued", "void"], [15, 10, 70, 5])[0]
            number += rng.randint(1, 9)
            made = now - datetime.timedelta(days=rng.randint(0, 330))
            invoices.append({
                "client_id": c.id, "title": c.name, "tax_id": c.credit_code,
                "amount": (c.service_fee or Decimal("300.00")) * 3,
                "content": "代理记账服务费", "invoice_type": rng.choice(["normal", "normal",
                                                                         "special"]),
                "status": state, "version": 1, "created_on": made,
                "created_by_id": c.bookkeeper_id,
                "invoice_number": f"{number:08d}" if state in ("issued", "void") else None,
                "issued_by_id": approver if state in ("issued", "void") else None,
                "issued_at": made if state in ("issued", "void") else None,
                "approved_by_id": approver if state != "applied" else None,
                "approved_at": made if state != "applied" else None,
                "voided_by_id": approver if state == "void" else None,
                "voided_at": made if state == "void" else None,
                "void_reason": "抬头有误，重开" if state == "void" else None})
        result.rows["invoices"] = _write(Invoice, invoices)

    if _empty(Todo):
        titles = ["催收本季度票据", "核对银行流水", "通知客户补充工资表", "预约上门取票",
                  "确认社保增员名单", "整理年度汇算资料"]
        todos = []
        for c in sample[::4]:
            done = rng.random() < 0.4
            expected = today + datetime.timedelta(days=rng.randint(-10, 20))
            todos.append({
                "title": rng.choice(titles), "client_id": c.id,
                "assignee_id": c.bookkeeper_id if rng.random() < 0.7 else c.field_agent_id,
                "expected_date": expected, "note": None,
                "done_at": now - datetime.timedelta(days=rng.randint(0, 5)) if done else None,
                "done_by_id": c.bookkeeper_id if done else None,
                "created_by_id": c.bookkeeper_id, "created_on": now})
        result.rows["todos"] = _write(Todo, todos)

    if _empty(ObligationRecord):
        from ..domain.deadlines import previous_period

        ids = [c.id for c in sample]
        records = []
        for lo in range(0, len(ids), 900):
            rows = db.session.execute(
                select(Obligation.id, Obligation.client_id, Obligation.type_id,
                       Obligation.deadline, Obligation.period, Obligation.assignee_id)
                .where(Obligation.client_id.in_(ids[lo:lo + 900]),
                       Obligation.active.is_(True))).all()
            for o in rows:
                try:
                    period = previous_period(o.period) if o.period else None
                except (ValueError, TypeError):
                    period = None
                if period is None:
                    continue
                kind = "skip" if rng.random() < 0.05 else "complete"
                zero = kind == "complete" and rng.random() < 0.4
                records.append({
                    "obligation_id": o.id, "client_id": o.client_id, "type_id": o.type_id,
                    "due_date": _months_back(o.deadline, 1), "period": period, "kind": kind,
                    "zero_filing": zero,
                    "tax_amount": None if zero or kind == "skip" or rng.random() < 0.5
                    else Decimal(rng.randint(50, 20000)).quantize(Decimal("0.01")),
                    "by_id": o.assignee_id, "at": now - datetime.timedelta(days=rng.randint(
                        15, 40)), "note": None})
        result.rows["obligation history"] = _write(ObligationRecord, records)

    if _empty(ClientCredential):
        from ..security import vault

        box = vault.current()
        logins = []
        for c in sample[::3]:
            for system in ("etax", "iit"):
                logins.append({
                    "client_id": c.id, "system": system,
                    "account": c.credit_code or f"demo{c.id}",
                    "secret_enc": box.encrypt(f"Demo{rng.randint(100000, 999999)}"),
                    "note": None, "changed_on": now})
        result.rows["client logins"] = _write(ClientCredential, logins)

    if db.session.execute(select(func.count(Group.id))).scalar() == 0:
        # 用户组: two staff groups, each managing two client groups
        from ..models import ClientGroup

        staff = db.session.execute(select(Staff).where(Staff.username != "admin")
                                   .order_by(Staff.id)).scalars().all()
        client_groups = db.session.execute(select(ClientGroup).order_by(ClientGroup.id)
                                           ).scalars().all()
        for i, name in enumerate(("一组", "二组")):
            group = Group(name=f"记账{i + 1}组", label=f"记账{name}")
            group.users = staff[i::2][:6]
            db.session.add(group)
            for cgroup in client_groups[i * 2:i * 2 + 2]:
                cgroup.staff_groups.append(group)
        result.rows["staff groups"] = 2

    from ..models import Complaint, ServiceItem, ServiceRating, ServiceRequest

    items = db.session.execute(select(ServiceItem.id, ServiceItem.name)
                               .order_by(ServiceItem.id)).all()
    if _empty(ServiceRequest) and items:
        # 业务请求 of a few hundred clients, in every state; the done ones rated,
        # a few complained of
        states = ["new", "assigned", "in_progress", "waiting", "done", "done", "done",
                  "cancelled"]
        requests = []
        for c in sample[:400]:
            item_id, item_name = items[rng.randrange(len(items))]
            status = states[rng.randrange(len(states))]
            opened = now - datetime.timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 9))
            assignee = c.bookkeeper_id if status != "new" else None
            requests.append({
                "client_id": c.id, "item_id": item_id, "title": f"{item_name}申请",
                "description": None, "urgency": "urgent" if rng.random() < 0.2 else "normal",
                "assignee_id": assignee, "status": status, "version": 1,
                "created_on": opened,
                "assigned_at": opened if assignee else None,
                "accepted_at": opened if status in ("in_progress", "waiting", "done") else None,
                "finished_at": opened + datetime.timedelta(days=2)
                if status in ("waiting", "done") else None,
                "closed_at": opened + datetime.timedelta(days=rng.randint(1, 6))
                if status in ("done", "cancelled") else None})
        result.rows["service requests"] = _write(ServiceRequest, requests)
        done = db.session.execute(select(ServiceRequest.id, ServiceRequest.client_id,
                                         ServiceRequest.assignee_id, ServiceRequest.closed_at)
                                  .where(ServiceRequest.status == "done")).all()
        ratings, complaints = [], []
        for rid, cid, staff_id, closed in done:
            if rng.random() < 0.7:
                overall = rng.choices(("good", "neutral", "bad"), (7, 2, 1))[0]
                ratings.append({"request_id": rid, "client_id": cid, "staff_id": staff_id,
                                "overall": overall, "attitude": rng.randint(3, 5),
                                "speed": rng.randint(2, 5), "comment": None,
                                "created_on": closed or now})
            if rng.random() < 0.05:
                complaints.append({"client_id": cid, "request_id": rid, "staff_id": staff_id,
                                   "text": "办理太慢，催了几次", "status": "open", "version": 1,
                                   "created_on": closed or now})
        result.rows["ratings"] = _write(ServiceRating, ratings)
        result.rows["complaints"] = _write(Complaint, complaints)

    if _empty(Charge):
        _fill_ledger(rng, today, now, clients, approver, result)

    db.session.commit()
    return result


def _post_receipt_entries(now, approver) -> int:
    """The journal entry of each approved receipt, as its 审核 posts it
    (``services.receipt_journal``), set-based: one INSERT … SELECT, one UPDATE
    linking each receipt to its entry (found by the 收据编号 in its note)."""
    from flask_babel import gettext
    from sqlalchemy import literal

    from .receipt_journal import ENTRY_NOTE, fee_category_id

    conn = db.session.connection()
    prefix = gettext(ENTRY_NOTE, number="")
    approved = (select(Receipt.received_on, Receipt.client_id, literal("income"),
                       literal(fee_category_id(conn)), Receipt.method_id, Receipt.amount,
                       literal(prefix) + Receipt.number, literal("approved"), literal(1),
                       literal(now), Receipt.created_by_id, literal(approver), literal(now))
                .where(Receipt.status == "approved", Receipt.journal_entry_id.is_(None)))
    made = conn.execute(insert(JournalEntry).from_select(
        ["entry_date", "client_id", "direction", "category_id", "method_id", "amount",
         "note", "status", "version", "created_on", "created_by_id", "approved_by_id",
         "approved_at"], approved)).rowcount
    entry = (select(JournalEntry.id).where(JournalEntry.client_id == Receipt.client_id,
                                           JournalEntry.note == literal(prefix) + Receipt.number)
             .limit(1).scalar_subquery())
    conn.execute(update(Receipt).where(Receipt.status == "approved",
                                       Receipt.journal_entry_id.is_(None))
                 .values(journal_entry_id=entry))
    return made


def _fill_ledger(rng, today, now, clients, approver, result) -> None:
    """应收/收款: the charge run as the scheduler does it, then two clients in three
    paid their oldest fee (an approved, numbered receipt matched to it) and a few
    payments wait for Finance's 审核 — set-based, as fast as the client load."""
    from .ledger import generate_charges, refresh_next_fee_dates

    db.session.commit()
    result.rows["charges"] = generate_charges(today, chunk_size=CHUNK)
    oldest = {}
    for charge_id, client_id, amount, due in db.session.execute(
            select(Charge.id, Charge.client_id, Charge.amount, Charge.due_date)
            .where(Charge.state == "open").order_by(Charge.client_id, Charge.id)):
        oldest.setdefault(client_id, (charge_id, amount, due))
    keepers = {c.id: c.bookkeeper_id for c in clients}
    receipts, pending, counters = [], [], {}
    for client_id, (charge_id, amount, due) in oldest.items():
        roll = rng.random()
        if roll < 2 / 3:
            year = due.year
            counters[year] = counters.get(year, 0) + 1
            receipts.append({
                "client_id": client_id, "amount": amount, "received_on": due,
                "status": "approved", "number": f"{year}-{counters[year]:06d}",
                "number_year": year, "number_seq": counters[year], "matched": amount,
                "refunded": 0, "version": 2, "created_on": now,
                "created_by_id": keepers.get(client_id), "approved_by_id": approver,
                "approved_at": now, "payer": None, "note": None})
        elif roll < 0.75:
            pending.append({
                "client_id": client_id, "amount": amount, "received_on": today,
                "status": "pending", "matched": 0, "refunded": 0, "version": 1,
                "created_on": now, "created_by_id": keepers.get(client_id)})
    _write(Receipt, receipts)
    _write(Receipt, pending)
    _write(ReceiptCounter, [{"year": y, "last": n} for y, n in counters.items()])
    paid = db.session.execute(select(Receipt.id, Receipt.client_id, Receipt.amount)
                              .where(Receipt.status == "approved")).all()
    _write(Allocation, [{"receipt_id": rid, "charge_id": oldest[cid][0], "amount": amount,
                         "created_on": now} for rid, cid, amount in paid])
    _post_receipt_entries(now, approver)
    # the matched charges are paid: one statement
    db.session.execute(update(Charge).where(Charge.id.in_(select(Allocation.charge_id)))
                       .values(paid=Charge.amount, state="paid"))
    # 下次收费日期 as the ledger derives it, for the clients who paid
    refresh_next_fee_dates(Client.id.in_(select(Charge.client_id).where(Charge.state == "paid")))
    result.rows["receipts"] = len(receipts) + len(pending)
