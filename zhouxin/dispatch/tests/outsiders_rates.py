"""Outsider cases for the three-rates pages (rankings, trends, 每月一题)."""

from django.urls import reverse

from zhouxin.testing.outsiders import Case

DENIED = frozenset({403})
NOT_FOUND = frozenset({404})
LOGIN = frozenset({302})


def cases(personas):
    a, o = personas.areas, personas.orgs
    rankings, trends = reverse("dispatch:rankings"), reverse("dispatch:trends")
    themes, theme_set = reverse("dispatch:themes"), reverse("dispatch:theme_set")
    dongcheng = a["dongcheng"].code
    out = []
    for url_name, url in (("dispatch:rankings", rankings), ("dispatch:trends", trends),
                          ("dispatch:themes", themes)):
        out += [
            Case(url_name, None, url, LOGIN),
            # Residents, members, unit liaisons, grid workers and the 三员 have no rates role.
            Case(url_name, "resident", url, DENIED),
            Case(url_name, "member", url, DENIED),
            Case(url_name, "unit_liaison", url, DENIED),
            Case(url_name, "grid_worker", url, DENIED),
            Case(url_name, "audit_admin", url, DENIED),
            # 西城区 community staff asking for 东城区: not their district.
            Case(url_name, "outsider", f"{url}?district={dongcheng}", NOT_FOUND, must_not_contain=("东华门街道",)),
        ]
    out += [
        # Community staff see the street ranking, not other communities' ranking.
        Case("dispatch:rankings", "community_staff", f"{rankings}?tab=communities", DENIED,
             must_not_contain=("银闸社区",)),
        # A department sees department rankings only, not the areas'.
        Case("dispatch:rankings", "department_handler", f"{rankings}?tab=streets", DENIED),
        # A street hub sees its own street's communities, not another street's.
        Case("dispatch:rankings", "street_hub", f"{rankings}?tab=communities&street={a['street_b'].code}",
             NOT_FOUND, must_not_contain=("吉祥社区",)),
        Case("dispatch:rankings", "street_hub", f"{rankings}?tab=departments", DENIED),
        # Trends below another street's (or community's) level, or another department's.
        Case("dispatch:trends", "street_hub", f"{trends}?area={a['community_b'].code}", NOT_FOUND,
             must_not_contain=("吉祥社区",)),
        Case("dispatch:trends", "community_staff", f"{trends}?area={a['community_a2'].code}", NOT_FOUND),
        Case("dispatch:trends", "community_staff", f"{trends}?area={a['street_a'].code}", NOT_FOUND),
        Case("dispatch:trends", "department_handler", f"{trends}?org={o['community_a_committee'].pk}", NOT_FOUND),
        Case("dispatch:trends", "outsider", f"{trends}?area={a['community_a'].code}", NOT_FOUND),
        # Only the district sets 每月一题.
        Case("dispatch:theme_set", None, theme_set, LOGIN, method="post"),
        Case("dispatch:theme_set", "street_hub", theme_set, DENIED, method="post",
             data={"district": dongcheng, "month": "2026-03", "title": "楼道堆物"}),
        Case("dispatch:theme_set", "community_staff", theme_set, DENIED, method="post",
             data={"district": dongcheng, "month": "2026-03", "title": "楼道堆物"}),
        Case("dispatch:theme_set", "department_handler", theme_set, DENIED, method="post"),
        Case("dispatch:theme_set", "resident", theme_set, DENIED, method="post"),
        Case("dispatch:theme_set", "district_admin", theme_set, frozenset({405}), method="get"),
    ]
    return out
