"""The orgs panel of the staff workbench (registered in OrgsConfig.ready()).

For area roles: a search box, the counts of what the user's grants reach and
quick links into each granted node.  Five queries whatever the size of the scope.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import pgettext_lazy

from . import selectors
from .choices import AreaLevel

TILE_LEVELS = (
    (AreaLevel.STREET, pgettext_lazy("计数", "街道")),
    (AreaLevel.COMMUNITY, pgettext_lazy("计数", "社区")),
    (AreaLevel.GRID, pgettext_lazy("计数", "网格")),
)


def workbench_panel(request) -> dict | None:
    user = request.user
    roots = selectors.grant_roots(user)
    if not roots:
        return None
    summary = selectors.scope_summary()
    top = min(selectors.LEVEL_RANK[root.level] for root in roots)
    tree_url = reverse("orgs:tree")
    tiles = [
        {"key": level, "label": label, "count": summary.by_level.get(level, 0), "url": tree_url}
        for level, label in TILE_LEVELS
        if selectors.LEVEL_RANK[level] > top
    ]
    tiles.append({"key": "organisations", "label": pgettext_lazy("计数", "组织"), "count": summary.organisations,
                  "url": reverse("orgs:org_list")})
    tiles.append({"key": "people", "label": pgettext_lazy("计数", "人员"), "count": summary.people,
                  "url": reverse("orgs:person_list")})
    names = selectors.ancestor_names([root.code for root in roots])
    return {
        "tiles": tiles,
        "roots": [{"area": root, "path": selectors.area_path(root.code, user, names)} for root in roots],
    }
