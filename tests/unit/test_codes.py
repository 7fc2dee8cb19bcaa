"""Check digits of Chinese codes: pure functions, no app, no database."""
import pytest

from app.domain.codes import (
    CodeError,
    make_uscc,
    normalize_code,
    org_check_char,
    uscc_check_char,
    validate_phone,
    validate_uscc,
)

# Published codes of real companies (business licences are public records).
REAL_CODES = ["91350100M000100Y43", "911101080828461726", "91310000132149237G",
              "91440300708461136T"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_validate(code):
    assert validate_uscc(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize("code, reason", [
    ("91350100M000100Y4", "length"),
    ("91350100M000100Y433", "length"),
    ("91350100M000100I43", "chars"),    # I is not in the alphabet
    ("913501O0M000100Y43", "chars"),    # region part must be digits
    ("91350100M000100Y44", "check"),    # last digit off by one
])
def test_malformed_codes_say_why(code, reason):
    with pytest.raises(CodeError) as err:
        validate_uscc(code)
    assert err.value.reason == reason


def test_every_single_character_typo_in_the_body_is_caught():
    code = REAL_CODES[0]
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for pos in range(17):
        for ch in alphabet:
            if ch == code[pos]:
                continue
            typo = code[:pos] + ch + code[pos + 1:]
            with pytest.raises(CodeError):
                validate_uscc(typo)


def test_embedded_organization_code_check_digit_is_verified():
    # A code whose 18th digit is right for its first 17, but whose organization
    # code (characters 9-17) has a wrong check digit.
    body = "91110105" + "12345678"
    wrong_org = "0" if org_check_char("12345678") != "0" else "1"
    first17 = body + wrong_org
    code = first17 + uscc_check_char(first17)
    with pytest.raises(CodeError) as err:
        validate_uscc(code)
    assert err.value.reason == "org_check"


def test_org_check_digit_known_values():
    # GB 11714 examples: D2143569-X style, and a plain digit case.
    assert org_check_char("D2143569") == "X"
    assert org_check_char("70846113") == "6"


@pytest.mark.parametrize("region", ["A10105", "1A0105", "11010A"])
def test_a_letter_in_the_region_part_is_refused_even_with_right_check_digits(region):
    with pytest.raises(CodeError) as err:
        validate_uscc(make_uscc("91", region, "12345678"))
    assert err.value.reason == "chars"


def test_an_organization_code_whose_check_digit_is_zero_is_valid():
    # 11 - (weighted sum mod 11) is 11 here, written "0"
    assert org_check_char("10000004") == "0"
    code = make_uscc("91", "110105", "10000004")
    assert code[16] == "0" and validate_uscc(code) == code


def test_an_empty_code_field_stays_empty():
    assert normalize_code(None) == "" and normalize_code("  ") == ""


def test_made_codes_are_valid():
    assert validate_uscc(make_uscc("91", "440305", "ABCD1234"))


@pytest.mark.parametrize("phone, normal", [
    ("13800138000", "13800138000"), ("+86 138 0013 8000", "13800138000"),
    ("010-12345678", "010-12345678"), ("0755-1234567", "0755-1234567"),
    ("400-123-4567", "400-123-4567"),
])
def test_phone_shapes_accepted(phone, normal):
    assert validate_phone(phone) == normal


@pytest.mark.parametrize("phone", ["12345", "12800138000", "1380013800", "abc", "010-12"])
def test_phone_shapes_refused(phone):
    with pytest.raises(CodeError) as err:
        validate_phone(phone)
    assert err.value.reason == "phone"  # the key the form's Chinese message is chosen by
