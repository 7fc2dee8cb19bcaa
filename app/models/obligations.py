"""报税管理: obligation types (data, not code), each client's obligations, and the
record of every 完成 / 跳过."""

from flask_appbuilder import Model

from ..clock import local_now
from sqlalchemy import (
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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from ..domain import choices
from .checks import money, one_of


class ObligationType(Model):
    """A kind of recurring work (抄税清卡, 社保调基数 …: a croniter rule and which
    clients it applies to) or a tax kind filed per period (增值税, 个人所得税 …: each
    client files it monthly, quarterly, yearly or not at all, by the legal deadline
    of the 征期 calendar). An Admin adds one in the UI; its list appears at once."""

    __tablename__ = "obligation_type"
    __choices__ = {"applies_to": choices.APPLIES_TO, "category": choices.OBLIGATION_CATEGORY,
                   "cycle_small": choices.TAX_KIND_CYCLE,
                   "cycle_general": choices.TAX_KIND_CYCLE}
    __table_args__ = (one_of("obligation_type", "applies_to", choices.APPLIES_TO),
                      one_of("obligation_type", "category", choices.OBLIGATION_CATEGORY))

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True)          # shipped types; NULL for admin-made ones
    name = Column(String(64), nullable=False, unique=True)
    category = Column(String(8), nullable=False, default="task", server_default="task")
    # recurring work: croniter expression, firm time zone (filings have none)
    rule = Column(String(64))
    # filings: the default cycle of a new client, by taxpayer type (none: not filed)
    cycle_small = Column(String(8))
    cycle_general = Column(String(8))
    # yearly filings with a day of their own (企业所得税汇算清缴 31 May, 工商年报 30
    # June); without one a yearly filing is due by January's deadline
    annual_month = Column(Integer)
    annual_day = Column(Integer)
    applies_to = Column(String(32), nullable=False, default="all_active", server_default="all_active")
    warn_days = Column(Integer, nullable=False, default=5, server_default="5")
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")

    def __repr__(self) -> str:
        return self.name


class Obligation(Model):
    """One client's obligation of one type: the period it is for now (所属期:
    ``2026-11``, ``2026-Q3``, ``2025``) and that period's deadline."""

    __tablename__ = "obligation"
    __table_args__ = (
        UniqueConstraint("client_id", "type_id", name="uq_obligation_client_type"),
        Index("ix_obligation_type_due", "type_id", "deadline"),
        Index("ix_obligation_due", "deadline"),
        Index("ix_obligation_assignee", "assignee_id"),
        # the list (ORDER BY deadline, id: a page is a walk, not a sort of the
        # 200,000 obligations due on the 15th) and an accountant's count
        Index("ix_obligation_active_due", "deadline", "id",
              postgresql_where=text("active"), sqlite_where=text("active = 1")),
        Index("ix_obligation_active_client", "client_id", "deadline",
              postgresql_where=text("active"), sqlite_where=text("active = 1")),
    )

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    type_id = Column(Integer, ForeignKey("obligation_type.id"), nullable=False)
    deadline = Column(Date, nullable=False)
    # the open period (所属期) the deadline is for, and a filing's cycle
    period = Column(String(16))
    cycle = Column(String(8))
    # This client's own rule for the type (上门取票 quarterly for one, monthly for another).
    rule_override = Column(String(64))
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    last_done_on = Column(Date)
    last_period = Column(String(32))
    # Retired when the type stops applying to the client (kept with its history).
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    # Set by the daily job (dashboard counts); lists colour from deadline itself.
    overdue = Column(Boolean, nullable=False, default=False, server_default="0")

    client = relationship("Client")
    type = relationship("ObligationType")
    assignee = relationship("Staff", foreign_keys=[assignee_id])

    def __repr__(self) -> str:
        return f"{self.type} · {self.client}"


