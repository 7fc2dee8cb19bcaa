"""通知 (seed 002): in-app notices for staff and client users, kept in a table; the
bell menu shows the unread ones. A notice holds a message key and its values, put
into words in the reader's language when shown."""

from flask_appbuilder import Model
from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text

from ..clock import local_now


class Notice(Model):
    __tablename__ = "notice"
    __table_args__ = (Index("ix_notice_user_unread", "user_id", "read_at", "id"),)

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    key = Column(String(32), nullable=False)
    params = Column(Text)                 # JSON: the message's values
    url = Column(String(255))
    created_on = Column(DateTime, nullable=False, default=local_now)
    read_at = Column(DateTime)
    emailed_at = Column(DateTime)
