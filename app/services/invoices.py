"""开票登记's monthly totals (开票月度汇总). The register's states — 申请 → 已审核 →
已开票 (with a number unique in the whole register) → 已作废 — are its workflow
(``app.domain.workflows.INVOICE``), applied by ``app.services.transitions``.
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from sqlalchemy import Integer, cast, extract, func, select

from ..data.sql import sum_cents
from ..domain.billing import cents_to_decimal
from ..extensions import db
from ..models import Invoice

ISSUED = "issued"


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
