"""Co-building through the REST API: the three lists, the explained matches and claiming a need,
scoped like the pages (a token of another street finds nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from zhouxin.cobuild import matching, services
from zhouxin.cobuild.choices import NeedCategory, NeedStatus, ResourceKind, ServiceRadius
from zhouxin.cobuild.models import Claim, Need, Resource
from zhouxin.cobuild.tests.helpers import need, resource, unit_with_liaison
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled

pytestmark = pytest.mark.django_db

NEEDS = "/api/v1/cobuild/needs/"
RESOURCES = "/api/v1/cobuild/resources/"
PROJECTS = "/api/v1/cobuild/projects/"


@pytest.fixture(autouse=True)
def _fresh_unit_records():
    """Units' records are cached in-process; a test's rolled-back projects must not leak."""
    matching.invalidate_records()
    yield
    matching.invalidate_records()


@pytest.fixture
def world(personas):
    """A need of 多福巷社区 with a 30-portion quantity, the hospital's canteen (40 portions) and a
    second unit's resource in 银闸社区; a need of 吉祥社区 (景山街道)."""
    meal = need(personas, quantity=30, quantity_unit="份")
    canteen = resource(personas, capacity=40)
    bakery, bakery_liaison = unit_with_liaison(personas, "东华门面包坊", "community_a2", "bakery_liaison")
    bread = resource(personas, owner=bakery, actor=bakery_liaison, title="面包坊爱心午餐", capacity=20,
                     radius=ServiceRadius.STREET, area=personas.areas["community_a2"])
    other = need(personas, area="community_b", actor="community_staff_b", title="吉祥社区老人助餐")
    return {"need": meal, "canteen": canteen, "bread": bread, "bakery_liaison": bakery_liaison, "other": other}


@pytest.fixture
def liaison_api(personas):
    """Unit liaisons get no integration token (api.selectors.TOKEN_ROLES): they call the API with
    their signed-in session."""
    client = APIClient()
    client.force_login(personas.unit_liaison)
    return client


def fresh(model, pk):
    with scopes_disabled():
        return model.objects.get(pk=pk)


# --- Lists and details ----------------------------------------------------------------------

def test_needs_list_and_detail_for_the_street(personas, token_client, world):
    api = token_client("street_hub")
    listed = api.get(NEEDS)
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 1 and [n["title"] for n in body["results"]] == ["为社区高龄独居老人提供午餐配送"]
    assert "吉祥社区老人助餐" not in str(body)
    detail = api.get(f"{NEEDS}{world['need'].pk}/").json()
    assert detail["area"] == "110101001001" and detail["area_name"] == "多福巷社区"
    assert detail["status"] == "open" and detail["category"] == "elderly_meal" and detail["quantity"] == 30
    # No person: who posted the need is not part of the answer.
    assert "created_by" not in detail and "张丽华" not in str(detail)


def test_need_filters_and_bad_filters(personas, token_client, world):
    api = token_client("district_admin")

    def titles(query):
        response = api.get(f"{NEEDS}?{query}")
        assert response.status_code == 200, response.content
        return {n["title"] for n in response.json()["results"]}

    assert titles("") == {"为社区高龄独居老人提供午餐配送", "吉祥社区老人助餐"}
    assert titles("area=110101002") == {"吉祥社区老人助餐"}
    assert titles("category=elderly_meal&status=open") == {"为社区高龄独居老人提供午餐配送", "吉祥社区老人助餐"}
    assert titles("category=legal") == set()
    assert titles("status=claimed") == set()
    bad = api.get(f"{NEEDS}?status=nope")
    assert bad.status_code == 400
    assert bad.json()["errors"] == [{"code": "invalid", "field": "status", "message": "“nope”不是有效的取值。"}]
    bad = api.get(f"{NEEDS}?area=东城")
    assert bad.status_code == 400 and bad.json()["errors"][0]["message"] == "应为不超过 15 位的数字代码。"


def test_resources_list_and_detail(personas, token_client, world, liaison_api):
    liaison = liaison_api
    listed = liaison.get(RESOURCES).json()
    # A liaison reaches their own unit's resources, not another unit's.
    assert [r["title"] for r in listed["results"]] == ["单位职工食堂助老餐"]
    detail = liaison.get(f"{RESOURCES}{world['canteen'].pk}/").json()
    assert detail["owner_name"] == "北京市东城区第一人民医院" and detail["available"] == 40
    assert detail["capacity_unit"] == "份" and detail["area"] == "110101001001" and detail["kind"] == "goods"
    assert "created_by" not in detail and "孙雅琴" not in str(detail)
    assert liaison.get(f"{RESOURCES}{world['bread'].pk}/").status_code == 404
    hub = token_client("street_hub")
    assert {r["title"] for r in hub.get(RESOURCES).json()["results"]} == {"单位职工食堂助老餐", "面包坊爱心午餐"}
    assert {r["title"] for r in hub.get(f"{RESOURCES}?area=110101001002").json()["results"]} == {"面包坊爱心午餐"}
    assert hub.get(f"{RESOURCES}?kind=venue").json()["count"] == 0
    assert hub.get(f"{RESOURCES}?kind=room").status_code == 400


