"""What each table's values must be, beyond what the column types already say.

Every column gets a rule from its type (``app.data.integrity``: a String(n) is text
of at most n characters without control characters, a Numeric(12, 2) an amount, a
Date a day from 1900 to 2100, a column of ``__choices__`` one of its codes, an
Integer a 64-bit number …). The declarations here replace that rule where a column
means more (a credit code, a phone, an amount that must be positive, a croniter
rule) and add the checks across columns and the unique values. Keyed by table name;
pure data, no Flask.
"""
from __future__ import annotations

from .choices import N_
from .validation import (BlankWhen, ContactValue, CreditCode, CronRule, Integer, InvoiceNumber,
                         Money, NotBefore, Phone, Reference, RequiredWhen, Table, Text)

STAFF = Reference(table="ab_user", active_only=True)
#: the contact columns of a lead and of a contact person, stored normalised
CONTACT_RULES = {"mobile": ContactValue(kind="mobile"), "wechat": ContactValue(kind="wechat"),
                 "qq": ContactValue(kind="qq"), "landline": ContactValue(kind="landline"),
                 "email": ContactValue(kind="email")}

TABLES: dict[str, Table] = {
    "client": Table(
        rules={
            "name": Text(max_length=200, required=True),
            "credit_code": CreditCode(),
            "legal_rep_phone": Phone(),
            "contact_phone": Phone(),
            "service_fee": Money(allow_zero=True),
            "bookkeeper_id": STAFF,
            "field_agent_id": STAFF,
        },
        checks=(NotBefore("contract_end", "contract_start",
                          N_("The contract end date is before its start date.")),),
        unique=("credit_code",),
        messages={"credit_code": {"unique": N_(
            "Another client already has this unified social credit code.")}},
    ),
    "journal_entry": Table(
        rules={"amount": Money(allow_zero=False, required=True)},
        checks=(NotBefore("period_end", "period_start",
                          N_("The end of the period is before its start.")),
                # one record of a client's fee money: the receipt (收款), whose 审核
                # posts its own journal entry (app.services.receipt_journal)
                BlankWhen("client_id", "direction", "income",
                          N_("A client's payment is entered under Receipts, not in the "
                             "journal: its approval adds it to the journal.")),),
    ),
    # 应收: every amount positive (an adjustment that lowers what is owed is a write-off
    # or a refund, not a negative charge); the matched, paid and refunded columns are
    # the ledger's own, never typed
    "charge": Table(rules={"amount": Money(allow_zero=False, required=True)}),
    "receipt": Table(rules={"amount": Money(allow_zero=False, required=True)}),
    "refund": Table(rules={"amount": Money(allow_zero=False, required=True),
                           "reason": Text(max_length=255, required=True)}),
    "invoice": Table(
        rules={
            "title": Text(max_length=200, required=True),
            "tax_id": CreditCode(required=True),
            "amount": Money(allow_zero=False, required=True),
            "invoice_number": InvoiceNumber(),
        },
        unique=("invoice_number",),
        messages={"invoice_number": {"unique": N_(
            "This invoice number is already registered: check the number.")}},
    ),
    "contract": Table(
        rules={"fee": Money(allow_zero=True)},
        checks=(NotBefore("end_date", "start_date",
                          N_("The end date is before the start date.")),),
    ),
    "address_service": Table(
        rules={"address": Text(max_length=255, required=True),
               "fee": Money(allow_zero=True)},
        checks=(NotBefore("expiry_date", "start_date",
                          N_("The expiry date is before the start date.")),),
    ),
    "client_credential": Table(rules={"account": Text(max_length=128, required=True)}),
    "todo": Table(rules={"title": Text(max_length=200, required=True),
                         "assignee_id": STAFF}),
    "obligation": Table(rules={"rule_override": CronRule(), "assignee_id": STAFF}),
    "obligation_type": Table(
        rules={"rule": CronRule(), "warn_days": Integer(minimum=0, maximum=366),
               "sort_order": Integer(minimum=0, maximum=100_000),
               "annual_month": Integer(minimum=1, maximum=12),
               "annual_day": Integer(minimum=1, maximum=31)},
        checks=(RequiredWhen("rule", "category", "task"),),
        unique=("name",)),
    "obligation_record": Table(rules={"tax_amount": Money(allow_zero=True)}),
    "client_tax_kind": Table(unique=(("client_id", "type_id"),)),
    "calendar_day": Table(unique=("day",),
                          messages={"day": {"unique": N_(
                              "This day is already in the calendar.")}}),
    "deadline_override": Table(
        rules={"year": Integer(minimum=1900, maximum=2100),
               "month": Integer(minimum=1, maximum=12)},
        unique=(("year", "month"),),
        messages={"month": {"unique": N_(
            "This month already has an announced deadline.")}}),
    "scheduled_job": Table(rules={"rule": CronRule(required=True)}),
    "client_group": Table(unique=("name",)),
    "dict_item": Table(unique=(("kind", "name"),),
                       rules={"sort_order": Integer(minimum=0, maximum=100_000)}),
    "ab_user": Table(rules={"phone": Phone()}),
    # 销售
    "business_type": Table(rules={"name": Text(max_length=64, required=True),
                                  "unit_price": Money(allow_zero=True),
                                  "sort_order": Integer(minimum=0, maximum=100_000)},
                           unique=("name",)),
    "lead": Table(rules={"name": Text(max_length=200, required=True),
                         "credit_code": CreditCode(), "owner_id": STAFF,
                         "need_quote": Money(allow_zero=True), **CONTACT_RULES}),
    "contact": Table(rules={"name": Text(max_length=64, required=True), **CONTACT_RULES}),
    "follow_up": Table(rules={"cadence_day": Integer(minimum=1, maximum=366)}),
    "sales_contract": Table(
        rules={"invoice_tax_id": CreditCode(), "total": Money(allow_zero=True)},
        checks=(NotBefore("end_date", "start_date",
                          N_("The end date is before the start date.")),
                NotBefore("first_fee_date", "start_date",
                          N_("The first fee date is before the start of the contract.")))),
    "sales_contract_line": Table(rules={"unit_price": Money(allow_zero=True),
                                        "discount": Money(allow_zero=True),
                                        "quantity": Integer(minimum=1, maximum=10_000)}),
    # 客户服务 (seed 002)
    "service_item": Table(rules={"name": Text(max_length=64, required=True),
                                 "price": Money(allow_zero=True),
                                 "expected_days": Integer(minimum=0, maximum=366),
                                 "accept_hours": Integer(minimum=1, maximum=24 * 30),
                                 "sort_order": Integer(minimum=0, maximum=100_000)},
                          unique=("name",)),
    "service_request": Table(rules={"title": Text(max_length=200, required=True),
                                    "description": Text(max_length=4000),
                                    "assignee_id": STAFF}),
    "service_note": Table(rules={"text": Text(max_length=4000, required=True)}),
    "service_rating": Table(rules={"attitude": Integer(minimum=1, maximum=5, required=True),
                                   "speed": Integer(minimum=1, maximum=5, required=True),
                                   "comment": Text(max_length=2000)},
                            unique=("request_id",),
                            messages={"request_id": {"unique": N_(
                                "This request has been rated already.")}}),
    "complaint": Table(rules={"text": Text(max_length=4000, required=True)}),
}
