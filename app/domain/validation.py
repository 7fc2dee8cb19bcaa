"""Field rules: what a value must be before it is stored, whoever stores it.

Pure (no Flask, no session, no clock). One rule object per kind of field — text,
money, date, whole number, choice, credit code, phone, croniter rule … — each with
``clean(value)``: the value as it is stored (normalised: spaces trimmed, full-width
characters folded, codes upper-cased, amounts as two-place ``Decimal``) or a
:class:`FieldError` whose ``reason`` is a stable key of :data:`MESSAGES` (English
msgids, translated at the edge).

The screens, the REST API, the xlsx import, the CLI and scheduled jobs all pass
through these rules: ``app.data.integrity`` runs them on every row SQLAlchemy is
about to write (a ``before_flush`` check), the API runs them on the posted JSON to
answer 422 field by field, the import on every cell. Which rule a column has is
derived from its type and completed by the declarations in ``app.domain.rules``.
"""
from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import codes
from .choices import N_

#: dates a person can mean (a 9999-12-31 "forever" is refused: see BillingState)
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)
#: ids and whole-number columns are 32-bit INTEGER in both databases (a BIGINT
#: column says so and gets 64 bits)
MAX_ID = 2 ** 31 - 1
MAX_INT32 = 2 ** 31 - 1
MAX_INT64 = 2 ** 63 - 1
#: the largest amount NUMERIC(12, 2) holds
MAX_MONEY = Decimal("9999999999.99")
CENT = Decimal("0.01")
#: a Text column without a length still has one
MAX_TEXT = 20_000
#: C0 control characters other than tab, line feed and carriage return, and DEL
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MESSAGES = {
    "required": N_("This field is required."),
    "control": N_("The text contains control characters (such as a NUL byte), which "
                  "cannot be stored."),
    "too_long": N_("Too long: at most %(n)d characters."),
    "text": N_("Enter text."),
    "choice": N_("Not one of the allowed values."),
    "money_number": N_("Not an amount: write a number such as 300 or 1200.50."),
    "money_negative": N_("The amount cannot be negative."),
    "money_zero": N_("The amount must be greater than 0."),
    "money_places": N_("At most two decimal places (fen)."),
    "money_large": N_("The amount is too large."),
    "date": N_("Not a date: write it as 2026-12-01."),
    "date_range": N_("The date must lie between 1900-01-01 and 2100-12-31."),
    "datetime": N_("Not a date and time: write it as 2026-12-01 09:30."),
    "integer": N_("Enter a whole number."),
    "integer_range": N_("The number is out of range (%(min)d to %(max)d)."),
    "boolean": N_("Enter yes or no."),
    "reference": N_("No such record, or not one you may choose."),
    "unique": N_("This value is already used by another record."),
    "unknown": N_("Unknown field."),
    "read_only": N_("This field cannot be changed here."),
    # codes (GB 32100-2015 and phone shapes, app.domain.codes)
    "length": N_("A unified social credit code has exactly 18 characters."),
    "chars": N_("The code contains characters a unified social credit code cannot have "
                "(I, O, S, V, Z or punctuation), or its region part is not six digits."),
    "check": N_("The check digit (18th character) is wrong: please check the code for a "
                "typo."),
    "org_check": N_("The organization code part (characters 9–17) has a wrong check "
                    "digit: please check the code for a typo."),
    "phone": N_("Enter a mobile number (11 digits) or a landline with area code, "
                "e.g. 010-12345678."),
    "invoice_number": N_("An invoice number has only digits and letters (at most 32)."),
    # contact values (app.domain.contacts)
    "mobile": N_("Enter a mobile number of 11 digits, e.g. 13800138000 (+86 may be "
                 "written in front)."),
    "landline": N_("Enter a landline with its area code, e.g. 010-88886666."),
    "qq": N_("Enter a QQ number (5 to 12 digits)."),
    "email": N_("Enter a valid e-mail address (with @ and a domain)."),
    "wechat": N_("Enter a WeChat id (3 to 64 letters, digits, _ or -)."),
    "cadence": N_("Enter the days of the contact rule as numbers from 1 to 366 separated "
                  "by commas, e.g. 1,3,7."),
    # croniter rules (app.domain.recurrence)
    "rule_syntax": N_("Not a valid rule. Use five fields: minute hour day month weekday, "
                      "e.g. 0 0 1 * * (the 1st of every month)."),
    "rule_seconds": N_("Use five fields (minute hour day month weekday), without seconds."),
    "rule_never": N_("This rule never comes due within five years."),
    "rule_length": N_("The rule is too long."),
    "kind_unknown": N_("Unknown tax kind %(name)s (see Administration › Obligation types)."),
}


