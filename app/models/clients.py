"""The client register (客户列表) and client groups (用户组)."""

from flask_appbuilder import Model

from ..clock import local_now
from sqlalchemy import (
    Table,
    Boolean,
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


# 用户组: which staff groups (FAB's ab_group) manage which client groups. A member
# of a managing staff group sees the group's clients.
client_group_manager = Table(
    "client_group_manager",
    Model.metadata,
    Column("client_group_id", Integer, ForeignKey("client_group.id", ondelete="CASCADE"),
           primary_key=True),
    Column("staff_group_id", Integer, ForeignKey("ab_group.id", ondelete="CASCADE"),
           primary_key=True, index=True),
)


class ClientGroup(Model):
    """A group of clients, managed by one or more staff groups."""

    __tablename__ = "client_group"

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    note = Column(String(255))
    staff_groups = relationship("Group", secondary=client_group_manager)

    def __repr__(self) -> str:
        return self.name


class Client(Model):
    """A client company. Deleting one is a status (已删除), never a DELETE."""

    __tablename__ = "client"
    # Columns whose values are codes from a fixed list: forms, filters and lists show
    # the translated label (app.views.base reads this).
    __choices__ = {
        "status": choices.CLIENT_STATUS,
        "taxpayer_type": choices.TAXPAYER_TYPE,
        "tax_device_type": choices.TAX_DEVICE_TYPE,
        "billing_cycle": choices.BILLING_CYCLE,
        "billing_state": choices.BILLING_STATE,
        "ticket_pickup": choices.TICKET_PICKUP,
    }
    # Text columns the search box and the "contains" filters find through an index
    # instead of reading every row (app.data.textsearch): an FTS5 trigram table kept
    # by triggers on SQLite, pg_trgm GIN indexes on PostgreSQL (migration
    # 5b2e8c41d7a9). Neither is a model: alembic's comparison leaves them out.
    __text_search__ = ("client_fts", ("name", "short_name", "credit_code", "legal_rep",
                                      "legal_rep_phone", "contact_name", "contact_phone"))

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    short_name = Column(String(64))
    # Unique where present; NULL for a client whose licence is still being applied for.
    credit_code = Column(String(18), unique=True)
    legal_rep = Column(String(64))
    legal_rep_phone = Column(String(32))
    contact_name = Column(String(64))
    contact_phone = Column(String(32))
    source_id = Column(Integer, ForeignKey("dict_item.id"))
    taxpayer_type = Column(String(16), nullable=False, default="small", server_default="small")
    tax_device_type = Column(String(16), nullable=False, default="none", server_default="none")
    tax_device_no = Column(String(64))
    tax_device_custody = Column(Boolean, nullable=False, default=False, server_default="0")
    provides_address = Column(Boolean, nullable=False, default=False, server_default="0")
    registered_address = Column(String(255))
    business_address = Column(String(255))
    onsite_bookkeeping = Column(Boolean, nullable=False, default=False, server_default="0")
    # 上门取票: whether and how often the field agent collects the client's invoices
    # (none / month / quarter); the sync gives his 上门取票 obligation that rule.
    ticket_pickup = Column(String(8), nullable=False, default="none", server_default="none")
    bookkeeper_id = Column(Integer, ForeignKey("ab_user.id"))
    field_agent_id = Column(Integer, ForeignKey("ab_user.id"))
    # 销售负责人: the salesperson who won the client (he and his superiors see it)
    sales_id = Column(Integer, ForeignKey("ab_user.id", name="fk_client_sales"))
    client_group_id = Column(Integer, ForeignKey("client_group.id"))
    billing_cycle = Column(String(16), nullable=False, default="month", server_default="month")
    service_fee = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    # 收费状态: billed clients have a next fee date; 免费 / 停止计费 are states, not dates.
    billing_state = Column(String(16), nullable=False, default="billed", server_default="billed")
    next_fee_date = Column(Date)
    contract_start = Column(Date)
    contract_end = Column(Date)
    status = Column(String(16), nullable=False, default="active", server_default="active")
    note = Column(Text)
    created_on = Column(DateTime, nullable=False, default=local_now)
    changed_on = Column(
        DateTime, nullable=False, default=local_now, onupdate=local_now
    )

    source = relationship("DictItem", foreign_keys=[source_id])
    bookkeeper = relationship("Staff", foreign_keys=[bookkeeper_id])
    field_agent = relationship("Staff", foreign_keys=[field_agent_id])
    sales = relationship("Staff", foreign_keys=[sales_id])
    client_group = relationship("ClientGroup")

    __table_args__ = (
        Index("ix_client_name", "name"),
        Index("ix_client_short_name", "short_name"),
        Index("ix_client_status", "status"),
        # lists of active clients by name (申报进度, pickers): an index walk, no sort
        Index("ix_client_status_name", "status", "name", "id"),
        # (person, status): the scope's OR branches and their COUNT stay inside the index
        Index("ix_client_bookkeeper", "bookkeeper_id", "status"),
        Index("ix_client_field_agent", "field_agent_id", "status"),
        Index("ix_client_group", "client_group_id"),
        Index("ix_client_sales", "sales_id", "status"),
        Index("ix_client_source", "source_id"),
        Index("ix_client_next_fee_date", "next_fee_date"),
        Index("ix_client_billing_cycle", "billing_cycle"),
        one_of("client", "status", choices.CLIENT_STATUS),
        one_of("client", "taxpayer_type", choices.TAXPAYER_TYPE),
        one_of("client", "tax_device_type", choices.TAX_DEVICE_TYPE),
        one_of("client", "billing_cycle", choices.BILLING_CYCLE),
        one_of("client", "billing_state", choices.BILLING_STATE),
        one_of("client", "ticket_pickup", choices.TICKET_PICKUP),
        money("client", "service_fee"),
    )

    def __repr__(self) -> str:
        return self.name

    def next_fee(self):
        """下次收费日期 as shown: the date, or 免费 / 停止计费 for clients not billed."""
        if self.billing_state == "billed":
            return self.next_fee_date
        from flask_babel import gettext  # presentation only; imported lazily

        return gettext(choices.BILLING_STATE.get(self.billing_state, self.billing_state))



class ClientCredential(Model):
    """客户账号密码: a client's login to 电子税务局, 个税, 社保, 公积金, a bank …

    The password is stored encrypted (``secret_enc``, a Fernet token made with the
    vault key, ``app.security.vault``); ``.secret`` reads and sets it in plain text.
    Lists, exports, the API and the audit log never carry it.
    """

    __tablename__ = "client_credential"
    __choices__ = {"system": choices.CREDENTIAL_SYSTEM}
    __table_args__ = (Index("ix_client_credential_client", "client_id"),
                      one_of("client_credential", "system", choices.CREDENTIAL_SYSTEM))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    system = Column(String(16), nullable=False, default="etax", server_default="etax")
    account = Column(String(128), nullable=False)
    secret_enc = Column(Text)
    note = Column(String(255))
    changed_on = Column(DateTime, nullable=False, default=local_now, onupdate=local_now)

    client = relationship("Client")

    @property
    def secret(self) -> str | None:
        if self.secret_enc is None:
            return None
        from ..security import vault

        return vault.current().decrypt(self.secret_enc)

    @secret.setter
    def secret(self, plain: str | None) -> None:
        if plain is None or plain == "":
            self.secret_enc = None
            return
        from ..security import vault

        self.secret_enc = vault.current().encrypt(plain)

    def masked(self) -> str:
        return "******" if self.secret_enc else ""

    def __repr__(self) -> str:
        return f"{self.account}"
