"""Room bookings (issue 10 item 3): every rule of the service with the message the user sees, the
database's own refusal of an overlapping row, and the staff and portal pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import booking_sql, bookings
from zhouxin.centers.choices import BookerKind, BookingStatus
from zhouxin.centers.models import Booking
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.orgs.models import Person
from zhouxin.portal import sms

from .helpers_bookings import (
    CLOSED_EVERY_DAY,
    OTHER_PHONE,
    RESIDENT_PHONE,
    account,
    at,
    centre,
    move,
    portal_client,
    resident_booking,
    room,
    unit_booking,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _texts(settings):
    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def hall(personas):
    """多福巷社区's activity hall: 40 places, bookings need approval."""
    return room(centre(personas), name="多功能活动室", capacity=40)


@pytest.fixture
def reading(hall):
    """A room of the same centre that needs no approval."""
    return room(hall.centre, name="阅览室", capacity=12, needs_approval=False)


def messages_of(exc_info) -> str:
    return " ".join(exc_info.value.messages)


def staff_booking(personas, the_room, *, starts_at, ends_at, title="社区议事会", kind=BookerKind.STAFF,
                  actor="community_staff", group_name="", expected=10):
    return bookings.booking_request(actor=personas.users[actor], room=the_room, title=title, starts_at=starts_at,
                                    ends_at=ends_at, expected=expected, booker_kind=kind, group_name=group_name)


def liaison_person(personas, phone="13322223333"):
    """The liaison's person record, which carries the phone their texts go to."""
    return Person.objects.unscoped().create(name="孙雅琴", home_area=personas.areas["community_a"], phone=phone,
                                            phone_index=blind_index("phone", phone), user=personas.unit_liaison)


# --- Requesting ---------------------------------------------------------------------------------

def test_a_liaison_books_for_their_unit_and_waits_for_approval(personas, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    assert booking.status == BookingStatus.PENDING
    assert (booking.booker_kind, booking.organisation, booking.booked_by) == (
        BookerKind.UNIT, personas.orgs["unit"], personas.unit_liaison)
    assert booking.decided_at is None
    entry = AuditEntry.objects.get(action="centers.booking.requested", object_id=str(booking.pk))
    assert entry.actor == personas.unit_liaison


def test_a_room_without_approval_is_approved_at_once(personas, reading):
    booking = resident_booking(reading, starts_at=at(2, 14), ends_at=at(2, 16))
    assert booking.status == BookingStatus.APPROVED and booking.decided_at is not None
    assert booking.account == account() and booking.booked_by is None


def test_staff_book_for_the_community_and_for_a_named_group(personas, hall):
    own = staff_booking(personas, hall, starts_at=at(3, 9), ends_at=at(3, 10))
    group = staff_booking(personas, hall, starts_at=at(3, 14), ends_at=at(3, 16), kind=BookerKind.GROUP,
                          title="合唱排练", group_name="多福巷合唱团", actor="street_hub")
    assert own.booker_kind == BookerKind.STAFF and own.organisation is None
    assert (group.booker_kind, group.group_name, group.booked_by) == (BookerKind.GROUP, "多福巷合唱团",
                                                                      personas.street_hub)
    with pytest.raises(ValidationError) as exc:
        staff_booking(personas, hall, starts_at=at(4, 9), ends_at=at(4, 10), kind=BookerKind.GROUP)
    assert "请填写团队名称。" in messages_of(exc)


def test_an_overlapping_request_names_the_booking_in_the_way(personas, hall):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11), title="医院党支部主题党日")
    with pytest.raises(ValidationError) as exc:
        staff_booking(personas, hall, starts_at=at(2, 10), ends_at=at(2, 11, 30))
    assert messages_of(exc) == "该时段已被预约：医院党支部主题党日 09:00–11:00"
    assert Booking.objects.unscoped().count() == 1


def test_a_resident_is_told_only_the_time_that_is_taken(personas, hall):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11), title="医院党支部主题党日")
    with pytest.raises(ValidationError) as exc:
        resident_booking(hall, starts_at=at(2, 8, 30), ends_at=at(2, 9, 30))
    assert messages_of(exc) == "该时段已被预约：09:00–11:00"


