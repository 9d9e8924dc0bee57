"""Scoped reads of the area tree, organisations and people (the browsing pages).

Every query here goes through the scoped managers, so inside a request it
returns only what the signed-in user's grants reach.  The functions keep the
number of queries fixed whatever the number of rows: counts for a set of tree
nodes are one grouped query per model, search is one query per model plus one
for the names on the results' paths.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.db.models.functions import Substr

from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.scoping import scope_for_user

from .choices import CODE_LENGTH, LEVEL_ORDER, AreaLevel, OrgKind
from .models import Area, Organisation, Person

LEVEL_RANK = {level: rank for rank, level in enumerate(LEVEL_ORDER)}
# Levels shown on a path (区 › 街道 › 社区): the province and the city add nothing for a district's staff.
PATH_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID)
SEARCH_LIMIT = 20
SEARCH_MAX_LENGTH = 40
_PINYIN = re.compile(r"^[a-z]+$")


# --- the tree -----------------------------------------------------------------

def grant_roots(user) -> list[Area]:
    """The nodes of the user's area grants, a node inside another grant's subtree left out."""
    prefixes = scope_for_user(user).prefixes(AREA_ROLES)
    if not prefixes:
        return []
    return list(Area.objects.filter(code__in=prefixes).order_by("code"))


def area_children(area: Area) -> list[Area]:
    return list(Area.objects.filter(parent_id=area.pk).order_by("code"))


@dataclass
class SubtreeCounts:
    """What lies under one node: areas below it by level (the node itself not
    counted), organisations and people in the node and below it."""

    by_level: dict[str, int] = field(default_factory=dict)
    organisations: int = 0
    people: int = 0

    @property
    def streets(self) -> int:
        return self.by_level.get(AreaLevel.STREET, 0)

    @property
    def communities(self) -> int:
        return self.by_level.get(AreaLevel.COMMUNITY, 0)

    @property
    def grids(self) -> int:
        return self.by_level.get(AreaLevel.GRID, 0)

    @property
    def children(self) -> int:
        return sum(self.by_level.values())


def subtree_counts(areas: list[Area]) -> dict[str, SubtreeCounts]:
    """Areas, organisations and people under each node, keyed by the node's code.

    The codes are hierarchical, so everything under a node shares its code as a
    prefix: one grouped query per model and code length counts all the nodes
    at once (children of one node all have the same code length).
    """
    result = {area.code: SubtreeCounts() for area in areas}
    by_length: dict[int, list[str]] = {}
    for area in areas:
        by_length.setdefault(len(area.code), []).append(area.code)
    level_of = {area.code: area.level for area in areas}
    for length, codes in by_length.items():
        common = os.path.commonprefix(codes)
        wanted = set(codes)
        area_rows = (
            Area.objects.filter(code__startswith=common)
            .annotate(node=Substr("code", 1, length))
            .values("node", "level")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in area_rows:
            node = row["node"]
            if node in wanted and row["level"] != level_of[node]:
                result[node].by_level[row["level"]] = row["n"]
        org_rows = (
            Organisation.objects.filter(area__code__startswith=common)
            .annotate(node=Substr("area__code", 1, length))
            .values("node")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in org_rows:
            if row["node"] in wanted:
                result[row["node"]].organisations = row["n"]
        person_rows = (
            Person.objects.filter(home_area__code__startswith=common)
            .annotate(node=Substr("home_area__code", 1, length))
            .values("node")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in person_rows:
            if row["node"] in wanted:
                result[row["node"]].people = row["n"]
    return result


def with_counts(areas: list[Area]) -> list[Area]:
    """The areas, each with `.counts` (a SubtreeCounts) set."""
    counts = subtree_counts(areas)
    for area in areas:
        area.counts = counts[area.code]
    return areas


@dataclass(frozen=True)
class ScopeSummary:
    by_level: dict[str, int]
    organisations: int
    people: int


def scope_summary() -> ScopeSummary:
    """Counts of everything the active scope reaches: three queries."""
    by_level = {
        row["level"]: row["n"]
        for row in Area.objects.values("level").annotate(n=Count("id")).order_by()
    }
    return ScopeSummary(by_level=by_level, organisations=Organisation.objects.count(), people=Person.objects.count())


# --- paths ---------------------------------------------------------------------

def ancestor_codes(code: str) -> list[str]:
    return [code[:length] for length in sorted(set(CODE_LENGTH.values())) if length < len(code)]


def ancestor_names(codes: list[str]) -> dict[str, tuple[str, str]]:
    """Name and level of every ancestor of the given codes, in one query.

    The codes come from rows already read through the scoped manager; the names
    of the nodes above them (the street above one's own community, say) are
    shown on the path even where the user's grant does not reach them, so this
    reads them without the scope.  Only names and levels are read: no counts,
    no rows below the ancestors.
    """
    wanted = {ancestor for code in codes for ancestor in ancestor_codes(code)}
    if not wanted:
        return {}
    return {
        code: (name, level)
        for code, name, level in Area.objects.unscoped().filter(code__in=wanted).values_list("code", "name", "level")
    }


@dataclass(frozen=True)
class PathStep:
    code: str
    name: str
    level: str
    in_scope: bool


def area_path(code: str, user, names: dict[str, tuple[str, str]] | None = None,
              include_self: bool = False, self_name: str = "", self_level: str = "") -> list[PathStep]:
    """The steps from the district down to the node; a step links only when the user's grant reaches it."""
    if names is None:
        names = ancestor_names([code])
    scope = scope_for_user(user)
    steps = []
    for ancestor in ancestor_codes(code):
        if ancestor in names:
            name, level = names[ancestor]
            if level in PATH_LEVELS:
                steps.append(PathStep(ancestor, name, level, scope.covers(ancestor)))
    if include_self:
        steps.append(PathStep(code, self_name, self_level, scope.covers(code)))
    return steps


# --- search --------------------------------------------------------------------

@dataclass(frozen=True)
class SearchHit:
    kind: str  # "area" or "organisation"
    pk: int
    code: str  # the area's code (for an organisation, its area's)
    name: str
    label: str  # the level or the organisation kind, for display
    path: tuple[str, ...]
    rank: int
    level_rank: int


def normalise_query(text: str) -> str:
    text = " ".join((text or "").split())[:SEARCH_MAX_LENGTH]
    return text.lower() if text.isascii() else text


def _rank(q: str, name_field: str, initials_field: str, pinyin_field: str | None, latin: bool):
    whens = [When(**{f"{name_field}": q}, then=Value(0)), When(**{f"{name_field}__startswith": q}, then=Value(1))]
    if latin:
        whens += [
            When(**{initials_field: q}, then=Value(0)),
            When(**{f"{initials_field}__startswith": q}, then=Value(1)),
        ]
    whens.append(When(**{f"{name_field}__contains": q}, then=Value(2)))
    if latin:
        whens.append(When(**{f"{initials_field}__contains": q}, then=Value(3)))
        if pinyin_field:
            whens.append(When(**{f"{pinyin_field}__startswith": q}, then=Value(4)))
    return Case(*whens, default=Value(5), output_field=IntegerField())


def _level_rank(field_name: str):
    return Case(*[When(**{field_name: level}, then=Value(rank)) for level, rank in LEVEL_RANK.items()],
                default=Value(len(LEVEL_RANK)), output_field=IntegerField())


def search(text: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Areas and organisations whose name contains the text, or whose pinyin
    initials (or, for areas, full pinyin) start with or contain it.

    Ranked: exact name or initials first, then prefix, then substring, then
    full-pinyin matches; within a rank, higher levels of the tree first.
    """
    q = normalise_query(text)
    if not q:
        return []
    compact = q.replace(" ", "")
    latin = bool(_PINYIN.match(compact))
    if latin:
        q = compact

    area_filter = Q(name__icontains=q)
    org_filter = Q(name__icontains=q)
    if latin:
        area_filter |= Q(pinyin_initials__contains=q) | Q(pinyin__contains=q)
        org_filter |= Q(pinyin_initials__contains=q)

    areas = list(
        Area.objects.filter(area_filter, is_active=True)
        .annotate(rank=_rank(q, "name", "pinyin_initials", "pinyin", latin), level_rank=_level_rank("level"))
        .order_by("rank", "level_rank", "code")
        .values_list("pk", "code", "name", "level", "rank", "level_rank")[:limit]
    )
    orgs = list(
        Organisation.objects.filter(org_filter, is_active=True)
        .annotate(rank=_rank(q, "name", "pinyin_initials", None, latin), level_rank=_level_rank("area__level"))
        .order_by("rank", "level_rank", "area__code", "name")
        .values_list("pk", "area__code", "name", "kind", "rank", "level_rank", "area__name")[:limit]
    )
    names = ancestor_names([row[1] for row in areas] + [row[1] for row in orgs])
    level_labels = dict(AreaLevel.choices)
    kind_labels = dict(OrgKind.choices)

    def path_of(code: str, own_name: str | None = None) -> tuple[str, ...]:
        steps = [names[c][0] for c in ancestor_codes(code) if c in names and names[c][1] in PATH_LEVELS]
        if own_name:
            steps.append(own_name)
        return tuple(steps)

    hits = [
        SearchHit("area", pk, code, name, str(level_labels.get(level, level)), path_of(code), rank, lrank)
        for pk, code, name, level, rank, lrank in areas
    ] + [
        SearchHit("organisation", pk, code, name, str(kind_labels.get(kind, kind)), path_of(code, area_name),
                  rank, lrank)
        for pk, code, name, kind, rank, lrank, area_name in orgs
    ]
    hits.sort(key=lambda h: (h.rank, h.kind != "area", h.level_rank, h.code, h.name))
    return hits[:limit]


# --- lists ---------------------------------------------------------------------

def filter_choices_areas(user, max_options: int = 400) -> list[Area]:
    """Areas offered in a list page's area filter: the user's part of the tree down
    to communities (grids too when the grant is at community level or below)."""
    roots = grant_roots(user)
    levels = [AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY]
    if roots and min(LEVEL_RANK[r.level] for r in roots) >= LEVEL_RANK[AreaLevel.COMMUNITY]:
        levels.append(AreaLevel.GRID)
    return list(Area.objects.filter(level__in=levels).order_by("code").only("code", "name", "level")[:max_options])


def organisations(*, area: Area | None = None, kind: str = "", sector_id: int | None = None, q: str = ""):
    qs = Organisation.objects.select_related("area", "sector", "party_parent")
    if area is not None:
        qs = qs.filter(area__code__startswith=area.code)
    if kind:
        qs = qs.filter(kind=kind)
    if sector_id:
        qs = qs.filter(sector_id=sector_id)
    q = normalise_query(q)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(pinyin_initials__startswith=q.replace(" ", "")))
    return qs.order_by("area__code", "name", "pk")


def people(*, area: Area | None = None, q: str = ""):
    qs = Person.objects.select_related("home_area", "work_unit")
    if area is not None:
        qs = qs.filter(home_area__code__startswith=area.code)
    q = normalise_query(q)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(pinyin_initials__startswith=q.replace(" ", "")))
    return qs.order_by("home_area__code", "name", "pk")
