"""The 征期 calendar: the computed 2026 deadlines equal those the tax administration
announced (税总办征科函〔2025〕64号), from the 2026 holidays (国办发明电〔2025〕7号)."""
import datetime

import pytest

from app.domain import deadlines as dl

D = datetime.date


def span(first: datetime.date, last: datetime.date) -> set:
    return {first + datetime.timedelta(days=i) for i in range((last - first).days + 1)}


HOLIDAYS_2026 = (span(D(2026, 1, 1), D(2026, 1, 3)) | span(D(2026, 2, 15), D(2026, 2, 23))
                 | span(D(2026, 4, 4), D(2026, 4, 6)) | span(D(2026, 5, 1), D(2026, 5, 5))
                 | span(D(2026, 6, 19), D(2026, 6, 21)) | span(D(2026, 9, 25), D(2026, 9, 27))
                 | span(D(2026, 10, 1), D(2026, 10, 7)))
WORKDAYS_2026 = {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                 D(2026, 9, 20), D(2026, 10, 10)}
ANNOUNCED_2026 = {1: 20, 2: 24, 3: 16, 4: 20, 5: 22, 6: 15, 7: 15, 8: 17, 9: 15, 10: 26,
                  11: 16, 12: 15}


@pytest.mark.parametrize("month", range(1, 13))
def test_every_2026_deadline_is_the_announced_one(month):
    assert dl.monthly_deadline(2026, month, HOLIDAYS_2026, WORKDAYS_2026) == \
        D(2026, month, ANNOUNCED_2026[month])


def test_a_long_holiday_in_the_first_fifteen_days_extends_by_working_days():
    # 国庆 1–7 October: seven days, counted as working days after the 15th; the
    # weekend between is not one of them
    assert dl.holiday_extension(2026, 10, HOLIDAYS_2026) == 7
    assert dl.holiday_extension(2026, 2, HOLIDAYS_2026) == 0  # only the 15th is in 1–15
    assert dl.holiday_extension(2026, 6, HOLIDAYS_2026) == 0  # 端午 is after the 15th


def test_two_holidays_in_a_row_do_not_extend():
    holidays = {D(2027, 3, 4), D(2027, 3, 5)}
    assert dl.holiday_extension(2027, 3, holidays) == 0
    assert dl.monthly_deadline(2027, 3, holidays, set()) == D(2027, 3, 15)


def test_a_break_that_began_the_month_before_counts_with_its_days_inside():
    holidays = span(D(2027, 1, 29), D(2027, 2, 3))  # three of its days in February
    assert dl.holiday_extension(2027, 2, holidays) == 3
    assert dl.monthly_deadline(2027, 2, holidays, set()) == D(2027, 2, 18)


def test_an_extended_deadline_moves_first_then_counts_working_days():
    """January 2022: 元旦 1–3, the 15th a Saturday: Monday 17th, then three working
    days (the administration announced the 20th)."""
    holidays = span(D(2022, 1, 1), D(2022, 1, 3))
    assert dl.monthly_deadline(2022, 1, holidays, set()) == D(2022, 1, 20)


@pytest.mark.parametrize("year,month,expected", [(2027, 8, D(2027, 8, 16)),
                                                  (2027, 5, D(2027, 5, 17)),
                                                  (2027, 12, D(2027, 12, 15))])
def test_a_year_nobody_entered_uses_weekends_only(year, month, expected):
    assert dl.monthly_deadline(year, month, set(), set()) == expected


def test_a_weekend_worked_by_tiaoxiu_is_a_working_day():
    saturday = D(2027, 5, 15)
    assert dl.monthly_deadline(2027, 5, set(), {saturday}) == saturday


def test_annual_deadlines_move_off_rest_days():
    # 企业所得税汇算清缴 for 2025 by 31 May 2026 (a Sunday) → Monday 1 June
    assert dl.fixed_deadline(dl.annual_due_day("2025", 5, 31), HOLIDAYS_2026,
                             WORKDAYS_2026) == D(2026, 6, 1)
    # 工商年报 by 30 June 2026 (a Tuesday)
    assert dl.fixed_deadline(dl.annual_due_day("2025", 6, 30), HOLIDAYS_2026,
                             WORKDAYS_2026) == D(2026, 6, 30)


@pytest.mark.parametrize("cycle,day,period", [("month", D(2026, 11, 30), "2026-11"),
                                              ("quarter", D(2026, 9, 30), "2026-Q3"),
                                              ("quarter", D(2026, 10, 1), "2026-Q4"),
                                              ("year", D(2025, 12, 31), "2025")])
def test_periods(cycle, day, period):
    assert dl.period_key(cycle, day) == period
    assert dl.period_end(period) >= day


def test_a_quarter_is_filed_in_the_month_after_it():
    assert dl.filing_month("2026-Q3") == (2026, 10)
    assert dl.filing_month("2026-Q4") == (2027, 1)
    assert dl.filing_month("2026-11") == (2026, 12)
    assert dl.filing_month("2026-12") == (2027, 1)
    assert dl.next_period("2026-12") == "2027-01" and dl.next_period("2026-Q4") == "2027-Q1"
    assert dl.next_period("2025") == "2026"


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26-11", "2026/11", "", "2026-1"])
def test_a_period_that_is_no_period_is_refused(text):
    with pytest.raises(ValueError):
        dl.parse_period(text)


@pytest.mark.parametrize("period,before", [("2026-01", "2025-12"), ("2026-11", "2026-10"),
                                           ("2026-Q1", "2025-Q4"), ("2026-Q3", "2026-Q2"),
                                           ("2026", "2025")])
def test_previous_period_is_the_inverse_of_next(period, before):
    assert dl.previous_period(period) == before
    assert dl.next_period(before) == period


def test_a_long_holiday_ending_on_the_fifteenth_extends():
    holidays = {D(2027, 3, d) for d in (13, 14, 15)}
    assert dl.holiday_extension(2027, 3, holidays) == 3


def test_a_holiday_that_runs_past_the_fifteenth_counts_only_its_days_inside():
    holidays = {D(2027, 3, d) for d in (14, 15, 16, 17)}
    assert dl.holiday_extension(2027, 3, holidays) == 0


def test_two_long_holidays_in_the_first_fifteen_days_both_extend():
    holidays = {D(2027, 3, d) for d in (1, 2, 3, 8, 9, 10, 11)}
    assert dl.holiday_extension(2027, 3, holidays) == 7


def test_an_annual_filing_due_at_the_end_of_february_follows_the_leap_year():
    assert dl.annual_due_day("2027", 2, 29) == D(2028, 2, 29)
    assert dl.annual_due_day("2026", 2, 29) == D(2027, 2, 28)
