"""财务管理: 日记账 (journal of income and expense) and 开票登记 (invoice register).
Money is NUMERIC(12,2) / Decimal, never float."""

from flask_appbuilder import Model

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import relationship

from ..domain import choices
from .checks import money, one_of
from .documents import Document


class JournalEntry(Document, Model):
    """One income or expense. Staff entries are 待审核 until Finance or a Manager
    approves them; approved entries are locked (unlocking is its own permission)."""

    __tablename__ = "journal_entry"
    __choices__ = {"direction": choices.JOURNAL_DIRECTION, "status": choices.APPROVAL_STATUS}
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_journal_amount_positive"),
        money("journal_entry", "amount", positive=True),
        one_of("journal_entry", "direction", choices.JOURNAL_DIRECTION),
        one_of("journal_entry", "status", choices.APPROVAL_STATUS),
        Index("ix_journal_date", "entry_date", "id"),  # the list's order: a page is a walk
        Index("ix_journal_client", "client_id"),
        Index("ix_journal_status", "status"),
        Index("ix_journal_category", "category_id"),
    )

    id = Column(Integer, primary_key=True)
    entry_date = Column(Date, nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"))
    direction = Column(String(8), nullable=False, default="income", server_default="income")
    category_id = Column(Integer, ForeignKey("dict_item.id"))
    method_id = Column(Integer, ForeignKey("dict_item.id"))
    amount = Column(Numeric(12, 2), nullable=False)
    # the service period this payment covers, and the client's next payment date
    period_start = Column(Date)
    period_end = Column(Date)
    next_payment_date = Column(Date)
    note = Column(Text)
    status = Column(String(16), nullable=False, default="pending", server_default="pending")

    client = relationship("Client")
    category = relationship("DictItem", foreign_keys=[category_id])
    method = relationship("DictItem", foreign_keys=[method_id])


class Invoice(Document, Model):
    """开票登记: 申请 → 已审核 → 已开票 (number, unique) → 已作废."""

    __tablename__ = "invoice"
    __choices__ = {"invoice_type": choices.INVOICE_TYPE, "status": choices.INVOICE_STATUS}
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_invoice_amount_positive"),
        money("invoice", "amount", positive=True),
        one_of("invoice", "invoice_type", choices.INVOICE_TYPE),
        one_of("invoice", "status", choices.INVOICE_STATUS),
        Index("ix_invoice_client", "client_id"),
        Index("ix_invoice_status", "status"),
        Index("ix_invoice_created", "created_on"),
    )

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    title = Column(String(200), nullable=False)          # 发票抬头
    tax_id = Column(String(20), nullable=False)          # 纳税人识别号
    address_phone = Column(String(255))
    bank_account = Column(String(255))
    amount = Column(Numeric(12, 2), nullable=False)
    content = Column(String(255))
    invoice_type = Column(String(16), nullable=False, default="normal", server_default="normal")
    status = Column(String(16), nullable=False, default="applied", server_default="applied")
    invoice_number = Column(String(32), unique=True)
    note = Column(Text)
    issued_by_id = Column(Integer, ForeignKey("ab_user.id"))
    issued_at = Column(DateTime)
    voided_by_id = Column(Integer, ForeignKey("ab_user.id"))
    voided_at = Column(DateTime)
    void_reason = Column(String(255))

    client = relationship("Client")
    issued_by = relationship("Staff", foreign_keys=[issued_by_id])
    voided_by = relationship("Staff", foreign_keys=[voided_by_id])


class JournalMonth(Model):
    """月度统计's summary, firm-wide: the approved entries of one month, category
    (0: none) and direction — how many and their sum in cents. Kept exact by
    database triggers on ``journal_entry`` in the transaction of every approval,
    unlock, insert, update or delete (migration f3a9c2d4b1e7); ``flask stats rebuild
    --check`` compares it with a full recount. Read by those who see every entry."""

    __tablename__ = "journal_month"

    year = Column(Integer, primary_key=True, autoincrement=False)
    month = Column(Integer, primary_key=True, autoincrement=False)
    category_id = Column(Integer, primary_key=True, autoincrement=False)
    direction = Column(String(8), primary_key=True)
    entries = Column(Integer, nullable=False, default=0, server_default="0")
    cents = Column(BigInteger, nullable=False, default=0, server_default="0")


class JournalClientMonth(Model):
    """The same summary per client (entries without a client are only in
    :class:`JournalMonth`): a scoped user's statistics sum the rows of the clients
    he may see, so his numbers stay exactly those of his entries."""

    __tablename__ = "journal_client_month"

    client_id = Column(Integer, primary_key=True, autoincrement=False)
    year = Column(Integer, primary_key=True, autoincrement=False)
    month = Column(Integer, primary_key=True, autoincrement=False)
    category_id = Column(Integer, primary_key=True, autoincrement=False)
    direction = Column(String(8), primary_key=True)
    entries = Column(Integer, nullable=False, default=0, server_default="0")
    cents = Column(BigInteger, nullable=False, default=0, server_default="0")
