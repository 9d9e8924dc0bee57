"""Intake's look-ups of a request's place and category, cached per process.

Every request a channel receives names its community or grid (区划代码) and usually its
leaf category.  Loading them with their parents (intake needs the street and the district,
and the category's parent for the roll-ups) took about 2.2 ms a request on PostgreSQL,
two queries with their ORM compilation: a fifth of the whole intake (docs/performance.md,
"Request intake").  The catalogue and the division tree change a few times a year, so
each process keeps what it loaded for TTL_SECONDS (places a district at a time):

- an edit made in this process is seen at once: model signals (save, delete) and the
  services that change rows in bulk call `forget()` once their transaction commits
  (catalogue.py directly, orgs/divisions.py through the signal `areas_changed`);
- other processes see it within TTL_SECONDS, as category suggestions do
  (classify.CATALOGUE_TTL_SECONDS): a community deactivated on the admin screen may
  still take a request for that long, which is then received and routed as usual.

Only what was found is kept; an unknown code is asked again each time (a new community
is taken at once).  The instances handed out are shared by the threads of the process:
callers read them and never change them.
"""

from __future__ import annotations

import threading
import time

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.orgs.signals import areas_changed

from .models import Category

TTL_SECONDS = 30
# Fields intake reads; the boundary (GeoJSON, large for a district) and the search keys are not loaded.
_AREA_DEFER = ("boundary", "pinyin", "pinyin_initials", "parent__boundary", "parent__pinyin",
               "parent__pinyin_initials", "parent__parent__boundary", "parent__parent__pinyin",
               "parent__parent__pinyin_initials")

_entries: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()


def _cached(key: tuple, load):
    hit = _entries.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return hit[1]
    value = load()
    if value is not None:
        with _lock:
            _entries[key] = (now, value)
    return value


def intake_area(code) -> Area | None:
    """The active community or grid with this 区划代码, its street and district loaded with it; else None.

    A process loads the places of a whole district (the code's first six digits) at once and
    keeps them for TTL_SECONDS: one query where each community was one, at the same freshness.
    A code not among them is asked for alone (a community added since is taken at once)."""
    code = str(code or "").strip()
    if not code.isdigit() or len(code) not in (12, 15):
        return None
    found = _cached(("areas", code[:6]), lambda: _district_places(code[:6])).get(code)
    if found is not None:
        return found
    return _cached(("area", code), lambda: (
        Area.objects.unscoped().select_related("parent__parent").defer(*_AREA_DEFER)
        .filter(code=code, is_active=True, level__in=(AreaLevel.COMMUNITY, AreaLevel.GRID)).first()))


def _district_places(prefix: str) -> dict[str, Area]:
    """The active communities and grids whose code starts with `prefix`, by code, each with its
    street and district; the parents are shared (one street instance for all its communities)."""
    places, parents = {}, {}
    rows = (Area.objects.unscoped().select_related("parent__parent").defer(*_AREA_DEFER)
            .filter(code__startswith=prefix, is_active=True, level__in=(AreaLevel.COMMUNITY, AreaLevel.GRID)))
    for area in rows:
        parent = area.parent
        if parent is not None:
            shared = parents.setdefault(parent.pk, parent)
            if shared is not parent:
                area.parent = shared
        places[area.code] = area
    return places


def leaf_category(*, code=None, pk=None) -> Category | None:
    """The active third-level category with this code (or id), its parent loaded with it; else None."""
    if pk is not None:
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            return None
        key, lookup = ("category-id", pk), {"pk": pk}
    else:
        code = str(code or "").strip()
        if not code.isdigit() or len(code) != 6:
            return None
        key, lookup = ("category", code), {"code": code}
    return _cached(key, lambda: (
        Category.objects.select_related("parent").filter(level=3, is_active=True, **lookup).first()))


def forget() -> None:
    """Drop everything this process keeps (call after a change to areas or the catalogue)."""
    with _lock:
        _entries.clear()


def forget_on_commit() -> None:
    """forget() once the caller's transaction commits (at once outside one), for changes
    that send no model signal (QuerySet.update, bulk_update)."""
    transaction.on_commit(forget)


def _changed(**kwargs) -> None:
    forget()


for _model, _name in ((Area, "area"), (Category, "category")):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"intake_lookup_{_name}_saved")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"intake_lookup_{_name}_deleted")
areas_changed.connect(_changed, dispatch_uid="intake_lookup_areas_changed")
