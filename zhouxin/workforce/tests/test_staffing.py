"""The staffing norm from households follows the DESIGN default table, worked by hand."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhouxin.workforce.staffing import DEFAULT_STAFFING, Staffing, norm


@pytest.mark.parametrize(("households", "workers"), [
    (0, 3), (1_999, 3), (2_000, 4), (2_999, 4), (3_000, 5), (3_999, 5), (4_000, 6), (4_999, 6),
    (5_000, 7), (5_499, 7), (5_500, 8), (9_999, 16), (10_000, 17), (50_000, 17),
])
def test_default_norm_by_households(households, workers):
    assert norm(households, DEFAULT_STAFFING) == workers


def test_unknown_households_have_no_norm_and_no_shortage():
    assert norm(None, DEFAULT_STAFFING) is None
    assert Staffing(households=None, norm=None, actual=2).shortage == 0
    assert Staffing(households=4_200, norm=6, actual=4).shortage == 2
    assert Staffing(households=1_000, norm=3, actual=5).shortage == 0


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
def test_more_households_never_need_fewer_workers_and_never_above_the_cap(a, b):
    low, high = sorted((a, b))
    assert 3 <= norm(low, DEFAULT_STAFFING) <= norm(high, DEFAULT_STAFFING) <= 17
