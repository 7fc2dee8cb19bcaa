"""销售 (seed 001): 业务类型 with their price list entries, 意向客户 (leads) with
their contacts and follow-ups, the 防撞单 index of contact keys shared by leads and
clients, and sales contracts with their items."""

from flask_appbuilder import Model
from sqlalchemy import (Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index,
                        Integer, Numeric, String, Table, Text, UniqueConstraint)
from sqlalchemy.orm import relationship

from ..clock import local_now
from ..domain import choices
from .checks import money, one_of
from .documents import Document


class BusinessType(Model):
    """业务类型 and its price list entry (标准价, 周期): data an Admin edits."""

    __tablename__ = "business_type"
    __choices__ = {"cycle": choices.PRICE_CYCLE}
    __table_args__ = (one_of("business_type", "cycle", choices.PRICE_CYCLE),
                      money("business_type", "unit_price"))

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    unit_price = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    cycle = Column(String(16), nullable=False, default="once", server_default="once")
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")

    def __repr__(self) -> str:
        return self.name


lead_business_type = Table(
    "lead_business_type",
    Model.metadata,
    Column("lead_id", Integer, ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True),
    Column("business_type_id", Integer, ForeignKey("business_type.id"), primary_key=True,
           index=True),
)


class Lead(Model):
    """意向客户: a company or a person the firm tries to win, held by one salesperson
    (销售负责人) until won, lost or returned to the 公共池. The first contact's
    mobile, WeChat … are on the lead itself; more contacts are ``Contact`` rows."""

    __tablename__ = "lead"
    __choices__ = {"stage": choices.LEAD_STAGE}
    __table_args__ = (
        one_of("lead", "stage", choices.LEAD_STAGE),
        Index("ix_lead_owner_stage", "owner_id", "stage"),
        Index("ix_lead_stage", "stage"),
        Index("ix_lead_name", "name"),
        Index("ix_lead_source", "source_id"),
        # (created_on, id): the list's order (newest first, id breaking ties) read off the index
        Index("ix_lead_created", "created_on", "id"),
    )

    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)           # 公司或个人名称
    credit_code = Column(String(18))
    contact_name = Column(String(64))                    # 联系人
    mobile = Column(String(32))
    wechat = Column(String(64))
    qq = Column(String(16))
    landline = Column(String(32))
    email = Column(String(254))
    source_id = Column(Integer, ForeignKey("dict_item.id"))
    industry = Column(String(64))                        # 行业
    region = Column(String(64))                          # 地区
    # 标准化需求: what the client asked for, in the shape seed 001 lists
    need_company_name = Column(String(200))              # 拟注册公司名称
    need_address = Column(String(255))                   # 注册地
    need_quote = Column(Numeric(12, 2))                  # 报价
    need_bookkeeping = Column(String(255))               # 代理记账情况
    note = Column(Text)
    owner_id = Column(Integer, ForeignKey("ab_user.id"))  # 销售负责人 (none in the pool)
    stage = Column(String(16), nullable=False, default="new", server_default="new")
    # when the lead was last given to its owner (entered, claimed, reassigned): the
    # pool's "no follow-up for N days" counts from here when none was done since
    assigned_on = Column(Date)
    last_follow_up_on = Column(Date)                     # 最近一次跟进
    pool_on = Column(Date)                               # 退回公共池的日期
    client_id = Column(Integer, ForeignKey("client.id"), unique=True)  # once won
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)
    changed_on = Column(DateTime, nullable=False, default=local_now, onupdate=local_now)

    source = relationship("DictItem", foreign_keys=[source_id])
    owner = relationship("Staff", foreign_keys=[owner_id])
    created_by = relationship("Staff", foreign_keys=[created_by_id])
    client = relationship("Client", foreign_keys=[client_id])
    business_types = relationship("BusinessType", secondary=lead_business_type)

    def __repr__(self) -> str:
        return self.name


