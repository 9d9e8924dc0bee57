"""The indicators registry (core.indicators): periods, registration, computing many indicators
with one failing, showing values, and the helpers the domains' computes share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from zhouxin.core import indicators
from zhouxin.core.indicators import Period

D = Decimal


@pytest.fixture
def fakes():
    """Register throw-away indicators; they are removed after the test."""
    names = []

    def add(name, **kwargs):
        kwargs.setdefault("title", name)
        kwargs.setdefault("unit", indicators.COUNT)
        kwargs.setdefault("domain", "测试")
        kwargs.setdefault("compute", lambda areas, period: {a.pk: 1 for a in areas})
        indicators.register(name, **kwargs)
        names.append(name)
        return indicators.get(name)

    yield add
    for name in names:
        indicators.unregister(name)


def _areas(*pks):
    return [SimpleNamespace(pk=pk, code=f"1101010010{pk:02d}", level="community") for pk in pks]


# --- Periods ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "start", "end", "kind", "key"), [
    ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31), indicators.MONTH, "2026-10"),
    ("2026-2", dt.date(2026, 2, 1), dt.date(2026, 2, 28), indicators.MONTH, "2026-02"),
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), indicators.MONTH, "2024-02"),
    ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30), indicators.QUARTER, "2026-Q3"),
    (" 2026q1 ", dt.date(2026, 1, 1), dt.date(2026, 3, 31), indicators.QUARTER, "2026-Q1"),
    ("2026Q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31), indicators.QUARTER, "2026-Q4"),
    ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31), indicators.YEAR, "2026"),
])
def test_parse_and_key_are_inverse(text, start, end, kind, key):
    period = Period.parse(text)
    assert (period.start, period.end, period.kind, period.key) == (start, end, kind, key)
    assert Period.parse(period.key) == period


@pytest.mark.parametrize("text", ["", None, "2026-13", "2026-0", "2026-Q5", "2026-Q0", "26-10", "abc", "2026/10",
                                  "2026-10-01", "二〇二六"])
def test_bad_periods_get_a_clear_message(text):
    with pytest.raises(ValidationError) as caught, translation.override("zh-hans"):
        Period.parse(text)
    assert "统计期格式不正确" in caught.value.messages[0]
    assert "2026-Q3" in caught.value.messages[0]


@pytest.mark.parametrize("text", ["1999", "2100-01", "1999-Q4"])
def test_periods_out_of_range_are_refused(text):
    with pytest.raises(ValidationError) as caught, translation.override("zh-hans"):
        Period.parse(text)
    assert caught.value.messages == ["统计期应在 2000 年到 2099 年之间。"]


def test_labels():
    with translation.override("zh-hans"):
        assert Period.parse("2026-10").label == "2026年10月"
        assert Period.parse("2026-Q3").label == "2026年第3季度"
        assert Period.parse("2026").label == "2026年"


def test_months_and_previous():
    assert Period.parse("2026-10").months() == [dt.date(2026, 10, 1)]
    assert Period.parse("2026-Q4").months() == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    year = Period.parse("2026").months()
    assert len(year) == 12 and year[0] == dt.date(2026, 1, 1) and year[-1] == dt.date(2026, 12, 1)
    assert Period.parse("2026-01").previous() == Period.parse("2025-12")
    assert Period.parse("2026-03").previous() == Period.parse("2026-02")
    assert Period.parse("2026-Q1").previous() == Period.parse("2025-Q4")
    assert Period.parse("2026-Q3").previous() == Period.parse("2026-Q2")
    assert Period.parse("2026").previous() == Period.parse("2025")
    assert Period.of(indicators.QUARTER, dt.date(2026, 8, 15)) == Period.parse("2026-Q3")
    assert Period.parse("2026-10").contains(dt.date(2026, 10, 31))
    assert not Period.parse("2026-10").contains(dt.date(2026, 11, 1))


def test_bounds_are_local_midnights_and_as_of_stops_at_today():
    start, end = Period.parse("2026-10").bounds()
    assert timezone.is_aware(start) and timezone.is_aware(end)
    assert timezone.localtime(start).replace(tzinfo=None) == dt.datetime(2026, 10, 1)
    assert timezone.localtime(end).replace(tzinfo=None) == dt.datetime(2026, 11, 1)
    assert start.utcoffset() == dt.timedelta(hours=8)  # Asia/Shanghai
    period = Period.parse("2026-10")
    assert period.as_of(dt.date(2027, 1, 5)) == dt.date(2026, 10, 31)
    assert period.as_of(dt.date(2026, 10, 12)) == dt.date(2026, 10, 12)


# --- The registry -------------------------------------------------------------------------

def test_register_get_order_and_replace(fakes):
    fakes("test.second", order=2, title="第二")
    fakes("test.first", order=1, title="第一")
    assert indicators.exists("test.first") and indicators.get("test.second").title == "第二"
    names = [i.name for i in indicators.indicators()]
    assert names.index("test.first") < names.index("test.second")
    fakes("test.first", order=3, title="改过")  # re-registration replaces
    assert indicators.get("test.first").title == "改过"
    names = [i.name for i in indicators.indicators()]
    assert names.index("test.second") < names.index("test.first")
    indicators.unregister("test.first")
    assert not indicators.exists("test.first")
    indicators.unregister("test.first")  # twice is harmless


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        indicators.register("test.bad_unit", title="x", unit="furlongs", domain="x", compute=lambda a, p: {})
    assert not indicators.exists("test.bad_unit")


def test_the_domains_register_the_contract_names():
    """The names issue 11's contract promises to oversight, dashboards and reports."""
    expected = {
        "dispatch.response_rate": indicators.PERCENT, "dispatch.resolution_rate": indicators.PERCENT,
        "dispatch.satisfaction_rate": indicators.PERCENT, "dispatch.composite": indicators.PERCENT,
        "dispatch.received": indicators.COUNT, "dispatch.overdue": indicators.COUNT,
        "cobuild.needs_matched_rate": indicators.PERCENT, "cobuild.projects_done": indicators.COUNT,
        "volunteers.hours": indicators.HOURS, "volunteers.members": indicators.COUNT,
        "volunteers.wishes_rate": indicators.PERCENT, "funds.execution_rate": indicators.PERCENT,
        "centers.utilisation": indicators.PERCENT, "centers.checkins": indicators.COUNT,
        "workforce.certified_share": indicators.PERCENT, "workforce.secretary_vacancy_days": indicators.DAYS,
    }
    for name, unit in expected.items():
        assert indicators.exists(name), name
        assert indicators.get(name).unit == unit, name
        assert indicators.get(name).link is not None, name
    assert indicators.get("workforce.secretary_vacancy_days").higher_is_better is False
    assert indicators.get("cobuild.needs_matched_rate").higher_is_better is True


