"""应收 (receivables): fee dates, matching (核销), statements and Chinese money.
Pure rules (no Flask, no session, no clock): "today" is always a parameter.

- **Fee dates.** A billed client's fees fall due on ``anchor + k × cycle`` (k = 0,
  1, …; calendar months, a day the month lacks clamped to its last day — counted
  from the anchor each time, so 31 January stays a month end: 28/29 Feb, 31 Mar …),
  never after the end of his contract term.
- **Matching.** Money received is matched to the client's open charges oldest due
  date first (then the oldest charge); a charge may be paid in part; what is left
  of a receipt is a prepayment (预收), matched to the next charges as they come.
- **Balance** (what the client owes; negative: he has paid ahead) = charges −
  receipts + refunds − write-offs, every amount a two-place ``Decimal``.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .billing import add_months, cycle_months, periods_owed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: charge kinds and states
PERIODIC, ONE_OFF, ADJUSTMENT = "periodic", "one_off", "adjustment"
#: a fee paid before the ledger existed (migration 5d1c7e9a4b20): settled by its receipt
HISTORICAL = "historical"
OPEN, PAID, WRITTEN_OFF = "open", "paid", "written_off"
#: an adjustment waiting for approval, or refused: it counts nowhere
PENDING, REJECTED = "pending", "rejected"


def money(value) -> Decimal:
    """A value as two-place money (``None`` → 0.00)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


# ---- fee dates ------------------------------------------------------------------------
def fee_date(anchor: datetime.date, seq: int, cycle: str | None) -> datetime.date:
    """The ``seq``-th fee date (0 = the anchor) of a schedule starting on ``anchor``."""
    return add_months(anchor, seq * cycle_months(cycle))


def fee_dates_due(anchor: datetime.date, seq: int, cycle: str | None,
                  today: datetime.date, term_end: datetime.date | None = None
                  ) -> tuple[list[datetime.date], int]:
    """The fee dates from the ``seq``-th on that have arrived by ``today`` (a fee is
    charged on its day) and lie within the term (``term_end`` included; None: open
    ended), and the index of the first date not yet charged.

    >>> fee_dates_due(datetime.date(2026, 10, 1), 0, "month", datetime.date(2026, 11, 30))
    ([datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)], 2)
    """
    dates = []
    while True:
        day = fee_date(anchor, seq, cycle)
        if day > today or (term_end is not None and day > term_end):
            return dates, seq
        dates.append(day)
        seq += 1


def fee_dates_passed(first: datetime.date | None, today: datetime.date,
                     cycle: str | None) -> int:
    """How many fee dates from ``first`` on lie before ``today`` (the periods owed by
    a client whose oldest unpaid fee date is ``first``): ``billing.periods_owed``."""
    return periods_owed(first, today, cycle)


def period_key(day: datetime.date) -> str:
    """The period a periodic charge is unique on: its fee date, ISO (``2026-10-01``)."""
    return day.isoformat()


# ---- matching (核销) ---------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCharge:
    """A charge with something left to pay (``outstanding`` > 0)."""

    id: int
    due_date: datetime.date
    outstanding: Decimal


def match(amount, charges) -> tuple[list[tuple[int, Decimal]], Decimal]:
    """Match ``amount`` to ``charges`` (``OpenCharge``) oldest due date first, then
    the oldest charge: [(charge id, amount matched)] and the remainder (预收).

    >>> match(Decimal("450"), [OpenCharge(2, datetime.date(2026, 11, 1), Decimal("300")),
    ...                        OpenCharge(1, datetime.date(2026, 10, 1), Decimal("300"))])
    ([(1, Decimal('300.00')), (2, Decimal('150.00'))], Decimal('0.00'))
    """
    left = money(amount)
    if left < 0:
        raise ValueError("negative amount")
    matched = []
    for charge in sorted(charges, key=lambda c: (c.due_date, c.id)):
        if left <= 0:
            break
        owed = money(charge.outstanding)
        if owed <= 0:
            continue
        take = min(owed, left)
        matched.append((charge.id, take))
        left -= take
    return matched, left


def unmatch(amount, allocations) -> list[tuple[int, Decimal]]:
    """Take ``amount`` back from a receipt's matches, newest first (a refund larger
    than the receipt's remainder reopens its latest charges):
    ``allocations`` [(allocation id, matched)] in matching order →
    [(allocation id, amount taken back)].

    :raises ValueError: more than was matched.
    """
    left = money(amount)
    taken = []
    for alloc_id, matched in reversed(list(allocations)):
        if left <= 0:
            break
        take = min(money(matched), left)
        if take > 0:
            taken.append((alloc_id, take))
            left -= take
    if left > 0:
        raise ValueError("more than matched")
    return taken


