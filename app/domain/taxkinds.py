"""Tax kinds (税种) and which clients file them how often: pure declarations and
rules; the rows are in ``obligation_type`` (category ``filing``) and
``client_tax_kind``.

- A new client files each kind at its taxpayer type's default cycle (一般纳税人:
  增值税 monthly; 小规模纳税人: 增值税 and 附加 quarterly; everyone: 个税 monthly,
  企业所得税 quarterly …) — :data:`SHIPPED_FILINGS`; an Admin adds kinds.
- A client's kinds are edited on the client form, the import (the 报税税种 column,
  :func:`parse_kinds`) and the API (``tax_kinds``: name → cycle).
- The 2026 holidays and 调休 working days (国办发明电〔2025〕7号) are shipped with
  :data:`CALENDAR_2026`; later years are entered by an Admin.
"""
from __future__ import annotations

import datetime
import re

from .choices import N_

MONTH, QUARTER, YEAR, NONE = "month", "quarter", "year", "none"
CYCLES = (MONTH, QUARTER, YEAR, NONE)

#: code → (name, cycle for 小规模, cycle for 一般纳税人, own (month, day) of a yearly
#: filing or None). Names are the firm's Chinese terms (data, like dictionary rows).
SHIPPED_FILINGS: dict[str, tuple] = {
    "vat": ("增值税", QUARTER, MONTH, None),
    "surtax": ("附加税费", QUARTER, MONTH, None),
    "iit": ("个人所得税（代扣代缴）", MONTH, MONTH, None),
    "cit": ("企业所得税（季度预缴）", QUARTER, QUARTER, None),
    "stamp": ("印花税", QUARTER, QUARTER, None),
    "statements": ("财务报表", QUARTER, MONTH, None),
    "cit_annual": ("企业所得税汇算清缴", YEAR, YEAR, (5, 31)),
    "business_annual": ("工商年报", YEAR, YEAR, (6, 30)),
}
#: shipped recurring types the filing calendar replaces (retired by ``flask init``:
#: their history stays): 每月报税 became the tax kinds, 税务年报 the 汇算清缴,
#: 工商年检 the 工商年报 (with its legal deadline)
REPLACED_TASKS = ("monthly_filing", "tax_annual_report", "annual_inspection")


def default_cycle(taxpayer_type: str, cycle_small, cycle_general) -> str:
    """A new client's cycle for a kind, from his taxpayer type."""
    cycle = cycle_general if taxpayer_type == "general" else cycle_small
    return cycle or NONE


# ---- the import's 报税税种 column --------------------------------------------------
CYCLE_WORDS = {"月": MONTH, "按月": MONTH, "每月": MONTH, "month": MONTH,
               "季": QUARTER, "按季": QUARTER, "每季": QUARTER, "季度": QUARTER,
               "quarter": QUARTER,
               "年": YEAR, "按年": YEAR, "每年": YEAR, "year": YEAR,
               "无": NONE, "不申报": NONE, "无需申报": NONE, "none": NONE}
_SEPARATORS = re.compile(r"[;；,，、\n]+")
_PAIR = re.compile(r"^(.+?)\s*[:：(（]\s*([^)）]+?)\s*[)）]?$")

MESSAGES = {
    "kind_unknown": N_("Unknown tax kind %(name)s (see Administration › Obligation types)."),
    "kind_cycle": N_("Unknown cycle %(value)s for %(name)s: write 月, 季, 年 or 无."),
    "kind_twice": N_("The tax kind %(name)s is named twice."),
}


class KindsError(ValueError):
    """A 报税税种 text that cannot be read: ``reason`` (a :data:`MESSAGES` key) and
    its placeholders."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason, self.params = reason, params


def parse_kinds(text: str, names: dict) -> dict:
    """``增值税:季；个人所得税(月)；印花税:无`` → ``{type id: cycle}``.

    :param names: kind name → type id (the active filing types).
    :raises KindsError: an unknown kind or cycle, or a kind named twice.
    """
    found: dict = {}
    for part in _SEPARATORS.split(text or ""):
        part = part.strip()
        if not part:
            continue
        match = _PAIR.match(part)
        name, word = (match.group(1).strip(), match.group(2).strip()) if match else (part, "月")
        if name not in names:
            raise KindsError("kind_unknown", name=name)
        cycle = CYCLE_WORDS.get(word.lower())
        if cycle is None:
            raise KindsError("kind_cycle", name=name, value=word)
        if names[name] in found:
            raise KindsError("kind_twice", name=name)
        found[names[name]] = cycle
    return found


def format_kinds(kinds: list[tuple[str, str]]) -> str:
    """``[(name, cycle)]`` → the import's text (kinds not filed left out)."""
    word = {MONTH: "月", QUARTER: "季", YEAR: "年"}
    return "；".join(f"{name}:{word[cycle]}" for name, cycle in kinds if cycle in word)


# ---- the 2026 calendar ------------------------------------------------------------------
def _days(first: str, last: str) -> list[datetime.date]:
    a, b = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    return [a + datetime.timedelta(days=i) for i in range((b - a).days + 1)]


#: (day, "holiday" | "workday", name) — 国办发明电〔2025〕7号
CALENDAR_2026 = (
    [(d, "holiday", "元旦") for d in _days("2026-01-01", "2026-01-03")]
    + [(datetime.date(2026, 1, 4), "workday", "元旦调休")]
    + [(d, "holiday", "春节") for d in _days("2026-02-15", "2026-02-23")]
    + [(datetime.date(2026, 2, 14), "workday", "春节调休"),
       (datetime.date(2026, 2, 28), "workday", "春节调休")]
    + [(d, "holiday", "清明节") for d in _days("2026-04-04", "2026-04-06")]
    + [(d, "holiday", "劳动节") for d in _days("2026-05-01", "2026-05-05")]
    + [(datetime.date(2026, 5, 9), "workday", "劳动节调休")]
    + [(d, "holiday", "端午节") for d in _days("2026-06-19", "2026-06-21")]
    + [(d, "holiday", "中秋节") for d in _days("2026-09-25", "2026-09-27")]
    + [(datetime.date(2026, 9, 20), "workday", "国庆节调休")]
    + [(d, "holiday", "国庆节") for d in _days("2026-10-01", "2026-10-07")]
    + [(datetime.date(2026, 10, 10), "workday", "国庆节调休")]
)
