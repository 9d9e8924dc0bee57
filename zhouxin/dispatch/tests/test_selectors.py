"""Scoped reads of the work pages: tabs, queue filters, intake areas, dispatch targets, categories."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from zhouxin.core.scoping import activate, scope_for_user, scopes_disabled
from zhouxin.dispatch import selectors, services
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def make(personas, actor="street_hub", area="community_a", category=None, **kwargs):
    values = {"kind": "complaint", "channel": "hotline", "title": "楼道堆放杂物",
              "description": "3号楼楼道堆放杂物。"}
    values.update(kwargs)
    return services.request_intake(actor=personas.users[actor], area=personas.areas[area], category=category,
                                   **values)


def numbers(user, tab, filters=None, now=None):
    with activate(scope_for_user(user)):
        return {r.number for r in selectors.queue(user, tab, filters or selectors.QueueFilters(), now)}


def test_tabs_follow_the_role(personas):
    hub = [t.key for t in selectors.tabs_for(personas.street_hub)]
    community = [t.key for t in selectors.tabs_for(personas.community_staff)]
    assert "dispatch" in hub and "dispatch" not in community
    assert selectors.default_tab(personas.street_hub) == "dispatch"
    assert selectors.default_tab(personas.department_handler) == "mine"


def test_tab_conditions(personas, dispatch_world):
    now = timezone.now()
    received = make(personas, title="待派")
    dispatched = make(personas, title="已派", category=dispatch_world.categories["040102"])
    returned = make(personas, title="退单", category=dispatch_world.categories["080101"])
    services.request_return(actor=personas.department_handler, request=returned, reason="不属于城管职责")
    replied = make(personas, title="待回访")
    ServiceRequest.objects.unscoped().filter(pk=replied.pk).update(status=Status.REPLIED)
    supervised = make(personas, title="督办")
    ServiceRequest.objects.unscoped().filter(pk=supervised.pk).update(status=Status.REOPENED, supervised=True)
    closed = make(personas, title="已办结")
    ServiceRequest.objects.unscoped().filter(pk=closed.pk).update(status=Status.CLOSED)
    hub = personas.street_hub
    assert numbers(hub, "dispatch", now=now) == {received.number, returned.number}
    assert numbers(hub, "returned", now=now) == {returned.number}
    assert numbers(hub, "callback", now=now) == {replied.number}
    assert numbers(hub, "supervised", now=now) == {supervised.number}
    assert closed.number in numbers(hub, "all", now=now)
    assert closed.number not in numbers(hub, "mine", now=now)  # finished work leaves "mine"
    # The street hub received all of them; the community's organisation handles the dispatched one.
    assert numbers(personas.community_staff, "mine", now=now) == {dispatched.number}


def test_due_soon_uses_the_stored_warning_point_and_overdue_the_deadline(personas):
    now = timezone.now()
    sr = make(personas)
    ServiceRequest.objects.unscoped().filter(pk=sr.pk).update(warn_due_at=now + dt.timedelta(hours=1),
                                                              resolve_due_at=now + dt.timedelta(hours=5))
    hub = personas.street_hub
    assert sr.number not in numbers(hub, "due_soon", now=now)
    assert sr.number in numbers(hub, "due_soon", now=now + dt.timedelta(hours=2))
    assert sr.number not in numbers(hub, "overdue", now=now + dt.timedelta(hours=2))
    assert sr.number in numbers(hub, "overdue", now=now + dt.timedelta(hours=5))
    assert sr.number not in numbers(hub, "due_soon", now=now + dt.timedelta(hours=5))
    # A replied request's clock has stopped: it is neither due soon nor overdue.
    ServiceRequest.objects.unscoped().filter(pk=sr.pk).update(status=Status.REPLIED)
    assert sr.number not in numbers(hub, "overdue", now=now + dt.timedelta(hours=6))


def test_tab_counts_are_one_query(personas, django_assert_num_queries):
    for i in range(3):
        make(personas, title=f"诉求{i}")
    hub = personas.street_hub
    tabs = selectors.tabs_for(hub)
    scope_for_user(hub)  # the grants are read once per request, by the middleware
    with activate(scope_for_user(hub)), django_assert_num_queries(1):
        counts = selectors.tab_counts(hub, tabs, timezone.now())
    assert counts["dispatch"] == 3 and counts["overdue"] == 0 and "all" not in counts


def test_category_filter_takes_the_subtree(personas, dispatch_world):
    lift = make(personas, title="电梯", category=dispatch_world.categories["040101"])
    corridor = make(personas, title="楼道", category=dispatch_world.categories["040102"])
    water = make(personas, title="停水", category=dispatch_world.categories["120101"])
    hub = personas.street_hub
    top = selectors.QueueFilters(category=dispatch_world.categories["04"])
    assert numbers(hub, "all", top) == {lift.number, corridor.number}
    assert water.number in numbers(hub, "all", selectors.QueueFilters(category=dispatch_world.categories["12"]))


def test_intake_areas(personas):
    def names(user):
        with activate(scope_for_user(user)):
            return [a.name for a in selectors.intake_areas(user)]

    assert names(personas.community_staff) == ["多福巷社区", "多福巷社区第一网格"]
    assert names(personas.grid_worker) == ["多福巷社区第一网格"]
    assert names(personas.street_hub) == ["多福巷社区", "银闸社区"]  # a street lists communities, not grids
    assert names(personas.department_handler) == []


def test_dispatch_targets_are_the_districts_departments_and_the_streets_communities(personas, dispatch_world):
    sr = make(personas)
    with scopes_disabled():
        closed = Organisation.objects.create(name="已撤销的部门", kind=OrgKind.DEPARTMENT,
                                             area=personas.areas["dongcheng"], is_active=False)
        xicheng = Organisation.objects.create(name="西城区城管", kind=OrgKind.DEPARTMENT,
                                              area=personas.areas["xicheng"])
    targets = {o.name for o in selectors.dispatch_targets(ServiceRequest.objects.unscoped().get(pk=sr.pk))}
    assert {"东城区城市管理综合行政执法监察局", "东城区水务局", "中共多福巷社区委员会", "中共东华门街道工作委员会"} <= targets
    assert "中共吉祥社区委员会" not in targets  # another street's community
    assert closed.name not in targets and xicheng.name not in targets
    assert "北京市东城区第一人民医院" not in targets  # a resident unit does not handle requests


def test_category_search(dispatch_world):
    assert [c.name for c in selectors.category_search("楼道")] == ["楼道卫生"]
    assert [c.name for c in selectors.category_search("停水")] == ["停水"]
    assert "私搭乱建" in [c.name for c in selectors.category_search("城乡建设")]  # by the top-level name
    assert selectors.category_search("   ") == []


def test_category_leaves_are_grouped_and_skip_inactive(dispatch_world):
    leaf = dispatch_world.categories["060101"]
    leaf.is_active = False
    leaf.save(update_fields=["is_active"])
    groups = {g["label"]: [c.name for c in g["leaves"]] for g in selectors.category_leaves()}
    assert groups["物业管理 › 物业服务"] == ["电梯故障", "楼道卫生"]
    assert "城乡建设 › 违法建设" not in groups