def refundable(amount, refunded) -> Decimal:
    """What may still be refunded of a receipt: its amount less earlier refunds."""
    return max(ZERO, money(amount) - money(refunded))


def charge_state(amount, paid, written_off) -> str:
    """OPEN while something is owed, WRITTEN_OFF when a write-off closed it, else PAID."""
    if money(written_off) > 0:
        return WRITTEN_OFF
    return PAID if money(paid) >= money(amount) else OPEN


# ---- statements ---------------------------------------------------------------------------
CHARGE, RECEIPT, REFUND, WRITE_OFF = "charge", "receipt", "refund", "write_off"
#: how each kind of line moves what the client owes
SIGN = {CHARGE: 1, RECEIPT: -1, REFUND: 1, WRITE_OFF: -1}


@dataclass(frozen=True)
class Line:
    day: datetime.date
    kind: str
    amount: Decimal
    text: str = ""
    ref: int = 0


@dataclass
class Statement:
    opening: Decimal
    lines: list
    totals: dict
    closing: Decimal


def statement(lines, start: datetime.date, end: datetime.date) -> Statement:
    """客户对账单 for ``[start, end]``: the opening balance (every line before
    ``start``), the lines within (by day, then charges before money), totals per
    kind and the closing balance = opening + charges − receipts + refunds −
    write-offs. Lines after ``end`` are left out."""
    opening = ZERO
    inside = []
    for line in lines:
        if line.day < start:
            opening += SIGN[line.kind] * money(line.amount)
        elif line.day <= end:
            inside.append(line)
    order = {CHARGE: 0, RECEIPT: 1, REFUND: 2, WRITE_OFF: 3}
    inside.sort(key=lambda ln: (ln.day, order[ln.kind], ln.ref))
    totals = {kind: ZERO for kind in SIGN}
    for line in inside:
        totals[line.kind] += money(line.amount)
    closing = (opening + totals[CHARGE] - totals[RECEIPT] + totals[REFUND]
               - totals[WRITE_OFF])
    return Statement(opening, inside, totals, closing)


# ---- reconciliation: the old arithmetic against the ledger --------------------------------
#: why the old "periods × fee" and the ledger's open charges past due differ; a
#: positive line is counted by the old arithmetic and not by the ledger, a negative
#: one the other way round
AFTER_TERM = "after_term"          # 不计：合同到期后的期数
NOT_CHARGED = "not_charged"        # 不计：未生成应收的期数（停止计费期间、重新起算 …）
PAID_SINCE = "paid"                # 不计：已收款核销
WRITTEN_OFF_SINCE = "written_off"  # 不计：坏账核销
FEE_CHANGED = "fee_changed"        # 不计：应收金额与现行服务费之差
OTHER_CHARGES = "other_charges"    # 计入：一次性收费和调整
OTHER_PERIODS = "other_periods"    # 计入：下次收费日期之前或不在其周期上的期数
OTHER_CLIENTS = "other_clients"    # 计入：不在原口径内的客户（停止计费、免费、已停止 …）
RECONCILE_ORDER = (AFTER_TERM, NOT_CHARGED, PAID_SINCE, WRITTEN_OFF_SINCE, FEE_CHANGED,
                   OTHER_CHARGES, OTHER_PERIODS, OTHER_CLIENTS)


@dataclass(frozen=True)
class FeeClient:
    """A client as the old arithmetic saw him (``counted``: billed, 代理记账, a fee
    and a next fee date — the old 欠费客户's rule)."""

    id: int
    fee: Decimal
    cycle: str | None
    next_fee_date: datetime.date | None
    term_end: datetime.date | None
    counted: bool


@dataclass(frozen=True)
class LedgerCharge:
    client_id: int
    kind: str
    period: str | None
    amount: Decimal
    paid: Decimal
    written_off: Decimal
    state: str
    due_date: datetime.date


