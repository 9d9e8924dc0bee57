"""Utilisation of rooms and centres on a hand-computed week, and the daily visitor count.

Centres, rooms and visitor counts are set up through the services; the bookings, events and
registrations of a past week are written directly (their services only take days still to come).

The week of Monday 29 September to Sunday 5 October 2025, with 1 October published as a public
holiday.  The centre opens on weekdays 08:30–12:00 and 13:30–20:00 (10 h), on Saturdays
09:00–17:00 (8 h), on holidays 09:00–12:00 (3 h), and is closed on Sundays:
10 + 10 + 3 (holiday) + 10 + 10 + 8 + 0 = 51 open hours per room.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhouxin.centers import centres, utilisation
from zhouxin.centers.choices import BookerKind, BookingStatus, EventStatus, RegistrationStatus
from zhouxin.centers.models import Booking, Centre, Event, EventRegistration, Room, VisitCount
from zhouxin.core import workdays
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled

MONDAY = dt.date(2025, 9, 29)
SUNDAY = dt.date(2025, 10, 5)
HOLIDAY = dt.date(2025, 10, 1)
HOURS = {
    **{day: [["08:30", "12:00"], ["13:30", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "sat": [["09:00", "17:00"]], "sun": [], "holiday": [["09:00", "12:00"]],
}


def at(day: dt.date, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def keeper(personas, area):
    """Who keeps centres of `area` (centers.manage)."""
    return personas.community_staff_b if area.code.startswith("110101002") else personas.street_hub


def make_centre(personas, area, name="多福巷社区党群服务站", hours=None) -> Centre:
    return centres.centre_save(actor=keeper(personas, area), area=area, name=name, address="东城区多福巷12号",
                               floor_area=Decimal("420"), opening_hours=HOURS if hours is None else hours)


def make_room(personas, centre, name, *, bookable=True) -> Room:
    return centres.room_save(actor=keeper(personas, centre.area), centre=centre, name=name, floor_area=Decimal("60"),
                             capacity=30, bookable=bookable)


def book(room, day, start, end, status=BookingStatus.APPROVED, *, end_day=None, title="议事协商会") -> Booking:
    return Booking.objects.unscoped().create(
        room=room, title=title, booker_kind=BookerKind.STAFF, starts_at=at(day, start),
        ends_at=at(end_day or day, end), expected=10, status=status)


def account(n: int):
    from zhouxin.portal.models import ResidentAccount
    from zhouxin.portal.services import phone_index

    phone = f"1990009{n:04d}"
    now = timezone.now()
    return ResidentAccount.objects.create(phone=phone, phone_index=phone_index(phone), consent_version="1",
                                          created_at=now, last_signed_in_at=now)


def event(centre, personas, day, start, end, *, booking=None, status=EventStatus.PUBLISHED, title="红色观影"):
    return Event.objects.unscoped().create(centre=centre, booking=booking, title=title, starts_at=at(day, start),
                                           ends_at=at(day, end), capacity=30, status=status, qr_key=f"k-{title}",
                                           created_by=personas.community_staff)


def register(ev, n, status=RegistrationStatus.REGISTERED, *, came=False):
    return EventRegistration.objects.unscoped().create(
        event=ev, account=account(n), status=status, registered_at=ev.starts_at - dt.timedelta(days=2),
        checked_in_at=ev.starts_at if came else None)


@pytest.fixture
def holiday(personas):
    workdays.calendar_year_publish(actor=personas.district_admin, year=2025,
                                   days=[workdays.DaySpec(HOLIDAY, False, "国庆节")], note="测试")
    assert not workdays.is_workday(HOLIDAY).workday


@pytest.fixture
def week(personas, holiday):
    """The hand-computed week: one centre of 多福巷社区 with two bookable rooms and a storeroom."""
    with scopes_disabled():
        centre = make_centre(personas, personas.areas["community_a"])
        hall = make_room(personas, centre, "多功能厅")
        library = make_room(personas, centre, "图书阅览室")
        store = make_room(personas, centre, "库房", bookable=False)
        meeting = book(hall, MONDAY, "09:00", "11:00")  # 2 h
        book(hall, MONDAY, "11:00", "14:00", BookingStatus.COMPLETED)  # 11–12 and 13:30–14: 1.5 h
        book(hall, MONDAY + dt.timedelta(days=1), "19:00", "21:00")  # until closing at 20:00: 1 h
        book(hall, HOLIDAY, "10:00", "13:00")  # holiday hours end at 12:00: 2 h
        book(hall, MONDAY + dt.timedelta(days=3), "09:00", "12:00", BookingStatus.NO_SHOW)  # no-show: 3 h apart
        friday = MONDAY + dt.timedelta(days=4)
        book(hall, friday, "09:00", "10:00", BookingStatus.CANCELLED)
        book(hall, friday, "10:00", "11:00", BookingStatus.REJECTED)
        book(hall, friday, "14:00", "15:00", BookingStatus.PENDING)
        book(hall, MONDAY + dt.timedelta(days=5), "16:00", "18:00")  # Saturday until 17:00: 1 h
        book(hall, SUNDAY, "10:00", "12:00")  # closed on Sundays: 0 h, still a booking
        book(hall, SUNDAY + dt.timedelta(days=1), "09:00", "11:00")  # the next week
        book(library, MONDAY + dt.timedelta(days=3), "14:00", "16:00")  # 2 h
        book(store, MONDAY, "09:00", "12:00")  # not a bookable room: not in the centre's figures

        film = event(centre, personas, MONDAY, "09:00", "11:00", booking=meeting)
        register(film, 1, came=True)
        register(film, 2, came=True)
        register(film, 3)
        register(film, 4, RegistrationStatus.WAITLISTED)
        register(film, 5, RegistrationStatus.CANCELLED)
        talk = event(centre, personas, MONDAY + dt.timedelta(days=5), "09:30", "10:30", title="健康讲座")
        register(talk, 6, came=True)
        dropped = event(centre, personas, friday, "09:00", "10:00", status=EventStatus.CANCELLED, title="取消的活动")
        register(dropped, 7, came=True)

        for day, visitors in ((MONDAY, 30), (MONDAY + dt.timedelta(days=1), 45), (MONDAY + dt.timedelta(days=5), 80),
                              (SUNDAY + dt.timedelta(days=1), 100)):
            utilisation.visits_record(actor=personas.community_staff, centre=centre, day=day, visitors=visitors)

        # Another community's centre, used the same week: none of it is counted above.
        other = make_centre(personas, personas.areas["community_b"], name="吉祥社区党群服务站")
        other_hall = make_room(personas, other, "多功能厅")
        book(other_hall, MONDAY, "09:00", "18:00")
        utilisation.visits_record(actor=personas.community_staff_b, centre=other, day=MONDAY, visitors=500)
    return {"centre": centre, "hall": hall, "library": library, "store": store, "other": other}


def test_room_figures_on_the_hand_computed_week(week):
    hall = utilisation.room_utilisation(week["hall"], MONDAY, SUNDAY)
    assert hall.open_hours == Decimal("51.00")
    # 2 + 1.5 + 1 + 2 (holiday) + 1 (Saturday) + 0 (Sunday) = 7.5 h; no-show, cancelled, rejected
    # and pending bookings are not counted.
    assert hall.booked_hours == Decimal("7.50")
    assert hall.occupancy == Decimal("14.7")  # 7.5 / 51
    assert hall.bookings == 6
    assert hall.no_shows == 1
    assert hall.no_show_hours == Decimal("3.00")
    assert (hall.events, hall.registrations, hall.attendance) == (1, 3, 2)
    assert hall.visitors is None


def test_centre_figures_sum_the_bookable_rooms(week):
    centre = utilisation.centre_utilisation(week["centre"], MONDAY, SUNDAY)
    assert sorted(r.room.name for r in centre.rooms) == sorted(["图书阅览室", "多功能厅"])
    assert centre.open_hours == Decimal("102.00")  # two bookable rooms × 51 h; the storeroom is left out
    assert centre.booked_hours == Decimal("9.50")  # 7.5 + 2
    assert centre.occupancy == Decimal("9.3")  # 9.5 / 102
    assert (centre.bookings, centre.no_shows) == (7, 1)
    # Both events that were held (the cancelled one is not), with or without a room booking.
    assert (centre.events, centre.registrations, centre.attendance) == (2, 4, 3)
    assert centre.visitors == 155  # the next Monday's 100 is outside the week


def test_a_day_of_the_week_only(week):
    """Monday alone: open 10 h; the hall's 2 h and 1.5 h bookings."""
    hall = utilisation.room_utilisation(week["hall"], MONDAY, MONDAY)
    assert (hall.open_hours, hall.booked_hours, hall.occupancy) == (Decimal("10.00"), Decimal("3.50"), Decimal("35.0"))


