"""Funds data for the disclosure tests (三务公开) and the portal's personal-data scan, built through
the services: a fund (funds.fund_create), a plan taken through 四议两公开 to its result notice
(plans.py: the decision and the result are published on the way), and a small plan paid out
without deliberation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import funds, plans
from zhouxin.funds.choices import DeliberationStep, FundKind, VoucherKind
from zhouxin.funds.models import Disclosure, Fund, SpendingPlan

D = Decimal
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PAYEE = "北京市东城区某某物业服务有限公司"
SMALL_PAYEE = "北京某某灯具商店"
PASSING = [
    (DeliberationStep.PARTY_PROPOSAL, {"due": 7, "present": 7, "votes_for": 7}),
    (DeliberationStep.JOINT_DISCUSSION, {"due": 11, "present": 10, "votes_for": 9, "votes_against": 1}),
    (DeliberationStep.MEMBERS_REVIEW, {"due": 30, "present": 24, "votes_for": 20, "votes_against": 2, "abstained": 2}),
    (DeliberationStep.RESIDENTS_DECISION, {"due": 50, "present": 40, "votes_for": 35, "votes_against": 3,
                                           "abstained": 2}),
]
# Written into the minutes and the acceptance: names that must never reach a disclosure.
MINUTES = "主持人张丽华，记录人李淑珍，居民代表吴桂兰（13812341234）发言"
PARTICIPANTS = "张丽华、李淑珍、居民代表吴桂兰"


@dataclass
class FundsWorld:
    fund: Fund
    plan: SpendingPlan  # through 四议两公开 to its result notice
    small: SpendingPlan  # below the threshold, approved and paid
    decision: Disclosure
    result: Disclosure


def pdf(name="发票.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def make_fund(personas, area="community_a", *, year=None, sources=None) -> Fund:
    with scopes_disabled():
        return funds.fund_create(actor=personas.street_hub if area.startswith("community_a") else
                                 personas.district_admin, community=personas.areas[area],
                                 year=year or timezone.localdate().year, kind=FundKind.SERVICE,
                                 sources=sources or {"city": D("100000.00"), "district": D("100000.00")})


def propose(personas, fund, *, title="楼院环境整治", amount="30000.00", category="社区环境整治", purpose=None,
            beneficiaries="多福巷 3 号院居民", implementer=PAYEE, actor="community_staff"):
    with scopes_disabled():
        return plans.plan_propose(actor=personas.users[actor], fund=fund, title=title,
                                  purpose=purpose or "清理楼道堆物，修补破损地面，更换院内照明", category=category,
                                  amount=D(amount), beneficiaries=beneficiaries, implementer=implementer)


def deliberate(personas, plan, *, actor="community_staff", upto=None, held_on=None):
    day = held_on or timezone.localdate()
    with scopes_disabled():
        for step, figures in PASSING:
            if step == upto:
                return
            plans.deliberation_record(actor=personas.users[actor], plan=plan, step=step, held_on=day,
                                      minutes=MINUTES, **figures)


def approve(personas, plan, *, actor="community_staff", hub="street_hub"):
    with scopes_disabled():
        plans.plan_submit(actor=personas.users[actor], plan=plan)
        plans.plan_review(actor=personas.users[hub], plan=plan, approve=True, note="同意")


def pay(personas, plan, *, payee=PAYEE, hub="street_hub", amount=None):
    with scopes_disabled():
        return plans.plan_disburse(actor=personas.users[hub], plan=plan, amount=amount or plan.amount, payee=payee)


def accept(personas, plan, *, actor="community_staff"):
    with scopes_disabled():
        plans.voucher_add(actor=personas.users[actor], plan=plan, kind=VoucherKind.INVOICE, upload=pdf(),
                          number="No.00012345", amount=plan.amount, issuer=PAYEE)
        plans.voucher_add(actor=personas.users[actor], plan=plan, kind=VoucherKind.PHOTO, upload=pdf("照片.pdf"))
        plans.plan_accept(actor=personas.users[actor], plan=plan, note="工程按计划完成，居民代表现场验收合格",
                          participants=PARTICIPANTS)


def build(personas, area="community_a", *, actor="community_staff", hub="street_hub") -> FundsWorld:
    """A community's fund with a plan at its result notice and a small paid plan."""
    fund = make_fund(personas, area)
    plan = propose(personas, fund, actor=actor)
    deliberate(personas, plan, actor=actor)
    approve(personas, plan, actor=actor, hub=hub)
    pay(personas, plan, hub=hub)
    accept(personas, plan, actor=actor)
    small = propose(personas, fund, title="楼道灯具更换", amount="3200.00", category="公共设施小修", actor=actor,
                    implementer="", beneficiaries="")
    approve(personas, small, actor=actor, hub=hub)
    pay(personas, small, payee=SMALL_PAYEE, hub=hub)
    with scopes_disabled():
        decision = Disclosure.objects.unscoped().get(plan=plan, topic="decision")
        result = Disclosure.objects.unscoped().get(plan=plan, topic="result")
        for row in (plan, small, fund):
            row.refresh_from_db()
    return FundsWorld(fund=fund, plan=plan, small=small, decision=decision, result=result)


def day(offset: int = 0) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=offset)


def this_quarter() -> tuple[int, int]:
    today = timezone.localdate()
    return today.year, (today.month - 1) // 3 + 1


def after_quarter() -> dt.date:
    """The first day after this quarter: when this quarter's 季度公开 may be published."""
    from zhouxin.funds.disclosures import quarter_period

    return quarter_period(*this_quarter())[1] + dt.timedelta(days=1)