def test_projects_list_and_detail(personas, token_client, world, liaison_api):
    with scopes_disabled():
        claim = services.claim_create(actor=personas.unit_liaison, need=world["need"], resource=world["canteen"],
                                      quantity=30)
        services.claim_confirm(actor=personas.street_hub, claim=claim)
        project = services.project_create_from_claim(actor=personas.street_hub, claim=claim, title="多福巷助老餐桌",
                                                     budget="8000", starts_on=dt.date(2026, 7, 1),
                                                     ends_on=dt.date(2026, 12, 31))
    api = token_client("community_staff")
    listed = api.get(PROJECTS).json()
    assert [p["title"] for p in listed["results"]] == ["多福巷助老餐桌"]
    detail = api.get(f"{PROJECTS}{project.pk}/").json()
    assert detail["budget"] == "8000.00" and detail["starts_on"] == "2026-07-01" and detail["ends_on"] == "2026-12-31"
    assert detail["status"] == "planned" and detail["need"] == world["need"].pk and detail["area"] == "110101001001"
    assert detail["rating_average"] is None and detail["rating_count"] == 0
    assert {p["name"] for p in detail["parties"]} == {"北京市东城区第一人民医院", "中共多福巷社区委员会"}
    # The unit's liaison sees the project of their unit too; another street does not.
    assert liaison_api.get(f"{PROJECTS}{project.pk}/").status_code == 200
    other = token_client("community_staff_b")
    assert other.get(PROJECTS).json()["count"] == 0
    assert other.get(f"{PROJECTS}{project.pk}/").status_code == 404
    assert api.get(f"{PROJECTS}?status=running").json()["count"] == 0
    assert api.get(f"{PROJECTS}?status=planned&area=110101001").json()["count"] == 1


@pytest.mark.parametrize("url", [NEEDS, RESOURCES, PROJECTS])
def test_list_query_count_does_not_grow_with_page_size(personas, token_client, url):
    with scopes_disabled():
        canteen = resource(personas, capacity=400)
        for i in range(5):
            n = need(personas, title=f"助餐需求{i}")
            resource(personas, title=f"食堂助餐{i}")
            claim = services.claim_create(actor=personas.unit_liaison, need=n, resource=canteen, quantity=1)
            services.claim_confirm(actor=personas.street_hub, claim=claim)
            services.project_create_from_claim(actor=personas.street_hub, claim=claim, title=f"助餐项目{i}")
    api = token_client("district_admin")
    api.get(url)  # the token's first use is recorded once

    def count(limit):
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(f"{url}?limit={limit}")
        assert response.status_code == 200 and len(response.json()["results"]) == min(limit, response.json()["count"])
        return len(ctx)

    # Each side measured twice, the smaller kept: a call that opens a new rate-limit minute
    # (or refreshes the token's last use) does a few more queries, whatever the page size.
    small, large = [], []
    for _ in range(2):
        small.append(count(1))
        large.append(count(5))
    assert min(small) == min(large)


# --- Scoping ----------------------------------------------------------------------------------

