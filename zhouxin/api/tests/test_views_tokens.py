"""The token pages (系统管理 › 接口令牌): list, create (the key shown once), revoke after confirming;
a street's system administrator manages only the accounts of that street."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from zhouxin.api.models import ApiToken
from zhouxin.api.services import api_token_create, api_token_revoke
from zhouxin.core.models import AuditEntry
from zhouxin.testing.clients import verified_client

from .personas_api import STREET_ADMIN, add_street_admin

pytestmark = pytest.mark.django_db

LIST = reverse("api:token_list")
CREATE = reverse("api:token_create")
KEY = re.compile(r"data-zx-token-key[^>]*>([A-Za-z0-9_-]{40,})</code>")


def text(response) -> str:
    return response.content.decode()


def revoke_url(token) -> str:
    return reverse("api:token_revoke", args=[token.pk])


def test_the_system_menu_leads_to_the_token_list(personas, client_for):
    admin = client_for("system_admin")
    home = text(admin.get(reverse("core:home")))
    assert f'href="{LIST}"' in home and "接口令牌" in home
    assert f'href="{LIST}"' not in text(client_for("street_hub").get(reverse("core:home")))
    body = text(admin.get(LIST))
    assert "还没有令牌。" in body and f'href="{CREATE}"' in body


def test_creating_shows_the_key_once_and_the_key_works(personas, client_for):
    admin = client_for("system_admin")
    form = text(admin.get(CREATE))
    hub = personas.users["street_hub"]
    assert f'<option value="{hub.pk}">李淑珍（street_hub）</option>' in form
    # No token for the 三员, nor for accounts without a staff role.
    for name in ("system_admin", "security_admin", "audit_admin", "resident", "member", "unit_liaison"):
        assert f"（{name}）" not in form

    response = admin.post(CREATE, {"user": hub.pk, "name": " 12345 热线平台 "})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    body = text(response)
    assert "令牌已创建" in body and "密钥只显示这一次" in body
    key = KEY.search(body).group(1)
    token = ApiToken.objects.get()
    assert token.name == "12345 热线平台" and token.user == hub and token.created_by == personas.system_admin
    entry = AuditEntry.objects.get(action="api.token.created")
    assert entry.actor == personas.system_admin and key not in str(entry.after)

    listed = text(admin.get(LIST))
    assert "12345 热线平台" in listed and f"{key[:8]}…" in listed and "从未使用" in listed
    assert key not in listed  # never shown again

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/requests/").status_code == 200
    assert "从未使用" not in text(admin.get(LIST))


def test_bad_input_changes_nothing_and_says_why(personas, client_for):
    admin = client_for("system_admin")
    hub = personas.users["street_hub"]
    empty = admin.post(CREATE, {"user": hub.pk, "name": "   "})
    assert empty.status_code == 422 and "请填写接入系统名称。" in text(empty)
    no_user = admin.post(CREATE, {"name": "网格平台"})
    assert no_user.status_code == 422 and "请选择令牌代表的用户。" in text(no_user)
    for bad in ("abc", "999999", str(personas.users["security_admin"].pk)):
        response = admin.post(CREATE, {"user": bad, "name": "网格平台"})
        assert response.status_code == 422 and "请从列表中选择令牌代表的用户。" in text(response)
    too_long = admin.post(CREATE, {"user": hub.pk, "name": "长" * 101})
    assert too_long.status_code == 422 and "接入系统名称不能超过 100 个字。" in text(too_long)
    assert not ApiToken.objects.exists() and not AuditEntry.objects.filter(action="api.token.created").exists()


def test_search_narrows_the_choice_of_users(personas, client_for):
    body = text(client_for("system_admin").get(CREATE, {"q": "李淑"}))
    assert "（street_hub）" in body and "（community_staff）" not in body
    assert "没有找到符合条件的用户。" in text(client_for("system_admin").get(CREATE, {"q": "无此人"}))


def test_revoking_asks_first_then_the_key_stops_working(personas, client_for):
    token, key = api_token_create(actor=personas.system_admin, user=personas.users["community_staff"],
                                  name="社区网格平台")
    admin = client_for("system_admin")
    confirm = admin.get(revoke_url(token))
    assert confirm.status_code == 200
    assert "确定吊销“社区网格平台”的令牌吗？" in text(confirm) and "确认吊销" in text(confirm)
    token.refresh_from_db()
    assert token.revoked_at is None  # opening the confirmation changes nothing

    done = admin.post(revoke_url(token), follow=True)
    assert "令牌“社区网格平台”已吊销" in text(done)
    assert "已于" in text(done) and "吊销" in text(done)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/areas/").status_code == 401
    entry = AuditEntry.objects.get(action="api.token.revoked")
    assert entry.actor == personas.system_admin

    again = admin.post(revoke_url(token), follow=True)
    assert "已于" in text(again)
    assert AuditEntry.objects.filter(action="api.token.revoked").count() == 1
    assert admin.get(reverse("api:token_revoke", args=[999999])).status_code == 404


def test_a_street_administrator_manages_only_that_streets_accounts(personas):
    add_street_admin(personas)
    admin = verified_client(personas, STREET_ADMIN)
    staff_b, hub = personas.users["community_staff_b"], personas.users["street_hub"]
    theirs, _k = api_token_create(actor=personas.system_admin, user=staff_b, name="景山网格平台")
    other, _k = api_token_create(actor=personas.system_admin, user=hub, name="东华门网格平台")

    listed = text(admin.get(LIST))
    assert "景山网格平台" in listed and "东华门网格平台" not in listed
    form = text(admin.get(CREATE))
    assert "（community_staff_b）" in form
    for name in ("street_hub", "community_staff", "district_admin", "department_handler", "outsider"):
        assert f"（{name}）" not in form

    refused = admin.post(CREATE, {"user": hub.pk, "name": "越权令牌"})
    assert refused.status_code == 422 and "请从列表中选择令牌代表的用户。" in text(refused)
    assert admin.post(revoke_url(other)).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None

    made = admin.post(CREATE, {"user": staff_b.pk, "name": "吉祥社区平台"})
    assert made.status_code == 200 and KEY.search(text(made))
    assert admin.post(revoke_url(theirs)).status_code == 302

    # The services say the same, whatever the page does.
    street_admin = personas.users[STREET_ADMIN]
    with pytest.raises(ValidationError) as err:
        api_token_create(actor=street_admin, user=hub, name="越权令牌")
    assert "只能为您管理的区域内的工作人员账号创建令牌，该账号不在其中。" in err.value.message_dict["user"]
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=street_admin, token=other)
    # An account with one grant outside the street is outside too: its token would reach beyond it.
    staff_b.grants.create(role="community_staff", area=personas.areas["community_a"])
    with pytest.raises(ValidationError):
        api_token_create(actor=street_admin, user=staff_b, name="跨街道令牌")


def test_the_list_costs_the_same_whatever_its_length(personas, client_for, django_assert_num_queries):
    users = [personas.users[n] for n in ("street_hub", "community_staff", "community_staff_b", "grid_worker")]
    admin = client_for("system_admin")
    admin.get(LIST)  # settles the session's "last seen" write
    for round_ in range(2):
        for n, user in enumerate(users * 5):
            api_token_create(actor=personas.system_admin, user=user, name=f"平台 {round_}-{n}")
        # session, user, OTP device, role set, scope, admin's area, count, page (user, creator joined)
        with django_assert_num_queries(8):
            response = admin.get(LIST)
        assert response.status_code == 200
