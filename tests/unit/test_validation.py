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


# ---- what the mutation run found untested (docs/mutants.md) ------------------------

def params(rule, value):
    with pytest.raises(v.FieldError) as exc:
        rule.clean(value)
    return exc.value.reason, exc.value.params


def test_the_messages_get_their_numbers():
    """"至多 %(n)d 个字符" and "范围 %(min)d 至 %(max)d" need the rule's own limits."""
    assert params(v.Text(max_length=4), "北京科技公司") == ("too_long", {"n": 4})
    assert params(v.Integer(minimum=1, maximum=10), "11") == ("integer_range",
                                                            {"min": 1, "max": 10})


def test_folded_text_is_stored_in_ascii():
    assert v.Text(fold=True).clean("ＡＢＣ－１２３") == "ABC-123"
    assert v.Text().clean("ＡＢＣ") == "ＡＢＣ"  # only where the column asks for it


def test_a_number_in_a_text_column_is_stored_as_its_text():
    # a spreadsheet cell holding 13800138000 as a number, imported into a text column
    assert v.Text().clean(13800138000) == "13800138000"


@pytest.mark.parametrize("value, expected", [
    (4.0, 4), (Decimal("4"), 4), (Decimal("4.00"), 4), ("+7", 7), (1, 1), (10, 10)])
def test_whole_numbers_given_as_floats_or_decimals_are_kept(value, expected):
    assert v.Integer(minimum=1, maximum=10).clean(value) == expected


@pytest.mark.parametrize("value", [4.5, Decimal("4.5"), Decimal("NaN"), Decimal("Infinity"),
                                   [4], object()])
def test_what_is_not_a_whole_number_is_refused(value):
    assert reason(v.Integer(), value) == "integer"


@pytest.mark.parametrize("value", [0, 11])
def test_whole_numbers_just_outside_the_range_are_refused(value):
    assert reason(v.Integer(minimum=1, maximum=10), value) == "integer_range"


def test_a_reference_is_a_positive_id():
    assert v.Reference(table="client").clean("5") == 5
    assert v.Reference(table="client").clean(1) == 1
    assert reason(v.Reference(table="client"), "0") == "integer_range"
    assert reason(v.Reference(table="client"), "x") == "integer"


@pytest.mark.parametrize("value, expected", [(1, True), (0, False), ("false", False),
                                             ("否", False), ("是", True), (" ON ", True)])
def test_yes_and_no_in_the_shapes_a_form_or_a_sheet_sends(value, expected):
    assert v.Boolean().clean(value) is expected


@pytest.mark.parametrize("value", [2, -1, "2"])
def test_other_numbers_are_not_yes_or_no(value):
    assert reason(v.Boolean(), value) == "boolean"


def test_a_required_yes_or_no_must_be_given():
    assert reason(v.Boolean(required=True), None) == "required"
    assert v.Boolean().clean(None) is None


@pytest.mark.parametrize("typed, day", [("2026.12.01", datetime.date(2026, 12, 1)),
                                        ("20261201", datetime.date(2026, 12, 1)),
                                        ("1900-01-01", v.MIN_DATE), ("2100-12-31", v.MAX_DATE)])
def test_dates_in_dotted_and_compact_shapes_and_at_the_range_ends(typed, day):
    assert v.Date().clean(typed) == day


@pytest.mark.parametrize("typed, moment", [
    ("2026-12-01 09:30", datetime.datetime(2026, 12, 1, 9, 30)),
    ("2026-12-01T09:30", datetime.datetime(2026, 12, 1, 9, 30)),
    ("２０２６-１２-０１ ０９:３０", datetime.datetime(2026, 12, 1, 9, 30)),
    (datetime.date(2026, 12, 1), datetime.datetime(2026, 12, 1)),
    (datetime.datetime(2026, 12, 1, 9), datetime.datetime(2026, 12, 1, 9)),
    ("1900-01-01 00:00", datetime.datetime(1900, 1, 1)),
    ("2100-12-31 23:59", datetime.datetime(2100, 12, 31, 23, 59))])
def test_date_and_time_in_the_shapes_people_write(typed, moment):
    assert v.DateTime().clean(typed) == moment


