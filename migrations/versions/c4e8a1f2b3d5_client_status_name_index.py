"""client: index on (status, name, id) so a page of active clients by name is an
index walk (申报进度 at 100,000 clients)

Revision ID: c4e8a1f2b3d5
Revises: b7d2e5c1a9f0
Create Date: 2026-11-30 08:40:00

"""
from alembic import op

revision = "c4e8a1f2b3d5"
down_revision = "b7d2e5c1a9f0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index("ix_client_status_name", ["status", "name", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index("ix_client_status_name")
