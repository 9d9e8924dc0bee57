"""Outsider cases of Open311 GeoReport v2 (/open311/v2/).

discovery, services and service definitions are public (zhouxin/testing/outsiders.PUBLIC).
Requests are read and written with an api_key only: a signed-in session is not one (403), and
the key of the 西城 outsider or of 吉祥社区 (景山街道) finds nothing of a 多福巷社区 request
submitted through Open311: not in the list, 404 for the request and its token, and a POST for
多福巷社区 is refused (400, the place is not theirs).
"""

from __future__ import annotations

from django.urls import reverse

from zhouxin.api.open311.services import open311_request_submit
from zhouxin.api.services import api_token_create
from zhouxin.testing.outsiders import Case

FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SHOWN = frozenset({200})
REFUSED_PLACE = frozenset({400})

TITLE = "多福巷开放接口外人不可见的诉求"
PHONE = "13811114444"


def _key(personas, persona: str) -> str:
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users[persona],
                                   name=f"Open311 外人测试 {persona}")
    return key


def cases(personas) -> list[Case]:
    clerk = personas.users["community_staff"]
    token, _clerk_key = api_token_create(actor=personas.users["system_admin"], user=clerk, name="Open311 本社区")
    submission, _created = open311_request_submit(
        actor=clerk, api_token=token, kind="complaint", area=personas.areas["community_a"], title=TITLE,
        description=f"{TITLE}：详细情况。", urgency="normal", category=None, contact_name="开放接口外人测试",
        contact_phone=PHONE)
    number = submission.request.number
    leak = (TITLE, PHONE, "开放接口外人测试", number, submission.token)
    outsider_keys = {persona: _key(personas, persona) for persona in ("outsider", "community_staff_b")}

    urls = {
        "open311:requests": reverse("open311:requests", kwargs={"fmt": "json"}),
        "open311:request_detail": reverse("open311:request_detail", kwargs={"fmt": "xml",
                                                                            "service_request_id": number}),
        "open311:token": reverse("open311:token", kwargs={"fmt": "json", "token": submission.token}),
    }
    out: list[Case] = []
    for name, url in urls.items():
        # No api_key: anonymous, or signed in (a session is not an api_key).
        for persona in (None, "outsider", "community_staff_b", "district_admin"):
            out.append(Case(name, persona, url, FORBIDDEN, must_not_contain=leak))
        for persona, key in outsider_keys.items():
            expected = SHOWN if name == "open311:requests" else NOT_FOUND
            out.append(Case(name, None, url, expected, data={"api_key": key}, must_not_contain=leak))
            out.append(Case(name, persona, url, expected, data={"api_key": key}, must_not_contain=leak))
    post = {"service_code": "040101", "attribute[kind]": "complaint", "address_id": personas.areas["community_a"].code,
            "description": "外人替多福巷提交"}
    out.append(Case("open311:requests", None, urls["open311:requests"], FORBIDDEN, method="post", data=post))
    out.append(Case("open311:requests", "community_staff", urls["open311:requests"], FORBIDDEN, method="post",
                    data=post))
    for key in outsider_keys.values():
        out.append(Case("open311:requests", None, urls["open311:requests"], REFUSED_PLACE, method="post",
                        data={**post, "api_key": key}))
    return out
