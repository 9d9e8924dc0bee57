"""The three rates as indicators: read from the roll-up rows of communities and streets, summed
over a district's or a city's streets, with the weights of the rule in force, in a fixed number
of queries however many areas are asked about, with links to the rankings and trends."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import indicators, policy
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.models import Rollup
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

D = Decimal
MARCH = Period.month(2025, 3)
RATES = ("dispatch.response_rate", "dispatch.resolution_rate", "dispatch.satisfaction_rate", "dispatch.composite")


def _row(area, month: dt.date, **counters):
    district_id = area.parent_id if area.level == AreaLevel.STREET else area.parent.parent_id
    return Rollup.objects.unscoped().create(month=month, district_id=district_id, area=area, **counters)


def _counters(due, in_time, callbacks, resolved, partly, evaluated, satisfied, basic, received=0, invalid=0,
              overdue=0):
    return {"response_due": due, "responded_in_time": in_time, "callbacks": callbacks, "resolved": resolved,
            "partly": partly, "evaluated": evaluated, "satisfied": satisfied, "basic": basic, "received": received,
            "invalid": invalid, "overdue": overdue}


@pytest.fixture
def rollups(personas):
    """March 2025 in 东城区 and 西城区; 多福巷 also in February (the quarter sums both)."""
    a = personas.areas
    march, february = dt.date(2025, 3, 1), dt.date(2025, 2, 1)
    with scopes_disabled():
        _row(a["community_a"], march, **_counters(10, 8, 10, 6, 2, 5, 3, 1, received=12, invalid=2, overdue=1))
        _row(a["community_a"], february, **_counters(10, 10, 0, 0, 0, 0, 0, 0, received=10))
        _row(a["community_a2"], march, **_counters(4, 1, 4, 4, 0, 0, 0, 0, received=4))
        # The street rows hold every request of the street (some filed on no community).
        _row(a["street_a"], march, **_counters(20, 10, 20, 10, 5, 10, 6, 2, received=25, invalid=1, overdue=3))
        _row(a["street_b"], march, **_counters(20, 20, 10, 10, 0, 10, 10, 0, received=21, overdue=2))
        _row(a["community_b"], march, **_counters(5, 5, 5, 5, 0, 5, 5, 0, received=5))
        _row(a["street_x"], march, **_counters(10, 0, 10, 0, 0, 10, 0, 0, received=10, overdue=7))
    return a


def _values(name, areas, period=MARCH):
    with scopes_disabled():
        return indicators.compute(name, areas, period)


def test_community_rates_from_its_own_rows_with_the_default_weights(rollups):
    a = rollups
    community = a["community_a"]
    assert _values("dispatch.response_rate", [community])[community.pk] == D("0.8")
    # (6 resolved + 2 partly × 0.6) / 10 callbacks; (3 satisfied + 1 basic × 0.8) / 5 evaluated
    assert _values("dispatch.resolution_rate", [community])[community.pk] == D("0.72")
    assert _values("dispatch.satisfaction_rate", [community])[community.pk] == D("0.76")
    # 0.2 × 0.8 + 0.4 × 0.72 + 0.4 × 0.76
    assert _values("dispatch.composite", [community])[community.pk] == D("0.752")
    assert _values("dispatch.received", [community])[community.pk] == 10  # 12 received, 2 invalid
    assert _values("dispatch.overdue", [community])[community.pk] == 1


def test_street_district_and_city_levels(rollups):
    a = rollups
    street, district, city = a["street_a"], a["dongcheng"], a["city"]
    assert _values("dispatch.response_rate", [street])[street.pk] == D("0.5")
    # The district sums its streets' rows only (the community rows are inside them).
    assert _values("dispatch.response_rate", [district])[district.pk] == D("0.75")  # 30 / 40
    assert _values("dispatch.received", [district])[district.pk] == 45  # 24 + 21
    assert _values("dispatch.overdue", [district])[district.pk] == 5
    # (10 + 5 × 0.6 + 10) / 30 callbacks
    assert _values("dispatch.resolution_rate", [district])[district.pk] == D("23") / D("30")
    # The city: both districts' streets.
    assert _values("dispatch.response_rate", [city])[city.pk] == D("0.6")  # 30 / 50
    assert _values("dispatch.overdue", [city])[city.pk] == 12
    # Several levels at once: each its own figure.
    mixed = _values("dispatch.response_rate", [a["community_a"], street, district, a["xicheng"], city])
    assert mixed == {a["community_a"].pk: D("0.8"), street.pk: D("0.5"), district.pk: D("0.75"),
                     a["xicheng"].pk: D("0"), city.pk: D("0.6")}


def test_a_quarter_sums_its_months_and_an_empty_area_has_no_figure(rollups):
    a = rollups
    community = a["community_a"]
    quarter = Period.parse("2025-Q1")
    assert _values("dispatch.response_rate", [community], quarter)[community.pk] == D("0.9")  # 18 / 20
    # February had no callbacks: the quarter's resolution is March's.
    assert _values("dispatch.resolution_rate", [community], quarter)[community.pk] == D("0.72")
    assert _values("dispatch.received", [community], quarter)[community.pk] == 20
    # A month without rows: no figure at all ("—"), not 0 %.
    assert _values("dispatch.response_rate", [community], Period.month(2025, 4)) == {}
    # A grid is no level of the roll-ups.
    assert _values("dispatch.response_rate", [a["grid_a"]]) == {}


def test_the_weights_of_the_rule_in_force_are_applied(personas):
    a = personas.areas
    today = timezone.localdate()
    this_month = Period.of(indicators.MONTH, today)
    last_month = this_month.previous()
    with scopes_disabled():
        for period in (this_month, last_month):
            _row(a["community_a"], period.start, **_counters(10, 10, 10, 5, 5, 10, 5, 5))
        policy.policy_set(actor=personas.district_admin, key="dispatch.rates", effective_from=today,
                          city=a["city"], value={"partly_resolved_weight": 1.0, "basic_satisfied_weight": 0.5,
                                                 "response_weight": 0, "resolution_weight": 1,
                                                 "satisfaction_weight": 0})
    policy.invalidate()
    pk = a["community_a"].pk
    # This month: the new weights (partly counts in full, basic at half, composite = resolution).
    assert _values("dispatch.resolution_rate", [a["community_a"]], this_month)[pk] == D("1")
    assert _values("dispatch.satisfaction_rate", [a["community_a"]], this_month)[pk] == D("0.75")
    assert _values("dispatch.composite", [a["community_a"]], this_month)[pk] == D("1")
    # Last month keeps the weights it was computed with.
    assert _values("dispatch.resolution_rate", [a["community_a"]], last_month)[pk] == D("0.8")
    assert _values("dispatch.satisfaction_rate", [a["community_a"]], last_month)[pk] == D("0.9")


def test_a_fixed_number_of_queries_for_one_or_many_areas(rollups):
    a = rollups
    with scopes_disabled():
        streets = [Area.objects.unscoped().create(code=f"110101{100 + i:03d}", name=f"测试{i}街道",
                                                  level=AreaLevel.STREET, parent=a["dongcheng"]) for i in range(8)]
        communities = [Area.objects.unscoped().create(code=f"{s.code}{j + 1:03d}", name=f"{s.name}{j}社区",
                                                      level=AreaLevel.COMMUNITY, parent=s)
                       for s in streets for j in range(3)]
        for area in [*streets, *communities]:
            _row(area, dt.date(2025, 3, 1), **_counters(4, 3, 4, 4, 0, 4, 4, 0, received=4))

    def queries(areas):
        _values("dispatch.composite", areas)  # the policy cache is warm
        with CaptureQueriesContext(connection) as ctx:
            values = _values("dispatch.composite", areas)
        return len(ctx), values

    one, values = queries([a["community_a"]])
    many, values_many = queries([a["community_a"], a["community_a2"], *communities])
    assert one == many
    assert len(values_many) == 2 + len(communities)
    assert values_many[communities[5].pk] == D("0.75") * D("0.2") + D("0.4") + D("0.4")
    one_street, _ = queries([a["street_a"]])
    many_streets, _ = queries([a["street_a"], a["street_b"], *streets])
    assert one_street == many_streets


def test_links_go_to_the_rankings_and_trends(rollups):
    a = rollups
    link = indicators.link("dispatch.composite", a["community_a"], MARCH)
    parts = urlsplit(link)
    assert parts.path == reverse("dispatch:rankings")
    assert parse_qs(parts.query) == {"tab": ["communities"], "street": ["110101001"], "month": ["2025-03"]}
    street_link = indicators.link("dispatch.composite", a["street_a"], MARCH)
    assert parse_qs(urlsplit(street_link).query) == {"tab": ["streets"], "month": ["2025-03"],
                                                     "district": ["110101"]}
    trend = indicators.link("dispatch.received", a["dongcheng"], MARCH)
    assert urlsplit(trend).path == reverse("dispatch:trends")
    assert parse_qs(urlsplit(trend).query) == {"area": ["110101"]}
    assert indicators.link("dispatch.received", a["city"], MARCH) is None


def test_the_links_open_for_the_district_admin(rollups, client_for):
    client = client_for("district_admin")
    for area, shown in (("community_a", "多福巷社区"), ("street_a", "东华门街道")):
        response = client.get(indicators.link("dispatch.composite", rollups[area], MARCH))
        assert response.status_code == 200
        assert shown in response.content.decode()
