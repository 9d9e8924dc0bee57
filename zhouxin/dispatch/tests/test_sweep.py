"""The SLA sweep: a yellow warning at 80 % of the time, escalation of overdue requests to
the street hub and the mark of requests nobody called by their contact deadline, each exactly
once, even with two sweepers running at the same moment."""

from __future__ import annotations

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import EventAction, Status
from zhouxin.dispatch.models import RequestEvent, Rollup, ServiceRequest
from zhouxin.dispatch.tasks import sweep_sla

from .test_services import new_request

pytestmark = pytest.mark.django_db


def test_warns_at_eighty_percent_then_escalates_once(personas, dispatch_world):
    r = new_request(personas, category=dispatch_world.categories["040102"])  # dispatched to 多福巷社区
    r.refresh_from_db()
    early = r.warn_due_at - dt.timedelta(seconds=1)
    assert services.sla_sweep(now=early).warned == []
    result = services.sla_sweep(now=r.warn_due_at)
    assert result.warned == [r.pk] and result.escalated == []
    assert services.sla_sweep(now=r.warn_due_at + dt.timedelta(hours=1)).warned == []  # once
    r.refresh_from_db()
    assert r.warned_at == r.warn_due_at
    overdue = r.resolve_due_at + dt.timedelta(minutes=1)
    result = services.sla_sweep(now=overdue)
    assert result.escalated == [r.pk] and result.warned == []
    assert services.sla_sweep(now=overdue + dt.timedelta(days=3)).escalated == []  # once
    r.refresh_from_db()
    assert r.escalated_at == overdue
    events = RequestEvent.objects.filter(request=r, action__in=[EventAction.WARNED, EventAction.ESCALATED])
    assert [(e.action, e.actor_id, e.organisation_id) for e in events] == [
        (EventAction.WARNED, None, dispatch_world.orgs["community_a"].pk),
        (EventAction.ESCALATED, None, dispatch_world.orgs["community_a"].pk)]
    # Overdue is counted once for the street, the community and the handling organisation.
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).overdue == 1
    assert Rollup.objects.unscoped().get(area=personas.areas["community_a"]).overdue == 1
    assert Rollup.objects.unscoped().get(organisation=dispatch_world.orgs["community_a"]).overdue == 1
    assert AuditEntry.objects.filter(action="dispatch.request.escalated", actor__isnull=True).count() == 1


def test_marks_a_request_nobody_called_by_its_contact_deadline_once(personas, dispatch_world):
    r = new_request(personas, category=dispatch_world.categories["040102"])  # dispatched, not accepted
    r.refresh_from_db()
    assert services.sla_sweep(now=r.contact_due_at - dt.timedelta(seconds=1)).contact_overdue == []
    result = services.sla_sweep(now=r.contact_due_at)
    assert result.contact_overdue == [r.pk] and result.warned == [] and result.escalated == []
    assert services.sla_sweep(now=r.contact_due_at + dt.timedelta(hours=3)).contact_overdue == []
    r.refresh_from_db()
    assert r.contact_overdue_at == r.contact_due_at and r.status == Status.DISPATCHED
    event = RequestEvent.objects.get(request=r, action=EventAction.CONTACT_OVERDUE)
    assert event.get_action_display() == "联系超时"
    assert (event.actor_id, event.organisation_id) == (None, dispatch_world.orgs["community_a"].pk)
    assert AuditEntry.objects.filter(action="dispatch.request.contact_overdue", actor__isnull=True).count() == 1
    assert Rollup.objects.unscoped().get(area=personas.areas["street_a"]).response_due == 1


def test_requests_that_no_longer_run_a_clock_are_left_alone(personas, dispatch_world):
    held_back = new_request(personas)
    services.request_invalidate(actor=personas.street_hub, request=held_back, reason="重复来电")
    replied = new_request(personas, category=dispatch_world.categories["040102"])
    services.request_accept(actor=personas.community_staff, request=replied)
    services.request_contact(actor=personas.community_staff, request=replied)
    services.request_reply(actor=personas.community_staff, request=replied, reply="已处理。")
    far = max(ServiceRequest.objects.unscoped().values_list("resolve_due_at", flat=True)) + dt.timedelta(days=30)
    result = services.sla_sweep(now=far)
    assert result.warned == [] and result.escalated == [] and result.contact_overdue == []


def test_reopened_request_can_escalate_again_on_its_new_clock(personas, dispatch_world):
    r = new_request(personas, category=dispatch_world.categories["040102"])
    r.refresh_from_db()
    assert services.sla_sweep(now=r.resolve_due_at).escalated == [r.pk]
    staff, hub = personas.community_staff, personas.street_hub
    services.request_accept(actor=staff, request=r)
    services.request_contact(actor=staff, request=r)
    services.request_reply(actor=staff, request=r, reply="已处理。")
    services.request_callback(actor=hub, request=r, resolution="not_resolved", satisfaction="unsatisfied")
    services.request_reopen(actor=hub, request=r, reason="督办")
    r.refresh_from_db()
    assert r.escalated_at is None
    assert services.sla_sweep(now=r.resolve_due_at).escalated == [r.pk]


def test_task_and_command_run_the_sweep(personas, dispatch_world, monkeypatch):
    r = new_request(personas, category=dispatch_world.categories["040102"])
    r.refresh_from_db()
    out = StringIO()
    call_command("sla_sweep", "--now", (r.resolve_due_at + dt.timedelta(minutes=5)).isoformat(), stdout=out)
    assert "联系超时 1 张" in out.getvalue() and "超时上报 1 张" in out.getvalue()
    assert ServiceRequest.objects.unscoped().get(pk=r.pk).escalated_at is not None
    # The task wrapper sweeps as the system (nothing due now: the request was escalated above).
    assert sweep_sla.call() == {"warned": 0, "contact_overdue": 0, "escalated": 0}


# --- two sweepers ------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_escalate_each_request_exactly_once(personas, dispatch_world):
    with scopes_disabled():
        requests = [new_request(personas, title=f"第{i}件", category=dispatch_world.categories["040102"])
                    for i in range(24)]
    latest = max(ServiceRequest.objects.unscoped().values_list("resolve_due_at", flat=True))
    now = latest + dt.timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def sweeper():
        try:
            barrier.wait()
            results.append(services.sla_sweep(now=now, batch=5))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    first, second = (set(r.escalated) for r in results)
    assert not first & second
    assert first | second == {r.pk for r in requests}
    per_request = RequestEvent.objects.filter(action=EventAction.ESCALATED).values_list("request_id", flat=True)
    assert sorted(per_request) == sorted(r.pk for r in requests)
    # Nobody called any of them: each is marked overdue for contact once, by one sweeper.
    first, second = (set(r.contact_overdue) for r in results)
    assert not first & second and first | second == {r.pk for r in requests}
    marked = RequestEvent.objects.filter(action=EventAction.CONTACT_OVERDUE).values_list("request_id", flat=True)
    assert sorted(marked) == sorted(r.pk for r in requests)
    street = Rollup.objects.unscoped().get(area=personas.areas["street_a"])
    assert (street.overdue, street.response_due, street.responded_in_time) == (24, 24, 0)
    assert set(ServiceRequest.objects.unscoped().values_list("status", flat=True)) == {Status.DISPATCHED}
