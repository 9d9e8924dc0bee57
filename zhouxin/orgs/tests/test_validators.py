import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from zhouxin.orgs.validators import (
    ID_CHECK_CHARS,
    id_check_char,
    is_valid_id_number,
    validate_id_number,
    validate_mobile_phone,
)

# Published examples (GB 11643 appendix and the personas fixture).
VALID_IDS = ["11010519491231002X", "11010119800101007X", "110101198507070029"]


@pytest.mark.parametrize("number", VALID_IDS)
def test_known_valid_id_numbers_are_accepted(number):
    assert validate_id_number(number) == number


def test_lowercase_x_is_normalised_to_upper_case():
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "请填写身份证号"),
        ("11010519491231002", "应为 18 位"),
        ("1101051949123100200", "应为 18 位"),
        ("1101051949123100A2", "前 17 位必须是数字"),
        ("11010519491231002Y", "前 17 位必须是数字"),
        ("110105194902300021", "不是有效日期"),   # 30 February
        ("110105194913010021", "不是有效日期"),   # month 13
        ("110105189912310021", "不在合理范围"),   # before 1900
        ("110105299912310021", "不在合理范围"),   # in the future
        ("110105194912310021", "校验位不正确"),   # right shape, wrong check character
    ],
)
def test_invalid_id_numbers_get_a_chinese_message(number, message):
    with pytest.raises(ValidationError) as info:
        validate_id_number(number)
    assert message in info.value.messages[0]


def test_check_char_of_the_standard_example():
    # GB 11643-1999 appendix: 11010519491231002 → X
    assert id_check_char("11010519491231002") == "X"


birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31))


@settings(max_examples=400, deadline=None)
@given(
    area=st.text(alphabet="0123456789", min_size=6, max_size=6),
    birth=birth_dates,
    sequence=st.text(alphabet="0123456789", min_size=3, max_size=3),
    check=st.sampled_from(list(ID_CHECK_CHARS) + ["x"]),
)
def test_validator_accepts_exactly_the_numbers_with_a_valid_checksum(area, birth, sequence, check):
    first17 = f"{area}{birth:%Y%m%d}{sequence}"
    number = first17 + check
    # The checksum computed independently of the module under test: Σ digit·2^(17-i) mod 11.
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    expected = "10X98765432"[total % 11]
    assert is_valid_id_number(number) == (check.upper() == expected)


@settings(max_examples=200, deadline=None)
@given(first17=st.text(alphabet="0123456789", min_size=17, max_size=17), birth=birth_dates)
def test_every_prefix_has_exactly_one_accepted_check_char(first17, birth):
    first17 = first17[:6] + f"{birth:%Y%m%d}" + first17[14:]
    accepted = [c for c in ID_CHECK_CHARS if is_valid_id_number(first17 + c)]
    assert len(accepted) == 1


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812341234", "13812341234"),
        ("138 1234 1234", "13812341234"),
        ("138-1234-1234", "13812341234"),
        ("+86 138 1234 1234", "13812341234"),
        ("8613812341234", "13812341234"),
        ("19912345678", "19912345678"),
    ],
)
def test_mobile_numbers_are_normalised(raw, normalised):
    assert validate_mobile_phone(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写手机号"),
        ("1381234123", "应为 11 位"),
        ("138123412345", "应为 11 位"),
        ("12812341234", "以 13 至 19 开头"),
        ("010-6512345", "应为 11 位"),
        ("1381234123a", "只能包含数字"),
        ("１３８１２３４１２３４", "只能包含数字"),  # full-width digits are not silently accepted
    ],
)
def test_invalid_mobile_numbers_get_a_chinese_message(raw, message):
    with pytest.raises(ValidationError) as info:
        validate_mobile_phone(raw)
    assert message in info.value.messages[0]
