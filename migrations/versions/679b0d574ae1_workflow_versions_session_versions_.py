"""workflow versions, session versions, CHECK constraints on choices and amounts

- ``version`` on the documents with a workflow (journal entries, invoices,
  contracts): a step names the version the user saw (app.services.transitions);
- ``ab_user.session_version``: logout, a password change and a lockout end every
  open session and token (app.security.sessions);
- CHECK constraints, the database's last line behind the field rules: a choice
  column holds one of its codes, an amount lies in NUMERIC(12, 2)'s range (NaN and
  Infinity refused). Rows that hold a value the constraint would refuse (stored
  before the rules held on every path: a NaN fee through the API, a status "bogus")
  are set to the column's default first, and the count is printed.

Revision ID: 679b0d574ae1
Revises: a9bed01aa3df
Create Date: 2026-11-30 03:39:21.702331

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '679b0d574ae1'
down_revision = 'a9bed01aa3df'
branch_labels = None
depends_on = None

MAX_MONEY = "9999999999.99"

# table -> [(column, codes, default)], the choice lists as of this revision
CHOICES = {
    "client": [("status", ("active", "license_only", "stopped", "cancelled", "deleted"), "active"),
               ("taxpayer_type", ("small", "general"), "small"),
               ("tax_device_type", ("none", "golden_tax", "tax_control", "ukey"), "none"),
               ("billing_cycle", ("month", "quarter", "half_year", "year"), "month"),
               ("billing_state", ("billed", "free", "stopped"), "billed")],
    "journal_entry": [("direction", ("income", "expense"), "income"),
                      ("status", ("pending", "approved"), "pending")],
    "invoice": [("invoice_type", ("normal", "special"), "normal"),
                ("status", ("applied", "approved", "issued", "void"), "applied")],
    "contract": [("status", ("pending", "approved"), "pending"),
                 ("billing_cycle", ("month", "quarter", "half_year", "year"), "month")],
    "address_service": [("fee_type", ("yearly", "one_off"), "yearly")],
    "obligation_record": [("kind", ("complete", "skip"), None)],
    "obligation_type": [("applies_to", ("all_active", "tax_device", "tax_custody",
                                        "ticket_pickup", "provides_address",
                                        "onsite_bookkeeping"), "all_active")],
}
# table -> [(column, positive)]
MONEY = {"client": [("service_fee", False)], "journal_entry": [("amount", True)],
         "invoice": [("amount", True)], "contract": [("fee", False)],
         "address_service": [("fee", False)]}


def _codes(codes):
    return ", ".join(f"'{c}'" for c in codes)


def _range(column, positive):
    return f"{column} {'>' if positive else '>='} 0 AND {column} <= {MAX_MONEY}"


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    for table in ('contract', 'invoice', 'journal_entry'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    # values the constraints would refuse, stored before the rules held everywhere
    bind = op.get_bind()
    fixed = 0
    for table, columns in CHOICES.items():
        for column, codes, default in columns:
            if default is None:
                continue
            fixed += bind.execute(sa.text(
                f"UPDATE {table} SET {column} = '{default}' "
                f"WHERE {column} NOT IN ({_codes(codes)})")).rowcount or 0
    for table, columns in MONEY.items():
        for column, positive in columns:
            # a refused amount of a document is kept as the smallest one (it stays
            # visible and can be corrected); a fee becomes 0
            value = "0.01" if positive else "0"
            fixed += bind.execute(sa.text(
                f"UPDATE {table} SET {column} = {value} "
                f"WHERE NOT ({_range(column, positive)})")).rowcount or 0
    if fixed:
        print(f"679b0d574ae1: {fixed} value(s) outside their allowed codes or range reset "
              "to the column's default")

    for table in sorted(set(CHOICES) | set(MONEY)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, codes, _ in CHOICES.get(table, []):
                batch_op.create_check_constraint(f"ck_{table}_{column}",
                                                 f"{column} IN ({_codes(codes)})")
            for column, positive in MONEY.get(table, []):
                batch_op.create_check_constraint(f"ck_{table}_{column}_range",
                                                 _range(column, positive))


def downgrade():
    for table in sorted(set(CHOICES) | set(MONEY)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, codes, _ in CHOICES.get(table, []):
                batch_op.drop_constraint(f"ck_{table}_{column}", type_="check")
            for column, positive in MONEY.get(table, []):
                batch_op.drop_constraint(f"ck_{table}_{column}_range", type_="check")

    for table in ('journal_entry', 'invoice', 'contract'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')

    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
