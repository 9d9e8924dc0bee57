"""Builders for roster tests: workers registered through the roster services."""

from __future__ import annotations

import datetime as dt
import io

from zhouxin.core.scoping import scopes_disabled
from zhouxin.workforce import roster


def hire(personas, name, *, area="community_a", actor=None, hired=dt.date(2020, 3, 1), post=("专职", "网格员"),
         **extra):
    """A worker of `area` (a new person), holding `post` since hiring, registered by the street hub
    (of 景山街道 by the district admin)."""
    actor = actor or (personas.street_hub if area in ("community_a", "community_a2") else personas.district_admin)
    with scopes_disabled():
        worker = roster.worker_create(actor=actor, community=personas.areas[area], hire_date=hired, name=name,
                                      **extra)
        if post:
            roster.post_add(actor=actor, worker=worker, post_type=post[0], title=post[1], started_on=hired)
    return worker


def workbook(rows, header=None) -> io.BytesIO:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header or [c.header for c in roster.ROSTER_KIND.columns])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "roster.xlsx"
    return out
