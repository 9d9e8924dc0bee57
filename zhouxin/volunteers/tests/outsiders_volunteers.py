"""Outsider cases of volunteers (staff pages): staff of another street or district must not
find another community's registrations, activities, sign-ups, wishes or feedback (404), roles
without the volunteers permissions are refused (403), anonymous visitors sent to sign in."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})


def cases(personas) -> list[Case]:
    result: list[Case] = []
    result.extend(_wish_cases(personas))
    result.extend(_feedback_cases(personas))
    result.extend(_registration_cases(personas))
    result.extend(_activity_cases(personas))
    return result


WISH_SECRET = "多福巷社区困难家庭心愿：轮椅一台"


def _wish_cases(personas) -> list[Case]:
    """微心愿 (views_wishes.py): an ordered wish of 多福巷社区 awaiting review, a posted one and one
    taken by the member, so a missing check would act on each."""
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.portal.models import ResidentAccount
    from zhouxin.volunteers import wishes

    a = personas.areas
    staff = personas.community_staff
    with scopes_disabled():
        account = ResidentAccount.objects.create(phone="13811112222", phone_index="outsiders-wish-orderer",
                                                 consent_version="2026-11", created_at=timezone.now(),
                                                 last_signed_in_at=timezone.now())
        ordered = wishes.wish_order(account=account, community=a["community_a"], title=WISH_SECRET,
                                    beneficiary="困难家庭", value=150)
        posted = wishes.wish_create(actor=staff, community=a["community_a"], title="一台收音机",
                                    beneficiary="独居老人", value=80)
        taken = wishes.wish_create(actor=staff, community=a["community_a"], title="一套绘本",
                                   beneficiary="困难家庭儿童", value=60)
        taker = ResidentAccount.objects.create(phone="13911113333", phone_index="outsiders-wish-taker",
                                               consent_version="2026-11", created_at=timezone.now(),
                                               last_signed_in_at=timezone.now())
        wishes.wish_take(account=taker, wish=taken)
    hidden = (WISH_SECRET,)
    out: list[Case] = []

    def add(name, url, personas_expected, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in personas_expected:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=hidden))

    no_view = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    add("volunteers:wish_board", reverse("volunteers:wish_board"),
        [*no_view, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200})),
         ("unit_liaison", frozenset({200}))])
    add("volunteers:wish_create", reverse("volunteers:wish_create"),
        [*no_view, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)])
    # Another district's staff cannot enter a wish for 多福巷: the community is not among their choices.
    out.append(Case("volunteers:wish_create", "outsider", reverse("volunteers:wish_create"), method="post",
                    data={"community": a["community_a"].pk, "title": "越权心愿", "beneficiary": "老人", "value": "10"},
                    expected=frozenset({422})))
    outsiders = [("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("grid_worker", FORBIDDEN),
                 ("resident", FORBIDDEN), ("member", FORBIDDEN), ("security_admin", FORBIDDEN)]
    # The liaison sees posted wishes of the unit's communities, never one still under review.
    add("volunteers:wish_detail", reverse("volunteers:wish_detail", args=[ordered.pk]),
        [*outsiders, ("unit_liaison", NOT_FOUND)])
    for name in ("volunteers:wish_post", "volunteers:wish_reject"):
        add(name, reverse(name, args=[ordered.pk]),
            [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)], method="post",
            data={"title": "越权下单", "beneficiary": "老人", "value": "10", "reason": "越权退回"})
    add("volunteers:wish_complete", reverse("volunteers:wish_complete", args=[taken.pk]),
        [*outsiders, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)], method="post")
    # Taking for a unit is the liaison's alone; area staff are refused.
    not_liaison = [(p, FORBIDDEN) for p in ("outsider", "community_staff_b", "community_staff", "street_hub",
                                            "district_admin", "grid_worker", "resident", "member", "security_admin")]
    add("volunteers:wish_take", reverse("volunteers:wish_take", args=[posted.pk]),
        not_liaison, method="post")
    # The member took it on the portal: the liaison does not find it, staff may not give it back.
    add("volunteers:wish_give_back", reverse("volunteers:wish_give_back", args=[taken.pk]),
        [*not_liaison, ("unit_liaison", NOT_FOUND)], method="post")
    return out


def _feedback_cases(personas) -> list[Case]:
    """单位反馈 and the dashboard (views_feedback.py): the hospital (多福巷社区) with its member
    周海燕 and a batch of letters on record (no file: nobody gets that far); staff of another street
    or district do not find the unit or its batches (404), roles without volunteers.feedback are
    refused (403)."""
    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.volunteers.models import FeedbackBatch

    a, o = personas.areas, personas.orgs
    unit = o["unit"]
    with scopes_disabled():
        batch = FeedbackBatch.objects.unscoped().create(
            unit=unit, kind="letter", period="2025", members=1, unregistered=0,
            pdf="volunteers/feedback/outsiders.pdf", xlsx="volunteers/feedback/outsiders.xlsx",
            pdf_sha256="0" * 64, generated_at=timezone.now())
    out: list[Case] = []

    def add(name, url, personas_expected, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in personas_expected:
            # The member's own name is in their page header; for everyone else it must not show.
            hidden = (unit.name,) if persona == "member" else (unit.name, personas.people["member_a"].name)
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=hidden))

    no_feedback = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                            "system_admin", "security_admin", "audit_admin")]
    add("volunteers:feedback_units", reverse("volunteers:feedback_units"),
        [*no_feedback, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))])
    outsiders = [*no_feedback, ("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND)]
    add("volunteers:feedback_unit", reverse("volunteers:feedback_unit", args=[unit.pk]), outsiders)
    add("volunteers:feedback_generate", reverse("volunteers:feedback_generate", args=[unit.pk]), outsiders,
        method="post", data={"kind": "letter", "period": "2025"})
    for name in ("volunteers:feedback_pdf", "volunteers:feedback_xlsx"):
        add(name, reverse(name, args=[batch.pk]), outsiders)
    no_view = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    add("volunteers:community_dashboard", reverse("volunteers:community_dashboard"), no_view)
    for persona in ("outsider", "community_staff_b", "unit_liaison"):
        out.append(Case("volunteers:community_dashboard", persona, reverse("volunteers:community_dashboard"),
                        expected=frozenset({200}), must_not_contain=(a["community_a"].name,)))
    return out


REGISTRATION_SKILLS = "报到特长：心理疏导（仅社区可见）"
REGISTRATION_UNIT = "北京市东城区第一人民医院"


def _registration_cases(personas) -> list[Case]:
    """双报到 registration (views_registration.py): the hospital's pending registration with
    多福巷社区 and its member 周海燕's pending registration with 银闸社区 (entered by 多福巷's staff,
    with skills that only those who see the registration may read):
    staff elsewhere do not find them, the liaison sees them but may not confirm, roles without
    the volunteers permissions are refused."""
    from django.urls import reverse

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.volunteers import registration

    a, o = personas.areas, personas.orgs
    with scopes_disabled():
        unit_reg = registration.unit_register(actor=personas.unit_liaison, unit=o["unit"], community=a["community_a"],
                                              contact_name="孙雅琴", services_offered="义诊")
        member_reg = registration.member_register_by_staff(actor=personas.community_staff,
                                                           person=personas.people["member_a"],
                                                           community=a["community_a2"],
                                                           skills=REGISTRATION_SKILLS)
    hidden = (REGISTRATION_SKILLS,)
    out: list[Case] = []

    def add(name, url, personas_expected, method="get", data=None, must_not_contain=hidden):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in personas_expected:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=must_not_contain))

    no_view = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    add("volunteers:registration_list", reverse("volunteers:registration_list"),
        [*no_view, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))])
    add("volunteers:registration_list", f"{reverse('volunteers:registration_list')}?kind=unit",
        [("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))],
        must_not_contain=(REGISTRATION_UNIT,))
    add("volunteers:member_register", reverse("volunteers:member_register"),
        [*no_view, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)])
    # Another street's staff cannot register 多福巷's member: the person is not among their choices.
    for persona in ("outsider", "community_staff_b"):
        out.append(Case("volunteers:member_register", persona, reverse("volunteers:member_register"),
                        method="post", data={"person": personas.people["member_a"].pk}, expected=frozenset({422})))
    outsiders = [("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("grid_worker", FORBIDDEN),
                 ("resident", FORBIDDEN), ("member", FORBIDDEN), ("security_admin", FORBIDDEN)]
    for decision in ("confirm", "decline", "end"):
        data = {"decision": decision, "note": "越权操作"}
        add("volunteers:member_registration_decide",
            reverse("volunteers:member_registration_decide", args=[member_reg.pk]),
            [*outsiders, ("community_staff", NOT_FOUND), ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)],
            method="post", data=data)
        add("volunteers:unit_registration_decide", reverse("volunteers:unit_registration_decide", args=[unit_reg.pk]),
            [*outsiders, ("district_admin", FORBIDDEN)]
            + ([("unit_liaison", FORBIDDEN)] if decision != "end" else []),
            method="post", data=data, must_not_contain=(REGISTRATION_UNIT,))
    add("volunteers:member_registration_decide",
        reverse("volunteers:member_registration_decide", args=[member_reg.pk]),
        [("unit_liaison", FORBIDDEN)], method="post", data={"decision": "renew"})
    add("volunteers:my_unit", reverse("volunteers:my_unit"),
        [*no_view, *[(p, FORBIDDEN) for p in ("outsider", "community_staff", "street_hub", "district_admin")]])
    add("volunteers:completion", reverse("volunteers:completion"),
        [*no_view, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))],
        must_not_contain=(REGISTRATION_UNIT,))
    add("volunteers:completion", f"{reverse('volunteers:completion')}?area={a['community_a'].code}",
        [("outsider", frozenset({200})), ("community_staff_b", frozenset({200}))],
        must_not_contain=(REGISTRATION_UNIT,))
    add("volunteers:completion_unit", reverse("volunteers:completion_unit", args=[o["unit"].pk]),
        [*no_view, ("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("unit_liaison", FORBIDDEN)])
    return out


ACTIVITY_SECRET = "多福巷社区志愿活动：独居老人入户探访"


def _activity_cases(personas) -> list[Case]:
    """志愿活动 (views_activities.py): a published activity of 多福巷社区 that is running now, with a
    resident's sign-up, so a missing check on any roster action would act."""
    import datetime as dt

    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.portal.models import ResidentAccount
    from zhouxin.volunteers import activities
    from zhouxin.volunteers.choices import ActivityCategory
    from zhouxin.volunteers.models import Activity

    a = personas.areas
    staff = personas.community_staff
    now = timezone.now()
    with scopes_disabled():
        activity = activities.activity_create(
            actor=staff, community=a["community_a"], title=ACTIVITY_SECRET, category=ActivityCategory.ELDERLY,
            place="多福巷 12 号", starts_at=now + dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=3), slots=5)
        activities.activity_publish(actor=staff, activity=activity)
        account = ResidentAccount.objects.create(phone="13822223333", phone_index="outsiders-activity-volunteer",
                                                 consent_version="2026-11", created_at=now, last_signed_in_at=now)
        signup = activities.signup(account=account, activity=activity)
        Activity.objects.unscoped().filter(pk=activity.pk).update(starts_at=now - dt.timedelta(hours=1),
                                                                 ends_at=now + dt.timedelta(hours=1))
    hidden = (ACTIVITY_SECRET,)
    out: list[Case] = []

    def add(name, url, personas_expected, method="get", data=None):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in personas_expected:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=hidden))

    no_view = [(p, FORBIDDEN) for p in ("grid_worker", "department_handler", "resident", "member",
                                        "system_admin", "security_admin", "audit_admin")]
    add("volunteers:activity_list", reverse("volunteers:activity_list"),
        [*no_view, ("outsider", frozenset({200})), ("community_staff_b", frozenset({200})),
         ("unit_liaison", frozenset({200}))])
    add("volunteers:activity_create", reverse("volunteers:activity_create"),
        [*no_view, ("unit_liaison", FORBIDDEN), ("district_admin", FORBIDDEN)])
    # Another district's staff cannot post for 多福巷: the community is not among their choices.
    out.append(Case("volunteers:activity_create", "outsider", reverse("volunteers:activity_create"), method="post",
                    data={"community": a["community_a"].pk, "title": "越权活动", "category": "elderly",
                          "place": "某处", "starts_at": "2030-01-01T09:00", "ends_at": "2030-01-01T11:00",
                          "slots": 3}, expected=frozenset({422})))
    outsiders = [("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("unit_liaison", NOT_FOUND),
                 *no_view]
    add("volunteers:activity_detail", reverse("volunteers:activity_detail", args=[activity.pk]), outsiders)
    managers_only = [("outsider", NOT_FOUND), ("community_staff_b", NOT_FOUND), ("unit_liaison", FORBIDDEN),
                     ("district_admin", FORBIDDEN), *no_view]
    for name in ("volunteers:activity_edit", "volunteers:activity_code", "volunteers:activity_code_json"):
        add(name, reverse(name, args=[activity.pk]), managers_only)
    for name, data in (("volunteers:activity_publish", None), ("volunteers:activity_cancel", {"reason": "越权取消"}),
                       ("volunteers:activity_finish", None), ("volunteers:activity_rotate_key", None),
                       ("volunteers:activity_edit", {"title": "越权修改"}),
                       ("volunteers:activity_signup_add", {"person": personas.people["member_a"].pk})):
        add(name, reverse(name, args=[activity.pk]), managers_only, method="post", data=data)
    for name in ("volunteers:activity_check_in", "volunteers:activity_check_out", "volunteers:activity_no_show"):
        add(name, reverse(name, args=[activity.pk, signup.pk]), managers_only, method="post")
    return out
