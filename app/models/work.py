"""待办事项, 合同管理 (with its renewal history) and 提供地址 (address service)."""

from flask_appbuilder import Model

from ..clock import local_now
from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import relationship

from ..domain import choices
from .checks import money, one_of
from .documents import Document


class Todo(Model):
    """待办事项: visible to its assignee and creator, and (with the role switch) to
    whoever sees its client."""

    __tablename__ = "todo"
    __scope_owner_columns__ = ("assignee_id", "created_by_id")
    __table_args__ = (Index("ix_todo_assignee_done", "assignee_id", "done_at"),
                      Index("ix_todo_client", "client_id"))

    id = Column(Integer, primary_key=True)
    title = Column(String(200), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"))
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    expected_date = Column(Date)
    note = Column(Text)
    done_at = Column(DateTime)
    done_by_id = Column(Integer, ForeignKey("ab_user.id"))
    # a reminder the daily job left (e.g. "obligation:12:2026-11"): made once
    source_key = Column(String(64), unique=True)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)

    client = relationship("Client")
    assignee = relationship("Staff", foreign_keys=[assignee_id])
    done_by = relationship("Staff", foreign_keys=[done_by_id])
    created_by = relationship("Staff", foreign_keys=[created_by_id])


class Contract(Document, Model):
    """合同: a client's service contract; 审核 by a manager locks it; 续签 moves the
    term one year on and keeps the previous term in ``ContractTerm``."""

    __tablename__ = "contract"
    __choices__ = {"billing_cycle": choices.BILLING_CYCLE, "status": choices.CONTRACT_STATUS}
    __table_args__ = (Index("ix_contract_client", "client_id"),
                      Index("ix_contract_end", "end_date"),
                      one_of("contract", "status", choices.CONTRACT_STATUS),
                      one_of("contract", "billing_cycle", choices.BILLING_CYCLE),
                      money("contract", "fee"))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    number = Column(String(64))
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    fee = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    billing_cycle = Column(String(16), nullable=False, default="month", server_default="month")
    status = Column(String(16), nullable=False, default="pending", server_default="pending")
    note = Column(Text)

    client = relationship("Client")
    terms = relationship("ContractTerm", order_by="ContractTerm.start_date",
                         back_populates="contract")


class ContractTerm(Model):
    """A previous term of a contract, kept when it is renewed."""

    __tablename__ = "contract_term"

    id = Column(Integer, primary_key=True)
    contract_id = Column(Integer, ForeignKey("contract.id"), nullable=False, index=True)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    fee = Column(Numeric(12, 2), nullable=False)
    renewed_at = Column(DateTime, nullable=False, default=local_now)
    renewed_by_id = Column(Integer, ForeignKey("ab_user.id"))

    contract = relationship("Contract", back_populates="terms")


class AddressService(Model):
    """提供地址: a registered address the firm provides, paid yearly or once."""

    __tablename__ = "address_service"
    __choices__ = {"fee_type": choices.ADDRESS_FEE_TYPE}
    __table_args__ = (Index("ix_address_client", "client_id"),
                      Index("ix_address_expiry", "expiry_date"),
                      one_of("address_service", "fee_type", choices.ADDRESS_FEE_TYPE),
                      money("address_service", "fee"))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    address = Column(String(255), nullable=False)
    fee_type = Column(String(16), nullable=False, default="yearly", server_default="yearly")
    fee = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    start_date = Column(Date)
    expiry_date = Column(Date)   # NULL for a one-off address without expiry
    note = Column(Text)

    client = relationship("Client")