@pytest.mark.parametrize("starts, ends", [((9, 0), (11, 0)), ((8, 30), (11, 30)), ((9, 30), (10, 30)),
                                          ((10, 59), (11, 30))])
def test_every_kind_of_overlap_is_refused(personas, hall, starts, ends):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    with pytest.raises(ValidationError, match="该时段已被预约"):
        staff_booking(personas, hall, starts_at=at(2, *starts), ends_at=at(2, *ends))


def test_back_to_back_bookings_and_other_rooms_are_fine(personas, hall, reading):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    staff_booking(personas, hall, starts_at=at(2, 10), ends_at=at(2, 11))
    staff_booking(personas, hall, starts_at=at(2, 8, 30), ends_at=at(2, 9), title="早会")
    staff_booking(personas, reading, starts_at=at(2, 9), ends_at=at(2, 10), title="读书会")
    assert Booking.objects.unscoped().count() == 4


def test_a_cancelled_or_rejected_booking_frees_its_time(personas, hall):
    first = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    bookings.booking_cancel(actor=personas.unit_liaison, booking=first)
    second = staff_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    bookings.booking_decide(actor=personas.community_staff, booking=second, approve=False, note="场地检修")
    third = resident_booking(hall, starts_at=at(2, 9), ends_at=at(2, 11))
    assert third.status == BookingStatus.PENDING


@pytest.mark.parametrize("change, field, message", [
    ({"is_active": False}, "room", "该功能室已停用，不能预约。"),
    ({"bookable": False}, "room", "该功能室不对外预约。"),
])
def test_only_active_bookable_rooms(personas, hall, change, field, message):
    type(hall).objects.unscoped().filter(pk=hall.pk).update(**change)
    hall.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    assert exc.value.message_dict[field] == [message]


def test_a_room_of_a_closed_down_centre_cannot_be_booked(personas, hall):
    type(hall.centre).objects.unscoped().filter(pk=hall.centre_id).update(is_active=False)
    hall.refresh_from_db()
    with pytest.raises(ValidationError, match="该功能室已停用，不能预约。"):
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))


@pytest.mark.parametrize("starts, ends", [((7, 30), (9, 0)), ((11, 0), (14, 0)), ((19, 0), (20, 30)),
                                          ((12, 0), (13, 0))])
def test_a_booking_lies_inside_one_opening_interval(personas, hall, starts, ends):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, *starts), ends_at=at(2, *ends))
    day = timezone.localdate() + dt.timedelta(days=2)
    assert messages_of(exc) == (f"请在开放时间内预约：{day.month}月{day.day}日开放时间为 08:30–12:00、13:30–20:00。")


def test_the_whole_opening_interval_may_be_booked(personas, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 13, 30), ends_at=at(2, 20))
    assert booking.pk


def test_a_closed_day_is_refused(personas):
    closed = room(centre(personas, name="银闸社区党群服务中心", hours=CLOSED_EVERY_DAY))
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, closed, starts_at=at(2, 9), ends_at=at(2, 10))
    day = timezone.localdate() + dt.timedelta(days=2)
    assert messages_of(exc) == f"服务中心{day.month}月{day.day}日不开放，请另选日期。"


def test_the_start_must_be_in_the_future(personas, hall):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(-1, 9), ends_at=at(-1, 10))
    assert exc.value.message_dict["starts_at"] == ["开始时间须晚于现在。"]


def test_at_most_days_ahead(personas, hall):
    assert unit_booking(personas, hall, starts_at=at(30, 9), ends_at=at(30, 10)).pk
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(31, 9), ends_at=at(31, 10))
    assert exc.value.message_dict["starts_at"] == ["最多可提前 30 天预约。"]


def test_the_rule_of_the_city_applies(personas, hall):
    from zhouxin.core import policy

    policy.policy_set(actor=personas.district_admin, key="centers.booking", city=personas.areas["city"],
                      value={"days_ahead": 7}, effective_from=timezone.localdate())
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(8, 9), ends_at=at(8, 10))
    assert exc.value.message_dict["starts_at"] == ["最多可提前 7 天预约。"]