class ObligationRecord(Model):
    """查询管理: one 完成 or 跳过 of one obligation for one due date. The unique
    constraint makes a double click, or two clerks at once, record it once."""

    __tablename__ = "obligation_record"
    __choices__ = {"kind": choices.RECORD_KIND}
    __table_args__ = (
        UniqueConstraint("obligation_id", "due_date", name="uq_obligation_record_due"),
        Index("ix_obligation_record_client", "client_id"),
        Index("ix_obligation_record_period", "period"),
        Index("ix_obligation_record_type", "type_id"),
        Index("ix_obligation_record_obligation_period", "obligation_id", "period"),
        one_of("obligation_record", "kind", choices.RECORD_KIND),
        money("obligation_record", "tax_amount"),
    )

    id = Column(Integer, primary_key=True)
    obligation_id = Column(Integer, ForeignKey("obligation.id"), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    type_id = Column(Integer, ForeignKey("obligation_type.id"), nullable=False)
    due_date = Column(Date, nullable=False)
    period = Column(String(32), nullable=False)
    kind = Column(String(16), nullable=False)   # complete / skip
    # 完成 of a filing: 零申报 (nothing to pay), and the tax paid when it is known
    zero_filing = Column(Boolean, nullable=False, default=False, server_default="0")
    tax_amount = Column(Numeric(12, 2))
    by_id = Column(Integer, ForeignKey("ab_user.id"))
    at = Column(DateTime, nullable=False, default=local_now)
    note = Column(String(255))

    obligation = relationship("Obligation")
    client = relationship("Client")
    type = relationship("ObligationType")
    by = relationship("Staff", foreign_keys=[by_id])


class ScheduledJob(Model):
    """A job the scheduler runs on a croniter rule (daily flags, syncs)."""

    __tablename__ = "scheduled_job"

    id = Column(Integer, primary_key=True)
    code = Column(String(64), nullable=False, unique=True)
    name = Column(String(64), nullable=False)
    rule = Column(String(64), nullable=False)
    enabled = Column(Boolean, nullable=False, default=True, server_default="1")
    last_run_at = Column(DateTime)
    # The scheduled tick the last SUCCESSFUL run was for: catching up and retrying
    # start after it (a failed or abandoned tick stays due until it succeeds or a
    # later occurrence supersedes it).
    last_tick = Column(DateTime)
    last_success_at = Column(DateTime)
    last_failure_at = Column(DateTime)

    def __repr__(self) -> str:
        return self.name


class JobRun(Model):
    """One attempt at one tick of a job: a claim while ``finished_at`` is NULL, then
    its outcome. Unique per (job, tick, attempt): two machines starting the same
    attempt insert it once. At most one claim per job is open at a time (a partial
    unique index), so a manual run and a scheduled one, or two machines, never run
    a job at once; the scheduler's per-job lock tells whether an open claim's
    holder is alive."""

    __tablename__ = "job_run"
    __choices__ = {"status": choices.JOB_RUN_STATUS}
    __table_args__ = (
        UniqueConstraint("job_id", "tick", "attempt", name="uq_job_run_attempt"),
        Index("uq_job_run_open_claim", "job_id", unique=True,
              sqlite_where=text("finished_at IS NULL"),
              postgresql_where=text("finished_at IS NULL")),
    )

    id = Column(Integer, primary_key=True)
    job_id = Column(Integer, ForeignKey("scheduled_job.id"), nullable=False, index=True)
    tick = Column(DateTime, nullable=False)
    attempt = Column(Integer, nullable=False, default=1, server_default="1")
    status = Column(String(16), nullable=False, default="running", server_default="running")
    started_at = Column(DateTime, nullable=False, default=local_now)
    # Last sign of life: the claim and every committed chunk.
    heartbeat_at = Column(DateTime)
    finished_at = Column(DateTime)
    rows = Column(Integer)
    # Where a chunked job stopped (e.g. the last client id synced): the next
    # attempt at the same tick resumes after it.
    cursor = Column(String(64))
    error = Column(Text)
    host = Column(String(128))
    pid = Column(Integer)
    manual = Column(Boolean, nullable=False, default=False, server_default="0")

    job = relationship("ScheduledJob")


class CalendarDay(Model):
    """征期日历: a legal holiday (a day off) or a weekend day worked by 调休, as the
    State Council announces them each year; the filing deadlines follow from them
    (``app.domain.deadlines``). An Admin edits them."""

    __tablename__ = "calendar_day"
    __choices__ = {"kind": choices.CALENDAR_DAY_KIND}
    __table_args__ = (one_of("calendar_day", "kind", choices.CALENDAR_DAY_KIND),)

    id = Column(Integer, primary_key=True)
    day = Column(Date, nullable=False, unique=True)
    kind = Column(String(8), nullable=False, default="holiday", server_default="holiday")
    name = Column(String(64))

    def __repr__(self) -> str:
        return f"{self.day} {self.name or ''}".strip()


class DeadlineOverride(Model):
    """A month's filing deadline as the tax administration announced it, where it
    differs from the computed one (or to confirm it)."""

    __tablename__ = "deadline_override"
    __table_args__ = (UniqueConstraint("year", "month", name="uq_deadline_override_month"),)

    id = Column(Integer, primary_key=True)
    year = Column(Integer, nullable=False)
    month = Column(Integer, nullable=False)
    deadline = Column(Date, nullable=False)
    note = Column(String(255))


class ClientTaxKind(Model):
    """Which tax kinds a client files, and how often: one row per (client, filing
    type), made from the taxpayer type's defaults once and then edited (cycle
    ``none``: he does not file it — kept, so the defaults are not applied again)."""

    __tablename__ = "client_tax_kind"
    __choices__ = {"cycle": choices.TAX_KIND_CYCLE}
    __table_args__ = (UniqueConstraint("client_id", "type_id", name="uq_client_tax_kind"),
                      Index("ix_client_tax_kind_type", "type_id", "cycle"),
                      one_of("client_tax_kind", "cycle", choices.TAX_KIND_CYCLE))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id", ondelete="CASCADE"), nullable=False)
    type_id = Column(Integer, ForeignKey("obligation_type.id"), nullable=False)
    cycle = Column(String(8), nullable=False, default="none", server_default="none")

    type = relationship("ObligationType")


# ---- the client list's "next date of one obligation type" columns (选择列) ------------
#: client attribute → obligation type code: the client list may show the deadline of
#: his open period of these types. Each is a correlated subquery on the unique
#: (client_id, type_id) index, deferred: loaded only when a list or export shows it
#: (``ScopedInterface.list_load_options`` / ``iter_all`` undefer it, one statement
#: for the page), never per row.
NEXT_DEADLINE_COLUMNS = {"next_tax_clearing": "tax_clearing",
                         "next_business_annual": "business_annual"}


def _attach_next_deadlines() -> None:
    from sqlalchemy import func, select
    from sqlalchemy.orm import column_property

    from .clients import Client

    for attr, code in NEXT_DEADLINE_COLUMNS.items():
        type_id = select(ObligationType.id).where(ObligationType.code == code) \
            .scalar_subquery()
        deadline = (select(func.min(Obligation.deadline))
                    .where(Obligation.client_id == Client.id, Obligation.type_id == type_id,
                           Obligation.active.is_(True))
                    .correlate_except(Obligation, ObligationType)
                    .scalar_subquery())
        setattr(Client, attr, column_property(deadline, deferred=True))


_attach_next_deadlines()
