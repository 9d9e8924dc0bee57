"""Matching (资源匹配): rank resources for a need, and needs for a resource, with an explained score.

Each candidate gets six features in [0, 1]:

  category       1 for the same category; 0.5 when the resource's kind fits the need
                 (a venue for a venue need, goods or funds for a goods need); else 0
  text           Jaccard similarity of the jieba terms of both texts (text.py)
  proximity      1 when the resource sits in the need's area, 0.6 in the same street,
                 0.3 in the same district (it must also reach the need: service radius)
  capacity_time  the mean of capacity fit (what is still available over what the need asks
                 for, at most 1) and time fit (the share of the wanted days the resource is
                 available)
  record         the unit's record: the mean residents' rating (1–5) of its past projects
                 scaled to [0, 1]; 0.5 (neutral) when it has none
  committed      the share of the resource's capacity already committed: a deduction

and the score is Σ weight × feature, the committed part subtracted.  Weights come from the
policy store ("cobuild.matching").  Every contribution is rounded to 4 decimals first and
the score is their exact sum, so the explanation shown adds up to the score to the last
digit.

Speed: candidates are prefiltered in SQL (active, category or fitting kind, the service
radius reaching the need's area, availability not ended before the need starts, capacity
left) on partial indexes over (category, area_code) and (kind, area_code), as code ranges
rather than LIKE so SQLite uses them too; resources that fit only by kind are read ring by
ring and a ring whose best possible score cannot reach the top is skipped; the features are
cheap set and date arithmetic (terms were segmented at save), ranked by a float score, and
only the candidates within rounding distance of the top get the exact Decimal explanation.
scripts/bench_matching.py measures it (50,000 resources).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.core import policy

from .choices import KIND_FITS, NeedStatus, ServiceRadius
from .models import Need, Project, Resource
from .policy import MATCHING_KEY
from .text import jaccard, term_set

PLACES = Decimal("0.0001")
COMPONENTS = ("category", "text", "proximity", "capacity_time", "record", "committed")
LABELS = {
    "category": _("类别相符"),
    "text": _("文字相似"),
    "proximity": _("距离远近"),
    "capacity_time": _("容量与时间"),
    "record": _("单位以往评价"),
    "committed": _("已占用容量"),
}
DEDUCTIONS = frozenset({"committed"})
NEUTRAL_RECORD = 0.5


@dataclass(frozen=True)
class Component:
    name: str
    feature: Decimal  # in [0, 1]
    weight: Decimal
    contribution: Decimal  # weight × feature, negative for a deduction

    @property
    def label(self):
        return LABELS[self.name]

    @property
    def is_deduction(self) -> bool:
        return self.name in DEDUCTIONS


@dataclass(frozen=True)
class Match:
    pk: int  # the resource's (or the need's) id
    score: Decimal
    components: tuple[Component, ...]
    obj: object = None  # the Resource or Need, loaded for display


def weights(*, city=None, on: dt.date | None = None) -> dict[str, Decimal]:
    rule = policy.get(MATCHING_KEY, city=city, on=on)
    return {name: Decimal(str(rule[f"{name}_weight"])) for name in COMPONENTS} | {"top_n": int(rule["top_n"])}


def _q(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(PLACES, rounding=ROUND_HALF_UP)


def explain(features: dict[str, float], w: dict[str, Decimal]) -> tuple[Decimal, tuple[Component, ...]]:
    """The score and its components: each contribution rounded, the score their exact sum."""
    components = []
    for name in COMPONENTS:
        feature = _q(min(max(features[name], 0.0), 1.0))
        contribution = (w[name] * feature).quantize(PLACES, rounding=ROUND_HALF_UP)
        if name in DEDUCTIONS:
            contribution = -contribution
        components.append(Component(name, feature, w[name], contribution))
    return sum((c.contribution for c in components), Decimal("0.0000")), tuple(components)


# --- Features ------------------------------------------------------------------------------

def category_fit(need_category: str, resource_category: str, resource_kind: str) -> float:
    if need_category == resource_category:
        return 1.0
    return 0.5 if resource_kind in KIND_FITS.get(need_category, ()) else 0.0


def proximity(need_code: str, resource_code: str) -> float:
    if resource_code.startswith(need_code):
        return 1.0
    if resource_code[:9] == need_code[:9]:
        return 0.6
    if resource_code[:6] == need_code[:6]:
        return 0.3
    return 0.0


def _wanted(need_from, need_until, today: dt.date) -> tuple[dt.date, dt.date]:
    start = need_from or today
    return start, need_until or start


def time_fit(wanted: tuple[dt.date, dt.date], available_from: dt.date, available_until: dt.date | None) -> float:
    start, end = wanted
    first = max(start, available_from)
    last = min(end, available_until) if available_until else end
    if last < first:
        return 0.0
    return ((last - first).days + 1) / ((end - start).days + 1)


def capacity_fit(quantity: int | None, quantity_unit: str, available: int, capacity_unit: str) -> float:
    if available <= 0:
        return 0.0
    if not quantity or (quantity_unit and capacity_unit and quantity_unit != capacity_unit):
        return 1.0  # nothing to compare with: any capacity left fits
    return min(1.0, available / quantity)


# Units' records change only when a project is rated, and every ranking needs them: they are
# kept in-process for RECORD_CACHE_SECONDS (one small query over the rated projects), and
# cleared by the services that change ratings (invalidate_records).
RECORD_CACHE_SECONDS = 60
_records: tuple[float, dict[int, float]] | None = None
_records_lock = threading.Lock()


def invalidate_records() -> None:
    global _records
    with _records_lock:
        _records = None


def unit_records() -> dict[int, float]:
    """Each rated unit's record: mean rating (1–5) of its rated projects, scaled to [0, 1]."""
    global _records
    now = time.monotonic()
    cached = _records
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = (Project.objects.unscoped().filter(rating_average__isnull=False)
            .values("parties").annotate(mean=Avg("rating_average")).values_list("parties", "mean"))
    records = {unit: (float(mean) - 1) / 4 for unit, mean in rows if unit is not None}
    with _records_lock:
        _records = (now + RECORD_CACHE_SECONDS, records)
    return records


