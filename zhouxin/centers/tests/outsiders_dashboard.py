"""Outsider cases of the utilisation dashboards and the visitor count: another street's or
community's page is not found (404), roles without "centers.view" ("centers.manage" for the count)
are refused (403), anonymous visitors are sent to sign in; nobody outside 多福巷社区 and its street
sees its centre's name or its visitors."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SECRET = "多福巷看板保密服务站"
VISITORS = 73919
NO_VIEW = ("grid_worker", "department_handler", "unit_liaison", "resident", "member", "system_admin",
           "security_admin", "audit_admin")


def cases(personas) -> list[Case]:
    from decimal import Decimal

    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.centers import centres, utilisation
    from zhouxin.core.scoping import scopes_disabled

    community = personas.areas["community_a"]
    hours = {key: [["08:00", "20:00"]] for key in centres.HOURS_KEYS}
    with scopes_disabled():
        centre = centres.centre_save(actor=personas.community_staff, area=community, name=SECRET,
                                     address="多福巷99号", floor_area=Decimal("500"), opening_hours=hours)
        centres.room_save(actor=personas.community_staff, centre=centre, name="保密议事厅", floor_area=Decimal("80"),
                          capacity=30)
    utilisation.visits_record(actor=personas.community_staff, centre=centre, day=timezone.localdate(),
                              visitors=VISITORS)
    hidden = (SECRET, str(VISITORS))
    street_url = reverse("centers:dashboard_street")
    community_url = reverse("centers:dashboard_community")
    visits_url = reverse("centers:visits")
    post = {"centre": centre.pk, "day": timezone.localdate().isoformat(), "visitors": "1"}
    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected, must_not_contain=hidden))

    no_view = [(p, FORBIDDEN) for p in NO_VIEW]
    # The street dashboard of 东华门街道: another street's hub, community staff elsewhere and the
    # other district's staff do not find it.
    add("centers:dashboard_street", f"{street_url}?street={community.parent.code}",
        [*no_view, ("community_staff_b", NOT_FOUND), ("outsider", NOT_FOUND)])
    # Without a street: staff with no street are sent to their own community's page.
    add("centers:dashboard_street", street_url, [*no_view, ("community_staff_b", ANON), ("outsider", ANON)])
    out.append(Case("centers:dashboard_street", "street_hub", f"{street_url}?street={personas.areas['street_b'].code}",
                    expected=NOT_FOUND))
    # The community dashboard of 多福巷社区.
    add("centers:dashboard_community", f"{community_url}?community={community.code}",
        [*no_view, ("community_staff_b", NOT_FOUND), ("outsider", NOT_FOUND)])
    out.append(Case("centers:dashboard_community", "community_staff",
                    f"{community_url}?community={personas.areas['community_a2'].code}", expected=NOT_FOUND))
    for persona in ("community_staff_b", "outsider"):  # their own community's page says nothing of 多福巷
        out.append(Case("centers:dashboard_community", persona, community_url, expected=frozenset({200}),
                        must_not_contain=hidden))
    # The visitor count: reading and recording need "centers.manage" (the district only reads);
    # another community's centre is not found, and nothing is recorded.
    add("centers:visits", visits_url, [*no_view, ("district_admin", FORBIDDEN)])
    add("centers:visits", visits_url, [*no_view, ("district_admin", FORBIDDEN), ("community_staff_b", NOT_FOUND),
                                       ("outsider", NOT_FOUND)], method="post", data=post)
    for persona in ("community_staff_b", "outsider"):
        out.append(Case("centers:visits", persona, visits_url, expected=frozenset({200}), must_not_contain=hidden))
    return out