def test_holiday_hours_apply_on_the_holiday(week):
    hall = utilisation.room_utilisation(week["hall"], HOLIDAY, HOLIDAY)
    assert (hall.open_hours, hall.booked_hours) == (Decimal("3.00"), Decimal("2.00"))


def test_a_booking_across_the_period_counts_only_inside_it(personas, holiday):
    with scopes_disabled():
        centre = make_centre(personas, personas.areas["community_a"], hours={**HOURS, "sun": [["08:00", "20:00"]]})
        hall = make_room(personas, centre, "多功能厅")
        # Saturday 16:00 to Monday 10:00: Saturday 1 h (until 17:00), Sunday 12 h (08:00–20:00);
        # Monday 08:30–10:00 falls in the next period.
        book(hall, MONDAY + dt.timedelta(days=5), "16:00", "10:00", end_day=SUNDAY + dt.timedelta(days=1))
    figures = utilisation.room_utilisation(hall, MONDAY, SUNDAY)
    assert figures.booked_hours == Decimal("13.00")
    assert figures.bookings == 1
    after = utilisation.room_utilisation(hall, SUNDAY + dt.timedelta(days=1), SUNDAY + dt.timedelta(days=1))
    assert (after.booked_hours, after.bookings) == (Decimal("1.50"), 0)


