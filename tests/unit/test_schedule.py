"""When a job is retried and when it is late: pure rules, times pinned, no app."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.schedule import (
    ABANDONED,
    FAILED,
    INTERRUPTED,
    RUNNING,
    SUCCEEDED,
    Attempt,
    ScheduleSettingError,
    backoff_delay,
    is_stale,
    late_occurrence,
    latest_occurrence,
    next_attempt,
    parse_backoff,
)

SH = ZoneInfo("Asia/Shanghai")
DAILY_1AM = "0 1 * * *"
STEPS = parse_backoff("1,5,15,60")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def minutes(*values):
    return tuple(timedelta(minutes=v) for v in values)


# ---- back-off ----------------------------------------------------------------------
def test_backoff_setting_reads_minutes_and_decimals():
    assert parse_backoff("1,5,15,60") == minutes(1, 5, 15, 60)
    assert parse_backoff(" 0.5 , 2") == minutes(0.5, 2)
    assert parse_backoff("0") == minutes(0)


@pytest.mark.parametrize("bad", ["", "1,,5", "soon", "-1", "5,nan", "inf"])
def test_a_backoff_setting_that_is_not_minutes_is_refused(bad):
    with pytest.raises(ScheduleSettingError):
        parse_backoff(bad)


def test_backoff_follows_the_setting_then_repeats_the_last_step():
    assert [backoff_delay(n, STEPS) for n in range(1, 8)] == list(minutes(1, 5, 15, 60, 60, 60, 60))
    assert backoff_delay(0, STEPS) == timedelta(0)


# ---- the next attempt ----------------------------------------------------------------
def test_a_tick_never_tried_runs_at_once_as_attempt_one():
    assert next_attempt([], STEPS).number == 1
    assert next_attempt([], STEPS).not_before is None


def test_a_tick_that_succeeded_has_no_next_attempt():
    assert next_attempt([Attempt(1, FAILED, t("2026-11-30 01:00:05")),
                         Attempt(2, SUCCEEDED, t("2026-11-30 01:02:00"))], STEPS) is None


def test_each_failure_waits_longer_counted_from_its_end():
    first = [Attempt(1, FAILED, t("2026-11-30 01:00:05"))]
    assert next_attempt(first, STEPS).not_before == t("2026-11-30 01:01:05")
    second = first + [Attempt(2, ABANDONED, t("2026-11-30 01:01:30"))]
    plan = next_attempt(second, STEPS)
    assert (plan.number, plan.not_before, plan.failures) == (3, t("2026-11-30 01:06:30"), 2)
    many = [Attempt(n, FAILED, t("2026-11-30 01:00:00") + timedelta(hours=n)) for n in range(1, 7)]
    assert next_attempt(many, STEPS).not_before == many[-1].ended_at + timedelta(hours=1)


def test_a_run_stopped_by_sigterm_resumes_at_once():
    plan = next_attempt([Attempt(1, FAILED, t("2026-11-30 01:00:05")),
                         Attempt(2, INTERRUPTED, t("2026-11-30 01:02:00"))], STEPS)
    assert (plan.number, plan.not_before) == (3, None)


def test_a_running_attempt_must_be_settled_first():
    with pytest.raises(ValueError):
        next_attempt([Attempt(1, RUNNING)], STEPS)


# ---- stale claims ---------------------------------------------------------------------
def test_a_claim_is_stale_after_the_lease_without_a_sign_of_life():
    lease = timedelta(minutes=10)
    beat = t("2026-11-30 01:00:00")
    assert not is_stale(beat, t("2026-11-30 01:10:00"), lease)
    assert is_stale(beat, t("2026-11-30 01:10:01"), lease)
    assert is_stale(None, beat, lease)


# ---- occurrences and lateness ------------------------------------------------------------
def test_missed_occurrences_give_only_the_latest():
    now = datetime(2026, 11, 30, 9, 0, tzinfo=SH)
    assert latest_occurrence(DAILY_1AM, now, t("2026-11-27 01:00")) == t("2026-11-30 01:00")
    assert latest_occurrence(DAILY_1AM, now, t("2026-11-30 01:00")) is None
    assert latest_occurrence(DAILY_1AM, datetime(2026, 11, 30, 1, 0, tzinfo=SH)) == t("2026-11-30 01:00")


def test_a_job_is_late_once_its_due_run_has_not_succeeded_within_the_grace():
    grace = timedelta(hours=2)
    yesterday = t("2026-11-29 01:00")
    # due at 01:00; at 02:59 the run still has time, at 03:00 it is late
    assert late_occurrence(DAILY_1AM, yesterday, datetime(2026, 11, 30, 2, 59, tzinfo=SH), grace) is None
    assert late_occurrence(DAILY_1AM, yesterday, datetime(2026, 11, 30, 3, 0, tzinfo=SH),
                           grace) == t("2026-11-30 01:00")
    # today's run succeeded: on time all day
    assert late_occurrence(DAILY_1AM, t("2026-11-30 01:00"),
                           datetime(2026, 11, 30, 23, 0, tzinfo=SH), grace) is None


def test_a_job_that_never_succeeded_is_late():
    assert late_occurrence(DAILY_1AM, None, datetime(2026, 11, 30, 9, 0, tzinfo=SH),
                           timedelta(hours=2)) == t("2026-11-30 01:00")


def test_a_job_is_not_due_one_second_early():
    shanghai = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 30, 8, 59, 59, tzinfo=shanghai)
    assert latest_occurrence("0 9 * * *", now) == datetime(2026, 11, 29, 9, 0)
    at_nine = now + timedelta(seconds=1)
    assert latest_occurrence("0 9 * * *", at_nine) == datetime(2026, 11, 30, 9, 0)
