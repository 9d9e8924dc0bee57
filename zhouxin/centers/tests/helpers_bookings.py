"""Builders shared by the booking tests (no tests here): centres and rooms made directly, times on
the local clock relative to today, resident accounts and a signed-in portal client."""

from __future__ import annotations

import datetime as dt
import time

from django.test import Client
from django.utils import timezone

from zhouxin.centers import bookings
from zhouxin.centers.choices import BookerKind
from zhouxin.centers.models import Booking, Centre, Room
from zhouxin.core.crypto import blind_index
from zhouxin.portal.models import ResidentAccount
from zhouxin.portal.session import RESIDENT_KEY

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
# Open 08:30–12:00 and 13:30–20:00 every day, holidays included, so tests do not depend on the calendar.
OPEN_EVERY_DAY = {key: [["08:30", "12:00"], ["13:30", "20:00"]] for key in DAY_KEYS}
CLOSED_EVERY_DAY = {key: [] for key in DAY_KEYS}
RESIDENT_PHONE = "13812341234"
OTHER_PHONE = "13511112222"


def centre(personas, area: str = "community_a", name: str = "多福巷社区党群服务中心", hours=None,
           **extra) -> Centre:
    return Centre.objects.unscoped().create(area=personas.areas[area], name=name, address="多福巷 1 号",
                                            floor_area="600.00", opening_hours=hours or OPEN_EVERY_DAY, **extra)


def room(the_centre: Centre, name: str = "多功能活动室", capacity: int = 40, **extra) -> Room:
    return Room.objects.unscoped().create(centre=the_centre, name=name, floor_area="80.00", capacity=capacity,
                                          **extra)


def at(days: int, hour: int, minute: int = 0) -> dt.datetime:
    """Local wall time `days` from today at hour:minute, aware."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)), timezone.get_current_timezone())


def account(phone: str = RESIDENT_PHONE) -> ResidentAccount:
    now = timezone.now()
    found = ResidentAccount.objects.filter(phone_index=blind_index("phone", phone)).first()
    if found is not None:
        return found
    return ResidentAccount.objects.create(phone=phone, phone_index=blind_index("phone", phone),
                                          consent_version="2026-11", created_at=now, last_signed_in_at=now)


def portal_client(acc: ResidentAccount) -> Client:
    client = Client()
    session = client.session
    session[RESIDENT_KEY] = {"id": acc.pk, "since": time.time(), "seen": time.time()}
    session.save()
    return client


def unit_booking(personas, the_room: Room, *, starts_at, ends_at, title: str = "医院党支部主题党日",
                 expected: int = 20) -> Booking:
    return bookings.booking_request(actor=personas.unit_liaison, room=the_room, title=title, starts_at=starts_at,
                                    ends_at=ends_at, expected=expected, booker_kind=BookerKind.UNIT,
                                    organisation=personas.orgs["unit"])


def resident_booking(the_room: Room, *, acc=None, starts_at, ends_at, title: str = "书法练习",
                     expected: int = 6) -> Booking:
    return bookings.booking_request(account=acc or account(), room=the_room, title=title, starts_at=starts_at,
                                    ends_at=ends_at, expected=expected, booker_kind=BookerKind.RESIDENT)


def move(booking: Booking, *, starts_at, ends_at) -> Booking:
    """Put a booking at other times (the service only books the future)."""
    Booking.objects.unscoped().filter(pk=booking.pk).update(starts_at=starts_at, ends_at=ends_at)
    booking.refresh_from_db()
    return booking


def staff_booking_for(actor, the_room: Room, *, title: str, starts_at, ends_at, kind: str = BookerKind.STAFF,
                      group_name: str = "", expected: int = 10) -> Booking:
    return bookings.booking_request(actor=actor, room=the_room, title=title, starts_at=starts_at, ends_at=ends_at,
                                    expected=expected, booker_kind=kind, group_name=group_name)
