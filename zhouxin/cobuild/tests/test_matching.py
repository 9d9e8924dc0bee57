import datetime as dt
from decimal import Decimal

import pytest

from zhouxin.cobuild import matching, services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.cobuild.models import Project
from zhouxin.core import policy
from zhouxin.core.scoping import scopes_disabled

from .helpers import TODAY, need, resource, unit_with_liaison


def _sums(match):
    assert sum(c.contribution for c in match.components) == match.score


def test_canteen_in_the_same_community_outranks_an_equal_one_in_another_street(personas):
    """Issue 6 acceptance: elderly meal service need in 多福巷社区."""
    meal = need(personas, quantity=30, quantity_unit="份")
    far_unit, far_liaison = unit_with_liaison(personas, "景山机关食堂", "community_b", "liaison_far")
    near_unit, near_liaison = unit_with_liaison(personas, "多福巷机关食堂", "community_a", "liaison_near")
    same = {"title": "机关食堂助老餐", "description": "食堂每天中午为社区老人提供助餐午餐，可送餐上门。",
                "capacity": 40, "radius": ServiceRadius.DISTRICT}
    far = resource(personas, owner=far_unit, actor=far_liaison, **same)
    near = resource(personas, owner=near_unit, actor=near_liaison, **same)
    ranked = matching.resources_for_need(meal, today=TODAY)
    assert [m.pk for m in ranked] == [near.pk, far.pk]
    for match in ranked:
        _sums(match)
    by_name = {m.pk: {c.name: c for c in m.components} for m in ranked}
    assert by_name[near.pk]["proximity"].feature == Decimal("1.0000")
    assert by_name[far.pk]["proximity"].feature == Decimal("0.3000")
    # Everything else is equal: the whole difference is the proximity contribution.
    assert ranked[0].score - ranked[1].score == Decimal("0.25") * Decimal("0.7")


def test_explanation_shows_each_weighted_part_and_they_sum_to_the_score(personas):
    meal = need(personas, quantity=30, quantity_unit="份", wanted_from=dt.date(2026, 6, 1),
                wanted_until=dt.date(2026, 6, 30))
    # Half committed, available only for the first half of the month, a hall not a meal service.
    hall = resource(personas, title="单位多功能厅", description="可借用开展活动", kind=ResourceKind.VENUE,
                    category=NeedCategory.CULTURE, capacity=1, capacity_unit="间")
    offered = resource(personas, capacity=20, available_from=dt.date(2026, 1, 1),
                       available_until=dt.date(2026, 6, 15))
    other = need(personas, title="社区文艺汇演", category=NeedCategory.CULTURE, quantity=10, quantity_unit="份")
    services.claim_confirm(actor=personas.street_hub, claim=services.claim_create(
        actor=personas.unit_liaison, need=other, resource=offered, quantity=10))
    ranked = matching.resources_for_need(meal, today=TODAY)
    assert [m.pk for m in ranked] == [offered.pk]  # the hall's category does not fit a meal need
    parts = {c.name: c for c in ranked[0].components}
    assert parts["category"].feature == 1
    assert parts["committed"].feature == Decimal("0.5000") and parts["committed"].contribution == Decimal("-0.0500")
    # capacity 10 of 30 wanted (1/3), 15 of 30 days (1/2): mean 5/12
    assert parts["capacity_time"].feature == Decimal("0.4167")
    assert parts["record"].feature == Decimal("0.5000")  # no rated projects: neutral
    assert 0 < parts["text"].feature < 1
    _sums(ranked[0])
    assert hall.pk not in {m.pk for m in ranked}


def test_weights_come_from_the_policy_store(personas, monkeypatch):
    meal = need(personas)
    resource(personas)
    before = matching.resources_for_need(meal, today=TODAY)[0]
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key="cobuild.matching", value={
            "category_weight": 0.0, "text_weight": 0.0, "proximity_weight": 1.0, "capacity_time_weight": 0.0,
            "record_weight": 0.0, "committed_weight": 0.0}, effective_from=dt.date.today())
    after = matching.resources_for_need(meal, today=TODAY)[0]
    assert before.score != after.score == Decimal("1.0000")
    _sums(after)