def test_compute_many_isolates_a_failing_indicator(fakes, caplog):
    def broken(areas, period):
        raise ZeroDivisionError("a domain's bug")

    fakes("test.ok", compute=lambda areas, period: {a.pk: a.pk * 10 for a in areas})
    fakes("test.broken", compute=broken)
    period = Period.parse("2026-10")
    with caplog.at_level("ERROR", logger="zhouxin.indicators"):
        result = indicators.compute_many(["test.ok", "test.broken"], _areas(1, 2), period)
    assert result == {"test.ok": {1: 10, 2: 20}, "test.broken": {}}
    assert any("test.broken" in r.getMessage() and "2026-10" in r.getMessage() for r in caplog.records)
    # Called alone (tests, the command line), the error is not swallowed.
    with pytest.raises(ZeroDivisionError):
        indicators.compute("test.broken", _areas(1), period)


def test_compute_with_no_area_asks_nothing(fakes):
    calls = []
    fakes("test.counted", compute=lambda areas, period: calls.append(areas) or {})
    assert indicators.compute("test.counted", [], Period.parse("2026")) == {}
    assert indicators.compute_many(["test.counted"], [], Period.parse("2026")) == {"test.counted": {}}
    assert calls == []


def test_links_and_a_failing_link(fakes):
    fakes("test.linked", link=lambda area, period: f"/records/{area.pk}/?p={period.key}")
    fakes("test.unlinked")

    def broken(area, period):
        raise KeyError("no such page")

    fakes("test.bad_link", link=broken)
    [area] = _areas(7)
    period = Period.parse("2026-Q3")
    assert indicators.link("test.linked", area, period) == "/records/7/?p=2026-Q3"
    assert indicators.link("test.unlinked", area, period) is None
    assert indicators.link("test.bad_link", area, period) is None


# --- Showing values -----------------------------------------------------------------------

@pytest.mark.parametrize(("value", "unit", "shown"), [
    (None, indicators.PERCENT, "—"),
    (None, indicators.COUNT, "—"),
    (D("0.8756"), indicators.PERCENT, "87.6%"),
    (D("0.87549"), indicators.PERCENT, "87.5%"),
    (D("1"), indicators.PERCENT, "100.0%"),
    (0, indicators.PERCENT, "0.0%"),
    (1234, indicators.COUNT, "1,234"),
    (0, indicators.COUNT, "0"),
    (D("56.25"), indicators.HOURS, "56.3"),
    (D("1234.5"), indicators.HOURS, "1,234.5"),
    (D("12000"), indicators.YUAN, "12,000.00"),
    (D("0.005"), indicators.YUAN, "0.01"),
    (95, indicators.DAYS, "95"),
    (D("2.5"), indicators.DAYS, "2.5"),
    (D("3"), indicators.COUNT, "3"),
])
def test_format_value(value, unit, shown):
    assert indicators.format_value(value, unit) == shown


def test_indicator_format_and_unit_label(fakes):
    with translation.override("zh-hans"):
        rate = fakes("test.rate", unit=indicators.PERCENT)
        hours = fakes("test.hours", unit=indicators.HOURS)
        assert rate.format(D("0.5")) == "50.0%" and rate.unit_label == "%"
        assert hours.format(None) == "—" and hours.unit_label == "小时"


# --- Helpers for computes ---------------------------------------------------------------------

def test_code_groups_group_by_level_with_the_common_prefix():
    areas = [SimpleNamespace(pk=1, code="110101001001", level="community"),
             SimpleNamespace(pk=2, code="110101002001", level="community"),
             SimpleNamespace(pk=3, code="110101001", level="street"),
             SimpleNamespace(pk=4, code="110101001001001", level="grid")]
    groups = indicators.code_groups(areas)
    assert [(g.length, g.common, g.ids) for g in groups] == [
        (9, "110101001", {"110101001": 3}),
        (12, "11010100", {"110101001001": 1, "110101002001": 2}),
    ]
    [only] = indicators.code_groups(areas, levels=("community",))
    assert only.length == 12
    assert indicators.code_groups([]) == []


def test_share():
    assert indicators.share(3, 4) == D("0.75")
    assert indicators.share(0, 4) == D("0")
    assert indicators.share(3, 0) is None
    assert indicators.share(D("1.5"), D("3")) == D("0.5")
