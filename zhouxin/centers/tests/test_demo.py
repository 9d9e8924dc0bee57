"""The demo centres: a street centre and community centres with rooms, hours, services and a rota;
three months of bookings, events and visitor counts, written through the services, and written once."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import centres, utilisation
from zhouxin.centers.choices import BookerKind, BookingStatus, RegistrationStatus
from zhouxin.centers.models import (
    Booking,
    Centre,
    DutyShift,
    Event,
    EventRegistration,
    Room,
    ServiceItem,
    VisitCount,
)
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled

MODELS = (Centre, Room, ServiceItem, DutyShift, Booking, Event, EventRegistration, VisitCount)


def test_demo_centres_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_centers")


def _counts() -> dict:
    with scopes_disabled():
        counts = {model.__name__: model.objects.unscoped().count() if hasattr(model.objects, "unscoped")
                  else model.objects.count() for model in MODELS}
    counts.update(users=User.objects.count(), grants=Grant.objects.count(), audit=AuditEntry.objects.count())
    return counts


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The personas stand in for the demo district (东华门街道 with 多福巷 and 银闸; 景山街道): the demo
    is loaded twice in one transaction kept for this module's tests, and rolled back at the end."""
    from django.conf import settings
    from django.db import transaction

    from zhouxin.orgs import demo as orgs_demo
    from zhouxin.testing.personas import build_personas

    with django_db_blocker.unblock(), transaction.atomic(), pytest.MonkeyPatch.context() as patch:
        personas = build_personas()
        patch.setattr(settings, "DEMO_ENABLED", True)
        patch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
        out, second_out = StringIO(), StringIO()
        call_command("load_demo_centers", stdout=out)
        first = _counts()
        call_command("load_demo_centers", stdout=second_out)
        second = _counts()
        patch.undo()
        yield {"personas": personas, "first": first, "second": second, "out": out.getvalue(),
               "second_out": second_out.getvalue()}
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(world, db):
    return world


def _centres():
    return {c.name: c for c in Centre.objects.unscoped().select_related("area")}


def test_loading_twice_creates_nothing_the_second_time(demo_db):
    assert demo_db["first"] == demo_db["second"]
    assert "新建中心 0 个" in demo_db["second_out"] and "预约 0 条" in demo_db["second_out"]
    assert "新建中心 3 个" in demo_db["out"]


def test_a_street_centre_and_community_centres(demo_db):
    found = _centres()
    assert set(found) == {"东华门街道党群服务中心", "多福巷社区党群服务站", "银闸社区党群服务站"}
    street = found["东华门街道党群服务中心"]
    assert street.area.code == "110101001"
    assert street.opening_hours["sat"] and street.opening_hours["holiday"]
    assert any(end >= "20:00" for _start, end in street.opening_hours["mon"])  # evenings
    rooms = Room.objects.unscoped().filter(centre=found["多福巷社区党群服务站"])
    names = set(rooms.values_list("name", flat=True))
    assert {"党员活动室", "多功能厅", "图书阅览室", "老年活动室", "儿童之家", "议事厅"} <= names
    assert all(r.capacity > 0 and r.equipment for r in rooms)
    assert ServiceItem.objects.filter(centre=street).count() >= 5


def test_the_last_community_centre_is_below_the_norm(demo_db):
    found = _centres()
    ok = centres.standards_check(found["多福巷社区党群服务站"])
    assert all(f.ok for f in ok), [f.message for f in ok if not f.ok]
    assert all(f.ok is not False for f in centres.standards_check(found["东华门街道党群服务中心"]))
    flagged = centres.standards_check(found["银闸社区党群服务站"])
    minimum = next(f for f in flagged if f.rule == "minimum_area_community")
    assert minimum.ok is False and "225" in minimum.figures


