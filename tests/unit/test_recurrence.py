"""The recurrence engine of 报税管理: pure functions, dates pinned, no app, no clock."""
import datetime
import time
from datetime import date, timedelta

import pytest

from app.domain import recurrence as r
from app.domain.recurrence import (
    RuleError,
    advance,
    cadence,
    first_due_on_or_after,
    next_due,
    occurrences,
    period_of,
    previous_due,
    validate_rule,
)

MONTHLY = "0 0 1 * *"
QUARTERLY = "0 0 1 1,4,7,10 *"
HALF_YEARLY = "0 0 1 1,7 *"
YEARLY = "0 0 1 1 *"
WEEKLY = "0 0 * * 1"          # Mondays
NY = "America/New_York"


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(start: str, end: str) -> list[date]:
    first, last = d(start), d(end)
    return [first + timedelta(n) for n in range((last - first).days + 1)]


# --- next_due / first_due_on_or_after / advance ------------------------------

@pytest.mark.parametrize("rule, after, expected", [
    (MONTHLY, "2026-11-01", "2026-12-01"),       # strictly after a due date
    (MONTHLY, "2026-11-15", "2026-12-01"),
    (MONTHLY, "2026-11-30", "2026-12-01"),
    (MONTHLY, "2026-12-01", "2027-01-01"),       # over the year end
    (MONTHLY, "2026-12-31", "2027-01-01"),
    (QUARTERLY, "2026-01-01", "2026-04-01"),
    (QUARTERLY, "2026-02-15", "2026-04-01"),
    (QUARTERLY, "2026-10-01", "2027-01-01"),
    (YEARLY, "2026-01-01", "2027-01-01"),
    (YEARLY, "2025-12-31", "2026-01-01"),
    (r.ANNUAL_INSPECTION, "2026-01-01", "2026-06-30"),
    (r.ANNUAL_INSPECTION, "2026-06-30", "2027-06-30"),
    (r.TAX_ANNUAL_REPORT, "2026-05-30", "2026-05-31"),
    (r.TAX_ANNUAL_REPORT, "2026-05-31", "2027-05-31"),
    (r.SOCIAL_SECURITY_BASE, "2026-06-30", "2026-07-01"),
    (r.HOUSING_FUND_ROLLOVER, "2026-07-01", "2027-06-30"),
    (WEEKLY, "2026-11-16", "2026-11-23"),
    (WEEKLY, "2026-11-20", "2026-11-23"),
])
def test_next_due_is_the_first_occurrence_strictly_after(rule, after, expected):
    assert next_due(rule, d(after)) == d(expected)


@pytest.mark.parametrize("rule, after, expected", [
    ("0 10 1 * *", "2026-11-01", "2026-12-01"),   # 10:00 on the 1st is still the 1st
    ("59 23 1 * *", "2026-11-01", "2026-12-01"),
    ("59 23 1 * *", "2026-10-31", "2026-11-01"),
    ("0 0 * * *", "2026-11-01", "2026-11-02"),
    ("*/5 * * * *", "2026-11-01", "2026-11-02"),  # many times a day: still the next date
])
def test_time_of_day_never_makes_the_same_date_count_as_after(rule, after, expected):
    assert next_due(rule, d(after)) == d(expected)


@pytest.mark.parametrize("day, expected", [
    ("2026-11-01", "2026-11-01"),   # created on a due date: due that day
    ("2026-11-02", "2026-12-01"),
    ("2026-12-31", "2027-01-01"),
])
def test_first_due_on_or_after(day, expected):
    assert first_due_on_or_after(MONTHLY, d(day)) == d(expected)


def test_first_due_of_a_new_quarterly_pickup():
    assert first_due_on_or_after(QUARTERLY, d("2026-04-01")) == d("2026-04-01")
    assert first_due_on_or_after(QUARTERLY, d("2026-04-02")) == d("2026-07-01")


def test_advance_counts_from_the_due_date_not_from_the_day_of_completion():
    # November's filing is due 2026-12-01. Whether it is completed early
    # (2026-11-25), on the day, or late (2026-12-20, or in March 2027), the service
    # advances from the due date it saw: the next filing is due 2027-01-01.
    assert advance(MONTHLY, d("2026-12-01"), "Asia/Shanghai") == d("2027-01-01")
    assert advance(MONTHLY, d("2026-12-01"), "Asia/Shanghai") == next_due(MONTHLY, d("2026-12-01"))


