"""The funds execution rate as an indicator: money spent through the ledger (net of refunds) up to
the period's end ÷ the budget of the funds of the period's year, for communities, streets and the
district, in a fixed number of queries, with links to the funds pages."""

from __future__ import annotations

import datetime as dt
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import ledger
from zhouxin.funds.choices import EntryKind, FundKind
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .helpers_funds import D, disburse, make_fund, make_plan

YEAR = 2025


def _on(month: int, day: int, year: int = YEAR):
    """Write the ledger as if on that day (the ledger stamps entries with the time of writing)."""
    when = timezone.make_aware(dt.datetime(year, month, day, 10, 0))
    return mock.patch("django.utils.timezone.now", return_value=when)


@pytest.fixture
def world(personas):
    """2025: 多福巷 has a service fund of ¥200,000 and a working fund of ¥50,000; it spent ¥20,000 in
    March, ¥30,000 in June and got ¥5,000 back in July.  银闸 has ¥100,000 and spent ¥10,000 in
    February.  吉祥 has no fund.  多福巷 spent ¥90,000 of its 2024 fund in 2024."""
    service = make_fund(personas, year=YEAR)
    make_fund(personas, year=YEAR, kind=FundKind.WORKING, sources={"city": D("50000.00")})
    yinzha = make_fund(personas, "community_a2", year=YEAR, sources={"city": D("100000.00")})
    old = make_fund(personas, year=YEAR - 1, sources={"district": D("100000.00")})
    plan = make_plan(personas, service, amount=D("60000.00"))
    with _on(3, 10):
        disburse(personas, service, plan, "20000.00")
    with _on(6, 15):
        disburse(personas, service, plan, "30000.00")
    with _on(7, 1), scopes_disabled():
        ledger.post(actor=personas.street_hub, fund=service, kind=EntryKind.REFUND, amount=D("5000.00"),
                    memo="结余退回", plan=plan)
    with _on(2, 1):
        disburse(personas, yinzha, make_plan(personas, yinzha, amount=D("10000.00")), "10000.00")
    with _on(9, 1, YEAR - 1):
        disburse(personas, old, make_plan(personas, old, amount=D("90000.00")), "90000.00")
    return {"service": service}


def _values(areas, period):
    with scopes_disabled():
        return indicators.compute("funds.execution_rate", areas, period)


def test_execution_rate_up_to_the_periods_end(personas, world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["street_a"], a["street_b"], a["dongcheng"]]
    first_quarter = _values(areas, Period.parse(f"{YEAR}-Q1"))
    # 吉祥 and 景山街道 have no fund: no figure ("—"), not 0 %.
    assert first_quarter == {a["community_a"].pk: D("0.08"), a["community_a2"].pk: D("0.1"),
                             a["street_a"].pk: D("30000") / D("350000"), a["dongcheng"].pk: D("30000") / D("350000")}
    assert _values([a["community_a"]], Period.month(YEAR, 6)) == {a["community_a"].pk: D("0.2")}
    # The refund in July is money back: the year's spending is 45,000 of 250,000.
    assert _values([a["community_a"]], Period.year(YEAR)) == {a["community_a"].pk: D("0.18")}
    assert _values([a["street_a"]], Period.year(YEAR)) == {a["street_a"].pk: D("55000") / D("350000")}
    # Last year's fund is last year's figure.
    assert _values([a["community_a"]], Period.year(YEAR - 1)) == {a["community_a"].pk: D("0.9")}
    assert _values([a["community_a"]], Period.year(YEAR - 2)) == {}


def test_a_fund_with_nothing_spent_is_zero(personas, world):
    a = personas.areas
    make_fund(personas, "community_b", actor="district_admin", year=YEAR)
    assert _values([a["community_b"]], Period.month(YEAR, 1)) == {a["community_b"].pk: D("0")}


def test_a_fixed_number_of_queries_for_one_or_many_areas(personas, world):
    a = personas.areas
    with scopes_disabled():
        extra = [Area.objects.unscoped().create(code=f"110101001{100 + i:03d}", name=f"测试{i}社区",
                                                level=AreaLevel.COMMUNITY, parent=a["street_a"]) for i in range(12)]
    period = Period.year(YEAR)
    with CaptureQueriesContext(connection) as one:
        _values([a["community_a"]], period)
    with CaptureQueriesContext(connection) as many:
        values = _values([a["community_a"], a["community_a2"], a["community_b"], *extra], period)
    assert len(one) == len(many) == 2
    assert values[a["community_a2"].pk] == D("0.1")


def test_links_open_the_funds_pages(personas, world, client_for):
    a = personas.areas
    period = Period.year(YEAR)
    link = indicators.link("funds.execution_rate", a["community_a"], period)
    parts = urlsplit(link)
    assert parts.path == reverse("funds:fund_list")
    assert parse_qs(parts.query) == {"year": [str(YEAR)], "community": ["110101001001"]}
    page = client_for("community_staff").get(link)
    assert page.status_code == 200 and "多福巷社区" in page.content.decode()
    street_link = indicators.link("funds.execution_rate", a["street_a"], period)
    assert urlsplit(street_link).path == reverse("funds:dashboard")
    assert parse_qs(urlsplit(street_link).query) == {"year": [str(YEAR)], "street": ["110101001"]}
    assert client_for("street_hub").get(street_link).status_code == 200
    assert indicators.link("funds.execution_rate", a["city"], period) is None
