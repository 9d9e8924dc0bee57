"""Routing: which organisation a request goes to (category × area → organisation).

The rule (DESIGN §3 "dispatch"): the most specific active rule wins — first the
deepest category on the leaf's path (the leaf itself, then its second-level, then
its top-level category), then, among rules of that category, the longest area code
on the area's path (grid, community, street, district, city).  A rule whose
organisation has been deactivated is skipped.  No rule → None, and the street hub
dispatches by hand.

Routing acts for the system: the rules that apply to a community include the
district's rules, which a community worker's own scope does not reach, so the rules
are read unscoped here (they name only a category, an area and an organisation).
"""

from __future__ import annotations

from zhouxin.orgs.models import Area, Organisation

from .models import Category, RoutingRule


def category_path_codes(code: str) -> list[str]:
    """"040101" → ["04", "0401", "040101"]."""
    return [code[:n] for n in range(2, len(code) + 1, 2)]


def area_path_codes(code: str) -> list[str]:
    """Area codes on the path from the city down: 110101001001 → 1101, 110101, 110101001, 110101001001."""
    lengths = (2, 4, 6, 9, 12, 15)
    return [code[:n] for n in lengths if n <= len(code)]


def rule_for(*, category: Category | None, area: Area | None) -> RoutingRule | None:
    """The rule that decides where a request of `category` in `area` goes, or None (one query)."""
    if category is None or area is None:
        return None
    rules = list(_candidates(category, area).select_related("organisation", "category", "area"))
    if not rules:
        return None
    return max(rules, key=lambda r: (len(r.category.code), len(r.area.code)))


def _candidates(category: Category, area: Area):
    """The active rules on the leaf's category path and the area's path, whose organisation is active."""
    return RoutingRule.objects.unscoped().filter(
        is_active=True, organisation__is_active=True, category__code__in=category_path_codes(category.code),
        area__code__in=area_path_codes(area.code))


def route_for(*, category: Category | None, area: Area | None) -> Organisation | None:
    """The organisation the most specific active rule names, or None (the street hub decides)."""
    rule = rule_for(category=category, area=area)
    return rule.organisation if rule is not None else None


def route_id_for(*, category: Category | None, area: Area | None) -> int | None:
    """`route_for`, answering only the organisation's id (intake's hot path: no model instances)."""
    if category is None or area is None:
        return None
    rows = _candidates(category, area).values_list("organisation_id", "category__code", "area__code")
    best = max(rows, key=lambda r: (len(r[1]), len(r[2])), default=None)
    return best[0] if best is not None else None


def route_ids_for(pairs) -> dict[tuple[str, str], int]:
    """`route_id_for` for many (category code, area code) pairs at once, in one query (the
    intake worker routes a batch with it).  Answers {(category code, area code): organisation
    id} for the pairs a rule matches; a pair with no rule is absent."""
    pairs = {(c, a) for c, a in pairs if c and a}
    if not pairs:
        return {}
    category_codes = {code for c, _a in pairs for code in category_path_codes(c)}
    area_codes = {code for _c, a in pairs for code in area_path_codes(a)}
    rules: dict[str, dict[str, int]] = {}  # category code → area code → organisation id
    for org_id, category_code, area_code in RoutingRule.objects.unscoped().filter(
            is_active=True, organisation__is_active=True, category__code__in=category_codes,
            area__code__in=area_codes).values_list("organisation_id", "category__code", "area__code"):
        rules.setdefault(category_code, {})[area_code] = org_id
    routed = {}
    for category_code, area_code in pairs:
        for candidate in reversed(category_path_codes(category_code)):  # deepest category first
            by_area = rules.get(candidate)
            if not by_area:
                continue
            found = next((by_area[a] for a in reversed(area_path_codes(area_code)) if a in by_area), None)
            if found is not None:  # then the longest area code on the path
                routed[(category_code, area_code)] = found
                break
    return routed
