"""Intake's look-ups by code (lookup.py) are cached per process, and an edit is seen at once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import catalogue, lookup
from zhouxin.orgs import services as orgs_services
from zhouxin.orgs.models import Area

pytestmark = pytest.mark.django_db


def test_an_area_is_found_with_its_street_and_district_then_served_from_memory(personas):
    with CaptureQueriesContext(connection) as first:
        area = lookup.intake_area(" 110101001001 ")
    assert (area.name, area.parent.name, area.parent.parent.code) == ("多福巷社区", "东华门街道", "110101")
    assert len(first.captured_queries) == 1
    with CaptureQueriesContext(connection) as again:
        assert lookup.intake_area("110101001001").pk == area.pk
        assert lookup.intake_area("110101001001001").name == "多福巷社区第一网格"
        assert lookup.intake_area("110101001001001").parent.parent.code == "110101001"
        assert lookup.intake_area("110101001002").name == "银闸社区"
    assert len(again.captured_queries) == 0  # the district's places came with the first


def test_a_district_is_loaded_in_one_query_with_shared_parents(personas):
    with CaptureQueriesContext(connection) as queries:
        a1, a2 = lookup.intake_area("110101001001"), lookup.intake_area("110101001002")
    assert len(queries.captured_queries) == 1
    assert a1.parent is a2.parent and a1.parent.name == "东华门街道"  # one street instance for its communities
    assert a1.parent.parent.code == "110101"


def test_a_community_added_after_the_district_was_loaded_is_found_at_once(personas):
    assert lookup.intake_area("110101001001") is not None
    street = personas.areas["street_a"]
    # Added by another process: no signal reaches this one, whose district stays cached.
    Area.objects.unscoped().bulk_create([Area(code="110101001099", name="新建社区", level="community", parent=street)])
    with CaptureQueriesContext(connection) as queries:
        added = lookup.intake_area("110101001099")
        assert lookup.intake_area("110101001001").name == "多福巷社区"
    assert added.name == "新建社区" and added.parent.parent.code == "110101"
    assert len(queries.captured_queries) == 1  # the new code alone; the district is not reloaded


def test_only_active_communities_and_grids_are_found(personas):
    for code in ("110101", "110101001", "1101", "", None, "abc", "11010100100x", "999999999999"):
        assert lookup.intake_area(code) is None, code
    with CaptureQueriesContext(connection) as queries:
        assert lookup.intake_area("999999999999") is None
    assert len(queries.captured_queries) == 1  # not found is not remembered: a new community counts at once


def test_a_deactivated_community_is_refused_at_once(personas):
    assert lookup.intake_area("110101001002") is not None
    orgs_services.area_update(actor=personas.users["district_admin"], area=personas.areas["community_a2"],
                              is_active=False)
    assert lookup.intake_area("110101001002") is None


def test_areas_changed_in_bulk_are_seen_after_commit(personas):
    assert lookup.intake_area("110101001002").name == "银闸社区"
    Area.objects.unscoped().filter(code="110101001002").update(name="银闸社区（新）")
    from zhouxin.orgs.signals import areas_changed

    areas_changed.send(sender=Area)
    assert lookup.intake_area("110101001002").name == "银闸社区（新）"


def test_entries_expire(personas, monkeypatch):
    assert lookup.intake_area("110101001002").name == "银闸社区"
    Area.objects.unscoped().filter(code="110101001002").update(name="银闸社区（另一进程改）")
    assert lookup.intake_area("110101001002").name == "银闸社区"  # still remembered
    monkeypatch.setattr(lookup, "TTL_SECONDS", 0)
    assert lookup.intake_area("110101001002").name == "银闸社区（另一进程改）"


def test_leaf_categories_by_code_and_by_id(personas, dispatch_world):
    leaf = dispatch_world.categories["040101"]
    found = lookup.leaf_category(code="040101")
    assert found.pk == leaf.pk and found.parent.code == "0401"
    assert lookup.leaf_category(pk=leaf.pk).code == "040101"
    assert lookup.leaf_category(pk=str(leaf.pk)).code == "040101"
    for bad in ({"code": "0401"}, {"code": "04"}, {"code": "x"}, {"pk": "x"}, {"pk": None, "code": None},
                {"pk": dispatch_world.categories["0401"].pk}):
        assert lookup.leaf_category(**bad) is None, bad


def test_a_deactivated_category_is_refused_once_the_edit_commits(personas, dispatch_world, django_capture_on_commit_callbacks):
    assert lookup.leaf_category(code="040102") is not None
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        catalogue.category_deactivate(actor=None, category=dispatch_world.categories["0401"])
    assert lookup.leaf_category(code="040102") is None
    assert lookup.leaf_category(code="120101") is not None