def test_never_open_means_no_occupancy(personas):
    with scopes_disabled():
        centre = make_centre(personas, personas.areas["community_a"], hours={})
        hall = make_room(personas, centre, "多功能厅")
    figures = utilisation.room_utilisation(hall, MONDAY, SUNDAY)
    assert figures.open_hours == Decimal("0.00")
    assert figures.occupancy is None


def test_report_weeks_and_totals(week):
    result = utilisation.report([week["centre"], week["other"]], MONDAY, SUNDAY + dt.timedelta(days=1))
    assert [w.start for w in result.weeks] == [MONDAY, SUNDAY + dt.timedelta(days=1)]
    first, second = result.weeks
    assert (first.bookings, first.no_shows, first.visitors, first.events, first.attendance) == (8, 1, 655, 2, 3)
    assert first.booked_hours == Decimal("17.00")  # 9.5 here + 7.5 of the other centre's Monday (9–12, 13:30–18)
    assert (second.bookings, second.visitors, second.booked_hours) == (1, 100, Decimal("2.00"))
    assert result.totals.visitors == 755
    assert result.totals.booked_hours == Decimal("19.00")
    assert [c.centre.name for c in result.centres] == ["多福巷社区党群服务站", "吉祥社区党群服务站"]


def test_fixed_number_of_queries(week, personas, django_assert_max_num_queries):
    with scopes_disabled():
        centres = [week["centre"], week["other"]]
        for n in range(6):
            extra = make_centre(personas, personas.areas["community_a2"], name=f"银闸社区服务点{n}")
            for k in range(4):
                room = make_room(personas, extra, f"活动室{k}")
                for d in range(0, 300, 7):
                    book(room, MONDAY - dt.timedelta(days=d), "09:00", "10:00")
            centres.append(extra)
    counts = []
    for chosen, first in ((centres[:1], MONDAY), (centres, MONDAY - dt.timedelta(days=365))):
        workdays.invalidate()  # the calendar's year data is read again: counted as well
        with CaptureQueriesContext(connection) as queries:
            result = utilisation.report(chosen, first, SUNDAY if len(chosen) > 1 else MONDAY)
        counts.append(len(queries))
        if len(chosen) == 1:
            small = result
        else:
            big = result
    # Rooms, bookings, events, visitor counts, and the calendar of each year the period touches.
    assert counts[0] <= 6 and counts[1] <= counts[0] + 2, counts
    with django_assert_max_num_queries(8):
        utilisation.report(centres, MONDAY - dt.timedelta(days=365), SUNDAY)
    assert small.totals.bookings == 2
    assert big.totals.bookings > 200


