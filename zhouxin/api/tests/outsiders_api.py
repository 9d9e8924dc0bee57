"""Outsider cases for the REST API (session clients; token scoping is in test_scoping.py).

A request of 多福巷社区 (东华门街道).  The 西城 outsider (staff of 西交民巷社区) and staff of
吉祥社区 must not find it, its area or its organisations; anonymous callers get 401.
"""

from django.urls import reverse

from zhouxin.dispatch import services
from zhouxin.testing.outsiders import Case

UNAUTHENTICATED = frozenset({401})
NOT_FOUND = frozenset({404})
SHOWN = frozenset({200})

TITLE_A = "多福巷接口外人不可见的诉求"
PHONE_A = "13811113333"
ACTIONS = ("dispatch", "accept", "return", "contact", "reply", "callback", "close", "reopen")


def cases(personas):
    a = services.request_intake(
        actor=personas.users["community_staff"], area=personas.areas["community_a"], kind="complaint",
        channel="hotline", title=TITLE_A, description=f"{TITLE_A}：详细情况。", contact_name="接口外人测试",
        contact_phone=PHONE_A)
    leak = (TITLE_A, PHONE_A, "接口外人测试", a.number)
    area_a, org_a = personas.areas["community_a"], personas.orgs["community_a_committee"]
    lists = {
        "api:area-list": (reverse("api:area-list"), ("多福巷社区", "东华门街道")),
        "api:organisation-list": (reverse("api:organisation-list"), ("中共多福巷社区委员会", "北京市东城区第一人民医院")),
        "api:request-list": (reverse("api:request-list"), leak),
    }
    details = {
        "api:area-detail": reverse("api:area-detail", args=[area_a.pk]),
        "api:organisation-detail": reverse("api:organisation-detail", args=[org_a.pk]),
        "api:request-detail": reverse("api:request-detail", args=[a.number]),
    }
    out: list[Case] = []
    for name, (url, secrets) in lists.items():
        out.append(Case(name, None, url, UNAUTHENTICATED, must_not_contain=secrets))
        for persona in ("outsider", "community_staff_b"):
            out.append(Case(name, persona, url, SHOWN, must_not_contain=secrets))
    for name, url in details.items():
        out.append(Case(name, None, url, UNAUTHENTICATED, must_not_contain=leak))
        for persona in ("outsider", "community_staff_b", "system_admin"):
            out.append(Case(name, persona, url, NOT_FOUND, must_not_contain=leak))
    # Creating in another community: refused, nothing created there.
    out.append(Case("api:request-list", None, reverse("api:request-list"), UNAUTHENTICATED, method="post",
                    data={"kind": "complaint", "area": area_a.code, "title": "外人", "description": "外人"}))
    for action in ACTIONS:
        name = f"api:request-{action}"
        url = reverse(name, args=[a.number])
        out.append(Case(name, None, url, UNAUTHENTICATED, method="post", must_not_contain=leak))
        for persona in ("outsider", "community_staff_b"):
            out.append(Case(name, persona, url, NOT_FOUND, method="post", must_not_contain=leak))
    for name in ("api:schema", "api:docs"):
        out.append(Case(name, None, reverse(name), frozenset({401, 403})))
    return out
