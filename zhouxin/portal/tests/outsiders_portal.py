"""Outsider cases of the resident portal.  Home, submit, suggest, grids, receipt, track,
verify, sign-in and the community pages are public (zhouxin/testing/outsiders.PUBLIC gives
each reason).  A request's status page and its rating need a session that proved the
one-time code for that very request, or a signed-in resident account whose phone is the
request's contact phone; the resident's own pages (我的诉求, export, correction, deletion)
need a signed-in resident account.  Anyone else — anonymous or staff, whatever their
grants — is sent to the tracking or sign-in form and sees nothing.  Another resident's
session is tested in test_accounts.py and test_pipl.py (the runner here has no resident
personas)."""

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
    signin = frozenset({302})
    out = []
    for persona in (None, "community_staff", "district_admin", "resident"):
        out.append(Case("portal:status", persona, status, expected=frozenset({302}), must_not_contain=hidden))
        out.append(Case("portal:rate", persona, rate, method="post", expected=frozenset({302}),
                        data={"resolution": "resolved", "satisfaction": "satisfied"}, must_not_contain=hidden))
        out.append(Case("portal:me", persona, reverse("portal:me"), expected=signin, must_not_contain=hidden))
        out.append(Case("portal:me_data", persona, reverse("portal:me_data"), expected=signin))
        out.append(Case("portal:me_export", persona, reverse("portal:me_export"), expected=signin,
                        must_not_contain=hidden))
        out.append(Case("portal:me_delete", persona, reverse("portal:me_delete"), method="post", expected=signin,
                        data={"confirm": "on"}))
        out.append(Case("portal:me_correct", persona, reverse("portal:me_correct", args=[r.number]), method="post",
                        expected=signin, data={"contact_name": "冒名", "contact_phone": "13500001111"},
                        must_not_contain=hidden))
    return out
