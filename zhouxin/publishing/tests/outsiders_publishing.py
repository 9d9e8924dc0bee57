"""Outsider cases of publishing.  A notice of 多福巷社区 (东华门街道) is pending and one is
published: staff of another community or district must not find either (404), roles without
the publishing permissions are refused (403), anonymous visitors are sent to sign in; the
integrity pages are the security admin's alone.  The public pages (PUBLIC) must never show a
pending notice."""

from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import services
from zhouxin.publishing.models import PublishedPage, SecurityAlert
from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
PENDING_TITLE = "多福巷社区内部草稿：物业费调整方案"


def cases(personas) -> list[Case]:
    a = personas.areas
    with scopes_disabled():
        pending = services.notice_create(actor=personas.community_staff, area=a["community_a"], title=PENDING_TITLE,
                                         body="<p>尚未审核的内容</p>")
        services.notice_submit(actor=personas.community_staff, notice=pending)
        published = services.notice_create(actor=personas.community_staff, area=a["community_a"],
                                           title="多福巷社区停水通知", body="<p>停水</p>")
        services.notice_submit(actor=personas.community_staff, notice=published)
        services.notice_approve(actor=personas.street_hub, notice=published)
    page = PublishedPage.objects.get(notice=published)
    alert = SecurityAlert.objects.create(kind="page", message="测试告警", page=page)
    hidden = (PENDING_TITLE,)
    out: list[Case] = []

    staff_get = ["publishing:notice_list", "publishing:notice_create"]
    for name in staff_get:
        url = reverse(name)
        out.append(Case(name, None, url, expected=ANON))
        for persona in ("grid_worker", "department_handler", "resident", "member", "security_admin", "system_admin"):
            out.append(Case(name, persona, url, expected=FORBIDDEN, must_not_contain=hidden))
    # The list is scoped: staff of another community or district never see the pending notice.
    for persona in ("outsider", "community_staff_b"):
        out.append(Case("publishing:notice_list", persona, reverse("publishing:notice_list"),
                        expected=frozenset({200}), must_not_contain=hidden))

    for name, method, data in (
        ("publishing:notice_detail", "get", None),
        ("publishing:notice_edit", "post", {"area": a["community_a"].pk, "title": "篡改", "body": "<p>x</p>"}),
        ("publishing:notice_submit", "post", {}),
        ("publishing:notice_approve", "post", {}),
        ("publishing:notice_return", "post", {"reason": "越权退回"}),
        ("publishing:notice_unpublish", "post", {"reason": "越权撤下"}),
    ):
        target = published if name == "publishing:notice_unpublish" else pending
        url = reverse(name, args=[target.pk])
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona in ("outsider", "community_staff_b", "grid_worker", "resident", "security_admin"):
            out.append(Case(name, persona, url, method=method, data=data, expected=REFUSED, must_not_contain=hidden))
    # Community staff may write but not approve or return.
    for name in ("publishing:notice_approve", "publishing:notice_return"):
        out.append(Case(name, "community_staff", reverse(name, args=[pending.pk]), method="post",
                        data={"reason": "x"}, expected=FORBIDDEN))

    security = [
        ("publishing:integrity", "get", reverse("publishing:integrity"), None),
        ("publishing:page_detail", "get", reverse("publishing:page_detail", args=[page.pk]), None),
        ("publishing:alert_acknowledge", "post", reverse("publishing:alert_acknowledge", args=[alert.pk]), {}),
        ("publishing:page_reapprove", "post", reverse("publishing:page_reapprove", args=[page.pk]), {"note": "x"}),
        ("publishing:baseline_record", "post", reverse("publishing:baseline_record"), {}),
    ]
    for name, method, url, data in security:
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona in ("district_admin", "street_hub", "community_staff", "system_admin", "audit_admin", "outsider"):
            out.append(Case(name, persona, url, method=method, data=data, expected=FORBIDDEN))

    # Public pages never show a notice that is not published.
    out.append(Case("publishing:public_detail", None, reverse("publishing:public_detail",
                                                              args=[a["community_a"].code, pending.pk]),
                    expected=NOT_FOUND, must_not_contain=hidden))
    out.append(Case("publishing:public_detail", None, reverse("publishing:public_detail",
                                                              args=[a["community_b"].code, published.pk]),
                    expected=NOT_FOUND))
    out.append(Case("publishing:public_list", None, reverse("publishing:public_list", args=[a["community_a"].code]),
                    expected=frozenset({200}), must_not_contain=hidden))
    return out
