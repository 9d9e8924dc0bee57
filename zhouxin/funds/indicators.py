"""Funds execution as an indicator (core.indicators), computed from the funds and their ledgers.

funds.execution_rate: the money spent from the funds of the period's year up to the period's
end — the ledger's disbursements net of refunds recorded by then (as reports.py counts "spent")
— divided by those funds' budget (both kinds, every community of the area; a street or district
sums its communities' funds).  None when the area has no fund (or no budget) that year, so a
community without funds is "—", not 0 %.

Two grouped queries per level of the areas asked about, whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Sum
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.orgs.choices import AreaLevel

from .choices import EntryKind
from .ledger import money
from .models import Fund, LedgerEntry

DOMAIN = _("经费保障")
SPENDING = (EntryKind.DISBURSEMENT, EntryKind.REFUND)


def execution_rates(areas: Sequence, period: Period) -> dict[int, object]:
    year = period.start.year
    _start, end = period.bounds()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller (oversight, dashboards) has checked the areas' scope.
        budgets = {row["node"]: money(row["budget"]) for row in (
            Fund.objects.unscoped().filter(community__code__startswith=group.common, year=year)
            .annotate(node=Substr("community__code", 1, group.length)).values("node")
            .annotate(budget=Sum("budget")).order_by())}
        # Money out is negative in the ledger, refunds positive: spent = −(their sum).
        spent = {row["node"]: -money(row["total"]) for row in (
            LedgerEntry.objects.unscoped()
            .filter(fund__community__code__startswith=group.common, fund__year=year, kind__in=SPENDING,
                    recorded_at__lt=end)
            .annotate(node=Substr("fund__community__code", 1, group.length)).values("node")
            .annotate(total=Sum("amount")).order_by())}
        for code, budget in budgets.items():
            pk = group.ids.get(code)
            if pk is not None:
                out[pk] = indicators.share(spent.get(code, 0), budget)
    return out


def funds_link(area, period: Period) -> str | None:
    """A community's funds of the year; the funds overview of a street or district."""
    year = period.start.year
    if area.level == AreaLevel.COMMUNITY:
        return f"{reverse('funds:fund_list')}?{urlencode({'year': year, 'community': area.code})}"
    if area.level == AreaLevel.STREET:
        return f"{reverse('funds:dashboard')}?{urlencode({'year': year, 'street': area.code})}"
    if area.level == AreaLevel.DISTRICT:
        return f"{reverse('funds:dashboard')}?{urlencode({'year': year})}"
    return None


def register() -> None:
    indicators.register("funds.execution_rate", title=_("经费执行率"), unit=indicators.PERCENT, domain=DOMAIN,
                        compute=execution_rates, link=funds_link, order=50,
                        description=_("本年度经费截至统计期末的已支出金额（支出扣除退回）÷ 年度预算"))
