"""Outsider cases for the browsing pages (tree, search, areas, organisations, people, reveal)."""

from django.urls import reverse

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
SHOWN = frozenset({200})


def cases(personas):
    a, o, p = personas.areas, personas.orgs, personas.people
    community_b = a["community_b"].code
    dongcheng = a["dongcheng"].code
    reveal_b = reverse("orgs:person_reveal", args=[p["resident_b"].pk])
    reveal_data = {"field": "phone", "reason": "电话回访"}
    other_community = ("吉祥社区", "马玉芬", "中共吉祥社区委员会", "13700002222")
    dongcheng_names = ("东城区", "东华门街道", "多福巷社区", "吉祥社区", "吴桂兰", "马玉芬", "中共东华门街道工作委员会")
    urls = {
        "orgs:tree": reverse("orgs:tree"),
        "orgs:search": reverse("orgs:search") + "?q=jx",
        "orgs:area_detail": reverse("orgs:area_detail", args=[community_b]),
        "orgs:area_children": reverse("orgs:area_children", args=[a["street_b"].code]),
        "orgs:org_list": reverse("orgs:org_list"),
        "orgs:org_detail": reverse("orgs:org_detail", args=[o["community_b_committee"].pk]),
        "orgs:person_list": reverse("orgs:person_list"),
        "orgs:person_detail": reverse("orgs:person_detail", args=[p["resident_b"].pk]),
    }
    result = [Case(name, None, url, ANON) for name, url in urls.items()]
    result.append(Case("orgs:person_reveal", None, reveal_b, ANON, method="post", data=reveal_data))

    # Community staff of 多福巷社区: another street's community, its organisation and its resident are not found.
    staff = "community_staff"
    result += [
        Case("orgs:area_detail", staff, urls["orgs:area_detail"], REFUSED),
        Case("orgs:area_detail", staff, reverse("orgs:area_detail", args=[a["street_a"].code]), REFUSED),
        Case("orgs:area_children", staff, urls["orgs:area_children"], REFUSED, data=None),
        Case("orgs:org_detail", staff, urls["orgs:org_detail"], REFUSED),
        Case("orgs:person_detail", staff, urls["orgs:person_detail"], REFUSED),
        Case("orgs:person_reveal", staff, reveal_b, REFUSED, method="post", data=reveal_data,
             must_not_contain=("13700002222",)),
        # Lists and searches answer, without the other community's rows.
        Case("orgs:tree", staff, urls["orgs:tree"], SHOWN, must_not_contain=other_community),
        Case("orgs:search", staff, urls["orgs:search"], SHOWN, must_not_contain=other_community),
        Case("orgs:search", staff, reverse("orgs:search") + "?q=吉祥", SHOWN, must_not_contain=other_community),
        Case("orgs:search", staff, reverse("orgs:search") + "?q=sq", SHOWN, must_not_contain=other_community),
        Case("orgs:org_list", staff, urls["orgs:org_list"], SHOWN, must_not_contain=other_community),
        Case("orgs:org_list", staff, urls["orgs:org_list"] + f"?area={community_b}", REFUSED),
        Case("orgs:person_list", staff, urls["orgs:person_list"], SHOWN, must_not_contain=other_community),
        Case("orgs:person_list", staff, urls["orgs:person_list"] + "?q=马", SHOWN, must_not_contain=other_community),
        Case("orgs:person_list", staff, urls["orgs:person_list"] + f"?area={community_b}", REFUSED),
    ]

    # The 西城 outsider sees nothing of 东城.
    out = "outsider"
    result += [
        Case("orgs:area_detail", out, reverse("orgs:area_detail", args=[dongcheng]), REFUSED),
        Case("orgs:area_children", out, reverse("orgs:area_children", args=[dongcheng]), REFUSED),
        Case("orgs:org_detail", out, reverse("orgs:org_detail", args=[o["district_committee"].pk]), REFUSED),
        Case("orgs:person_detail", out, reverse("orgs:person_detail", args=[p["resident_a"].pk]), REFUSED),
        Case("orgs:person_reveal", out, reverse("orgs:person_reveal", args=[p["resident_a"].pk]), REFUSED,
             method="post", data=reveal_data, must_not_contain=("13812341234",)),
        Case("orgs:tree", out, urls["orgs:tree"], SHOWN, must_not_contain=dongcheng_names),
        Case("orgs:search", out, reverse("orgs:search") + "?q=d", SHOWN, must_not_contain=dongcheng_names),
        Case("orgs:search", out, reverse("orgs:search") + "?q=东", SHOWN, must_not_contain=dongcheng_names),
        Case("orgs:org_list", out, urls["orgs:org_list"], SHOWN, must_not_contain=dongcheng_names),
        Case("orgs:person_list", out, urls["orgs:person_list"], SHOWN, must_not_contain=dongcheng_names),
    ]

    # Roles without "orgs.view" (department, unit, member, resident, 三员) are refused every page.
    for persona in ("department_handler", "unit_liaison", "member", "resident", "system_admin", "audit_admin"):
        result += [Case(name, persona, url, frozenset({403})) for name, url in urls.items()]

    # A grid worker may browse but not reveal: 403 on a person in the grid's scope is impossible
    # (people live in communities), so the reveal is refused as not found or forbidden.
    result.append(Case("orgs:person_reveal", "grid_worker", reverse("orgs:person_reveal", args=[p["resident_a"].pk]),
                       REFUSED, method="post", data=reveal_data, must_not_contain=("13812341234",)))
    return result
