"""fee journal entries become receipts: one record of a client's fee money

Until now a client's fee payment was an income entry of the 日记账 with a client,
and its approval moved his 下次收费日期; the ledger (77aa3e8bb62b) added 收款
receipts beside it. From here the receipt is the one record: its approval posts
one linked journal entry (``app.services.receipt_journal``). Existing data:

- every APPROVED income journal entry with a client becomes an approved receipt
  linked to it (``receipt.journal_entry_id``), of its client, date, amount, method
  and author, numbered per year of its date without gaps (after the numbers the
  year already has). The earlier migration derived today's OPEN charges from
  下次收费日期, which already counted these payments: so each historical receipt
  pays its own settled charge (kind ``historical``, due on the entry's date, paid
  in full; the entry's period in its description — a NULL period, since one
  client may have paid twice for one period) through one allocation, and the open
  charges stay exactly as they were;
- every PENDING income journal entry with a client becomes a pending receipt (same
  author: he still cannot approve it himself; its period and next payment date go
  into the note) and the pending entry is deleted — approving the receipt posts
  its journal entry. Pending entries are not in the summary tables, so nothing
  moves there; the approved entries stay where they are and are counted once.

The migration prints (and logs) the totals before (fee journal income: sum and
count, approved and pending; open charges) and after (receipts: sum and count;
open charges) — a test checks they are equal.

Revision ID: 5d1c7e9a4b20
Revises: 77aa3e8bb62b
Create Date: 2026-11-30 13:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c7e9a4b20'
down_revision = '77aa3e8bb62b'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('periodic', 'one_off', 'adjustment')"
NEW_KINDS = "kind IN ('periodic', 'one_off', 'adjustment', 'historical')"


def upgrade():
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint('ck_charge_kind', type_='check')
        batch_op.create_check_constraint('ck_charge_kind', sa.text(NEW_KINDS))
    fee_entries_to_receipts(op.get_bind())


def _tables():
    money, day, stamp = sa.Numeric(12, 2), sa.Date(), sa.DateTime()
    entry = sa.table(
        "journal_entry", sa.column("id", sa.Integer), sa.column("entry_date", day),
        sa.column("client_id", sa.Integer), sa.column("direction"),
        sa.column("method_id", sa.Integer), sa.column("amount", money),
        sa.column("period_start", day), sa.column("period_end", day),
        sa.column("next_payment_date", day), sa.column("note"), sa.column("status"),
        sa.column("created_on", stamp), sa.column("created_by_id", sa.Integer),
        sa.column("approved_at", stamp), sa.column("approved_by_id", sa.Integer))
    receipt = sa.table(
        "receipt", sa.column("id", sa.Integer), sa.column("client_id", sa.Integer),
        sa.column("amount", money), sa.column("received_on", day),
        sa.column("method_id", sa.Integer), sa.column("note"), sa.column("status"),
        sa.column("number"), sa.column("number_year", sa.Integer),
        sa.column("number_seq", sa.Integer), sa.column("matched", money),
        sa.column("refunded", money), sa.column("journal_entry_id", sa.Integer),
        sa.column("version", sa.Integer), sa.column("created_on", stamp),
        sa.column("created_by_id", sa.Integer), sa.column("approved_at", stamp),
        sa.column("approved_by_id", sa.Integer))
    charge = sa.table(
        "charge", sa.column("id", sa.Integer), sa.column("client_id", sa.Integer),
        sa.column("kind"), sa.column("period"), sa.column("description"),
        sa.column("amount", money), sa.column("due_date", day), sa.column("state"),
        sa.column("paid", money), sa.column("written_off", money),
        sa.column("created_on", stamp))
    allocation = sa.table(
        "allocation", sa.column("receipt_id", sa.Integer), sa.column("charge_id", sa.Integer),
        sa.column("amount", money), sa.column("created_on", stamp))
    counter = sa.table("receipt_counter", sa.column("year", sa.Integer),
                       sa.column("last", sa.Integer))
    return entry, receipt, charge, allocation, counter


def _period(row) -> str:
    start = row.period_start.isoformat() if row.period_start else ""
    end = row.period_end.isoformat() if row.period_end else ""
    return f"{start} ~ {end}" if (start or end) else ""


def fee_entries_to_receipts(conn) -> dict:
    """Turn the fee journal entries into receipts (see the module's docstring);
    returns (and prints) the totals before and after."""
    import datetime
    import logging
    from decimal import Decimal

    entry, receipt, charge, allocation, counter = _tables()
    zero = Decimal("0.00")

    def money(value) -> Decimal:
        return Decimal(str(value if value is not None else 0)).quantize(Decimal("0.01"))

    def open_charges():
        row = conn.execute(sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(charge.c.amount - charge.c.paid
                                                          - charge.c.written_off), 0))
            .where(charge.c.state == "open")).one()
        return int(row[0]), money(row[1])

    def receipts(condition):
        row = conn.execute(sa.select(sa.func.count(),
                                     sa.func.coalesce(sa.func.sum(receipt.c.amount), 0))
                           .where(condition)).one()
        return int(row[0]), money(row[1])

    fee = sa.and_(entry.c.direction == "income", entry.c.client_id.isnot(None))
    rows = conn.execute(sa.select(entry).where(fee)
                        .order_by(entry.c.entry_date, entry.c.id)).all()
    approved = [r for r in rows if r.status == "approved"]
    pending = [r for r in rows if r.status != "approved"]
    report = {
        "approved": len(approved), "approved_sum": sum((money(r.amount) for r in approved), zero),
        "pending": len(pending), "pending_sum": sum((money(r.amount) for r in pending), zero),
    }
    report["open_before"], report["open_before_sum"] = open_charges()
    pending_before = receipts(receipt.c.status == "pending")
    now = datetime.datetime.now().replace(microsecond=0)

    last = {row.year: row.last for row in conn.execute(sa.select(counter.c.year,
                                                                 counter.c.last))}
    used = {}
    for row in approved:
        year = row.entry_date.year
        seq = used.get(year, last.get(year, 0)) + 1
        used[year] = seq
        amount = money(row.amount)
        receipt_id = conn.execute(receipt.insert().values(
            client_id=row.client_id, amount=amount, received_on=row.entry_date,
            method_id=row.method_id, note=row.note, status="approved",
            number=f"{year}-{seq:06d}", number_year=year, number_seq=seq, matched=amount,
            refunded=0, journal_entry_id=row.id, version=1,
            created_on=row.created_on or now, created_by_id=row.created_by_id,
            approved_at=row.approved_at or row.created_on or now,
            approved_by_id=row.approved_by_id).returning(receipt.c.id)).scalar_one()
        period = _period(row)
        charge_id = conn.execute(charge.insert().values(
            client_id=row.client_id, kind="historical", period=None,
            description=("历史收费 " + period).strip(), amount=amount,
            due_date=row.entry_date, state="paid", paid=amount, written_off=0,
            created_on=now).returning(charge.c.id)).scalar_one()
        conn.execute(allocation.insert().values(receipt_id=receipt_id, charge_id=charge_id,
                                                amount=amount, created_on=now))
    for year, seq in used.items():
        if year in last:
            conn.execute(counter.update().where(counter.c.year == year).values(last=seq))
        else:
            conn.execute(counter.insert().values(year=year, last=seq))

    for row in pending:
        extra = []
        period = _period(row)
        if period:
            extra.append("服务期间 " + period)
        if row.next_payment_date:
            extra.append("下次收费 " + row.next_payment_date.isoformat())
        note = "；".join([t for t in [row.note or ""] if t] + extra) or None
        conn.execute(receipt.insert().values(
            client_id=row.client_id, amount=money(row.amount), received_on=row.entry_date,
            method_id=row.method_id, note=note, status="pending", matched=0, refunded=0,
            version=1, created_on=row.created_on or now, created_by_id=row.created_by_id))
    if pending:
        conn.execute(entry.delete().where(entry.c.id.in_([r.id for r in pending])))

    report["receipts"], report["receipts_sum"] = receipts(
        receipt.c.journal_entry_id.isnot(None))  # none was linked before
    count, total = receipts(receipt.c.status == "pending")
    report["pending_receipts"] = count - pending_before[0]
    report["pending_receipts_sum"] = total - pending_before[1]
    report["open_after"], report["open_after_sum"] = open_charges()
    message = (
        "fee journal entries to receipts: before %(approved)d approved fee journal "
        "entries (%(approved_sum)s), %(pending)d pending (%(pending_sum)s), "
        "%(open_before)d open charges (%(open_before_sum)s); after %(receipts)d approved "
        "receipts (%(receipts_sum)s), %(pending_receipts)d pending receipts "
        "(%(pending_receipts_sum)s), %(open_after)d open charges (%(open_after_sum)s)"
        % report)
    logging.getLogger("alembic.runtime.migration").info(message)
    print(message)
    return report


def downgrade():
    conn = op.get_bind()
    historical = conn.execute(sa.text(
        "SELECT count(*) FROM charge WHERE kind = 'historical'")).scalar()
    if historical:
        raise RuntimeError(
            "5d1c7e9a4b20 cannot be downgraded: %d receipts were made from fee journal "
            "entries (and pending entries were replaced by receipts); going back would "
            "lose them. Restore the backup taken before the upgrade instead." % historical)
    with op.batch_alter_table('charge', schema=None) as batch_op:
        batch_op.drop_constraint('ck_charge_kind', type_='check')
        batch_op.create_check_constraint('ck_charge_kind', sa.text(OLD_KINDS))
