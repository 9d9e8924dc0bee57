"""Utilisation of the centres (DESIGN §3 centers, issue 10 item 5): how much the rooms are used, how
many people come, and the daily visitor count that staff record.

Figures of a room over a period of days [first, last] (local dates):

* open hours: the sum over the days of the centre's opening intervals (centres.opening_intervals,
  which applies the "holiday" hours on the calendar's public holidays);
* booked hours: the part of each approved or completed booking that falls inside those opening
  intervals and inside the period (a booking running past closing time counts only while the
  centre is open); pending, cancelled, rejected and no-show bookings are not counted;
* occupancy: booked hours ÷ open hours, in per cent (none when the room was never open);
* bookings: approved or completed bookings starting in the period; no-shows (爽约) are reported
  separately, with the open hours they held;
* events: the centre's events (not cancelled) starting in the period that were held on a booking
  of the room; attendance: their registrations that were checked in; registrations: the places
  taken (registered, not waiting or cancelled).

Figures of a centre: the same summed over its active bookable rooms (so its occupancy is the
booked share of all its rooms' open hours), except that the events are all of the centre's
events (an event needs no room booking), plus the visitors (来访人次) counted at the desk.

Every figure of any number of centres, rooms and days comes from a fixed number of queries (the
rooms, the bookings, the events with their attendance, the visitor counts and the calendar's
year data); the hours are worked out in Python from those rows.  The callers pass centres they
may read (a view fetches them through the scoped manager); the rows below them are read without
a second scope.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user

from .choices import BookingStatus, EventStatus, RegistrationStatus
from .models import Booking, Centre, Event, Room, VisitCount

DAY = dt.timedelta(days=1)
HOUR = Decimal(3600)
USED = (BookingStatus.APPROVED, BookingStatus.COMPLETED)
VISITORS_MAX = 100_000  # more than any centre's day: a typo (an extra zero or two) is refused


# --- Periods ---------------------------------------------------------------------------------------

PERIODS = (
    ("this_month", gettext_lazy("本月")),
    ("last_month", gettext_lazy("上月")),
    ("last_12_months", gettext_lazy("近12个月")),
)
DEFAULT_PERIOD = "this_month"


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    first: dt.date
    last: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    month = day.year * 12 + day.month - 1 - back
    return dt.date(month // 12, month % 12 + 1, 1)


def period_for(key: str | None, today: dt.date | None = None) -> Period:
    """The days of a period of the dashboards: this month up to today, last month, or the twelve
    calendar months up to today (this one included).  An unknown key means this month."""
    today = today or timezone.localdate()
    labels = dict(PERIODS)
    if key not in labels:
        key = DEFAULT_PERIOD
    if key == "last_month":
        first = _month_start(today, 1)
        last = _month_start(today) - DAY
    elif key == "last_12_months":
        first, last = _month_start(today, 11), today
    else:
        first, last = _month_start(today), today
    return Period(key=key, label=str(labels[key]), first=first, last=last)


# --- Figures -------------------------------------------------------------------------------------

def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / HOUR).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    """The counts of one room, one centre, or all centres of a dashboard."""

    open_seconds: int = 0
    booked_seconds: int = 0
    no_show_seconds: int = 0
    bookings: int = 0
    no_shows: int = 0
    events: int = 0
    registrations: int = 0
    attendance: int = 0
    visitors: int | None = None  # rooms have no visitor count

    @property
    def open_hours(self) -> Decimal:
        return _hours(self.open_seconds)

    @property
    def booked_hours(self) -> Decimal:
        return _hours(self.booked_seconds)

    @property
    def no_show_hours(self) -> Decimal:
        return _hours(self.no_show_seconds)

    @property
    def occupancy(self) -> Decimal | None:
        """Booked hours as a share of open hours, in per cent (one decimal)."""
        return _percent(self.booked_seconds, self.open_seconds)

    def add(self, other: Figures, *, events: bool = True) -> None:
        self.open_seconds += other.open_seconds
        self.booked_seconds += other.booked_seconds
        self.no_show_seconds += other.no_show_seconds
        self.bookings += other.bookings
        self.no_shows += other.no_shows
        if events:
            self.events += other.events
            self.registrations += other.registrations
            self.attendance += other.attendance
        if other.visitors is not None:
            self.visitors = (self.visitors or 0) + other.visitors


@dataclass
class RoomUtilisation(Figures):
    room: Room | None = None


@dataclass
class CentreUtilisation(Figures):
    centre: Centre | None = None
    rooms: list[RoomUtilisation] = field(default_factory=list)


@dataclass
class Week:
    start: dt.date
    bookings: int = 0
    no_shows: int = 0
    booked_seconds: int = 0
    visitors: int = 0
    events: int = 0
    attendance: int = 0

    @property
    def booked_hours(self) -> Decimal:
        return _hours(self.booked_seconds)


@dataclass
class Report:
    """The utilisation of some centres over [first, last]: per centre (with its rooms), the totals,
    and week by week (weeks starting on Monday, cut to the period)."""

    first: dt.date
    last: dt.date
    centres: list[CentreUtilisation] = field(default_factory=list)
    totals: Figures = field(default_factory=lambda: Figures(visitors=0))
    weeks: list[Week] = field(default_factory=list)

    @property
    def rooms(self) -> list[RoomUtilisation]:
        return [room for centre in self.centres for room in centre.rooms]


class _Calendar:
    """The opening intervals of each centre on each day, as aware datetimes, computed once."""

    def __init__(self):
        from .centres import opening_intervals

        self._intervals = opening_intervals
        self._cache: dict[tuple[int, dt.date], list[tuple[dt.datetime, dt.datetime]]] = {}
        self._tz = timezone.get_current_timezone()

    def on(self, centre: Centre, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        key = (centre.pk, day)
        found = self._cache.get(key)
        if found is None:
            found = []
            for start, end in self._intervals(centre, day):
                opens = timezone.make_aware(dt.datetime.combine(day, start), self._tz)
                # An interval "until midnight" may be written with an end of 00:00.
                closes_day = day + DAY if end <= start else day
                closes = timezone.make_aware(dt.datetime.combine(closes_day, end), self._tz)
                found.append((opens, closes))
            self._cache[key] = found
        return found

    def open_seconds(self, centre: Centre, day: dt.date) -> int:
        return sum(int((closes - opens).total_seconds()) for opens, closes in self.on(centre, day))

    def overlap(self, centre: Centre, starts: dt.datetime, ends: dt.datetime, first: dt.date,
                last: dt.date) -> dict[dt.date, int]:
        """Seconds of [starts, ends) inside the centre's opening intervals, by day, within [first, last]."""
        result: dict[dt.date, int] = {}
        day = max(first, timezone.localdate(starts, self._tz) - DAY)  # an interval may run past midnight
        end_day = min(last, timezone.localdate(ends, self._tz))
        while day <= end_day:
            seconds = 0
            for opens, closes in self.on(centre, day):
                lo, hi = max(opens, starts), min(closes, ends)
                if hi > lo:
                    seconds += int((hi - lo).total_seconds())
            if seconds:
                result[day] = result.get(day, 0) + seconds
            day += DAY
        return result


