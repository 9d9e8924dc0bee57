"""The three rates and request volume as indicators (core.indicators), read from the roll-ups.

Communities and streets read their own roll-up rows; a district sums its streets' rows and a
city its districts' (the street rows hold every request of the street, filed on a community or
not).  One query per level asked about, whatever the number of areas or months.  The weights
(partly resolved, basically satisfied, composite) are the `dispatch.rates` rule of the areas'
city in force on the period's last day (today for a period not yet over), as on the rankings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import rates
from .models import Rollup
from .rollups import COUNTER_FIELDS

DOMAIN = _("接诉即办")


def _city_id(areas: Sequence[Area]) -> int | None:
    code = areas[0].code[:4]
    return Area.objects.unscoped().filter(code=code, level=AreaLevel.CITY).values_list("id", flat=True).first()


def figures(areas: Sequence[Area], period: Period) -> dict[int, rates.Figures]:
    """The summed roll-up counters of each area over the period's months."""
    months = period.months()
    by_level: dict[str, list[int]] = defaultdict(list)
    for area in areas:
        by_level[area.level].append(area.pk)
    sums = {name: Sum(name) for name in COUNTER_FIELDS}
    out: dict[int, rates.Figures] = {}
    base = Rollup.objects.unscoped().filter(month__in=months)
    for level, ids in by_level.items():
        if level in (AreaLevel.COMMUNITY, AreaLevel.STREET):
            rows = base.filter(area_id__in=ids).values("area_id").annotate(**sums).values("area_id", *COUNTER_FIELDS)
            key = "area_id"
        elif level == AreaLevel.DISTRICT:
            rows = (base.filter(district_id__in=ids, area__level=AreaLevel.STREET).values("district_id")
                    .annotate(**sums).values("district_id", *COUNTER_FIELDS))
            key = "district_id"
        elif level == AreaLevel.CITY:
            # Through the street's own parents (street → district → city): the planner then reads the
            # month's rows by the (month, area) index instead of scanning every district's rows.
            rows = (base.filter(area__parent__parent_id__in=ids, area__level=AreaLevel.STREET)
                    .values("area__parent__parent_id").annotate(**sums)
                    .values("area__parent__parent_id", *COUNTER_FIELDS))
            key = "area__parent__parent_id"
        else:
            continue
        for row in rows:
            out[row[key]] = rates.Figures.of(row)
    return out


def _rates(areas: Sequence[Area], period: Period) -> dict[int, rates.Rates]:
    on = min(period.end, timezone.localdate())
    w = rates.weights(city=_city_id(areas), on=on)
    return {pk: rates.rates_of(f, w) for pk, f in figures(areas, period).items()}


def _rate(attribute: str):
    def compute(areas: Sequence[Area], period: Period):
        return {pk: getattr(r, attribute) for pk, r in _rates(areas, period).items()}
    return compute


def _received(areas: Sequence[Area], period: Period):
    return {pk: f.received - f.invalid for pk, f in figures(areas, period).items()}


def _overdue(areas: Sequence[Area], period: Period):
    return {pk: f.overdue for pk, f in figures(areas, period).items()}


def rankings_link(area: Area, period: Period) -> str | None:
    """The rankings (communities of a street, streets of a district) or the trend of the area."""
    month = period.months()[-1]
    if month > timezone.localdate():
        month = timezone.localdate().replace(day=1)
    key = f"{month:%Y-%m}"
    if area.level == AreaLevel.COMMUNITY:
        query = {"tab": "communities", "street": area.code[:9], "month": key}
        return f"{reverse('dispatch:rankings')}?{urlencode(query)}"
    if area.level == AreaLevel.STREET:
        query = {"tab": "streets", "month": key, "district": area.code[:6]}
        return f"{reverse('dispatch:rankings')}?{urlencode(query)}"
    if area.level == AreaLevel.DISTRICT:
        return f"{reverse('dispatch:trends')}?{urlencode({'area': area.code})}"
    return None


def trend_link(area: Area, period: Period) -> str | None:
    if area.level not in (AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT):
        return None
    return f"{reverse('dispatch:trends')}?{urlencode({'area': area.code})}"


def register() -> None:
    common = {"domain": DOMAIN}
    indicators.register("dispatch.response_rate", title=_("响应率"), unit=indicators.PERCENT,
                        compute=_rate("response"), link=rankings_link, order=10,
                        description=_("按时联系诉求人的诉求 ÷ 应联系的诉求"), **common)
    indicators.register("dispatch.resolution_rate", title=_("解决率"), unit=indicators.PERCENT,
                        compute=_rate("resolution"), link=rankings_link, order=11,
                        description=_("（已解决 + 部分解决 × 权重）÷ 回访的诉求"), **common)
    indicators.register("dispatch.satisfaction_rate", title=_("满意率"), unit=indicators.PERCENT,
                        compute=_rate("satisfaction"), link=rankings_link, order=12,
                        description=_("（满意 + 基本满意 × 权重）÷ 作出评价的诉求"), **common)
    indicators.register("dispatch.composite", title=_("三率综合得分"), unit=indicators.PERCENT,
                        compute=_rate("composite"), link=rankings_link, order=13,
                        description=_("响应率、解决率、满意率按权重合成"), **common)
    indicators.register("dispatch.received", title=_("有效诉求量"), unit=indicators.COUNT,
                        compute=_received, link=trend_link, order=14, higher_is_better=False,
                        description=_("受理的诉求（不含无效诉求）"), **common)
    indicators.register("dispatch.overdue", title=_("超时办理量"), unit=indicators.COUNT,
                        compute=_overdue, link=trend_link, order=15, higher_is_better=False,
                        description=_("超过办理时限的诉求"), **common)

