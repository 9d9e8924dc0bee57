"""Outsider cases of the dashboard (analytics:dashboard): an area outside the caller's grants is not found
(404) — community staff cannot open their street or another community, a street hub cannot open its
district or another street, the other district's staff find nothing of 东城区 —; roles without
"analytics.view" are refused (403); anonymous visitors are sent to sign in.  Nobody outside 多福巷社区,
its street and its district sees the community's figures."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
VOLUME = 48213  # 多福巷社区's requests this month: shown only to whoever may open the community
NO_VIEW = ("grid_worker", "department_handler", "unit_liaison", "resident", "member", "system_admin",
           "security_admin", "audit_admin")


def cases(personas) -> list[Case]:
    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch import rates
    from zhouxin.dispatch.models import Rollup

    a = personas.areas
    with scopes_disabled():
        Rollup.objects.unscoped().create(month=rates.this_month(), district=a["dongcheng"], area=a["community_a"],
                                         received=VOLUME, response_due=VOLUME, responded_in_time=VOLUME)
    hidden = ("48213", "48,213")
    url = reverse("analytics:dashboard")
    out: list[Case] = []

    def add(target, expected_by_persona):
        out.append(Case("analytics:dashboard", None, target, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case("analytics:dashboard", persona, target, expected=expected, must_not_contain=hidden))

    no_view = [(p, FORBIDDEN) for p in NO_VIEW]
    # 多福巷社区 itself: staff of another community (same district or the other one) do not find it.
    add(f"{url}?area={a['community_a'].code}", [*no_view, ("community_staff_b", NOT_FOUND), ("outsider", NOT_FOUND)])
    # Its street: not its community's staff, nor another street's.
    add(f"{url}?area={a['street_a'].code}",
        [*no_view, ("community_staff", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("outsider", NOT_FOUND)])
    # Its district: not the street hub, not community staff, not the other district's.
    add(f"{url}?area={a['dongcheng'].code}", [("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND),
                                              ("outsider", NOT_FOUND)])
    # The city: nobody here holds a grant on it.
    add(f"{url}?area={a['city'].code}", [("district_admin", NOT_FOUND), ("street_hub", NOT_FOUND),
                                         ("outsider", NOT_FOUND)])
    # A sibling community of the hub's own street is fine; one in another street is not.
    out.append(Case("analytics:dashboard", "street_hub", f"{url}?area={a['community_b'].code}", expected=NOT_FOUND))
    out.append(Case("analytics:dashboard", "community_staff", f"{url}?area={a['community_a2'].code}",
                    expected=NOT_FOUND))
    # A grid is no dashboard, even inside one's own community; a code that is no area is not found.
    out.append(Case("analytics:dashboard", "community_staff", f"{url}?area={a['grid_a'].code}", expected=NOT_FOUND))
    out.append(Case("analytics:dashboard", "district_admin", f"{url}?area=110101<script>", expected=NOT_FOUND))
    # Without an area: everyone gets their own top node, which says nothing of 多福巷社区.
    add(url, [*no_view, ("community_staff_b", OK), ("outsider", OK)])
    # Writes are not accepted.
    out.append(Case("analytics:dashboard", "district_admin", url, method="post", data={}, expected=frozenset({405})))
    return out
