"""Concurrent requests for the same slot of one room (issue 10 acceptance): exactly one booking is
made, every other request is told the time is taken, on PostgreSQL and on SQLite; and on PostgreSQL
the exclusion constraint alone refuses the overlap when the service's own lock and check are
bypassed."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from zhouxin.centers import bookings
from zhouxin.centers.choices import BookerKind, BookingStatus
from zhouxin.centers.models import Booking, Room

from .helpers_bookings import account, at, centre, room

THREADS = 8
TAKEN = "该时段已被预约："


def _contenders(personas, n: int):
    """n different bookers for the same slot: staff, the liaison and residents."""
    people = [{"actor": personas.community_staff, "booker_kind": BookerKind.STAFF},
              {"actor": personas.street_hub, "booker_kind": BookerKind.GROUP, "group_name": "多福巷合唱团"},
              {"actor": personas.unit_liaison, "booker_kind": BookerKind.UNIT, "organisation": personas.orgs["unit"]}]
    phone = 13500000000
    while len(people) < n:
        phone += 1
        people.append({"account": account(str(phone)), "booker_kind": BookerKind.RESIDENT})
    return people[:n]


def _race(the_room: Room, contenders, *, hold: bool, starts=(9, 0), ends=(11, 0)):
    """Each contender requests the slot from its own thread (its own database connection), released
    together by a barrier.  With `hold` each thread opens its transaction before the barrier and
    keeps it open a moment after its insert, so the transactions overlap (PostgreSQL)."""
    barrier = threading.Barrier(len(contenders))
    outcomes: list[str] = []
    lock = threading.Lock()

    def request(index, who):
        try:
            kwargs = {"room": the_room, "title": f"活动{index}", "starts_at": at(2, *starts), "ends_at": at(2, *ends),
                      "expected": 10, **who}
            if hold:
                with transaction.atomic():
                    barrier.wait(timeout=20)
                    bookings.booking_request(**kwargs)
                    time.sleep(0.3)
            else:
                barrier.wait(timeout=20)
                bookings.booking_request(**kwargs)
            result = "booked"
        except ValidationError as exc:
            result = " ".join(exc.messages)
        except BaseException as exc:  # pragma: no cover - shown in the assertion
            result = f"error: {exc!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=request, args=(i, who)) for i, who in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _count_database_refusals(monkeypatch) -> list:
    """Record each time the database (not the service's check) refused a request."""
    calls: list = []
    original = bookings._refused_by_database

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(bookings, "_refused_by_database", counted)
    return calls


def _bypass_the_service(monkeypatch) -> None:
    """No room lock and no overlap check in the service: only the database stands in the way."""
    monkeypatch.setattr(bookings, "_check_free", lambda *a, **k: None)
    monkeypatch.setattr(bookings, "_lock_room", lambda r: Room.objects.unscoped().select_related(
        "centre__area__parent").get(pk=r.pk))


def _assert_exactly_one(the_room: Room, outcomes: list[str]) -> None:
    assert len(outcomes) == THREADS, outcomes
    assert outcomes.count("booked") == 1, outcomes
    refused = [o for o in outcomes if o != "booked"]
    assert all(o.startswith(TAKEN) and o.endswith("09:00–11:00") for o in refused), outcomes
    live = Booking.objects.unscoped().filter(room=the_room, status__in=(BookingStatus.PENDING, BookingStatus.APPROVED))
    assert live.count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_requests_for_one_slot_released_together_exactly_one_books(personas):
    """Any database: the room lock (PostgreSQL) or the database's write lock (SQLite's IMMEDIATE
    transactions) queues the requests; each sees the one before it."""
    hall = room(centre(personas))
    outcomes = _race(hall, _contenders(personas, THREADS), hold=False)
    _assert_exactly_one(hall, outcomes)


@pytest.mark.django_db(transaction=True)
def test_without_the_services_check_the_database_still_books_only_one(personas, monkeypatch):
    """The service's lock and check bypassed: the exclusion constraint (PostgreSQL) or the trigger
    (SQLite) refuses every request but one, with the same message."""
    hall = room(centre(personas))
    _bypass_the_service(monkeypatch)
    refusals = _count_database_refusals(monkeypatch)
    outcomes = _race(hall, _contenders(personas, THREADS), hold=False)
    _assert_exactly_one(hall, outcomes)
    assert len(refusals) == THREADS - 1


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so open "
                           "transactions cannot overlap there; the overlapping race is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(2))
def test_overlapping_transactions_for_one_slot_exactly_one_books(personas, round_, monkeypatch):
    """The room row's lock queues the transactions: each sees the committed winner in its own check,
    so the database never has to refuse."""
    hall = room(centre(personas))
    refusals = _count_database_refusals(monkeypatch)
    outcomes = _race(hall, _contenders(personas, THREADS), hold=True)
    _assert_exactly_one(hall, outcomes)
    assert refusals == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_exclusion_constraint_alone_refuses_overlapping_transactions(personas, monkeypatch):
    """No room lock and no check in the service: eight transactions insert at once and stay open;
    PostgreSQL's exclusion constraint makes all but one fail (each waits for the one before it to
    commit, then finds the conflict)."""
    hall = room(centre(personas))
    _bypass_the_service(monkeypatch)
    refusals = _count_database_refusals(monkeypatch)
    outcomes = _race(hall, _contenders(personas, THREADS), hold=True)
    _assert_exactly_one(hall, outcomes)
    assert len(refusals) == THREADS - 1


@pytest.mark.django_db(transaction=True)
def test_different_slots_of_one_room_all_book_at_once(personas):
    """The lock serialises one room's requests; it does not refuse requests that do not overlap."""
    hall = room(centre(personas))
    contenders = _contenders(personas, 4)
    barrier = threading.Barrier(len(contenders))
    outcomes: list[str] = []
    slots = [((8, 30), (9, 30)), ((9, 30), (10, 30)), ((10, 30), (11, 30)), ((14, 0), (15, 0))]

    def request(index, who):
        try:
            barrier.wait(timeout=20)
            bookings.booking_request(room=hall, title=f"活动{index}", starts_at=at(2, *slots[index][0]),
                                     ends_at=at(2, *slots[index][1]), expected=5, **who)
            outcomes.append("booked")
        except BaseException as exc:  # pragma: no cover - shown in the assertion
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request, args=(i, who)) for i, who in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["booked"] * 4
    assert Booking.objects.unscoped().filter(room=hall).count() == 4