# --- Ranking -------------------------------------------------------------------------------

def _prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range an index can scan (codes are digits, and
    "~" sorts after every digit in any collation), unlike LIKE on SQLite."""
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "~"})


def _reach_q(need_code: str) -> Q:
    """Resources whose service radius reaches an area with this code (all lie in its district)."""
    parts = Q(radius=ServiceRadius.DISTRICT, area_code__startswith=need_code[:6]) | (
        Q(radius=ServiceRadius.STREET) & _prefix_range("area_code", need_code[:9]))
    if len(need_code) >= 12:
        parts |= Q(radius=ServiceRadius.COMMUNITY, area_code=need_code[:12])
    return parts


RESOURCE_FIELDS = ("pk", "owner_id", "kind", "category", "area_code", "capacity", "committed", "capacity_unit",
                   "available_from", "available_until", "terms")
# Candidates are ranked by a float score first; only those within this margin of the
# last place get the exact (rounded Decimal) explanation, which decides the final order.
FLOAT_MARGIN = 0.001


def candidate_rows(need: Need, wanted: tuple[dt.date, dt.date], queryset=None, *, prefix: str | None = None,
                   kinds: tuple[str, ...] = ()) -> list[tuple]:
    """The SQL prefilter: an index range scan of one category (or, with `kinds`, of the
    fitting kinds in other categories) within `prefix` (default: the need's district); the
    remaining conditions are checked on the rows the range yields."""
    base = (queryset if queryset is not None else Resource.objects.unscoped()).filter(
        _prefix_range("area_code", prefix or need.area.code[:6]), is_active=True,
        committed__lt=F("capacity"), available_from__lte=wanted[1])
    base = base.filter(_reach_q(need.area.code), Q(available_until__isnull=True) | Q(available_until__gte=wanted[0]))
    if kinds:
        base = base.filter(kind__in=kinds).exclude(category=need.category)
    else:
        base = base.filter(category=need.category)
    return list(base.values_list(*RESOURCE_FIELDS))


def _resource_features(need, need_terms, wanted, row, records) -> tuple[float, ...]:
    """The features of one candidate row, in COMPONENTS order."""
    _pk, owner_id, kind, category, code, capacity, committed, unit, a_from, a_until, terms = row
    return (
        category_fit(need.category, category, kind),
        jaccard(need_terms, term_set(terms)),
        proximity(need.area.code, code),
        (capacity_fit(need.quantity, need.quantity_unit, capacity - committed, unit)
         + time_fit(wanted, a_from, a_until)) / 2,
        records.get(owner_id, NEUTRAL_RECORD),
        committed / capacity,
    )


def _signed_weights(w: dict) -> tuple[float, ...]:
    return tuple(-float(w[n]) if n in DEDUCTIONS else float(w[n]) for n in COMPONENTS)


def _shortlist(scored: list, limit: int) -> list:
    """Candidates (float score first) that can still reach the top `limit` once rounded."""
    if len(scored) <= limit:
        return scored
    scored.sort(key=lambda item: item[0], reverse=True)
    floor = scored[limit - 1][0] - FLOAT_MARGIN
    return [item for item in scored if item[0] >= floor]


def resources_for_need(need: Need, *, limit: int | None = None, today: dt.date | None = None,
                       queryset=None) -> list[Match]:
    """The best resources for a need, best first (ties: more available, then older first)."""
    today = today or timezone.localdate()
    w = weights()
    limit = limit or w["top_n"]
    wanted = _wanted(need.wanted_from, need.wanted_until, today)
    need_terms = term_set(need.terms)
    c0, c1, c2, c3, c4, c5 = _signed_weights(w)
    records = unit_records()
    scored = []

    def score_rows(rows):
        for row in rows:
            f = _resource_features(need, need_terms, wanted, row, records)
            scored.append((c0 * f[0] + c1 * f[1] + c2 * f[2] + c3 * f[3] + c4 * f[4] + c5 * f[5], row, f))

    score_rows(candidate_rows(need, wanted, queryset))
    kinds = KIND_FITS.get(need.category, ())
    if kinds:
        # Resources that fit by kind only (category fit 0.5) are many where units are dense.
        # Their best possible score in a ring (all other features perfect, nothing committed)
        # is known before reading them: a ring whose best cannot reach the current top
        # `limit` is not read at all.  Rings are nested, the farthest (lowest bound) first.
        floor = sorted((item[0] for item in scored), reverse=True)[limit - 1] if len(scored) >= limit else None
        code = need.area.code
        for prefix in (code[:6], code[:9], code[:12]):
            bound = c0 * 0.5 + c1 + c2 * proximity(code, prefix) + c3 + c4
            if floor is None or bound >= floor - FLOAT_MARGIN:
                score_rows(candidate_rows(need, wanted, queryset, prefix=prefix, kinds=kinds))
                break
    exact = []
    for _f, row, f in _shortlist(scored, limit):
        score, components = explain(dict(zip(COMPONENTS, f, strict=True)), w)
        exact.append((score, row[5] - row[6], -row[0], row[0], components))
    exact.sort(reverse=True)
    top = exact[:limit]
    objects = Resource.objects.unscoped().select_related("owner", "area").in_bulk([t[3] for t in top])
    return [Match(pk, score, components, objects.get(pk)) for score, _a, _n, pk, components in top]


def needs_for_resource(resource: Resource, *, limit: int | None = None, today: dt.date | None = None) -> list[Match]:
    """The open needs a resource could meet, best first."""
    today = today or timezone.localdate()
    w = weights()
    limit = limit or w["top_n"]
    code = resource.area_code
    fitting = [c for c, kinds in KIND_FITS.items() if resource.kind in kinds]
    reach = {ServiceRadius.DISTRICT: Q(area__code__startswith=code[:6]),
             ServiceRadius.STREET: Q(area__code__startswith=code[:9]),
             ServiceRadius.COMMUNITY: Q(area__code=code[:12])}[resource.radius]
    rows = list(
        Need.objects.unscoped().filter(status=NeedStatus.OPEN)
        .filter(Q(category=resource.category) | Q(category__in=fitting))
        .filter(reach)
        .filter(Q(wanted_until__isnull=True) | Q(wanted_until__gte=resource.available_from))
        .values_list("pk", "category", "area__code", "quantity", "quantity_unit", "wanted_from", "wanted_until",
                     "terms")
    )
    if resource.available_until:
        rows = [r for r in rows if (r[5] or today) <= resource.available_until]
    record = unit_records().get(resource.owner_id, NEUTRAL_RECORD)
    resource_terms = term_set(resource.terms)
    available = resource.capacity - resource.committed
    scored = []
    for pk, category, need_code, quantity, quantity_unit, w_from, w_until, terms in rows:
        wanted = _wanted(w_from, w_until, today)
        features = {
            "category": category_fit(category, resource.category, resource.kind),
            "text": jaccard(term_set(terms), resource_terms),
            "proximity": proximity(need_code, code),
            "capacity_time": (capacity_fit(quantity, quantity_unit, available, resource.capacity_unit)
                              + time_fit(wanted, resource.available_from, resource.available_until)) / 2,
            "record": record,
            "committed": resource.committed / resource.capacity,
        }
        score, components = explain(features, w)
        scored.append((score, -pk, pk, components))
    scored.sort(reverse=True)
    top = scored[:limit]
    objects = Need.objects.unscoped().select_related("area").in_bulk([t[2] for t in top])
    return [Match(pk, score, components, objects.get(pk)) for score, _n, pk, components in top]
