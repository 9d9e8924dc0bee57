"""A token acts exactly as its user: a token of one street sees nothing of another."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from zhouxin.api.models import ApiToken
from zhouxin.api.services import key_digest

pytestmark = pytest.mark.django_db


def test_street_token_sees_only_its_own_street(personas, token_client, new_request):
    mine = new_request(title="东华门楼道诉求")
    other = new_request(area="community_b", actor="community_staff_b", title="景山噪音诉求", phone="13922223333")
    api = token_client("street_hub")  # 东华门街道

    listed = api.get("/api/v1/requests/").json()
    assert [r["number"] for r in listed["results"]] == [mine.number]
    assert "景山噪音诉求" not in str(listed)
    assert api.get(f"/api/v1/requests/{other.number}/").status_code == 404
    assert api.get(f"/api/v1/requests/{mine.number}/").json()["title"] == "东华门楼道诉求"

    codes = {a["code"] for a in api.get("/api/v1/areas/?limit=200").json()["results"]}
    assert codes and all(code.startswith("110101001") for code in codes)
    assert api.get(f"/api/v1/areas/{personas.areas['street_b'].pk}/").status_code == 404
    assert api.get(f"/api/v1/areas/{personas.areas['community_b'].pk}/").status_code == 404

    orgs = api.get("/api/v1/organisations/?limit=200").json()["results"]
    assert "中共吉祥社区委员会" not in {o["name"] for o in orgs}
    assert api.get(f"/api/v1/organisations/{personas.orgs['community_b_committee'].pk}/").status_code == 404

    # Acting on the other street's request: as if it did not exist.
    response = api.post(f"/api/v1/requests/{other.number}/accept/", {}, format="json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_other_street_token_sees_the_mirror_image(personas, token_client, new_request):
    mine = new_request(title="东华门楼道诉求")
    api = token_client("community_staff_b")  # 吉祥社区 (景山街道)
    assert api.get("/api/v1/requests/").json()["count"] == 0
    assert api.get(f"/api/v1/requests/{mine.number}/").status_code == 404


def test_a_token_of_an_admin_role_reaches_no_business_data(personas, new_request):
    """No token is issued for the 三员 (services refuse it); one that exists anyway (its user
    became an administrator later) still reaches nothing."""
    new_request()
    key = "admin-token-key-0123456789abcdefghijklmnopqrstuvwxyz"
    ApiToken.objects.create(name="旧令牌", user=personas.users["system_admin"], key_digest=key_digest(key),
                            prefix=key[:8], created_by=personas.users["system_admin"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/requests/").json()["count"] == 0
    assert api.get("/api/v1/areas/").json()["count"] == 0