def test_a_token_of_another_street_finds_nothing(personas, token_client, world):
    api = token_client("community_staff_b")  # 吉祥社区, 景山街道
    listed = api.get(NEEDS).json()
    assert [n["title"] for n in listed["results"]] == ["吉祥社区老人助餐"]
    # The bakery's resource serves 东华门街道 only.
    for url in (f"{NEEDS}{world['need'].pk}/", f"{NEEDS}{world['need'].pk}/matches/",
                f"{RESOURCES}{world['bread'].pk}/", f"{RESOURCES}{world['bread'].pk}/matches/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["errors"][0]["message"] == "未找到该对象，或不在您的管辖范围内。"
    assert "面包坊爱心午餐" not in str(api.get(RESOURCES).json())
    # The canteen serves the whole district, so 吉祥社区 finds it, and its need among the
    # canteen's matches, but not 多福巷's need.
    own = api.get(f"{NEEDS}{world['other'].pk}/matches/").json()
    assert [m["resource"]["title"] for m in own] == ["单位职工食堂助老餐"]
    canteen = api.get(f"{RESOURCES}{world['canteen'].pk}/matches/").json()
    assert [m["need"]["title"] for m in canteen] == ["吉祥社区老人助餐"]
    response = api.post(f"{NEEDS}{world['need'].pk}/claim/", {"resource": world["canteen"].pk}, format="json")
    assert response.status_code == 404
    assert fresh(Need, world["need"].pk).status == NeedStatus.OPEN
    assert not Claim.objects.unscoped().exists()


def test_roles_without_the_cobuild_permission_are_refused(personas, token_client, world):
    api = token_client("grid_worker")
    response = api.get(NEEDS)
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "您没有查看共建清单的权限。"
    assert api.get(f"{PROJECTS}").status_code == 403
    # district_admin reads co-building but does not claim.
    response = token_client("district_admin").post(f"{NEEDS}{world['need'].pk}/claim/",
                                                   {"resource": world["canteen"].pk}, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "您没有认领共建需求的权限。"
    assert not Claim.objects.unscoped().exists()


# --- Matches ----------------------------------------------------------------------------------

def _check_sums(match):
    components = match["components"]
    assert [c["name"] for c in components] == list(matching.COMPONENTS)
    assert sum(Decimal(c["contribution"]) for c in components) == Decimal(match["score"])
    for c in components:
        product = (Decimal(c["weight"]) * Decimal(c["feature"])).quantize(Decimal("0.0001"))
        assert Decimal(c["contribution"]) == (-product if c["is_deduction"] else product)


def test_need_matches_are_the_numbers_the_page_shows(personas, token_client, world):
    api = token_client("street_hub")
    response = api.get(f"{NEEDS}{world['need'].pk}/matches/")
    assert response.status_code == 200
    body = response.json()
    expected = matching.resources_for_need(fresh(Need, world["need"].pk))
    assert [m["resource"]["id"] for m in body] == [m.pk for m in expected]
    assert [Decimal(m["score"]) for m in body] == [m.score for m in expected]
    assert {m["resource"]["title"] for m in body} == {"单位职工食堂助老餐", "面包坊爱心午餐"}
    for match, ranked in zip(body, expected, strict=True):
        _check_sums(match)
        assert [Decimal(c["contribution"]) for c in match["components"]] == [c.contribution for c in ranked.components]
        assert match["claimable"] is True  # the street may ask any unit for its resource
    labels = [c["label"] for c in body[0]["components"]]
    assert labels == ["类别相符", "文字相似", "距离远近", "容量与时间", "单位以往评价", "已占用容量"]
    assert body[0]["components"][-1]["is_deduction"] is True


def test_a_liaison_sees_only_the_matches_of_their_own_unit(personas, token_client, world, liaison_api):
    body = liaison_api.get(f"{NEEDS}{world['need'].pk}/matches/").json()
    assert [m["resource"]["title"] for m in body] == ["单位职工食堂助老餐"]
    assert body[0]["claimable"] is True


def test_a_need_no_longer_open_has_no_matches(personas, token_client, world):
    with scopes_disabled():
        services.claim_create(actor=personas.unit_liaison, need=world["need"], resource=world["canteen"])
    body = token_client("street_hub").get(f"{NEEDS}{world['need'].pk}/matches/")
    assert body.status_code == 200 and body.json() == []


def test_resource_matches_list_the_needs_it_could_meet(personas, token_client, world, liaison_api):
    api = liaison_api
    body = api.get(f"{RESOURCES}{world['canteen'].pk}/matches/").json()
    # A district-wide resource: the open needs of 东城, 多福巷's and 吉祥's.
    assert {m["need"]["title"] for m in body} == {"为社区高龄独居老人提供午餐配送", "吉祥社区老人助餐"}
    expected = matching.needs_for_resource(fresh(Resource, world["canteen"].pk))
    assert [(m["need"]["id"], Decimal(m["score"])) for m in body] == [(m.pk, m.score) for m in expected]
    for match in body:
        _check_sums(match)
    # Staff of 东华门街道 see only the needs of their street among the same matches.
    hub = token_client("street_hub").get(f"{RESOURCES}{world['canteen'].pk}/matches/").json()
    assert [m["need"]["title"] for m in hub] == ["为社区高龄独居老人提供午餐配送"]


# --- Claim ------------------------------------------------------------------------------------

def test_a_liaison_claims_a_need_with_the_unit_resource(personas, token_client, world, liaison_api):
    api = liaison_api
    url = f"{NEEDS}{world['need'].pk}/claim/"
    response = api.post(url, {"resource": world["canteen"].pk, "quantity": 30, "note": "每天11点半送到"},
                        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["direction"] == "offer" and body["status"] == "pending" and body["quantity"] == 30
    assert body["unit_name"] == "北京市东城区第一人民医院" and body["note"] == "每天11点半送到"
    assert fresh(Need, world["need"].pk).status == NeedStatus.CLAIMED
    entry = AuditEntry.objects.get(action="cobuild.claim.created")
    assert entry.actor == personas.unit_liaison
    # The need is shown as claimed, and its matches are gone.
    assert api.get(f"{NEEDS}{world['need'].pk}/").json()["status"] == "claimed"


def test_staff_ask_a_unit_for_its_resource_and_a_second_claim_is_a_conflict(personas, token_client, world):
    hub = token_client("street_hub")
    url = f"{NEEDS}{world['need'].pk}/claim/"
    first = hub.post(url, {"resource": world["bread"].pk}, format="json")
    assert first.status_code == 201 and first.json()["direction"] == "request"
    assert first.json()["quantity"] == 20  # the need's 30 portions, at most what the bakery has left
    again = token_client("community_staff").post(url, {"resource": world["canteen"].pk}, format="json")
    assert again.status_code == 409
    assert again.json() == {"errors": [{"code": "conflict", "field": None,
                                        "message": "该需求已被其他单位认领或不再接受认领。"}]}
    assert Claim.objects.unscoped().count() == 1


@pytest.mark.parametrize(("payload", "field", "message"), [
    ({}, "resource", "请选择资源。"),
    ({"resource": "abc"}, "resource", "资源 id 应为整数。"),
    ({"resource": "CANTEEN", "quantity": 0}, "quantity", "承诺数量必须大于 0。"),
    ({"resource": "CANTEEN", "quantity": "三十"}, "quantity", "请填写整数。"),
    ({"resource": "CANTEEN", "note": "长" * 301}, "note", "说明不能超过 300 个字。"),
    ({"resource": "BREAD"}, "resource", "未找到该资源，或不在您的管辖范围内。"),  # another unit's
])
def test_malformed_claims_are_400_in_chinese_and_change_nothing(personas, world, liaison_api, payload, field,
                                                                message):
    ids = {"CANTEEN": world["canteen"].pk, "BREAD": world["bread"].pk}
    payload = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    response = liaison_api.post(f"{NEEDS}{world['need'].pk}/claim/", payload, format="json")
    assert response.status_code == 400, response.content
    assert {"code": response.json()["errors"][0]["code"], "field": field, "message": message} \
        == response.json()["errors"][0]
    assert fresh(Need, world["need"].pk).status == NeedStatus.OPEN
    assert not Claim.objects.unscoped().exists()
    assert not AuditEntry.objects.filter(action__startswith="cobuild.claim").exists()


def test_claims_the_service_refuses_are_422_and_change_nothing(personas, token_client, world, liaison_api):
    api = liaison_api
    url = f"{NEEDS}{world['need'].pk}/claim/"
    response = api.post(url, {"resource": world["canteen"].pk, "quantity": 41}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"code": "invalid", "field": "quantity",
                                          "message": "资源余量不足：还可提供 40 份。"}]
    # A community-radius resource of 多福巷 does not serve 银闸社区's need.
    with scopes_disabled():
        yinzha = need(personas, area="community_a2", actor="street_hub", title="银闸社区助餐")
        local = resource(personas, title="多福巷小范围助餐", radius=ServiceRadius.COMMUNITY,
                         kind=ResourceKind.GOODS, category=NeedCategory.ELDERLY_MEAL)
    response = api.post(f"{NEEDS}{yinzha.pk}/claim/", {"resource": local.pk}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "该资源的服务范围不包括这个社区。"
    assert fresh(Need, world["need"].pk).status == NeedStatus.OPEN and fresh(Need, yinzha.pk).status == "open"
    assert fresh(Resource, world["canteen"].pk).committed == 0
    assert not Claim.objects.unscoped().exists()


def test_the_schema_documents_the_cobuild_routes(personas, client_for):
    schema = client_for("street_hub").get("/api/schema/?format=json").json()
    claim = schema["paths"]["/api/v1/cobuild/needs/{id}/claim/"]["post"]
    assert set(claim["responses"]) >= {"201", "400", "403", "404", "409", "422"}
    assert "已被其他单位认领" in claim["responses"]["409"]["description"]
    matches = schema["paths"]["/api/v1/cobuild/needs/{id}/matches/"]["get"]
    assert "相加正好等于总分" in matches["description"]
    for path in ("/api/v1/cobuild/needs/", "/api/v1/cobuild/resources/{id}/matches/", "/api/v1/cobuild/projects/{id}/"):
        assert path in schema["paths"]
