"""The import's 报税税种 column and a new client's cycles: pure rules, no app."""
import pytest

from app.domain.taxkinds import (KindsError, default_cycle, format_kinds, parse_kinds)

NAMES = {"增值税": 1, "个人所得税": 2, "印花税": 3, "企业所得税汇算清缴": 4}


@pytest.mark.parametrize("text, kinds", [
    ("增值税:季；个人所得税(月)；印花税:无", {1: "quarter", 2: "month", 3: "none"}),
    ("增值税：按季, 个人所得税（每月）、印花税 : 无需申报", {1: "quarter", 2: "month", 3: "none"}),
    ("增值税\n企业所得税汇算清缴:年", {1: "month", 4: "year"}),   # no cycle: monthly
    ("增值税:Quarter;;", {1: "quarter"}),
    ("增值税:季； ；个人所得税:月", {1: "quarter", 2: "month"}),   # a blank entry between
    ("", {}), (None, {}), ("  ；  ", {}),
])
def test_the_tax_kinds_column_is_read_as_people_write_it(text, kinds):
    assert parse_kinds(text, NAMES) == kinds


@pytest.mark.parametrize("text, reason, params", [
    ("消费税:月", "kind_unknown", {"name": "消费税"}),
    ("增值税:两月", "kind_cycle", {"name": "增值税", "value": "两月"}),
    ("增值税:季；增值税:月", "kind_twice", {"name": "增值税"}),
])
def test_what_cannot_be_read_says_which_kind_and_why(text, reason, params):
    with pytest.raises(KindsError) as err:
        parse_kinds(text, NAMES)
    assert (err.value.reason, err.value.params) == (reason, params)


def test_the_column_written_back_leaves_out_kinds_not_filed():
    assert format_kinds([("增值税", "quarter"), ("印花税", "none"), ("个人所得税", "month"),
                         ("企业所得税汇算清缴", "year")]) == \
        "增值税:季；个人所得税:月；企业所得税汇算清缴:年"
    # what is written back reads back the same
    text = format_kinds([("增值税", "quarter"), ("个人所得税", "month")])
    assert parse_kinds(text, NAMES) == {1: "quarter", 2: "month"}


def test_a_new_clients_cycle_follows_his_taxpayer_type():
    assert default_cycle("general", "quarter", "month") == "month"
    assert default_cycle("small", "quarter", "month") == "quarter"
    assert default_cycle("small", None, "month") == "none"
