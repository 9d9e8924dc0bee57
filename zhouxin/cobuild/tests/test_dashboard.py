"""The co-building dashboard (共建看板): its figures are the sums of what was recorded, in the
caller's areas only, in a bounded number of queries, and the page carries the charts' data."""

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.cobuild import dashboard, services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.cobuild.models import Need, Project, Rating, Resource, ServiceRecord
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.models import ResidentAccount

from .helpers import need, resource, unit_with_liaison

YEAR = timezone.localdate().year


def _at(month: int, day: int = 10, year: int = YEAR) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, 10, 0))


def _project(personas, *, need_obj, res, confirmer, quantity=5):
    liaison = res.created_by
    with scopes_disabled():
        claim = services.claim_create(actor=liaison, need=need_obj, resource=res, quantity=quantity)
        services.claim_confirm(actor=confirmer, claim=claim)
        return services.project_create_from_claim(actor=confirmer, claim=claim)


def _record(project, held_on, *, beneficiaries, volunteers, hours, by):
    return ServiceRecord.objects.create(project=project, held_on=held_on, title="助餐服务", beneficiary_group="高龄老人",
                                        beneficiaries=beneficiaries, volunteers=volunteers,
                                        volunteer_hours=Decimal(hours), created_by=by)


def _account(n: int) -> ResidentAccount:
    now = timezone.now()
    return ResidentAccount.objects.create(phone=f"1990000{n:04d}", phone_index=f"test-index-{n}",
                                          consent_version="test", created_at=now, last_signed_in_at=now)


@pytest.fixture
def world(personas):
    """东华门街道: three needs this year in 多福巷 and 银闸 (one met through a project of the hospital
    with two service records and two ratings), one need of last year; 景山街道: a unit's project
    in 吉祥社区 with a large record that the street hub must not count."""
    a, o = personas.areas, personas.orgs
    hub = personas.street_hub
    meal = need(personas, title="高龄老人午间助餐")
    clinic = need(personas, title="社区义诊", category=NeedCategory.MEDICAL)
    legal = need(personas, area="community_a2", actor="street_hub", title="法律讲座", category=NeedCategory.LEGAL)
    old = need(personas, title="去年的楼道整治", category=NeedCategory.ENVIRONMENT)
    canteen = resource(personas, capacity=40)
    project = _project(personas, need_obj=meal, res=canteen, confirmer=hub, quantity=10)
    unit_b, liaison_b = unit_with_liaison(personas, "北京市第二中学", "community_b", "liaison_school")
    with scopes_disabled():
        tutoring = services.need_create(actor=personas.community_staff_b, area=a["community_b"], title="课后托管",
                                        category=NeedCategory.EDUCATION)
        classroom = services.resource_create(
            actor=liaison_b, owner=unit_b, kind=ResourceKind.VOLUNTEERS, category=NeedCategory.EDUCATION,
            title="教师志愿者课后辅导", capacity=20, capacity_unit="人次", available_from=dt.date(YEAR, 1, 1),
            radius=ServiceRadius.STREET)
        other = _project(personas, need_obj=tutoring, res=classroom, confirmer=personas.community_staff_b)
        services.need_close(actor=hub, need=meal, met=True)
        Need.objects.unscoped().filter(pk=meal.pk).update(created_at=_at(3, 2), updated_at=_at(5, 20))
        Need.objects.unscoped().filter(pk=clinic.pk).update(created_at=_at(4, 2))
        Need.objects.unscoped().filter(pk=legal.pk).update(created_at=_at(4, 15))
        Need.objects.unscoped().filter(pk=old.pk).update(created_at=_at(11, 1, YEAR - 1))
        Need.objects.unscoped().filter(pk=tutoring.pk).update(created_at=_at(4, 3))
        Project.objects.unscoped().filter(pk__in=[project.pk, other.pk]).update(created_at=_at(3, 5))
        _record(project, dt.date(YEAR, 3, 12), beneficiaries=12, volunteers=3, hours="6.5", by=hub)
        _record(project, dt.date(YEAR, 4, 9), beneficiaries=18, volunteers=4, hours="8.0", by=hub)
        _record(project, dt.date(YEAR - 1, 12, 30), beneficiaries=99, volunteers=9, hours="99", by=hub)
        _record(other, dt.date(YEAR, 5, 1), beneficiaries=100, volunteers=10, hours="50", by=liaison_b)
        Rating.objects.create(project=project, account=_account(1), stars=4)
        Rating.objects.create(project=project, account=_account(2), stars=5)
        Rating.objects.create(project=other, account=_account(3), stars=1)
    return {"project": project, "other": other, "hospital": o["unit"], "school": unit_b, "canteen": canteen,
            "liaison_b": liaison_b}


def _board(user, street=""):
    with scopes_disabled():
        return dashboard.build(dashboard.dashboard_scope(user, street=street), YEAR)


