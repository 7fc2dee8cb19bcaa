"""client portal (seed 002): client users, the service catalogue, service requests

- portal_account: a client user's portal settings (must change the initial password);
- portal_membership: which clients a client user sees (several for a boss);
- service_item: 服务项目 (price, expected days, hours to accept);
- notice: in-app notices of staff and client users (the bell), e-mailed when SMTP is set;
- service_rating (once per request), complaint (to the Managers, to closure);
- service_attachment: files of a request (stored under instance/ by a random name);
- service_request: 业务请求 with its workflow state and version; service_note: progress
  notes, shown to the client or internal.

Revision ID: 3c1d9e7f2a10
Revises: f3a9c2d4b1e7
Create Date: 2026-11-30 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "3c1d9e7f2a10"
down_revision = "f3a9c2d4b1e7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "portal_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "portal_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "client_id", name="uq_portal_membership"),
    )
    op.create_index("ix_portal_membership_client", "portal_membership", ["client_id"])
    op.create_table(
        "service_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("expected_days", sa.Integer(), server_default="3", nullable=False),
        sa.Column("accept_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("price >= 0 AND price <= 9999999999.99",
                           name="ck_service_item_price_range"),
        sa.CheckConstraint("expected_days >= 0", name="ck_service_item_days"),
        sa.CheckConstraint("accept_hours >= 1", name="ck_service_item_hours"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("urgency", sa.String(length=8), server_default="normal", nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="new", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'assigned', 'in_progress', 'waiting', 'done', "
                           "'cancelled')", name="ck_service_request_status"),
        sa.CheckConstraint("urgency IN ('normal', 'urgent')", name="ck_service_request_urgency"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["service_item.id"]),
        sa.ForeignKeyConstraint(["assignee_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_service_request_client", "service_request", ["client_id", "id"])
    op.create_index("ix_service_request_assignee", "service_request", ["assignee_id", "status"])
    op.create_index("ix_service_request_status", "service_request", ["status", "assigned_at"])
    op.create_table(
        "service_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["author_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_service_note_request", "service_note", ["request_id", "id"])
    op.create_table(
        "service_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    op.create_index("ix_service_attachment_request", "service_attachment", ["request_id"])
    op.create_table(
        "service_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("overall", sa.String(length=8), nullable=False),
        sa.Column("attitude", sa.Integer(), nullable=False),
        sa.Column("speed", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.CheckConstraint("overall IN ('good', 'neutral', 'bad')",
                           name="ck_service_rating_overall"),
        sa.CheckConstraint("attitude BETWEEN 1 AND 5", name="ck_service_rating_attitude"),
        sa.CheckConstraint("speed BETWEEN 1 AND 5", name="ck_service_rating_speed"),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
    )
    op.create_index("ix_service_rating_staff", "service_rating", ["staff_id", "created_on"])
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=255), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'handling', 'closed')",
                           name="ck_complaint_status"),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["ab_user.id"]),
        sa.ForeignKeyConstraint(["handled_by_id"], ["ab_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_complaint_client", "complaint", ["client_id"])
    op.create_index("ix_complaint_staff", "complaint", ["staff_id", "created_on"])
    op.create_index("ix_complaint_status", "complaint", ["status"])
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=255), nullable=True),
        sa.Column("created_on", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["ab_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notice_user_unread", "notice", ["user_id", "read_at", "id"])


def downgrade():
    op.drop_index("ix_notice_user_unread", table_name="notice")
    op.drop_table("notice")
    for name in ("ix_complaint_status", "ix_complaint_staff", "ix_complaint_client"):
        op.drop_index(name, table_name="complaint")
    op.drop_table("complaint")
    op.drop_index("ix_service_rating_staff", table_name="service_rating")
    op.drop_table("service_rating")
    op.drop_index("ix_service_attachment_request", table_name="service_attachment")
    op.drop_table("service_attachment")
    op.drop_index("ix_service_note_request", table_name="service_note")
    op.drop_table("service_note")
    for name in ("ix_service_request_status", "ix_service_request_assignee",
                 "ix_service_request_client"):
        op.drop_index(name, table_name="service_request")
    op.drop_table("service_request")
    op.drop_table("service_item")
    op.drop_index("ix_portal_membership_client", table_name="portal_membership")
    op.drop_table("portal_membership")
    op.drop_table("portal_account")
