"""client portal (seed 002): client users' accounts and their memberships

- portal_account: a client user's portal settings (must change the initial password);
- portal_membership: which clients a client user sees (several for a boss).

Revision ID: 3c1d9e7f2a10
Revises: e7adfabbc262
Create Date: 2026-11-30 10:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "3c1d9e7f2a10"
down_revision = "e7adfabbc262"
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


def downgrade():
    op.drop_index("ix_portal_membership_client", table_name="portal_membership")
    op.drop_table("portal_membership")
    op.drop_table("portal_account")
