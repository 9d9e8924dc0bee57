"""The dashboard (数据驾驶舱): one page per area and period, drilling down city → district → street →
community.

    /analytics/?area=<code>&period=<key>

* The area defaults to the caller's top grant node (a district admin's district, a street hub's
  street, community staff's community, a city grant's city); one outside the caller's
  "analytics.view" grants, unknown, inactive or a grid is not found (404).  A role without
  "analytics.view" is refused (403).
* The period is a core.indicators.Period key ("2026-10", "2026-Q3", "2026"); a bad one gives a clear
  message and this month.
* The page shows every registered indicator for the area (each linking to its records), the children
  ranked by composite score with the three rates and volume (each row drilling down), a treemap of
  the children (size: volume, colour: composite), the 12-month trend and the category breakdown; a
  community also shows its star rating for the period and a button to generate the report.

Everything comes from roll-ups in a fixed number of queries (selectors.py).  ECharts draws the charts
from a json_script data island (static/zhouxin/analytics-dashboard.js; no inline script) and every
chart's numbers are in a table on the page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from zhouxin.core import indicators
from zhouxin.core.db_router import replica_reads
from zhouxin.core.decorators import staff_view
from zhouxin.core.indicators import Period
from zhouxin.core.permissions import can
from zhouxin.orgs.choices import AreaLevel
from zhouxin.oversight.models import Rating

from . import selectors

MAX_STARS = 5


def _period(request) -> tuple[Period, str]:
    raw = request.GET.get("period", "")
    if not raw:
        return selectors.default_period(), ""
    try:
        return Period.parse(raw), ""
    except ValidationError as exc:
        return selectors.default_period(), exc.messages[0]


def _url(name: str, **kwargs) -> str | None:
    """A URL another part of oversight provides, or None while it does not exist."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _here(code: str, period: Period) -> str:
    return f"{reverse('analytics:dashboard')}?area={code}&period={period.key}"


def _chart_data(ranking, points, categories, period: Period) -> dict:
    """What the charts draw (json_script): plain numbers, labels translated here."""
    return {
        "labels": {
            "composite": _("综合得分"), "response": _("响应率"), "resolution": _("解决率"),
            "satisfaction": _("满意率"), "volume": _("有效诉求量"), "percent": _("百分比"), "count": _("件"),
            "categories": _("类别分布"), "no_score": _("无评价"),
        },
        "ranking": [{"name": r.area.name, "code": r.area.code, "value": selectors.as_number(r.rates.composite),
                     "url": _here(r.area.code, period)} for r in ranking],
        "treemap": [{"name": r.area.name, "code": r.area.code, "value": r.volume,
                     "score": selectors.as_number(r.rates.composite), "url": _here(r.area.code, period)}
                    for r in ranking if r.volume > 0],
        "months": [f"{p.month:%Y-%m}" for p in points],
        "volume": [p.figures.received - p.figures.invalid for p in points],
        "response": [selectors.as_number(p.rates.response) for p in points],
        "resolution": [selectors.as_number(p.rates.resolution) for p in points],
        "satisfaction": [selectors.as_number(p.rates.satisfaction) for p in points],
        "composite": [selectors.as_number(p.rates.composite) for p in points],
        "categories": [{"name": c["name"], "value": c["value"]} for c in categories],
    }


def _community_panel(request, area, period: Period) -> dict | None:
    """A community's star rating of the period and the report button (each only where the URL exists)."""
    if area.level != AreaLevel.COMMUNITY:
        return None
    rating = (Rating.objects.filter(area=area, period=period.key)
              .only("id", "area_id", "period", "score", "stars", "rank", "rank_of", "peer_rank", "peer_count").first())
    stars = min(rating.stars, MAX_STARS) if rating else 0
    return {
        "rating": rating,
        "stars": [i < stars for i in range(MAX_STARS)],
        "rating_url": _url("oversight:rating_detail", code=area.code, period=period.key) if rating else None,
        "report_url": _url("oversight:report_create") if can(request.user, "oversight.report", area.code) else None,
    }


@require_GET
@staff_view(selectors.PERMISSION)
@replica_reads  # the figures may come from the read replica (zhouxin/core/db_router.py)
def dashboard(request):
    tops = selectors.top_areas(request.user)
    period, period_error = _period(request)
    code = request.GET.get("area") or (tops[0].code if tops else "")
    if not code:
        return render(request, "analytics/dashboard.html", {"area": None, "period": period,
                                                            "period_error": period_error})
    place = selectors.place_for(request.user, code)
    area = place.area
    w = selectors.weights_for(place, period)
    child_level = selectors.CHILD_LEVEL.get(area.level)
    kids = selectors.children(area)
    ranking = selectors.ranking(kids, period, w)
    months = selectors.trend_months(period)
    points = selectors.trend(area, months, w)
    categories = selectors.categories(area, period)
    trend_rows = [{"month": p.month, "volume": p.figures.received - p.figures.invalid,
                   "response": indicators.format_value(p.rates.response, indicators.PERCENT),
                   "resolution": indicators.format_value(p.rates.resolution, indicators.PERCENT),
                   "satisfaction": indicators.format_value(p.rates.satisfaction, indicators.PERCENT),
                   "composite": indicators.format_value(p.rates.composite, indicators.PERCENT)} for p in points]
    return render(request, "analytics/dashboard.html", {
        "area": area, "place": place, "period": period, "period_error": period_error,
        "periods": selectors.period_choices(period), "tops": tops if len(tops) > 1 else [],
        "headline": selectors.headline(area, period),
        "child_level": child_level,
        "child_level_label": AreaLevel(child_level).label if child_level else "",
        "ranking": ranking, "trend_rows": trend_rows, "categories": categories,
        "has_categories": selectors.has_categories(area),
        "first_month": months[0], "last_month": months[-1],
        "has_treemap": any(r.volume > 0 for r in ranking),
        "data": _chart_data(ranking, points, categories, period),
        "community": _community_panel(request, area, period),
    })
