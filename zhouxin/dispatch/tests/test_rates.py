"""The three rates: arithmetic and weights, empty months, rankings and ties, 治理类, 每月一题."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry, PolicyVersion
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rates
from zhouxin.dispatch.models import CategoryRollup, MonthlyTheme, Rollup
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = dt.date(2026, 3, 1)
FEBRUARY = dt.date(2026, 2, 1)


def default_weights() -> rates.Weights:
    return rates.weights()


# --- arithmetic --------------------------------------------------------------------------

def test_rates_with_default_weights():
    f = rates.Figures(received=20, response_due=10, responded_in_time=9, callbacks=8, resolved=5, partly=2,
                      evaluated=8, satisfied=4, basic=3)
    r = rates.rates_of(f, default_weights())
    assert r.response == D("0.9")
    assert r.resolution == (D(5) + D(2) * D("0.6")) / D(8)  # 0.775
    assert r.satisfaction == (D(4) + D(3) * D("0.8")) / D(8)  # 0.8
    # composite = 0.2 × 0.9 + 0.4 × 0.775 + 0.4 × 0.8
    assert r.composite == D("0.2") * D("0.9") + D("0.4") * D("0.775") + D("0.4") * D("0.8")
    assert rates.percent(r.response) == "90.0%"
    assert rates.percent(r.resolution) == "77.5%"
    assert rates.score(r.composite) == "81.0"


def test_rates_follow_the_policy_weights(personas):
    PolicyVersion.objects.create(key="dispatch.rates", city=None, effective_from=dt.date(2020, 1, 1),
                                 value={"partly_resolved_weight": 0.5, "basic_satisfied_weight": 1.0,
                                        "response_weight": 0.0, "resolution_weight": 0.5,
                                        "satisfaction_weight": 0.5})
    w = rates.weights()
    assert (w.partly, w.basic, w.response) == (D("0.5"), D("1.0"), D("0.0"))
    f = rates.Figures(response_due=4, responded_in_time=1, callbacks=4, resolved=2, partly=2, evaluated=2,
                      satisfied=1, basic=1)
    r = rates.rates_of(f, w)
    assert r.resolution == D("0.75")
    assert r.satisfaction == D("1")
    assert r.composite == D("0.875")  # the response rate has weight 0 and does not count


def test_empty_denominators_are_dashes_not_errors():
    r = rates.rates_of(rates.Figures(), default_weights())
    assert (r.response, r.resolution, r.satisfaction, r.composite) == (None, None, None, None)
    assert rates.percent(r.response) == "—"
    assert rates.score(r.composite) == "—"
    assert rates.points(None) == "—"


def test_composite_is_renormalised_over_the_rates_present():
    f = rates.Figures(received=3, response_due=4, responded_in_time=3)  # no callbacks yet
    r = rates.rates_of(f, default_weights())
    assert r.resolution is None and r.satisfaction is None
    assert r.composite == D("0.75")


def test_percent_rounds_half_up_to_one_decimal():
    assert rates.percent(D(2) / D(3)) == "66.7%"
    assert rates.percent(D("0.12345")) == "12.3%"
    assert rates.percent(D("0.00050")) == "0.1%"
    assert rates.points(D("0.025")) == "+2.5"
    assert rates.points(D("-0.004")) == "-0.4"


def test_parse_month():
    assert rates.parse_month("2026-03") == MARCH
    for bad in ("2026-13", "2026/03", "", "1999-12", "abcd"):
        with pytest.raises(ValidationError):
            rates.parse_month(bad)
    assert rates.add_months(dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert rates.add_months(dt.date(2026, 11, 1), 14) == dt.date(2028, 1, 1)


# --- rankings ---------------------------------------------------------------------------

def test_competition_ranks_share_ties_and_skip():
    assert rates.competition_ranks([D("0.9"), D("0.8"), D("0.9"), None, D("0.7")]) == [1, 3, 1, None, 4]


def add_streets(personas, n):
    """More streets in 东城区 (test set-up)."""
    d = personas.areas["dongcheng"]
    return [Area.objects.unscoped().create(code=f"110101{100 + i:03d}", name=f"测试{i}街道",
                                           level=AreaLevel.STREET, parent=d) for i in range(n)]


def row(area, month=MARCH, **counters):
    return Rollup.objects.unscoped().create(month=month, district_id=area.parent_id if area.level == "street"
                                            else area.parent.parent_id, area=area, **counters)


def scored(volume, in_time, due=10):
    """Counters whose composite is in_time/due (only the response rate present)."""
    return {"received": volume, "response_due": due, "responded_in_time": in_time}


def test_street_ranking_orders_ties_and_change(personas):
    a = personas.areas
    with scopes_disabled():
        s1, s2, s3 = add_streets(personas, 3)
        row(a["street_a"], **scored(10, 9))
        row(a["street_b"], **scored(30, 8))
        row(s1, **scored(5, 9))  # tied with street_a, less volume: listed after it
        row(s2, **scored(8, 5))
        # s3 has no requests in March: listed, unranked
        row(a["street_a"], month=FEBRUARY, **scored(10, 5))  # was last of two in February
        row(a["street_b"], month=FEBRUARY, **scored(10, 9))
        entries = rates.area_ranking(district=a["dongcheng"], month=MARCH, level=AreaLevel.STREET,
                                     w=default_weights())
    names = [(e.name, e.rank) for e in entries]
    assert names == [("东华门街道", 1), ("测试0街道", 1), ("景山街道", 3), ("测试1街道", 4), ("测试2街道", None)]
    first = entries[0]
    assert first.previous_rank == 2 and first.rank_change == 1
    assert first.composite_change == D("0.4")
    assert first.composite_change_text == "+40.0"
    assert entries[2].rank_change == -2  # 景山: 1st in February, 3rd now
    assert entries[1].rank_change is None  # 测试0 had no February figures
    assert entries[4].response == "—" and entries[4].volume == 0


def test_governance_flags_highest_volume_and_lowest_score(personas):
    a = personas.areas
    with scopes_disabled():
        streets = add_streets(personas, 8)
        row(a["street_a"], **scored(100, 9))  # highest volume
        row(a["street_b"], **scored(20, 2))  # lowest composite
        for i, street in enumerate(streets):
            row(street, **scored(10 + i, 6 + (i % 3)))
        entries = rates.area_ranking(district=a["dongcheng"], month=MARCH, level=AreaLevel.STREET,
                                     w=default_weights())
    flagged = {e.name: e.governance for e in entries if e.governance}
    # 10 streets with requests × 10 % = 1 of each kind.
    assert flagged == {"东华门街道": ["volume"], "景山街道": ["score"]}
    assert [str(x) for x in entries[-1].governance_labels] == ["综合得分低"]


def test_governance_includes_ties_at_the_boundary(personas):
    a = personas.areas
    with scopes_disabled():
        row(a["street_a"], **scored(10, 5))
        row(a["street_b"], **scored(10, 5))
        entries = rates.area_ranking(district=a["dongcheng"], month=MARCH, level=AreaLevel.STREET,
                                     w=default_weights())
    assert all(e.governance == ["volume", "score"] for e in entries)


def test_community_ranking_within_a_street(personas):
    a = personas.areas
    with scopes_disabled():
        row(a["community_a"], **scored(4, 2))
        row(a["community_a2"], **scored(3, 4, due=4))
        row(a["community_b"], **scored(9, 9))
        entries = rates.area_ranking(district=a["dongcheng"], month=MARCH, level=AreaLevel.COMMUNITY,
                                     within=a["street_a"].code, w=default_weights())
    assert [(e.name, e.rank) for e in entries] == [("银闸社区", 1), ("多福巷社区", 2)]


def test_department_ranking(personas, dispatch_world):
    o, d = personas.orgs, personas.areas["dongcheng"]
    with scopes_disabled():
        Rollup.objects.unscoped().create(month=MARCH, district=d, organisation=o["department"],
                                         **scored(6, 3))
        Rollup.objects.unscoped().create(month=MARCH, district=d, organisation=dispatch_world.orgs["water"],
                                         **scored(6, 6))
        # A community committee is not a department.
        Rollup.objects.unscoped().create(month=MARCH, district=d, organisation=o["community_a_committee"],
                                         **scored(6, 10))
        entries = rates.department_ranking(district=d, month=MARCH, w=default_weights())
    assert [(e.name, e.rank) for e in entries] == [("东城区水务局", 1), ("东城区城市管理综合行政执法监察局", 2)]


def test_trend_sums_streets_for_the_district(personas):
    a = personas.areas
    with scopes_disabled():
        row(a["street_a"], **scored(4, 2))
        row(a["street_b"], **scored(6, 8))
        row(a["community_a"], **scored(4, 2))  # communities are inside their street: not added again
        points = rates.trend(subject=rates.Subject("district", a["dongcheng"].pk, "东城区"),
                             months=[FEBRUARY, MARCH], w=default_weights())
    assert points[0].figures.received == 0 and points[0].rates.response is None
    assert points[1].figures.received == 10
    assert points[1].rates.response == D("0.5")


# --- 每月一题 -----------------------------------------------------------------------------

def test_monthly_theme_set_and_impact(personas, dispatch_world):
    a, c = personas.areas, dispatch_world.categories
    theme = rates.monthly_theme_set(actor=personas.district_admin, district=a["dongcheng"], month=MARCH,
                                    category=c["04"], title="楼道堆物专项治理", note="联合物业清理")
    assert AuditEntry.objects.filter(action="dispatch.theme.set").count() == 1
    with scopes_disabled():
        for month, count in ((dt.date(2025, 12, 1), 9), (dt.date(2026, 1, 1), 12), (FEBRUARY, 15),
                             (MARCH, 10), (dt.date(2026, 4, 1), 6), (dt.date(2026, 5, 1), 4)):
            CategoryRollup.objects.unscoped().create(month=month, district=a["dongcheng"], street=a["street_a"],
                                                     category=c["04"], received=count - 1)
            CategoryRollup.objects.unscoped().create(month=month, district=a["dongcheng"], street=a["street_b"],
                                                     category=c["04"], received=1)
        # Another category and another district do not count.
        CategoryRollup.objects.unscoped().create(month=MARCH, district=a["dongcheng"], street=a["street_a"],
                                                 category=c["08"], received=50)
        CategoryRollup.objects.unscoped().create(month=MARCH, district=a["xicheng"], street=a["street_x"],
                                                 category=c["04"], received=50)
        [impact] = rates.theme_impacts(district=a["dongcheng"], themes=[theme], today=dt.date(2026, 5, 20))
    assert impact.before == [(dt.date(2025, 12, 1), 9), (dt.date(2026, 1, 1), 12), (FEBRUARY, 15)]
    assert impact.during == 10
    assert impact.after == [(dt.date(2026, 4, 1), 6), (dt.date(2026, 5, 1), 4)]  # June has not begun
    assert impact.before_average == D(12)
    assert impact.after_text == "5.0"
    assert impact.change_text == "-58.3%"
    assert impact.went_down

    # Re-setting the same category and month re-words it.
    again = rates.monthly_theme_set(actor=personas.district_admin, district=a["dongcheng"], month=MARCH,
                                    category=c["04"], title="楼道堆物清零行动")
    assert again.pk == theme.pk
    with scopes_disabled():
        assert MonthlyTheme.objects.unscoped().get().title == "楼道堆物清零行动"


def test_monthly_theme_refusals(personas, dispatch_world):
    a, c = personas.areas, dispatch_world.categories
    with pytest.raises(PermissionDenied):
        rates.monthly_theme_set(actor=personas.street_hub, district=a["dongcheng"], month=MARCH,
                                category=c["04"], title="楼道堆物")
    with pytest.raises(PermissionDenied):  # another district
        rates.monthly_theme_set(actor=personas.district_admin, district=a["xicheng"], month=MARCH,
                                category=c["04"], title="楼道堆物")
    with pytest.raises(ValidationError, match="一级类别"):
        rates.monthly_theme_set(actor=personas.district_admin, district=a["dongcheng"], month=MARCH,
                                category=c["040102"], title="楼道堆物")
    with pytest.raises(ValidationError, match="请填写主题"):
        rates.monthly_theme_set(actor=personas.district_admin, district=a["dongcheng"], month=MARCH,
                                category=c["04"], title="   ")
    with scopes_disabled():
        assert not MonthlyTheme.objects.unscoped().exists()


# --- who sees what -------------------------------------------------------------------------

def test_viewer_per_persona(personas):
    a = personas.areas
    admin = rates.viewer_for(personas.district_admin)
    assert admin.district == a["dongcheng"] and admin.district_admin
    assert admin.sees_streets and admin.sees_communities and admin.sees_departments
    hub = rates.viewer_for(personas.street_hub)
    assert hub.streets == (a["street_a"].code,) and not hub.district_admin
    assert hub.sees_streets and hub.sees_communities and not hub.sees_departments
    assert hub.may_see_area(a["community_a2"].code) and not hub.may_see_area(a["community_b"].code)
    staff = rates.viewer_for(personas.community_staff)
    assert staff.sees_streets and not staff.sees_communities and not staff.sees_departments
    assert staff.may_see_area(a["community_a"].code) and not staff.may_see_area(a["community_a2"].code)
    assert not staff.may_see_area(a["street_a"].code)
    dept = rates.viewer_for(personas.department_handler)
    assert dept.departments == (personas.orgs["department"].pk,)
    assert dept.sees_departments and not dept.sees_streets
    outsider = rates.viewer_for(personas.outsider)
    assert outsider.district == a["xicheng"]
    with pytest.raises(Http404):
        rates.viewer_for(personas.outsider, a["dongcheng"].code)
    with pytest.raises(PermissionDenied):
        rates.viewer_for(personas.resident)
    with scopes_disabled():
        other = Organisation.objects.unscoped().create(name="东城区住建委", kind=OrgKind.DEPARTMENT,
                                                       area=a["dongcheng"])
        other = Organisation.objects.unscoped().select_related("area").get(pk=other.pk)
    assert admin.may_see_org(other) and not dept.may_see_org(other)


def test_weights_use_the_rule_in_force_on_the_day(personas):
    PolicyVersion.objects.create(key="dispatch.rates", city=None, effective_from=timezone.localdate(),
                                 value={"partly_resolved_weight": 0.3})
    assert rates.weights().partly == D("0.3")
    assert rates.weights(on=timezone.localdate() - dt.timedelta(days=1)).partly == D("0.6")
    assert policy.get("dispatch.rates")["partly_resolved_weight"] == 0.3
