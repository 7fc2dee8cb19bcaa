"""The field rules every writer passes (screens, API, import, CLI, jobs): pure, so
these tests need no app and no database."""
import datetime
from decimal import Decimal

import pytest

from app.domain import validation as v
from app.domain.codes import make_uscc
from app.domain.rules import TABLES

CODE = make_uscc("91", "110105", "12345678")


def reason(rule, value):
    with pytest.raises(v.FieldError) as exc:
        rule.clean(value)
    return exc.value.reason


@pytest.mark.parametrize("text, amount", [
    ("300", Decimal("300.00")), ("1200.5", Decimal("1200.50")), ("1,200.50", Decimal("1200.50")),
    (" ¥88.8 ", Decimal("88.80")), (3600.0, Decimal("3600.00")), ("9999999999.99", Decimal("9999999999.99")),
    ("１２０", Decimal("120.00")), (Decimal("5"), Decimal("5.00")), (7, Decimal("7.00")),
])
def test_money_accepts_plain_amounts(text, amount):
    assert v.parse_money(text) == amount


@pytest.mark.parametrize("text, why", [
    ("0", "money_zero"), ("0.00", "money_zero"), ("-5", "money_negative"),
    ("1.005", "money_places"), ("abc", "money_number"), ("", "money_number"),
    ("NaN", "money_number"), ("nan", "money_number"), ("Infinity", "money_number"),
    ("-Infinity", "money_number"), ("sNaN", "money_number"), ("1e5", "money_number"),
    ("0x10", "money_number"), ("99999999999", "money_large"), ("10000000000", "money_large"),
    (True, "money_number"), (float("nan"), "money_number"), (float("inf"), "money_number"),
    (Decimal("NaN"), "money_number"), ("1\x00", "money_number"), ([1], "money_number"),
])
def test_money_refuses_what_is_not_an_amount(text, why):
    with pytest.raises(v.FieldError) as exc:
        v.parse_money(text)
    assert exc.value.reason == why


def test_money_may_be_zero_where_allowed():
    assert v.parse_money("0", allow_zero=True) == Decimal("0.00")
    assert v.Money(allow_zero=True).clean("0") == Decimal("0.00")
    assert reason(v.Money(allow_zero=False), "0") == "money_zero"


def test_a_blank_value_is_none_unless_required():
    assert v.Money().clean("  ") is None
    assert reason(v.Money(required=True), "") == "required"
    assert reason(v.Text(required=True), "   ") == "required"


@pytest.mark.parametrize("text", ["a\x00b", "\x00", "x\x1b[31m", "\x7f"])
def test_text_refuses_control_characters(text):
    assert reason(v.Text(), text) == "control"


def test_text_keeps_tabs_and_new_lines_and_trims():
    assert v.Text().clean("  第一行\n第二行\t备注 ") == "第一行\n第二行\t备注"


def test_text_length_is_counted_in_characters():
    assert v.Text(max_length=4).clean("北京科技") == "北京科技"
    assert reason(v.Text(max_length=4), "北京科技公司") == "too_long"


def test_text_refuses_what_is_not_text():
    assert reason(v.Text(), {"a": 1}) == "text"
    assert reason(v.Text(), True) == "text"


@pytest.mark.parametrize("typed", [CODE.lower(), " " + CODE[:9] + " " + CODE[9:] + " ",
                                   "".join(chr(ord(c) + 0xFEE0) for c in CODE)])
def test_credit_codes_are_normalised_before_they_are_checked(typed):
    """Lower case, spaces and full-width characters (NFKC) all become the one code."""
    assert v.CreditCode().clean(typed) == CODE


def test_a_credit_code_with_a_wrong_check_digit_is_refused():
    wrong = CODE[:17] + ("0" if CODE[17] != "0" else "1")
    assert reason(v.CreditCode(), wrong) == "check"
    assert reason(v.CreditCode(), CODE + "1") == "length"


@pytest.mark.parametrize("typed, stored", [("138 0013 8000", "13800138000"),
                                           ("+8613800138000", "13800138000"),
                                           ("010-12345678", "010-12345678"),
                                           ("１３８００１３８０００", "13800138000")])
def test_phones_are_normalised(typed, stored):
    assert v.Phone().clean(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "138001380001", "abc", "1" * 40])