class Contact(Model):
    """A contact person of a lead and/or a client (a won lead's contacts are
    re-pointed to its client: both ids set)."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_lead", "lead_id"), Index("ix_contact_client", "client_id"),
                      CheckConstraint("lead_id IS NOT NULL OR client_id IS NOT NULL",
                                      name="ck_contact_owner"))

    id = Column(Integer, primary_key=True)
    lead_id = Column(Integer, ForeignKey("lead.id", ondelete="CASCADE"))
    client_id = Column(Integer, ForeignKey("client.id"))
    name = Column(String(64), nullable=False)
    role = Column(String(64))                            # 角色 (老板, 出纳 …)
    mobile = Column(String(32))
    wechat = Column(String(64))
    qq = Column(String(16))
    landline = Column(String(32))
    email = Column(String(254))
    note = Column(String(255))
    created_on = Column(DateTime, nullable=False, default=local_now)

    lead = relationship("Lead")
    client = relationship("Client")

    def __repr__(self) -> str:
        return self.name


class ContactKey(Model):
    """防撞单: every contact value of every lead and client, normalised, in one
    indexed table; a new or changed lead looks its values up here."""

    __tablename__ = "contact_key"
    __table_args__ = (Index("ix_contact_key_value", "kind", "value"),
                      Index("ix_contact_key_lead", "lead_id"),
                      Index("ix_contact_key_client", "client_id"),
                      one_of("contact_key", "kind", choices.CONTACT_KIND))

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    value = Column(String(254), nullable=False)
    lead_id = Column(Integer, ForeignKey("lead.id", ondelete="CASCADE"))
    client_id = Column(Integer, ForeignKey("client.id", ondelete="CASCADE"))
    owner_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, nullable=False, default=local_now)


class FollowUp(Model):
    """One follow-up of a lead: planned (``due_date``; a 1-3-7 step carries its day in
    ``cadence_day``) and done (``done_at``, way, content); 下次联系 plans the next one.
    A supervisor's 批注 is shown to the salesperson on the lead's timeline."""

    __tablename__ = "follow_up"
    __choices__ = {"way": choices.FOLLOW_UP_WAY}
    __table_args__ = (Index("ix_follow_up_lead", "lead_id", "due_date"),
                      Index("ix_follow_up_open", "done_on", "due_date"),
                      one_of("follow_up", "way", choices.FOLLOW_UP_WAY),
                      UniqueConstraint("lead_id", "cadence_day", name="uq_follow_up_cadence"))

    id = Column(Integer, primary_key=True)
    lead_id = Column(Integer, ForeignKey("lead.id", ondelete="CASCADE"), nullable=False)
    due_date = Column(Date, nullable=False)
    cadence_day = Column(Integer)                        # 1, 3, 7: a step of the rule
    done_at = Column(DateTime)
    done_on = Column(Date)                               # the day it was done (1-3-7 lateness)
    done_by_id = Column(Integer, ForeignKey("ab_user.id"))
    way = Column(String(16), nullable=False, default="phone", server_default="phone")
    content = Column(Text)
    next_contact_date = Column(Date)                     # 下次联系
    comment = Column(Text)                               # 主管批注
    comment_by_id = Column(Integer, ForeignKey("ab_user.id"))
    comment_at = Column(DateTime)
    created_on = Column(DateTime, nullable=False, default=local_now)

    lead = relationship("Lead")
    done_by = relationship("Staff", foreign_keys=[done_by_id])
    comment_by = relationship("Staff", foreign_keys=[comment_by_id])


class SalesContract(Document, Model):
    """销售合同: a won lead's items from the price list, its term and 开票信息; 提交 then
    审核 by a manager (never its author) locks it and makes the lead a client."""

    __tablename__ = "sales_contract"
    __choices__ = {"status": choices.SALES_CONTRACT_STATUS}
    __table_args__ = (Index("ix_sales_contract_lead", "lead_id"),
                      Index("ix_sales_contract_status", "status"),
                      Index("ix_sales_contract_approved", "approved_at"),
                      one_of("sales_contract", "status", choices.SALES_CONTRACT_STATUS),
                      money("sales_contract", "total"))

    id = Column(Integer, primary_key=True)
    lead_id = Column(Integer, ForeignKey("lead.id"), nullable=False)
    number = Column(String(64))
    sign_date = Column(Date)
    start_date = Column(Date, nullable=False)
    end_date = Column(Date, nullable=False)
    first_fee_date = Column(Date)                        # 首次收费日期
    total = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    invoice_needed = Column(Boolean, nullable=False, default=False, server_default="0")
    invoice_title = Column(String(200))
    invoice_tax_id = Column(String(20))
    invoice_address_phone = Column(String(255))
    invoice_bank = Column(String(255))
    note = Column(Text)
    status = Column(String(16), nullable=False, default="draft", server_default="draft")
    # one approval, one client: set once, unique
    client_id = Column(Integer, ForeignKey("client.id"), unique=True)
    contract_id = Column(Integer, ForeignKey("contract.id"), unique=True)

    lead = relationship("Lead")
    client = relationship("Client", foreign_keys=[client_id])
    lines = relationship("SalesContractLine", order_by="SalesContractLine.id",
                         back_populates="contract")

    def __repr__(self) -> str:
        return self.number or str(self.id)


class SalesContractLine(Model):
    """An item of a sales contract: a business type at its price, cycle, quantity and
    discount (the amount is computed, ``app.domain.sales.line_amount``)."""

    __tablename__ = "sales_contract_line"
    __choices__ = {"cycle": choices.PRICE_CYCLE}
    __table_args__ = (Index("ix_sales_contract_line_contract", "contract_id"),
                      Index("ix_sales_contract_line_type", "business_type_id"),
                      one_of("sales_contract_line", "cycle", choices.PRICE_CYCLE),
                      money("sales_contract_line", "unit_price"),
                      money("sales_contract_line", "discount"),
                      money("sales_contract_line", "amount"),
                      CheckConstraint("quantity >= 1", name="ck_sales_contract_line_quantity"))

    id = Column(Integer, primary_key=True)
    contract_id = Column(Integer, ForeignKey("sales_contract.id", ondelete="CASCADE"),
                         nullable=False)
    business_type_id = Column(Integer, ForeignKey("business_type.id"), nullable=False)
    unit_price = Column(Numeric(12, 2), nullable=False)
    cycle = Column(String(16), nullable=False, default="once", server_default="once")
    quantity = Column(Integer, nullable=False, default=1, server_default="1")
    discount = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    amount = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")

    contract = relationship("SalesContract", back_populates="lines")
    business_type = relationship("BusinessType")
