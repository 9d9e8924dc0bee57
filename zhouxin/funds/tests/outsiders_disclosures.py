"""Outsider cases of the staff disclosure pages (三务公开): an item of 景山街道's 吉祥社区 is not found
by the hub of 东华门街道 nor by staff of other communities (404), roles without "funds.view" /
"funds.disclose" are refused (403), anonymous visitors are sent to sign in.  The published item
itself is public on the portal (funds_public:* are in PUBLIC); the staff preview of what would be
published, and the publish forms, are not."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
NO_FUNDS_ROLE = ("grid_worker", "department_handler", "unit_liaison", "member", "resident", "system_admin",
                 "security_admin", "audit_admin")


def cases(personas) -> list[Case]:
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.funds import disclosures, funds

    community = personas.areas["community_b"]
    year = timezone.localdate().year
    with scopes_disabled():
        funds.fund_create(actor=personas.district_admin, community=community, year=year, kind="service",
                          sources={"city": 100000, "district": 100000})
        item = disclosures.publish_yearly(actor=personas.community_staff_b, community=community, year=year)
    secret = item.title  # 吉祥社区…年度社区经费公开: only staff of 景山街道's communities (and the district) see it
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(secret,)))

    no_role = [(p, FORBIDDEN) for p in NO_FUNDS_ROLE]
    # The list: readable by area staff, but another street's items are not on it.
    add("funds:disclosure_list", reverse("funds:disclosure_list"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)])
    add("funds:disclosure_list", f"{reverse('funds:disclosure_list')}?community={community.code}",
        [("street_hub", OK), ("outsider", OK)])
    add("funds:disclosure_detail", reverse("funds:disclosure_detail", args=[item.pk]),
        [*no_role, ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    # Publishing needs funds.disclose (the district reads funds but does not publish for a community).
    no_disclose = [*no_role, ("district_admin", FORBIDDEN)]
    post = {"community": community.code, "year": year, "quarter": 1}
    for name in ("funds:disclosure_publish_yearly", "funds:disclosure_publish_quarterly"):
        add(name, reverse(name), no_disclose)
        add(name, reverse(name), [*no_disclose, ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND),
                                  ("outsider", NOT_FOUND)], method="post", data=post)
    # The preview of what would be published for 吉祥社区: staff of that community only.
    preview = f"{reverse('funds:disclosure_preview')}?kind=yearly&community={community.code}&year={year}"
    add("funds:disclosure_preview", preview, [*no_disclose, ("street_hub", NOT_FOUND),
                                              ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)])
    own = f"{reverse('funds:disclosure_preview')}?kind=yearly&community={personas.areas['community_a'].code}&year={year}"
    add("funds:disclosure_preview", own, [("resident", FORBIDDEN), ("unit_liaison", FORBIDDEN)])
    return out
