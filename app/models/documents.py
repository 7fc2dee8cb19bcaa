"""What every document with a workflow carries (journal entries, invoices,
contracts …; ``app.domain.workflows``): its author and creation time, who approved
it and when, and the version a page shows of it (a step names the version the user
saw). Each document declares its own ``status`` (its first state differs)."""
from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declared_attr, relationship

from ..clock import local_now


class Document:
    """Columns and relations of a document with a workflow (a mixin)."""

    version = Column(Integer, nullable=False, default=1, server_default="1")
    created_on = Column(DateTime, nullable=False, default=local_now)
    approved_at = Column(DateTime)

    @declared_attr
    def created_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"))

    @declared_attr
    def approved_by_id(cls):
        return Column(Integer, ForeignKey("ab_user.id"))

    @declared_attr
    def created_by(cls):
        return relationship("Staff", foreign_keys=[cls.created_by_id])

    @declared_attr
    def approved_by(cls):
        return relationship("Staff", foreign_keys=[cls.approved_by_id])