class FieldError(ValueError):
    """One value refused: ``reason`` is a :data:`MESSAGES` key, ``params`` its
    placeholders."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason, self.params = reason, params


class FieldErrors(ValueError):
    """Values refused, by field: ``{field: [(reason, params), …]}``. Nothing of the
    row is stored."""

    def __init__(self, errors: dict):
        super().__init__(", ".join(f"{k}: {[r for r, _ in v]}" for k, v in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, name: str, reason: str, **params) -> "FieldErrors":
        return cls({name: [(reason, params)]})

    def merge(self, other: "FieldErrors") -> None:
        for name, items in other.errors.items():
            self.errors.setdefault(name, []).extend(items)


def fold(text: str) -> str:
    """Full-width letters, digits and spaces typed with a Chinese input method as
    their ASCII forms (NFKC); Chinese characters are unchanged."""
    return unicodedata.normalize("NFKC", text)


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise FieldError("text")
    return str(value)


def _no_control(text: str) -> str:
    if _CONTROL.search(text):
        raise FieldError("control")
    return text


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---- the rules --------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A field's rule. ``required``: a blank value is refused (else it is None)."""

    required: bool = False

    def clean(self, value):
        if _blank(value):
            if self.required:
                raise FieldError("required")
            return None
        return self.convert(value)

    def convert(self, value):  # pragma: no cover - every rule defines it
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Rule):
    """Text: trimmed, no control characters (NUL …), at most ``max_length``
    characters; ``fold`` turns full-width ASCII into ASCII."""

    max_length: int = MAX_TEXT
    fold: bool = False

    def convert(self, value):
        text = _no_control(_as_text(value)).strip()
        if self.fold:
            text = fold(text)
        if len(text) > self.max_length:
            raise FieldError("too_long", n=self.max_length)
        if not text:
            if self.required:
                raise FieldError("required")
            return None
        return text


@dataclass(frozen=True)
class CreditCode(Rule):
    """统一社会信用代码 / 纳税人识别号: full-width folded, spaces removed, upper case,
    GB 32100-2015 check digits."""

    def convert(self, value):
        text = fold(_no_control(_as_text(value)))
        try:
            return codes.validate_uscc(text)
        except codes.CodeError as exc:
            raise FieldError(exc.reason) from None


@dataclass(frozen=True)
class Phone(Rule):
    """A mobile, a landline with area code or a 400/800 number."""

    def convert(self, value):
        text = fold(_no_control(_as_text(value)))
        if len(text) > 32:
            raise FieldError("phone")
        try:
            return codes.validate_phone(text)
        except codes.CodeError:
            raise FieldError("phone") from None


@dataclass(frozen=True)
class ContactValue(Rule):
    """A contact value of ``kind`` (mobile, landline, QQ, e-mail, WeChat), stored in
    the normal form the 防撞单 index compares (``app.domain.contacts``)."""

    kind: str = "mobile"

    def convert(self, value):
        from . import contacts

        text = _no_control(_as_text(value))
        if len(text) > 254:
            raise FieldError(self.kind)
        try:
            return contacts.normalise(self.kind, text)
        except contacts.ContactError:
            raise FieldError(self.kind) from None


_INVOICE_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,32}$")


@dataclass(frozen=True)
class InvoiceNumber(Rule):
    """An invoice number: digits and letters (数电票 20 digits, paper 8, some with a
    letter prefix), spaces removed."""

    def convert(self, value):
        text = re.sub(r"\s+", "", fold(_no_control(_as_text(value))))
        if not _INVOICE_NUMBER.match(text):
            raise FieldError("invoice_number")
        return text


