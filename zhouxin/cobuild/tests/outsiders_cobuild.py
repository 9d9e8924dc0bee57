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

    # The public side: the project runs and is published, so a missing check would act.
    from django.utils import timezone

    from zhouxin.cobuild.choices import ProjectStatus
    from zhouxin.cobuild.models import Project

    with scopes_disabled():
        Project.objects.unscoped().filter(pk=project.pk).update(status=ProjectStatus.RUNNING,
                                                                published_at=timezone.now())
    for name in ("cobuild:project_publish", "cobuild:project_unpublish"):
        add(name, reverse(name, args=[project.pk]),
            [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)], method="post",
            data={"reason": "越权撤回"})
    # Rating needs a signed-in resident account: anyone else, staff included, is sent to sign in.
    rate = reverse("cobuild_public:rate", args=[project.pk])
    for persona in (None, "community_staff", "street_hub", "resident", "unit_liaison"):
        out.append(Case("cobuild_public:rate", persona, rate, method="post", data={"stars": "5", "comment": "好"},
                        expected=ANON))
    # The dashboard (共建看板): staff of another street or district see their own figures, never
    # 多福巷's project and its unit, even when they ask for 东华门街道 by its code.
    dashboard = reverse("cobuild:dashboard")
    unit_name = (o["unit"].name,)
    add("cobuild:dashboard", dashboard, no_cobuild)
    for persona in ("outsider", "community_staff_b"):
        for url in (dashboard, f"{dashboard}?street={a['street_a'].code}&year={timezone.localdate().year}"):
            out.append(Case("cobuild:dashboard", persona, url, expected=frozenset({200}),
                            must_not_contain=unit_name))
    # Editing and withdrawing the lists: the need is claimed and the claim pending, so a missing
    # check would change them.  Resources are the unit's liaison's alone: area staff are refused.
    not_liaison = [(p, FORBIDDEN) for p in ("outsider", "community_staff_b", "community_staff", "street_hub",
                                            "district_admin", "grid_worker", "resident", "security_admin")]
    for method in ("get", "post"):
        add("cobuild:need_edit", reverse("cobuild:need_edit", args=[pending_need.pk]),
            [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)], method=method,
            data={"title": "越权修改", "category": "elderly_meal"})
        add("cobuild:resource_edit", reverse("cobuild:resource_edit", args=[resource.pk]), not_liaison,
            method=method, data={"title": "越权修改", "capacity": "1"})
    add("cobuild:resource_deactivate", reverse("cobuild:resource_deactivate", args=[resource.pk]), not_liaison,
        method="post")
    # The unit made the offer: staff who may see it cannot withdraw it (403), others do not find it.
    add("cobuild:claim_withdraw", reverse("cobuild:claim_withdraw", args=[pending.pk]),
        [*outsiders, ("community_staff", FORBIDDEN), ("street_hub", FORBIDDEN), ("district_admin", FORBIDDEN)],
        method="post", data={"note": "越权撤回"})

    # Delivery of the project: staff of another area do not find it (404); district staff see it but
    # do not run it (403).  A milestone and an evidence row (no file: nobody gets that far).
    from zhouxin.cobuild.models import Evidence, Milestone

    with scopes_disabled():
        milestone = Milestone.objects.create(project=project, title="首次送餐", due_on=dt.date(2026, 7, 1))
        evidence = Evidence.objects.create(project=project, file="cobuild/evidence/outsiders.png",
                                           original_name="现场.png", content_type="image/png", size=1, sha256="0" * 64,
                                           uploaded_by=staff)
    runners = [*outsiders, ("district_admin", FORBIDDEN)]
    for name, args, data in (
            ("cobuild:project_start", [project.pk], None),
            ("cobuild:project_complete", [project.pk], {"complete-note": "越权结项"}),
            ("cobuild:project_cancel", [project.pk], {"cancel-reason": "越权取消"}),
            ("cobuild:milestone_add", [project.pk], {"milestone-title": "越权节点", "milestone-due_on": "2026-07-01"}),
            ("cobuild:milestone_done", [project.pk, milestone.pk], {"note": "越权"}),
            ("cobuild:milestone_delete", [project.pk, milestone.pk], None),
            ("cobuild:record_add", [project.pk], {"record-held_on": "2026-06-01", "record-title": "越权记录"}),
            ("cobuild:evidence_upload", [project.pk], {"evidence-caption": "越权上传"}),
            ("cobuild:evidence_delete", [project.pk, evidence.pk], None)):
        add(name, reverse(name, args=args), runners, method="post", data=data)
    add("cobuild:evidence_file", reverse("cobuild:evidence_file", args=[project.pk, evidence.pk]), outsiders)

    # The agreement and its signed copy (views_documents.py): issued and signed on paper only (no
    # file: nobody gets that far).  The unit's liaison and district staff may read but not issue.
    from zhouxin.cobuild.models import Project

    with scopes_disabled():
        Project.objects.filter(pk=project.pk).update(
            agreement_number="东华门街道共建〔2026〕第0001号", agreement_file="cobuild/agreements/outsiders.pdf",
            agreement_sha256="0" * 64, signed_copy="cobuild/signed/outsiders.pdf", signed_copy_sha256="0" * 64)
    issuers_only = [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)]
    add("cobuild:agreement_issue", reverse("cobuild:agreement_issue", args=[project.pk]), issuers_only, method="post")
    add("cobuild:signed_upload", reverse("cobuild:signed_upload", args=[project.pk]), issuers_only, method="post")
    add("cobuild:agreement_download", reverse("cobuild:agreement_download", args=[project.pk]), outsiders)
    add("cobuild:signed_download", reverse("cobuild:signed_download", args=[project.pk]), outsiders)
    # Yearly unit reports: the hospital has resources and claims in 多福巷 only.
    unit_name = o["unit"].name
    add("cobuild:unit_reports", reverse("cobuild:unit_reports"), no_cobuild)
    for persona in ("outsider", "community_staff_b"):
        out.append(Case("cobuild:unit_reports", persona, reverse("cobuild:unit_reports"), expected=frozenset({200}),
                        must_not_contain=(unit_name,)))
    for name in ("cobuild:unit_report_pdf", "cobuild:unit_report_xlsx"):
        add(name, reverse(name, args=[o["unit"].pk, 2026]), [*outsiders, ("system_admin", FORBIDDEN)])
    return out
