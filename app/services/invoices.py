"""开票登记: the invoice register's state changes and its monthly totals.

States run one way: 申请 (``applied``) → 已审核 (``approved``) → 已开票 (``issued``,
with a number unique in the whole register) → 已作废 (``void``). Each step takes
rows the caller already loaded through the scope, checks the state it saw, and
changes it with a compare-and-set (``UPDATE … WHERE id = :id AND status =
:expected``): a double click, or a second clerk at the same moment, finds the row
already moved on and changes nothing. Those set-based UPDATEs bypass the ORM, so
each writes its own audit row (old → new status); one commit per call.
"""
from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import dataclass

from sqlalchemy import Integer, cast, extract, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..extensions import db
from ..models import Invoice
from . import settings
from .stats import cents_to_decimal, sum_cents

APPLIED = "applied"
APPROVED = "approved"
ISSUED = "issued"
VOID = "void"
#: Setting key: "1" lets whoever requested an invoice approve it (one-person firms)
ALLOW_SELF_APPROVAL = "allow_self_approval"
#: digits and letters (数电票 20 digits, paper invoices 8; some carry a letter prefix)
NUMBER_PATTERN = re.compile(r"^[0-9A-Za-z-]{1,32}$")
REASON_MAX = 255


class InvoiceError(ValueError):
    """A state change that cannot be made; ``reason`` says why:

    ``state`` (the invoice is not in the state this step starts from),
    ``number_required``, ``number_format``, ``number_taken``, ``reason_required``,
    ``reason_length``, ``own_request`` (the creator may not approve it),
    ``locked`` (approved or later: no edit, no delete).
    """

    def __init__(self, reason: str, status: str | None = None):
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass
class Result:
    """What a multi-row step did: ``changed`` rows, ``skipped`` rows not in the
    starting state (already done: a double click, someone else first), ``refused``
    rows the user may not change (his own request)."""

    changed: int = 0
    skipped: int = 0
    refused: int = 0


def _stamp(now: datetime.datetime) -> datetime.datetime:
    """Timestamps are stored naive, in the firm's local time, to the second."""
    return now.replace(tzinfo=None, microsecond=0)


def _plain(value):
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _move(invoice: Invoice, expected: str, values: dict) -> bool:
    """``UPDATE invoice SET values WHERE id = :id AND status = :expected``, audited
    when it changed the row. False when the row was no longer in ``expected``.

    :raises IntegrityError: a value breaks a constraint (a taken invoice number).
    """
    old = {key: getattr(invoice, key) for key in values}
    old["status"] = expected
    result = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.status == expected)
        .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    audit.record(db.session.connection(), "update", Invoice.__tablename__, invoice.id,
                 changes={key: [_plain(old[key]), _plain(value)]
                          for key, value in values.items() if old[key] != value})
    return True


def self_approval_allowed() -> bool:
    """Whether the firm lets the requester approve his own invoice (Setting
    ``allow_self_approval`` = "1")."""
    return settings.get(ALLOW_SELF_APPROVAL, "0").strip() == "1"


# ---- requests: edit and delete only while 申请 --------------------------------------
def is_locked(invoice: Invoice) -> bool:
    """Approved, issued and voided invoices are neither edited nor deleted."""
    return invoice.status != APPLIED


def check_editable(invoice: Invoice) -> None:
    """Refuse a change to an invoice that is no longer a request. Reads the status
    from the database with a row lock (PostgreSQL), so an approval that lands
    between opening the form and saving it is seen; the approval waits for this
    transaction.

    :raises InvoiceError: ``locked``.
    """
    if invoice.id is None:
        return
    status = db.session.execute(
        select(Invoice.status).where(Invoice.id == invoice.id).with_for_update()).scalar()
    if status != APPLIED:
        raise InvoiceError("locked", status)


# ---- 审核 -------------------------------------------------------------------------
def approve_invoices(invoices, by, now: datetime.datetime) -> Result:
    """审核: 申请 → 已审核. Rows in any other state are skipped (nothing is moved
    twice, no state is skipped); a request the approver made himself is refused
    unless self-approval is allowed."""
    result = Result()
    allow_self = self_approval_allowed()
    for invoice in invoices:
        if invoice.status != APPLIED:
            result.skipped += 1
        elif invoice.created_by_id == by.id and not allow_self:
            result.refused += 1
        elif _move(invoice, APPLIED, {"status": APPROVED, "approved_by_id": by.id,
                                      "approved_at": _stamp(now)}):
            result.changed += 1
        else:
            result.skipped += 1
    db.session.commit()
    for invoice in invoices:  # the objects the caller holds show the new state
        if invoice in db.session:
            db.session.expire(invoice)
    return result


