"""应收 rules: fee dates per cycle, matching (核销) oldest first with prepayment,
refunds and write-offs, statements, 大写金额. No app, no database, dates pinned."""
import datetime
import random
from decimal import Decimal

import pytest

from app.domain import ledger
from app.domain.ledger import OpenCharge

D = datetime.date


def test_monthly_fee_dates_up_to_today():
    dates, nxt = ledger.fee_dates_due(D(2026, 10, 1), 0, "month", D(2026, 11, 30))
    assert dates == [D(2026, 10, 1), D(2026, 11, 1)] and nxt == 2


def test_a_fee_is_charged_on_its_day():
    dates, nxt = ledger.fee_dates_due(D(2026, 10, 1), 0, "month", D(2026, 12, 1))
    assert dates[-1] == D(2026, 12, 1) and nxt == 3


def test_month_end_fee_dates_stay_month_ends():
    dates, _ = ledger.fee_dates_due(D(2024, 1, 31), 0, "month", D(2024, 5, 31))
    assert dates == [D(2024, 1, 31), D(2024, 2, 29), D(2024, 3, 31), D(2024, 4, 30),
                     D(2024, 5, 31)]


def test_29_february_yearly_falls_on_28_february_in_common_years():
    dates, _ = ledger.fee_dates_due(D(2024, 2, 29), 0, "year", D(2028, 3, 1))
    assert dates == [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28),
                     D(2028, 2, 29)]


def test_quarterly_and_resuming_from_the_stored_index():
    dates, nxt = ledger.fee_dates_due(D(2026, 1, 31), 1, "quarter", D(2026, 12, 31))
    assert dates == [D(2026, 4, 30), D(2026, 7, 31), D(2026, 10, 31)] and nxt == 4


def test_no_fee_after_the_contract_term():
    dates, nxt = ledger.fee_dates_due(D(2026, 1, 1), 0, "month", D(2026, 12, 31),
                                      term_end=D(2026, 3, 31))
    assert dates == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)] and nxt == 3


def test_nothing_due_before_the_anchor():
    assert ledger.fee_dates_due(D(2027, 1, 1), 0, "month", D(2026, 11, 30)) == ([], 0)


def test_the_issue_example_owes_two_periods():
    assert ledger.fee_dates_passed(D(2026, 10, 1), D(2026, 11, 30), "month") == 2


def _charges(*amounts):
    return [OpenCharge(i + 1, D(2026, i + 1, 1), Decimal(a)) for i, a in enumerate(amounts)]


def test_matching_is_oldest_first_and_partial():
    matched, left = ledger.match(Decimal("450.00"), _charges("300", "300", "300"))
    assert matched == [(1, Decimal("300.00")), (2, Decimal("150.00"))]
    assert left == Decimal("0.00")


def test_oldest_due_date_first_whatever_the_order_given():
    charges = list(reversed(_charges("100", "100")))
    matched, _ = ledger.match(Decimal("100"), charges)
    assert matched == [(1, Decimal("100.00"))]


def test_what_is_left_is_a_prepayment():
    matched, left = ledger.match(Decimal("1000.01"), _charges("300", "300"))
    assert [m for _, m in matched] == [Decimal("300.00"), Decimal("300.00")]
    assert left == Decimal("400.01") and isinstance(left, Decimal)


def test_matching_is_decimal_exact():
    matched, left = ledger.match(Decimal("0.30"), _charges("0.10", "0.10", "0.10"))
    assert sum(m for _, m in matched) == Decimal("0.30") and left == Decimal("0.00")


def test_a_refund_takes_back_the_latest_matches_first():
    taken = ledger.unmatch(Decimal("350"), [(10, Decimal("300")), (11, Decimal("300"))])
    assert taken == [(11, Decimal("300.00")), (10, Decimal("50.00"))]
    with pytest.raises(ValueError):
        ledger.unmatch(Decimal("700"), [(10, Decimal("300")), (11, Decimal("300"))])


def test_refundable_and_charge_states():
    assert ledger.refundable(Decimal("500"), Decimal("120.5")) == Decimal("379.50")
    assert ledger.charge_state(Decimal("300"), Decimal("299.99"), 0) == ledger.OPEN
    assert ledger.charge_state(Decimal("300"), Decimal("300"), 0) == ledger.PAID
    assert ledger.charge_state(Decimal("300"), Decimal("100"), Decimal("200")) == ledger.WRITTEN_OFF


