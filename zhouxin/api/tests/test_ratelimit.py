"""API rate limits: per token (or account) and per address, writes tighter than reads; a refusal
is 429 with the structured error body and Retry-After, and the schema documents it."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from zhouxin.dispatch.models import ServiceRequest

pytestmark = pytest.mark.django_db

LIMITS = {"write": {"client": (3, 60), "ip": (5, 60)}, "read": {"client": (6, 60), "ip": (10, 60)}}
WRITE_CLIENT = re.compile(r"^接口写操作过于频繁：每个令牌或账号每 60 秒最多 3 次，请 (\d+) 秒后再试。$")
WRITE_IP = re.compile(r"^接口写操作过于频繁：同一地址每 60 秒最多 5 次，请 (\d+) 秒后再试。$")
READ_CLIENT = re.compile(r"^接口查询过于频繁：每个令牌或账号每 60 秒最多 6 次，请 (\d+) 秒后再试。$")
READ_IP = re.compile(r"^接口查询过于频繁：同一地址每 60 秒最多 10 次，请 (\d+) 秒后再试。$")


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.API_RATE_LIMITS = LIMITS


def assert_throttled(response, message: re.Pattern):
    assert response.status_code == 429, response.content
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["code"] == "throttled" and error["field"] is None
    found = message.match(error["message"])
    assert found, error["message"]
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60 and int(found.group(1)) == wait


def accept(api, number, ip="10.1.1.1"):
    return api.post(f"/api/v1/requests/{number}/accept/", {}, format="json", REMOTE_ADDR=ip)


def test_writes_per_token_then_429_while_reads_go_on(personas, token_client, new_request):
    r = new_request()
    api = token_client("community_staff")
    for _ in range(3):  # refused or not, each write counts
        assert accept(api, r.number).status_code not in (429, 500)
    assert_throttled(accept(api, r.number), WRITE_CLIENT)
    assert api.get(f"/api/v1/requests/{r.number}/", REMOTE_ADDR="10.1.1.1").status_code == 200
    # Another caller has its own budget.
    assert token_client("street_hub").get("/api/v1/requests/", REMOTE_ADDR="10.1.1.2").status_code == 200
    other = token_client("street_hub").post(f"/api/v1/requests/{r.number}/contact/", {}, format="json",
                                            REMOTE_ADDR="10.1.1.2")
    assert other.status_code != 429


def test_reads_have_a_looser_limit_of_their_own(personas, token_client):
    api = token_client("street_hub")
    for _ in range(6):
        assert api.get("/api/v1/areas/", REMOTE_ADDR="10.2.2.2").status_code == 200
    assert_throttled(api.get("/api/v1/areas/", REMOTE_ADDR="10.2.2.2"), READ_CLIENT)


def test_one_address_with_many_tokens_is_limited_too(personas, token_client, new_request):
    r = new_request()
    callers = [token_client(name) for name in ("community_staff", "street_hub", "district_admin")]
    for n in range(5):
        assert accept(callers[n % 3], r.number, ip="10.3.3.3").status_code != 429
    assert_throttled(accept(callers[2], r.number, ip="10.3.3.3"), WRITE_IP)
    assert accept(callers[2], r.number, ip="10.3.3.4").status_code != 429


def test_bad_tokens_are_limited_per_address_before_authentication(db):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token guessed-key")
    for _ in range(10):
        assert api.get("/api/v1/requests/", REMOTE_ADDR="10.4.4.4").status_code == 401
    assert_throttled(api.get("/api/v1/requests/", REMOTE_ADDR="10.4.4.4"), READ_IP)


def test_the_session_of_staff_counts_per_account(personas, client_for):
    client = client_for("street_hub")
    for _ in range(6):
        assert client.get("/api/v1/areas/", REMOTE_ADDR="10.5.5.5").status_code == 200
    assert_throttled(client.get("/api/v1/areas/", REMOTE_ADDR="10.5.5.6"), READ_CLIENT)


def test_every_operation_documents_429_with_retry_after(personas, client_for):
    schema = client_for("street_hub").get("/api/schema/?format=json").json()
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()
                  if path.startswith("/api/v1/")]
    assert len(operations) >= 15
    for path, method, op in operations:
        throttled = op["responses"].get("429")
        assert throttled, (method, path)
        assert throttled["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
        assert throttled["headers"]["Retry-After"]["schema"]["type"] == "integer"
        assert "Retry-After" in throttled["description"]
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"code", "field", "message"}


def test_the_limits_cost_a_few_queries_per_call_whatever_the_page(personas, token_client, new_request, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.API_RATE_LIMITS = {kind: {"client": (100, 60), "ip": (100, 60)} for kind in ("read", "write")}
    api = token_client("street_hub")
    costs = []
    for count in (1, 6):
        while ServiceRequest.objects.unscoped().count() < count:
            new_request(title=f"楼道诉求{ServiceRequest.objects.unscoped().count()}")
        api.get("/api/v1/requests/", REMOTE_ADDR="10.6.6.6")  # the windows exist from here on
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/v1/requests/", REMOTE_ADDR="10.6.6.6")
        assert response.json()["count"] == count
        limiter = [q["sql"] for q in queries.captured_queries if "ratelimit" in q["sql"]]
        assert len(limiter) == 4, limiter  # per address and per token: UPDATE the window, read it back
        costs.append(len(queries.captured_queries))
    assert costs[0] == costs[1]