# ---- 开票 -------------------------------------------------------------------------
def normalise_number(number) -> str:
    """The invoice number as stored (spaces removed).

    :raises InvoiceError: ``number_required`` or ``number_format``.
    """
    text = re.sub(r"\s+", "", str(number or ""))
    if not text:
        raise InvoiceError("number_required")
    if not NUMBER_PATTERN.match(text):
        raise InvoiceError("number_format")
    return text


def number_taken(number: str, own_id: int | None = None) -> bool:
    """Whether another invoice already has this number (the whole register, not the
    user's scope: a number is unique whoever looks)."""
    query = select(Invoice.id).where(Invoice.invoice_number == number)
    if own_id is not None:
        query = query.where(Invoice.id != own_id)
    return db.session.execute(query.limit(1)).first() is not None


def issue_invoice(invoice: Invoice, number, by, now: datetime.datetime) -> None:
    """开票: 已审核 → 已开票 with its invoice number. Nothing changes when the number
    is missing, malformed or taken, or the invoice is not 已审核 (a second submit of
    the form finds it issued already).

    :raises InvoiceError: ``state``, ``number_required``, ``number_format``,
        ``number_taken``.
    """
    number = normalise_number(number)
    if invoice.status != APPROVED:
        raise InvoiceError("state", invoice.status)
    if number_taken(number, invoice.id):
        raise InvoiceError("number_taken")
    try:
        moved = _move(invoice, APPROVED, {"status": ISSUED, "invoice_number": number,
                                          "issued_by_id": by.id, "issued_at": _stamp(now)})
    except IntegrityError:
        # another clerk took the number between the check and the UPDATE
        db.session.rollback()
        raise InvoiceError("number_taken")
    if not moved:
        db.session.rollback()
        db.session.expire(invoice)
        raise InvoiceError("state", invoice.status)
    db.session.commit()
    db.session.expire(invoice)


# ---- 作废 -------------------------------------------------------------------------
def void_invoice(invoice: Invoice, reason, by, now: datetime.datetime) -> None:
    """作废: 已开票 → 已作废, with the reason. A void invoice keeps its number (the
    number was used; it is not handed out again).

    :raises InvoiceError: ``state``, ``reason_required``, ``reason_length``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvoiceError("reason_required")
    if len(reason) > REASON_MAX:
        raise InvoiceError("reason_length")
    if invoice.status != ISSUED:
        raise InvoiceError("state", invoice.status)
    if not _move(invoice, ISSUED, {"status": VOID, "void_reason": reason,
                                   "voided_by_id": by.id, "voided_at": _stamp(now)}):
        db.session.rollback()
        db.session.expire(invoice)
        raise InvoiceError("state", invoice.status)
    db.session.commit()
    db.session.expire(invoice)


# ---- 开票月度汇总 -------------------------------------------------------------------
@dataclass
class MonthTotals:
    """One month of issued invoices: amount and count per type, and in all."""

    month: int
    amounts: dict       # invoice type -> Decimal
    counts: dict        # invoice type -> int

    @property
    def total(self) -> decimal.Decimal:
        return sum(self.amounts.values(), decimal.Decimal("0.00"))

    @property
    def count(self) -> int:
        return sum(self.counts.values())


def monthly_totals(year: int, condition=None, types=("normal", "special")) -> list[MonthTotals]:
    """Amount issued per month of ``year`` (by 开票时间) and invoice type, in one
    grouped query. Only invoices that stand issued count: a voided invoice is left
    out of the month it was issued in. ``condition`` is the caller's scope.

    :return: twelve :class:`MonthTotals`, January first (empty months are zero).
    """
    start = datetime.datetime(year, 1, 1)
    end = datetime.datetime(year + 1, 1, 1)
    month = cast(extract("month", Invoice.issued_at), Integer).label("month")
    query = (select(month, Invoice.invoice_type, func.count(), sum_cents(Invoice.amount))
             .where(Invoice.status == ISSUED, Invoice.issued_at >= start,
                    Invoice.issued_at < end)
             .group_by(month, Invoice.invoice_type))
    if condition is not None:
        query = query.where(condition)
    zero = decimal.Decimal("0.00")
    months = [MonthTotals(m, {t: zero for t in types}, {t: 0 for t in types})
              for m in range(1, 13)]
    for m, kind, count, cents in db.session.execute(query):
        row = months[int(m) - 1]
        row.amounts[kind] = row.amounts.get(kind, zero) + cents_to_decimal(cents)
        row.counts[kind] = row.counts.get(kind, 0) + count
    return months
