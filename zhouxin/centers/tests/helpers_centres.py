"""Shared set-up of the centre tests (centres, rooms, rota): made through the services, as staff would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from zhouxin.centers import centres
from zhouxin.core.scoping import scopes_disabled

D = Decimal

# Weekdays 08:30–12:00 and 13:30–20:00 (morning, afternoon, evening); Saturday mornings; closed on
# Sundays; 09:00–12:00 on public holidays.
HOURS = {**{key: [["08:30", "12:00"], ["13:30", "20:00"]] for key in centres.DAY_KEYS[:5]},
         "sat": [["09:00", "12:00"]], "sun": [], "holiday": [["09:00", "12:00"]]}


def make_centre(personas, area="community_a", *, actor="community_staff", name=None, floor_area="800",
                hours=None, **extra):
    area_obj = personas.areas[area]
    with scopes_disabled():
        return centres.centre_save(actor=personas.users[actor], area=area_obj, name=name or f"{area_obj.name}党群服务中心",
                                   address=f"{area_obj.name}1号", floor_area=D(floor_area),
                                   opening_hours=HOURS if hours is None else hours, **extra)


def make_room(personas, centre, name="多功能活动室", floor_area="100", *, actor="community_staff", **extra):
    values = {"capacity": 40, **extra}
    with scopes_disabled():
        return centres.room_save(actor=personas.users[actor], centre=centre, name=name, floor_area=D(floor_area),
                                 **values)


def travel(monkeypatch, day: dt.date) -> None:
    """Make `day` today (the rota refuses past days, and the holiday tests need a fixed year)."""
    original = timezone.localdate

    def localdate(value=None, timezone=None):
        return day if value is None else original(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
