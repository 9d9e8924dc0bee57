"""A district or street grant reads requests by the stored district_id / street_id (an index)
instead of joining every request to its area for a code prefix; the rows are the same."""

from __future__ import annotations

import pytest
from django.db.models import Q

from zhouxin.core.scoping import scope_for_user, scopes_disabled
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import Channel, RequestKind
from zhouxin.dispatch.models import ServiceRequest

pytestmark = pytest.mark.django_db


def _intake(personas, area, actor="district_admin"):
    return services.request_intake(
        actor=personas.users[actor], kind=RequestKind.HELP, channel=Channel.HOTLINE, area=personas.areas[area],
        title="路灯不亮", description="小区门口的路灯已经坏了一个星期，晚上出行很不方便。")


@pytest.fixture
def requests_everywhere(personas, dispatch_world):
    made = {}
    for area in ("community_a", "community_a2", "community_b", "grid_a"):
        made[area] = _intake(personas, area)
    made["community_x"] = _intake(personas, "community_x", actor="outsider")
    return made


def _by_prefix(user) -> set[int]:
    """The rows the code-prefix rule gives (the reference the id columns must match)."""
    scope = scope_for_user(user)
    q = Q(pk__in=[])
    for prefix in scope.prefixes():
        q |= Q(area__code__startswith=prefix)
    if scope.organisation_ids:
        q |= Q(assignments__organisation_id__in=scope.organisation_ids)
    with scopes_disabled():
        return set(ServiceRequest.objects.filter(q).values_list("pk", flat=True))


@pytest.mark.parametrize("username, column", [("district_admin", "district_id"), ("street_hub", "street_id")])
def test_district_and_street_grants_read_by_id(personas, requests_everywhere, username, column):
    user = personas.users[username]
    qs = ServiceRequest.objects.restrict(user)
    sql = str(qs.query)
    assert f'"{column}" = ' in sql and "LIKE" not in sql.upper(), sql
    assert set(qs.values_list("pk", flat=True)) == _by_prefix(user)


def test_a_district_admin_sees_their_district_only(personas, requests_everywhere):
    seen = set(ServiceRequest.objects.restrict(personas.users["district_admin"]).values_list("pk", flat=True))
    assert requests_everywhere["community_b"].pk in seen and requests_everywhere["grid_a"].pk in seen
    assert requests_everywhere["community_x"].pk not in seen


def test_a_community_grant_still_uses_the_code_prefix(personas, requests_everywhere):
    user = personas.users["community_staff"]
    qs = ServiceRequest.objects.restrict(user)
    assert "LIKE" in str(qs.query).upper()
    seen = set(qs.values_list("pk", flat=True))
    assert seen == _by_prefix(user)
    assert requests_everywhere["grid_a"].pk in seen and requests_everywhere["community_a2"].pk not in seen