@dataclass(frozen=True)
class Money(Rule):
    """An amount: a finite number with at most two decimal places, within
    NUMERIC(12, 2); thousands separators, spaces and ¥ are tolerated in text.
    Negative never; zero only with ``allow_zero``."""

    allow_zero: bool = True

    def convert(self, value):
        return parse_money(value, allow_zero=self.allow_zero)


@dataclass(frozen=True)
class Integer(Rule):
    minimum: int = -MAX_INT32
    maximum: int = MAX_INT32

    def convert(self, value):
        if isinstance(value, bool):
            raise FieldError("integer")
        if isinstance(value, float):
            if not value.is_integer():
                raise FieldError("integer")
            value = int(value)
        if isinstance(value, Decimal):
            if not value.is_finite() or value != value.to_integral_value():
                raise FieldError("integer")
            value = int(value)
        if isinstance(value, str):
            text = fold(value).strip()
            if not re.fullmatch(r"[+-]?\d{1,19}", text):
                raise FieldError("integer")
            value = int(text)
        if not isinstance(value, int):
            raise FieldError("integer")
        if not self.minimum <= value <= self.maximum:
            raise FieldError("integer_range", min=self.minimum, max=self.maximum)
        return value


@dataclass(frozen=True)
class Boolean(Rule):
    _TRUE = ("1", "true", "y", "yes", "on", "是")
    _FALSE = ("0", "false", "n", "no", "off", "否", "")

    def clean(self, value):
        if value is None:
            if self.required:
                raise FieldError("required")
            return None
        return self.convert(value)

    def convert(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in self._TRUE:
                return True
            if text in self._FALSE:
                return False
        raise FieldError("boolean")


@dataclass(frozen=True)
class Date(Rule):
    """A calendar day from 1900-01-01 to 2100-12-31 (ISO text, or a date)."""

    def convert(self, value):
        if isinstance(value, datetime.datetime):
            value = value.date()
        if not isinstance(value, datetime.date):
            if not isinstance(value, str):
                raise FieldError("date")
            text = fold(_no_control(value)).strip()
            try:
                value = _parse_date_text(text)
            except (ValueError, OverflowError):
                raise FieldError("date") from None
        if not MIN_DATE <= value <= MAX_DATE:
            raise FieldError("date_range")
        return value


def _parse_date_text(text: str) -> datetime.date:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


@dataclass(frozen=True)
class DateTime(Rule):
    def convert(self, value):
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            value = datetime.datetime.combine(value, datetime.time())
        if not isinstance(value, datetime.datetime):
            if not isinstance(value, str):
                raise FieldError("datetime")
            text = fold(_no_control(value)).strip().replace("T", " ")
            try:
                value = datetime.datetime.fromisoformat(text)
            except ValueError:
                raise FieldError("datetime") from None
        if not MIN_DATE <= value.date() <= MAX_DATE:
            raise FieldError("date_range")
        return value


@dataclass(frozen=True)
class Choice(Rule):
    """One of the codes of a fixed list (``choices.*``); the code is stored."""

    codes: tuple = ()

    def convert(self, value):
        if not isinstance(value, str) or value not in self.codes:
            raise FieldError("choice")
        return value


@dataclass(frozen=True)
class CronRule(Rule):
    """A croniter rule the recurrence engine accepts (normalised)."""

    def convert(self, value):
        from . import recurrence

        text = _no_control(_as_text(value))
        try:
            return recurrence.validate_rule(text)
        except recurrence.RuleError as exc:
            raise FieldError("rule_" + exc.reason) from None


@dataclass(frozen=True)
class Reference(Rule):
    """The id of a row of ``table`` that must exist (and, with ``active_only``, be
    active). The existence check needs the database: ``app.data.integrity`` runs
    it; here only the shape of the id is checked."""

    table: str = ""
    active_only: bool = False

    def convert(self, value):
        return Integer(minimum=1).convert(value)


# ---- checks across fields ---------------------------------------------------------
@dataclass(frozen=True)
class NotBefore:
    """``field`` may not be earlier than ``other`` (both dates, either blank)."""

    field: str
    other: str
    message: str

    def check(self, values: dict):
        a, b = values.get(self.field), values.get(self.other)
        if a is not None and b is not None and a < b:
            return self.field
        return None


@dataclass(frozen=True)
class RequiredWhen:
    """``field`` is required when ``other`` has the value ``equals`` (a recurring
    type needs a rule; a filing has none)."""

    field: str
    other: str
    equals: str
    message: str = "required"

    def check(self, values: dict):
        if values.get(self.other) == self.equals and _blank(values.get(self.field)):
            return self.field
        return None


@dataclass(frozen=True)
class BlankWhen:
    """``field`` must be blank when ``other`` has the value ``equals`` (a client's fee
    income is a 收款 receipt, never an income entry of the journal with a client)."""

    field: str
    other: str
    equals: str
    message: str

    def check(self, values: dict):
        if values.get(self.other) == self.equals and not _blank(values.get(self.field)):
            return self.field
        return None


@dataclass(frozen=True)
class Table:
    """A table's declarations beyond what its column types say: rules per column
    (they replace the derived ones), checks across columns, and the columns (or
    tuples of columns) whose values must be unique, checked with a message before
    the database's own constraint."""

    rules: dict = field(default_factory=dict)
    checks: tuple = ()
    unique: tuple = ()
    #: column → {reason: msgid}: a message that says more than the generic one
    messages: dict = field(default_factory=dict)

    def reworded(self, errors: dict) -> dict:
        """``errors`` with the table's own messages for its columns' reasons."""
        return {name: [(self.messages.get(name, {}).get(reason, reason), params)
                       for reason, params in items] for name, items in errors.items()}


# ---- money --------------------------------------------------------------------------
def parse_money(value, allow_zero: bool = False) -> Decimal:
    """An amount of money from what a person typed (or a spreadsheet cell, or JSON
    held): a plain finite number with at most two decimal places; thousands
    separators, spaces and a leading ¥ are tolerated. Positive; zero only with
    ``allow_zero``.

    :raises FieldError: ``money_number``, ``money_negative``, ``money_zero``,
        ``money_places``, ``money_large``.
    """
    if isinstance(value, bool) or isinstance(value, (list, dict)):
        raise FieldError("money_number")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float
    if isinstance(value, Decimal):
        amount = value
    else:
        text = fold(str(value if value is not None else "")).strip()
        if _CONTROL.search(text) or len(text) > 40:
            raise FieldError("money_number")
        for junk in (",", "，", " ", "\u00a0", "¥", "￥"):
            text = text.replace(junk, "")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
            # no exponents, NaN, Infinity or hex: only what a person writes
            raise FieldError("money_number")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise FieldError("money_number") from None
    if not amount.is_finite():
        raise FieldError("money_number")
    if amount < 0:
        raise FieldError("money_negative")
    if amount == 0 and not allow_zero:
        raise FieldError("money_zero")
    if amount > MAX_MONEY:
        raise FieldError("money_large")
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise FieldError("money_places")
    return amount.quantize(CENT)


# ---- running the rules ----------------------------------------------------------------
def check(table: Table, rules: dict, values: dict, new: bool) -> tuple[dict, dict]:
    """Run ``rules`` (column → Rule) over ``values`` (column → value as given).

    :param new: a new row: required columns missing from ``values`` are errors.
    :return: (cleaned values, errors ``{column: [(reason, params)]}``); the checks
        across columns of ``table`` run on the cleaned values (``values`` should then
        hold the row's other values too).
    """
    cleaned, errors = {}, {}
    for name, value in values.items():
        rule = rules.get(name)
        if rule is None:
            cleaned[name] = value
            continue
        try:
            cleaned[name] = rule.clean(value)
        except FieldError as exc:
            errors.setdefault(name, []).append((exc.reason, exc.params))
    if new:
        for name, rule in rules.items():
            if rule.required and name not in values:
                errors.setdefault(name, []).append(("required", {}))
    for chk in table.checks:
        if chk.field in errors or chk.other in errors:
            continue
        bad = chk.check(cleaned)
        if bad:
            errors.setdefault(bad, []).append((chk.message, {}))
    return cleaned, errors


def parse_id(value) -> int | None:
    """A row id from a URL, a form or JSON: a positive 32-bit integer (the ids of
    both databases' INTEGER keys), else None (the caller answers 404: there is no
    such row)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
