"""Centre figures as indicators (core.indicators), computed by utilisation.report.

* centers.utilisation: booked hours ÷ open hours of the bookable rooms of the area's active
  centres (a street: its own centre and its communities' centres) over the period's days up to
  today — utilisation.py's occupancy, as a fraction.  None when the centres' rooms were never
  open (no bookable room, or closed throughout).
* centers.checkins: people checked in at the events of those centres that started in the period
  (utilisation.py's attendance).

An area without an active centre has no figure.  All the areas' centres go into one
utilisation.report, so the number of queries is fixed whatever the number of areas.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import or_
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.orgs.choices import AreaLevel

from . import utilisation
from .models import Centre

DOMAIN = _("党群服务中心")


def _figures(areas: Sequence, period: Period) -> dict[int, utilisation.Figures]:
    """The summed figures of each area's active centres over the period's days up to today."""
    last = min(period.end, timezone.localdate())
    groups = indicators.code_groups(areas)
    if last < period.start or not groups:
        return {}
    # Unscoped on purpose: the caller (oversight, dashboards) has checked the areas' scope.
    centres = list(Centre.objects.unscoped()
                   .filter(reduce(or_, (Q(area__code__startswith=g.common) for g in groups)), is_active=True)
                   .select_related("area").order_by("pk"))
    report = utilisation.report(centres, period.start, last)
    out: dict[int, utilisation.Figures] = {}
    for figures in report.centres:
        code = figures.centre.area.code
        for group in groups:
            pk = group.ids.get(code[:group.length])
            if pk is not None:
                out.setdefault(pk, utilisation.Figures()).add(figures)
    return out


def utilisation_rates(areas: Sequence, period: Period) -> dict[int, object]:
    return {pk: indicators.share(f.booked_seconds, f.open_seconds) for pk, f in _figures(areas, period).items()}


def checkins(areas: Sequence, period: Period) -> dict[int, object]:
    return {pk: f.attendance for pk, f in _figures(areas, period).items()}


def _dashboard_period(period: Period) -> str:
    """The dashboards' nearest period: this month, last month, or the last twelve months."""
    this_month = Period.of(indicators.MONTH, timezone.localdate())
    if period == this_month:
        return "this_month"
    if period == this_month.previous():
        return "last_month"
    return "last_12_months"


def dashboard_link(area, period: Period) -> str | None:
    """The utilisation dashboard of the community, or of the street (a district picks its street there)."""
    query = {"period": _dashboard_period(period)}
    if area.level == AreaLevel.COMMUNITY:
        return f"{reverse('centers:dashboard_community')}?{urlencode({'community': area.code, **query})}"
    if area.level == AreaLevel.STREET:
        return f"{reverse('centers:dashboard_street')}?{urlencode({'street': area.code, **query})}"
    if area.level == AreaLevel.DISTRICT:
        return f"{reverse('centers:dashboard_street')}?{urlencode(query)}"
    return None


def register() -> None:
    common = {"domain": DOMAIN, "link": dashboard_link}
    indicators.register("centers.utilisation", title=_("场地使用率"), unit=indicators.PERCENT,
                        compute=utilisation_rates, order=60,
                        description=_("服务中心可预约场地的已预约时长 ÷ 开放时长"), **common)
    indicators.register("centers.checkins", title=_("活动签到人次"), unit=indicators.COUNT,
                        compute=checkins, order=61,
                        description=_("统计期内服务中心活动的签到人次"), **common)
