"""Duplicate suggestions (重复诉求): requests that are probably about the same thing.

DESIGN (dispatch): same category, same grid or within 250 m, similar text, within
7 days → suggested merge.  The numbers live in policy "dispatch.duplicates"
(radius_m, window_days, min_similarity).

Candidates are looked up in the request's own street through the index
`request_duplicate_probe` (category, area, received_at): one equality on the
category, the street's area ids, a range on the time window.  Nothing scans the
table.  Inside a request (a user's scope active) candidates are further limited
to what that user may see; under `scopes_disabled()` the street is the limit.
Text similarity is the cosine of character-bigram counts of title + description.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from zhouxin.core import policy
from zhouxin.core.scoping import Scope, current_scope
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .choices import Status
from .models import ServiceRequest

# Held (possible spam), merged and invalid requests are no merge target.
EXCLUDED_STATUSES = (Status.HELD, Status.MERGED, Status.INVALID)
MAX_PROBED = 300  # newest candidates compared per call: bounds the work on a busy street
EARTH_RADIUS_M = 6_371_008.8


@dataclass
class Candidate:
    request: ServiceRequest
    score: float
    reasons: list[str] = field(default_factory=list)
    similarity: float = 0.0
    distance_m: float | None = None


_NOT_TEXT = re.compile(r"[\W_]+")


def bigrams(text: str) -> Counter:
    """Character bigrams of a text, punctuation and spaces removed (NFKC, lower case)."""
    compact = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", text or "").lower())
    if len(compact) == 1:
        return Counter([compact])
    return Counter(compact[i:i + 2] for i in range(len(compact) - 1))


def cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    if not dot:
        return 0.0
    return dot / math.sqrt(sum(c * c for c in a.values()) * sum(c * c for c in b.values()))


def similarity(text_a: str, text_b: str) -> float:
    return cosine(bigrams(text_a), bigrams(text_b))


def haversine_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres between two (latitude, longitude) points in degrees."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi = phi2 - phi1
    dlambda = math.radians(float(lon2) - float(lon1))
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _text(req: ServiceRequest) -> str:
    return f"{req.title} {req.description}"


def _has_point(req: ServiceRequest) -> bool:
    return req.latitude is not None and req.longitude is not None


def candidate_queryset(request: ServiceRequest, *, window_days: int):
    """The index probe: same category, an area of the same street, inside the time window."""
    scope = current_scope()
    manager = ServiceRequest.objects
    base = manager.all() if isinstance(scope, Scope) else manager.unscoped()
    street_code = Area.objects.unscoped().filter(pk=request.street_id).values_list("code", flat=True).first()
    area_ids = list(Area.objects.unscoped().filter(code__startswith=street_code).values_list("pk", flat=True)) \
        if street_code else [request.area_id]
    window = dt.timedelta(days=window_days)
    return (
        base.filter(category_id=request.category_id, area_id__in=area_ids,
                    received_at__gte=request.received_at - window, received_at__lte=request.received_at + window)
        .exclude(pk=request.pk)
        .exclude(status__in=EXCLUDED_STATUSES)
        .select_related("area")
        .defer("contact_phone", "suggestions", "reply")  # no decrypting of phones nobody shows here
        .order_by("-received_at")
    )


def find_duplicates(request: ServiceRequest, *, limit: int = 5) -> list[Candidate]:
    """Requests that `request` probably repeats, best first, each with its reasons in Chinese.

    A candidate has the same category, lies in the same grid or within radius_m
    (both points known), was received within window_days, and its text is at least
    min_similarity alike.  Score: 0.6 × text similarity + 0.25 × nearness + 0.15 × recency.
    """
    if request.category_id is None or request.received_at is None or limit <= 0:
        return []
    rules = policy.get("dispatch.duplicates")
    radius_m = float(rules["radius_m"])
    window_days = int(rules["window_days"])
    min_similarity = float(rules["min_similarity"])
    window_seconds = window_days * 86400

    own_grams = bigrams(_text(request))
    own_area = request.area if request.area_id else None
    found: list[Candidate] = []
    for other in candidate_queryset(request, window_days=window_days)[:MAX_PROBED]:
        reasons: list[str] = []
        nearness = 0.0
        distance = None
        same_area = other.area_id == request.area_id
        if same_area and own_area is not None and own_area.level == AreaLevel.GRID:
            reasons.append(_("同一网格"))
            nearness = 1.0
        if _has_point(request) and _has_point(other):
            distance = haversine_m(request.latitude, request.longitude, other.latitude, other.longitude)
            if distance <= radius_m:
                reasons.append(_("相距 %(metres)d 米") % {"metres": round(distance)})
                nearness = max(nearness, 1.0 - distance / radius_m / 2)
        if not reasons and same_area and distance is None:
            # Neither request has a point and the place is only known to the community:
            # the same community is the nearest evidence there is.
            reasons.append(_("同一社区") if own_area is not None and own_area.level == AreaLevel.COMMUNITY
                           else _("同一地点"))
            nearness = 0.5
        if not reasons:
            continue
        sim = cosine(own_grams, bigrams(_text(other)))
        if sim < min_similarity:
            continue
        reasons.append(_("内容相似度 %(similarity).2f") % {"similarity": sim})
        gap = abs((request.received_at - other.received_at).total_seconds())
        days = max(1, math.ceil(gap / 86400))
        reasons.append(_("%(days)d 天内") % {"days": days})
        recency = max(0.0, 1.0 - gap / window_seconds) if window_seconds else 0.0
        score = round(0.6 * sim + 0.25 * nearness + 0.15 * recency, 4)
        found.append(Candidate(request=other, score=score, reasons=reasons, similarity=round(sim, 4),
                               distance_m=round(distance, 1) if distance is not None else None))
    found.sort(key=lambda c: (-c.score, -c.request.received_at.timestamp(), c.request.pk))
    return found[:limit]
