"""Outsider cases of the centre event pages: an event at 景山街道's 吉祥社区 centre with a registered
resident.  The hub of 东华门街道, staff of other communities and the 西城区 outsider do not find it
(404); roles without "centers.view" / "centers.manage" are refused (403); anonymous visitors are
sent to sign in (302).  The public pages (in PUBLIC) never show the registrant's phone."""

from __future__ import annotations

import datetime as dt

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
SECRET = "吉祥社区内部观影会"
PHONE = "13877776666"


def _setup(personas):
    from django.utils import timezone

    from zhouxin.centers import events
    from zhouxin.centers.models import Centre, Room
    from zhouxin.core.crypto import blind_index
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.portal.models import ResidentAccount

    hours = {k: [["08:00", "21:00"]] for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")}
    now = timezone.now()
    with scopes_disabled():
        centre = Centre.objects.unscoped().create(area=personas.areas["community_b"], name="吉祥社区党群服务中心",
                                                  address="吉祥胡同 3 号", floor_area="500", opening_hours=hours)
        Room.objects.unscoped().create(centre=centre, name="活动室", floor_area="60", capacity=30)
        event = events.event_create(actor=personas.community_staff_b, centre=centre, title=SECRET, capacity=10,
                                    starts_at=now + dt.timedelta(minutes=10),
                                    ends_at=now + dt.timedelta(hours=2))
        resident = ResidentAccount.objects.create(phone=PHONE, phone_index=blind_index("phone", PHONE),
                                                  consent_version="2026-11", created_at=now, last_signed_in_at=now)
        registration = events.event_register(account=resident, event=event)
    return centre, event, registration


def cases(personas) -> list:
    from django.urls import reverse

    centre, event, registration = _setup(personas)
    out: list[Case] = []
    no_view = ("resident", "member", "unit_liaison", "grid_worker", "department_handler", "system_admin",
               "security_admin", "audit_admin")
    elsewhere = ("street_hub", "community_staff", "outsider")

    def add(name, url, *, method="get", data=None, manage=False):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona in no_view:
            out.append(Case(name, persona, url, method=method, data=data, expected=FORBIDDEN,
                            must_not_contain=(SECRET,)))
        for persona in elsewhere:
            out.append(Case(name, persona, url, method=method, data=data, expected=NOT_FOUND,
                            must_not_contain=(SECRET,)))
        if manage:  # the district reads centres but does not run them
            out.append(Case(name, "district_admin", url, method=method, data=data, expected=FORBIDDEN,
                            must_not_contain=(SECRET,)))

    # The list: refused without the permission; another street's hub sees its own area only.
    list_url = reverse("centers:event_list")
    out.append(Case("centers:event_list", None, list_url, expected=ANON))
    for persona in no_view:
        out.append(Case("centers:event_list", persona, list_url, expected=FORBIDDEN))
    for persona in ("street_hub", "community_staff", "outsider"):
        out.append(Case("centers:event_list", persona, list_url, expected=OK, must_not_contain=(SECRET,)))
    out.append(Case("centers:event_list", "street_hub", f"{list_url}?centre={centre.pk}", expected=OK,
                    must_not_contain=(SECRET,)))

    # The form: refused without "centers.manage"; another street's centre is not a choice (422, nothing made).
    create_url = reverse("centers:event_create")
    out.append(Case("centers:event_create", None, create_url, expected=ANON))
    for persona in (*no_view, "district_admin"):
        out.append(Case("centers:event_create", persona, create_url, expected=FORBIDDEN))
    day = (event.starts_at + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    out.append(Case("centers:event_create", "street_hub", create_url, method="post", expected=frozenset({422}),
                    data={"centre": centre.pk, "title": "越权发布", "starts_at": f"{day}T09:00",
                          "ends_at": f"{day}T10:00", "capacity": 5}))
    out.append(Case("centers:event_create", "street_hub", f"{create_url}?booking=999999", expected=OK))

    add("centers:event_detail", reverse("centers:event_detail", args=[event.pk]))
    add("centers:event_cancel", reverse("centers:event_cancel", args=[event.pk]), method="post",
        data={"reason": "越权取消"}, manage=True)
    add("centers:event_code", reverse("centers:event_code", args=[event.pk]), manage=True)
    add("centers:event_code_json", reverse("centers:event_code_json", args=[event.pk]), manage=True)
    add("centers:event_rotate_key", reverse("centers:event_rotate_key", args=[event.pk]), method="post", manage=True)
    add("centers:event_registration_check_in",
        reverse("centers:event_registration_check_in", args=[event.pk, registration.pk]), method="post", manage=True)

    # Public pages: open to all, but never the registrant's phone.
    for url in (reverse("centers_public:event", args=[event.pk]), reverse("centers_public:centre", args=[centre.pk]),
                reverse("centers_public:calendar"), reverse("centers_public:centres")):
        for persona in (None, "street_hub"):
            out.append(Case(url_name_of(url), persona, url, expected=OK, must_not_contain=(PHONE, "138****6666")))
    return out


def url_name_of(url: str) -> str:
    from django.urls import resolve

    match = resolve(url)
    return f"{match.namespace}:{match.url_name}"
