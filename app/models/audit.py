"""操作日志: one row per change (insert/update/delete) and per security event."""

from flask_appbuilder import Model

from ..clock import local_now
from sqlalchemy import Column, DateTime, Index, Integer, String, Text

from ..domain import choices


class AuditLog(Model):
    __tablename__ = "audit_log"
    __choices__ = {"action": choices.AUDIT_ACTIONS, "table_name": choices.AUDIT_TABLES}

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=local_now)
    user_id = Column(Integer)          # no FK: the log outlives users
    username = Column(String(128))
    ip = Column(String(64))
    # insert, update, delete, login, login_failed, locked, unlock, export, ...
    action = Column(String(32), nullable=False)
    table_name = Column(String(64))
    row_id = Column(String(64))
    # JSON: {"field": [old, new], ...} for changes; free details for events
    changes = Column(Text)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_table_row", "table_name", "row_id"),
        Index("ix_audit_log_user", "user_id"),
    )

    def __repr__(self) -> str:
        return f"{self.action} {self.table_name}#{self.row_id}"
