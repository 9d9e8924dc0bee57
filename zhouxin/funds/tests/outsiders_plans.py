"""Outsider cases of the spending-plan pages (views_plans.py): a plan of 景山街道's 吉祥社区 is not
found (404) by the hub of 东华门街道, by the staff of 多福巷社区 or by a 西城区 community's staff;
roles without "funds.view" (residents, unit liaisons, grid workers, …) are refused (403), as is
an area staff member without the permission an action needs; anonymous visitors are sent to
sign in.  The plan's title never shows in a refused answer."""

from __future__ import annotations

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
SECRET = "景山保密支出计划"

NO_FUNDS_ROLE = ("grid_worker", "department_handler", "unit_liaison", "resident", "member", "system_admin",
                 "security_admin", "audit_admin")
OTHER_AREA = ("street_hub", "community_staff", "outsider")


def _plan_b(personas):
    """A plan of 吉祥社区 with a deliberation record (with an attachment) and a voucher.  The rows
    behind the files are written directly: every refused request is turned away before a file
    is opened, so no file is stored."""
    import datetime as dt
    from decimal import Decimal

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.funds import funds, plans
    from zhouxin.funds.choices import DeliberationStep, FundKind, VoucherKind
    from zhouxin.funds.models import Deliberation, Fund, Voucher

    community = personas.areas["community_b"]
    year = timezone.localdate().year
    with scopes_disabled():
        try:
            fund = funds.fund_create(actor=personas.district_admin, community=community, year=year,
                                     kind=FundKind.WORKING, sources={"district": Decimal("20000.00")})
        except ValidationError:  # another part's cases set it up already
            fund = Fund.objects.unscoped().filter(community=community, balance__gte=Decimal("1000.00")).first()
        plan = plans.plan_propose(actor=personas.community_staff_b, fund=fund, title=SECRET, purpose="健身器材维修",
                                  category="公共设施小修", amount=Decimal("1000.00"))
        sheet = Deliberation.objects.unscoped().create(
            plan=plan, step=DeliberationStep.PARTY_PROPOSAL, held_on=timezone.localdate() - dt.timedelta(days=1),
            due=7, present=7, votes_for=7, passed=True, attachment="funds/minutes/outsider-case.pdf",
            recorded_by=personas.community_staff_b)
        voucher = Voucher.objects.unscoped().create(
            plan=plan, kind=VoucherKind.INVOICE, file="funds/vouchers/outsider-case.pdf", original_name="发票.pdf",
            content_type="application/pdf", size=1, sha256="0" * 64, recorded_by=personas.community_staff_b)
    return plan, sheet, voucher


def cases(personas) -> list[Case]:
    from django.urls import reverse

    plan, sheet, voucher = _plan_b(personas)
    out: list[Case] = []

    def add(name, url, *, method="get", data=None, extra=()):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona in NO_FUNDS_ROLE:
            out.append(Case(name, persona, url, method=method, data=data, expected=FORBIDDEN,
                            must_not_contain=(SECRET,)))
        for persona, expected in extra:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=(SECRET,)))

    other_area = [(p, NOT_FOUND) for p in OTHER_AREA]

    # The list: no role → 403; another area's staff do not see the plan; naming 吉祥社区 is 404.
    plans_url = reverse("funds:plan_list")
    add("funds:plan_list", plans_url, extra=[(p, frozenset({200})) for p in OTHER_AREA])
    code_b = personas.areas["community_b"].code
    add("funds:plan_list", f"{plans_url}?community={code_b}", extra=other_area)

    # Proposing: only community staff; a fund of another community is not offered (form error, 422).
    create_url = reverse("funds:plan_create")
    add("funds:plan_create", create_url, extra=[("street_hub", FORBIDDEN), ("district_admin", FORBIDDEN)])
    add("funds:plan_create", create_url, method="post",
        data={"fund": plan.fund_id, "title": "越权计划", "category": "公共设施小修", "amount": "100", "purpose": "x"},
        extra=[("street_hub", FORBIDDEN), ("district_admin", FORBIDDEN), ("community_staff", frozenset({422})),
               ("outsider", frozenset({422}))])

    add("funds:plan_detail", reverse("funds:plan_detail", args=[plan.pk]), extra=other_area)
    add("funds:plan_voucher", reverse("funds:plan_voucher", args=[plan.pk, voucher.pk]), extra=other_area)
    add("funds:plan_minutes", reverse("funds:plan_minutes", args=[plan.pk, sheet.pk]), extra=other_area)

    # Actions: another area's staff → 404; staff of the area without the action's permission → 403.
    community_only = [("district_admin", FORBIDDEN)]
    street_only = [("district_admin", FORBIDDEN), ("community_staff_b", FORBIDDEN)]
    actions = [
        ("funds:plan_deliberate", {"d-step": "joint_discussion", "d-held_on": "2026-01-01", "d-due": 9,
                                   "d-present": 9, "d-votes_for": 9}, community_only),
        ("funds:plan_submit", {}, community_only),
        ("funds:plan_review", {"r-decision": "approve", "r-note": "同意"}, street_only),
        ("funds:plan_disburse", {"p-amount": "1000.00", "p-payee": "某公司"}, street_only),
        ("funds:plan_voucher_add", {"v-kind": "invoice"}, community_only),
        ("funds:plan_accept", {"a-note": "合格", "a-participants": "两委"}, community_only),
        ("funds:plan_file", {}, community_only),
        ("funds:plan_withdraw", {"w-reason": "越权撤回"}, community_only),
    ]
    for name, data, refused in actions:
        add(name, reverse(name, args=[plan.pk]), method="post", data=data, extra=[*other_area, *refused])
    return out
