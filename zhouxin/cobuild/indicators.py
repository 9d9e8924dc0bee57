"""Co-building figures as indicators (core.indicators), computed from the three lists.

* cobuild.needs_matched_rate: of the needs posted in the period in the area (a street: its own
  needs and its communities'), the share matched to a resource — a claim confirmed by the street
  or community, so the need is now confirmed, in a project or met (services.claim_confirm,
  project_create_from_claim, delivery.project_complete; a declined, withdrawn or cancelled match
  sends the need back to "open").  None when no need was posted.
* cobuild.projects_done: co-building projects of the area completed (结项) in the period.

One grouped query per level of the areas asked about, whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period

from .choices import NeedStatus, ProjectStatus
from .models import Need, Project

DOMAIN = _("区域化党建")
MATCHED = (NeedStatus.CONFIRMED, NeedStatus.IN_PROJECT, NeedStatus.MET)


def needs_matched_rates(areas: Sequence, period: Period) -> dict[int, object]:
    start, end = period.bounds()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller (oversight, dashboards) has checked the areas' scope.
        rows = (Need.objects.unscoped()
                .filter(area__code__startswith=group.common, created_at__gte=start, created_at__lt=end)
                .annotate(node=Substr("area__code", 1, group.length)).values("node")
                .annotate(posted=Count("pk"), matched=Count("pk", filter=Q(status__in=MATCHED))).order_by())
        for row in rows:
            pk = group.ids.get(row["node"])
            if pk is not None:
                out[pk] = indicators.share(row["matched"], row["posted"])
    return out


def projects_done(areas: Sequence, period: Period) -> dict[int, object]:
    start, end = period.bounds()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        found = {}
        # Unscoped on purpose: the caller has checked the areas' scope.
        rows = (Project.objects.unscoped()
                .filter(area__code__startswith=group.common, status=ProjectStatus.COMPLETED,
                        completed_at__gte=start, completed_at__lt=end)
                .annotate(node=Substr("area__code", 1, group.length)).values("node")
                .annotate(n=Count("pk")).order_by())
        for row in rows:
            found[row["node"]] = row["n"]
        # An area with no project completed did complete 0: a figure, not a gap.
        for code, pk in group.ids.items():
            out[pk] = found.get(code, 0)
    return out


def needs_link(area, period: Period) -> str | None:
    """The needs list (it has no area filter: staff see the needs of their own areas)."""
    return reverse("cobuild:need_list")


def projects_link(area, period: Period) -> str | None:
    return reverse("cobuild:project_list")


def register() -> None:
    common = {"domain": DOMAIN}
    indicators.register("cobuild.needs_matched_rate", title=_("需求对接率"), unit=indicators.PERCENT,
                        compute=needs_matched_rates, link=needs_link, order=30,
                        description=_("统计期内发布的需求中已对接资源（认领已确认、立项或已满足）的比例"), **common)
    indicators.register("cobuild.projects_done", title=_("完成共建项目"), unit=indicators.COUNT,
                        compute=projects_done, link=projects_link, order=31,
                        description=_("统计期内结项的共建项目数"), **common)
