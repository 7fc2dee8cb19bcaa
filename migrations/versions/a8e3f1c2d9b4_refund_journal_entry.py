"""a refund posts its 日记账 expense: refund.journal_entry_id

A receipt's approval posts one income entry (5d1c7e9a4b20); the money a 退款 pays
back leaves the cash book the same way: one approved expense entry of the
receipt's client (category 代理记账费, the refund's date and amount), linked from
the refund, held like the receipt's (not editable on the journal). Refunds made
before this revision get theirs here; the totals are printed.

Revision ID: a8e3f1c2d9b4
Revises: 5d1c7e9a4b20
Create Date: 2026-11-30 14:40:00.000000

"""
import datetime
import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8e3f1c2d9b4'
down_revision = '5d1c7e9a4b20'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('journal_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_refund_journal_entry_id_journal_entry',
                                    'journal_entry', ['journal_entry_id'], ['id'])
    post_missing_entries(op.get_bind())


def post_missing_entries(conn) -> str:
    refund = sa.table("refund", sa.column("id", sa.Integer),
                      sa.column("receipt_id", sa.Integer), sa.column("client_id", sa.Integer),
                      sa.column("amount", sa.Numeric(12, 2)), sa.column("refunded_on", sa.Date),
                      sa.column("reason"), sa.column("created_by_id", sa.Integer),
                      sa.column("journal_entry_id", sa.Integer))
    receipt = sa.table("receipt", sa.column("id", sa.Integer),
                       sa.column("method_id", sa.Integer), sa.column("number"))
    entry = sa.table("journal_entry", sa.column("id", sa.Integer),
                     sa.column("entry_date", sa.Date), sa.column("client_id", sa.Integer),
                     sa.column("direction"), sa.column("category_id", sa.Integer),
                     sa.column("method_id", sa.Integer), sa.column("amount", sa.Numeric(12, 2)),
                     sa.column("note"), sa.column("status"), sa.column("version", sa.Integer),
                     sa.column("created_on", sa.DateTime), sa.column("created_by_id", sa.Integer),
                     sa.column("approved_by_id", sa.Integer),
                     sa.column("approved_at", sa.DateTime))
    item = sa.table("dict_item", sa.column("id", sa.Integer), sa.column("kind"),
                    sa.column("name"), sa.column("active"))
    category = conn.execute(sa.select(item.c.id).where(
        item.c.kind == "journal_category", item.c.name == "代理记账费")
        .order_by(item.c.active.desc(), item.c.id).limit(1)).scalar()
    rows = conn.execute(
        sa.select(refund.c.id, refund.c.client_id, refund.c.amount, refund.c.refunded_on,
                  refund.c.reason, refund.c.created_by_id, receipt.c.method_id,
                  receipt.c.number)
        .join(receipt, receipt.c.id == refund.c.receipt_id)
        .where(refund.c.journal_entry_id.is_(None)).order_by(refund.c.id)).all()
    now = datetime.datetime.now()
    total = 0
    for row in rows:
        entry_id = conn.execute(sa.insert(entry).values(
            entry_date=row.refunded_on, client_id=row.client_id, direction="expense",
            category_id=category, method_id=row.method_id, amount=row.amount,
            note=f"退款（收据编号 {row.number or ''}）：{row.reason or ''}", status="approved",
            version=1, created_on=now, created_by_id=row.created_by_id,
            approved_by_id=row.created_by_id, approved_at=now)
            .returning(entry.c.id)).scalar_one()
        conn.execute(sa.update(refund).where(refund.c.id == row.id)
                     .values(journal_entry_id=entry_id))
        total += row.amount
    report = (f"refunds: {len(rows)} journal expense entries posted for earlier refunds "
              f"({total:.2f})")
    log.info(report)
    return report


def downgrade():
    conn = op.get_bind()
    posted = conn.execute(sa.text(
        "SELECT journal_entry_id FROM refund WHERE journal_entry_id IS NOT NULL")).scalars().all()
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_constraint('fk_refund_journal_entry_id_journal_entry', type_='foreignkey')
        batch_op.drop_column('journal_entry_id')
    for entry_id in posted:  # the entries this revision's refunds posted
        conn.execute(sa.text("DELETE FROM journal_entry WHERE id = :id"), {"id": entry_id})
