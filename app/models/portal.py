"""客户门户 (seed 002): client users — FAB users holding the ClientUser role — and
the clients each may see (one, or several for a boss with several companies)."""

from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import relationship

from ..clock import local_now


class PortalAccount(Model):
    """A client user's portal settings: whether he must change the initial password
    staff gave him before he sees anything."""

    __tablename__ = "portal_account"

    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    must_change_password = Column(Boolean, nullable=False, default=False,
                                  server_default="0")
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)


class PortalMembership(Model):
    """A client user sees this client in the portal (and nothing of any other)."""

    __tablename__ = "portal_membership"
    __table_args__ = (UniqueConstraint("user_id", "client_id", name="uq_portal_membership"),
                      Index("ix_portal_membership_client", "client_id"))

    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    created_on = Column(DateTime, nullable=False, default=local_now)

    user = relationship("Staff", foreign_keys=[user_id])
    client = relationship("Client")