def _bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime.combine(first, dt.time.min), tz),
            timezone.make_aware(dt.datetime.combine(last + DAY, dt.time.min), tz))


def _days(first: dt.date, last: dt.date):
    day = first
    while day <= last:
        yield day
        day += DAY


def _week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def report(centres, first: dt.date, last: dt.date, *, rooms=None) -> Report:
    """The utilisation of `centres` (with their active bookable rooms, or the given `rooms` of
    them) over the days [first, last].  A fixed number of queries, whatever the number of
    centres, rooms and days."""
    if last < first:
        raise ValueError("last < first")
    centres = list(centres)
    result = Report(first=first, last=last)
    result.weeks = [Week(start=w) for w in sorted({_week_of(d) for d in _days(first, last)})]
    weeks = {w.start: w for w in result.weeks}
    if not centres:
        return result
    by_id = {c.pk: c for c in centres}
    if rooms is None:
        rooms = list(Room.objects.unscoped().filter(centre__in=centres, bookable=True, is_active=True)
                     .order_by("centre_id", "name", "pk"))
    else:
        rooms = [r for r in rooms if r.centre_id in by_id]
    start, end = _bounds(first, last)
    calendar = _Calendar()

    per_room = {r.pk: RoomUtilisation(room=r) for r in rooms}
    per_centre = {c.pk: CentreUtilisation(centre=c, visitors=0) for c in centres}
    for r in rooms:
        r.centre = by_id[r.centre_id]
        per_centre[r.centre_id].rooms.append(per_room[r.pk])

    # Open hours: every room of a centre is open when the centre is.
    open_by_centre = {c.pk: sum(calendar.open_seconds(c, d) for d in _days(first, last)) for c in centres}
    for figures in per_room.values():
        figures.open_seconds = open_by_centre[figures.room.centre_id]

    # Bookings: approved and completed ones are the use; no-shows are reported apart.
    bookings = Booking.objects.unscoped().filter(
        room__in=list(per_room), starts_at__lt=end, ends_at__gt=start,
        status__in=[*USED, BookingStatus.NO_SHOW]).order_by().values_list("room_id", "starts_at", "ends_at", "status")
    for room_id, starts, ends, status in bookings:
        figures = per_room[room_id]
        seconds_by_day = calendar.overlap(figures.room.centre, starts, ends, first, last)
        seconds = sum(seconds_by_day.values())
        start_day = timezone.localdate(starts)
        starts_in_period = first <= start_day <= last
        if status == BookingStatus.NO_SHOW:
            figures.no_show_seconds += seconds
            if starts_in_period:
                figures.no_shows += 1
                weeks[_week_of(start_day)].no_shows += 1
            continue
        figures.booked_seconds += seconds
        for day, part in seconds_by_day.items():
            weeks[_week_of(day)].booked_seconds += part
        if starts_in_period:
            figures.bookings += 1
            weeks[_week_of(start_day)].bookings += 1

    # Events and their attendance (checked-in registrations), one aggregate query.
    live = ~Q(registrations__status=RegistrationStatus.CANCELLED)
    events = Event.objects.unscoped().filter(centre__in=centres, starts_at__gte=start, starts_at__lt=end).exclude(
        status=EventStatus.CANCELLED).values("pk", "centre_id", "booking__room_id", "starts_at").annotate(
        taken=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED)),
        came=Count("registrations", filter=live & Q(registrations__checked_in_at__isnull=False))).order_by()
    for row in events:
        centre_figures = per_centre[row["centre_id"]]
        centre_figures.events += 1
        centre_figures.registrations += row["taken"]
        centre_figures.attendance += row["came"]
        room_figures = per_room.get(row["booking__room_id"])
        if room_figures is not None:
            room_figures.events += 1
            room_figures.registrations += row["taken"]
            room_figures.attendance += row["came"]
        week = weeks[_week_of(timezone.localdate(row["starts_at"]))]
        week.events += 1
        week.attendance += row["came"]

    # Visitors counted at the desk.
    for centre_id, day, visitors in VisitCount.objects.unscoped().filter(
            centre__in=centres, day__gte=first, day__lte=last).order_by().values_list("centre_id", "day", "visitors"):
        per_centre[centre_id].visitors += visitors
        weeks[_week_of(day)].visitors += visitors

    for centre in centres:
        figures = per_centre[centre.pk]
        for room_figures in figures.rooms:
            figures.add(room_figures, events=False)
        result.centres.append(figures)
        result.totals.add(figures)
    return result


