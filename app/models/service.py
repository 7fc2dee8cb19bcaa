"""客户服务 (seed 002): the catalogue of 服务项目, clients' service requests (业务请求)
and their progress notes."""

from flask_appbuilder import Model
from sqlalchemy import (Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer,
                        Numeric, String, Text)
from sqlalchemy.orm import relationship

from ..clock import local_now
from ..domain import choices
from .checks import money, one_of


class ServiceItem(Model):
    """服务项目: what a client may ask for, with its price, the days it takes and the
    hours a dispatched request may wait to be accepted before it returns to the pool."""

    __tablename__ = "service_item"
    __table_args__ = (money("service_item", "price"),
                      CheckConstraint("expected_days >= 0", name="ck_service_item_days"),
                      CheckConstraint("accept_hours >= 1", name="ck_service_item_hours"))

    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    price = Column(Numeric(12, 2), nullable=False, default=0, server_default="0")
    expected_days = Column(Integer, nullable=False, default=3, server_default="3")
    accept_hours = Column(Integer, nullable=False, default=24, server_default="24")
    active = Column(Boolean, nullable=False, default=True, server_default="1")
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")

    def __repr__(self) -> str:
        return self.name


class ServiceRequest(Model):
    """业务请求: a client's request (opened in the portal, or by staff for him), its
    states in ``app.domain.workflows.SERVICE_REQUEST``."""

    __tablename__ = "service_request"
    __choices__ = {"status": choices.SERVICE_REQUEST_STATUS, "urgency": choices.URGENCY}
    __table_args__ = (one_of("service_request", "status", choices.SERVICE_REQUEST_STATUS),
                      one_of("service_request", "urgency", choices.URGENCY),
                      Index("ix_service_request_client", "client_id", "id"),
                      Index("ix_service_request_assignee", "assignee_id", "status"),
                      Index("ix_service_request_status", "status", "assigned_at"))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    item_id = Column(Integer, ForeignKey("service_item.id"), nullable=False)
    title = Column(String(200), nullable=False)
    description = Column(Text)
    urgency = Column(String(8), nullable=False, default="normal", server_default="normal")
    assignee_id = Column(Integer, ForeignKey("ab_user.id"))
    status = Column(String(16), nullable=False, default="new", server_default="new")
    version = Column(Integer, nullable=False, default=1, server_default="1")
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)
    assigned_at = Column(DateTime)
    accepted_at = Column(DateTime)
    finished_at = Column(DateTime)          # 办结: handed to the client to confirm
    closed_at = Column(DateTime)            # 已完成 or 已取消

    client = relationship("Client")
    item = relationship("ServiceItem")
    assignee = relationship("Staff", foreign_keys=[assignee_id])
    created_by = relationship("Staff", foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return self.title


class ServiceNote(Model):
    """A progress note on a request: shown to the client (``public``) or internal."""

    __tablename__ = "service_note"
    __table_args__ = (Index("ix_service_note_request", "request_id", "id"),)

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("service_request.id", ondelete="CASCADE"),
                        nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)  # the scope's key
    text = Column(Text, nullable=False)
    public = Column(Boolean, nullable=False, default=True, server_default="1")
    author_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)

    author = relationship("Staff", foreign_keys=[author_id])


class ServiceAttachment(Model):
    """A file of a request, stored under instance/attachments/ by an unguessable name
    (``stored_name``: random, never from the upload); ``name`` is only shown."""

    __tablename__ = "service_attachment"
    __table_args__ = (Index("ix_service_attachment_request", "request_id"),)

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("service_request.id"), nullable=False)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)  # the scope's key
    name = Column(String(200), nullable=False)
    stored_name = Column(String(64), nullable=False, unique=True)
    kind = Column(String(8), nullable=False)
    size = Column(Integer, nullable=False)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)


class ServiceRating(Model):
    """评价: the client's rating of a completed request, once (unique per request)."""

    __tablename__ = "service_rating"
    __choices__ = {"overall": choices.RATING}
    __table_args__ = (one_of("service_rating", "overall", choices.RATING),
                      CheckConstraint("attitude BETWEEN 1 AND 5", name="ck_service_rating_attitude"),
                      CheckConstraint("speed BETWEEN 1 AND 5", name="ck_service_rating_speed"),
                      Index("ix_service_rating_staff", "staff_id", "created_on"))

    id = Column(Integer, primary_key=True)
    request_id = Column(Integer, ForeignKey("service_request.id"), nullable=False, unique=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    staff_id = Column(Integer, ForeignKey("ab_user.id"))     # who handled it
    overall = Column(String(8), nullable=False)
    attitude = Column(Integer, nullable=False)
    speed = Column(Integer, nullable=False)
    comment = Column(Text)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)

    request = relationship("ServiceRequest")
    client = relationship("Client")
    staff = relationship("Staff", foreign_keys=[staff_id])


class Complaint(Model):
    """投诉: about a request or a staff member, to the Managers, tracked to closure
    (``app.domain.workflows.COMPLAINT``)."""

    __tablename__ = "complaint"
    __choices__ = {"status": choices.COMPLAINT_STATUS}
    __table_args__ = (one_of("complaint", "status", choices.COMPLAINT_STATUS),
                      Index("ix_complaint_client", "client_id"),
                      Index("ix_complaint_staff", "staff_id", "created_on"),
                      Index("ix_complaint_status", "status"))

    id = Column(Integer, primary_key=True)
    client_id = Column(Integer, ForeignKey("client.id"), nullable=False)
    request_id = Column(Integer, ForeignKey("service_request.id"))
    staff_id = Column(Integer, ForeignKey("ab_user.id"))     # the staff member complained of
    text = Column(Text, nullable=False)
    status = Column(String(16), nullable=False, default="open", server_default="open")
    version = Column(Integer, nullable=False, default=1, server_default="1")
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_on = Column(DateTime, nullable=False, default=local_now)
    handled_by_id = Column(Integer, ForeignKey("ab_user.id"))
    resolution = Column(String(255))
    closed_at = Column(DateTime)

    client = relationship("Client")
    request = relationship("ServiceRequest")
    staff = relationship("Staff", foreign_keys=[staff_id])
    handled_by = relationship("Staff", foreign_keys=[handled_by_id])
    created_by = relationship("Staff", foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return (self.text or "")[:30]
