"""Fees as the firm counts them: periods and amount owed, a client's payment being a
receipt (never journal income), and money typed by a person. No app, no database, dates pinned."""
import datetime
from decimal import Decimal

import pytest

from app.domain import billing

D = datetime.date
TODAY = D(2026, 11, 23)


@pytest.mark.parametrize("due, cycle, periods", [
    (D(2026, 11, 24), "month", 0),    # due soon: nothing owed yet
    (TODAY, "month", 0),              # due today: not passed yet
    (D(2026, 11, 22), "month", 1),    # passed yesterday: one fee date passed
    (D(2026, 10, 23), "month", 1),    # Oct 23 passed, Nov 23 is today
    (D(2026, 10, 22), "month", 2),    # Oct 22 and Nov 22
    (D(2026, 8, 1), "month", 4),      # Aug 1, Sep 1, Oct 1, Nov 1
    (D(2026, 8, 23), "month", 3),
    (D(2026, 8, 24), "month", 3),
    (D(2026, 5, 23), "quarter", 2),
    (D(2026, 5, 24), "quarter", 2),   # May 24, Aug 24
    (D(2026, 11, 1), "quarter", 1),   # less than a quarter, but overdue
    (D(2025, 11, 23), "half_year", 2),
    (D(2024, 11, 24), "year", 2),     # 2024-11-24 and 2025-11-24
    (D(2024, 11, 23), "year", 2),
])
def test_periods_owed_are_the_fee_dates_passed_since_the_next_fee_date(due, cycle, periods):
    assert billing.periods_owed(due, TODAY, cycle) == periods


def test_the_issue_example_owes_two_periods_not_one():
    # 下次收费日期 2026-10-01, monthly: the fees of 1 October and 1 November are unpaid
    assert billing.periods_owed(D(2026, 10, 1), D(2026, 11, 30), "month") == 2
    assert billing.amount_due(D(2026, 10, 1), D(2026, 11, 30), "month",
                              Decimal("300")) == Decimal("600.00")


def test_month_end_fee_dates_count_from_the_first_date():
    # 31 Jan, 29 Feb (leap), 31 Mar: passed before 1 April → 3
    assert billing.periods_owed(D(2024, 1, 31), D(2024, 4, 1), "month") == 3
    assert billing.periods_owed(D(2024, 1, 31), D(2024, 3, 31), "month") == 2


def test_a_month_end_counts_as_a_whole_month():
    assert billing.whole_cycles(D(2026, 1, 31), D(2026, 2, 28), "month") == 1
    assert billing.whole_cycles(D(2026, 1, 31), D(2026, 2, 27), "month") == 0
    assert billing.add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)


def test_amount_owed_is_periods_times_fee_in_decimal():
    amount = billing.amount_owed(3, Decimal("333.33"))
    assert amount == Decimal("999.99") and isinstance(amount, Decimal)
    assert billing.amount_owed(0, Decimal("300")) == Decimal("0.00")


def test_a_dunning_notice_for_a_client_only_due_soon_asks_for_one_cycle():
    assert billing.amount_due(D(2026, 11, 30), TODAY, "quarter", Decimal("900")) == Decimal("900.00")
    assert billing.amount_due(D(2026, 8, 1), TODAY, "month", Decimal("300")) == Decimal("1200.00")


def test_arrears_state_red_when_passed_amber_within_days():
    assert billing.arrears_state(D(2026, 11, 22), TODAY, 15) == billing.OVERDUE
    assert billing.arrears_state(TODAY, TODAY, 15) == billing.DUE_SOON
    assert billing.arrears_state(D(2026, 12, 8), TODAY, 15) == billing.DUE_SOON
    assert billing.arrears_state(D(2026, 12, 9), TODAY, 15) == ""
    assert billing.arrears_state(None, TODAY, 15) == ""


def test_a_client_s_payment_is_no_journal_income_but_other_entries_are():
    """The one record of a client's fee money is the receipt: the journal's rule
    refuses an income entry with a client (beside the client), and only that."""
    from app.domain import rules

    [refuse] = [c for c in rules.TABLES["journal_entry"].checks if c.field == "client_id"]
    assert refuse.check({"client_id": 7, "direction": "income"}) == "client_id"
    assert refuse.check({"client_id": 7, "direction": "expense"}) is None
    assert refuse.check({"client_id": None, "direction": "income"}) is None
    assert refuse.check({"client_id": "", "direction": "income"}) is None
    assert "Receipts" in refuse.message


def test_a_client_without_a_known_billing_cycle_is_billed_monthly():
    today = datetime.date(2026, 11, 23)
    for cycle in (None, "", "no-such-cycle"):
        assert billing.periods_owed(datetime.date(2026, 8, 1), today, cycle) == 4


def test_a_client_without_a_fee_owes_nothing():
    assert billing.amount_owed(3, None) == Decimal("0.00")


def test_an_overdue_dunning_notice_counts_the_clients_own_cycle():
    # quarterly, fee date 7 months ago: 1 April, 1 July, 1 October owed, not seven months
    notice = billing.amount_due(datetime.date(2026, 4, 1), datetime.date(2026, 11, 23),
                                "quarter", Decimal("900.00"))
    assert notice == Decimal("2700.00")


def test_sums_in_cents_are_shown_as_money():
    assert billing.cents_to_decimal(1234567) == Decimal("12345.67")
    assert str(billing.cents_to_decimal(5)) == "0.05"
    assert str(billing.cents_to_decimal(None)) == "0.00"  # an empty sum