@dataclass
class Reconciliation:
    """``before`` (periods × fee) = ``after`` (open charges past due) + Σ ``lines``
    (reason → [periods or charges, amount])."""

    before: Decimal
    after: Decimal
    lines: dict

    @property
    def explained(self) -> Decimal:
        return sum((amount for _, amount in self.lines.values()), ZERO)

    @property
    def residual(self) -> Decimal:
        """What the lines leave unexplained (0.00 when the identity holds)."""
        return self.before - self.after - self.explained


def reconcile(clients, charges, today: datetime.date) -> Reconciliation:
    """Itemise the difference between the old arithmetic (each counted client owes
    every fee date from his next fee date on that lies before ``today``, × his fee)
    and the ledger (open charges due before ``today``, less paid and written off):
    each old fee date is paired with the client's periodic charge of that period;
    what is left on either side, and the difference within each pair, is a line."""
    lines = {key: [0, ZERO] for key in RECONCILE_ORDER}

    def add(key, amount, n=1):
        lines[key][0] += n
        lines[key][1] += money(amount)

    counted = {cl.id: cl for cl in clients if cl.counted}
    by_period = {}
    after = ZERO
    for ch in charges:
        if ch.state not in (OPEN, PAID, WRITTEN_OFF):
            continue  # a pending or rejected adjustment counts nowhere
        outstanding = money(ch.amount) - money(ch.paid) - money(ch.written_off) \
            if ch.state == OPEN and ch.due_date < today else ZERO
        after += outstanding
        if ch.kind == PERIODIC and ch.client_id in counted and ch.period:
            by_period[(ch.client_id, ch.period)] = (ch, outstanding)
        elif outstanding:
            add(OTHER_CLIENTS if ch.client_id not in counted else OTHER_CHARGES, -outstanding)
    before = ZERO
    for cl in counted.values():
        fee = money(cl.fee)
        for k in range(periods_owed(cl.next_fee_date, today, cl.cycle)):
            day = fee_date(cl.next_fee_date, k, cl.cycle)
            before += fee
            pair = by_period.pop((cl.id, period_key(day)), None)
            if pair is None:
                add(AFTER_TERM if cl.term_end is not None and day > cl.term_end
                    else NOT_CHARGED, fee)
                continue
            ch, outstanding = pair
            if money(ch.amount) != fee:
                add(FEE_CHANGED, fee - money(ch.amount))
            if money(ch.paid):
                add(PAID_SINCE, ch.paid)
            if money(ch.written_off):
                add(WRITTEN_OFF_SINCE, ch.written_off)
            # an open charge not yet due cannot pair (its day is before today)
    for ch, outstanding in by_period.values():
        if outstanding:
            add(OTHER_PERIODS, -outstanding)
    return Reconciliation(before, after, {k: tuple(v) for k, v in lines.items() if v[0]})


# ---- receipt numbers and Chinese money ----------------------------------------------------
def receipt_number(year: int, seq: int) -> str:
    """收据编号: the year and its sequence number (2026-000001)."""
    return f"{year}-{seq:06d}"


def yuan(value) -> str:
    """¥1,234.50 (a minus sign before the ¥ for a negative amount)."""
    amount = money(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


def _four(n: int) -> str:
    """0 < n < 10000 in capital digits, zeros inside read once (1001 → 壹仟零壹)."""
    out, zero = [], False
    for pos in range(3, -1, -1):
        d = n // 10 ** pos % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[d] + _UNITS[pos])
    return "".join(out)


def amount_in_words(value) -> str:
    """大写金额 as on a 收据: 壹仟贰佰叁拾肆元伍角整 for 1,234.50; 零元整 for 0;
    负 before a negative amount.

    :raises ValueError: 10^16 yuan or more.
    """
    amount = money(value)
    negative = amount < 0
    cents = int(abs(amount) * 100)
    yuan_part, fraction = divmod(cents, 100)
    if yuan_part >= 10 ** 16:
        raise ValueError("too large")
    jiao, fen = divmod(fraction, 10)
    words = ""
    if yuan_part:
        groups = []
        n = yuan_part
        while n:
            groups.append(n % 10000)
            n //= 10000
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero_pending = bool(words)
                continue
            if words and (zero_pending or group < 1000):
                words += "零"
            words += _four(group) + _GROUPS[index]
            zero_pending = False
        words += "元"
    if not fraction:
        words = (words or "零元") + "整"
    else:
        if jiao:
            words += _DIGITS[jiao] + "角"
        elif words:
            words += "零"
        if fen:
            words += _DIGITS[fen] + "分"
        else:
            words += "整"
    return ("负" if negative else "") + words
