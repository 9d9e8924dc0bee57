"""Centre indicators: the utilisation of the bookable rooms (booked ÷ open hours) and the event
check-ins, summed over an area's centres (a street: its own centre and its communities'), through
utilisation.report in a fixed number of queries, with links to the utilisation dashboards.

April 2025; the centres open 08:30–12:00 and 13:30–20:00 every day (holidays too): 10 h a day,
300 h in April per room."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import centres
from zhouxin.centers.choices import BookerKind, BookingStatus, EventStatus, RegistrationStatus
from zhouxin.centers.models import Booking, Event, EventRegistration
from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .helpers_bookings import CLOSED_EVERY_DAY, OPEN_EVERY_DAY, account

D = Decimal
APRIL = Period.month(2025, 4)


def at(month: int, day: int, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return timezone.make_aware(dt.datetime(2025, month, day, hour, minute))


def _keeper(personas, area):
    return personas.community_staff_b if area.code.startswith("110101002") else personas.street_hub


def _centre(personas, area_key, name, hours=OPEN_EVERY_DAY):
    area = personas.areas[area_key]
    return centres.centre_save(actor=_keeper(personas, area), area=area, name=name, address=f"{area.name}1号",
                               floor_area=D("500"), opening_hours=hours)


def _room(personas, centre, name, *, bookable=True):
    return centres.room_save(actor=_keeper(personas, centre.area), centre=centre, name=name, floor_area=D("60"),
                             capacity=30, bookable=bookable)


def _book(room, starts_at, ends_at, status=BookingStatus.APPROVED):
    return Booking.objects.unscoped().create(room=room, title="议事协商会", booker_kind=BookerKind.STAFF,
                                             starts_at=starts_at, ends_at=ends_at, expected=10, status=status)


def _event(personas, centre, starts_at, *, came=0, others=0, status=EventStatus.PUBLISHED, title="红色观影"):
    event = Event.objects.unscoped().create(centre=centre, title=title, starts_at=starts_at,
                                            ends_at=starts_at + dt.timedelta(hours=2), capacity=30, status=status,
                                            qr_key=f"k-{title}-{starts_at:%m%d}", created_by=personas.community_staff)
    for n in range(came + others):
        EventRegistration.objects.unscoped().create(
            event=event, account=account(f"1990008{event.pk:02d}{n:02d}"), status=RegistrationStatus.REGISTERED,
            registered_at=starts_at - dt.timedelta(days=1), checked_in_at=starts_at if n < came else None)
    return event


@pytest.fixture
def world(personas):
    with scopes_disabled():
        duofu = _centre(personas, "community_a", "多福巷社区党群服务站")
        hall, library = _room(personas, duofu, "多功能厅"), _room(personas, duofu, "图书阅览室")
        store = _room(personas, duofu, "库房", bookable=False)
        _book(hall, at(4, 10, "09:00"), at(4, 10, "12:00"))  # 3 h
        _book(hall, at(4, 11, "13:30"), at(4, 11, "20:00"), BookingStatus.COMPLETED)  # 6.5 h
        _book(hall, at(4, 12, "09:00"), at(4, 12, "11:00"), BookingStatus.NO_SHOW)  # not use
        _book(hall, at(4, 13, "09:00"), at(4, 13, "11:00"), BookingStatus.PENDING)  # not use
        _book(library, at(4, 30, "19:00"), at(5, 1, "10:00"))  # 1 h in April, 1.5 h in May
        _book(store, at(4, 10, "09:00"), at(4, 10, "12:00"))  # not a bookable room
        yinzha = _centre(personas, "community_a2", "银闸社区党群服务站")
        _book(_room(personas, yinzha, "活动室"), at(4, 2, "08:30"), at(4, 2, "20:00"))  # 10 h
        street = _centre(personas, "street_a", "东华门街道党群服务中心", hours=CLOSED_EVERY_DAY)
        _room(personas, street, "报告厅")  # never open: no open hours
        jixiang = _centre(personas, "community_b", "吉祥社区党群服务站")  # no bookable room

        _event(personas, duofu, at(4, 10, "09:00"), came=2, others=1)
        cancelled_seat = _event(personas, duofu, at(4, 20, "14:00"), came=1, title="健康讲座")
        EventRegistration.objects.unscoped().filter(event=cancelled_seat).update(
            status=RegistrationStatus.CANCELLED)
        _event(personas, duofu, at(4, 22, "14:00"), came=3, status=EventStatus.CANCELLED, title="取消的活动")
        _event(personas, duofu, at(5, 3, "09:00"), came=4, title="五月的活动")
        _event(personas, yinzha, at(4, 5, "09:00"), came=2)
        _event(personas, jixiang, at(4, 6, "09:00"), came=1)
    return {"duofu": duofu}


def _values(name, areas, period=APRIL):
    with scopes_disabled():
        return indicators.compute(name, areas, period)


def test_utilisation_by_level(personas, world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["community_x"], a["street_a"],
             a["dongcheng"]]
    values = _values("centers.utilisation", areas)
    # 10.5 booked of 2 rooms × 300 h; 10 of 300; 吉祥 has no bookable room; 西交民巷 no centre.
    assert values == {a["community_a"].pk: D("10.5") / D("600"), a["community_a2"].pk: D("10") / D("300"),
                      a["community_b"].pk: None, a["street_a"].pk: D("20.5") / D("900"),
                      a["dongcheng"].pk: D("20.5") / D("900")}
    may = _values("centers.utilisation", [a["community_a"]], Period.month(2025, 5))
    assert may == {a["community_a"].pk: D("1.5") / D("620")}


def test_checkins_by_level(personas, world):
    a = personas.areas
    values = _values("centers.checkins", [a["community_a"], a["community_a2"], a["community_b"], a["community_x"],
                                          a["street_a"], a["street_b"], a["dongcheng"]])
    assert values == {a["community_a"].pk: 2, a["community_a2"].pk: 2, a["community_b"].pk: 1, a["street_a"].pk: 4,
                      a["street_b"].pk: 1, a["dongcheng"].pk: 5}
    assert _values("centers.checkins", [a["community_a"]], Period.parse("2025-Q2")) == {a["community_a"].pk: 6}


def test_a_period_still_to_come_has_no_figures(personas, world):
    a = personas.areas
    next_year = Period.year(timezone.localdate().year + 1)
    assert _values("centers.utilisation", [a["community_a"]], next_year) == {}
    assert _values("centers.checkins", [a["community_a"]], next_year) == {}


def test_a_fixed_number_of_queries_for_one_or_many_areas(personas, world):
    a = personas.areas
    with scopes_disabled():
        extra = [Area.objects.unscoped().create(code=f"110101001{100 + i:03d}", name=f"测试{i}社区",
                                                level=AreaLevel.COMMUNITY, parent=a["street_a"]) for i in range(6)]
        for area in extra:
            centre = centres.centre_save(actor=personas.street_hub, area=area, name=f"{area.name}服务站",
                                         address="1号", floor_area=D("300"), opening_hours=OPEN_EVERY_DAY)
            _book(_room(personas, centre, "活动室"), at(4, 8, "09:00"), at(4, 8, "10:00"))
    _values("centers.utilisation", [a["community_a"]])  # the calendar's year data is cached
    with CaptureQueriesContext(connection) as one:
        _values("centers.utilisation", [a["community_a"]])
    with CaptureQueriesContext(connection) as many:
        values = _values("centers.utilisation", [a["community_a"], a["community_a2"], *extra, a["street_a"],
                                                 a["dongcheng"]])
    assert len(one) == len(many)
    assert values[extra[0].pk] == D("1") / D("300")


def test_links_open_the_dashboards(personas, world, client_for):
    a = personas.areas
    link = indicators.link("centers.utilisation", a["community_a"], APRIL)
    parts = urlsplit(link)
    assert parts.path == reverse("centers:dashboard_community")
    assert parse_qs(parts.query) == {"community": ["110101001001"], "period": ["last_12_months"]}
    page = client_for("community_staff").get(link)
    assert page.status_code == 200 and "多福巷社区党群服务站" in page.content.decode()
    this_month = Period.of(indicators.MONTH, timezone.localdate())
    street_link = indicators.link("centers.checkins", a["street_a"], this_month)
    assert parse_qs(urlsplit(street_link).query) == {"street": ["110101001"], "period": ["this_month"]}
    assert "last_month" in indicators.link("centers.checkins", a["street_a"], this_month.previous())
    page = client_for("street_hub").get(street_link)
    assert page.status_code == 200 and "东华门街道党群服务中心" in page.content.decode()
    assert indicators.link("centers.checkins", a["city"], APRIL) is None
