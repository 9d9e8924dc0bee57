"""Duplicate suggestions: same category, same grid or within 250 m, similar text, within 7 days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.scoping import activate, scope_for_user, scopes_disabled
from zhouxin.dispatch import duplicates
from zhouxin.dispatch.choices import Channel, RequestKind, Status
from zhouxin.dispatch.duplicates import find_duplicates, haversine_m, similarity
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.dispatch.services import request_intake

# 多福巷社区, 东城区: about 0.001° of latitude is 111 m.
LAT, LON = Decimal("39.928000"), Decimal("116.410000")
ELEVATOR = "3号楼电梯又坏了，老人上不去楼，已经停了两天，物业一直不来修"


@pytest.fixture
def make(personas, dispatch_world):
    """Record a request through intake, then place it in time (test set-up only)."""

    def _make(description=ELEVATOR, *, code="040101", area="grid_a", lat=None, lon=None, days_ago=0.0,
              actor="community_staff", title=None):
        request = request_intake(
            actor=personas.users[actor], kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE,
            area=personas.areas[area], title=title or description[:12], description=description,
            category=dispatch_world.categories[code], latitude=lat, longitude=lon)
        received = timezone.now() - dt.timedelta(days=days_ago)
        with scopes_disabled():
            ServiceRequest.objects.filter(pk=request.pk).update(received_at=received)
            request.refresh_from_db()
        return request

    return _make


def north(metres: float) -> Decimal:
    return (LAT + Decimal(metres / 111_195)).quantize(Decimal("0.000001"))


def test_same_grid_similar_text_within_the_week_is_suggested_with_reasons(make):
    older = make(days_ago=2.5)
    new = make("电梯又坏了！3号楼的老人上不去楼，物业不来修，已经两天了")
    found = find_duplicates(new)
    assert [c.request.pk for c in found] == [older.pk]
    candidate = found[0]
    assert candidate.reasons[0] == "同一网格"
    assert any(r.startswith("内容相似度 0.") for r in candidate.reasons)
    assert "3 天内" in candidate.reasons
    assert 0 < candidate.score <= 1


def test_within_250_metres_counts_when_both_have_coordinates(make):
    near = make(area="community_a", lat=north(120), lon=LON, days_ago=1)
    far = make(area="community_a", lat=north(400), lon=LON, days_ago=1)
    new = make(area="community_a", lat=LAT, lon=LON)
    found = find_duplicates(new)
    assert [c.request.pk for c in found] == [near.pk]
    assert "相距 120 米" in found[0].reasons
    assert found[0].distance_m == pytest.approx(120, abs=1)
    assert far.pk not in {c.request.pk for c in found}


def test_other_category_older_than_a_week_other_street_or_other_text_are_not_duplicates(make):
    make(code="040102", days_ago=1)                                        # other category
    make(days_ago=8)                                                        # outside the window
    make(area="community_b", actor="community_staff_b", days_ago=1)         # other street
    make("楼下的快递柜坏了，取不出包裹，客服电话也打不通", days_ago=1)      # other matter
    new = make()
    assert find_duplicates(new) == []


def test_merged_invalid_and_held_requests_are_no_merge_target(make):
    merged, invalid, held = make(days_ago=1), make(days_ago=1), make(days_ago=1)
    with scopes_disabled():
        ServiceRequest.objects.filter(pk=merged.pk).update(status=Status.MERGED)
        ServiceRequest.objects.filter(pk=invalid.pk).update(status=Status.INVALID)
        ServiceRequest.objects.filter(pk=held.pk).update(status=Status.HELD)
    assert find_duplicates(make()) == []


def test_best_first_and_limited(make):
    same_words = [make(days_ago=d) for d in (1, 2, 3, 4)]
    reworded = make("3号楼电梯坏了两天，老人下不了楼", days_ago=0.5)
    new = make()
    found = find_duplicates(new, limit=3)
    assert len(found) == 3
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True)
    assert found[0].request.pk == same_words[0].pk  # identical text, the most recent of those
    assert reworded.pk not in {c.request.pk for c in found[:1]}
    assert find_duplicates(new, limit=0) == []


def test_thresholds_come_from_the_policy(make, personas):
    make(area="community_a", lat=north(200), lon=LON, days_ago=1)
    new = make(area="community_a", lat=LAT, lon=LON)
    assert len(find_duplicates(new)) == 1
    policy.policy_set(actor=personas.users["district_admin"], key="dispatch.duplicates",
                      value={"radius_m": 150}, effective_from=timezone.localdate())
    assert find_duplicates(new) == []


def test_uncategorised_requests_have_no_duplicates(make, personas):
    make(days_ago=1)
    new = request_intake(actor=personas.users["community_staff"], kind=RequestKind.COMPLAINT,
                         channel=Channel.HOTLINE, area=personas.areas["grid_a"], title="电梯坏了",
                         description=ELEVATOR)
    assert find_duplicates(new) == []


def test_a_users_active_scope_limits_the_candidates(make, personas):
    make(days_ago=1)
    new = make()
    with activate(scope_for_user(personas.users["community_staff"])):
        assert len(find_duplicates(new)) == 1
    with activate(scope_for_user(personas.users["community_staff_b"])):  # another street's staff
        assert find_duplicates(new) == []


def test_the_probe_uses_the_duplicate_index_not_a_table_scan(make, personas, dispatch_world):
    """With a district's worth of rows (many categories, areas and days), both databases
    answer the probe from request_duplicate_probe."""
    new = make()
    a = personas.areas
    areas = [a["grid_a"], a["community_a"], a["community_a2"], a["community_b"]]
    categories = list(dispatch_world.categories.values())
    now = timezone.now()
    with scopes_disabled():
        ServiceRequest.objects.bulk_create([
            ServiceRequest(
                number=f"BULK{i:06d}", district=a["dongcheng"], area=areas[i % 4],
                street=a["street_b"] if areas[i % 4] == a["community_b"] else a["street_a"],
                kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE, category=categories[i % len(categories)],
                title="一般诉求", description="一般诉求内容", received_at=now - dt.timedelta(hours=i % 2000))
            for i in range(4000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plan = duplicates.candidate_queryset(new, window_days=7).explain()
    assert "request_duplicate_probe" in plan, plan
    assert "Seq Scan on dispatch_servicerequest" not in plan, plan
    assert "SCAN dispatch_servicerequest" not in plan, plan


def test_similarity_and_distance_helpers():
    assert similarity("电梯坏了", "电梯坏了") == pytest.approx(1.0)
    assert similarity("电梯坏了", "停水了") == 0.0
    assert similarity("", "电梯") == 0.0
    assert 0.5 < similarity("3号楼电梯又坏了", "３号楼电梯又坏了！") <= 1.0  # full-width, punctuation
    assert haversine_m(LAT, LON, north(250), LON) == pytest.approx(250, abs=1)
    assert haversine_m(LAT, LON, LAT, LON) == 0
