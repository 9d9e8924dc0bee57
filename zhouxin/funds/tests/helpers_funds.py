"""Small builders shared by the funds tests of funds, ledger and reports (helper B's part)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import funds, ledger
from zhouxin.funds.choices import EntryKind, FundKind, PlanStatus
from zhouxin.funds.models import SpendingPlan

D = Decimal
PLAN_AMOUNT = Decimal("8000.00")


def make_fund(personas, area="community_a", *, actor="street_hub", year=None, kind=FundKind.SERVICE,
              sources=None):
    """A fund set up through the service (city and district 1:1 unless told)."""
    sources = sources or {"city": D("100000.00"), "district": D("100000.00")}
    with scopes_disabled():
        return funds.fund_create(actor=personas.users[actor], community=personas.areas[area],
                                 year=year or timezone.localdate().year, kind=kind, sources=sources)


_numbers = iter(range(1, 10_000))


def make_plan(personas, fund, *, title="楼道照明改造", category="公共设施小修", amount=PLAN_AMOUNT,
              status=PlanStatus.APPROVED):
    """A plan row written directly (the plan workflow is tested with plans.py): what the ledger and
    the reports need of it."""
    with scopes_disabled():
        return SpendingPlan.objects.unscoped().create(
            community=fund.community, fund=fund, number=f"JFTEST{next(_numbers):05d}", title=title,
            purpose="测试用途", category=category, category_label=category, amount=amount, status=status,
            threshold=D("10000.00"), proposed_by=personas.community_staff, proposed_at=timezone.now())


def disburse(personas, fund, plan, amount, *, payee="北京市某某照明工程有限公司"):
    """Money out of the fund for a plan, through the ledger (and the plan's disbursed figure)."""
    with scopes_disabled():
        entry = ledger.post(actor=personas.street_hub, fund=fund, kind=EntryKind.DISBURSEMENT, amount=-D(amount),
                            memo=f"{plan.title}拨付", plan=plan, payee=payee)
        SpendingPlan.objects.unscoped().filter(pk=plan.pk).update(disbursed=plan.disbursed + D(amount))
        plan.refresh_from_db()
    return entry
