"""Deferred intake (settings.DISPATCH_INTAKE_DEFERRED): intake answers with the number at once,
the intake worker completes the rest — and ends exactly where inline intake ends."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rollups, screening, services
from zhouxin.dispatch.choices import AssignmentRole, EventAction, Status
from zhouxin.dispatch.models import Assignment, RequestEvent, Rollup, ServiceRequest

from .test_intake import _run_threads, intake

pytestmark = pytest.mark.django_db

COMPARED = ("status", "lead_org_id", "hold_reason", "contact_due_at", "resolve_due_at", "warn_due_at",
            "deadline_provisional", "category_confirmed")


@pytest.fixture
def deferred(settings):
    settings.DISPATCH_INTAKE_DEFERRED = True
    return settings


def _events(request):
    return list(RequestEvent.objects.filter(request=request).order_by("at", "id")
                .values_list("action", "actor_id", "organisation_id"))


def test_intake_answers_with_its_number_and_the_worker_routes_it(personas, dispatch_world, deferred):
    category = dispatch_world.categories["040102"]  # rule "04" @ 东城区 → 多福巷社区
    request = intake(personas, category=category)
    today = timezone.localdate()
    assert re.fullmatch(rf"110101{today:%y%m%d}\d{{5}}", request.number)
    stored = ServiceRequest.objects.unscoped().get(pk=request.pk)
    assert stored.number == request.number and stored.intake_pending
    # Nothing beyond the resident's input yet: not routed, no clock, no timeline, not counted.
    assert stored.status == Status.RECEIVED and stored.lead_org is None and stored.resolve_due_at is None
    assert not RequestEvent.objects.filter(request=request).exists()
    assert not Assignment.objects.filter(request=request).exists()
    assert not Rollup.objects.unscoped().filter(area=personas.areas["street_a"], received__gt=0).exists()
    received = AuditEntry.objects.get(action="dispatch.request.received")
    assert received.after["number"] == request.number and received.after["intake_pending"] is True
    assert received.after["contact_phone"] == "138****5678"

    completed = services.complete_pending_intakes()
    assert [r.pk for r in completed] == [request.pk]
    stored.refresh_from_db()
    assert not stored.intake_pending
    assert stored.status == Status.DISPATCHED and stored.lead_org == dispatch_world.orgs["community_a"]
    assert stored.dispatched_at >= stored.received_at
    # The clock runs from the time received, not from when the worker got to it.
    assert (stored.resolve_due_at - stored.received_at).days == 7
    lead = Assignment.objects.get(request=request)
    assert lead.role == AssignmentRole.LEAD and lead.assigned_by is None
    assert _events(request) == [(EventAction.RECEIVED, personas.community_staff.pk, None),
                                (EventAction.DISPATCHED, None, dispatch_world.orgs["community_a"].pk)]
    first = RequestEvent.objects.get(request=request, action=EventAction.RECEIVED)
    assert first.at == stored.received_at
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).received == 1
    done = AuditEntry.objects.get(action="dispatch.request.intake_completed", object_id=str(request.pk))
    assert done.actor_id is None and done.after["status"] == Status.DISPATCHED
    assert done.after["lead_org"] == dispatch_world.orgs["community_a"].pk
    with scopes_disabled():
        assert rollups.check() == []
    # Nothing left: a second round does nothing.
    assert services.complete_pending_intakes() == []


def test_the_worker_ends_where_inline_intake_ends(personas, dispatch_world, settings):
    """The same requests, inline and deferred: same status, lead, deadlines, suggestions, timeline, roll-ups."""
    def invoices(text):
        return screening.ScreenResult(hold="发票" in text, reason="疑似广告：代开发票")

    cases = [
        {"category": dispatch_world.categories["040102"]},
        {"category": dispatch_world.categories["080101"], "urgency": "urgent"},
        {"title": "电梯故障困人", "description": "5号楼电梯突然停运，有老人被困在电梯里。"},  # no category: suggestions
        {"title": "代开发票", "description": "代开各类发票，联系微信。", "category": dispatch_world.categories["040102"]},
    ]
    screening.register(invoices)
    try:
        settings.DISPATCH_INTAKE_DEFERRED = False
        inline = [intake(personas, kind="help", **case) for case in cases]
        settings.DISPATCH_INTAKE_DEFERRED = True
        later = [intake(personas, kind="help", **case) for case in cases]
    finally:
        screening.unregister(invoices)
    assert all(ServiceRequest.objects.unscoped().get(pk=r.pk).intake_pending for r in later)
    assert len(services.complete_pending_intakes()) == len(cases)
    for a, b in zip(inline, later, strict=True):
        a = ServiceRequest.objects.unscoped().get(pk=a.pk)
        b = ServiceRequest.objects.unscoped().get(pk=b.pk)
        shift = b.received_at - a.received_at
        for name in COMPARED:
            x, y = getattr(a, name), getattr(b, name)
            if isinstance(x, dt.datetime):  # received moments apart; the same working-day arithmetic
                assert abs((y - x) - shift) < dt.timedelta(seconds=1), name
            else:
                assert x == y, (name, x, y)
        assert a.suggestions == b.suggestions
        assert [e[0] for e in _events(a)] == [e[0] for e in _events(b)]
    held = ServiceRequest.objects.unscoped().get(pk=later[3].pk)
    assert held.status == Status.HELD and held.lead_org is None
    assert later[2].pk and ServiceRequest.objects.unscoped().get(pk=later[2].pk).suggestions[0]["code"] == "040101"
    with scopes_disabled():
        assert rollups.check() == []
    street = personas.areas["street_a"]
    assert Rollup.objects.unscoped().get(area=street).received == 2 * sum(
        1 for r in inline if r.street_id == street.pk)


def test_no_clerk_action_starts_before_the_worker_routed_it(personas, dispatch_world, deferred):
    request = intake(personas, category=dispatch_world.categories["080101"])
    with pytest.raises(services.TransitionError) as caught:
        services.request_dispatch(actor=personas.street_hub, request=request, lead=dispatch_world.orgs["community_a"])
    assert "正在自动分派" in caught.value.messages[0]
    stored = ServiceRequest.objects.unscoped().get(pk=request.pk)
    assert stored.status == Status.RECEIVED and stored.intake_pending and stored.lead_org is None
    services.complete_pending_intakes()
    stored.refresh_from_db()
    assert stored.status == Status.DISPATCHED and not stored.intake_pending


def test_screening_holds_at_intake_and_the_worker_writes_the_timeline(personas, dispatch_world, deferred):
    def invoices(text):
        return screening.ScreenResult(hold="发票" in text, reason="疑似广告：代开发票")

    screening.register(invoices)
    try:
        held = intake(personas, title="代开发票", description="代开各类发票，联系微信。",
                      category=dispatch_world.categories["040102"])
    finally:
        screening.unregister(invoices)
    assert held.status == Status.HELD and held.hold_reason == "疑似广告：代开发票"
    services.complete_pending_intakes()
    held.refresh_from_db()
    assert held.status == Status.HELD and held.lead_org is None and not held.intake_pending
    assert [e[0] for e in _events(held)] == [EventAction.RECEIVED, EventAction.HELD]


def test_idempotent_retries_make_one_request_and_one_timeline(personas, dispatch_world, deferred):
    first = intake(personas, idempotency_key="portal-retry-7")
    again = intake(personas, idempotency_key="portal-retry-7")
    assert again.pk == first.pk and ServiceRequest.objects.unscoped().count() == 1
    services.complete_pending_intakes()
    assert RequestEvent.objects.filter(action=EventAction.RECEIVED).count() == 1


def test_an_idle_round_is_one_read(personas, dispatch_world, deferred):
    with CaptureQueriesContext(connection) as queries:
        assert services.complete_pending_intakes() == []
    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].lstrip().upper().startswith("SELECT")


def test_the_worker_command_drains_everything_pending(personas, dispatch_world, deferred, monkeypatch):
    monkeypatch.setattr(services, "INTAKE_BATCH", 3)
    monkeypatch.setattr("zhouxin.dispatch.management.commands.intake_worker.INTAKE_BATCH", 3)
    made = [intake(personas, title=f"第{n}件楼道杂物", category=dispatch_world.categories["040102"])
            for n in range(7)]
    out = io.StringIO()
    call_command("intake_worker", stdout=out)
    assert "已完成分派 7 张" in out.getvalue()
    assert not ServiceRequest.objects.unscoped().filter(intake_pending=True).exists()
    assert set(ServiceRequest.objects.unscoped().filter(pk__in=[r.pk for r in made])
               .values_list("status", flat=True)) == {Status.DISPATCHED}


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_and_two_workers_complete_each_request_once(personas, dispatch_world, deferred):
    category = dispatch_world.categories["040102"]

    def work(n):
        if n < 6:
            return [intake(personas, title=f"第{n}-{i}件", category=category).number for i in range(5)]
        done = 0
        for _round in range(40):  # the workers run while intakes arrive
            done += len(services.complete_pending_intakes(limit=4))
        return done

    results, errors = _run_threads(8, work)
    assert not errors, errors
    numbers = [n for r in results if isinstance(r, list) for n in r]
    assert len(numbers) == 30 and len(set(numbers)) == 30
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 31))
    while services.complete_pending_intakes():
        pass
    assert ServiceRequest.objects.unscoped().filter(status=Status.DISPATCHED).count() == 30
    assert RequestEvent.objects.filter(action=EventAction.RECEIVED).count() == 30
    assert RequestEvent.objects.filter(action=EventAction.DISPATCHED).count() == 30
    assert Assignment.objects.count() == 30
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).received == 30
    with scopes_disabled():
        assert rollups.check() == []


def test_the_clerk_sees_the_number_at_once_and_the_routing_when_done(personas, dispatch_world, client_for,
                                                                    deferred):
    from django.urls import reverse

    from .test_views_work import intake_data, text

    client = client_for("street_hub")
    response = client.post(reverse("dispatch:intake"),
                           intake_data(personas, category=dispatch_world.categories["040102"].pk))
    sr = ServiceRequest.objects.unscoped().get()
    assert response.status_code == 302
    receipt = text(client.get(response["Location"]))
    assert sr.number in receipt and "登记成功" in receipt
    assert "已受理" in receipt and "系统正在自动分派" in receipt
    services.complete_pending_intakes()
    page = text(client.get(reverse("dispatch:request_detail", args=[sr.number])))
    assert "已派单" in page and "系统正在自动分派" not in page
    assert dispatch_world.orgs["community_a"].name in page


def test_numbers_are_drawn_a_block_at_a_time_on_postgresql(personas, dispatch_world, deferred):
    """A process takes DISPATCH_NUMBER_BLOCK numbers (and request ids) at once: the district's
    counter row is written once per block, and the numbers still count up one by one."""
    from zhouxin.dispatch import numbering
    from zhouxin.dispatch.models import NumberCounter

    if connection.vendor != "postgresql":
        pytest.skip("blocks are drawn with the request ids, from PostgreSQL's sequence")
    deferred.DISPATCH_NUMBER_BLOCK = 4
    made = [intake(personas, title=f"第{n}件楼道杂物") for n in range(5)]
    assert [int(r.number[-5:]) for r in made] == [1, 2, 3, 4, 5]
    assert len({r.pk for r in made}) == 5 and [r.pk for r in made] == sorted(r.pk for r in made)
    counter = NumberCounter.objects.get(series="R110101", day=timezone.localdate())
    assert counter.value == 8  # two blocks of four: the second one has three left
    stored = ServiceRequest.objects.unscoped().filter(pk__in=[r.pk for r in made])
    assert sorted(stored.values_list("number", flat=True)) == sorted(r.number for r in made)

    # Tomorrow's first request starts tomorrow's series; today's leftovers are never handed out.
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    request_id, number = numbering.draw_request_number("110101", tomorrow)
    assert number == f"110101{tomorrow:%y%m%d}00001"
    assert numbering.draw_request_number("110101", timezone.localtime())[1].endswith("00009")


def test_a_block_drawn_inside_a_transaction_is_shared_after_it(personas, dispatch_world, deferred):
    from django.db import transaction

    from zhouxin.dispatch import numbering

    if connection.vendor != "postgresql":
        pytest.skip("blocks are drawn with the request ids, from PostgreSQL's sequence")
    deferred.DISPATCH_NUMBER_BLOCK = 3
    with transaction.atomic():  # e.g. the API's idempotent create: drawn without holding the process lock
        inside = intake(personas, title="事务里受理的")
    after = intake(personas, title="事务外受理的")
    assert (int(inside.number[-5:]), int(after.number[-5:])) == (1, 2)
    numbering.forget_blocks()
    assert int(intake(personas, title="丢弃后").number[-5:]) == 4  # 3 was held and is skipped
