"""The points ledger: `award` writes one entry per (person, source, source id) with the points of
the rule version in force on the day the service was done; later rule changes do not rewrite
the past.  Totals are sums of the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from zhouxin.core import audit, policy
from zhouxin.core.models import PolicyVersion

from .identity import city_of
from .models import PointEntry
from .policy import POINTS_KEY


def rule_version(city, on: dt.date) -> str:
    """Which version of the points rule applies on `on`: the effective date of the city's (or
    the national) version, or "default" when none was ever set."""
    for city_id in ([city.pk] if city is not None else []) + [None]:
        found = (PolicyVersion.objects.filter(key=POINTS_KEY, city_id=city_id, effective_from__lte=on)
                 .order_by("-effective_from").values_list("effective_from", flat=True).first())
        if found:
            return f"{'city' if city_id else 'national'}:{found.isoformat()}"
    return "default"


def award(*, person, source: str, source_id: int, on: dt.date, quantity: Decimal | int = 1,
          rule: str, note: str = "") -> PointEntry | None:
    """Points for `quantity` units of `rule` (an item of the points policy: "per_hour",
    "per_wish", "on_time_registration") earned on `on`.  Once per (person, source, source id):
    a second call returns None and changes nothing."""
    city = city_of(person.home_area) if getattr(person, "home_area_id", None) else None
    value = policy.get(POINTS_KEY, city=city, on=on)
    points = (Decimal(str(value[rule])) * Decimal(str(quantity))).quantize(Decimal("0.1"))
    if PointEntry.objects.unscoped().filter(person=person, source=source, source_id=source_id).exists():
        return None
    try:
        with transaction.atomic():
            entry = PointEntry.objects.unscoped().create(person=person, source=source, source_id=source_id,
                                                         points=points, earned_on=on,
                                                         rule_version=rule_version(city, on), note=note[:200])
    except IntegrityError:
        return None
    audit.record(actor=None, action="volunteers.points.awarded", obj=entry,
                 after={"person": person.pk, "source": source, "source_id": source_id, "points": points,
                        "rule": rule, "rule_version": entry.rule_version, "earned_on": on})
    return entry


def total(person_ids, start: dt.date | None = None, end: dt.date | None = None) -> dict[int, Decimal]:
    """Points per person, optionally within [start, end)."""
    rows = PointEntry.objects.unscoped().filter(person_id__in=list(person_ids))
    if start:
        rows = rows.filter(earned_on__gte=start)
    if end:
        rows = rows.filter(earned_on__lt=end)
    return dict(rows.values("person_id").annotate(s=Sum("points")).values_list("person_id", "s"))
