"""应收 (receivables): 应收 charges, 收款 receipts, their matches (核销), 退款 refunds,
each billed client's fee schedule and the receipt number counter per year.
Money is NUMERIC(12,2) / Decimal, never float."""

from flask_appbuilder import Model
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index,
                        Integer, Numeric, String, Text, UniqueConstraint)
from sqlalchemy.orm import relationship

from ..clock import local_now
from ..domain import choices
from .checks import money, one_of
from .documents import Document


class Charge(Model):
    """应收: what a client owes for one fee date (periodic, unique per client and
    period), a one-off service (工商变更费, 地址费 …) or an adjustment (调整, with a
    reason, 待审核 until a Manager or Finance approves it: the ADJUSTMENT workflow on
    ``state``). ``paid`` is the sum of its matches, ``written_off`` what a manager
    wrote off as 坏账; it is open while amount > paid + written off. Only open, paid
    and written-off charges count (a pending or rejected adjustment does not)."""

    __tablename__ = "charge"
    __choices__ = {"kind": choices.CHARGE_KIND, "state": choices.CHARGE_STATE}
    __table_args__ = (
        # NULL periods (one-off, adjustments) never collide
        UniqueConstraint("client_id", "kind", "period", name="uq_charge_period"),
        one_of("charge", "kind", choices.CHARGE_KIND),
        one_of("charge", "state", choices.CHARGE_STATE),
        money("charge", "amount", positive=True),
        money("charge", "paid"),
        money("charge", "written_off"),
        CheckConstraint("paid + written_off <= amount", name="ck_charge_not_overpaid"),
        Index("ix_charge_client_due", "client_id", "due_date"),
        Index("ix_charge_state_due", "state", "due_date", "client_id"),
    )

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    kind = Column(String(16), nullable=False, default="periodic", server_default="periodic")
    period = Column(String(10))                  # the fee date (ISO) of a periodic charge
    description = Column(String(255))
    amount = Column(Numeric(12, 2), nullable=False)
    due_date = Column(Date, nullable=False)
    state = Column(String(16), nullable=False, default="open", server_default="open")
    paid = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    written_off = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    written_off_on = Column(Date)
    write_off_reason = Column(String(255))
    written_off_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    # the ADJUSTMENT workflow's version and approval stamps (app.domain.workflows)
    version = Column(Integer, nullable=False, default=1, server_default="1")
    approved_by_id = Column(Integer, ForeignKey("ab_user.id"))
    approved_at = Column(DateTime)

    client = relationship("Client")
    written_off_by = relationship("Staff", foreign_keys=[written_off_by_id])
    created_by = relationship("Staff", foreign_keys=[created_by_id])
    approved_by = relationship("Staff", foreign_keys=[approved_by_id])


class Receipt(Document, Model):
    """收款: money a client paid, 待审核 until Finance approves it (never its author);
    approval locks it, numbers it (收据编号, per year without gaps, kept when it is
    unlocked and approved again) and matches it to his oldest open charges."""

    __tablename__ = "receipt"
    __choices__ = {"status": choices.APPROVAL_STATUS}
    __table_args__ = (
        money("receipt", "amount", positive=True),
        money("receipt", "matched"),
        money("receipt", "refunded"),
        CheckConstraint("matched + refunded <= amount", name="ck_receipt_not_overspent"),
        one_of("receipt", "status", choices.APPROVAL_STATUS),
        UniqueConstraint("number_year", "number_seq", name="uq_receipt_number"),
        Index("ix_receipt_client", "client_id", "received_on"),
        Index("ix_receipt_status", "status"),
        Index("ix_receipt_received", "received_on"),
    )

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    received_on = Column(Date, nullable=False)
    method_id = Column(Integer, ForeignKey("dict_item.id"))
    payer = Column(String(200))                  # 交款人 (printed on the 收据)
    note = Column(Text)
    status = Column(String(16), nullable=False, default="pending", server_default="pending")
    number = Column(String(16))                  # 收据编号 2026-000001
    number_year = Column(Integer)
    number_seq = Column(Integer)
    matched = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    refunded = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    journal_entry_id = Column(Integer, ForeignKey("journal_entry.id"))
    # 手工核销: Finance matched it by hand, so automatic matching (审核, the charge
    # run, a new charge) leaves what is left of it alone until Finance hands it back
    match_by_hand = Column(Boolean, nullable=False, default=False, server_default="0")

    client = relationship("Client")
    method = relationship("DictItem", foreign_keys=[method_id])

    def __repr__(self) -> str:
        return self.number or f"#{self.id}"


class Allocation(Model):
    """核销: part of a receipt paying part of a charge."""

    __tablename__ = "allocation"
    __table_args__ = (money("allocation", "amount", positive=True),
                      Index("ix_allocation_receipt", "receipt_id"),
                      Index("ix_allocation_charge", "charge_id"))

    id = Column(Integer, primary_key=True)
    receipt_id = Column(Integer, ForeignKey("receipt.id"), nullable=False)
    charge_id = Column(Integer, ForeignKey("charge.id"), nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    created_on = Column(DateTime, nullable=False, default=local_now)
    manual = Column(Boolean, nullable=False, default=False, server_default="0")  # 手工核销

    receipt = relationship("Receipt")
    charge = relationship("Charge")


class Refund(Model):
    """退款: part of an approved receipt paid back, by a manager, with a reason; it
    posts one approved expense entry of the 日记账 (``journal_entry_id``)."""

    __tablename__ = "refund"
    __table_args__ = (money("refund", "amount", positive=True),
                      Index("ix_refund_client", "client_id", "refunded_on"),
                      Index("ix_refund_receipt", "receipt_id"))

    id = Column(Integer, primary_key=True)
    receipt_id = Column(Integer, ForeignKey("receipt.id"), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    amount = Column(Numeric(12, 2), nullable=False)
    refunded_on = Column(Date, nullable=False)
    reason = Column(String(255), nullable=False)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)
    #: the 日记账 expense it posted (money paid back leaves the cash book too)
    journal_entry_id = Column(Integer, ForeignKey("journal_entry.id"))

    receipt = relationship("Receipt")
    client = relationship("Client")
    created_by = relationship("Staff", foreign_keys=[created_by_id])


class FeeSchedule(Model):
    """A billed client's fee dates: ``anchor + k × cycle``; ``next_seq`` / ``next_due``
    is the first fee date not charged yet (the charge run stores where it stopped, a
    rerun finds nothing to do)."""

    __tablename__ = "fee_schedule"
    __table_args__ = (Index("ix_fee_schedule_next_due", "next_due"),)

    client_id = Column(Integer, ForeignKey("client.id"), primary_key=True)
    anchor = Column(Date, nullable=False)
    next_seq = Column(Integer, nullable=False, default=0, server_default="0")
    next_due = Column(Date, nullable=False)


class ReceiptCounter(Model):
    """The last 收据 number given in a year (taken inside the approving transaction:
    a rolled-back approval gives its number back, so the numbers have no gaps)."""

    __tablename__ = "receipt_counter"

    year = Column(Integer, primary_key=True, autoincrement=False)
    last = Column(Integer, nullable=False, default=0, server_default="0")