def test_a_phone_of_no_known_shape_is_refused(typed):
    assert reason(v.Phone(), typed) == "phone"


@pytest.mark.parametrize("typed, day", [("2026-12-01", datetime.date(2026, 12, 1)),
                                        ("2026/12/1", datetime.date(2026, 12, 1)),
                                        ("2026年12月1日", datetime.date(2026, 12, 1)),
                                        (datetime.datetime(2026, 12, 1, 9), datetime.date(2026, 12, 1))])
def test_dates_are_read_in_the_shapes_people_write(typed, day):
    assert v.Date().clean(typed) == day


@pytest.mark.parametrize("typed, why", [("9999-12-31", "date_range"), ("1899-12-31", "date_range"),
                                        ("2026-02-30", "date"), ("tomorrow", "date"),
                                        ("2026-13-01", "date"), (20261201, "date")])
def test_dates_outside_a_sane_range_or_not_dates_are_refused(typed, why):
    assert reason(v.Date(), typed) == why


def test_whole_numbers_fit_64_bits():
    assert v.Integer().clean("42") == 42
    assert reason(v.Integer(), "9" * 25) == "integer"
    assert reason(v.Integer(), 2 ** 31) == "integer_range"  # INTEGER columns are 32-bit
    assert reason(v.Integer(), "99999999999") == "integer_range"
    assert v.Integer(maximum=v.MAX_INT64).clean(2 ** 40) == 2 ** 40
    assert reason(v.Integer(), "4.5") == "integer"
    assert reason(v.Integer(), True) == "integer"


@pytest.mark.parametrize("value, expected", [("12", 12), (12, 12), ("0", None), ("-1", None),
                                             ("9" * 25, None), ("abc", None), ("", None),
                                             (None, None), ("１２", None), (True, None),
                                             (str(2 ** 31), None), (str(2 ** 31 - 1), 2 ** 31 - 1),
                                             ("99999999999", None)])
def test_an_id_is_a_positive_64_bit_number(value, expected):
    assert v.parse_id(value) == expected


def test_a_choice_is_one_of_its_codes():
    rule = v.Choice(codes=("month", "quarter"))
    assert rule.clean("month") == "month"
    assert reason(rule, "weekly") == "choice"
    assert reason(rule, 1) == "choice"


def test_booleans():
    assert v.Boolean().clean("y") is True and v.Boolean().clean(False) is False
    assert reason(v.Boolean(), "maybe") == "boolean"


def test_croniter_rules_are_normalised_and_checked():
    assert v.CronRule().clean("０ ０ １ ＊ ＊") == "0 0 1 * *"
    assert reason(v.CronRule(), "0 0 31 2 *") == "rule_never"
    assert reason(v.CronRule(), "every day") == "rule_syntax"


def test_invoice_numbers():
    assert v.InvoiceNumber().clean(" 2611 0000 ") == "26110000"
    assert reason(v.InvoiceNumber(), "12/34") == "invoice_number"


def test_checks_across_fields_run_on_the_cleaned_values():
    table = TABLES["contract"]
    rules = {"start_date": v.Date(), "end_date": v.Date()}
    _, errors = v.check(table, rules, {"start_date": "2026-05-01", "end_date": "2026-04-30"},
                        new=False)
    assert list(errors) == ["end_date"]
    _, errors = v.check(table, rules, {"start_date": "2026-05-01", "end_date": "2026-05-01"},
                        new=False)
    assert errors == {}


def test_a_new_row_without_a_required_value_is_refused():
    _, errors = v.check(v.Table(), {"name": v.Text(required=True)}, {}, new=True)
    assert errors == {"name": [("required", {})]}


def test_every_declared_rule_has_a_message():
    """A reason key the edge cannot turn into Chinese would show English."""
    reasons = {"required", "control", "too_long", "text", "choice", "date", "date_range",
               "datetime", "integer", "integer_range", "boolean", "reference", "unique",
               "unknown", "length", "chars", "check", "org_check", "phone",
               "invoice_number", "rule_syntax", "rule_seconds", "rule_never", "rule_length"}
    reasons |= {"money_" + r for r in ("number", "negative", "zero", "places", "large")}
    assert reasons <= set(v.MESSAGES)
