"""Outsider cases of the resident portal.  Home, submit, suggest, receipt, track and verify
are public (zhouxin/testing/outsiders.PUBLIC gives each reason); a request's status page and
its rating need a session that proved the one-time code for that very request, so anyone
else — anonymous or staff — is sent back to the tracking form and sees nothing of it."""

from __future__ import annotations

from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services
from zhouxin.testing.outsiders import Case

SECRET_TITLE = "门口私搭乱建需拆除"


def cases(personas) -> list[Case]:
    with scopes_disabled():
        r = services.request_intake(
            actor=None, kind="complaint", channel="portal", area=personas.areas["community_a"], title=SECRET_TITLE,
            description="邻居在楼门口私搭乱建。", contact_name="赵先生", contact_phone="13911112222")
    status = reverse("portal:status", args=[r.number])
    rate = reverse("portal:rate", args=[r.number])
    hidden = (SECRET_TITLE, "赵先生", "13911112222")
    out = []
    for persona in (None, "community_staff", "district_admin"):
        out.append(Case("portal:status", persona, status, expected=frozenset({302}), must_not_contain=hidden))
        out.append(Case("portal:rate", persona, rate, method="post", expected=frozenset({302}),
                        data={"resolution": "resolved", "satisfaction": "satisfied"}, must_not_contain=hidden))
    return out
