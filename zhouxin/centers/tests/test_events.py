"""Centre events: publishing (at a time of its own or on an approved booking), registration up to
the places then the waiting list, promotion with a text when a place is given back, one live
registration per account, QR check-in (valid, expired, forged, another event's, unregistered,
waitlisted, walk-in), cancelling an event, and the staff pages."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import events
from zhouxin.centers.choices import BookerKind, EventStatus, RegistrationStatus
from zhouxin.centers.models import Event, EventRegistration
from zhouxin.core.scoping import scopes_disabled
from zhouxin.testing.clients import verified_client

from .helpers_events import account, centre, event, move, room, running, texts_in_memory

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts(settings):
    yield from texts_in_memory(settings)


EXPIRED = "签到码已过期，请扫描工作人员屏幕上刷新后的签到码。"
PHONES = ["13800000001", "13800000002", "13800000003", "13800000004", "13800000005"]


# --- Registration and the waiting list ---------------------------------------------------

def test_registration_fills_the_places_then_the_waiting_list_in_order(personas):
    planned = event(personas, centre(personas), capacity=2)
    made = [events.event_register(account=account(p), event=planned) for p in PHONES[:4]]
    assert [r.status for r in made] == [RegistrationStatus.REGISTERED, RegistrationStatus.REGISTERED,
                                        RegistrationStatus.WAITLISTED, RegistrationStatus.WAITLISTED]
    assert events.places_taken(planned) == 2
    assert [events.waitlist_position(r) for r in made[2:]] == [1, 2]


def test_cancelling_a_place_promotes_the_first_waiting_and_texts_them(personas, texts):
    planned = event(personas, centre(personas), capacity=1, title="社区合唱排练")
    first, second, third = (account(p) for p in PHONES[:3])
    events.event_register(account=first, event=planned)
    events.event_register(account=second, event=planned)
    events.event_register(account=third, event=planned)
    with TestCase.captureOnCommitCallbacks(execute=True):
        events.event_cancel_registration(account=first, event=planned)
    assert events.registration_of(planned, first) is None
    assert events.registration_of(planned, second).status == RegistrationStatus.REGISTERED
    assert events.registration_of(planned, third).status == RegistrationStatus.WAITLISTED
    assert [m.phone for m in texts] == [PHONES[1]]
    assert "社区合唱排练" in texts[0].text and "报名成功" in texts[0].text


def test_leaving_the_waiting_list_promotes_nobody_and_texts_nobody(personas, texts):
    planned = event(personas, centre(personas), capacity=1)
    first, second, third = (account(p) for p in PHONES[:3])
    for acc in (first, second, third):
        events.event_register(account=acc, event=planned)
    with TestCase.captureOnCommitCallbacks(execute=True):
        events.event_cancel_registration(account=second, event=planned)
    assert texts == []
    assert events.registration_of(planned, first).status == RegistrationStatus.REGISTERED
    third_entry = events.registration_of(planned, third)
    assert third_entry.status == RegistrationStatus.WAITLISTED and events.waitlist_position(third_entry) == 1


def test_a_second_registration_of_one_account_is_refused(personas):
    planned = event(personas, centre(personas), capacity=1)
    mine = account(PHONES[0])
    events.event_register(account=mine, event=planned)
    with pytest.raises(ValidationError, match="您已报名这个活动"):
        events.event_register(account=mine, event=planned)
    # Waiting, too: refused, and the list does not grow.
    waiting = account(PHONES[1])
    events.event_register(account=waiting, event=planned)
    with pytest.raises(ValidationError, match="候补名单上"):
        events.event_register(account=waiting, event=planned)
    assert EventRegistration.objects.unscoped().filter(event=planned).count() == 2
    # The database refuses it even without the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        EventRegistration.objects.unscoped().create(event=planned, account=mine, status=RegistrationStatus.REGISTERED,
                                                    registered_at=timezone.now())


def test_after_cancelling_one_may_register_again(personas):
    planned = event(personas, centre(personas), capacity=5)
    mine = account(PHONES[0])
    events.event_register(account=mine, event=planned)
    events.event_cancel_registration(account=mine, event=planned)
    again = events.event_register(account=mine, event=planned)
    assert again.status == RegistrationStatus.REGISTERED


def test_registration_needs_an_account_and_an_open_event(personas):
    planned = event(personas, centre(personas), capacity=1)
    with pytest.raises(PermissionDenied):
        events.event_register(account=None, event=planned)
    move(planned, starts_at=timezone.now() - dt.timedelta(hours=3), ends_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="活动已经结束"):
        events.event_register(account=account(PHONES[0]), event=planned)


def test_once_started_a_full_event_takes_no_waiting_list_and_cancelling_is_closed(personas):
    planned = event(personas, centre(personas), capacity=1)
    mine = account(PHONES[0])
    events.event_register(account=mine, event=planned)
    running(planned)
    with pytest.raises(ValidationError, match="名额已满"):
        events.event_register(account=account(PHONES[1]), event=planned)
    with pytest.raises(ValidationError, match="不能再取消报名"):
        events.event_cancel_registration(account=mine, event=planned)


# --- Publishing --------------------------------------------------------------------------

def _approved_unit_booking(personas, the_room, *, days=3, hours=(14, 16), expected=20):
    from zhouxin.centers import bookings

    zone = timezone.get_current_timezone()
    day = timezone.localdate() + dt.timedelta(days=days)
    starts_at = timezone.make_aware(dt.datetime.combine(day, dt.time(hours[0])), zone)
    ends_at = timezone.make_aware(dt.datetime.combine(day, dt.time(hours[1])), zone)
    with scopes_disabled():
        booking = bookings.booking_request(actor=personas.unit_liaison, room=the_room, title="医院义诊进社区",
                                           starts_at=starts_at, ends_at=ends_at, expected=expected,
                                           booker_kind=BookerKind.UNIT, organisation=personas.orgs["unit"])
        if booking.status != "approved":
            booking = bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)
    return booking


def test_an_event_on_an_approved_booking_takes_its_centre_and_time(personas):
    hub = centre(personas)
    hall = room(hub, capacity=30)
    booking = _approved_unit_booking(personas, hall)
    wrong = timezone.now() + dt.timedelta(days=20)
    made = events.event_create(actor=personas.community_staff, centre=None, title="医院义诊进社区", starts_at=wrong,
                               ends_at=wrong + dt.timedelta(hours=1), capacity=30, booking=booking)
    assert made.centre == hub and made.booking == booking
    assert (made.starts_at, made.ends_at) == (booking.starts_at, booking.ends_at)
    assert made.status == EventStatus.PUBLISHED
    # One event per booking.
    with pytest.raises(ValidationError) as exc:
        events.event_create(actor=personas.community_staff, centre=hub, title="再来一次", starts_at=None,
                            ends_at=None, capacity=10, booking=booking)
    assert exc.value.message_dict["booking"] == ["该预约已发布过活动。"]


def test_an_event_on_a_booking_cannot_exceed_the_room_or_use_a_pending_booking(personas):
    from zhouxin.centers.models import Booking

    hub = centre(personas)
    hall = room(hub, capacity=30)
    booking = _approved_unit_booking(personas, hall)
    with pytest.raises(ValidationError) as exc:
        events.event_create(actor=personas.community_staff, centre=hub, title="义诊", starts_at=None, ends_at=None,
                            capacity=31, booking=booking)
    assert exc.value.message_dict["capacity"] == ["名额不能超过功能室“多功能活动室”的容纳人数 30 人。"]
    Booking.objects.unscoped().filter(pk=booking.pk).update(status="pending")
    with pytest.raises(ValidationError) as exc:
        events.event_create(actor=personas.community_staff, centre=hub, title="义诊", starts_at=None, ends_at=None,
                            capacity=10, booking=booking)
    assert exc.value.message_dict["booking"] == ["只有已批准的场地预约可以发布为活动。"]
    assert not Event.objects.unscoped().exists()


def test_only_staff_managing_the_centre_publish_events(personas):
    hub = centre(personas)
    now = timezone.now()
    for persona in ("community_staff_b", "district_admin", "unit_liaison", "outsider"):
        with pytest.raises(PermissionDenied):
            events.event_create(actor=personas.users[persona], centre=hub, title="书画", capacity=5,
                                starts_at=now + dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1, hours=2))
    made = events.event_create(actor=personas.street_hub, centre=hub, title="书画", capacity=5,
                               starts_at=now + dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1, hours=2))
    assert made.created_by == personas.street_hub


def test_publishing_checks_the_times_and_places(personas):
    hub = centre(personas)
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        events.event_create(actor=personas.community_staff, centre=hub, title=" ", capacity=0,
                            starts_at=now - dt.timedelta(hours=1), ends_at=now - dt.timedelta(hours=2))
    errors = exc.value.message_dict
    assert errors["title"] == ["请填写活动名称。"]
    assert errors["capacity"] == ["名额必须大于 0。"]
    assert errors["starts_at"] == ["开始时间必须在现在之后。"]
    assert errors["ends_at"] == ["结束时间必须晚于开始时间。"]


def test_links_to_a_volunteer_activity_and_a_project_of_the_area_only(personas):
    from zhouxin.cobuild.models import Project
    from zhouxin.volunteers.tests.test_activities_helpers import activity

    hub = centre(personas)
    ours = activity(personas, title="助老志愿服务")
    theirs = activity(personas, title="吉祥社区清扫", actor="community_staff_b", area="community_b")
    with scopes_disabled():
        street_project = Project.objects.unscoped().create(title="东华门街道助老项目", area=personas.areas["street_a"],
                                                           created_by=personas.street_hub)
        other_project = Project.objects.unscoped().create(title="景山街道项目", area=personas.areas["street_b"],
                                                          created_by=personas.district_admin)
    with pytest.raises(ValidationError) as exc:
        event(personas, hub, volunteer_activity=theirs, project=other_project)
    assert set(exc.value.message_dict) == {"volunteer_activity", "project"}
    made = event(personas, hub, volunteer_activity=ours, project=street_project)
    assert made.volunteer_activity == ours and made.project == street_project


# --- Check-in ----------------------------------------------------------------------------

def _registered_running(personas, capacity=3):
    planned = event(personas, centre(personas), capacity=capacity)
    mine = account(PHONES[0])
    events.event_register(account=mine, event=planned)
    return running(planned), mine


def test_a_registered_resident_checks_in_with_a_valid_code_once(personas):
    planned, mine = _registered_running(personas)
    done = events.check_in(account=mine, token=events.checkin_token(planned))
    assert done.checked_in_at is not None and done.status == RegistrationStatus.REGISTERED
    with pytest.raises(ValidationError, match="已经签到过了"):
        events.check_in(account=mine, token=events.checkin_token(planned))


def test_an_expired_code_is_refused_with_a_clear_message(personas):
    planned, mine = _registered_running(personas)
    old = timezone.now() - dt.timedelta(seconds=events.CODE_VALID_SECONDS + 5)
    with pytest.raises(ValidationError) as exc:
        events.check_in(account=mine, token=events.checkin_token(planned, issued_at=old))
    assert exc.value.messages == [EXPIRED]
    assert events.registration_of(planned, mine).checked_in_at is None


def _tampered(token: str, **changes) -> str:
    head, rest = token.split(":", 1)
    payload = {**json.loads(signing.b64_decode(head.encode())), **changes}
    return signing.b64_encode(json.dumps(payload, separators=(",", ":")).encode()).decode() + ":" + rest


def test_a_code_for_another_event_does_not_check_in(personas):
    planned, mine = _registered_running(personas)
    other = running(event(personas, planned.centre, title="下午场：手机课堂"))
    # A genuine code of the other event: the resident is not registered there.
    with pytest.raises(ValidationError) as exc:
        events.check_in(account=mine, token=events.checkin_token(other))
    assert exc.value.messages == ["您没有报名“下午场：手机课堂”。如现场还有名额，可以现场报名后签到。"]
    # This event's code rewritten to name the other event: the signature no longer fits.
    with pytest.raises(ValidationError, match="签到码无效"):
        events.check_in(account=mine, token=_tampered(events.checkin_token(planned), e=other.pk))
    with pytest.raises(ValidationError, match="签到码无效"):
        events.check_in(account=mine, token="not-a-code")
    assert events.registration_of(planned, mine).checked_in_at is None
    assert not EventRegistration.objects.unscoped().filter(event=other).exists()


def test_a_replaced_key_voids_the_codes_shown_so_far(personas):
    planned, mine = _registered_running(personas)
    token = events.checkin_token(planned)
    events.event_rotate_key(actor=personas.community_staff, event=planned)
    with pytest.raises(ValidationError, match="签到码无效"):
        events.check_in(account=mine, token=token)


def test_an_unregistered_resident_is_told_and_a_walk_in_registers_while_places_remain(personas):
    planned, _mine = _registered_running(personas, capacity=2)
    walker = account(PHONES[1])
    with pytest.raises(ValidationError, match="您没有报名"):
        events.check_in(account=walker, token=events.checkin_token(planned))
    assert events.registration_of(planned, walker) is None
    done = events.check_in(account=walker, token=events.checkin_token(planned), walk_in=True)
    assert done.status == RegistrationStatus.REGISTERED and done.checked_in_at is not None
    # Now full: the next walk-in is refused and nothing is written.
    late = account(PHONES[2])
    with pytest.raises(ValidationError, match="名额已满，不能现场报名"):
        events.check_in(account=late, token=events.checkin_token(planned), walk_in=True)
    assert events.registration_of(planned, late) is None


def test_a_waitlisted_resident_is_not_checked_in(personas):
    planned = event(personas, centre(personas), capacity=1)
    events.event_register(account=account(PHONES[0]), event=planned)
    waiting = account(PHONES[1])
    events.event_register(account=waiting, event=planned)
    running(planned)
    with pytest.raises(ValidationError) as exc:
        events.check_in(account=waiting, token=events.checkin_token(planned), walk_in=True)
    assert exc.value.messages == ["您在“重阳节书画交流会”的候补名单上（第 1 位），还没有获得名额，不能签到；请联系现场工作人员。"]
    assert events.registration_of(planned, waiting).checked_in_at is None


def test_check_in_opens_half_an_hour_before_and_not_for_a_cancelled_event(personas):
    planned = event(personas, centre(personas), capacity=3)
    mine = account(PHONES[0])
    events.event_register(account=mine, event=planned)
    with pytest.raises(ValidationError, match="活动开始前 30 分钟开放签到"):
        events.check_in(account=mine, token=events.checkin_token(planned))
    now = timezone.now()
    move(planned, starts_at=now + dt.timedelta(minutes=20), ends_at=now + dt.timedelta(hours=2))
    assert events.check_in(account=mine, token=events.checkin_token(planned)).checked_in_at is not None
    other = running(event(personas, planned.centre, title="取消的活动"))
    events.event_register(account=mine, event=other)
    events.event_cancel(actor=personas.community_staff, event=other, reason="场地漏水")
    with pytest.raises(ValidationError, match="活动已取消"):
        events.check_in(account=mine, token=events.checkin_token(other))


def test_a_scan_seen_before_signing_in_counts_at_the_time_of_the_scan(personas):
    planned, mine = _registered_running(personas)
    scanned = timezone.now() - dt.timedelta(minutes=2)
    token = events.checkin_token(planned, issued_at=scanned - dt.timedelta(seconds=10))
    done = events.check_in(account=mine, token=token, scanned_at=scanned)
    assert done.checked_in_at == scanned


# --- Cancelling an event -----------------------------------------------------------------

def test_cancelling_an_event_texts_registered_and_waiting_residents(personas, texts):
    planned = event(personas, centre(personas), capacity=1, title="消防安全讲座")
    for phone in PHONES[:2]:
        events.event_register(account=account(phone), event=planned)
    with pytest.raises(ValidationError) as exc:
        events.event_cancel(actor=personas.community_staff, event=planned, reason="  ")
    assert exc.value.message_dict["reason"] == ["请填写取消原因，会以短信告知已报名的居民。"]
    with pytest.raises(PermissionDenied):
        events.event_cancel(actor=personas.community_staff_b, event=planned, reason="暴雨")
    with TestCase.captureOnCommitCallbacks(execute=True):
        events.event_cancel(actor=personas.community_staff, event=planned, reason="暴雨预警")
    planned.refresh_from_db()
    assert planned.status == EventStatus.CANCELLED
    assert sorted(m.phone for m in texts) == PHONES[:2]
    assert all("消防安全讲座" in m.text and "暴雨预警" in m.text for m in texts)
    assert set(EventRegistration.objects.unscoped().filter(event=planned).values_list("status", flat=True)) == {
        RegistrationStatus.CANCELLED}
    with pytest.raises(ValidationError, match="活动已经取消"):
        events.event_cancel(actor=personas.community_staff, event=planned, reason="再取消")


# --- Staff pages -------------------------------------------------------------------------

def test_staff_publish_an_event_from_the_form(personas):
    hub = centre(personas)
    client = verified_client(personas, "community_staff")
    day = timezone.localdate() + dt.timedelta(days=5)
    response = client.post(reverse("centers:event_create"), {
        "centre": hub.pk, "title": "亲子阅读会", "starts_at": f"{day:%Y-%m-%d}T09:00", "ends_at": f"{day:%Y-%m-%d}T11:00",
        "capacity": 12, "description": "绘本共读"})
    made = Event.objects.unscoped().get(title="亲子阅读会")
    assert response.status_code == 302 and response.url == reverse("centers:event_detail", args=[made.pk])
    assert timezone.localtime(made.starts_at).hour == 9 and made.capacity == 12
    # Without a booking, the times are needed.
    response = client.post(reverse("centers:event_create"), {"centre": hub.pk, "title": "无时间", "capacity": 5})
    assert response.status_code == 422
    assert "请填写开始时间，或选择一个已批准的场地预约。" in response.content.decode()


def test_staff_turn_a_units_approved_booking_into_an_event(personas):
    hub = centre(personas)
    booking = _approved_unit_booking(personas, room(hub, capacity=30), expected=25)
    client = verified_client(personas, "community_staff")
    page = client.get(f"{reverse('centers:event_create')}?booking={booking.pk}").content.decode()
    assert f'<option value="{booking.pk}" selected>' in page
    response = client.post(reverse("centers:event_create"), {"booking": booking.pk, "title": "医院义诊进社区",
                                                              "capacity": 25})
    assert response.status_code == 302
    made = Event.objects.unscoped().get(booking=booking)
    assert made.starts_at == booking.starts_at and made.centre == hub


def test_the_event_page_masks_phones_and_staff_confirm_an_arrival(personas):
    planned = event(personas, centre(personas), capacity=1)
    events.event_register(account=account(PHONES[0]), event=planned)
    events.event_register(account=account(PHONES[1]), event=planned)
    running(planned)
    client = verified_client(personas, "street_hub")
    page = client.get(reverse("centers:event_detail", args=[planned.pk])).content.decode()
    assert PHONES[0] not in page and PHONES[1] not in page
    assert "138****0001" in page and "第 1 位" in page
    registration = events.registration_of(planned, account(PHONES[0]))
    response = client.post(reverse("centers:event_registration_check_in", args=[planned.pk, registration.pk]))
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.checked_in_at is not None


def test_the_check_in_screen_shows_a_fresh_code_for_the_portal(personas):
    planned = event(personas, centre(personas))
    client = verified_client(personas, "community_staff")
    page = client.get(reverse("centers:event_code", args=[planned.pk]))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    data = client.get(reverse("centers:event_code_json", args=[planned.pk])).json()
    assert "/portal/centres/check/" in data["url"] and data["svg"].startswith("<svg")
    token = data["url"].rstrip("/").rsplit("/", 1)[1]
    assert events.read_token(token) == planned
    events.event_cancel(actor=personas.community_staff, event=planned, reason="取消")
    assert client.get(reverse("centers:event_code_json", args=[planned.pk])).status_code == 409


def test_the_list_shows_the_areas_events_without_a_query_per_event(personas, django_assert_num_queries):
    hub = centre(personas)
    other = centre(personas, area="community_b", name="吉祥社区党群服务中心")
    event(personas, hub, title="本社区活动一")
    event(personas, other, title="吉祥社区活动", actor="community_staff_b")
    client = verified_client(personas, "community_staff")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        page = client.get(reverse("centers:event_list")).content.decode()
    assert "本社区活动一" in page and "吉祥社区活动" not in page
    for n in range(4):
        event(personas, hub, title=f"更多活动{n}")
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("centers:event_list")).content.decode()
    assert "更多活动3" in page
    assert len(five.captured_queries) == len(one.captured_queries)


# --- Concurrency -------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_for_the_last_place_give_it_once(personas):
    """Six residents press 报名 at once for one place: one gets it, the others wait in line."""
    import threading

    from django.db import connections

    planned = event(personas, centre(personas), capacity=1)
    accounts = [account(f"1370000000{n}") for n in range(6)]
    barrier = threading.Barrier(len(accounts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def register(acc):
        try:
            barrier.wait(timeout=20)
            result = events.event_register(account=acc, event=planned).status
        except BaseException as exc:  # pragma: no cover - shown in the assertion
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=register, args=(acc,)) for acc in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [RegistrationStatus.REGISTERED] + [RegistrationStatus.WAITLISTED] * 5, outcomes
    assert events.places_taken(planned) == 1