def test_the_rota_has_two_staff_with_a_backup_and_one_gap(demo_db):
    found = _centres()
    today = timezone.localdate()
    last = today + dt.timedelta(days=13)
    assert centres.rota_warnings(found["多福巷社区党群服务站"], today, last) == []
    assert centres.rota_warnings(found["东华门街道党群服务中心"], today, last) == []
    gaps = centres.rota_check(found["银闸社区党群服务站"], today, last)
    assert [w.kind for w in gaps] == ["gap"] and gaps[0].day == today + dt.timedelta(days=3)
    worked = set(DutyShift.objects.unscoped().filter(centre=found["多福巷社区党群服务站"])
                 .values_list("worker__username", flat=True))
    assert worked == {"community_staff", "grid_worker"}


def test_bookings_in_every_status_by_every_kind_of_booker(demo_db):
    with scopes_disabled():
        rows = Booking.objects.unscoped()
        assert set(rows.values_list("status", flat=True)) == set(BookingStatus.values)
        assert set(rows.values_list("booker_kind", flat=True)) == {BookerKind.UNIT, BookerKind.GROUP,
                                                                   BookerKind.RESIDENT, BookerKind.STAFF}
        now = timezone.now()
        assert rows.filter(starts_at__lt=now - dt.timedelta(days=80)).exists()
        assert rows.filter(starts_at__gt=now + dt.timedelta(days=10)).exists()
        assert not rows.filter(status=BookingStatus.PENDING, starts_at__lt=now).exists()
        assert not rows.filter(status=BookingStatus.COMPLETED, ends_at__gt=now).exists()
        # Unit bookings come from the unit's liaison, at the unit's community.
        unit = rows.filter(booker_kind=BookerKind.UNIT).select_related("room__centre__area", "organisation").first()
        assert unit.room.centre.area.code == "110101001001" and unit.booked_by.username == "unit_liaison"
        # The history happened when it says: requested before it started.
        assert not rows.filter(created_at__gte=models_f("starts_at")).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


def test_events_with_registrations_a_waiting_list_and_check_ins(demo_db):
    with scopes_disabled():
        regs = EventRegistration.objects.unscoped()
        assert Event.objects.unscoped().count() >= 4
        assert regs.filter(checked_in_at__isnull=False).count() >= 10
        assert regs.filter(status=RegistrationStatus.WAITLISTED).exists() or \
            AuditEntry.objects.filter(action="centers.event.waitlist_promoted").exists()
        assert AuditEntry.objects.filter(action="centers.event.checked_in", after__method="staff").exists()
        assert Event.objects.unscoped().filter(booking__isnull=True).exists()
        # Check-ins fall in the event's window.
        for reg in regs.filter(checked_in_at__isnull=False).select_related("event"):
            assert reg.event.starts_at - dt.timedelta(minutes=30) <= reg.checked_in_at <= reg.event.ends_at


def test_visitor_counts_for_the_past_three_months_and_utilisation(demo_db):
    found = _centres()
    today = timezone.localdate()
    with scopes_disabled():
        days = VisitCount.objects.unscoped().filter(centre=found["多福巷社区党群服务站"]).values_list("day", flat=True)
        assert min(days) <= today - dt.timedelta(days=85) and max(days) == today - dt.timedelta(days=1)
    period = utilisation.period_for("last_12_months")
    report = utilisation.report(list(found.values()), period.first, period.last)
    assert report.totals.visitors > 1000
    assert report.totals.no_shows >= 1 and report.totals.attendance >= 10
    month = utilisation.period_for("last_month")
    busy = utilisation.report(list(found.values()), month.first, month.last)
    assert all(c.occupancy > 3 and c.visitors > 300 for c in busy.centres), busy.centres


def test_the_street_dashboard_shows_the_demo(demo_db):
    from zhouxin.testing.clients import verified_client

    response = verified_client(demo_db["personas"], "street_hub").get(reverse("centers:dashboard_street"),
                                                                       {"period": "last_month"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "东华门街道党群服务中心" in html and "银闸社区党群服务站" in html
