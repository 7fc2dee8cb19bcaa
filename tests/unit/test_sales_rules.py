"""销售 rules without an app: one normal form per contact value (防撞单), the 1-3-7
cadence, the pool, a contract's amounts and a won client's fee."""
import datetime
from decimal import Decimal

import pytest

from app.domain import contacts, sales

D = datetime.date


@pytest.mark.parametrize("typed", ["+86 138-0013-8000", "0086 13800138000", "13800138000",
                                   "138 0013 8000", "+8613800138000", "8613800138000",
                                   "１３８００１３８０００"])
def test_a_mobile_typed_any_way_is_one_key(typed):
    assert contacts.normalise("mobile", typed) == "13800138000"


@pytest.mark.parametrize("typed", ["(010) 8888-6666", "010-88886666", "010 8888 6666",
                                   "01088886666", "（010）88886666"])
def test_a_landline_typed_any_way_is_one_key(typed):
    assert contacts.normalise("landline", typed) == "010-88886666"


def test_a_four_digit_area_code_and_an_extension():
    assert contacts.normalise("landline", "0755 6669 3287") == "0755-66693287"
    assert contacts.normalise("landline", "075566693287") == "0755-66693287"
    assert contacts.normalise("landline", "0755-66693287 转 801") == "0755-66693287-801"


def test_email_and_wechat_are_lower_case_and_qq_digits():
    assert contacts.normalise("email", " Foo@Bar.com ") == "foo@bar.com"
    assert contacts.normalise("wechat", "Wang_Zong88") == "wang_zong88"
    assert contacts.normalise("qq", " 123456789 ") == "123456789"


@pytest.mark.parametrize("kind,typed", [("mobile", "1380013800"), ("mobile", "23800138000"),
                                        ("landline", "88886666"), ("qq", "0123"),
                                        ("email", "foo@"), ("wechat", "a"),
                                        ("credit", "91350100M000100Y44")])
def test_values_of_the_wrong_shape_are_refused(kind, typed):
    with pytest.raises(contacts.ContactError):
        contacts.normalise(kind, typed)


def test_a_clients_phone_column_is_a_mobile_or_a_landline():
    keys = contacts.keys_of({"phone:contact_phone": "+86 139 0000 0000",
                             "phone:legal_rep_phone": "(021) 6666-8888",
                             "credit_code": "91350100M000100Y43"})
    assert keys == {("mobile", "13900000000"), ("landline", "021-66668888"),
                    ("credit", "91350100M000100Y43")}


def test_cadence_is_parsed_and_gives_the_due_dates():
    assert sales.parse_cadence("1,3,7") == (1, 3, 7)
    assert sales.parse_cadence("7，3 1") == (1, 3, 7)
    assert sales.cadence_dates(D(2026, 12, 1), (1, 3, 7)) == [D(2026, 12, 2), D(2026, 12, 4),
                                                             D(2026, 12, 8)]
    for bad in ("", "0", "a,b", "1,400", "NaN", "1" * 30):
        with pytest.raises(sales.CadenceError):
            sales.parse_cadence(bad)


def test_a_follow_up_is_missed_when_late_or_not_done_by_its_day():
    due = D(2026, 12, 4)
    assert not sales.missed(due, due, D(2026, 12, 10))
    assert sales.missed(due, D(2026, 12, 5), D(2026, 12, 10))
    assert sales.missed(due, None, D(2026, 12, 5))
    assert not sales.missed(due, None, D(2026, 12, 4))


def test_pool_and_claim_limit():
    assert sales.returns_to_pool(D(2026, 11, 1), D(2026, 12, 1), 30)
    assert not sales.returns_to_pool(D(2026, 11, 2), D(2026, 12, 1), 30)
    assert sales.may_claim(1, 2) and not sales.may_claim(2, 2)


def test_contract_amounts_are_decimal_and_never_negative():
    assert sales.line_amount(Decimal("300.00"), 12, Decimal("600.00")) == Decimal("3000.00")
    assert sales.line_amount(Decimal("100"), 1, Decimal("500")) == Decimal("0.00")
    assert sales.contract_total([(Decimal("300"), 12, Decimal("0")),
                                 (Decimal("800"), 1, Decimal("100"))]) == Decimal("4300.00")


def test_a_won_clients_fee_follows_the_largest_recurring_item():
    assert sales.client_terms([("month", Decimal("3600")), ("once", Decimal("800"))]) == \
        ("month", Decimal("3600.00"))
    assert sales.client_terms([("quarter", Decimal("900")), ("month", Decimal("100"))]) == \
        ("quarter", Decimal("1200.00"))
    assert sales.client_terms([("once", Decimal("800"))]) == ("month", Decimal("0.00"))