@pytest.mark.parametrize("minutes, message", [(15, "预约时长不能少于 30 分钟。"), (29, "预约时长不能少于 30 分钟。")])
def test_minimum_length(personas, hall, minutes, message):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 9) + dt.timedelta(minutes=minutes))
    assert exc.value.message_dict["ends_at"] == [message]


def test_maximum_length(personas):
    long_day = {key: [["08:00", "20:00"]] for key in CLOSED_EVERY_DAY}
    big = room(centre(personas, name="东华门街道党群服务中心", area="street_a", hours=long_day))
    with pytest.raises(ValidationError) as exc:
        staff_booking(personas, big, starts_at=at(3, 8), ends_at=at(3, 16, 30), actor="street_hub")
    assert exc.value.message_dict["ends_at"] == ["预约时长不能超过 8 小时。"]
    assert staff_booking(personas, big, starts_at=at(3, 8), ends_at=at(3, 16), actor="street_hub").pk


def test_the_end_after_the_start(personas, hall):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 10), ends_at=at(2, 9))
    assert exc.value.message_dict["ends_at"] == ["结束时间应晚于开始时间。"]


@pytest.mark.parametrize("expected, message", [(41, "预计人数不能超过功能室容纳人数（40 人）。"), (0, "预计人数至少为 1 人。")])
def test_expected_people_fit_the_room(personas, hall, expected, message):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), expected=expected)
    assert exc.value.message_dict["expected"] == [message]
    assert unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), expected=40).pk


def test_a_title_is_needed(personas, hall):
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), title="  ")
    assert exc.value.message_dict["title"] == ["请填写活动名称。"]


# --- Who may book as whom -----------------------------------------------------------------------------

def test_a_liaison_books_only_for_their_own_unit(personas, hall):
    with pytest.raises(PermissionDenied, match="只能以您担任联络员的单位名义预约"):
        bookings.booking_request(actor=personas.unit_liaison, room=hall, title="x", starts_at=at(2, 9),
                                 ends_at=at(2, 10), expected=5, booker_kind=BookerKind.UNIT,
                                 organisation=personas.orgs["department"])
    with pytest.raises(PermissionDenied):
        staff_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), actor="unit_liaison")
    with pytest.raises(ValidationError) as exc:
        bookings.booking_request(actor=personas.unit_liaison, room=hall, title="x", starts_at=at(2, 9),
                                 ends_at=at(2, 10), expected=5, booker_kind=BookerKind.UNIT)
    assert exc.value.message_dict["organisation"] == ["请选择预约单位。"]


def test_a_liaison_books_only_centres_in_the_area_of_their_grant(personas):
    elsewhere = room(centre(personas, area="community_a2", name="银闸社区党群服务中心"))
    with pytest.raises(PermissionDenied):
        unit_booking(personas, elsewhere, starts_at=at(2, 9), ends_at=at(2, 10))


def test_staff_do_not_book_as_a_unit_and_nobody_books_outside_their_area(personas, hall):
    with pytest.raises(PermissionDenied):
        bookings.booking_request(actor=personas.community_staff, room=hall, title="x", starts_at=at(2, 9),
                                 ends_at=at(2, 10), expected=5, booker_kind=BookerKind.UNIT,
                                 organisation=personas.orgs["unit"])
    for name in ("community_staff_b", "outsider", "district_admin", "grid_worker", "resident"):
        with pytest.raises(PermissionDenied):
            staff_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), actor=name)
    assert not Booking.objects.unscoped().exists()


def test_residents_book_only_with_an_account_and_only_for_themselves(personas, hall):
    with pytest.raises(PermissionDenied, match="请先登录居民账号"):
        bookings.booking_request(room=hall, title="x", starts_at=at(2, 9), ends_at=at(2, 10), expected=5,
                                 booker_kind=BookerKind.RESIDENT)
    with pytest.raises(ValidationError, match="居民只能以个人名义预约"):
        bookings.booking_request(account=account(), room=hall, title="x", starts_at=at(2, 9), ends_at=at(2, 10),
                                 expected=5, booker_kind=BookerKind.GROUP, group_name="合唱团")
    with pytest.raises(ValidationError, match="居民个人预约请在居民服务网站登录后办理"):
        staff_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), kind=BookerKind.RESIDENT)


