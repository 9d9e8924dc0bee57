"""Builders shared by the event and portal tests (no tests here): a centre with a room made
directly, events through the service, resident accounts, a signed-in portal client, texts kept in
memory."""

from __future__ import annotations

import datetime as dt
import time

from django.test import Client
from django.utils import timezone

from zhouxin.centers import events
from zhouxin.centers.models import Centre, Event, Room
from zhouxin.core.crypto import blind_index
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.models import ResidentAccount
from zhouxin.portal.session import RESIDENT_KEY

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
OPEN_EVERY_DAY = {key: [["08:30", "12:00"], ["13:30", "20:00"]] for key in DAY_KEYS}


def texts_in_memory(settings):
    """Texts go to the in-memory outbox (the body of each test module's `texts` fixture)."""
    from zhouxin.portal import sms

    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def centre(personas, area: str = "community_a", name: str = "多福巷社区党群服务中心", **extra) -> Centre:
    return Centre.objects.unscoped().create(area=personas.areas[area], name=name, address="多福巷 1 号",
                                            phone="010-65550000", floor_area="600.00",
                                            opening_hours=extra.pop("hours", OPEN_EVERY_DAY), **extra)


def room(the_centre: Centre, name: str = "多功能活动室", capacity: int = 40, **extra) -> Room:
    return Room.objects.unscoped().create(centre=the_centre, name=name, floor_area="80.00", capacity=capacity,
                                          equipment=extra.pop("equipment", "投影仪、音响"), **extra)


def event(personas, the_centre: Centre, *, title: str = "重阳节书画交流会", capacity: int = 3,
          starts_in=dt.timedelta(days=2), length=dt.timedelta(hours=2), actor: str = "community_staff",
          **extra) -> Event:
    now = timezone.now()
    with scopes_disabled():
        return events.event_create(actor=personas.users[actor], centre=the_centre, title=title,
                                   starts_at=now + starts_in, ends_at=now + starts_in + length, capacity=capacity,
                                   **extra)


def move(the_event: Event, *, starts_at: dt.datetime, ends_at: dt.datetime) -> Event:
    """Put an event at other times (the service only publishes the future)."""
    Event.objects.unscoped().filter(pk=the_event.pk).update(starts_at=starts_at, ends_at=ends_at)
    the_event.refresh_from_db()
    return the_event


def running(the_event: Event) -> Event:
    """The event started ten minutes ago and ends in two hours."""
    now = timezone.now()
    return move(the_event, starts_at=now - dt.timedelta(minutes=10), ends_at=now + dt.timedelta(hours=2))


def account(phone: str) -> ResidentAccount:
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
