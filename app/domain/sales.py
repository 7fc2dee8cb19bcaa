"""销售 rules, pure: the 1-3-7 contact cadence, when a lead returns to the 公共池,
how many leads a salesperson may hold, a sales contract's amounts, and the fee and
billing cycle a won client starts with. Dates are parameters (no clock)."""
from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from .choices import N_, PRICE_CYCLE_MONTHS

#: the stages a person may give a lead (已成交 comes with an approved sales contract,
#: 公共池 with the pool job)
SETTABLE_STAGES = ("new", "following", "lost")
STAGE_NOT_SETTABLE = N_("A lead becomes won with an approved sales contract, and goes to "
                        "the public pool by itself.")

#: the cadence shipped (seed 001: 第一天、第三天、第七天各联系一次)
DEFAULT_CADENCE = "1,3,7"
DEFAULT_POOL_DAYS = 30
DEFAULT_CLAIM_LIMIT = 50
CENT = Decimal("0.01")
MAX_CADENCE_DAY = 366


class CadenceError(ValueError):
    """Not a cadence: a list of day numbers such as "1,3,7"."""


def parse_cadence(text: str) -> tuple[int, ...]:
    """``"1,3,7"`` (or ``"1 3 7"``, ``"1，3，7"``) → ``(1, 3, 7)``: distinct days from 1
    to 366, ascending, at most 10.

    :raises CadenceError:
    """
    parts = [p for p in re.split(r"[\s,，、;；]+", str(text or "").strip()) if p]
    if not parts or len(parts) > 10 or not all(p.isascii() and p.isdigit() and len(p) <= 3
                                               for p in parts):
        raise CadenceError(text)
    days = sorted({int(p) for p in parts})
    if days[0] < 1 or days[-1] > MAX_CADENCE_DAY:
        raise CadenceError(text)
    return tuple(days)


def cadence_dates(start: datetime.date, days: tuple[int, ...]) -> list[datetime.date]:
    """The due dates of a new lead's follow-ups: day N after the day it was entered."""
    return [start + datetime.timedelta(days=n) for n in days]


def missed(due: datetime.date, done: datetime.date | None, today: datetime.date) -> bool:
    """A cadence follow-up is missed when it was done after its day, or its day has
    passed without it (未完成 1-3-7)."""
    if done is not None:
        return done > due
    return due < today


def returns_to_pool(last_contact: datetime.date, today: datetime.date, days: int) -> bool:
    """A lead with no follow-up done for ``days`` days (counted from the last one done,
    or from the day it was entered or claimed) goes back to the 公共池."""
    return (today - last_contact).days >= days


def may_claim(active_held: int, limit: int) -> bool:
    """Whether a salesperson holding ``active_held`` active leads may claim one more."""
    return active_held < limit


def line_amount(unit_price: Decimal, quantity: int, discount: Decimal | None) -> Decimal:
    """单价 × 数量 − 优惠, never below zero, to the fen."""
    gross = Decimal(unit_price or 0) * int(quantity or 0)
    amount = gross - Decimal(discount or 0)
    if amount < 0:
        amount = Decimal(0)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def per_period(amount: Decimal, quantity: int) -> Decimal:
    """An item's amount for one period (its quantity counts periods: 12 months)."""
    return (Decimal(amount) / max(int(quantity or 1), 1)).quantize(CENT, rounding=ROUND_HALF_UP)


def contract_total(lines) -> Decimal:
    """The contract's total: the sum of its items (``(unit_price, quantity, discount)``)."""
    return sum((line_amount(*line) for line in lines), Decimal("0.00")).quantize(CENT)


#: the billing cycle of a client for a price cycle (price cycles have no half-year)
CLIENT_CYCLE = {"month": "month", "quarter": "quarter", "year": "year"}


def client_terms(lines) -> tuple[str, Decimal]:
    """(billing cycle, fee per cycle) a won client starts with, from the contract's
    items ``(cycle, amount per period)`` (an item's amount over its quantity): the cycle of the largest recurring item, and every
    recurring item's amount brought to that cycle. One-off items only: monthly, 0."""
    recurring = [(cycle, Decimal(amount)) for cycle, amount in lines
                 if cycle in PRICE_CYCLE_MONTHS]
    if not recurring:
        return "month", Decimal("0.00")
    main = max(recurring, key=lambda item: item[1] / PRICE_CYCLE_MONTHS[item[0]])[0]
    months = PRICE_CYCLE_MONTHS[main]
    fee = sum(amount / PRICE_CYCLE_MONTHS[cycle] * months for cycle, amount in recurring)
    return CLIENT_CYCLE[main], Decimal(fee).quantize(CENT, rounding=ROUND_HALF_UP)
