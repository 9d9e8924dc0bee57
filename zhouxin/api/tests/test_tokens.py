"""Integration tokens: issued and revoked by the system admin, stored as a digest, scoped as their user."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from zhouxin.api.models import ApiToken
from zhouxin.api.services import api_token_create, api_token_revoke
from zhouxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db

AREAS = "/api/v1/areas/"


def test_system_admin_issues_a_token_whose_key_is_shown_once_and_stored_as_a_digest(personas):
    token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users["street_hub"],
                                  name="  12345 热线  平台 ")
    assert token.name == "12345 热线 平台"
    assert token.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.key_digest, token.prefix} and len(key) >= 40
    assert not ApiToken.objects.filter(key_digest=key).exists()
    entry = AuditEntry.objects.get(action="api.token.created")
    assert key not in str(entry.after) and entry.after["user"] == personas.users["street_hub"].pk


@pytest.mark.parametrize("actor", ["district_admin", "street_hub", "security_admin", "audit_admin"])
def test_only_the_system_admin_issues_tokens(personas, actor):
    with pytest.raises(PermissionDenied):
        api_token_create(actor=personas.users[actor], user=personas.users["street_hub"], name="接入")
    assert not ApiToken.objects.exists()


def test_a_token_needs_a_name(personas):
    with pytest.raises(ValidationError) as err:
        api_token_create(actor=personas.users["system_admin"], user=personas.users["street_hub"], name="  ")
    assert "请填写接入系统名称。" in err.value.message_dict["name"]


def test_token_authenticates_records_use_and_stops_working_when_revoked(personas):
    token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users["street_hub"],
                                  name="网格平台")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(AREAS).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    api_token_revoke(actor=personas.users["system_admin"], token=token)
    response = client.get(AREAS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "令牌无效或已被吊销。"
    assert response["WWW-Authenticate"] == "Token"
    assert AuditEntry.objects.filter(action="api.token.revoked").count() == 1
    with pytest.raises(ValidationError):
        api_token_revoke(actor=personas.users["system_admin"], token=token)


@pytest.mark.parametrize("header", ["Token wrong-key", "Token", "Token a b", "Bearer x"])
def test_bad_or_missing_credentials_get_401_as_json(personas, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(AREAS)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"errors"} and body["errors"][0]["message"]


def test_session_needs_the_second_factor(personas, client_for):
    assert client_for("street_hub").get(AREAS).status_code == 200
    unverified = APIClient()
    unverified.force_login(personas.users["street_hub"])  # password only, TOTP not verified
    assert unverified.get(AREAS).status_code == 401