# --- No-shows -------------------------------------------------------------------------------------------

def _past_no_show(the_room, days_ago, **who):
    start = at(-days_ago, 9)
    return Booking.objects.unscoped().create(room=the_room, title="旧预约", starts_at=start,
                                             ends_at=start + dt.timedelta(hours=1), expected=3,
                                             status=BookingStatus.NO_SHOW, **who)


def test_a_resident_with_three_recent_no_shows_is_paused(personas, hall):
    acc = account()
    for days_ago in (5, 20, 100):
        _past_no_show(hall, days_ago, account=acc, booker_kind=BookerKind.RESIDENT)
    # Two within 90 days: still allowed.
    assert resident_booking(hall, acc=acc, starts_at=at(2, 9), ends_at=at(2, 10)).pk
    _past_no_show(hall, 60, account=acc, booker_kind=BookerKind.RESIDENT)
    with pytest.raises(ValidationError) as exc:
        resident_booking(hall, acc=acc, starts_at=at(3, 9), ends_at=at(3, 10))
    assert messages_of(exc) == "您近 90 天内已爽约 3 次（达到 3 次暂停预约），暂不能预约。"
    # Another resident is not affected.
    assert resident_booking(hall, acc=account(OTHER_PHONE), starts_at=at(3, 9), ends_at=at(3, 10)).pk


def test_a_unit_with_three_recent_no_shows_is_paused(personas, hall):
    for days_ago in (1, 2, 3):
        _past_no_show(hall, days_ago, organisation=personas.orgs["unit"], booker_kind=BookerKind.UNIT)
    with pytest.raises(ValidationError) as exc:
        unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    assert messages_of(exc) == "该单位近 90 天内已爽约 3 次（达到 3 次暂停预约），暂不能预约。"
    # Staff booking for the community are not paused by the unit's record.
    assert staff_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10)).pk


# --- Decisions, cancellation, use -------------------------------------------------------------------------

def test_approval_texts_the_liaison(personas, hall):
    liaison_person(personas)
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    with TestCase.captureOnCommitCallbacks(execute=True):
        bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by) == (BookingStatus.APPROVED, personas.community_staff)
    assert [m.phone for m in sms.outbox] == ["13322223333"]
    assert "多福巷社区党群服务中心多功能活动室" in sms.outbox[0].text and "已批准" in sms.outbox[0].text
    assert "09:00–11:00" in sms.outbox[0].text


def test_rejection_needs_a_reason_and_texts_the_resident(personas, hall):
    booking = resident_booking(hall, starts_at=at(2, 9), ends_at=at(2, 11))
    with pytest.raises(ValidationError) as exc:
        bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=False, note="")
    assert exc.value.message_dict["note"] == ["请填写不予批准的原因，预约人会收到短信通知。"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        bookings.booking_decide(actor=personas.street_hub, booking=booking, approve=False, note="当天场地检修")
    booking.refresh_from_db()
    assert (booking.status, booking.decision_note) == (BookingStatus.REJECTED, "当天场地检修")
    assert [m.phone for m in sms.outbox] == [RESIDENT_PHONE]
    assert "未获批准：当天场地检修" in sms.outbox[0].text


def test_only_staff_of_the_area_decide_and_only_pending_bookings(personas, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    for name in ("community_staff_b", "unit_liaison", "district_admin", "outsider"):
        with pytest.raises(PermissionDenied):
            bookings.booking_decide(actor=personas.users[name], booking=booking, approve=True)
    bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)
    with pytest.raises(ValidationError, match="只有待审批的预约可以审批"):
        bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=False, note="改主意了")


def test_a_started_booking_is_not_approved(personas, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    move(booking, starts_at=timezone.now() - dt.timedelta(minutes=5), ends_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="预约的开始时间已过，不能再批准"):
        bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)


def test_approving_checks_the_room_again(personas, hall, monkeypatch):
    """The overlap check runs on approval too (the database makes an overlapping pending booking
    unreachable, so the check is shown by a booking that appears in the way)."""
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11))
    other = Booking(title="临时会议", starts_at=at(2, 10), ends_at=at(2, 12))
    monkeypatch.setattr(bookings, "overlapping", lambda *a, **k: other)
    with pytest.raises(ValidationError) as exc:
        bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)
    assert messages_of(exc) == "该时段已被预约：临时会议 10:00–12:00"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING


def test_the_booker_cancels_before_the_start(personas, hall):
    acc = account()
    mine = resident_booking(hall, acc=acc, starts_at=at(2, 9), ends_at=at(2, 10))
    with pytest.raises(PermissionDenied, match="只能取消自己的预约"):
        bookings.booking_cancel(account=account(OTHER_PHONE), booking=mine)
    bookings.booking_cancel(account=acc, booking=mine)
    mine.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED
    with pytest.raises(ValidationError, match="只有待审批或已批准的预约可以取消"):
        bookings.booking_cancel(account=acc, booking=mine)

    units = unit_booking(personas, hall, starts_at=at(3, 9), ends_at=at(3, 10))
    move(units, starts_at=timezone.now() - dt.timedelta(minutes=1), ends_at=timezone.now() + dt.timedelta(hours=1))
    with pytest.raises(ValidationError, match="预约已经开始，不能取消"):
        bookings.booking_cancel(actor=personas.unit_liaison, booking=units)
    for name in ("community_staff_b", "district_admin", "outsider"):
        with pytest.raises(PermissionDenied):
            bookings.booking_cancel(actor=personas.users[name], booking=units, reason="不需要了")
    assert sms.outbox == []


def test_staff_cancel_with_a_reason_and_the_booker_is_texted(personas, hall):
    booking = resident_booking(hall, starts_at=at(2, 9), ends_at=at(2, 10))
    with pytest.raises(ValidationError) as exc:
        bookings.booking_cancel(actor=personas.community_staff, booking=booking)
    assert exc.value.message_dict["reason"] == ["请填写取消原因，预约人会收到短信通知。"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        bookings.booking_cancel(actor=personas.community_staff, booking=booking, reason="临时用于防汛会议")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.decision_note == "临时用于防汛会议"
    assert [m.phone for m in sms.outbox] == [RESIDENT_PHONE]
    assert "已被取消：临时用于防汛会议" in sms.outbox[0].text


def test_no_show_and_use_are_recorded_after_the_start(personas, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    with pytest.raises(ValidationError, match="只有已批准的预约可以登记使用情况"):
        bookings.booking_mark_no_show(actor=personas.community_staff, booking=booking)
    bookings.booking_decide(actor=personas.community_staff, booking=booking, approve=True)
    with pytest.raises(ValidationError, match="预约还没有开始，开始后才能登记使用情况"):
        bookings.booking_mark_no_show(actor=personas.community_staff, booking=booking)
    move(booking, starts_at=at(-1, 9), ends_at=at(-1, 10))
    with pytest.raises(PermissionDenied):
        bookings.booking_mark_no_show(actor=personas.unit_liaison, booking=booking)
    bookings.booking_mark_no_show(actor=personas.community_staff, booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW
    assert bookings.no_show_count(hall.centre, organisation=personas.orgs["unit"])[0] == 1

    used = staff_booking(personas, hall, starts_at=at(2, 14), ends_at=at(2, 15))
    bookings.booking_decide(actor=personas.community_staff, booking=used, approve=True)
    move(used, starts_at=at(-1, 14), ends_at=at(-1, 15))
    with pytest.raises(ValidationError) as exc:
        bookings.booking_complete(actor=personas.community_staff, booking=used, attended=0)
    assert exc.value.message_dict["attended"] == ["实到人数为 0 时请标记为爽约。"]
    bookings.booking_complete(actor=personas.community_staff, booking=used, attended=18)
    used.refresh_from_db()
    assert (used.status, used.attended) == (BookingStatus.COMPLETED, 18)


# --- The database refuses an overlap on its own -----------------------------------------------------------

def _row(the_room, start, end, status=BookingStatus.APPROVED, title="直接写入"):
    return Booking.objects.unscoped().create(room=the_room, title=title, booker_kind=BookerKind.STAFF,
                                             starts_at=start, ends_at=end, expected=5, status=status)


def test_the_database_refuses_an_overlapping_row_written_directly(personas, hall):
    _row(hall, at(2, 10), at(2, 12))
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        _row(hall, at(2, 11), at(2, 13), status=BookingStatus.PENDING)
    assert booking_sql.is_overlap_error(exc.value)
    assert Booking.objects.unscoped().count() == 1


def test_the_database_allows_back_to_back_rows_and_rows_after_a_cancellation(personas, hall, reading):
    first = _row(hall, at(2, 10), at(2, 11))
    _row(hall, at(2, 11), at(2, 12))
    _row(reading, at(2, 10), at(2, 11))  # another room
    Booking.objects.unscoped().filter(pk=first.pk).update(status=BookingStatus.CANCELLED)
    _row(hall, at(2, 10), at(2, 11), status=BookingStatus.PENDING)
    for status in (BookingStatus.REJECTED, BookingStatus.CANCELLED, BookingStatus.NO_SHOW, BookingStatus.COMPLETED):
        _row(hall, at(2, 10), at(2, 11), status=status)  # only live bookings hold their time
    assert Booking.objects.unscoped().filter(room=hall).count() == 7


def test_the_database_refuses_reviving_an_overlapping_booking(personas, hall):
    old = _row(hall, at(2, 10), at(2, 12), status=BookingStatus.CANCELLED)
    _row(hall, at(2, 11), at(2, 12))
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Booking.objects.unscoped().filter(pk=old.pk).update(status=BookingStatus.PENDING)
    assert booking_sql.is_overlap_error(exc.value)


def test_the_databases_refusal_reaches_the_user_as_the_same_message(personas, hall, monkeypatch):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11), title="医院党支部主题党日")
    monkeypatch.setattr(bookings, "_check_free", lambda *a, **k: None)
    with pytest.raises(ValidationError) as exc:
        staff_booking(personas, hall, starts_at=at(2, 10), ends_at=at(2, 11, 30))
    assert messages_of(exc) == "该时段已被预约：医院党支部主题党日 09:00–11:00"
    with pytest.raises(ValidationError) as exc:
        resident_booking(hall, starts_at=at(2, 10), ends_at=at(2, 11, 30))
    assert messages_of(exc) == "该时段已被预约：09:00–11:00"
    assert Booking.objects.unscoped().count() == 1


# --- Staff pages ------------------------------------------------------------------------------------------

def test_a_liaison_books_on_the_staff_site_from_rooms_of_their_area(personas, client_for, hall):
    room(centre(personas, area="community_b", name="吉祥社区党群服务中心"), name="吉祥议事厅")
    client = client_for("unit_liaison")
    page = client.get(reverse("centers:booking_create"))
    body = page.content.decode()
    assert page.status_code == 200 and "多功能活动室" in body and "吉祥议事厅" not in body
    day = timezone.localdate() + dt.timedelta(days=2)
    response = client.post(reverse("centers:booking_create"), {
        "room": hall.pk, "booker_kind": "unit", "organisation": personas.orgs["unit"].pk, "title": "健康讲座",
        "day": day.isoformat(), "start": "09:00", "end": "10:30", "expected": 30})
    booking = Booking.objects.unscoped().get()
    assert response.status_code == 302 and response.url == reverse("centers:booking_detail", args=[booking.pk])
    assert (booking.status, booking.organisation) == (BookingStatus.PENDING, personas.orgs["unit"])
    assert timezone.localtime(booking.starts_at).time() == dt.time(9, 0)
    listing = client.get(reverse("centers:booking_list")).content.decode()
    assert "健康讲座" in listing


def test_the_form_shows_the_services_message_in_place(personas, client_for, hall):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11), title="医院党支部主题党日")
    day = timezone.localdate() + dt.timedelta(days=2)
    response = client_for("community_staff").post(reverse("centers:booking_create"), {
        "room": hall.pk, "booker_kind": "staff", "title": "议事会", "day": day.isoformat(), "start": "10:00",
        "end": "12:00", "expected": 10})
    assert response.status_code == 422
    assert "该时段已被预约：医院党支部主题党日 09:00–11:00" in response.content.decode()


