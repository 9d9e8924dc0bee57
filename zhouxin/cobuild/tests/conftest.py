import pytest


@pytest.fixture(autouse=True)
def _fresh_unit_records():
    """Units' records are cached in-process; a test's rolled-back projects must not leak."""
    from zhouxin.cobuild import matching

    matching.invalidate_records()
    yield
    matching.invalidate_records()
