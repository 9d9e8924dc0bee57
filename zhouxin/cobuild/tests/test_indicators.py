"""Co-building indicators: the needs matched rate and the projects completed, computed from needs,
claims and projects made through the services, for communities, streets and the district, in a
fixed number of queries, with links to the lists behind them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.cobuild import delivery, services
from zhouxin.cobuild.choices import NeedCategory
from zhouxin.cobuild.models import Need, Project
from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .helpers import need, resource

D = Decimal
APRIL = Period.month(2025, 4)


def _at(month: int, day: int = 10, year: int = 2025) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


def _claimed(personas, need_obj, res, *, confirm_by=None):
    with scopes_disabled():
        claim = services.claim_create(actor=personas.unit_liaison, need=need_obj, resource=res, quantity=1)
        if confirm_by:
            services.claim_confirm(actor=personas.users[confirm_by], claim=claim)
    return claim


def _completed_project(personas, claim, completed_at):
    hub = personas.street_hub
    with scopes_disabled():
        project = services.project_create_from_claim(actor=hub, claim=claim)
        delivery.project_start(actor=hub, project=project)
        delivery.project_complete(actor=hub, project=project)
        Project.objects.unscoped().filter(pk=project.pk).update(completed_at=completed_at)
    return project


def _posted_on(need_obj, when):
    Need.objects.unscoped().filter(pk=need_obj.pk).update(created_at=when)


@pytest.fixture
def world(personas):
    """April 2025: in 多福巷 a need met by a completed project, one with a pending claim, one open;
    in 银闸 one with a confirmed claim; one posted for the street itself; in 吉祥 (景山街道) one open.
    Outside April: a 多福巷 need of March (matched) and a project completed in May."""
    canteen = resource(personas, capacity=100)
    meal = need(personas, title="高龄老人午间助餐")
    clinic = need(personas, title="社区义诊", category=NeedCategory.MEDICAL)
    legal = need(personas, title="法律讲座", category=NeedCategory.LEGAL)
    tutoring = need(personas, area="community_a2", actor="street_hub", title="课后托管",
                    category=NeedCategory.EDUCATION)
    street_need = need(personas, area="street_a", actor="street_hub", title="街道运动会场地")
    jixiang = need(personas, area="community_b", actor="community_staff_b", title="楼道整治")
    march = need(personas, title="三月的助餐需求")
    may = need(personas, title="五月结项的助餐需求")

    project = _completed_project(personas, _claimed(personas, meal, canteen, confirm_by="street_hub"), _at(4, 20))
    _claimed(personas, clinic, canteen)  # pending: not matched yet
    _claimed(personas, tutoring, canteen, confirm_by="street_hub")
    _claimed(personas, march, canteen, confirm_by="community_staff")
    later = _completed_project(personas, _claimed(personas, may, canteen, confirm_by="street_hub"), _at(5, 3))
    with scopes_disabled():
        for item in (meal, clinic, legal, tutoring, street_need, jixiang, may):
            _posted_on(item, _at(4, 2))
        _posted_on(may, _at(4, 28))
        _posted_on(march, _at(3, 30))
    return {"project": project, "later": later, "clinic": clinic, "canteen": canteen}


def _values(name, areas, period=APRIL):
    with scopes_disabled():
        return indicators.compute(name, areas, period)


def test_needs_matched_rate_by_level(personas, world):
    a = personas.areas
    rates = _values("cobuild.needs_matched_rate", [a["community_a"], a["community_a2"], a["community_b"],
                                                   a["community_x"], a["street_a"], a["dongcheng"], a["city"]])
    # 多福巷: meal (met) and may (met) of meal, clinic, legal, may.
    assert rates[a["community_a"].pk] == D("0.5")
    assert rates[a["community_a2"].pk] == D("1")
    assert rates[a["community_b"].pk] == D("0")
    # No need posted in 西交民巷: no figure, not 0 %.
    assert a["community_x"].pk not in rates
    # 东华门街道: its communities' needs and its own: 3 matched of 6.
    assert rates[a["street_a"].pk] == D("0.5")
    assert rates[a["dongcheng"].pk] == D("3") / D("7")
    assert rates[a["city"].pk] == D("3") / D("7")
    # The quarter counts March's matched need too.
    q = _values("cobuild.needs_matched_rate", [a["community_a"]], Period.parse("2025-Q1"))
    assert q == {a["community_a"].pk: D("1")}


def test_a_confirmed_claim_counts_and_a_declined_one_stops_counting(personas, world):
    a = personas.areas
    before = _values("cobuild.needs_matched_rate", [a["community_a"]])[a["community_a"].pk]
    with scopes_disabled():
        claim = world["clinic"].claims.get()
        services.claim_confirm(actor=personas.street_hub, claim=claim)
    assert _values("cobuild.needs_matched_rate", [a["community_a"]])[a["community_a"].pk] == D("0.75")
    assert before == D("0.5")


def test_a_cancelled_project_reopens_its_need(personas, world):
    a = personas.areas
    with scopes_disabled():
        claim = services.claim_create(actor=personas.unit_liaison, need=need(personas, title="新需求"),
                                      resource=world["canteen"], quantity=1)
        _posted_on(claim.need, _at(4, 5))
        services.claim_confirm(actor=personas.street_hub, claim=claim)
        project = services.project_create_from_claim(actor=personas.street_hub, claim=claim)
    assert _values("cobuild.needs_matched_rate", [a["community_a"]])[a["community_a"].pk] == D("0.6")
    with scopes_disabled():
        delivery.project_cancel(actor=personas.street_hub, project=project, reason="单位场地临时改作他用")
    assert _values("cobuild.needs_matched_rate", [a["community_a"]])[a["community_a"].pk] == D("0.4")


def test_projects_done_in_the_period(personas, world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["street_a"], a["dongcheng"]]
    done = _values("cobuild.projects_done", areas)
    assert done == {a["community_a"].pk: 1, a["community_a2"].pk: 0, a["community_b"].pk: 0,
                    a["street_a"].pk: 1, a["dongcheng"].pk: 1}
    assert _values("cobuild.projects_done", [a["street_a"]], Period.month(2025, 5)) == {a["street_a"].pk: 1}
    assert _values("cobuild.projects_done", [a["street_a"]], Period.parse("2025-Q2")) == {a["street_a"].pk: 2}
    assert _values("cobuild.projects_done", [a["grid_a"]]) == {}


def test_a_fixed_number_of_queries_for_one_or_many_areas(personas, world):
    a = personas.areas
    with scopes_disabled():
        extra = [Area.objects.unscoped().create(code=f"110101001{100 + i:03d}", name=f"测试{i}社区",
                                                level=AreaLevel.COMMUNITY, parent=a["street_a"]) for i in range(12)]
    for name in ("cobuild.needs_matched_rate", "cobuild.projects_done"):
        with CaptureQueriesContext(connection) as one:
            _values(name, [a["community_a"]])
        with CaptureQueriesContext(connection) as many:
            values = _values(name, [a["community_a"], a["community_a2"], a["community_b"], *extra])
        assert len(one) == len(many) == 1, name
        assert values[a["community_a"].pk] is not None


def test_links_open_the_lists(personas, world, client_for):
    a = personas.areas
    link = indicators.link("cobuild.needs_matched_rate", a["community_a"], APRIL)
    assert link == reverse("cobuild:need_list")
    page = client_for("community_staff").get(link)
    assert page.status_code == 200 and "高龄老人午间助餐" in page.content.decode()
    link = indicators.link("cobuild.projects_done", a["street_a"], APRIL)
    assert link == reverse("cobuild:project_list")
    page = client_for("street_hub").get(link)
    assert page.status_code == 200 and world["project"].title in page.content.decode()
