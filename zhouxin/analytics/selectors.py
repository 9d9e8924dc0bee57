"""Reads of the dashboard (数据驾驶舱): which areas a user may open, and the figures of one area and
period, from the roll-ups only.

Everything here costs a fixed number of queries whatever the number of children (7,535 communities
in a city) and of months:
  * the headline figures are the indicator registry's (core.indicators.compute_many for one area:
    each domain's compute runs a fixed number of queries);
  * the children's three rates and volume are dispatch's summed roll-up counters
    (dispatch.indicators.figures: one query for all children);
  * the 12-month trend is dispatch.rates.trend for a district, street or community (one query), and
    for a city (or a province) one GROUP BY month over its streets' roll-up rows;
  * the category breakdown is dispatch.rates.category_breakdown for a district or street (one query),
    and for a city one GROUP BY category over its districts' category roll-up rows (and one for the
    categories' names).
The city-level trend and breakdown read dispatch's roll-up tables directly because dispatch.rates has
no subject wider than a district; nothing here ever reads a request.

Scope: "analytics.view" grants (district admin, street hub, community staff) reach their node's
subtree.  An area outside it is not found (404); the roll-ups are read unscoped and bounded here,
explicitly, by the area the caller may open (as dispatch.rates does with its Viewer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.indicators import Period
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch import indicators as dispatch_indicators
from zhouxin.dispatch import rates
from zhouxin.orgs.choices import CODE_LENGTH, AreaLevel
from zhouxin.orgs.models import Area

PERMISSION = "analytics.view"
TREND_MONTHS = 12
# The levels a dashboard shows, and whose children it ranks.
LEVELS = (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
CHILD_LEVEL = {
    AreaLevel.PROVINCE: AreaLevel.CITY,
    AreaLevel.CITY: AreaLevel.DISTRICT,
    AreaLevel.DISTRICT: AreaLevel.STREET,
    AreaLevel.STREET: AreaLevel.COMMUNITY,
}
# The indicator names of dispatch the ranking shows (registered by zhouxin.dispatch).
COMPOSITE = "dispatch.composite"


# --- Who may open what ----------------------------------------------------------------------

def prefixes(user) -> tuple[str, ...]:
    """The area codes whose subtrees the user's "analytics.view" grants reach (shortest first)."""
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(PERMISSION))


def top_areas(user) -> list[Area]:
    """The user's top nodes (one per grant not below another), the ones a dashboard shows.  One query."""
    codes = prefixes(user)
    if not codes:
        return []
    return list(Area.objects.unscoped().filter(code__in=codes, level__in=LEVELS, is_active=True).order_by("code"))


def ancestor_codes(code: str) -> list[str]:
    """The codes of the province, city, district and street above `code` (short to long)."""
    return [code[:n] for n in sorted(CODE_LENGTH.values()) if n < len(code)]


@dataclass
class Place:
    """The area a dashboard shows, where it sits, and how far up the caller may go."""

    area: Area
    ancestors: list[Area]  # every ancestor found, from the top of the tree down
    crumbs: list[Area]  # the ancestors the caller may open (from their top node down)

    @property
    def city_id(self) -> int | None:
        """The city whose rules (dispatch.rates weights) apply."""
        if self.area.level == AreaLevel.CITY:
            return self.area.pk
        return next((a.pk for a in self.ancestors if a.level == AreaLevel.CITY), None)


def place_for(user, code: str) -> Place:
    """The area `code` with its ancestors, or Http404 when the caller's grants do not reach it, it does
    not exist, is inactive, or is not a level with a dashboard (a grid).  One query."""
    code = (code or "").strip()
    allowed = prefixes(user)
    if not (code.isdigit() and len(code) <= 15) or not any(code.startswith(p) for p in allowed):
        raise Http404
    found = {a.code: a for a in Area.objects.unscoped().filter(code__in=[*ancestor_codes(code), code])}
    area = found.get(code)
    if area is None or not area.is_active or area.level not in LEVELS:
        raise Http404
    ancestors = [found[c] for c in ancestor_codes(code) if c in found]
    crumbs = [a for a in ancestors if any(a.code.startswith(p) for p in allowed)]
    return Place(area=area, ancestors=ancestors, crumbs=crumbs)


# --- Periods and months ----------------------------------------------------------------------

def default_period() -> Period:
    return Period.of(indicators.MONTH, timezone.localdate())


def period_choices(current: Period) -> list[tuple[str, list[Period]]]:
    """The periods offered in the chooser: the last 12 months, 4 quarters and 3 years (and the one
    shown, if it is none of those)."""
    today = timezone.localdate()
    month = rates.this_month()
    months = [Period.of(indicators.MONTH, rates.add_months(month, -n)) for n in range(12)]
    quarters, day = [], today
    for _ in range(4):
        quarters.append(Period.of(indicators.QUARTER, day))
        day = quarters[-1].start - dt.timedelta(days=1)
    years = [Period.year(today.year - n) for n in range(3)]
    groups = {indicators.MONTH: months, indicators.QUARTER: quarters, indicators.YEAR: years}
    if current not in groups[current.kind]:
        groups[current.kind] = sorted([*groups[current.kind], current], reverse=True)
    return [(str(indicators.PERIOD_KINDS[kind]), items) for kind, items in groups.items()]


