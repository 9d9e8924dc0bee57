"""The benchmark endpoints (bench.py) exist only when settings.BENCH_ENDPOINTS is on (`make bench`)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import include, path

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import bench
from zhouxin.dispatch.choices import EventAction, Status
from zhouxin.dispatch.models import RequestEvent, ServiceRequest

# The project's URLs plus the benchmark endpoints, as zhouxin/urls.py routes them when enabled.
urlpatterns = [
    path("", include("zhouxin.urls")),
    path("bench/", include("zhouxin.dispatch.bench")),
]

INTAKE = {"area": "110101001001", "kind": "help", "channel": "api", "category": "040101",
          "title": "3号楼电梯又坏了", "description": "我们小区3号楼电梯又坏了，老人上不去楼。",
          "contact_phone": "13812345678"}


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_not_routed_in_normal_settings(client, settings):
    assert settings.BENCH_ENDPOINTS is False
    assert post(client, "/bench/intake/", INTAKE).status_code == 404
    assert post(client, "/bench/insert/", {}).status_code == 404
    assert not ServiceRequest.objects.unscoped().exists()


@pytest.mark.urls(__name__)
def test_refused_when_disabled_even_if_routed(client, settings, dispatch_world):
    settings.BENCH_ENDPOINTS = False
    assert post(client, "/bench/intake/", INTAKE).status_code == 404
    assert post(client, "/bench/insert/", {}).status_code == 404
    assert not ServiceRequest.objects.unscoped().exists()


@pytest.mark.urls(__name__)
def test_intake_runs_the_whole_pipeline_when_enabled(client, settings, personas, dispatch_world):
    settings.BENCH_ENDPOINTS = True
    settings.BENCH_ACTOR = personas.users["district_admin"].username
    response = post(client, "/bench/intake/", INTAKE)
    assert response.status_code == 201, response.content
    with scopes_disabled():
        created = ServiceRequest.objects.get(number=response.json()["number"])
    # Routed and dispatched automatically to the community (the routing rule), with its events.
    assert created.status == Status.DISPATCHED
    assert created.lead_org == dispatch_world.orgs["community_a"]
    assert list(RequestEvent.objects.filter(request=created).values_list("action", flat=True)) == [
        EventAction.RECEIVED, EventAction.DISPATCHED]
    bad = post(client, "/bench/intake/", {**INTAKE, "title": ""})
    assert bad.status_code == 400 and "title" in bad.json()["errors"]
    assert post(client, "/bench/intake/", {}).status_code == 400
    assert client.get("/bench/intake/").status_code == 405


@pytest.mark.urls(__name__)
def test_bare_insert_writes_one_row_when_enabled(client, settings, db):
    settings.BENCH_ENDPOINTS = True
    bench.create_table()
    assert post(client, "/bench/insert/", {"n": 1}).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {bench.BENCH_TABLE}")
        assert cursor.fetchone()[0] == 1
