"""POST /api/v1/requests/ with an Idempotency-Key: a retry returns the first request (200), the
same key with a different body is refused (422) and creates nothing."""

from __future__ import annotations

import pytest

from zhouxin.api.models import IdempotencyRecord
from zhouxin.core.models import AuditEntry
from zhouxin.dispatch.models import ServiceRequest

pytestmark = pytest.mark.django_db

URL = "/api/v1/requests/"
PAYLOAD = {"kind": "complaint", "area": "110101001001", "title": "楼道灯坏了",
           "description": "3号楼2单元楼道灯不亮一周了。", "contact_phone": "13812345678"}
REUSED = "该幂等键已用于内容不同的另一次提交。重试时请原样重发第一次的内容；提交新的诉求请换一个新的幂等键。"


def post(api, body, key):
    return api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_returns_the_first_request_with_200(personas, token_client):
    api = token_client("community_staff")
    first = post(api, PAYLOAD, "4f1c2a8e-retry")
    assert first.status_code == 201
    # The same content, keys in another order and a default spelled out: still the same body.
    same = {"urgency": "normal", **dict(reversed(list(PAYLOAD.items())))}
    again = post(api, same, "4f1c2a8e-retry")
    assert again.status_code == 200 and again.json() == first.json()
    assert ServiceRequest.objects.unscoped().count() == 1
    assert AuditEntry.objects.filter(action="dispatch.request.received").count() == 1


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(personas, token_client):
    api = token_client("community_staff")
    first = post(api, PAYLOAD, "key-1")
    assert first.status_code == 201
    changed = post(api, {**PAYLOAD, "title": "楼道灯又坏了"}, "key-1")
    assert changed.status_code == 422
    assert changed.json() == {"errors": [{"code": "idempotency_key_reused", "field": "idempotency_key",
                                          "message": REUSED}]}
    assert list(ServiceRequest.objects.unscoped().values_list("title", flat=True)) == ["楼道灯坏了"]
    # The original retry still works afterwards.
    assert post(api, PAYLOAD, "key-1").json()["number"] == first.json()["number"]


def test_keys_belong_to_their_caller(personas, token_client):
    """Another account's identical key is another key: it creates its own request."""
    mine = post(token_client("community_staff"), PAYLOAD, "shared-key")
    theirs = post(token_client("street_hub"), {**PAYLOAD, "title": "别的内容"}, "shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["number"] != theirs.json()["number"]
    assert IdempotencyRecord.objects.count() == 2


def test_without_a_key_every_post_creates(personas, token_client):
    api = token_client("community_staff")
    assert api.post(URL, PAYLOAD, format="json").status_code == 201
    assert api.post(URL, PAYLOAD, format="json").status_code == 201
    assert ServiceRequest.objects.unscoped().count() == 2 and not IdempotencyRecord.objects.exists()


def test_a_refused_first_attempt_leaves_the_key_free(personas, token_client):
    """Nothing is remembered when the first attempt is refused (here: another street's community)."""
    api = token_client("community_staff")
    refused = post(api, {**PAYLOAD, "area": "110101002001"}, "key-2")
    assert refused.status_code in (400, 403)
    assert post(api, PAYLOAD, "key-2").status_code == 201


def test_the_schema_says_what_a_retry_returns(personas, client_for):
    schema = client_for("street_hub").get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/requests/"]["post"]
    assert "未重复创建" in create["responses"]["200"]["description"]
    assert "已创建" in create["responses"]["201"]["description"]
    assert "幂等键" in create["responses"]["422"]["description"]
    header = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")
    assert "422" in header["description"] and "200" in header["description"]
