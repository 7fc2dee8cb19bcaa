"""Check digits of Chinese identification codes, and phone-number shapes.

- 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters from a
  31-character alphabet (no I, O, S, V, Z); character 18 is a mod-31 check digit.
- Characters 9–17 are the GB 11714 organization code, whose 9th character is itself
  a mod-11 check digit (0-9 or X).
"""
import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
_SERVICE = re.compile(r"^[48]00-?\d{3}-?\d{4}$")


class CodeError(ValueError):
    """A code is malformed; ``reason`` is a stable key the edge turns into a message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def uscc_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 characters are given."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """The 9th character (check digit) of a GB 11714 organization code."""
    total = sum(_org_value(c) * w for c, w in zip(first8, ORG_WEIGHTS))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def _org_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    return ord(char) - ord("A") + 10


def normalize_code(value: str | None) -> str:
    """Upper-case, strip spaces (people paste codes with spaces and lower case)."""
    return re.sub(r"\s+", "", value or "").upper()


def validate_uscc(value: str) -> str:
    """Return the normalised credit code.

    :raises CodeError: reason ``length``, ``chars``, ``check`` or ``org_check``.
    """
    code = normalize_code(value)
    if len(code) != 18:
        raise CodeError("length")
    if any(c not in USCC_ALPHABET for c in code):
        raise CodeError("chars")
    if not code[2:8].isdigit():
        raise CodeError("chars")
    if uscc_check_char(code[:17]) != code[17]:
        raise CodeError("check")
    if org_check_char(code[8:16]) != code[16]:
        raise CodeError("org_check")
    return code


def make_uscc(prefix2: str, region6: str, org8: str) -> str:
    """Build a valid credit code from its parts (demo data and tests)."""
    org = org8 + org_check_char(org8)
    first17 = prefix2 + region6 + org
    return first17 + uscc_check_char(first17)


def validate_phone(value: str) -> str:
    """Return the normalised phone number (mobile, landline with area code, 400/800).

    :raises CodeError: reason ``phone``.
    """
    phone = re.sub(r"[\s()（）]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if _MOBILE.match(phone) or _LANDLINE.match(phone) or _SERVICE.match(phone):
        return phone
    raise CodeError("phone")
