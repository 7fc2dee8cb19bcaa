"""Term arithmetic of 续签 and 续费, and the red/amber states: pure, dates pinned."""
import datetime

import pytest

from app.domain import terms

D = datetime.date


@pytest.mark.parametrize("start, end, new_start, new_end", [
    (D(2025, 1, 1), D(2025, 12, 31), D(2026, 1, 1), D(2026, 12, 31)),
    (D(2025, 7, 15), D(2026, 7, 14), D(2026, 7, 15), D(2027, 7, 14)),
    # a term ending on 29 Feb: the next one starts 1 Mar and ends 28 Feb
    (D(2023, 3, 1), D(2024, 2, 29), D(2024, 3, 1), D(2025, 2, 28)),
    # a term starting on 29 Feb lasts until 28 Feb (no 29 Feb the next year)
    (D(2023, 3, 1), D(2024, 2, 28), D(2024, 2, 29), D(2025, 2, 28)),
    # the term that runs into a leap year ends on its 29 Feb
    (D(2026, 3, 1), D(2027, 2, 28), D(2027, 3, 1), D(2028, 2, 29)),
])
def test_next_term_starts_the_day_after_and_lasts_one_year(start, end, new_start, new_end):
    assert terms.next_term(start, end) == (new_start, new_end)


def test_renewing_twice_from_29_february_stays_at_the_end_of_february():
    start, end = terms.next_term(D(2023, 3, 1), D(2024, 2, 29))
    assert terms.next_term(start, end) == (D(2025, 3, 1), D(2026, 2, 28))


@pytest.mark.parametrize("expiry, renewed", [
    (D(2025, 6, 30), D(2026, 6, 30)),
    (D(2025, 12, 31), D(2026, 12, 31)),
    (D(2024, 2, 29), D(2025, 2, 28)),
    (D(2027, 2, 28), D(2028, 2, 29)),  # paid to the end of February
])
def test_next_expiry_adds_one_year(expiry, renewed):
    assert terms.next_expiry(expiry) == renewed


def test_anniversary_of_29_february_in_a_common_year_is_1_march():
    assert terms.anniversary(D(2024, 2, 29)) == D(2025, 3, 1)
    assert terms.anniversary(D(2024, 2, 29), 4) == D(2028, 2, 29)


TODAY = D(2026, 11, 23)


@pytest.mark.parametrize("end, state", [
    (D(2026, 11, 22), terms.EXPIRED),
    (TODAY, terms.DUE_SOON),
    (D(2026, 12, 23), terms.DUE_SOON),
    (D(2026, 12, 24), ""),
    (None, ""),  # a one-off address without expiry is never red
])
def test_expiry_state(end, state):
    assert terms.expiry_state(end, TODAY) == state


@pytest.mark.parametrize("expected, done, state", [
    (D(2026, 11, 22), False, terms.OVERDUE),
    (TODAY, False, terms.DUE_TODAY),
    (D(2026, 11, 24), False, ""),
    (D(2026, 11, 1), True, ""),
    (None, False, ""),
])
def test_todo_state(expected, done, state):
    assert terms.todo_state(expected, done, TODAY) == state
