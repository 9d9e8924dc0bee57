"""Builders shared by the activity and check-in tests (no tests here): activities through the
services, resident accounts, a signed-in portal client, times relative to now."""

from __future__ import annotations

import datetime as dt
import time

from django.test import Client
from django.utils import timezone

from zhouxin.core.crypto import blind_index
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.models import ResidentAccount
from zhouxin.portal.session import RESIDENT_KEY
from zhouxin.volunteers import activities
from zhouxin.volunteers.choices import ActivityCategory, RegistrationStatus
from zhouxin.volunteers.models import Activity, MemberRegistration

MEMBER_PHONE = "13900001111"  # 周海燕, the member persona


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


def activity(personas, *, title="多福巷社区敬老院探访", slots=5, starts_in=dt.timedelta(hours=2),
             length=dt.timedelta(hours=2), publish=True, actor="community_staff", area="community_a", **extra):
    now = timezone.now()
    with scopes_disabled():
        made = activities.activity_create(
            actor=personas.users[actor], community=personas.areas[area], title=title,
            category=ActivityCategory.ELDERLY, place="多福巷 12 号", starts_at=now + starts_in,
            ends_at=now + starts_in + length, slots=slots, **extra)
        if publish:
            activities.activity_publish(actor=personas.users[actor], activity=made)
    return made


def move(activity_obj: Activity, *, starts_at: dt.datetime, ends_at: dt.datetime) -> Activity:
    """Put an activity at given times (the services only take future times)."""
    Activity.objects.unscoped().filter(pk=activity_obj.pk).update(starts_at=starts_at, ends_at=ends_at)
    activity_obj.refresh_from_db()
    return activity_obj


def confirm_member(personas, acc=None) -> MemberRegistration:
    now = timezone.now()
    return MemberRegistration.objects.unscoped().create(
        person=personas.people["member_a"], community=personas.areas["community_a"], work_unit=personas.orgs["unit"],
        account=acc, status=RegistrationStatus.CONFIRMED, registered_at=now,
        valid_until=(now + dt.timedelta(days=180)).date())
