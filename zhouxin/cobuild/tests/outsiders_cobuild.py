"""Outsider cases of co-building.  A need of 多福巷社区 (东华门街道) with a pending claim by the
hospital, another with a confirmed claim and a project, and a community-radius resource:
staff of another district or street must not find them (404), roles without the co-building
permissions are refused (403), anonymous visitors are sent to sign in."""

import datetime as dt

from django.urls import reverse

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.core.scoping import scopes_disabled
from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SECRET = "多福巷社区内部需求：困难家庭名单核对"


def cases(personas) -> list[Case]:
    a, o = personas.areas, personas.orgs
    staff, liaison, hub = personas.community_staff, personas.unit_liaison, personas.street_hub
    with scopes_disabled():
        pending_need = services.need_create(actor=staff, area=a["community_a"], title=SECRET,
                                            category=NeedCategory.ELDERLY_MEAL)
        project_need = services.need_create(actor=staff, area=a["community_a"], title="多福巷社区助老餐桌",
                                            category=NeedCategory.ELDERLY_MEAL)
        resource = services.resource_create(
            actor=liaison, owner=o["unit"], kind=ResourceKind.GOODS, category=NeedCategory.ELDERLY_MEAL,
            title="医院食堂助老餐", capacity=50, capacity_unit="份", available_from=dt.date(2026, 1, 1),
            radius=ServiceRadius.COMMUNITY)
        pending = services.claim_create(actor=liaison, need=pending_need, resource=resource, quantity=5)
        confirmed = services.claim_create(actor=liaison, need=project_need, resource=resource, quantity=5)
        services.claim_confirm(actor=hub, claim=confirmed)
        project = services.project_create_from_claim(actor=hub, claim=confirmed)
        # A second confirmed claim without a project, for the project_create cases.
        other_need = services.need_create(actor=staff, area=a["community_a"], title="多福巷社区义诊",
                                          category=NeedCategory.ELDERLY_MEAL)
        to_start = services.claim_create(actor=liaison, need=other_need, resource=resource, quantity=5)
        services.claim_confirm(actor=hub, claim=to_start)
    hidden = (SECRET,)
    out: list[Case] = []

    def add(name, url, personas_expected, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in personas_expected:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=hidden))

    no_cobuild = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                           "system_admin", "security_admin", "audit_admin")]
    for name in ("cobuild:need_list", "cobuild:resource_list", "cobuild:project_list"):
        add(name, reverse(name), [*no_cobuild, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))])
    add("cobuild:need_create", reverse("cobuild:need_create"),
        [*no_cobuild, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)])
    # Another district's staff cannot post for 多福巷: the area is not among their choices.
    out.append(Case("cobuild:need_create", "outsider", reverse("cobuild:need_create"), method="post",
                    data={"area": a["community_a"].pk, "title": "越权需求", "category": "elderly_meal"},
                    expected=frozenset({422})))
    add("cobuild:promote", reverse("cobuild:promote"), [*no_cobuild, ("unit_liaison", FORBIDDEN)])
    out.append(Case("cobuild:promote", "outsider", f"{reverse('cobuild:promote')}?area={a['community_a'].pk}",
                    expected=frozenset({200}), must_not_contain=("多福巷社区",)))
    add("cobuild:resource_create", reverse("cobuild:resource_create"),
        [*no_cobuild, ("community_staff", FORBIDDEN), ("street_hub", FORBIDDEN), ("outsider", FORBIDDEN)])
    add("cobuild:my_matches", reverse("cobuild:my_matches"),
        [*no_cobuild, ("community_staff", FORBIDDEN), ("outsider", FORBIDDEN)])

    outsiders = [("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("grid_worker", FORBIDDEN),
                 ("resident", FORBIDDEN), ("security_admin", FORBIDDEN)]
    add("cobuild:need_detail", reverse("cobuild:need_detail", args=[pending_need.pk]), outsiders)
    add("cobuild:need_close", reverse("cobuild:need_close", args=[pending_need.pk]),
        [*outsiders, ("unit_liaison", FORBIDDEN)], method="post", data={"met": "0"})
    add("cobuild:claim_create", reverse("cobuild:claim_create", args=[pending_need.pk]), outsiders,
        method="post", data={"resource": resource.pk})
    add("cobuild:resource_detail", reverse("cobuild:resource_detail", args=[resource.pk]), outsiders)
    # The unit cannot confirm its own offer (403); others do not find the claim.
    for name in ("cobuild:claim_confirm", "cobuild:claim_decline"):
        add(name, reverse(name, args=[pending.pk]), [*outsiders, ("unit_liaison", FORBIDDEN)],
            method="post", data={"note": "越权处理"})
    add("cobuild:project_create", reverse("cobuild:project_create", args=[to_start.pk]),
        [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)], method="post",
        data={"title": "越权立项"})
    add("cobuild:project_detail", reverse("cobuild:project_detail", args=[project.pk]), outsiders)
    return out
