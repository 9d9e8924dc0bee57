"""Reads of Open311: jurisdictions, where a request happened, and the requests an api_key sees.

Request and area reads use the scoped managers, so they run inside the scope of the
api_key's user (the views activate it): a key of one street finds nothing of another.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.conf import settings
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Length, Replace

from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.duplicates import haversine_m
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

# GeoReport v2, GET requests: at most this many results.
MAX_RESULTS = 1000
# A request is "closed" for Open311 once Zhouxin has finished with it.
CLOSED_STATUSES = (Status.CLOSED, Status.MERGED, Status.INVALID)
REQUEST_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID)
# Locating by coordinates: candidates within this box around the point (degrees, about 11 km
# north–south), and the farthest a centroid may be when no boundary contains the point.
SEARCH_BOX_DEGREES = Decimal("0.1")
MAX_CENTROID_DISTANCE_M = 1500
MAX_CANDIDATES = 500


# ---------------------------------------------------------------------------
# Jurisdictions
# ---------------------------------------------------------------------------

def jurisdictions() -> dict[str, str]:
    """jurisdiction_id → the area code prefix it covers ("" for the whole server).

    A city area answers to its 区划代码 and its pinyin ("1101", "beijingshi", "beijing");
    settings.OPEN311_JURISDICTION (e.g. "beijing.gov.cn") names the whole server."""
    found: dict[str, str] = {}
    for code, name, pinyin in (Area.objects.unscoped().filter(level=AreaLevel.CITY, is_active=True)
                               .values_list("code", "name", "pinyin")):
        found[code] = code
        if pinyin:
            found[pinyin.lower()] = code
            if name.endswith("市") and pinyin.lower().endswith("shi"):
                found[pinyin.lower()[:-3]] = code
    configured = getattr(settings, "OPEN311_JURISDICTION", "")
    if configured:
        found[configured.lower()] = ""
    return found


def jurisdiction_prefix(jurisdiction_id: str) -> str | None:
    """The area prefix of a jurisdiction_id; "" when none was given; None when unknown."""
    if not jurisdiction_id:
        return ""
    return jurisdictions().get(jurisdiction_id.lower())


# ---------------------------------------------------------------------------
# Where a request happened: a community or grid the api_key's user may take requests for
# ---------------------------------------------------------------------------

def _request_areas(prefix: str):
    areas = Area.objects.filter(level__in=REQUEST_LEVELS, is_active=True)
    return areas.filter(code__startswith=prefix) if prefix else areas


def area_by_code(code: str, prefix: str = "") -> Area | None:
    return _request_areas(prefix).filter(code=code).first()


def _ring_contains(ring, x: float, y: float) -> bool:
    """Ray casting on one GeoJSON ring of [longitude, latitude] positions."""
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = float(ring[i][0]), float(ring[i][1])
        x2, y2 = float(ring[i - 1][0]), float(ring[i - 1][1])
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _polygon_contains(rings, x: float, y: float) -> bool:
    return bool(rings) and _ring_contains(rings[0], x, y) and not any(_ring_contains(h, x, y) for h in rings[1:])


def boundary_contains(geojson, latitude: float, longitude: float) -> bool:
    """Whether a GeoJSON Polygon / MultiPolygon (or a Feature of one) holds the point.
    A boundary that is not valid GeoJSON holds nothing."""
    try:
        if geojson.get("type") == "Feature":
            geojson = geojson.get("geometry") or {}
        kind, coordinates = geojson.get("type"), geojson.get("coordinates")
        if kind == "Polygon":
            return _polygon_contains(coordinates, longitude, latitude)
        if kind == "MultiPolygon":
            return any(_polygon_contains(polygon, longitude, latitude) for polygon in coordinates)
    except (AttributeError, TypeError, ValueError, IndexError, ZeroDivisionError):
        return False
    return False


def area_by_point(latitude: Decimal, longitude: Decimal, prefix: str = "") -> Area | None:
    """The grid or community whose boundary holds the point, else the one with the nearest
    centroid within MAX_CENTROID_DISTANCE_M.  Only areas with a centroid are considered."""
    box = SEARCH_BOX_DEGREES
    candidates = list(_request_areas(prefix).filter(
        latitude__gte=latitude - box, latitude__lte=latitude + box,
        longitude__gte=longitude - box, longitude__lte=longitude + box,
    ).only("code", "name", "level", "parent_id", "latitude", "longitude", "boundary", "is_active")
        .order_by("code")[:MAX_CANDIDATES])
    lat, lon = float(latitude), float(longitude)
    holding = [a for a in candidates if a.boundary and boundary_contains(a.boundary, lat, lon)]
    if holding:
        return max(holding, key=lambda a: len(a.code))  # a grid before its community
    best, best_distance = None, math.inf
    for area in candidates:
        distance = haversine_m(lat, lon, float(area.latitude), float(area.longitude))
        if distance < best_distance:
            best, best_distance = area, distance
    return best if best_distance <= MAX_CENTROID_DISTANCE_M else None


def area_by_address(address: str, prefix: str = "") -> Area | None:
    """The grid or community named in the address ("多福巷社区3号楼", or "多福巷3号楼"
    without 社区), the longest name first."""
    short = Replace(F("name"), Value("社区"), Value(""))
    return (_request_areas(prefix)
            .alias(address=Value(address, output_field=CharField()), short=short, short_length=Length(short))
            .filter(Q(address__contains=F("name")) | Q(address__contains=F("short"), short_length__gte=2))
            .order_by(Length("name").desc(), "-code").first())


def only_area(prefix: str = "") -> Area | None:
    """The community the user reaches, when it is exactly one (or else the one grid)."""
    for level in REQUEST_LEVELS:
        found = list(_request_areas(prefix).filter(level=level).order_by("code")[:2])
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

def _requests(prefix: str = ""):
    rows = (ServiceRequest.objects.select_related("category", "lead_org", "area", "open311")
            .annotate(master_number=F("master__number")))
    return rows.filter(area__code__startswith=prefix) if prefix else rows


def requests_by_number(numbers: list[str], prefix: str = "") -> list[ServiceRequest]:
    return list(_requests(prefix).filter(number__in=numbers).order_by("-received_at", "-id")[:MAX_RESULTS])


def requests_matching(*, start: dt.datetime, end: dt.datetime, service_codes: list[str], statuses: list[str],
                      prefix: str = "", limit: int = MAX_RESULTS) -> list[ServiceRequest]:
    """Requests received from start to end, of the given services and open/closed states,
    newest first, at most `limit`."""
    rows = _requests(prefix).filter(received_at__gte=start, received_at__lte=end)
    if service_codes:
        rows = rows.filter(category__code__in=service_codes)
    if statuses and set(statuses) != {"open", "closed"}:
        closed = Q(status__in=CLOSED_STATUSES)
        rows = rows.filter(closed if "closed" in statuses else ~closed)
    return list(rows.order_by("-received_at", "-id")[:limit])


def request_by_number(number: str, prefix: str = "") -> ServiceRequest | None:
    return _requests(prefix).filter(number=number).first()


def request_by_token(token: str, prefix: str = "") -> ServiceRequest | None:
    return _requests(prefix).filter(open311__token=token).first()
