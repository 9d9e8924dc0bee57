"""The demo requests (load_demo_requests): consistent with what the services and the roll-ups produce."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from zhouxin.core.models import AuditEntry, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import demo, rates, rollups, routing, services, sla
from zhouxin.dispatch.choices import OPEN_STATUSES, AssignmentRole, EventAction, Status
from zhouxin.dispatch.models import (
    Assignment,
    CategoryRollup,
    Extension,
    MonthlyTheme,
    RequestEvent,
    Rollup,
    ServiceRequest,
    Summons,
    Whistle,
)
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.models import Area

PER_MONTH = 45


def command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refused_without_the_demo_district(settings):
    with pytest.raises(CommandError, match="演示数据尚未加载"):
        command("load_demo_requests", "--per-month", "5", "--months", "1")
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError, match="演示模式未开启"):
        command("load_demo_requests")
    assert not ServiceRequest.objects.unscoped().exists()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        command("calendar_seed")
        command("seed_catalogue")
        orgs_demo.load_demo()
        command("seed_catalogue", "--routing-district", "110101")
        out = command("load_demo_requests", "--per-month", str(PER_MONTH))
        yield out
        transaction.set_rollback(True)


def requests_with_events():
    events = defaultdict(list)
    for event in RequestEvent.objects.order_by("request_id", "id"):
        events[event.request_id].append(event)
    return list(ServiceRequest.objects.unscoped().select_related("category", "area")), events


def test_second_run_adds_nothing(world, db):
    assert "演示工单已生成" in world
    with scopes_disabled():
        counts = (ServiceRequest.objects.count(), RequestEvent.objects.count(), Whistle.objects.count())
        assert counts[0] > 10 * PER_MONTH
        assert "已加载过" in command("load_demo_requests", "--per-month", str(PER_MONTH))
        assert (ServiceRequest.objects.count(), RequestEvent.objects.count(), Whistle.objects.count()) == counts
        assert AuditEntry.objects.filter(action=demo.MARKER_ACTION).count() == 1


def test_rollups_equal_the_live_fold_of_the_events(world, db):
    """Rebuilt by the loader; the same as folding every event live, in order, as the services do."""
    with scopes_disabled():
        assert rollups.check() == []
        loaded = rollups.stored()
        assert loaded[0] and loaded[1]
        Rollup._base_manager.all().delete()
        CategoryRollup._base_manager.all().delete()
        # Live, the request had its intake category when "received" was folded (None for the
        # ones the street categorised later): give the request that state again.
        initial = {e.request_id: e.data["from"] for e in RequestEvent.objects.filter(
            action=EventAction.CATEGORISED).order_by("-id")}
        for event in RequestEvent.objects.select_related("request__area").order_by("id"):
            if event.action == EventAction.RECEIVED and event.request_id in initial:
                event.request.category_id = initial[event.request_id]
            rollups.apply_event(event)
        assert rollups.stored() == loaded


def test_every_status_follows_from_the_events(world, db):
    with scopes_disabled():
        requests, events = requests_with_events()
        assignments = defaultdict(list)
        for a in Assignment.objects.order_by("id"):
            assignments[a.request_id].append(a)
        for r in requests:
            timeline = events[r.pk]
            assert timeline[0].action == EventAction.RECEIVED and timeline[0].at == r.received_at
            assert [e.at for e in timeline] == sorted(e.at for e in timeline)
            assert timeline[-1].to_status == r.status, r.number
            for before, after in zip(timeline, timeline[1:], strict=False):
                assert after.from_status == before.to_status, (r.number, after.action)
            assert all(e.at <= timezone.now() for e in timeline)
            actions = [e.action for e in timeline]
            assert (r.contacted_at is not None) == (EventAction.CONTACTED in actions)
            assert (r.contact_overdue_at is not None) == (EventAction.CONTACT_OVERDUE in actions)
            assert r.reopen_count == actions.count(EventAction.REOPENED)
            contacted = [e for e in timeline if e.action == EventAction.CONTACTED]
            if contacted:
                expected = r.contact_overdue_at is None and contacted[0].at <= r.contact_due_at
                assert contacted[0].data == {"in_time": expected}
            lead = None
            for e in timeline:
                if e.action == EventAction.DISPATCHED:
                    lead = e.data["lead"]
                    assert e.organisation_id == lead
                elif e.action == EventAction.RETURNED:
                    lead = None
            active_leads = [a for a in assignments[r.pk]
                            if a.role == AssignmentRole.LEAD and a.status not in ("returned", "withdrawn")]
            if r.status == Status.INVALID:
                assert not active_leads and r.invalid_reason
            elif r.status in (Status.RECEIVED, Status.RETURNED):
                assert r.lead_org_id is None and not active_leads
            else:
                assert r.lead_org_id == lead
                assert [a.organisation_id for a in active_leads] == [lead]
            if r.status == Status.CLOSED:
                assert r.closed_at and r.callback_at and r.resolution and r.satisfaction
                callback, closed = timeline[-2], timeline[-1]
                assert callback.action == EventAction.CALLBACK and closed.action == EventAction.CLOSED
                # Closed by the callback itself (same moment) exactly when the outcome closes it;
                # otherwise the supervisor closed it later.
                assert (closed.at == callback.at) == services.closes_on_callback(r.resolution, r.satisfaction)
            assert r.number.startswith("110101" + timezone.localtime(r.received_at).strftime("%y%m%d"))
            assert r.contact_phone == "" or r.contact_phone_masked.count("*") == 4


def test_routing_and_deadlines_are_the_services_own(world, db):
    with scopes_disabled():
        requests, events = requests_with_events()
        checked = 0
        for r in requests[:400]:
            timeline = events[r.pk]
            auto = [e for e in timeline if e.action == EventAction.DISPATCHED and e.data.get("automatic")]
            if auto:
                assert routing.route_for(category=r.category, area=r.area).pk == auto[0].data["lead"]
                assert auto[0].at == r.received_at and auto[0].actor_id is None
            changed = {EventAction.REOPENED, EventAction.EXTENSION_APPROVED}
            if not changed & {e.action for e in timeline}:
                d = sla.compute_deadlines(kind=r.kind, urgency=r.urgency, sla_class=r.category.sla_class,
                                          received_at=r.received_at, city=r.district.parent_id)
                assert (r.contact_due_at, r.resolve_due_at) == (d.contact.at, d.resolve.at)
                checked += 1
        assert checked > 100


def test_outcomes_look_like_a_real_year(world, db):
    with scopes_disabled():
        statuses = Counter(ServiceRequest.objects.values_list("status", flat=True))
        total = sum(statuses.values())
        assert statuses[Status.CLOSED] > 0.85 * total
        assert sum(statuses[s] for s in OPEN_STATUSES | {Status.REPLIED}) > 0
        events = Counter(RequestEvent.objects.values_list("action", flat=True))
        for action in (EventAction.RETURNED, EventAction.REOPENED, EventAction.ESCALATED, EventAction.WARNED,
                       EventAction.EXTENSION_REQUESTED, EventAction.CATEGORISED, EventAction.CALLBACK):
            assert events[action] > 0, action
        # Routed by the rules exactly when they can be: a request categorised at intake whose
        # category and area have a routing rule is dispatched automatically, to the rule's
        # organisation; every other one is dispatched by the street by hand.  (The share this
        # gives, about 80 %, moves with the current month's partial volume, so the rule itself is
        # checked rather than a share.)
        first_dispatch = {}
        for event in RequestEvent.objects.filter(action=EventAction.DISPATCHED).order_by("at", "id"):
            first_dispatch.setdefault(event.request_id, event)
        categorised_later = set(RequestEvent.objects.filter(action=EventAction.CATEGORISED)
                                .values_list("request_id", flat=True))
        automatic = 0
        for request in ServiceRequest.objects.select_related("category", "area"):
            first = first_dispatch.get(request.pk)
            if first is None:
                continue  # invalidated before any dispatch
            ruled = None if request.pk in categorised_later else routing.route_for(category=request.category,
                                                                                  area=request.area)
            assert bool((first.data or {}).get("automatic")) == (ruled is not None), request.number
            if ruled is not None:
                automatic += 1
                assert first.actor_id is None and first.data["lead"] == ruled.pk, request.number
        assert automatic > 0
        district = Area.objects.get(code="110101")
        streets = rates.area_ranking(district=district, month=rates.add_months(rates.this_month(), -1),
                                     level="street", w=rates.weights())
        assert len(streets) == 17
        figures = sum((e.figures for e in streets), rates.Figures())
        r = rates.rates_of(figures, rates.weights())
        assert Decimal("0.75") < r.resolution < Decimal("0.98")
        assert Decimal("0.75") < r.satisfaction < Decimal("0.99")
        assert Decimal("0.75") < r.response < Decimal("0.99")
        assert Whistle.objects.count() >= 12
        assert Summons.objects.filter(rating__isnull=False).exists()
        assert Extension.objects.exists()
        assert MonthlyTheme.objects.count() == 2
        heating = CategoryRollup.objects.filter(category__code="12")
        winter = sum(heating.filter(month__month__in=[12, 1]).values_list("received", flat=True))
        summer = sum(heating.filter(month__month__in=[6, 7]).values_list("received", flat=True))
        assert winter > summer


def test_the_services_carry_on_with_demo_requests(world, db):
    """A demo request is work like any other: the community accepts it, and a new intake today
    continues the day's numbering after the demo's."""
    with scopes_disabled():
        staff = User.objects.get(username="community_staff")
        waiting = (ServiceRequest.objects.filter(status=Status.DISPATCHED, area__code__startswith="110101001001",
                                                 lead_org__area__code="110101001001").first())
        today = timezone.localdate()
        last = (ServiceRequest.objects.filter(number__startswith=f"110101{today:%y%m%d}")
                .order_by("-number").values_list("number", flat=True).first())
        community = Area.objects.get(code="110101001001")
    if waiting is not None:
        services.request_accept(actor=staff, request=waiting)
        assert ServiceRequest.objects.unscoped().get(pk=waiting.pk).status == Status.ACCEPTED
    created = services.request_intake(actor=staff, kind="help", channel="walk_in", area=community,
                                      title="楼道灯坏了", description="3号楼2单元楼道灯坏了，晚上太黑。")
    if last is not None:
        assert int(created.number[-5:]) == int(last[-5:]) + 1
    else:
        assert created.number.endswith("00001")