def test_catching_up_long_after_walks_every_period_once():
    due = d("2026-10-01")
    seen, periods = [], []
    for _ in range(5):          # five completions done on some day in 2027
        seen.append(due)
        periods.append(period_of(MONTHLY, due))
        due = advance(MONTHLY, due, "Asia/Shanghai")
    assert seen == [d("2026-10-01"), d("2026-11-01"), d("2026-12-01"), d("2027-01-01"),
                    d("2027-02-01")]
    assert periods == ["2026-09", "2026-10", "2026-11", "2026-12", "2027-01"]
    assert due == d("2027-03-01")


def test_advance_from_a_date_the_rule_does_not_have_goes_to_the_next_occurrence():
    # a due date left over from an earlier rule (monthly on the 15th)
    assert advance(MONTHLY, d("2026-11-15"), "Asia/Shanghai") == d("2026-12-01")


# --- month ends and 29 February ----------------------------------------------

def test_the_31st_skips_months_without_one():
    assert occurrences("0 0 31 * *", d("2026-01-01"), d("2026-12-31")) == [
        d("2026-01-31"), d("2026-03-31"), d("2026-05-31"), d("2026-07-31"),
        d("2026-08-31"), d("2026-10-31"), d("2026-12-31")]
    assert next_due("0 0 31 * *", d("2026-03-31")) == d("2026-05-31")
    assert next_due("0 0 31 * *", d("2026-01-31")) == d("2026-03-31")


def test_the_30th_skips_february():
    assert next_due("0 0 30 * *", d("2026-01-30")) == d("2026-03-30")


def test_L_is_the_last_day_of_every_month():
    assert occurrences("0 0 L * *", d("2027-12-01"), d("2028-04-30")) == [
        d("2027-12-31"), d("2028-01-31"), d("2028-02-29"), d("2028-03-31"), d("2028-04-30")]
    assert next_due("0 0 L 2 *", d("2026-02-28")) == d("2027-02-28")
    assert next_due("0 0 L 2 *", d("2027-02-28")) == d("2028-02-29")


def test_29_february_waits_for_the_next_leap_year():
    rule = "0 0 29 2 *"
    assert next_due(rule, d("2026-03-01")) == d("2028-02-29")
    assert first_due_on_or_after(rule, d("2028-02-29")) == d("2028-02-29")
    assert next_due(rule, d("2028-02-29")) == d("2032-02-29")
    assert next_due(rule, d("2096-02-29")) == d("2104-02-29")   # 2100 is no leap year
    assert previous_due(rule, d("2028-02-29")) == d("2024-02-29")
    assert period_of(rule, d("2028-02-29")) == "2024-02-29..2028-02-29"


# --- occurrences --------------------------------------------------------------

def test_occurrences_include_both_ends():
    assert occurrences(MONTHLY, d("2026-01-01"), d("2026-04-01")) == [
        d("2026-01-01"), d("2026-02-01"), d("2026-03-01"), d("2026-04-01")]
    assert occurrences(MONTHLY, d("2026-01-02"), d("2026-03-31")) == [
        d("2026-02-01"), d("2026-03-01")]


def test_occurrences_of_a_single_day_and_of_an_empty_range():
    assert occurrences(MONTHLY, d("2026-05-01"), d("2026-05-01")) == [d("2026-05-01")]
    assert occurrences(MONTHLY, d("2026-05-02"), d("2026-05-31")) == []
    assert occurrences(MONTHLY, d("2026-06-01"), d("2026-05-01")) == []   # start > end


def test_occurrences_are_bounded():
    assert len(occurrences("0 0 * * *", d("2026-01-01"), d("2026-01-10"), limit=10)) == 10
    with pytest.raises(ValueError):
        occurrences("0 0 * * *", d("2026-01-01"), d("2026-01-11"), limit=10)
    with pytest.raises(ValueError):     # default limit 1000: three years of days
        occurrences("0 0 * * *", d("2026-01-01"), d("2028-12-31"))
    assert len(occurrences(MONTHLY, d("2000-01-01"), d("2049-12-31"))) == 600


def test_occurrences_of_the_shipped_yearly_rules():
    assert occurrences(r.ANNUAL_INSPECTION, d("2025-01-01"), d("2027-12-31")) == [
        d("2025-06-30"), d("2026-06-30"), d("2027-06-30")]
    assert occurrences(r.TICKET_PICKUP_QUARTERLY, d("2026-01-01"), d("2026-12-31")) == [
        d("2026-01-01"), d("2026-04-01"), d("2026-07-01"), d("2026-10-01")]