def test_street_figures_are_the_sums_of_the_street_records(personas, world):
    board = _board(personas.street_hub)
    assert (board.needs_posted, board.needs_met, board.met_rate) == (3, 1, 33.3)
    assert board.hours == Decimal("14.5") and board.beneficiaries == 30 and board.volunteers == 7
    assert board.records == 2
    assert board.resources == 1 and board.resources_used == 1 and board.resource_share_percent == 25.0
    assert board.active_units == 1 and board.projects == 1
    months = {row["month"]: row for row in board.months}
    assert (months[3]["posted"], months[4]["posted"], months[5]["met"]) == (1, 2, 1)
    assert (months[3]["hours"], months[4]["hours"], months[5]["hours"]) == (Decimal("6.5"), Decimal("8.0"), 0)
    assert {c["category"]: (c["posted"], c["met"]) for c in board.categories} == {
        "elderly_meal": (1, 1), "medical": (1, 0), "legal": (1, 0)}
    # The host community's Party committee is a party too, but no unit: the hospital alone, not counted twice.
    assert [(u["name"], u["hours"], u["projects"], u["rating"], u["ratings"]) for u in board.top_hours] == [
        ("北京市东城区第一人民医院", Decimal("14.5"), 1, 4.5, 2)]
    assert [(u["name"], u["projects"]) for u in board.top_projects] == [("北京市东城区第一人民医院", 1)]
    statuses = {s["status"]: s["count"] for s in board.project_statuses}
    assert statuses["planned"] == 1 and sum(statuses.values()) == 1


def test_another_street_is_not_counted_and_the_district_chooses_a_street(personas, world):
    jingshan = _board(personas.community_staff_b)
    assert jingshan.hours == Decimal("50") and jingshan.needs_posted == 1
    assert [u["name"] for u in jingshan.top_hours] == ["北京市第二中学"]
    district = _board(personas.district_admin)
    assert district.hours == Decimal("64.5") and district.needs_posted == 4 and district.active_units == 2
    assert [u["name"] for u in district.top_hours] == ["北京市第二中学", "北京市东城区第一人民医院"]
    assert ("110101002", "景山街道") in district.scope.streets
    narrowed = _board(personas.district_admin, street="110101002")
    assert narrowed.hours == Decimal("50") and narrowed.needs_posted == 1
    # A street outside one's areas is ignored, never shown.
    assert _board(personas.street_hub, street="110101002").hours == Decimal("14.5")
    outsider = _board(personas.outsider, street="110101001")
    assert outsider.hours == 0 and outsider.needs_posted == 0 and outsider.top_projects == []


def test_last_year_is_its_own_year(personas, world):
    with scopes_disabled():
        board = dashboard.build(dashboard.dashboard_scope(personas.street_hub), YEAR - 1)
    assert board.needs_posted == 1 and board.hours == Decimal("99") and board.beneficiaries == 99


def test_a_liaison_sees_their_own_units_figures(personas, world):
    board = _board(personas.unit_liaison)
    assert board.scope.by_units and board.scope.label == "北京市东城区第一人民医院"
    assert (board.needs_posted, board.needs_met) == (1, 1)  # the needs the unit claimed
    assert board.hours == Decimal("14.5") and board.active_units == 1 and board.resources == 1
    assert [u["name"] for u in board.top_hours] == ["北京市东城区第一人民医院"]
    school = _board(world["liaison_b"])
    assert school.hours == Decimal("50") and [u["rating"] for u in school.top_projects] == [1.0]


def test_the_page_carries_the_charts_and_their_numbers(personas, world, client_for):
    client = client_for("district_admin")
    response = client.get(reverse("cobuild:dashboard"), {"street": "110101001"})
    assert response.status_code == 200
    page = response.content.decode()
    island = re.search(r'<script id="cobuild-dashboard-data" type="application/json">(.*?)</script>', page, re.S)
    data = json.loads(island.group(1))
    assert data["hours"][2:5] == [6.5, 8.0, 0.0] and data["posted"][2:4] == [1, 2]
    assert data["top_hours"] == [{"name": "北京市东城区第一人民医院", "value": 14.5}]
    assert 'data-cobuild-chart="monthly"' in page and 'data-cobuild-chart="top_hours"' in page
    assert "vendor/echarts/echarts.min.js" in page and "zhouxin/cobuild-dashboard.js" in page
    # Every chart's numbers are on the page too, and the page has no inline script.
    assert "查看逐月数据" in page and "北京市东城区第一人民医院" in page and "北京市第二中学" not in page
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag
    assert 'selected>东华门街道' in page
    assert "共建看板" in client.get(reverse("cobuild:need_list")).content.decode()


def test_the_page_needs_a_bounded_number_of_queries(personas, world, client_for, django_assert_max_num_queries):
    client = client_for("district_admin")
    client.get(reverse("cobuild:dashboard"))  # warm the session and the caches
    with scopes_disabled():
        # Many more rows do not mean more queries.
        for n in range(15):
            res = Resource.objects.unscoped().get(pk=world["canteen"].pk)
            fresh = need(personas, title=f"助餐需求{n}")
            project = _project(personas, need_obj=fresh, res=res, confirmer=personas.street_hub, quantity=1)
            _record(project, dt.date(YEAR, 6, 1), beneficiaries=1, volunteers=1, hours="1", by=personas.street_hub)
    with django_assert_max_num_queries(24):
        response = client.get(reverse("cobuild:dashboard"), {"year": str(YEAR)})
    assert response.status_code == 200


def test_a_bad_year_falls_back_to_this_year(personas, client_for):
    client = client_for("street_hub")
    for raw in ("abc", "1999", str(YEAR + 5)):
        response = client.get(reverse("cobuild:dashboard"), {"year": raw})
        assert response.status_code == 200 and f"· {YEAR}年" in response.content.decode()
