"""Areas, organisations and requests: fields, filters, pagination, query counts, errors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.models import Area

pytestmark = pytest.mark.django_db


def test_areas_filter_by_level_parent_code_and_name_or_initials(personas, token_client):
    api = token_client("district_admin")
    by_level = api.get("/api/v1/areas/?level=community").json()["results"]
    assert {a["name"] for a in by_level} == {"多福巷社区", "银闸社区", "吉祥社区"}
    children = api.get("/api/v1/areas/?parent=110101001").json()["results"]
    assert [a["code"] for a in children] == ["110101001001", "110101001002"]
    assert all(a["parent"] == "110101001" for a in children)
    prefix = api.get("/api/v1/areas/?code=110101002").json()["results"]
    assert [a["code"] for a in prefix] == ["110101002", "110101002001"]
    assert [a["name"] for a in api.get("/api/v1/areas/?q=吉祥").json()["results"]] == ["吉祥社区"]
    area = personas.areas["community_a"]
    detail = api.get(f"/api/v1/areas/{area.pk}/").json()
    assert detail["code"] == "110101001001" and detail["level"] == "community" and detail["households"] == 2450


def test_area_search_by_pinyin_initials(personas, token_client):
    initials = personas.areas["community_b"].pinyin_initials
    assert initials, "personas carry pinyin initials"
    found = token_client("district_admin").get(f"/api/v1/areas/?q={initials}").json()["results"]
    assert "吉祥社区" in {a["name"] for a in found}


@pytest.mark.parametrize("query, field", [("level=planet", "level"), ("parent=abc", "parent"),
                                          ("code=1101%27--", "code")])
def test_bad_filters_are_400_with_the_field(personas, token_client, query, field):
    response = token_client("district_admin").get(f"/api/v1/areas/?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_organisations_filter_by_kind_area_and_sector(personas, token_client):
    api = token_client("district_admin")
    units = api.get("/api/v1/organisations/?kind=resident_unit").json()["results"]
    assert [o["name"] for o in units] == ["北京市东城区第一人民医院"]
    assert units[0]["area"] == "110101001001" and units[0]["sector"] == "health"
    health = {o["name"] for o in api.get("/api/v1/organisations/?sector=health").json()["results"]}
    assert health == {"北京市东城区第一人民医院", "东城区第一人民医院党支部"}
    in_b = {o["name"] for o in api.get("/api/v1/organisations/?area=110101002").json()["results"]}
    assert in_b == {"中共景山街道工作委员会", "中共吉祥社区委员会"}
    org = personas.orgs["department"]
    assert api.get(f"/api/v1/organisations/{org.pk}/").json()["kind"] == "department"
    assert api.get("/api/v1/organisations/999999/").status_code == 404
    assert api.get("/api/v1/organisations/abc/").status_code == 404


def test_request_fields_mask_the_phone_and_carry_the_deadlines(personas, token_client, new_request, dispatch_world):
    r = new_request(category=dispatch_world.categories["040102"])
    body = token_client("street_hub").get(f"/api/v1/requests/{r.number}/").json()
    assert body["number"] == r.number and body["status"] == "dispatched"
    assert body["category"] == "040102" and body["area"] == "110101001001" and body["kind"] == "complaint"
    assert body["contact_phone"] == "138****5678"
    assert "13812345678" not in str(body)
    for name in ("contact_due_at", "resolve_due_at", "received_at"):
        assert body[name]
    assert body["deadline_provisional"] is False


def test_request_filters(personas, token_client, new_request, dispatch_world):
    a = new_request(category=dispatch_world.categories["040102"])
    b = new_request(area="community_a2", actor="street_hub", title="银闸停水")
    api = token_client("street_hub")

    def numbers(query):
        response = api.get(f"/api/v1/requests/?{query}")
        assert response.status_code == 200, response.content
        return {r["number"] for r in response.json()["results"]}

    assert numbers("status=dispatched") == {a.number}
    assert numbers("status=received") == {b.number}
    assert numbers("area=110101001002") == {b.number}
    assert numbers("category=0401") == {a.number}
    assert numbers("kind=consult") == set()
    day = timezone.localtime(a.received_at).date().isoformat()
    assert numbers(f"received_from={day}&received_to={day}") == {a.number, b.number}
    assert numbers("received_to=2000-01-01") == set()
    bad = api.get("/api/v1/requests/?received_from=yesterday")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "received_from"
    assert api.get("/api/v1/requests/?status=nope").status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/requests/", "/api/v1/areas/", "/api/v1/organisations/"])
def test_list_query_count_does_not_grow_with_page_size(personas, token_client, new_request, dispatch_world, url):
    for i in range(6):
        new_request(title=f"楼道诉求{i}", category=dispatch_world.categories["040102"])
    api = token_client("district_admin")
    api.get(url)  # the token's first use is recorded once

    def count(limit):
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(f"{url}?limit={limit}")
        assert response.status_code == 200 and len(response.json()["results"]) == min(limit, response.json()["count"])
        return len(ctx)

    assert count(1) == count(6)


def test_pagination_is_bounded(personas, token_client):
    community = personas.areas["community_a"]
    with scopes_disabled():
        Area.objects.bulk_create([Area(code=f"110101001001{i:03d}", name=f"网格{i}", level="grid", parent=community)
                                  for i in range(2, 212)])
    api = token_client("district_admin")
    body = api.get("/api/v1/areas/?limit=100000").json()
    assert body["count"] == 7 + 210 and len(body["results"]) == 200
    assert body["next"] and "offset=200" in body["next"]
    assert len(api.get("/api/v1/areas/").json()["results"]) == 50
    last = api.get("/api/v1/areas/?offset=200&limit=100").json()
    assert len(last["results"]) == 17 and last["next"] is None


def test_create_goes_through_intake_with_channel_api(personas, token_client, dispatch_world):
    api = token_client("community_staff")
    response = api.post("/api/v1/requests/", {
        "kind": "complaint", "area": "110101001001", "category": "040102", "title": "楼道堆物",
        "description": "3号楼楼道堆满纸箱。", "contact_phone": "13812345678"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    stored = ServiceRequest.objects.unscoped().get(number=body["number"])
    assert stored.channel == "api" and stored.received_by == personas.users["community_staff"]
    assert stored.status == Status.DISPATCHED and body["status"] == "dispatched"
    assert body["contact_phone"] == "138****5678"


def test_create_refusals_are_structured(personas, token_client, dispatch_world):
    api = token_client("community_staff")
    missing = api.post("/api/v1/requests/", {"kind": "complaint"}, format="json")
    assert missing.status_code == 400
    assert {"area", "title", "description"} <= {e["field"] for e in missing.json()["errors"]}

    outside = api.post("/api/v1/requests/", {"kind": "complaint", "area": "110101002001", "title": "噪音",
                                             "description": "夜间施工"}, format="json")
    assert outside.status_code == 400
    assert outside.json()["errors"] == [{"code": "invalid", "field": "area",
                                         "message": "未找到该区划代码，或不在您的管辖范围内。"}]

    street = token_client("street_hub").post("/api/v1/requests/", {"kind": "complaint", "area": "110101001", "title": "噪音",
                                            "description": "夜间施工"}, format="json")
    assert street.status_code == 422
    assert street.json()["errors"][0]["field"] == "area"

    phone = api.post("/api/v1/requests/", {"kind": "complaint", "area": "110101001001", "title": "噪音",
                                           "description": "夜间施工", "contact_phone": "12"}, format="json")
    assert phone.status_code == 422 and phone.json()["errors"][0]["field"] == "contact_phone"

    not_json = api.post("/api/v1/requests/", "kind=complaint", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 415 and not_json.json()["errors"][0]["message"]
    broken = api.post("/api/v1/requests/", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert not ServiceRequest.objects.unscoped().exists()


def test_idempotency_key_header_returns_the_first_request(personas, token_client):
    api = token_client("community_staff")
    payload = {"kind": "help", "area": "110101001001", "title": "独居老人求助", "description": "需要上门看望。"}
    first = api.post("/api/v1/requests/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/requests/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["number"] == again.json()["number"]
    other = api.post("/api/v1/requests/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201 and other.json()["number"] != first.json()["number"]
    assert ServiceRequest.objects.unscoped().count() == 2
    too_long = api.post("/api/v1/requests/", payload, format="json", HTTP_IDEMPOTENCY_KEY="x" * 201)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "idempotency_key"


def test_unknown_method_is_405_json(personas, token_client, new_request):
    r = new_request()
    response = token_client("street_hub").delete(f"/api/v1/requests/{r.number}/")
    assert response.status_code == 405 and response.json()["errors"][0]["code"] == "method_not_allowed"
