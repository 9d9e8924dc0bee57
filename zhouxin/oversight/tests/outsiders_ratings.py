"""Outsider cases of the ratings pages: 景山街道's 吉祥社区 is rated and flagged, and so is 东华门街道
itself.  The hub of 东华门街道, the staff of 多福巷社区 and of 西城区 do not find 吉祥社区's rating,
peers or flag (404); roles without "oversight.view" are refused (403); ratings are run only by the
district ("oversight.rating.run"), plans and results recorded one level up ("oversight.rectify" on
the parent area: the street hub may not decide its own street's flag)."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})

# Signed in, but holding no oversight permission at all.
NO_OVERSIGHT_ROLE = ("resident", "unit_liaison", "grid_worker", "member", "department_handler", "system_admin",
                     "security_admin", "audit_admin")


def cases(personas) -> list:
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.indicators import MONTH, Period
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.oversight import ratings
    from zhouxin.oversight.models import Rectification

    period = Period.of(MONTH, timezone.localdate()).previous()
    secret = "吉祥社区书记空缺整改保密说明"
    with scopes_disabled():
        ratings.rate(personas.areas["dongcheng"], period)   # whatever the indicators say: every area gets a rating
        now = timezone.now()
        community_flag, _created = Rectification.objects.unscoped().update_or_create(
            area=personas.areas["community_b"], period=period.key,
            defaults={"district": personas.areas["dongcheng"], "flagged_at": now,
                      "reasons": [{"reason": "vacancy", "text": secret, "figure": 120, "link": None}]})
        street_flag, _created = Rectification.objects.unscoped().update_or_create(
            area=personas.areas["street_a"], period=period.key,
            defaults={"district": personas.areas["dongcheng"], "flagged_at": now,
                      "reasons": [{"reason": "satisfaction", "text": "东华门街道满意率", "figure": "50.0%", "link": None}]})
    hidden = (secret, "吉祥社区")
    code = personas.areas["community_b"].code
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None, must_not_contain=hidden):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=must_not_contain))

    no_role = [(p, FORBIDDEN) for p in NO_OVERSIGHT_ROLE]
    other_area = [(p, NOT_FOUND) for p in ("street_hub", "community_staff", "outsider")]

    # The ranking: open to oversight staff, listing only their own areas.
    add("oversight:rating_list", reverse("oversight:rating_list"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)])
    add("oversight:rating_list", f"{reverse('oversight:rating_list')}?district=110101&period={period.key}&street=110101002",
        [("street_hub", OK), ("community_staff", OK), ("outsider", OK)])

    # One rating's explanation and the peers comparison.
    add("oversight:rating_detail", reverse("oversight:rating_detail", kwargs={"code": code, "period": period.key}),
        [*no_role, *other_area])
    add("oversight:peers", reverse("oversight:peers", kwargs={"code": code}), [*no_role, *other_area])

    # Running a rating: the district only.
    add("oversight:rating_run", reverse("oversight:rating_run"),
        [*no_role, ("street_hub", FORBIDDEN), ("community_staff", FORBIDDEN), ("community_staff_b", FORBIDDEN),
         ("outsider", FORBIDDEN)], method="post", data={"district": "110101", "period": period.key})

    # Rectification: read in scope; decided one level up.
    add("oversight:rectification_list", reverse("oversight:rectification_list"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)])
    detail = reverse("oversight:rectification_detail", args=[community_flag.pk])
    add("oversight:rectification_detail", detail, [*no_role, *other_area])
    for name, data in (("oversight:rectification_plan", {"plan": "越权记录的措施"}),
                       ("oversight:rectification_close", {"result": "越权验收"})):
        url = reverse(name, args=[community_flag.pk])
        add(name, url, [*no_role, ("street_hub", NOT_FOUND), ("community_staff", FORBIDDEN),
                        ("community_staff_b", FORBIDDEN), ("outsider", FORBIDDEN)], method="post", data=data)
        # The street's own flag: its hub reads it but the district decides.
        add(name, reverse(name, args=[street_flag.pk]), [("street_hub", FORBIDDEN)], method="post", data=data,
            must_not_contain=())
    return out