def test_staff_approve_on_the_booking_page(personas, client_for, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 11), title="医院党支部主题党日")
    client = client_for("community_staff")
    page = client.get(reverse("centers:booking_detail", args=[booking.pk])).content.decode()
    assert "批准" in page and "北京市东城区第一人民医院" in page
    response = client.post(reverse("centers:booking_decide", args=[booking.pk]), {"decision": "approve"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED
    response = client.post(reverse("centers:booking_decide", args=[booking.pk]), {"decision": "reject", "note": ""},
                           follow=True)
    assert "只有待审批的预约可以审批。" in response.content.decode()


def test_reject_cancel_no_show_and_use_on_the_booking_page(personas, client_for, hall):
    client = client_for("community_staff")
    rejected = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    response = client.post(reverse("centers:booking_decide", args=[rejected.pk]), {"decision": "reject", "note": ""},
                           follow=True)
    assert "请填写不予批准的原因" in response.content.decode()
    client.post(reverse("centers:booking_decide", args=[rejected.pk]), {"decision": "reject", "note": "已满"})
    rejected.refresh_from_db()
    assert rejected.status == BookingStatus.REJECTED

    cancelled = unit_booking(personas, hall, starts_at=at(3, 9), ends_at=at(3, 10))
    client.post(reverse("centers:booking_cancel", args=[cancelled.pk]), {"reason": "场地维修"})
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.decision_note) == (BookingStatus.CANCELLED, "场地维修")

    used = staff_booking(personas, hall, starts_at=at(4, 9), ends_at=at(4, 10))
    client.post(reverse("centers:booking_decide", args=[used.pk]), {"decision": "approve"})
    move(used, starts_at=at(-1, 9), ends_at=at(-1, 10))
    assert "登记为已使用" in client.get(reverse("centers:booking_detail", args=[used.pk])).content.decode()
    client.post(reverse("centers:booking_complete", args=[used.pk]), {"attended": "25"})
    used.refresh_from_db()
    assert (used.status, used.attended) == (BookingStatus.COMPLETED, 25)

    gone = staff_booking(personas, hall, starts_at=at(5, 9), ends_at=at(5, 10))
    client.post(reverse("centers:booking_decide", args=[gone.pk]), {"decision": "approve"})
    move(gone, starts_at=at(-2, 9), ends_at=at(-2, 10))
    client.post(reverse("centers:booking_no_show", args=[gone.pk]))
    gone.refresh_from_db()
    assert gone.status == BookingStatus.NO_SHOW


def test_the_liaison_cancels_their_units_booking(personas, client_for, hall):
    booking = unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10))
    client = client_for("unit_liaison")
    assert "取消预约" in client.get(reverse("centers:booking_detail", args=[booking.pk])).content.decode()
    client.post(reverse("centers:booking_cancel", args=[booking.pk]), {"reason": ""})
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_the_list_filters_and_keeps_its_query_count(personas, client_for, hall, reading,
                                                    django_assert_max_num_queries):
    for offset in range(1, 6):
        unit_booking(personas, hall, starts_at=at(offset, 9), ends_at=at(offset, 10), title=f"主题党日{offset}")
        staff_booking(personas, reading, starts_at=at(offset, 14), ends_at=at(offset, 15), title=f"读书会{offset}")
    client = client_for("community_staff")
    client.get(reverse("centers:booking_list"))  # warm the session and caches
    with django_assert_max_num_queries(20):
        body = client.get(reverse("centers:booking_list")).content.decode()
    assert "主题党日5" in body and "读书会5" in body and "有 5 个预约待审批" in body
    only = client.get(reverse("centers:booking_list"), {"room": reading.pk}).content.decode()
    assert "读书会1" in only and "主题党日1" not in only
    pending = client.get(reverse("centers:booking_list"), {"status": "pending"}).content.decode()
    assert "主题党日1" in pending and "读书会1" not in pending
    day = client.get(reverse("centers:booking_list"),
                     {"day": (timezone.localdate() + dt.timedelta(days=3)).isoformat()}).content.decode()
    assert "主题党日3" in day and "读书会3" in day and "主题党日2" not in day


