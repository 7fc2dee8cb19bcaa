"""When a scheduled job runs, is retried, and counts as late: pure rules.

No Flask, no database, no clock: the scheduler (``app/scheduler.py``) reads the clock
and the job's runs and hands them in, as Airflow's timetables are handed the last
period instead of reading state. Times are naive local times in the firm's zone
(what every stored timestamp holds) unless a parameter says "aware".

Attempts
--------
One scheduled occurrence of a job (its *tick*) may take several attempts; each is a
``JobRun`` row with a number and an outcome:

- ``running``     claimed and not finished (its holder may have died: the scheduler
  tells a live holder from a dead one and marks the dead one ``abandoned``);
- ``succeeded``   the tick is done, nothing more runs for it;
- ``failed``      the job raised; retried after a back-off;
- ``abandoned``   the holder died (killed, out of memory, the machine went away);
  retried after a back-off like a failure — a crash caused by the job itself must not
  loop without pause;
- ``interrupted`` the holder was asked to stop (SIGTERM) and stopped between two
  chunks: retried at once, it is not a failure.

The n-th failure waits ``steps[n-1]`` (the setting, e.g. 1, 5, 15, 60 minutes), and
the last step once the list runs out ("then hourly"), counted from the end of the
attempt that failed. A later occurrence supersedes a tick that never succeeded: the
scheduler always works on the latest due occurrence.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Sequence

from croniter import croniter

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
ABANDONED = "abandoned"
INTERRUPTED = "interrupted"
#: outcomes that count as a failure for the back-off
FAILURES = frozenset({FAILED, ABANDONED})

DEFAULT_BACKOFF = "1,5,15,60"


class ScheduleSettingError(ValueError):
    """A scheduler setting that cannot be used (the message names it)."""


def latest_occurrence(rule: str, now: _dt.datetime,
                      after: _dt.datetime | None = None) -> _dt.datetime | None:
    """The latest occurrence of ``rule`` at or before ``now`` (aware, in the firm's
    zone) that is later than ``after`` (naive local), as a naive local time; None
    when there is none. Several missed occurrences give only the latest one."""
    tz = now.tzinfo
    it = croniter(rule, now + _dt.timedelta(seconds=1))
    prev = it.get_prev(_dt.datetime)
    if prev.tzinfo is None:
        prev = prev.replace(tzinfo=tz)
    prev_naive = prev.astimezone(tz).replace(tzinfo=None)
    if after is not None and prev_naive <= after:
        return None
    return prev_naive


def parse_backoff(text: str) -> tuple[_dt.timedelta, ...]:
    """``"1,5,15,60"`` (minutes, decimals allowed) → the waits after the 1st, 2nd, …
    failure.

    :raises ScheduleSettingError: empty, not a number, or negative.
    """
    steps = []
    for part in str(text).split(","):
        part = part.strip()
        try:
            minutes = float(part)
        except ValueError:
            raise ScheduleSettingError(
                f"retry back-off {text!r}: {part!r} is not a number of minutes") from None
        if minutes < 0 or minutes != minutes or minutes == float("inf"):
            raise ScheduleSettingError(f"retry back-off {text!r}: {part!r} is not >= 0")
        steps.append(_dt.timedelta(minutes=minutes))
    return tuple(steps)


def backoff_delay(failures: int, steps: Sequence[_dt.timedelta]) -> _dt.timedelta:
    """The wait after the ``failures``-th failed attempt (1-based): ``steps[n-1]``,
    then the last step again and again."""
    if failures <= 0:
        return _dt.timedelta(0)
    return steps[min(failures, len(steps)) - 1]


@dataclass(frozen=True)
class Attempt:
    """What the rules need of one finished attempt of a tick."""

    number: int
    status: str
    ended_at: _dt.datetime | None = None


@dataclass(frozen=True)
class NextAttempt:
    """The attempt to make next: its number, and not before when (None: at once)."""

    number: int
    not_before: _dt.datetime | None = None
    failures: int = 0


def next_attempt(attempts: Sequence[Attempt],
                 steps: Sequence[_dt.timedelta]) -> NextAttempt | None:
    """The next attempt of one tick given its finished attempts; None when one of
    them succeeded (the tick is done).

    :raises ValueError: an attempt is still running (the caller settles whether its
        holder is alive first).
    """
    if any(a.status == SUCCEEDED for a in attempts):
        return None
    if any(a.status == RUNNING for a in attempts):
        raise ValueError("an attempt is still running")
    if not attempts:
        return NextAttempt(1)
    last = max(attempts, key=lambda a: a.number)
    failures = sum(1 for a in attempts if a.status in FAILURES)
    if last.status not in FAILURES or last.ended_at is None:
        return NextAttempt(last.number + 1, None, failures)
    return NextAttempt(last.number + 1, last.ended_at + backoff_delay(failures, steps),
                       failures)


def is_stale(heartbeat_at: _dt.datetime | None, now: _dt.datetime,
             lease: _dt.timedelta) -> bool:
    """A running claim is stale when its holder has shown no sign of life (a
    committed chunk) for longer than the lease."""
    return heartbeat_at is None or now - heartbeat_at > lease


def late_occurrence(rule: str, last_success_tick: _dt.datetime | None, now: _dt.datetime,
                    grace: _dt.timedelta) -> _dt.datetime | None:
    """The occurrence a job should have succeeded for by ``now`` (aware) and has
    not: the latest occurrence at least ``grace`` before now, when the last
    successful scheduled run was for an earlier one (or there was none). None
    when the job is on time."""
    expected = latest_occurrence(rule, now - grace)
    if expected is None:
        return None
    if last_success_tick is not None and last_success_tick >= expected:
        return None
    return expected
