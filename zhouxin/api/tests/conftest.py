from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from zhouxin.api.services import api_token_create
from zhouxin.dispatch import services


@pytest.fixture
def token_client(personas):
    """token_client("street_hub") → an APIClient sending `Authorization: Token <key>` for a new
    token that acts as that persona (created by the system admin)."""

    def make(persona: str) -> APIClient:
        _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users[persona],
                                       name=f"测试接入 {persona}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def new_request(personas):
    def make(*, area="community_a", actor="community_staff", title="楼道堆放杂物", category=None,
             phone="13812345678"):
        return services.request_intake(
            actor=personas.users[actor], kind="complaint", channel="hotline", area=personas.areas[area],
            title=title, description=f"{title}：3号楼2单元楼道长期堆放纸箱杂物。", contact_phone=phone,
            category=category)

    return make