# --- Visitor counts ------------------------------------------------------------------------------

@pytest.fixture
def centre(personas):
    with scopes_disabled():
        return make_centre(personas, personas.areas["community_a"])


def test_staff_record_the_days_visitors(personas, centre):
    today = timezone.localdate()
    count = utilisation.visits_record(actor=personas.community_staff, centre=centre, day=today, visitors=37)
    assert (count.visitors, count.recorded_by) == (37, personas.community_staff)
    entry = AuditEntry.objects.get(action="centers.visits.recorded")
    assert entry.after["visitors"] == 37


def test_recording_the_day_again_corrects_the_count_with_an_audit_entry(personas, centre):
    day = timezone.localdate() - dt.timedelta(days=1)
    utilisation.visits_record(actor=personas.community_staff, centre=centre, day=day, visitors=37)
    utilisation.visits_record(actor=personas.street_hub, centre=centre, day=day, visitors=73)
    with scopes_disabled():
        counts = list(VisitCount.objects.unscoped().filter(centre=centre))
    assert [(c.day, c.visitors, c.recorded_by) for c in counts] == [(day, 73, personas.street_hub)]
    corrected = AuditEntry.objects.get(action="centers.visits.corrected")
    assert (corrected.before["visitors"], corrected.after["visitors"]) == (37, 73)


@pytest.mark.parametrize("days, visitors, message", [
    (-1, 10, "今天以后"),
    (0, -3, "负数"),
    (0, 1_000_000, "不能超过"),
])
def test_bad_counts_are_refused(personas, centre, days, visitors, message):
    day = timezone.localdate() - dt.timedelta(days=days)
    with pytest.raises(ValidationError) as caught:
        utilisation.visits_record(actor=personas.community_staff, centre=centre, day=day, visitors=visitors)
    assert message in caught.value.messages[0]
    with scopes_disabled():
        assert not VisitCount.objects.unscoped().exists()


@pytest.mark.parametrize("persona", ["community_staff_b", "district_admin", "unit_liaison", "outsider"])
def test_others_cannot_record(personas, centre, persona):
    with pytest.raises(PermissionDenied):
        utilisation.visits_record(actor=personas.users[persona], centre=centre, day=timezone.localdate(), visitors=5)
    with scopes_disabled():
        assert not VisitCount.objects.unscoped().exists()


def test_periods():
    today = dt.date(2026, 3, 17)
    this = utilisation.period_for("this_month", today)
    assert (this.first, this.last) == (dt.date(2026, 3, 1), today)
    last = utilisation.period_for("last_month", today)
    assert (last.first, last.last) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    year = utilisation.period_for("last_12_months", today)
    assert (year.first, year.last) == (dt.date(2025, 4, 1), today)
    january = utilisation.period_for("last_month", dt.date(2026, 1, 5))
    assert (january.first, january.last) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert utilisation.period_for("bogus", today).key == "this_month"
