"""Roll-ups: what each action counts, re-categorisation, invalidation, rebuild == incremental,
and two concurrent transactions on one new roll-up row (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rates, rollups, services
from zhouxin.dispatch.choices import Channel, EventAction, RequestKind, Resolution, Satisfaction, Status
from zhouxin.dispatch.models import CategoryRollup, RequestEvent, Rollup, ServiceRequest

pytestmark = pytest.mark.django_db


# --- helpers ---------------------------------------------------------------------------

def rollup(area=None, org=None, month=None) -> dict:
    """The counters of one roll-up row as a dict of its non-zero fields ({} when missing)."""
    month = month or timezone.localdate().replace(day=1)
    lookup = {"area": area} if area is not None else {"organisation": org}
    row = Rollup.objects.unscoped().filter(month=month, **lookup).values(*rollups.COUNTER_FIELDS).first() or {}
    return {name: value for name, value in row.items() if value}


def category_volume(street, category, month=None) -> int:
    month = month or timezone.localdate().replace(day=1)
    return (CategoryRollup.objects.unscoped().filter(month=month, street=street, category=category)
            .values_list("received", flat=True).first() or 0)


def intake(personas, world, *, area="community_a", category="040102", actor="district_admin"):
    return services.request_intake(
        actor=personas.users[actor], kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE,
        area=personas.areas[area], title="楼道堆放杂物",
        description="三号楼二单元楼道里堆满了纸箱和旧家具，影响通行，也有火灾隐患。",
        category=world.categories[category] if category else None)


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.unscoped().select_related("area").get(pk=request.pk)


def assert_rebuild_matches():
    """The stored (incremental) roll-ups equal a replay of every event."""
    with scopes_disabled():
        assert rollups.stored() == rollups.normalised(rollups.compute())
        assert rollups.check() == []


@pytest.fixture
def world(personas, dispatch_world):
    return dispatch_world


@pytest.fixture
def handled(personas, world):
    """A complaint in 多福巷社区, routed to the community committee, accepted and contacted."""
    req = intake(personas, world)
    assert req.lead_org_id == personas.orgs["community_a_committee"].pk
    services.request_accept(actor=personas.community_staff, request=fresh(req))
    services.request_contact(actor=personas.community_staff, request=fresh(req))
    return fresh(req)


# --- each action ------------------------------------------------------------------------

def test_intake_counts_street_community_and_category(personas, world):
    a = personas.areas
    intake(personas, world, area="grid_a")  # a grid: counted for its community
    assert rollup(area=a["street_a"]) == {"received": 1}
    assert rollup(area=a["community_a"]) == {"received": 1}
    assert rollup(area=a["grid_a"]) == {}
    assert category_volume(a["street_a"], world.categories["04"]) == 1
    # Routed automatically to the community committee: its volume is what it was dispatched.
    assert rollup(org=personas.orgs["community_a_committee"]) == {"received": 1}
    assert_rebuild_matches()


def test_uncategorised_intake_has_no_category_volume_until_categorised(personas, world):
    a = personas.areas
    req = intake(personas, world, category=None)
    assert rollup(area=a["street_a"]) == {"received": 1}
    assert not CategoryRollup.objects.unscoped().exists()
    services.request_categorise(actor=personas.street_hub, request=fresh(req),
                                category=world.categories["080101"])
    assert category_volume(a["street_a"], world.categories["08"]) == 1
    assert_rebuild_matches()


def test_recategorisation_moves_the_category_volume(personas, world):
    a, c = personas.areas, world.categories
    req = intake(personas, world, area="community_b", category=None)
    services.request_categorise(actor=personas.district_admin, request=fresh(req), category=c["120101"])
    assert category_volume(a["street_b"], c["12"]) == 1
    services.request_categorise(actor=personas.district_admin, request=fresh(req), category=c["040102"])
    assert category_volume(a["street_b"], c["12"]) == 0
    assert category_volume(a["street_b"], c["04"]) == 1
    # Within the same top-level category nothing moves.
    services.request_categorise(actor=personas.district_admin, request=fresh(req), category=c["040101"])
    assert category_volume(a["street_b"], c["04"]) == 1
    assert_rebuild_matches()


def test_contact_in_time_counts_for_area_and_lead(personas, world, handled):
    a, committee = personas.areas, personas.orgs["community_a_committee"]
    expected = {"received": 1, "response_due": 1, "responded_in_time": 1}
    assert rollup(area=a["street_a"]) == expected
    assert rollup(area=a["community_a"]) == expected
    assert rollup(org=committee) == expected
    assert_rebuild_matches()


def test_late_contact_is_due_but_not_in_time(personas, world):
    req = intake(personas, world)
    services.request_accept(actor=personas.community_staff, request=fresh(req))
    with scopes_disabled():
        ServiceRequest.objects.unscoped().filter(pk=req.pk).update(
            contact_due_at=timezone.now() - dt.timedelta(hours=1))
    services.request_contact(actor=personas.community_staff, request=fresh(req))
    assert rollup(area=personas.areas["street_a"]) == {"received": 1, "response_due": 1}
    assert_rebuild_matches()


def test_never_contacted_request_counts_as_due_and_not_in_time_after_the_sweep(personas, world):
    """A handler who ignores a request does not look perfect: once the contact deadline has
    passed, the sweep counts the request as due, and the response rate shows 0 %."""
    a, department = personas.areas, personas.orgs["department"]
    req = intake(personas, world, category="080101")  # routed to the 城管 department, never called
    month = timezone.localdate().replace(day=1)

    def department_response() -> str:
        with scopes_disabled():
            ranking = rates.department_ranking(district=a["dongcheng"], month=month, w=rates.weights())
        return next(entry.response for entry in ranking if entry.pk == department.pk)

    assert department_response() == "—"  # nothing due yet: no rate
    assert services.sla_sweep(now=fresh(req).contact_due_at - dt.timedelta(minutes=1)).contact_overdue == []
    result = services.sla_sweep(now=fresh(req).contact_due_at + dt.timedelta(minutes=1))
    assert result.contact_overdue == [req.pk]
    due = {"received": 1, "response_due": 1}
    assert rollup(area=a["street_a"]) == due
    assert rollup(area=a["community_a"]) == due
    assert rollup(org=department) == due
    assert department_response() == "0.0%"
    assert fresh(req).contact_overdue_at == fresh(req).contact_due_at + dt.timedelta(minutes=1)
    # Once: later sweeps leave it alone.
    assert services.sla_sweep(now=fresh(req).contact_due_at + dt.timedelta(days=2)).contact_overdue == []
    assert rollup(area=a["street_a"])["response_due"] == 1
    event = RequestEvent.objects.get(request=req, action=EventAction.CONTACT_OVERDUE)
    assert (event.actor_id, event.organisation_id) == (None, department.pk)
    assert_rebuild_matches()


def test_a_contact_after_the_sweep_marked_it_overdue_is_not_counted_again(personas, world):
    a, department = personas.areas, personas.orgs["department"]
    req = intake(personas, world, category="080101")
    services.sla_sweep(now=fresh(req).contact_due_at + dt.timedelta(minutes=1))
    # The contact itself is (by the services' clock) before the deadline: the sweep already
    # said it was late, so it stays late and is not due a second time.
    services.request_accept(actor=personas.department_handler, request=fresh(req))
    services.request_contact(actor=personas.department_handler, request=fresh(req))
    assert RequestEvent.objects.get(request=req, action=EventAction.CONTACTED).data == {"in_time": False}
    for subject in ({"area": a["street_a"]}, {"area": a["community_a"]}, {"org": department}):
        assert rollup(**subject) == {"received": 1, "response_due": 1}, subject
    assert services.sla_sweep(now=fresh(req).contact_due_at + dt.timedelta(days=1)).contact_overdue == []
    assert_rebuild_matches()


def test_overdue_before_dispatch_counts_the_area_and_the_late_handler_once_each(personas, world):
    """Nobody was assigned when the deadline passed: the street and community count it then;
    the organisation that later calls counts its own late response; nothing counts twice."""
    a, committee = personas.areas, personas.orgs["community_a_committee"]
    req = intake(personas, world, category=None)  # waits for the street hub
    services.sla_sweep(now=fresh(req).contact_due_at + dt.timedelta(minutes=1))
    assert rollup(area=a["street_a"]) == {"received": 1, "response_due": 1}
    services.request_categorise(actor=personas.street_hub, request=fresh(req), category=world.categories["040102"])
    services.request_dispatch(actor=personas.street_hub, request=fresh(req), lead=committee)
    services.request_accept(actor=personas.community_staff, request=fresh(req))
    services.request_contact(actor=personas.community_staff, request=fresh(req))
    assert rollup(area=a["street_a"]) == {"received": 1, "response_due": 1}
    assert rollup(area=a["community_a"]) == {"received": 1, "response_due": 1}
    assert rollup(org=committee) == {"received": 1, "response_due": 1}
    assert_rebuild_matches()


def test_a_request_contacted_in_time_is_never_marked_overdue(personas, world, handled):
    result = services.sla_sweep(now=handled.contact_due_at + dt.timedelta(days=1))
    assert result.contact_overdue == []
    assert rollup(area=personas.areas["street_a"]) == {"received": 1, "response_due": 1, "responded_in_time": 1}


@pytest.mark.parametrize(("resolution", "satisfaction", "moved"), [
    (Resolution.RESOLVED, Satisfaction.SATISFIED, {"resolved": 1, "evaluated": 1, "satisfied": 1, "closed": 1}),
    (Resolution.PARTLY, Satisfaction.BASIC, {"partly": 1, "evaluated": 1, "basic": 1, "closed": 1}),
    (Resolution.NOT_RESOLVED, Satisfaction.UNSATISFIED, {"evaluated": 1}),
    (Resolution.RESOLVED, Satisfaction.UNREACHABLE, {"resolved": 1}),  # no answer: not evaluated
])
def test_callback_counts(personas, world, handled, resolution, satisfaction, moved):
    services.request_reply(actor=personas.community_staff, request=handled, reply="已联系物业清理楼道。")
    services.request_callback(actor=personas.street_hub, request=fresh(handled), resolution=resolution,
                              satisfaction=satisfaction)
    base = {"received": 1, "response_due": 1, "responded_in_time": 1, "callbacks": 1}
    assert rollup(area=personas.areas["community_a"]) == base | moved
    assert rollup(org=personas.orgs["community_a_committee"]) == base | moved
    assert_rebuild_matches()


def test_reopen_then_second_callback_counts_both(personas, world, handled):
    staff, hub = personas.community_staff, personas.street_hub
    services.request_reply(actor=staff, request=handled, reply="已联系物业清理楼道。")
    services.request_callback(actor=hub, request=fresh(handled), resolution=Resolution.NOT_RESOLVED,
                              satisfaction=Satisfaction.UNSATISFIED)
    services.request_reopen(actor=hub, request=fresh(handled), reason="居民反映杂物仍未清走")
    services.request_reply(actor=staff, request=fresh(handled), reply="杂物已全部清走。")
    services.request_callback(actor=hub, request=fresh(handled), resolution=Resolution.RESOLVED,
                              satisfaction=Satisfaction.SATISFIED)
    assert rollup(area=personas.areas["street_a"]) == {
        "received": 1, "response_due": 1, "responded_in_time": 1, "callbacks": 2, "resolved": 1,
        "evaluated": 2, "satisfied": 1, "reopened": 1, "closed": 1}
    assert_rebuild_matches()


def test_return_and_redispatch(personas, world):
    a, o = personas.areas, personas.orgs
    req = intake(personas, world, category="080101")  # routed to the 城管 department
    assert fresh(req).lead_org_id == o["department"].pk
    services.request_return(actor=personas.department_handler, request=fresh(req), reason="属于物业管理范围")
    services.request_dispatch(actor=personas.street_hub, request=fresh(req), lead=o["community_a_committee"])
    assert rollup(org=o["department"]) == {"received": 1, "returned": 1}
    assert rollup(org=o["community_a_committee"]) == {"received": 1}
    assert rollup(area=a["street_a"]) == {"received": 1, "returned": 1}
    assert_rebuild_matches()


def test_escalation_counts_overdue(personas, world):
    req = intake(personas, world)
    result = services.sla_sweep(now=fresh(req).resolve_due_at + dt.timedelta(minutes=1))
    assert req.pk in result.escalated
    assert rollup(area=personas.areas["street_a"])["overdue"] == 1
    assert rollup(org=personas.orgs["community_a_committee"])["overdue"] == 1
    assert_rebuild_matches()


def test_invalidation_counts_invalid(personas, world):
    req = intake(personas, world, category=None)
    services.request_invalidate(actor=personas.street_hub, request=fresh(req), reason="恶意骚扰电话")
    assert rollup(area=personas.areas["street_a"]) == {"received": 1, "invalid": 1}
    assert_rebuild_matches()


def test_invalidation_takes_back_the_rate_counters(personas, world, handled):
    """The services only invalidate before a handler signs; the fold still takes an invalidated
    request out of the rates if it had been counted (e.g. a rule change), and replays the same."""
    services.request_reply(actor=personas.community_staff, request=handled, reply="已处理。")
    services.request_callback(actor=personas.street_hub, request=fresh(handled), resolution=Resolution.RESOLVED,
                              satisfaction=Satisfaction.SATISFIED)
    committee = personas.orgs["community_a_committee"]
    with transaction.atomic():  # a test-only event, written the way services._event writes one
        event = RequestEvent.objects.create(request=handled, at=timezone.now(), action=EventAction.INVALIDATED,
                                            organisation=committee, from_status=Status.CLOSED,
                                            to_status=Status.INVALID, data={"reason": "核实为恶意诉求"})
        rollups.apply_event(event)
    expected = {"received": 1, "invalid": 1, "closed": 1}
    assert rollup(area=personas.areas["community_a"]) == expected
    assert rollup(org=committee) == expected
    # Events after invalidation add nothing to the rates.
    with transaction.atomic():
        event = RequestEvent.objects.create(request=handled, at=timezone.now(), action=EventAction.CALLBACK,
                                            organisation=committee,
                                            data={"resolution": "resolved", "satisfaction": "satisfied"})
        rollups.apply_event(event)
    assert rollup(org=committee) == expected
    assert_rebuild_matches()


def test_a_request_counts_in_its_received_month(personas, world, handled, monkeypatch):
    """A callback in the next month still counts in the month the request was received."""
    received_month = timezone.localtime(handled.received_at).date().replace(day=1)
    later = timezone.now() + dt.timedelta(days=40)
    monkeypatch.setattr(services, "_now", lambda: later)
    services.request_reply(actor=personas.community_staff, request=handled, reply="已处理。")
    services.request_callback(actor=personas.street_hub, request=fresh(handled), resolution=Resolution.RESOLVED,
                              satisfaction=Satisfaction.SATISFIED)
    assert rollup(area=personas.areas["street_a"], month=received_month)["callbacks"] == 1
    assert Rollup.objects.unscoped().exclude(month=received_month).count() == 0
    assert_rebuild_matches()


def test_counters_table_covers_every_counter():
    moved = set()
    for move in rollups.COUNTERS.values():
        for kind in ("area", "org"):
            for data in ({}, {"in_time": True}, {"resolution": "resolved", "satisfaction": "satisfied"},
                         {"resolution": "partly", "satisfaction": "basic"}):
                moved |= set(move.fields(kind, data))
    assert moved == set(rollups.COUNTER_FIELDS)


# --- rebuild -----------------------------------------------------------------------------

def test_rebuild_recreates_deleted_and_corrected_rows(personas, world, handled):
    a = personas.areas
    intake(personas, world, area="community_b", category="080101")
    with scopes_disabled():
        before = rollups.stored()
        Rollup.objects.unscoped().filter(area=a["street_a"]).update(received=99)
        CategoryRollup.objects.unscoped().all().delete()
        differences = rollups.check()
        assert {(d.table, d.field, d.stored, d.computed) for d in differences} >= {
            ("rollup", "received", 99, 1), ("category", "received", 0, 1)}
        result = rollups.rebuild()
        assert result.requests == 2
        assert rollups.stored() == before
    assert_rebuild_matches()


def test_rebuild_one_month_leaves_the_others(personas, world, handled):
    month = timezone.localdate().replace(day=1)
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    with scopes_disabled():
        Rollup.objects.unscoped().create(month=previous, district=personas.areas["dongcheng"],
                                         area=personas.areas["street_b"], received=5)
        Rollup.objects.unscoped().filter(month=month).update(received=0)
        rollups.rebuild(months=[month])
        assert Rollup.objects.unscoped().get(month=previous).received == 5
    assert rollup(area=personas.areas["street_a"])["received"] == 1


def test_rebuild_command_and_check(personas, world, handled):
    out = StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "一致" in out.getvalue()
    with scopes_disabled():
        Rollup.objects.unscoped().filter(area=personas.areas["street_a"]).update(callbacks=7)
    with pytest.raises(CommandError, match="1 处差异"):
        call_command("rebuild_rollups", "--check", stdout=StringIO())
    out = StringIO()
    call_command("rebuild_rollups", "--month", timezone.localdate().strftime("%Y-%m"), stdout=out)
    assert "已重算" in out.getvalue()
    call_command("rebuild_rollups", "--check", stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("rebuild_rollups", "--month", "2026/03", stdout=StringIO())


# --- the acceptance property ---------------------------------------------------------------

LEAVES = ["040101", "040102", "080101", "060101", "120101", None]
AREAS = ["community_a", "grid_a", "community_b", "community_a2"]
HANDLERS = {"community_a_committee": "community_staff", "community_b_committee": "community_staff_b",
            "department": "department_handler"}
LEADS = list(HANDLERS)
OUTCOMES = [(r, s) for r in Resolution.values for s in Satisfaction.values]

intake_step = st.tuples(st.just("intake"), st.sampled_from(AREAS), st.sampled_from(LEAVES))
step = st.one_of(
    intake_step,
    # "progress": the natural next step for the request's status (most of a sequence, so that
    # requests get through their whole life); the integer picks a branch where there are several.
    st.tuples(st.just("progress"), st.integers(0, 7), st.integers(0, 99)),
    st.tuples(st.just("progress"), st.integers(0, 7), st.integers(0, 99)),
    st.tuples(st.just("progress"), st.integers(0, 7), st.integers(0, 99)),
    st.tuples(st.just("progress"), st.integers(0, 7), st.integers(0, 99)),
    st.tuples(st.just("categorise"), st.integers(0, 7), st.sampled_from(LEAVES[:-1])),
    st.tuples(st.just("dispatch"), st.integers(0, 7), st.sampled_from(LEADS)),
    st.tuples(st.just("accept"), st.integers(0, 7)),
    st.tuples(st.just("return"), st.integers(0, 7)),
    st.tuples(st.just("contact"), st.integers(0, 7)),
    st.tuples(st.just("reply"), st.integers(0, 7)),
    st.tuples(st.just("callback"), st.integers(0, 7), st.sampled_from(OUTCOMES)),
    st.tuples(st.just("close"), st.integers(0, 7)),
    st.tuples(st.just("reopen"), st.integers(0, 7)),
    st.tuples(st.just("merge"), st.integers(0, 7), st.integers(0, 7)),
    st.tuples(st.just("invalidate"), st.integers(0, 7)),
    st.tuples(st.just("sweep"), st.integers(1, 20)),
    # A sweep a few hours on: past some contact deadlines (2 h, 24 h), before others.
    st.tuples(st.just("sweep_hours"), st.integers(1, 30)),
    st.tuples(st.just("advance"), st.integers(1, 45)),
)


class _Rollback(Exception):
    pass


def _progress(personas, world, req, choice, handler):
    p, o = personas, personas.orgs
    status = req.status
    if status in (Status.RECEIVED, Status.RETURNED):
        if req.category_id is None or choice % 5 == 0:
            services.request_categorise(actor=p.district_admin, request=req,
                                        category=world.categories[LEAVES[choice % 5]])
        else:
            services.request_dispatch(actor=p.district_admin, request=req, lead=o[LEADS[choice % 3]])
    elif status == Status.DISPATCHED:
        if choice % 4 == 0:
            services.request_return(actor=handler(req), request=req, reason="不属于本单位职责")
        else:
            services.request_accept(actor=handler(req), request=req)
    elif status == Status.ACCEPTED:
        services.request_contact(actor=handler(req), request=req)
    elif status in (Status.CONTACTED, Status.REOPENED):
        services.request_reply(actor=handler(req), request=req, reply="已按要求处理完毕。")
    elif status == Status.REPLIED and req.callback_at is None:
        resolution, satisfaction = OUTCOMES[choice % len(OUTCOMES)]
        services.request_callback(actor=p.district_admin, request=req, resolution=resolution,
                                  satisfaction=satisfaction)
    elif status in (Status.REPLIED, Status.CLOSED) and choice % 2:
        services.request_reopen(actor=p.district_admin, request=req, reason="群众仍不满意")
    elif status == Status.REPLIED:
        services.request_close(actor=p.district_admin, request=req)


def _run(personas, world, steps, clock):
    p, o = personas, personas.orgs
    made: list[ServiceRequest] = []

    def pick(i):
        return fresh(made[i % len(made)]) if made else None

    def handler(req):
        for key, persona in HANDLERS.items():
            if req.lead_org_id == o[key].pk:
                return p.users[persona]
        return p.district_admin

    for op, *args in steps:
        try:
            if op == "intake":
                made.append(intake(personas, world, area=args[0], category=args[1]))
            elif op == "advance":
                clock[0] += dt.timedelta(days=args[0], hours=3)
            elif op == "sweep":
                services.sla_sweep(now=clock[0] + dt.timedelta(days=args[0]))
            elif op == "sweep_hours":
                services.sla_sweep(now=clock[0] + dt.timedelta(hours=args[0]))
            elif not made:
                continue
            elif op == "progress":
                _progress(personas, world, pick(args[0]), args[1], handler)
            elif op == "categorise":
                services.request_categorise(actor=p.district_admin, request=pick(args[0]),
                                            category=world.categories[args[1]])
            elif op == "dispatch":
                services.request_dispatch(actor=p.district_admin, request=pick(args[0]), lead=o[args[1]])
            elif op in ("accept", "contact", "reply", "return"):
                req = pick(args[0])
                actor = handler(req)
                if op == "accept":
                    services.request_accept(actor=actor, request=req)
                elif op == "contact":
                    services.request_contact(actor=actor, request=req)
                elif op == "reply":
                    services.request_reply(actor=actor, request=req, reply="已按要求处理完毕。")
                else:
                    services.request_return(actor=actor, request=req, reason="不属于本单位职责")
            elif op == "callback":
                services.request_callback(actor=p.district_admin, request=pick(args[0]),
                                          resolution=args[1][0], satisfaction=args[1][1])
            elif op == "close":
                services.request_close(actor=p.district_admin, request=pick(args[0]))
            elif op == "reopen":
                services.request_reopen(actor=p.district_admin, request=pick(args[0]), reason="群众仍不满意")
            elif op == "merge":
                services.request_merge(actor=p.district_admin, master=pick(args[0]), duplicates=[pick(args[1])])
            elif op == "invalidate":
                services.request_invalidate(actor=p.district_admin, request=pick(args[0]), reason="重复骚扰")
        except (ValidationError, PermissionDenied):
            pass  # a refused transition changes nothing, roll-ups included
    return made


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(first=st.lists(intake_step, min_size=1, max_size=4), steps=st.lists(step, min_size=15, max_size=60))
def test_rebuilt_rollups_equal_incremental(personas, world, monkeypatch, first, steps):
    """After a random sequence of transitions through the real services, rebuilt roll-ups
    equal the ones kept incrementally (then the example's writes are rolled back)."""
    clock = [timezone.make_aware(dt.datetime(2026, 1, 5, 9, 30))]
    monkeypatch.setattr(services, "_now", lambda: clock[0])
    try:
        with transaction.atomic():
            made = _run(personas, world, first + steps, clock)
            reached = set(RequestEvent.objects.filter(request__in=[m.pk for m in made])
                          .values_list("action", flat=True))
            for action in sorted(reached):
                event(action)
            late = RequestEvent.objects.filter(request__in=[m.pk for m in made], action=EventAction.CONTACTED,
                                               request__events__action=EventAction.CONTACT_OVERDUE,
                                               request__events__id__lt=F("id"))
            if late.exists():
                event("contacted after contact_overdue")
            with scopes_disabled():
                incremental = rollups.stored()
                replayed = rollups.normalised(rollups.compute())
                assert incremental == replayed
                rollups.rebuild()
                assert rollups.stored() == incremental
            raise _Rollback
    except _Rollback:
        pass


# --- concurrency ------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_contact_and_a_sweep_at_the_same_moment_count_the_request_due_once(personas, dispatch_world):
    """The handler records the first contact while the sweep finds the deadline passed: whichever
    commits first, the request is due once, not in time, on every row, and a replay agrees."""
    with scopes_disabled():
        req = intake(personas, dispatch_world, category="080101")
        services.request_accept(actor=personas.department_handler, request=fresh(req))
        ServiceRequest.objects.unscoped().filter(pk=req.pk).update(
            contact_due_at=timezone.now() - dt.timedelta(minutes=5))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(work):
        try:
            start.wait(10)
            work()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    def contact():
        services.request_contact(actor=personas.department_handler, request=fresh(req))

    def sweep():
        with scopes_disabled():
            services.sla_sweep()

    threads = [threading.Thread(target=run, args=(contact,)), threading.Thread(target=run, args=(sweep,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    for subject in ({"area": personas.areas["street_a"]}, {"org": personas.orgs["department"]}):
        assert rollup(**subject) == {"received": 1, "response_due": 1}, subject
    assert RequestEvent.objects.filter(request=req, action=EventAction.CONTACT_OVERDUE).count() <= 1
    assert RequestEvent.objects.get(request=req, action=EventAction.CONTACTED).data == {"in_time": False}
    assert_rebuild_matches()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
def test_two_transactions_incrementing_a_new_row_both_count(personas):
    """Transaction A inserts the (new) row and holds it uncommitted; B's UPDATE finds nothing,
    its INSERT waits on the unique index and fails when A commits; B retries the UPDATE."""
    month = dt.date(2026, 3, 1)
    street, district = personas.areas["street_a"], personas.areas["dongcheng"]
    a_inserted, b_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer(first: bool):
        try:
            with transaction.atomic():
                if not first:
                    a_inserted.wait(10)
                    b_started.set()
                rollups._bump(Rollup, {"month": month, "area_id": street.pk}, {"received": 1},
                              district_id=district.pk)
                if first:
                    a_inserted.set()
                    b_started.wait(10)
                    # Give B time to reach its INSERT and block on A's uncommitted row.
                    threading.Event().wait(0.5)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(True,)), threading.Thread(target=writer, args=(False,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert Rollup.objects.unscoped().get(month=month, area=street).received == 2


# --- deferred: several events, one statement per row ------------------------------------

def _rollup_updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "rollup" in q["sql"]]


def test_intake_moves_each_rollup_row_with_one_statement(personas, world):
    """Intake writes two events ("received", "dispatched"); their roll-up changes reach the
    street, community, organisation and category rows with one UPDATE each."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        intake(personas, world)
    updates = _rollup_updates(captured.captured_queries)
    assert len(updates) == 4, updates
    assert rollup(area=personas.areas["street_a"]) == {"received": 1}
    assert rollup(org=personas.orgs["community_a_committee"]) == {"received": 1}
    assert_rebuild_matches()


def test_deferred_merges_the_changes_of_several_events_into_one_update_per_row(personas, world):
    """A contact of one request and the intake of another in the same community inside one
    block: one UPDATE of the street row carrying both changes, and the counters add up as if
    each event had been applied alone."""
    from django.test.utils import CaptureQueriesContext

    first = intake(personas, world)
    services.request_accept(actor=personas.community_staff, request=fresh(first))
    street = personas.areas["street_a"]
    with transaction.atomic(), CaptureQueriesContext(connection) as captured, rollups.deferred():
        services.request_contact(actor=personas.community_staff, request=fresh(first))
        intake(personas, world)
        assert _rollup_updates(captured.captured_queries) == []  # nothing written inside the block
    street_updates = [sql for sql in _rollup_updates(captured.captured_queries)
                      if f'"area_id" = {street.pk}' in sql]
    assert len(street_updates) == 1, street_updates
    assert rollup(area=street) == {"received": 2, "response_due": 1, "responded_in_time": 1}
    assert_rebuild_matches()


def test_deferred_writes_nothing_when_the_block_fails(personas, world):
    before = rollup(area=personas.areas["street_a"])
    with pytest.raises(RuntimeError), transaction.atomic(), rollups.deferred():
        intake(personas, world)
        raise RuntimeError("boom")
    assert rollup(area=personas.areas["street_a"]) == before
    assert not ServiceRequest.objects.unscoped().exists()
    assert_rebuild_matches()
