"""防撞单: contact values in one normal form, so that the same mobile, WeChat, QQ,
landline, e-mail or credit code typed differently is found as the same key.

Pure functions (no Flask, no session). ``normalise(kind, text)`` returns the key
stored in the shared ``contact_key`` table, or raises :class:`ContactError`.
"""
from __future__ import annotations

import re
import unicodedata

from . import codes

KINDS = ("mobile", "wechat", "qq", "landline", "email", "credit")
#: the lead / contact columns holding each kind
COLUMNS = {"mobile": "mobile", "wechat": "wechat", "qq": "qq", "landline": "landline",
           "email": "email", "credit": "credit_code"}

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_QQ = re.compile(r"^[1-9]\d{4,11}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,}$")
_WECHAT = re.compile(r"^[a-z0-9_\-.@+]{3,64}$")
#: area codes of three digits (010 Beijing, 02x the big cities); all others have four
_SHORT_AREA = re.compile(r"^0(10|2\d)")


class ContactError(ValueError):
    """Not a value of this kind; ``reason`` is a key of the validation messages."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def mobile(text: str) -> str:
    """``+86 138-0013-8000``, ``0086 13800138000``, ``138 0013 8000`` → ``13800138000``."""
    digits = re.sub(r"[\s\-()（）.]", "", _fold(text))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise ContactError("mobile")
    return digits


def landline(text: str) -> str:
    """``(010) 8888-6666``, ``010 88886666``, ``01088886666`` → ``010-88886666``; an
    extension is kept after a second ``-``."""
    raw = _fold(text)
    ext = ""
    m = re.search(r"(?:转|ext\.?|x|#)\s*(\d{1,6})$", raw, re.I)
    if m:
        ext, raw = m.group(1), raw[:m.start()]
    if raw.startswith("+86"):
        raw = "0" + raw[3:].lstrip(" -")
    parts = [p for p in re.split(r"[\s\-()（）.]+", raw) if p]
    if not parts or not all(p.isdigit() for p in parts):
        raise ContactError("landline")
    if len(parts) >= 2 and parts[0].startswith("0") and 3 <= len(parts[0]) <= 4:
        area, number = parts[0], "".join(parts[1:3])
        if len(parts) == 4 and not ext:
            ext = parts[3]
        elif len(parts) > 4:
            raise ContactError("landline")
    else:
        digits = "".join(parts)
        if not digits.startswith("0"):
            raise ContactError("landline")
        cut = 3 if _SHORT_AREA.match(digits) else 4
        area, number = digits[:cut], digits[cut:]
    if not (7 <= len(number) <= 8) or number.startswith("0"):
        raise ContactError("landline")
    return f"{area}-{number}" + (f"-{ext}" if ext else "")


def qq(text: str) -> str:
    digits = re.sub(r"\s", "", _fold(text))
    if not _QQ.match(digits):
        raise ContactError("qq")
    return digits


def email(text: str) -> str:
    value = _fold(text).lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ContactError("email")
    return value


def wechat(text: str) -> str:
    """A WeChat id (letters, digits, _ and -; often a mobile number), lower case."""
    value = re.sub(r"\s", "", _fold(text)).lower()
    if not _WECHAT.match(value):
        raise ContactError("wechat")
    return value


def credit(text: str) -> str:
    try:
        return codes.validate_uscc(_fold(text))
    except codes.CodeError as exc:
        raise ContactError(exc.reason) from None


NORMALISERS = {"mobile": mobile, "landline": landline, "qq": qq, "email": email,
               "wechat": wechat, "credit": credit}


def normalise(kind: str, text) -> str:
    """The stored key of a contact value of ``kind``.

    :raises ContactError: not a value of that kind.
    """
    if text is None or not str(text).strip():
        raise ContactError("required")
    return NORMALISERS[kind](text)


def phone_kind(text: str) -> str | None:
    """``mobile`` or ``landline`` for a phone column that holds either (a client's
    contact phone), None when it is neither."""
    for kind in ("mobile", "landline"):
        try:
            NORMALISERS[kind](text)
            return kind
        except ContactError:
            continue
    return None


def keys_of(values: dict) -> set[tuple[str, str]]:
    """``{(kind, key)}`` of a row's contact columns (``COLUMNS`` names; a client's
    ``phone:<column>`` entries are classified as mobile or landline); values that do
    not normalise are left out (the field rules refuse them before)."""
    found = set()
    for kind, column in COLUMNS.items():
        text = values.get(column)
        if text:
            try:
                found.add((kind, normalise(kind, text)))
            except ContactError:
                pass
    for name, text in values.items():
        if name.startswith("phone:") and text:
            kind = phone_kind(text)
            if kind:
                found.add((kind, normalise(kind, text)))
    return found
