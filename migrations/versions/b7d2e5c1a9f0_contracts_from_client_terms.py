"""one source of truth for the fee: every client with a term on his row and no
contract gets an approved contract carrying that term, fee and billing cycle

Revision ID: b7d2e5c1a9f0
Revises: 25afd1c42972
Create Date: 2026-11-30 08:00:00

"""
from alembic import op

revision = "b7d2e5c1a9f0"
down_revision = "25afd1c42972"
branch_labels = None
depends_on = None

NOTE = "由客户资料迁移（合同起止、服务费、收费周期）"


def upgrade():
    op.execute(f"""
        INSERT INTO contract (client_id, number, start_date, end_date, fee, billing_cycle,
                              status, note, version, created_on, approved_at)
        SELECT c.id, NULL, c.contract_start, c.contract_end, c.service_fee, c.billing_cycle,
               'approved', '{NOTE}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM client c
        WHERE c.contract_start IS NOT NULL AND c.contract_end IS NOT NULL
          AND c.contract_end >= c.contract_start
          AND NOT EXISTS (SELECT 1 FROM contract k WHERE k.client_id = c.id)
    """)


def downgrade():
    op.execute(f"DELETE FROM contract WHERE note = '{NOTE}' AND approved_by_id IS NULL "
               "AND version = 1 AND NOT EXISTS (SELECT 1 FROM contract_term t "
               "WHERE t.contract_id = contract.id)")
