"""Outsider cases for the token pages (系统管理 › 接口令牌).

A token acting as 东华门街道's street hub.  Anonymous visitors are sent to sign in; every
persona but a system administrator is refused; 景山街道's system administrator manages only
景山街道's accounts, so the token is not listed for them, cannot be revoked by them (404),
and the street hub cannot be chosen for a new token.
"""

from django.urls import reverse

from zhouxin.api.services import api_token_create
from zhouxin.testing.outsiders import Case

from .personas_api import STREET_ADMIN, add_street_admin

TO_LOGIN = frozenset({302})
FORBIDDEN = frozenset({403})
TOKEN_NAME = "东华门网格平台（外人不可见）"
NOT_SYSTEM_ADMIN = ("district_admin", "street_hub", "community_staff", "grid_worker", "department_handler",
                    "unit_liaison", "member", "resident", "outsider", "security_admin", "audit_admin")


def cases(personas):
    add_street_admin(personas)
    hub = personas.users["street_hub"]
    token, _key = api_token_create(actor=personas.users["system_admin"], user=hub, name=TOKEN_NAME)
    create_data = {"user": hub.pk, "name": "越权令牌"}
    urls = [
        ("api:token_list", reverse("api:token_list"), "get", None),
        ("api:token_create", reverse("api:token_create"), "get", None),
        ("api:token_create", reverse("api:token_create"), "post", create_data),
        ("api:token_revoke", reverse("api:token_revoke", args=[token.pk]), "get", None),
        ("api:token_revoke", reverse("api:token_revoke", args=[token.pk]), "post", None),
    ]
    out: list[Case] = []
    for name, url, method, data in urls:
        out.append(Case(name, None, url, TO_LOGIN, method=method, data=data))
        for persona in NOT_SYSTEM_ADMIN:
            out.append(Case(name, persona, url, FORBIDDEN, method=method, data=data,
                            must_not_contain=(TOKEN_NAME,)))
    # The other street's administrator: the token is out of their area.
    hub_option = (f"（{hub.username}）", hub.full_name)
    out.append(Case("api:token_list", STREET_ADMIN, reverse("api:token_list"), frozenset({200}),
                    must_not_contain=(TOKEN_NAME, *hub_option)))
    out.append(Case("api:token_create", STREET_ADMIN, reverse("api:token_create") + "?q=street_h",
                    frozenset({200}), must_not_contain=hub_option))
    out.append(Case("api:token_create", STREET_ADMIN, reverse("api:token_create"), frozenset({422}),
                    method="post", data=create_data, must_not_contain=hub_option))
    for method in ("get", "post"):
        out.append(Case("api:token_revoke", STREET_ADMIN, reverse("api:token_revoke", args=[token.pk]),
                        frozenset({404}), method=method, must_not_contain=(TOKEN_NAME,)))
    return out