def trend_months(period: Period) -> list[dt.date]:
    """The 12 months ending with the period's last month (not later than this month, unless the
    whole period lies ahead)."""
    last = period.months()[-1]
    now = rates.this_month()
    if period.start <= timezone.localdate() and last > now:
        last = now
    return [rates.add_months(last, n) for n in range(-(TREND_MONTHS - 1), 1)]


def weights_for(place: Place, period: Period) -> rates.Weights:
    """The `dispatch.rates` rule of the area's city in force on the period's last day (today for a
    period not yet over), as the dispatch indicators use it."""
    return rates.weights(city=place.city_id, on=min(period.end, timezone.localdate()))


# --- Headline figures -----------------------------------------------------------------------

@dataclass
class Headline:
    indicator: indicators.Indicator
    value: indicators.Value
    link: str | None

    @property
    def text(self) -> str:
        return self.indicator.format(self.value)

    @property
    def suffix(self) -> str:
        """The unit shown after the figure (a percentage carries its own sign; a count none)."""
        if self.value is None or self.indicator.unit in (indicators.PERCENT, indicators.COUNT):
            return ""
        return self.indicator.unit_label


@dataclass
class HeadlineGroup:
    domain: str
    items: list[Headline] = field(default_factory=list)


def headline(area: Area, period: Period) -> list[HeadlineGroup]:
    """Every registered indicator for the area and period, grouped by domain in the registry's order,
    each with the link to its records."""
    values = indicators.compute_many(None, [area], period)
    groups: dict[str, HeadlineGroup] = {}
    for indicator in indicators.indicators():
        domain = str(indicator.domain)
        group = groups.setdefault(domain, HeadlineGroup(domain=domain))
        group.items.append(Headline(indicator=indicator, value=values.get(indicator.name, {}).get(area.pk),
                                    link=indicators.link(indicator.name, area, period)))
    return list(groups.values())


# --- The children's ranking -----------------------------------------------------------------

@dataclass
class ChildRow:
    area: Area
    figures: rates.Figures
    rates: rates.Rates
    rank: int | None = None

    @property
    def volume(self) -> int:
        """Valid requests (as the indicator dispatch.received): received less invalid."""
        return self.figures.received - self.figures.invalid

    def text(self, attribute: str) -> str:
        return indicators.format_value(getattr(self.rates, attribute), indicators.PERCENT)

    @property
    def response(self) -> str:
        return self.text("response")

    @property
    def resolution(self) -> str:
        return self.text("resolution")

    @property
    def satisfaction(self) -> str:
        return self.text("satisfaction")

    @property
    def composite(self) -> str:
        return self.text("composite")


def children(area: Area) -> list[Area]:
    """The active children of the area at the next level (none for a community).  One query."""
    level = CHILD_LEVEL.get(area.level)
    if level is None:
        return []
    return list(Area.objects.unscoped().filter(parent_id=area.pk, level=level, is_active=True).order_by("code"))


def ranking(kids: list[Area], period: Period, w: rates.Weights) -> list[ChildRow]:
    """The children ranked by composite score (standard competition ranking, highest first; ties by
    volume, then code; the unrated last).  One query for all of them."""
    if not kids:
        return []
    sums = dispatch_indicators.figures(kids, period)
    rows = []
    for kid in kids:
        figures = sums.get(kid.pk, rates.Figures())
        rows.append(ChildRow(area=kid, figures=figures, rates=rates.rates_of(figures, w)))
    for row, rank in zip(rows, rates.competition_ranks([r.rates.composite for r in rows]), strict=True):
        row.rank = rank
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, -r.volume, r.area.code))


# --- Trend and categories ------------------------------------------------------------------

def trend(area: Area, months: list[dt.date], w: rates.Weights) -> list[rates.Point]:
    """The area's counters and rates month by month (dispatch.rates.trend).  One query."""
    kind = {AreaLevel.CITY: "city", AreaLevel.DISTRICT: "district"}.get(area.level, "area")
    subject = rates.Subject(kind=kind, pk=area.pk, name=area.name, code=area.code, level=area.level)
    return rates.trend(subject=subject, months=months, w=w)


def has_categories(area: Area) -> bool:
    """The category roll-up is kept per street: a community has no breakdown of its own."""
    return area.level != AreaLevel.COMMUNITY


def categories(area: Area, period: Period) -> list[dict]:
    """Volume by top-level category over the period's months, largest first
    (dispatch.rates.category_breakdown: kept per street, so a city, district or street).  One query."""
    kind = {AreaLevel.CITY: "city", AreaLevel.DISTRICT: "district", AreaLevel.STREET: "area"}.get(area.level)
    if kind is None:
        return []
    subject = rates.Subject(kind=kind, pk=area.pk, name=area.name, code=area.code, level=area.level)
    return rates.category_breakdown(subject=subject, months=period.months())


def as_number(value: Decimal | None) -> float | None:
    """A rate as a percentage number for a chart (87.6), None when there is none."""
    shown = rates.as_percent(value)
    return None if shown is None else float(shown)