def test_a_liaison_sees_only_their_units_bookings(personas, client_for, hall):
    unit_booking(personas, hall, starts_at=at(2, 9), ends_at=at(2, 10), title="医院主题党日")
    staff_booking(personas, hall, starts_at=at(2, 14), ends_at=at(2, 15), title="社区议事会")
    body = client_for("unit_liaison").get(reverse("centers:booking_list")).content.decode()
    assert "医院主题党日" in body and "社区议事会" not in body


def test_the_week_shows_bookings_as_blocks(personas, client_for, hall):
    unit_booking(personas, hall, starts_at=at(1, 9), ends_at=at(1, 10), title="医院主题党日")
    staff_booking(personas, hall, starts_at=at(1, 14), ends_at=at(1, 15), title="社区议事会")
    url = reverse("centers:booking_week", args=[hall.pk])
    week = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    staff = client_for("community_staff").get(url, {"week": week}).content.decode()
    assert "09:00–10:00" in staff and "医院主题党日" in staff and "社区议事会" in staff
    assert "08:30–12:00、13:30–20:00" in staff
    # A liaison sees their own booking, and only the time of the community's.
    liaison = client_for("unit_liaison").get(url, {"week": week}).content.decode()
    assert "医院主题党日" in liaison and "14:00–15:00" in liaison and "社区议事会" not in liaison


