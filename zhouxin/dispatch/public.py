"""The dispatch section of a community's public page (core.public_sections): the community's
request volume month by month and its three rates over the last twelve months, and the
categories residents of its street ask about most — read from the roll-ups only.

Nothing personal and no request text: counts and rates.  A rate is shown only when its
denominator has at least MIN_SAMPLE requests, so that one identifiable resident's answer
("the one complaint about the boiler was not resolved") cannot be read off a public page.
"""

from __future__ import annotations

from django.db.models import Sum
from django.utils import timezone

from zhouxin.orgs.choices import AreaLevel

from . import rates
from .models import CategoryRollup, Rollup
from .rollups import COUNTER_FIELDS

MONTHS = 12
MIN_SAMPLE = 5
TOP_CATEGORIES = 5


def _rate(value, denominator: int) -> str:
    return rates.percent(value) if denominator >= MIN_SAMPLE else rates.DASH


def community_figures(area) -> dict | None:
    """Context of dispatch/_public_section.html for a community (None for other levels).
    At most four queries: the community's roll-ups, the street's category roll-ups, the city
    and its rate weights (cached for 30 s by the policy store)."""
    if area.level != AreaLevel.COMMUNITY:
        return None
    last = timezone.localdate().replace(day=1)
    months = [rates.add_months(last, -n) for n in range(MONTHS - 1, -1, -1)]
    rows = {row["month"]: rates.Figures.of(row) for row in
            Rollup.objects.unscoped().filter(area_id=area.pk, month__in=months).values("month", *COUNTER_FIELDS)}
    total = sum((rows.get(m, rates.Figures()) for m in months), rates.Figures())
    weights = rates.weights(city=_city_id(area), on=timezone.localdate())
    shown = rates.rates_of(total, weights)
    street_code = area.code[:9]
    categories = list(
        CategoryRollup.objects.unscoped()
        .filter(street__code=street_code, month__in=months)
        .values("category__name").annotate(total=Sum("received")).filter(total__gt=0)
        .order_by("-total", "category__code")[:TOP_CATEGORIES])
    return {
        "months": [{"month": m, "received": rows.get(m, rates.Figures()).received} for m in months],
        "received": total.received,
        "closed": total.closed,
        "response": _rate(shown.response, total.response_due),
        "resolution": _rate(shown.resolution, total.callbacks),
        "satisfaction": _rate(shown.satisfaction, total.evaluated),
        "min_sample": MIN_SAMPLE,
        "categories": [{"name": c["category__name"], "total": c["total"]} for c in categories],
        "first_month": months[0],
        "last_month": months[-1],
    }


def _city_id(area) -> int | None:
    from zhouxin.orgs.models import Area

    return Area.objects.unscoped().filter(code=area.code[:4]).values_list("pk", flat=True).first()
