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
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import relationship

from ..domain import choices
from .checks import one_of


class ObligationType(Model):
    """A kind of recurring work (每月报税, 工商年检, …): a croniter rule and which
    clients it applies to. An Admin adds one in the UI; its list appears at once."""

    __tablename__ = "obligation_type"
    __choices__ = {"applies_to": choices.APPLIES_TO}
    __table_args__ = (one_of("obligation_type", "applies_to", choices.APPLIES_TO),)

    id = Column(Integer, primary_key=True)
    code = Column(String(32), unique=True)          # shipped types; NULL for admin-made ones
    name = Column(String(64), nullable=False, unique=True)
    rule = Column(String(64), nullable=False)       # croniter expression, firm time zone
    applies_to = Column(String(32), nullable=False, default="all_active", server_default="all_active")
    warn_days = Column(Integer, nullable=False, default=5, server_default="5")
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")

    def __repr__(self) -> str:
        return self.name


class Obligation(Model):
    """One client's obligation of one type, with its next due date."""

    __tablename__ = "obligation"
    __table_args__ = (
        UniqueConstraint("client_id", "type_id", name="uq_obligation_client_type"),
        Index("ix_obligation_type_due", "type_id", "next_due"),
        Index("ix_obligation_due", "next_due"),
        Index("ix_obligation_assignee", "assignee_id"),
    )

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    type_id = Column(Integer, ForeignKey("obligation_type.id"), nullable=False)
    next_due = Column(Date, nullable=False)
    # This client's own rule for the type (上门取票 quarterly for one, monthly for another).
    rule_override = Column(String(64))
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    last_done_on = Column(Date)
    last_period = Column(String(32))
    # Retired when the type stops applying to the client (kept with its history).
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    # Set by the daily job (dashboard counts); lists colour from next_due itself.
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
        one_of("obligation_record", "kind", choices.RECORD_KIND),
    )

    id = Column(Integer, primary_key=True)
    obligation_id = Column(Integer, ForeignKey("obligation.id"), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    type_id = Column(Integer, ForeignKey("obligation_type.id"), nullable=False)
    due_date = Column(Date, nullable=False)
    period = Column(String(32), nullable=False)
    kind = Column(String(16), nullable=False)   # complete / skip
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