def test_the_units_record_raises_its_rank(personas):
    meal = need(personas)
    rated_unit, rated_liaison = unit_with_liaison(personas, "好评单位", "community_a2", "liaison_rated")
    plain = resource(personas)
    rated = resource(personas, owner=rated_unit, actor=rated_liaison, area=personas.areas["community_a"])
    with scopes_disabled():
        project = Project.objects.unscoped().create(title="往年项目", area=personas.areas["community_a"],
                                                    created_by=personas.community_staff, rating_average="4.80")
        project.parties.add(rated_unit)
    ranked = matching.resources_for_need(meal, today=TODAY)
    assert [m.pk for m in ranked] == [rated.pk, plain.pk]
    assert {c.name: c for c in ranked[0].components}["record"].feature == Decimal("0.9500")


def test_service_radius_limits_who_is_matched(personas):
    meal_b = need(personas, area="community_b", actor="community_staff_b")
    resource(personas, radius=ServiceRadius.COMMUNITY)
    resource(personas, radius=ServiceRadius.STREET)
    district = resource(personas, radius=ServiceRadius.DISTRICT)
    assert [m.pk for m in matching.resources_for_need(meal_b, today=TODAY)] == [district.pk]


def test_needs_for_a_resource_rank_the_nearest_first(personas):
    offered = resource(personas)
    near = need(personas)
    far = need(personas, area="community_b", actor="community_staff_b")
    need(personas, title="法律讲座", category=NeedCategory.LEGAL, description="普法讲座")
    ranked = matching.needs_for_resource(offered, today=TODAY)
    assert [m.pk for m in ranked] == [near.pk, far.pk]
    for match in ranked:
        _sums(match)


@pytest.mark.parametrize("features", [
    {"category": 1, "text": 0.33333, "proximity": 0.6, "capacity_time": 0.41666, "record": 0.5, "committed": 0.1},
    {"category": 0.5, "text": 0.0, "proximity": 0.3, "capacity_time": 1, "record": 0.95, "committed": 0.99999},
])
def test_contributions_always_add_up(features):
    w = {n: Decimal(v) for n, v in (("category", "0.3"), ("text", "0.15"), ("proximity", "0.25"),
                                    ("capacity_time", "0.15"), ("record", "0.15"), ("committed", "0.1"))}
    score, components = matching.explain(features, w)
    assert sum(c.contribution for c in components) == score


def test_a_venue_of_another_category_fits_a_venue_need_by_its_kind(personas):
    hall_need = need(personas, title="社区议事会会场", category=NeedCategory.VENUE, description="居民议事会需要会场")
    far_unit, far_liaison = unit_with_liaison(personas, "景山某单位", "community_b", "liaison_far")
    hall = resource(personas, owner=far_unit, actor=far_liaison, title="单位礼堂", kind=ResourceKind.VENUE,
                    category=NeedCategory.CULTURE, capacity=1, capacity_unit="间", description="礼堂可借用")
    ranked = matching.resources_for_need(hall_need, today=TODAY)
    assert [m.pk for m in ranked] == [hall.pk]
    assert {c.name: c for c in ranked[0].components}["category"].feature == Decimal("0.5000")
    # Once enough same-category venues nearby fill the top places, the far hall (whose best
    # possible score is lower) is not even read, and the ranking is the same as reading it.
    nearby = [resource(personas, title=f"多福巷会议室{i}", kind=ResourceKind.VENUE, category=NeedCategory.VENUE,
                       capacity=1, capacity_unit="间", description="会议室可借用", radius=ServiceRadius.COMMUNITY)
              for i in range(3)]
    ranked = matching.resources_for_need(hall_need, limit=3, today=TODAY)
    assert {m.pk for m in ranked} == {r.pk for r in nearby}
    assert [m.pk for m in matching.resources_for_need(hall_need, limit=4, today=TODAY)][-1] == hall.pk