def test_day_of_month_and_day_of_week_together_mean_either():
    # classic cron: the 1st OR any Monday (documented, not a bug of ours)
    assert occurrences("0 0 1 * 1", d("2026-06-01"), d("2026-07-07")) == [
        d("2026-06-01"), d("2026-06-08"), d("2026-06-15"), d("2026-06-22"),
        d("2026-06-29"), d("2026-07-01"), d("2026-07-06")]


# --- time zones ---------------------------------------------------------------

def test_daylight_saving_a_nonexistent_local_time_still_falls_on_its_date():
    # 2026-03-08, New York: 02:00 jumps to 03:00, so 02:30 does not exist that day;
    # croniter fires at 03:00 instead: the date is still 2026-03-08.
    rule = "30 2 * * *"
    assert occurrences(rule, d("2026-03-06"), d("2026-03-10"), NY) == days(
        "2026-03-06", "2026-03-10")
    assert next_due(rule, d("2026-03-07"), NY) == d("2026-03-08")
    assert next_due(rule, d("2026-03-08"), NY) == d("2026-03-09")
    assert previous_due(rule, d("2026-03-09"), NY) == d("2026-03-08")
    assert next_due("30 2 8 3 *", d("2026-01-01"), NY) == d("2026-03-08")


def test_daylight_saving_a_repeated_local_time_counts_once():
    # 2026-11-01, New York: 02:00 goes back to 01:00, so 01:30 happens twice.
    # croniter fires twice; it is one date, due once.
    rule = "30 1 * * *"
    assert occurrences(rule, d("2026-10-30"), d("2026-11-03"), NY) == days(
        "2026-10-30", "2026-11-03")
    assert next_due(rule, d("2026-11-01"), NY) == d("2026-11-02")
    assert previous_due(rule, d("2026-11-02"), NY) == d("2026-11-01")
    # 02:30 exists once on that day (after the change)
    assert occurrences("30 2 * * *", d("2026-10-31"), d("2026-11-02"), NY) == days(
        "2026-10-31", "2026-11-02")


def test_midnight_that_does_not_exist():
    # Cuba moves its clocks at midnight: 2026-03-08 00:00 → 01:00; 2026-11-01 01:00 → 00:00
    havana = "America/Havana"
    assert occurrences("0 0 * * *", d("2026-03-06"), d("2026-03-10"), havana) == days(
        "2026-03-06", "2026-03-10")
    assert occurrences("0 0 * * *", d("2026-10-30"), d("2026-11-03"), havana) == days(
        "2026-10-30", "2026-11-03")
    assert next_due(MONTHLY, d("2026-10-15"), havana) == d("2026-11-01")