def test_statement_opening_lines_and_closing():
    L = ledger.Line
    lines = [L(D(2026, 9, 1), "charge", Decimal("300")),
             L(D(2026, 9, 5), "receipt", Decimal("100")),
             L(D(2026, 10, 1), "charge", Decimal("300")),
             L(D(2026, 10, 9), "receipt", Decimal("700")),
             L(D(2026, 10, 20), "refund", Decimal("50")),
             L(D(2026, 10, 25), "write_off", Decimal("0.01")),
             L(D(2026, 12, 1), "charge", Decimal("300"))]
    st = ledger.statement(lines, D(2026, 10, 1), D(2026, 10, 31))
    assert st.opening == Decimal("200.00")
    assert len(st.lines) == 4
    assert st.closing == Decimal("200") + 300 - 700 + 50 - Decimal("0.01")


@pytest.mark.parametrize("seed", range(20))
def test_closing_balance_is_the_sum_of_everything_up_to_the_end(seed):
    rnd = random.Random(seed)
    lines = [ledger.Line(D(2026, 1, 1) + datetime.timedelta(days=rnd.randrange(365)),
                         rnd.choice(list(ledger.SIGN)),
                         Decimal(rnd.randrange(1, 100000)) / 100) for _ in range(60)]
    start = D(2026, 1, 1) + datetime.timedelta(days=rnd.randrange(200))
    end = start + datetime.timedelta(days=rnd.randrange(160))
    st = ledger.statement(lines, start, end)
    expected = sum((ledger.SIGN[ln.kind] * ln.amount for ln in lines if ln.day <= end),
                   Decimal("0"))
    assert st.closing == expected


@pytest.mark.parametrize("amount, words", [
    ("1234.50", "壹仟贰佰叁拾肆元伍角整"),
    ("0", "零元整"),
    ("0.05", "伍分"),
    ("1001", "壹仟零壹元整"),
    ("100000", "壹拾万元整"),
    ("10010", "壹万零壹拾元整"),
    ("1000001", "壹佰万零壹元整"),
    ("100000000", "壹亿元整"),
    ("3.07", "叁元零柒分"),
    ("60", "陆拾元整"),
    ("-12.3", "负壹拾贰元叁角整"),
    ("105000.2", "壹拾万伍仟元贰角整"),
])
def test_amount_in_words(amount, words):
    assert ledger.amount_in_words(Decimal(amount)) == words


def test_yuan_format_and_receipt_numbers():
    assert ledger.yuan(Decimal("1234.5")) == "¥1,234.50"
    assert ledger.yuan(Decimal("-3")) == "-¥3.00"
    assert ledger.receipt_number(2026, 7) == "2026-000007"


# ---- reconciliation: before = after + the lines --------------------------------------------
@pytest.mark.parametrize("seed", range(20))
def test_the_reconciliation_of_random_ledgers_adds_up(seed):
    import random

    from app.domain.ledger import FeeClient, LedgerCharge, reconcile

    rnd = random.Random(seed)
    today = datetime.date(2026, 11, 30)
    clients, charges = [], []
    for cid in range(1, 30):
        fee = Decimal(rnd.randrange(1, 100000)) / 100
        cycle = rnd.choice(["month", "quarter", "half_year", "year"])
        anchor = datetime.date(2025, rnd.randrange(1, 13), rnd.randrange(1, 29))
        end = rnd.choice([None, anchor + datetime.timedelta(days=rnd.randrange(0, 700))])
        nxt = ledger.fee_date(anchor, rnd.randrange(0, 4), cycle)
        clients.append(FeeClient(cid, fee, cycle, nxt, end, rnd.random() < 0.8))
        dates, _ = ledger.fee_dates_due(anchor, 0, cycle, today, end)
        for day in dates:
            amount = fee if rnd.random() < 0.8 else Decimal(rnd.randrange(1, 100000)) / 100
            paid = min(amount, Decimal(rnd.randrange(0, 100000)) / 100) if rnd.random() < 0.4 \
                else Decimal("0")
            off = amount - paid if rnd.random() < 0.1 else Decimal("0")
            state = ledger.charge_state(amount, paid, off)
            charges.append(LedgerCharge(cid, "periodic", day.isoformat(), amount, paid, off,
                                        state, day))
        if rnd.random() < 0.3:
            charges.append(LedgerCharge(cid, rnd.choice(["one_off", "adjustment"]), None,
                                        Decimal("12.34"), Decimal("0"), Decimal("0"),
                                        rnd.choice(["open", "pending", "rejected"]),
                                        datetime.date(2026, rnd.randrange(1, 13), 1)))
    rec = reconcile(clients, charges, today)
    assert rec.residual == 0
    assert rec.before == rec.after + rec.explained
