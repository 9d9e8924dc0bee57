"""Scoped reads: tree roots and counts, search by name and pinyin initials, list filters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhouxin.core.scoping import activate, scope_for_user, scopes_disabled
from zhouxin.orgs import selectors
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation
from zhouxin.orgs.services import area_search_keys, initials_of


def as_user(personas, name):
    return activate(scope_for_user(personas.users[name]))


def names(hits):
    return [hit.name for hit in hits]


@pytest.mark.django_db
def test_grant_roots_are_the_grant_nodes(personas):
    with as_user(personas, "district_admin"):
        assert [a.name for a in selectors.grant_roots(personas.district_admin)] == ["东城区"]
    with as_user(personas, "community_staff"):
        assert [a.name for a in selectors.grant_roots(personas.community_staff)] == ["多福巷社区"]
    with as_user(personas, "department_handler"):  # not an area role
        assert selectors.grant_roots(personas.department_handler) == []


@pytest.mark.django_db
def test_subtree_counts_for_children_in_a_fixed_number_of_queries(personas):
    with as_user(personas, "district_admin"):
        district = Area.objects.get(code="110101")
        children = selectors.area_children(district)
        with CaptureQueriesContext(connection) as queries:
            counts = selectors.subtree_counts(children)
        assert len(queries) == 3
    street_a, street_b = counts["110101001"], counts["110101002"]
    assert (street_a.communities, street_a.grids, street_a.organisations, street_a.people) == (2, 1, 4, 2)
    assert (street_b.communities, street_b.grids, street_b.organisations, street_b.people) == (1, 0, 2, 1)
    assert street_a.children == 3


@pytest.mark.django_db
def test_counts_never_include_rows_outside_the_scope(personas):
    # The community worker asks about the district node's subtree: only their own community is counted.
    with as_user(personas, "community_staff"):
        summary = selectors.scope_summary()
    assert summary.by_level == {AreaLevel.COMMUNITY: 1, AreaLevel.GRID: 1}
    assert summary.organisations == 3  # committee, hospital and its branch in 多福巷社区
    assert summary.people == 2


@pytest.mark.django_db
def test_search_finds_a_street_by_pinyin_initials(personas):
    with as_user(personas, "district_admin"):
        hits = selectors.search("dhm")
    assert hits[0].name == "东华门街道"
    assert hits[0].path == ("东城区",)


@pytest.mark.django_db
def test_search_finds_a_community_committee_by_its_community_initials(personas):
    with scopes_disabled():
        street = personas.areas["street_a"]
        pinyin, initials = area_search_keys("多福巷社区居委会", AreaLevel.COMMUNITY)
        Area.objects.unscoped().filter(code="110101001001").update(
            name="多福巷社区居委会", pinyin=pinyin, pinyin_initials=initials)
    with as_user(personas, "street_hub"):
        hits = selectors.search("DFX ")  # case and spaces do not matter
    assert hits[0].name == "多福巷社区居委会"
    assert hits[0].path == ("东城区", street.name)


@pytest.mark.django_db
def test_search_ranks_exact_and_prefix_matches_before_substrings_then_by_level(personas):
    with scopes_disabled():
        community = personas.areas["community_a"]
        name = "东华门社区服务站"  # an organisation whose initials also start with dhm, one level down
        Organisation.objects.unscoped().create(name=name, kind=OrgKind.SOCIAL_ORG, area=community,
                                               pinyin_initials=initials_of(name))
    with as_user(personas, "district_admin"):
        hits = selectors.search("dhm")
        by_name = selectors.search("东华门")
    assert names(hits)[:2] == ["东华门街道", "东华门社区服务站"]
    # 中共东华门街道工作委员会 only contains the text: it comes after the prefix matches.
    assert names(by_name).index("中共东华门街道工作委员会") > names(by_name).index("东华门社区服务站")


@pytest.mark.django_db
def test_search_by_full_pinyin(personas):
    with as_user(personas, "district_admin"):
        assert names(selectors.search("jingshan"))[:1] == ["景山街道"]


@pytest.mark.django_db
def test_search_is_limited_to_the_scope(personas):
    with as_user(personas, "community_staff"):
        found = names(selectors.search("社区"))
        assert "多福巷社区" in found
        assert "吉祥社区" not in found and "西交民巷社区" not in found
        assert selectors.search("jx") == []
    with as_user(personas, "outsider"):
        assert names(selectors.search("东")) == []
        assert names(selectors.search("xjm")) == ["西交民巷社区"]


@pytest.mark.django_db
def test_search_returns_at_most_the_limit_in_three_queries(personas):
    with scopes_disabled():
        street = personas.areas["street_a"]
        for i in range(30):
            Organisation.objects.unscoped().create(name=f"东华门第{i}志愿服务队", kind=OrgKind.SOCIAL_ORG,
                                                   area=street, pinyin_initials=initials_of(f"东华门第{i}志愿服务队"))
    with as_user(personas, "street_hub"), CaptureQueriesContext(connection) as queries:
        hits = selectors.search("东华门")
    assert len(hits) == selectors.SEARCH_LIMIT
    assert len(queries) == 3
    assert hits[0].name == "东华门街道"


@pytest.mark.django_db
def test_empty_or_blank_search_finds_nothing(personas):
    with as_user(personas, "district_admin"):
        assert selectors.search("") == []
        assert selectors.search("   ") == []


@pytest.mark.django_db
def test_path_links_only_the_steps_in_scope(personas):
    user = personas.community_staff
    with as_user(personas, "community_staff"):
        path = selectors.area_path("110101001001001", user)
    assert [(s.name, s.in_scope) for s in path] == [("东城区", False), ("东华门街道", False), ("多福巷社区", True)]


@pytest.mark.django_db
def test_list_filters(personas):
    with as_user(personas, "district_admin"):
        street_a = Area.objects.get(code="110101001")
        in_street = selectors.organisations(area=street_a)
        assert "中共景山街道工作委员会" not in [o.name for o in in_street]
        assert {o.name for o in selectors.organisations(kind=OrgKind.RESIDENT_UNIT)} == {"北京市东城区第一人民医院"}
        assert [p.name for p in selectors.people(q="周")] == ["周海燕"]
        assert [p.name for p in selectors.people(area=Area.objects.get(code="110101002001"))] == ["马玉芬"]