ZONES = ["Asia/Shanghai", "UTC", NY, "America/Havana", "America/Santiago",
         "Australia/Lord_Howe", "Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago",
         "Asia/Kolkata"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("rule", ["0 0 * * *", "30 2 * * *", "30 1 * * *", "59 23 * * *"])
def test_a_daily_rule_is_due_every_date_exactly_once_in_any_zone(tz, rule):
    assert occurrences(rule, d("2026-01-01"), d("2026-12-31"), tz) == days(
        "2026-01-01", "2026-12-31")


@pytest.mark.parametrize("tz", ZONES)
def test_date_rules_give_the_same_dates_in_every_zone(tz):
    for rule in (MONTHLY, QUARTERLY, r.ANNUAL_INSPECTION, "0 0 L * *"):
        assert occurrences(rule, d("2025-01-01"), d("2027-12-31"), tz) == occurrences(
            rule, d("2025-01-01"), d("2027-12-31"), "Asia/Shanghai")
    assert period_of(MONTHLY, d("2026-03-01"), tz) == "2026-02"
    assert period_of(MONTHLY, d("2026-11-01"), tz) == "2026-10"


@pytest.fixture
def machine_tz(monkeypatch):
    """Set the process's local time zone (TZ + tzset); restored afterwards."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")

    def set_tz(name):
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


def _sample():
    return (
        next_due(MONTHLY, d("2026-11-30")),
        next_due("0 0 * * *", d("2026-11-30")),
        next_due("30 2 * * *", d("2026-03-07"), NY),
        first_due_on_or_after(QUARTERLY, d("2026-04-01")),
        previous_due(MONTHLY, d("2026-12-01")),
        occurrences("0 0 L * *", d("2028-01-01"), d("2028-03-31")),
        period_of(MONTHLY, d("2026-12-01")),
    )


def test_the_machines_time_zone_plays_no_part(machine_tz):
    machine_tz("UTC")
    expected = _sample()
    assert expected[0] == d("2026-12-01") and expected[1] == d("2026-12-01")
    # far ahead of and far behind Shanghai, and one with daylight saving
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "America/New_York",
                 "Asia/Shanghai"):
        machine_tz(name)
        assert time.localtime(0).tm_gmtoff != 0 or name == "UTC"
        assert _sample() == expected, name


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(ValueError):
        next_due(MONTHLY, d("2026-01-01"), "Asia/Beijing")   # not an IANA name


# --- periods -----------------------------------------------------------------

@pytest.mark.parametrize("rule, due, expected", [
    (MONTHLY, "2026-12-01", "2026-11"),            # 每月报税 due 1 Dec: November's
    (MONTHLY, "2026-01-01", "2025-12"),
    (MONTHLY, "2026-03-01", "2026-02"),            # gap 28
    (MONTHLY, "2028-03-01", "2028-02"),            # gap 29
    ("0 0 15 * *", "2026-12-15", "2026-11"),
    ("0 0 L * *", "2026-03-31", "2026-02"),
    (QUARTERLY, "2026-04-01", "2026-Q1"),
    (QUARTERLY, "2026-07-01", "2026-Q2"),
    (QUARTERLY, "2026-10-01", "2026-Q3"),
    (QUARTERLY, "2026-01-01", "2025-Q4"),
    ("0 0 15 2,5,8,11 *", "2026-05-15", "2026-Q1"),
    (HALF_YEARLY, "2026-07-01", "2026-H1"),
    (HALF_YEARLY, "2026-01-01", "2025-H2"),
    (YEARLY, "2026-01-01", "2025"),
    (r.ANNUAL_INSPECTION, "2026-06-30", "2025"),   # 工商年检 covers the previous year
    (r.ANNUAL_INSPECTION, "2028-06-30", "2027"),   # gap 366
    (r.TAX_ANNUAL_REPORT, "2026-05-31", "2025"),
    (r.SOCIAL_SECURITY_BASE, "2026-07-01", "2025"),
    (WEEKLY, "2026-11-23", "2026-11-16..2026-11-23"),
    ("0 0 * * *", "2026-11-23", "2026-11-22..2026-11-23"),
    ("0 0 31 * *", "2026-12-31", "2026-10-31..2026-12-31"),   # no 30 Nov: irregular
    ("0 0 31 * *", "2026-08-31", "2026-07"),
    ("0 0 1 1-6 *", "2027-01-01", "2026-06-01..2027-01-01"),
])
def test_period_of(rule, due, expected):
    assert period_of(rule, d(due)) == expected


@pytest.mark.parametrize("rule", [MONTHLY, QUARTERLY, HALF_YEARLY, YEARLY, WEEKLY,
                                  "0 0 1,30 * *", "0 0 1,28 * *", "0 0 31 * *",
                                  "0 0 L * *", "0 0 29 2 *", "0 0 1,15 * *",
                                  *sorted({rule for _, rule, _ in r.SHIPPED_TYPES.values()})])
def test_period_keys_are_unique_per_rule(rule):
    dues = occurrences(rule, d("2024-01-01"), d("2036-12-31"))
    keys = [period_of(rule, due) for due in dues]
    assert len(set(keys)) == len(keys)
    assert all(len(key) <= 32 for key in keys)   # the column is String(32)


def test_a_month_key_needs_the_previous_occurrence_in_the_previous_month():
    # "1st and 30th": 2026-03-01 and 2026-03-30 are both 28-31 days after the one
    # before, but only 2026-03-01 follows one in February.
    assert period_of("0 0 1,30 * *", d("2026-03-01")) == "2026-02"
    assert period_of("0 0 1,30 * *", d("2026-03-30")) == "2026-03-01..2026-03-30"


def test_period_of_a_due_date_the_rule_does_not_have():
    assert period_of(MONTHLY, d("2026-12-05")) == "2026-12-01..2026-12-05"


def test_period_of_is_deterministic():
    assert {period_of(QUARTERLY, d("2026-04-01"), tz) for tz in ZONES} == {"2026-Q1"}


@pytest.mark.parametrize("rule, around, expected", [
    (MONTHLY, "2026-06-15", "month"),
    (r.TAX_CLEARING, "2026-01-01", "month"),
    (QUARTERLY, "2026-05-01", "quarter"),
    (HALF_YEARLY, "2026-03-01", "half_year"),
    (YEARLY, "2026-03-01", "year"),
    (r.ANNUAL_INSPECTION, "2026-01-01", "year"),
    (WEEKLY, "2026-06-15", "other"),
    ("0 0 * * *", "2026-06-15", "other"),
    ("0 0 29 2 *", "2026-06-15", "other"),
    ("0 0 31 * *", "2026-08-01", "month"),        # 31 Jul → 31 Aug
    ("0 0 31 * *", "2026-09-01", "other"),        # 31 Aug → 31 Oct
])
def test_cadence(rule, around, expected):
    assert cadence(rule, "Asia/Shanghai", d(around)) == expected
    assert expected in r.CADENCES


def test_previous_due():
    assert previous_due(MONTHLY, d("2026-12-01")) == d("2026-11-01")
    assert previous_due(MONTHLY, d("2026-12-02")) == d("2026-12-01")
    assert previous_due(r.ANNUAL_INSPECTION, d("2026-06-30")) == d("2025-06-30")


# --- validate_rule ------------------------------------------------------------

@pytest.mark.parametrize("raw, normalised", [
    ("0 0 1 * *", "0 0 1 * *"),
    ("  0  0 1\t* * ", "0 0 1 * *"),
    ("０　０　１　＊　＊", "0 0 1 * *"),           # typed with a Chinese input method
    ("0 0 1 1，4，7，10 *", "0 0 1 1,4,7,10 *"),
    ("@monthly", "0 0 1 * *"),
    ("@YEARLY", "0 0 1 1 *"),
    ("0 0 l * *", "0 0 L * *"),
    ("0 0 1 jan,jul *", "0 0 1 JAN,JUL *"),
    ("0 0 * * mon-fri", "0 0 * * MON-FRI"),
    ("0 0 29 2 *", "0 0 29 2 *"),                 # next one is 2028: within 5 years
    ("0 0 15w * *", "0 0 15W * *"),
])
def test_validate_rule_normalises(raw, normalised):
    assert validate_rule(raw) == normalised
    assert validate_rule(normalised) == normalised
    assert next_due(raw, d("2026-01-01")) == next_due(normalised, d("2026-01-01"))


@pytest.mark.parametrize("raw, reason", [
    ("", "syntax"),
    ("   ", "syntax"),
    ("monthly", "syntax"),
    ("0 0 1 *", "syntax"),                # four fields
    ("0 0 32 * *", "syntax"),
    ("0 0 1 13 *", "syntax"),
    ("0 0 0 * *", "syntax"),
    ("60 0 1 * *", "syntax"),
    ("*/0 * * * *", "syntax"),
    ("0 0 1 foo *", "syntax"),
    ("R R * * *", "syntax"),              # croniter's random fields: not reproducible
    ("H H * * *", "syntax"),
    ("@reboot", "syntax"),
    (None, "syntax"),
    (42, "syntax"),
    ("0 0 1 * * 0", "seconds"),           # croniter 7 reads 6 fields as seconds
    ("0 0 0 1 * * 2026", "seconds"),      # and 7 as seconds + year
    ("0 0 31 2 *", "never"),
    ("0 0 30 2 *", "never"),
    ("0 0 31 4,6,9,11 *", "never"),
    ("0 0 * 2 1#5", "never"),             # 5th Monday of February: 2016, 2044
])
def test_validate_rule_says_why(raw, reason):
    with pytest.raises(RuleError) as err:
        validate_rule(raw)
    assert err.value.reason == reason
    assert isinstance(err.value, ValueError)


def test_a_rule_longer_than_its_column_is_refused():
    long_rule = "0 0 " + ",".join(str(n) for n in range(1, 29)) + " * *"
    with pytest.raises(RuleError) as err:
        validate_rule(long_rule)
    assert err.value.reason == "length"
    assert len(validate_rule("0 0 1,2,3,4,5,6,7,8,9,10 1,2,3,4,5,6,7,8,9,10,11 *")) <= 64


def test_never_is_judged_from_a_reference_date():
    assert validate_rule("0 0 * 2 1#5", since=d("2012-01-01")) == "0 0 * 2 1#5"


def test_the_engine_refuses_what_validate_refuses():
    with pytest.raises(RuleError) as err:
        next_due("0 0 1 * * 0", d("2026-01-01"))
    assert err.value.reason == "seconds"
    with pytest.raises(RuleError) as err:
        next_due("0 0 31 2 *", d("2026-01-01"))
    assert err.value.reason == "never"
    with pytest.raises(RuleError):
        period_of("not a rule", d("2026-01-01"))
    assert occurrences("0 0 31 2 *", d("2026-01-01"), d("2026-12-31")) == []


# --- shipped types ------------------------------------------------------------

def test_shipped_types():
    assert list(r.SHIPPED_TYPES) == [
        "tax_clearing", "ticket_pickup", "social_security_base", "housing_fund_rollover"]
    for code, (name, rule, applies_to) in r.SHIPPED_TYPES.items():
        assert validate_rule(rule) == rule, code
        assert applies_to in ("all_active", "tax_device", "ticket_pickup"), code
        assert name and all(ord(c) > 0x2E80 for c in name), code   # Chinese names
    assert r.SHIPPED_TYPES["tax_clearing"] == ("抄税清卡", "0 0 1 * *", "tax_device")
    assert r.SHIPPED_TYPES["ticket_pickup"] == ("上门取票", "0 0 1 * *", "ticket_pickup")
    assert r.SHIPPED_TYPES["social_security_base"][1] == "0 0 1 7 *"
    assert r.SHIPPED_TYPES["housing_fund_rollover"][1] == "0 0 30 6 *"
    assert r.TICKET_PICKUP_QUARTERLY == "0 0 1 1,4,7,10 *"


def test_the_engine_takes_no_clock_and_no_app():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(r))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"flask", "flask_appbuilder", "sqlalchemy", "app", "time"}
    called = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not called & {"today", "now", "utcnow"}
    assert isinstance(next_due(MONTHLY, datetime.date(2026, 1, 1)), datetime.date)
    assert not isinstance(next_due(MONTHLY, datetime.date(2026, 1, 1)), datetime.datetime)


def test_is_due_on():
    assert r.is_due_on(MONTHLY, d("2026-12-01"))
    assert not r.is_due_on(MONTHLY, d("2026-12-02"))
    assert r.is_due_on("0 0 29 2 *", d("2028-02-29"))
    assert r.is_due_on("30 2 * * *", d("2026-03-08"), NY)


# ---- what the mutation run found untested (docs/mutants.md) ------------------------

MAY_NOVEMBER = "0 0 1 5,11 *"   # half-yearly, but not in January and July


def test_a_half_yearly_rule_off_the_calendar_half_years_is_still_half_yearly():
    assert cadence(MAY_NOVEMBER, "Asia/Shanghai", d("2026-11-01")) == "half_year"
    # the half-year is the one the previous due date lies in
    assert period_of(MAY_NOVEMBER, d("2026-11-01")) == "2026-H1"
    assert period_of(MAY_NOVEMBER, d("2027-05-01")) == "2026-H2"


def test_every_other_month_is_no_standard_cadence():
    # 1 May → 1 July straddles two half-years but is no half-yearly rule
    assert cadence("0 0 1 */2 *", "Asia/Shanghai", d("2026-07-01")) == "other"


def test_a_rule_of_the_longest_length_is_accepted_and_one_more_is_refused():
    def of_length(n):
        """A rule of exactly ``n`` characters: minutes 0..m at hours 0..h, the 1st."""
        for m in range(60):
            for h in range(24):
                rule = (",".join(map(str, range(m + 1))) + " "
                        + ",".join(map(str, range(h + 1))) + " 1 * *")
                if len(rule) == n:
                    return rule
        raise AssertionError(n)

    longest = of_length(r.MAX_RULE_LENGTH)
    assert validate_rule(longest) == longest
    with pytest.raises(RuleError) as err:
        validate_rule(of_length(r.MAX_RULE_LENGTH + 1))
    assert err.value.reason == "length"


@pytest.fixture
def server_clock_in_new_york(monkeypatch):
    """A server whose clock is set to local time far from China."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_due_dates_do_not_depend_on_the_servers_own_time_zone(server_clock_in_new_york):
    tz = "Asia/Shanghai"
    assert next_due(MONTHLY, d("2026-01-31"), tz) == d("2026-02-01")
    assert next_due(MONTHLY, d("2026-02-01"), tz) == d("2026-03-01")
    assert previous_due(MONTHLY, d("2026-03-01"), tz) == d("2026-02-01")
    assert first_due_on_or_after(MONTHLY, d("2026-03-01"), tz) == d("2026-03-01")
    assert occurrences("0 0 * * *", d("2026-03-01"), d("2026-03-03"), tz) == [
        d("2026-03-01"), d("2026-03-02"), d("2026-03-03")]
    assert period_of(MONTHLY, d("2026-03-01"), tz) == "2026-02"