# --- Portal -----------------------------------------------------------------------------------------------

def test_a_signed_out_visitor_is_sent_to_sign_in(hall, client):
    url = reverse("centers_public:room_book", args=[hall.pk])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("portal:signin"))
    assert client.get(reverse("centers_public:my_bookings")).status_code == 302


def test_a_resident_books_sees_and_cancels_their_booking(personas, hall):
    acc = account()
    client = portal_client(acc)
    url = reverse("centers_public:room_book", args=[hall.pk])
    page = client.get(url).content.decode()
    assert "多功能活动室" in page and "08:30–12:00、13:30–20:00" in page
    day = timezone.localdate() + dt.timedelta(days=2)
    response = client.post(url, {"day": day.isoformat(), "start": "09:00", "end": "10:00", "title": "书法练习",
                                 "expected": "6"}, follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("centers_public:my_bookings")
    assert "预约已提交" in body and "书法练习" in body and "待审批" in body
    booking = Booking.objects.unscoped().get()
    assert (booking.account, booking.booker_kind) == (acc, BookerKind.RESIDENT)
    client.post(reverse("centers_public:my_booking_cancel", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED


def test_the_portal_never_shows_who_booked(personas, hall):
    unit_booking(personas, hall, starts_at=at(1, 9), ends_at=at(1, 11), title="医院党支部主题党日")
    client = portal_client(account())
    url = reverse("centers_public:room_book", args=[hall.pk])
    page = client.get(url).content.decode()
    assert "09:00–11:00" in page and "医院党支部主题党日" not in page and "人民医院" not in page
    day = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(url, {"day": day.isoformat(), "start": "10:00", "end": "11:00", "title": "书法练习",
                                 "expected": "6"})
    body = response.content.decode()
    assert response.status_code == 422 and "该时段已被预约：09:00–11:00" in body
    assert "医院党支部主题党日" not in body


def test_a_resident_cannot_cancel_another_residents_booking(personas, hall):
    theirs = resident_booking(hall, acc=account(OTHER_PHONE), starts_at=at(2, 9), ends_at=at(2, 10),
                              title="邻居的聚会")
    client = portal_client(account())
    response = client.post(reverse("centers_public:my_booking_cancel", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.PENDING
    assert "邻居的聚会" not in client.get(reverse("centers_public:my_bookings")).content.decode()


def test_a_room_that_is_not_bookable_is_not_found_on_the_portal(personas, hall):
    type(hall).objects.unscoped().filter(pk=hall.pk).update(bookable=False)
    response = portal_client(account()).get(reverse("centers_public:room_book", args=[hall.pk]))
    assert response.status_code == 404


def test_the_portal_form_shows_the_rules_in_force(personas, hall):
    body = portal_client(account()).get(reverse("centers_public:room_book", args=[hall.pk])).content.decode()
    assert re.search(r"最多可提前 30 天预约", body) and "90 天内爽约 3 次将暂停预约" in body
