"""The recurrence engine behind 报税管理: when is a recurring obligation due next, and
which period does a due date cover. Pure functions: no Flask, no database, no clock
(every "today" is a parameter).

Rules
-----
A rule is a five-field croniter expression (``minute hour day-of-month month
day-of-week``), e.g. ``0 0 1 * *`` = the 1st of every month. It is evaluated in the
firm's time zone, an IANA name (default ``Asia/Shanghai``). Obligations are due on
calendar **dates**: an occurrence's date is the local date, in that zone, of the
instant croniter gives; the time of day only matters for which date that is.

croniter semantics worth knowing (croniter 7):

- ``L`` in the day field is the last day of the month (``0 0 L * *``: 31 Jan,
  28/29 Feb, 31 Mar, 30 Apr, …). A fixed day a month lacks is skipped, not moved:
  ``0 0 31 * *`` has no occurrence in April, June, September, November or February.
- When both day-of-month and day-of-week are restricted, a date matches if EITHER
  does (classic cron): ``0 0 1 * 1`` is the 1st of the month *and* every Monday.
- Names (``JAN``, ``MON``), ranges, lists, steps, ``W`` (nearest weekday) and ``#``
  (n-th weekday) work; ``@monthly`` etc. are accepted and expanded by
  :func:`validate_rule`. Six or seven fields (seconds / year) are refused, and so are
  croniter's ``H``/``R`` (hashed / random) fields: a due date must be reproducible.

Dates and daylight saving
-------------------------
:func:`next_due` asks croniter for the first occurrence after the *last instant* of
the given date, so the answer is the first occurrence whose local date is strictly
later, whatever the rule's time of day, and each date appears at most once. In zones
with daylight saving (China has none, but the firm's zone is a setting):

- a local time that does not exist (``30 2 * * *`` on the spring-forward day in
  America/New_York, when 02:00 jumps to 03:00) fires at the first existing minute
  after it (03:00 the same day), so that day still has its occurrence;
- a local time that happens twice (``30 1 * * *`` on the fall-back day) fires
  twice in croniter, but both are the same date, which counts once here;
- a rule at midnight in a zone whose clocks change at midnight (America/Havana:
  00:00 → 01:00) fires at 01:00 that day: still the right date.

The machine's own time zone (``TZ``) plays no part.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
import unicodedata
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

DEFAULT_TZ = "Asia/Shanghai"

# ---------------------------------------------------------------------------
# Shipped rules (SPEC.md §3, 报税管理)
# ---------------------------------------------------------------------------

# 每月报税: 每月 1 日到期, 完成后下一次为下月 1 日 (覆盖上一个月)
MONTHLY_FILING = "0 0 1 * *"
# 抄税清卡: 每月 1 日 (有税控设备的客户)
TAX_CLEARING = "0 0 1 * *"
# 上门取票 (按月): 每月 1 日
TICKET_PICKUP_MONTHLY = "0 0 1 * *"
# 上门取票 (按季): 1、4、7、10 月的 1 日 (可在单个客户上覆盖规则)
TICKET_PICKUP_QUARTERLY = "0 0 1 1,4,7,10 *"
# 工商年检: 企业年度报告须在每年 6 月 30 日前公示 (覆盖上一年度)
ANNUAL_INSPECTION = "0 0 30 6 *"
# 税务年报: 企业所得税汇算清缴, 每年 5 月 31 日前 (覆盖上一年度)
TAX_ANNUAL_REPORT = "0 0 31 5 *"
# 社保调基数: 每年 7 月
SOCIAL_SECURITY_BASE = "0 0 1 7 *"
# 公积金跨年清册: 每年 6 月底
HOUSING_FUND_ROLLOVER = "0 0 30 6 *"

#: code -> (中文名称, rule, applies_to); the order is the shipped sort order.
#: applies_to is one of "all_active", "tax_device", "ticket_pickup". The tax filings
#: (增值税, 个税 …, 汇算清缴, 工商年报) are tax kinds with legal deadlines, shipped by
#: ``app.domain.taxkinds``; they replaced 每月报税, 税务年报 and 工商年检.
SHIPPED_TYPES: dict[str, tuple[str, str, str]] = {
    "tax_clearing": ("抄税清卡", TAX_CLEARING, "tax_device"),
    # 按月, 或按季 (客户选择按季取票时, 同步给他的取票事项 TICKET_PICKUP_QUARTERLY)
    "ticket_pickup": ("上门取票", TICKET_PICKUP_MONTHLY, "ticket_pickup"),
    "social_security_base": ("社保调基数", SOCIAL_SECURITY_BASE, "all_active"),
    "housing_fund_rollover": ("公积金跨年清册", HOUSING_FUND_ROLLOVER, "all_active"),
}

#: the values :func:`cadence` returns
CADENCES = ("month", "quarter", "half_year", "year", "other")

#: a rule with no occurrence this many years after the reference date is refused
NEVER_YEARS = 5
#: default reference date of the "never" check (no clock here; see validate_rule)
NEVER_REFERENCE = _dt.date(2026, 1, 1)

DEFAULT_LIMIT = 1000
#: rules are stored in String(64) columns
MAX_RULE_LENGTH = 64

_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# croniter's hashed (H) and random (R) fields: not reproducible without extra input
_HASH_OR_RANDOM = re.compile(r"^[hr](\(\d+-\d+\))?(/\d+)?$", re.IGNORECASE)
_UTC = _dt.timezone.utc
_ONE_DAY = _dt.timedelta(days=1)


class RuleError(ValueError):
    """A rule the engine refuses. ``reason`` is a stable key the edge turns into a
    message: ``syntax`` (not a five-field croniter expression), ``seconds`` (six or
    more fields), ``never`` (no occurrence within :data:`NEVER_YEARS` years) or
    ``length`` (longer than :data:`MAX_RULE_LENGTH` once normalised)."""

    def __init__(self, reason: str, rule: object = None):
        super().__init__(f"{reason}: {rule!r}" if rule is not None else reason)
        self.reason = reason
        self.rule = rule


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def validate_rule(rule: str, *, since: _dt.date | None = None) -> str:
    """The normalised form of ``rule``, for storing admin input.

    Normalising: full-width characters typed with a Chinese input method become
    ASCII (NFKC: ``０　０　１　＊　＊`` → ``0 0 1 * *``), whitespace collapses to
    single spaces, letters are upper-cased (``l`` → ``L``, ``jan`` → ``JAN``), and
    ``@monthly``-style aliases become their five fields.

    :raises RuleError: ``reason`` ``"syntax"``, ``"seconds"`` (6+ fields),
        ``"length"`` (over :data:`MAX_RULE_LENGTH` characters, the column size) or
        ``"never"``: no occurrence within :data:`NEVER_YEARS` years after ``since``
        (default :data:`NEVER_REFERENCE`; there is no clock here), e.g. ``0 0 31 2 *``.
        A rule that occurs at all does so within any 5-year window, except rare
        combinations such as ``0 0 * 2 1#5`` (a fifth Monday of February: 2016,
        2044, …), which are refused as well.
    """
    normalised = _normalise(rule)
    if len(normalised) > MAX_RULE_LENGTH:
        raise RuleError("length", rule)
    start = since or NEVER_REFERENCE
    try:
        it = croniter(normalised, _start_of_day(start, ZoneInfo("UTC")),
                      ret_type=_dt.datetime, max_years_between_matches=NEVER_YEARS)
        first = it.get_next(_dt.datetime)
    except CroniterBadDateError:
        raise RuleError("never", rule) from None
    if first.date() > _add_years(start, NEVER_YEARS):
        raise RuleError("never", rule)
    return normalised


def _normalise(rule: str) -> str:
    if not isinstance(rule, str):
        raise RuleError("syntax", rule)
    return _normalise_text(rule)


@functools.lru_cache(maxsize=512)
def _normalise_text(rule: str) -> str:
    text = unicodedata.normalize("NFKC", rule).strip()
    text = _ALIASES.get(text.lower(), text)
    fields = text.split()
    if len(fields) >= 6:
        raise RuleError("seconds", rule)
    if len(fields) != 5 or any(_HASH_OR_RANDOM.match(f) for f in fields):
        raise RuleError("syntax", rule)
    normalised = " ".join(fields).upper()
    try:
        croniter.expand(normalised)
    except (ValueError, TypeError, KeyError, IndexError):
        raise RuleError("syntax", rule) from None
    return normalised


@functools.lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {tz!r}") from None


# ---------------------------------------------------------------------------
# Due dates
# ---------------------------------------------------------------------------

def next_due(rule: str, after: _dt.date, tz: str = DEFAULT_TZ) -> _dt.date:
    """The first occurrence date strictly after ``after`` (local dates in ``tz``).

    ``0 0 1 * *``: after 2026-11-01 → 2026-12-01; after 2026-11-15 → 2026-12-01;
    after 2026-12-01 → 2027-01-01.

    :raises RuleError: the rule is invalid (``syntax``/``seconds``) or has no
        further occurrence (``never``).
    """
    return _next_after(_cron(rule, tz), _zone(tz), after, rule)


def first_due_on_or_after(rule: str, day: _dt.date, tz: str = DEFAULT_TZ) -> _dt.date:
    """The first occurrence date on or after ``day`` (a new obligation's first due
    date, from today)."""
    return next_due(rule, day - _ONE_DAY, tz)


def advance(rule: str, current_due: _dt.date, tz: str = DEFAULT_TZ) -> _dt.date:
    """The due date after ``current_due``, for 完成/跳过: counted from the due date,
    never from the day the work was done, so a late or early completion neither skips
    nor repeats a period (November's filing due 2026-12-01, done on 2026-12-20 or on
    2026-11-25, is next due 2027-01-01)."""
    return next_due(rule, current_due, tz)


def previous_due(rule: str, before: _dt.date, tz: str = DEFAULT_TZ) -> _dt.date:
    """The last occurrence date strictly before ``before``.

    :raises RuleError: ``never`` if there is none within croniter's search range
        (50 years).
    """
    zone = _zone(tz)
    it = _cron(rule, tz)
    try:
        found = it.get_prev(_dt.datetime, start_time=_start_of_day(before, zone))
    except CroniterBadDateError:
        raise RuleError("never", rule) from None
    day = found.astimezone(zone).date()
    if day >= before:  # croniter answers strictly before the instant: cannot happen
        raise AssertionError(f"croniter went forward: {rule!r} before {before}: {found}")
    return day


def is_due_on(rule: str, day: _dt.date, tz: str = DEFAULT_TZ) -> bool:
    """Whether ``day`` is an occurrence date of ``rule``."""
    return first_due_on_or_after(rule, day, tz) == day


def occurrences(rule: str, start: _dt.date, end: _dt.date, tz: str = DEFAULT_TZ,
                limit: int = DEFAULT_LIMIT) -> list[_dt.date]:
    """All occurrence dates ``d`` with ``start <= d <= end``, ascending, each once.
    Empty when ``start > end``.

    :raises ValueError: more than ``limit`` dates (a daily rule over years, a
        mistyped rule), rather than building an unbounded list.
    """
    zone = _zone(tz)
    it = _cron(rule, tz)
    found: list[_dt.date] = []
    if start > end:
        return found
    day = _next_after(it, zone, start - _ONE_DAY, rule, missing_ok=True)
    while day is not None and day <= end:
        if len(found) >= limit:
            raise ValueError(f"more than {limit} occurrences of {rule!r} "
                             f"between {start} and {end}")
        found.append(day)
        day = _next_after(it, zone, day, rule, missing_ok=True)
    return found


# ---------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------

def cadence(rule: str, tz: str, around: _dt.date) -> str:
    """The rule's cadence at ``around``: "month", "quarter", "half_year", "year" or
    "other", judged from the occurrence due on or after ``around`` and the one before
    it (see :func:`period_of` for the exact test). Rules that are regular in most
    months but not all (``0 0 31 * *``) can be "month" at one date and "other" at
    another."""
    due = first_due_on_or_after(rule, around, tz)
    return _classify(previous_due(rule, due, tz), due)


def period_of(rule: str, due: _dt.date, tz: str = DEFAULT_TZ) -> str:
    """The period the work due on ``due`` covers: the period BEFORE the due date, as a
    stable key (stored on completion records, searched in 查询管理).

    Let ``prev`` be the last occurrence strictly before ``due`` and ``gap`` the
    days between them. The cadence is

    ==========  ============  =============================================  =========
    cadence     gap (days)    and ``prev`` lies in the …                      key
    ==========  ============  =============================================  =========
    month       28–31         calendar month before due's month               YYYY-MM
    quarter     89–92         quarter before due's quarter                    YYYY-Qn
    half_year   181–184       half-year before due's half-year                YYYY-H1/H2
    year        365–366       year before due's year                          YYYY
    other       anything else                                                 prev..due
    ==========  ============  =============================================  =========

    and the key names the period ``prev`` lies in, i.e. the one just before
    ``due``'s: 每月报税 due 2026-12-01 → ``"2026-11"``, due 2026-01-01 →
    ``"2025-12"``; quarterly ``0 0 1 1,4,7,10 *`` due 2026-04-01 → ``"2026-Q1"``,
    due 2026-01-01 → ``"2025-Q4"``; ``0 0 1 1,7 *`` due 2026-07-01 → ``"2026-H1"``;
    yearly due 2026-01-01 → ``"2025"``, and 工商年检 (30 June) due 2026-06-30 →
    ``"2025"`` as well (the previous calendar year). Weekly, daily and irregular
    rules give ISO dates: due 2026-11-23 of ``0 0 * * 1`` → ``"2026-11-16..2026-11-23"``.

    The adjacency condition keeps keys unique per rule: two due dates of one rule
    never get the same key (for ``0 0 1,30 * *`` both 2026-03-01 and 2026-03-30 are
    28–31 days after their predecessor, but only 2026-03-01's lies in the previous
    month). ``due`` need not be an occurrence (a due date left over from a rule that
    was changed since): the same definition applies to it. Keys are at most 22
    characters.
    """
    prev = previous_due(rule, due, tz)
    kind = _classify(prev, due)
    if kind == "month":
        return f"{prev.year:04d}-{prev.month:02d}"
    if kind == "quarter":
        return f"{prev.year:04d}-Q{(prev.month - 1) // 3 + 1}"
    if kind == "half_year":
        return f"{prev.year:04d}-H{(prev.month - 1) // 6 + 1}"
    if kind == "year":
        return f"{prev.year:04d}"
    return f"{prev.isoformat()}..{due.isoformat()}"


def _classify(prev: _dt.date, due: _dt.date) -> str:
    gap = (due - prev).days
    month_no = lambda d: d.year * 12 + d.month - 1  # noqa: E731
    if 28 <= gap <= 31 and month_no(prev) == month_no(due) - 1:
        return "month"
    if 89 <= gap <= 92 and month_no(prev) // 3 == month_no(due) // 3 - 1:
        return "quarter"
    if 181 <= gap <= 184 and month_no(prev) // 6 == month_no(due) // 6 - 1:
        return "half_year"
    if 365 <= gap <= 366 and prev.year == due.year - 1:
        return "year"
    return "other"


# ---------------------------------------------------------------------------
# croniter plumbing
# ---------------------------------------------------------------------------

def _cron(rule: str, tz: str) -> croniter:
    zone = _zone(tz)
    # Any start will do: every call passes its own start_time.
    return croniter(_normalise(rule), _start_of_day(_dt.date(2000, 1, 1), zone),
                    ret_type=_dt.datetime)


def _start_of_day(day: _dt.date, zone) -> _dt.datetime:
    """The first instant of local ``day``, as an aware datetime in ``zone``. Where
    midnight does not exist (clocks jump 00:00 → 01:00) this is 01:00; where it
    happens twice, the first one."""
    naive_midnight = _dt.datetime.combine(day, _dt.time(0), tzinfo=zone)  # fold=0
    return naive_midnight.astimezone(_UTC).astimezone(zone)


def _end_of_day(day: _dt.date, zone) -> _dt.datetime:
    """The last whole second of local ``day``."""
    return (_start_of_day(day + _ONE_DAY, zone).astimezone(_UTC)
            - _dt.timedelta(seconds=1)).astimezone(zone)


def _next_after(it: croniter, zone, after: _dt.date, rule: str,
                missing_ok: bool = False) -> _dt.date | None:
    try:
        found = it.get_next(_dt.datetime, start_time=_end_of_day(after, zone))
    except CroniterBadDateError:
        if missing_ok:
            return None
        raise RuleError("never", rule) from None
    day = found.astimezone(zone).date()
    if day <= after:  # croniter answers strictly after the instant: cannot happen
        raise AssertionError(f"croniter went back: {rule!r} after {after}: {found}")
    return day


def _add_years(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
