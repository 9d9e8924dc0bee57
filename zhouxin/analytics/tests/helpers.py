"""Roll-up rows for the dashboard tests, written directly (the dashboard reads nothing else)."""

from __future__ import annotations

import json
import re

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.models import CategoryRollup, Rollup
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area


def district_of(area: Area) -> Area:
    with scopes_disabled():
        return Area.objects.unscoped().get(code=area.code[:6])


def rollup(area: Area, month, **counters) -> Rollup:
    """One month's counters of a street or community (unset counters are 0)."""
    with scopes_disabled():
        return Rollup.objects.unscoped().create(month=month, district=district_of(area), area=area, **counters)


def category_rollup(street: Area, month, category, received: int) -> CategoryRollup:
    with scopes_disabled():
        return CategoryRollup.objects.unscoped().create(month=month, district=district_of(street), street=street,
                                                        category=category, received=received)


def add_communities(street: Area, numbers) -> list[Area]:
    with scopes_disabled():
        return [Area.objects.unscoped().create(code=f"{street.code}{n:03d}", name=f"测试{n}号社区",
                                               level=AreaLevel.COMMUNITY, parent=street) for n in numbers]


def chart_data(response) -> dict:
    match = re.search(r'<script id="analytics-dashboard-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert match, "no chart data island"
    return json.loads(match.group(1))


def table(response, table_id: str) -> list[list[str]]:
    """The body rows of a table as lists of cell texts."""
    html = response.content.decode()
    start = html.index(f'id="{table_id}"')
    part = html[start:html.index("</table>", start)]
    body = part[part.index("<tbody>"):]
    return [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
