"""ledger: adjustments approved (the ADJUSTMENT workflow on charge.state), hand matching

- charge: ``version``, ``approved_by_id``, ``approved_at`` (the workflow's version
  and stamps); ``state`` may also be ``pending`` (an adjustment waiting for approval)
  or ``rejected``. Existing charges keep their state (they all count already).
- receipt.match_by_hand: Finance matched it by hand (手工核销); automatic matching
  leaves what is left of it alone.
- allocation.manual: this match was made by hand.

No data changes beyond the new columns' defaults. The upgrade then prints (and logs)
the reconciliation the ledger migration's totals lacked: the old "periods × fee"
= the ledger's open charges past due + an itemised line per reason (不计：合同到期后
的期数 …) — a report only (``app.services.ledger.reconciliation``).

Revision ID: b41e6d2c9a73
Revises: a8e3f1c2d9b4
Create Date: 2026-11-30 13:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b41e6d2c9a73'
down_revision = 'a8e3f1c2d9b4'
branch_labels = None
depends_on = None

OLD_STATES = "state IN ('open', 'paid', 'written_off')"
NEW_STATES = "state IN ('open', 'paid', 'written_off', 'pending', 'rejected')"


def upgrade():
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.add_column(sa.Column('approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_charge_approved_by_id_ab_user', 'ab_user',
                                    ['approved_by_id'], ['id'])
        batch_op.drop_constraint('ck_charge_state', type_='check')
        batch_op.create_check_constraint('ck_charge_state', NEW_STATES)
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_by_hand', sa.Boolean(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manual', sa.Boolean(), server_default='0',
                                      nullable=False))
    report_reconciliation(op.get_bind())


def report_reconciliation(conn, today=None) -> None:
    """Print and log the itemised difference (reads, never writes)."""
    import datetime
    import logging

    from app.services.ledger import reconciliation, reconciliation_report

    if today is None:
        try:
            from app import clock

            today = clock.today()
        except Exception:  # outside an app
            today = datetime.date.today()
    for line in ["receivables reconciliation:"] + reconciliation_report(
            reconciliation(conn, today)):
        logging.getLogger("alembic.runtime.migration").info(line)
        print(line)


def downgrade():
    # pending and rejected adjustments never counted: they go with the workflow
    op.execute("DELETE FROM charge WHERE state IN ('pending', 'rejected')")
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_column('manual')
    with op.batch_alter_table('receipt', schema=None) as batch_op:
        batch_op.drop_column('match_by_hand')
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint('ck_charge_state', type_='check')
        batch_op.create_check_constraint('ck_charge_state', OLD_STATES)
        batch_op.drop_constraint('fk_charge_approved_by_id_ab_user', type_='foreignkey')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by_id')
        batch_op.drop_column('version')