def room_utilisation(room: Room, first: dt.date, last: dt.date) -> RoomUtilisation:
    """Occupancy, bookings, no-shows, events and attendance of one room over [first, last]."""
    return report([room.centre], first, last, rooms=[room]).centres[0].rooms[0]


def centre_utilisation(centre: Centre, first: dt.date, last: dt.date) -> CentreUtilisation:
    """The centre's figures over [first, last]: its bookable rooms summed, its events, its visitors;
    `.rooms` holds each room's figures."""
    return report([centre], first, last).centres[0]


# --- Visitor counts ------------------------------------------------------------------------------

def visits_record(*, actor, centre: Centre, day: dt.date, visitors: int) -> VisitCount:
    """Record the number of visitors (来访人次) of a centre on one day, counted at the desk or by
    the door counter: one count per centre and day, by staff who keep the centre
    ("centers.manage" on its area).  Recording the day again corrects the count (the audit trail
    keeps the count it replaced).  Not for a day still to come; not negative."""
    ensure_can(actor, "centers.manage", centre.area.code)
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError(_("请填写日期。"))
    if day > timezone.localdate():
        raise ValidationError(_("不能登记今天以后的来访人次。"))
    try:
        visitors = int(visitors)
    except (TypeError, ValueError):
        raise ValidationError(_("来访人次应为整数。")) from None
    if visitors < 0:
        raise ValidationError(_("来访人次不能为负数。"))
    if visitors > VISITORS_MAX:
        raise ValidationError(_("来访人次不能超过 %(n)s。") % {"n": f"{VISITORS_MAX:,}"})
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return _visits_write(actor, centre, day, visitors)
        except IntegrityError:  # the same day was recorded at the same moment: correct that count
            continue
    raise ValidationError(_("该日的来访人次正在被他人登记，请稍后再试。"))


def _visits_write(actor, centre: Centre, day: dt.date, visitors: int) -> VisitCount:
    current = VisitCount.objects.unscoped().select_for_update().filter(centre=centre, day=day).first()
    after = {"centre": centre.pk, "day": day.isoformat(), "visitors": visitors}
    if current is None:
        current = VisitCount.objects.unscoped().create(centre=centre, day=day, visitors=visitors, recorded_by=actor)
        audit.record(actor=actor, action="centers.visits.recorded", obj=current, after=after)
        return current
    if current.visitors == visitors:
        return current
    before = {"visitors": current.visitors, "recorded_by": current.recorded_by_id}
    current.visitors = visitors
    current.recorded_by = actor
    current.save(update_fields=["visitors", "recorded_by"])
    audit.record(actor=actor, action="centers.visits.corrected", obj=current, before=before, after=after)
    return current


def manageable_centres(user):
    """Active centres whose visitor counts `user` may record ("centers.manage" on the centre's area)."""
    prefixes = scope_for_user(user).prefixes(roles_for("centers.manage"))
    if not prefixes:
        return Centre.objects.unscoped().none()
    return Centre.objects.unscoped().filter(reduce(or_, (Q(area__code__startswith=p) for p in prefixes)),
                                            is_active=True).select_related("area").order_by("area__code", "name")