@pytest.mark.parametrize("typed, why", [("tomorrow 9am", "datetime"), (20261201, "datetime"),
                                        ("1899-12-31 23:59", "date_range"),
                                        ("2101-01-01 00:00", "date_range"),
                                        ("2026-12-01\x00", "control")])
def test_date_and_time_refused_say_why(typed, why):
    assert reason(v.DateTime(), typed) == why


@pytest.mark.parametrize("text, amount", [
    ("1 200.50", Decimal("1200.50")), ("¥1,200", Decimal("1200.00")),
    ("0" * 39 + "1", Decimal("1.00"))])
def test_money_with_spaces_yen_and_leading_zeros(text, amount):
    assert v.parse_money(text) == amount


@pytest.mark.parametrize("text", ["0" * 40 + "1", "1" * 41])
def test_money_typed_longer_than_forty_characters_is_not_an_amount(text):
    with pytest.raises(v.FieldError) as exc:
        v.parse_money(text)
    assert exc.value.reason == "money_number"


def test_check_returns_the_cleaned_values_and_every_error_by_column():
    rules = {"name": v.Text(required=True), "fee": v.Money(), "start": v.Date()}
    cleaned, errors = v.check(v.Table(), rules,
                              {"note": " as typed ", "name": " 北京科技 ", "fee": "abc",
                               "start": "2026/12/1"}, new=True)
    assert cleaned == {"note": " as typed ", "name": "北京科技",
                       "start": datetime.date(2026, 12, 1)}
    assert errors == {"fee": [("money_number", {})]}


def test_a_new_row_may_leave_out_what_is_not_required():
    _, errors = v.check(v.Table(), {"name": v.Text(required=True), "note": v.Text()},
                        {"name": "北京科技"}, new=True)
    assert errors == {}


def test_every_check_across_fields_runs_even_when_an_earlier_one_is_skipped():
    table = v.Table(checks=(v.NotBefore("b", "a", "b_before_a"),
                            v.NotBefore("d", "c", "d_before_c")))
    rules = {k: v.Date() for k in "abcd"}
    _, errors = v.check(table, rules, {"a": "2026-05-01", "b": "not a date",
                                       "c": "2026-05-01", "d": "2026-04-30"}, new=False)
    assert errors == {"b": [("date", {})], "d": [("d_before_c", {})]}


def test_a_recurring_type_with_a_bad_rule_gets_one_message_not_two():
    table = TABLES["obligation_type"]
    _, errors = v.check(table, {"rule": v.CronRule(), "category": v.Text()},
                        {"rule": "every day", "category": "task"}, new=False)
    assert errors == {"rule": [("rule_syntax", {})]}
    _, errors = v.check(table, {"rule": v.CronRule(), "category": v.Text()},
                        {"rule": "", "category": "task"}, new=False)
    assert errors == {"rule": [("required", {})]}
    _, errors = v.check(table, {"rule": v.CronRule(), "category": v.Text()},
                        {"rule": "", "category": "filing"}, new=False)
    assert errors == {}
    _, errors = v.check(table, {"rule": v.CronRule(), "category": v.Text()},
                        {"rule": "0 0 1 * *", "category": "task"}, new=False)
    assert errors == {}


def test_a_table_rewords_its_own_reasons_only():
    table = v.Table(messages={"credit_code": {"unique": "该信用代码已有客户使用"}})
    errors = {"credit_code": [("unique", {}), ("check", {})], "name": [("unique", {})]}
    assert table.reworded(errors) == {
        "credit_code": [("该信用代码已有客户使用", {}), ("check", {})],
        "name": [("unique", {})]}


def test_errors_of_several_rows_or_steps_add_up_by_column():
    errors = v.FieldErrors.one("fee", "money_number")
    errors.merge(v.FieldErrors({"fee": [("money_large", {})], "name": [("required", {})]}))
    assert errors.errors == {"fee": [("money_number", {}), ("money_large", {})],
                             "name": [("required", {})]}
    assert "fee: ['money_number']" in str(v.FieldErrors.one("fee", "money_number"))


@pytest.mark.parametrize("value, expected", [(1, 1), ("1", 1), (v.MAX_ID, v.MAX_ID),
                                             (0, None), (v.MAX_ID + 1, None), (-5, None),
                                             ("0" * 9 + "7", 7), ("0" * 10 + "7", None)])
def test_an_id_at_the_edges_of_its_range(value, expected):
    assert v.parse_id(value) == expected
