"""Routing: the most specific rule wins (deepest category, then longest area code); no rule →
the street hub.  Rules are set and deleted by district administrators only, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import catalogue, routing
from zhouxin.dispatch.models import Category, RoutingRule
from zhouxin.orgs.models import Organisation


@pytest.fixture
def world(dispatch_world, personas):
    """The shared world plus one broader rule that competes with the narrower ones:
    物业服务 (0401) anywhere in 东城区 → the 城管 department."""
    catalogue.routing_rule_set(actor=personas.district_admin, category=dispatch_world.categories["0401"],
                               area=personas.areas["dongcheng"], organisation=personas.orgs["department"])
    return dispatch_world


def test_deeper_category_beats_a_closer_area(world, personas):
    # 楼道卫生 in 吉祥社区: "04"@吉祥社区 is closer, but "0401"@东城区 names a deeper category.
    org = routing.route_for(category=world.categories["040102"], area=personas.areas["community_b"])
    assert org == personas.orgs["department"]


def test_leaf_rule_on_the_community_wins(world, personas):
    org = routing.route_for(category=world.categories["040101"], area=personas.areas["community_a"])
    assert org == personas.orgs["community_a_committee"]


def test_a_grid_follows_its_community(world, personas):
    org = routing.route_for(category=world.categories["040101"], area=personas.areas["grid_a"])
    assert org == personas.orgs["community_a_committee"]


def test_a_neighbouring_community_gets_the_broader_rule(world, personas):
    # 银闸社区 has no 电梯故障 rule of its own: the district's 物业服务 rule applies.
    org = routing.route_for(category=world.categories["040101"], area=personas.areas["community_a2"])
    assert org == personas.orgs["department"]


def test_longest_area_wins_among_rules_of_the_same_category(world, personas):
    rule = RoutingRule.objects.unscoped().get(category__code="0401", area=personas.areas["dongcheng"])
    catalogue.routing_rule_delete(actor=personas.district_admin, rule=rule)
    # Now only "04" rules compete: 吉祥社区's own beats the district's.
    assert routing.route_for(category=world.categories["040102"], area=personas.areas["community_b"]) \
        == personas.orgs["community_b_committee"]
    assert routing.route_for(category=world.categories["040102"], area=personas.areas["community_a2"]) \
        == personas.orgs["community_a_committee"]


def test_no_rule_means_the_street_hub_dispatches(world, personas):
    assert routing.route_for(category=world.categories["120101"], area=personas.areas["community_x"]) is None
    assert routing.route_for(category=None, area=personas.areas["community_a"]) is None
    assert routing.rule_for(category=world.categories["120101"], area=None) is None


def test_rules_of_deactivated_organisations_are_skipped(world, personas):
    with scopes_disabled():
        Organisation.objects.filter(pk=personas.orgs["department"].pk).update(is_active=False)
    org = routing.route_for(category=world.categories["040102"], area=personas.areas["community_b"])
    assert org == personas.orgs["community_b_committee"]


def test_routing_is_one_query(world, personas, django_assert_num_queries):
    category, area = world.categories["040101"], personas.areas["grid_a"]
    with django_assert_num_queries(1):
        routing.route_for(category=category, area=area)


# --- Services ------------------------------------------------------------------------------


def test_setting_a_rule_again_changes_its_organisation_and_is_audited(world, personas):
    category, area = world.categories["120101"], personas.areas["street_a"]
    first = catalogue.routing_rule_set(actor=personas.district_admin, category=category, area=area,
                                       organisation=world.orgs["water"])
    second = catalogue.routing_rule_set(actor=personas.district_admin, category=category, area=area,
                                        organisation=personas.orgs["department"])
    assert first.pk == second.pk
    assert routing.route_for(category=category, area=personas.areas["community_a"]) == personas.orgs["department"]
    actions = list(AuditEntry.objects.filter(object_type="dispatch.routingrule", object_id=str(first.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["dispatch.routing_rule.created", "dispatch.routing_rule.updated"]


@pytest.mark.parametrize("persona", ["street_hub", "community_staff", "department_handler", "system_admin"])
def test_only_district_admins_set_rules(world, personas, persona):
    with pytest.raises(PermissionDenied):
        catalogue.routing_rule_set(actor=personas.users[persona], category=world.categories["120101"],
                                   area=personas.areas["street_a"], organisation=world.orgs["water"])
    assert not RoutingRule.objects.unscoped().filter(category__code="120101", area=personas.areas["street_a"]).exists()


def test_a_district_admin_cannot_set_rules_in_another_district(world, personas):
    with pytest.raises(PermissionDenied):
        catalogue.routing_rule_set(actor=personas.district_admin, category=world.categories["120101"],
                                   area=personas.areas["community_x"], organisation=personas.orgs["community_x_committee"])


def test_the_organisation_must_work_in_the_rules_district(world, personas):
    with pytest.raises(ValidationError, match="不在“吉祥社区”所在的区内"):
        catalogue.routing_rule_set(actor=personas.district_admin, category=world.categories["120101"],
                                   area=personas.areas["community_b"],
                                   organisation=personas.orgs["community_x_committee"])


def test_a_deactivated_category_takes_no_new_rules(world, personas):
    catalogue.category_deactivate(actor=personas.district_admin, category=world.categories["060101"])
    world.categories["060101"].refresh_from_db()
    with pytest.raises(ValidationError, match="已停用"):
        catalogue.routing_rule_set(actor=personas.district_admin, category=world.categories["060101"],
                                   area=personas.areas["street_a"], organisation=personas.orgs["department"])


def test_deleting_is_audited_and_refused_to_others(world, personas):
    rule = world.rules[0]
    with pytest.raises(PermissionDenied):
        catalogue.routing_rule_delete(actor=personas.street_hub, rule=rule)
    catalogue.routing_rule_delete(actor=personas.district_admin, rule=rule)
    assert not RoutingRule.objects.unscoped().filter(pk=rule.pk).exists()
    assert AuditEntry.objects.filter(action="dispatch.routing_rule.deleted", object_id=str(rule.pk)).exists()


# --- Seeding a district's rules from the catalogue -------------------------------------------


def test_seeding_a_district_routes_by_the_catalogue(personas):
    with scopes_disabled():
        catalogue.catalogue_seed()
        result = catalogue.routing_seed_district(district=personas.areas["dongcheng"])
        assert result.created > 0
        categories = {c.code: c for c in Category.objects.filter(code__in=["040301", "060101", "110301", "120101"])}
        a = personas.areas
        # 物业 → each community's Party committee.
        assert routing.route_for(category=categories["040301"], area=a["community_b"]) \
            == personas.orgs["community_b_committee"]
        # 城乡建设 → the district's 城市管理综合…执法 department, matched by name.
        assert routing.route_for(category=categories["060101"], area=a["grid_a"]) == personas.orgs["department"]
        # 垃圾分类 → the community, a leaf-level route under a department-routed group.
        assert routing.route_for(category=categories["110301"], area=a["community_a"]) \
            == personas.orgs["community_a_committee"]
        # 供水 → 水务局, which the personas' district does not have: the street hub dispatches.
        assert routing.route_for(category=categories["120101"], area=a["community_a"]) is None
        assert any(label.startswith("1201 区:水务局") for label in result.unmatched)
        # 银闸社区 has no Party committee in this world: reported, not invented.
        assert any("银闸社区" in label for label in result.unmatched)
        # Idempotent: a second run adds nothing and keeps what exists.
        again = catalogue.routing_seed_district(district=personas.areas["dongcheng"])
        assert again.created == 0 and again.existing == result.created


def test_seeding_keeps_a_rule_an_administrator_changed(personas):
    with scopes_disabled():
        catalogue.catalogue_seed()
        category = Category.objects.get(code="04")
    catalogue.routing_rule_set(actor=personas.district_admin, category=category,
                               area=personas.areas["community_b"], organisation=personas.orgs["department"])
    with scopes_disabled():
        catalogue.routing_seed_district(district=personas.areas["dongcheng"])
        assert routing.route_for(category=Category.objects.get(code="040102"),
                                 area=personas.areas["community_b"]) == personas.orgs["department"]


def test_seeding_needs_a_district(personas):
    with scopes_disabled(), pytest.raises(ValidationError, match="不是区级区域"):
        catalogue.routing_seed_district(district=personas.areas["street_a"])


def test_seeding_in_a_request_needs_the_permission(personas):
    with pytest.raises(PermissionDenied):
        catalogue.routing_seed_district(actor=personas.street_hub, district=personas.areas["dongcheng"])
    with pytest.raises(PermissionDenied):  # the system acts only where scoping is disabled on purpose
        catalogue.routing_seed_district(actor=None, district=personas.areas["dongcheng"])


# --- The routing rules page ---------------------------------------------------------------------


def test_community_staff_see_the_rules_that_apply_to_them(world, client_for):
    body = client_for("community_staff").get(reverse("dispatch:routing_rules")).content.decode()
    assert "多福巷社区" in body and "电梯故障" in body  # the community's own rule
    assert "东城区" in body  # the district's rules apply to the community too
    assert "吉祥社区" not in body  # another community's rule is none of its business
    assert "保存规则" not in body  # read only


def test_a_department_sees_the_rules_that_route_to_it(world, client_for):
    body = client_for("department_handler").get(reverse("dispatch:routing_rules")).content.decode()
    assert "社会秩序" in body and "东城区城市管理综合行政执法监察局" in body
    assert "东城区水务局" not in body


def test_district_admin_adds_a_rule_from_the_page(world, personas, client_for):
    client = client_for("district_admin")
    response = client.post(reverse("dispatch:routing_rules"), {
        "category": "120101", "area": personas.areas["street_b"].code, "organisation": str(world.orgs["water"].pk)},
        follow=True)
    assert response.status_code == 200
    assert "已设置：景山街道的“停水”类诉求派给东城区水务局。" in response.content.decode()
    assert RoutingRule.objects.unscoped().filter(category__code="120101", area=personas.areas["street_b"]).exists()


def test_a_bad_rule_is_explained_and_nothing_changes(world, personas, client_for):
    client = client_for("district_admin")
    before = RoutingRule.objects.unscoped().count()
    response = client.post(reverse("dispatch:routing_rules"), {
        "category": "120101", "area": personas.areas["xicheng"].code,
        "organisation": str(world.orgs["water"].pk)})
    assert response.status_code == 400
    assert "请选择您管辖范围内的区域。" in response.content.decode()
    response = client.post(reverse("dispatch:routing_rules"), {"category": "", "area": "", "organisation": ""})
    assert response.status_code == 400
    assert "请选择类别。" in response.content.decode()
    assert RoutingRule.objects.unscoped().count() == before


def test_district_admin_deletes_a_rule_from_the_page(world, client_for):
    rule = world.rules[1]  # 物业管理 @ 吉祥社区
    response = client_for("district_admin").post(reverse("dispatch:routing_rule_delete", args=[rule.pk]), follow=True)
    assert "已删除派单规则：吉祥社区的“物业管理”→ 中共吉祥社区委员会" in response.content.decode()
    assert not RoutingRule.objects.unscoped().filter(pk=rule.pk).exists()


def test_probe_says_who_gets_a_request(world, personas, client_for):
    response = client_for("street_hub").get(reverse("dispatch:routing_rules"), {
        "probe_category": "040101", "probe_area": personas.areas["community_a2"].code})
    body = response.content.decode()
    assert "银闸社区的“电梯故障”诉求派给 <strong>东城区城市管理综合行政执法监察局</strong>" in body
    response = client_for("street_hub").get(reverse("dispatch:routing_rules"), {
        "probe_category": "120101", "probe_area": personas.areas["street_a"].code})
    assert "东华门街道的“停水”诉求派给 <strong>东城区水务局</strong>" in response.content.decode()


@pytest.mark.django_db
def test_routing_a_batch_answers_what_routing_each_request_answers(personas, dispatch_world):
    """The intake worker routes its batch with one query (route_ids_for): for every leaf and
    every place it names the same organisation as route_id_for, including no rule at all."""
    from zhouxin.dispatch.routing import route_id_for, route_ids_for

    leaves = [c for c in dispatch_world.categories.values() if c.level == 3]
    places = [personas.areas[k] for k in ("community_a", "community_a2", "community_b", "grid_a")]
    expected = {(c.code, a.code): route_id_for(category=c, area=a) for c in leaves for a in places}
    assert len(set(expected.values())) >= 3  # the world has several answers to tell apart
    with CaptureQueriesContext(connection) as queries:
        routed = route_ids_for(expected)
    assert len(queries.captured_queries) == 1
    assert {pair: routed.get(pair) for pair in expected} == expected
    # A deactivated organisation's rule is skipped in both.
    Organisation.objects.unscoped().filter(pk=dispatch_world.orgs["community_b"].pk).update(is_active=False)
    pair = ("040102", "110101002001")
    assert route_ids_for([pair]).get(pair) == route_id_for(category=dispatch_world.categories["040102"],
                                                          area=personas.areas["community_b"])
    assert route_ids_for([]) == {}
