"""Outsider cases for the co-building REST API (/api/v1/cobuild/…, session clients; tokens are
in test_cobuild.py).  A need of 多福巷社区 (东华门街道), a street-radius resource of the hospital
and a project: staff of 西城 and of 景山街道 must not find them (404), roles without the
co-building permission are refused (403), anonymous callers get 401."""

import datetime as dt

from django.urls import reverse

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.core.scoping import scopes_disabled
from zhouxin.testing.outsiders import Case

UNAUTHENTICATED = frozenset({401})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SHOWN = frozenset({200})

NEED_TITLE = "多福巷接口外人不可见的共建需求"
RESOURCE_TITLE = "医院接口外人不可见的助老资源"
PROJECT_TITLE = "多福巷接口外人不可见的共建项目"
NO_COBUILD = ("grid_worker", "resident", "system_admin", "security_admin")


def cases(personas) -> list[Case]:
    a, o = personas.areas, personas.orgs
    staff, liaison, hub = personas.community_staff, personas.unit_liaison, personas.street_hub
    with scopes_disabled():
        need = services.need_create(actor=staff, area=a["community_a"], title=NEED_TITLE,
                                    category=NeedCategory.ELDERLY_CARE)
        resource = services.resource_create(
            actor=liaison, owner=o["unit"], kind=ResourceKind.VOLUNTEERS, category=NeedCategory.ELDERLY_CARE,
            title=RESOURCE_TITLE, capacity=10, capacity_unit="人次", available_from=dt.date(2026, 1, 1),
            radius=ServiceRadius.STREET)
        project_need = services.need_create(actor=staff, area=a["community_a"], title="多福巷接口项目需求",
                                            category=NeedCategory.ELDERLY_CARE)
        claim = services.claim_create(actor=liaison, need=project_need, resource=resource, quantity=2)
        services.claim_confirm(actor=hub, claim=claim)
        project = services.project_create_from_claim(actor=hub, claim=claim, title=PROJECT_TITLE)
    hidden = (NEED_TITLE, RESOURCE_TITLE, PROJECT_TITLE)
    out: list[Case] = []

    def add(name, url, expectations, method="get", data=None):
        out.append(Case(name, None, url, UNAUTHENTICATED, method=method, data=data, must_not_contain=hidden))
        for persona, expected in expectations:
            out.append(Case(name, persona, url, expected, method=method, data=data, must_not_contain=hidden))

    refused = [(p, FORBIDDEN) for p in NO_COBUILD]
    for name in ("api:cobuild-need-list", "api:cobuild-resource-list", "api:cobuild-project-list"):
        add(name, reverse(name), [*refused, ("outsider", SHOWN), ("community_staff_b", SHOWN)])
    outsiders = [*refused, ("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND)]
    for name, pk in (("api:cobuild-need-detail", need.pk), ("api:cobuild-need-matches", need.pk),
                     ("api:cobuild-resource-detail", resource.pk), ("api:cobuild-resource-matches", resource.pk),
                     ("api:cobuild-project-detail", project.pk)):
        add(name, reverse(name, args=[pk]), outsiders)
    # Claiming another street's need: as if it did not exist; the district reads but does not claim.
    add("api:cobuild-need-claim", reverse("api:cobuild-need-claim", args=[need.pk]),
        [*outsiders, ("district_admin", FORBIDDEN)], method="post", data={"resource": resource.pk})
    return out
