"""SLA clocks on the official 2026 calendar (issue 3 acceptance: National Day, Spring Festival,
adjusted working days, a deadline in an unpublished year), lights and extensions.

Every expected date below was worked out by hand from the State Council's 2026 schedule
(国办发明电〔2025〕7 号): 春节 2/15–2/23 off with 2/14 (Sat) and 2/28 (Sat) worked; 国庆节、中秋节
10/1–10/7 off with 9/20 (Sun) and 10/10 (Sat) worked.  A working day is 24 hours of
working-day time (zhouxin.core.workdays).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy, workdays
from zhouxin.core.models import CalendarYear
from zhouxin.dispatch import services, sla
from zhouxin.dispatch.choices import SlaClass, SlaLight, Status
from zhouxin.dispatch.models import ServiceRequest

TZ = timezone.get_fixed_timezone(8 * 60)


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=TZ)


def local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value).replace(tzinfo=TZ)


@pytest.fixture
def calendar(db):
    """The official calendar as `make run` seeds it; 2027 not yet published."""
    workdays.calendar_seed()
    CalendarYear.objects.filter(year=2027).delete()
    workdays.invalidate()
    assert workdays.is_workday(dt.date(2026, 10, 10)).workday  # the seeded data holds the 调休 day
    assert not workdays.is_workday(dt.date(2026, 10, 5)).workday


# --- Deadlines across National Day and Spring Festival ----------------------------------------


def test_complaint_on_the_eve_of_national_day_gets_fifteen_working_days(calendar):
    # 9/30 17:00–24:00 is 7 h; 10/1–10/7 are skipped; 10/8, 10/9, 10/10 (Sat, worked), 10/12–16,
    # 10/19–23 and 10/26 are 14 full days; 17 h of 10/27 completes the 15th day.
    plan = sla.plan_deadlines(kind="complaint", urgency="normal", sla_class=None, received_at=at(2026, 9, 30, 17))
    assert local(plan.deadlines.resolve.at) == at(2026, 10, 27, 17)
    assert plan.resolve_basis == "kind"
    assert plan.deadlines.provisional is False
    # Without a category the general class's 24 h contact applies, in calendar time (a holiday).
    assert local(plan.deadlines.contact.at) == at(2026, 10, 1, 17)


def test_the_earlier_deadline_applies_when_the_category_has_a_shorter_clock(calendar):
    deadlines = sla.compute_deadlines(kind="complaint", urgency="normal", sla_class=SlaClass.COMPLEX,
                                      received_at=at(2026, 9, 30, 17))
    # complex: 15 calendar days, earlier than 15 working days.
    assert local(deadlines.resolve.at) == at(2026, 10, 15, 17)
    general = sla.plan_deadlines(kind="complaint", urgency="normal", sla_class=SlaClass.GENERAL,
                                 received_at=at(2026, 9, 30, 17))
    assert local(general.deadlines.resolve.at) == at(2026, 10, 7, 17)
    assert general.resolve_basis == "class"
    assert local(general.kind_resolve.at) == at(2026, 10, 27, 17)


def test_consult_skips_the_national_day_week(calendar):
    deadlines = sla.compute_deadlines(kind="consult", urgency="normal", received_at=at(2026, 9, 30, 17))
    assert local(deadlines.resolve.at) == at(2026, 10, 9, 17)


@pytest.mark.parametrize(("received", "expected"), [
    (at(2026, 10, 9, 10), at(2026, 10, 12, 10)),  # Saturday 10/10 is a working day: counted
    (at(2026, 9, 18, 12), at(2026, 9, 21, 12)),  # Sunday 9/20 is a working day: counted
    (at(2026, 10, 16, 10), at(2026, 10, 20, 10)),  # an ordinary weekend: skipped
])
def test_adjusted_working_days_count_and_ordinary_weekends_do_not(calendar, received, expected):
    deadlines = sla.compute_deadlines(kind="consult", urgency="normal", received_at=received)
    assert local(deadlines.resolve.at) == expected


def test_spring_festival_2026(calendar):
    # Fri 2/13 10:00: 14 h, Sat 2/14 (worked) 24 h, then 2/15–2/23 off: 10 h of Tue 2/24.
    consult = sla.compute_deadlines(kind="consult", urgency="normal", received_at=at(2026, 2, 13, 10))
    assert local(consult.resolve.at) == at(2026, 2, 24, 10)
    # Thu 2/12 09:00, 10 working days: 2/12 (15 h), 2/13, 2/14, 2/24–2/27, Sat 2/28 (worked),
    # 3/2, 3/3, and 9 h of 3/4.
    help_ = sla.compute_deadlines(kind="help", urgency="normal", received_at=at(2026, 2, 12, 9))
    assert local(help_.resolve.at) == at(2026, 3, 4, 9)
    assert not help_.provisional


def test_deadline_in_an_unpublished_year_is_provisional_and_does_not_fail(calendar):
    # Mon 2026-12-28 09:00 + 15 working days runs into 2027, which is not published:
    # weekends plus the fixed 元旦 (1/1) are used and the deadline is provisional.
    deadlines = sla.compute_deadlines(kind="complaint", urgency="normal", received_at=at(2026, 12, 28, 9))
    assert local(deadlines.resolve.at) == at(2027, 1, 19, 9)
    assert deadlines.resolve.provisional is True
    assert deadlines.provisional is True
    # Within 2026 it is final.
    assert sla.compute_deadlines(kind="consult", urgency="normal",
                                 received_at=at(2026, 12, 28, 9)).provisional is False


@pytest.mark.parametrize("year", [1995, 2150])
def test_any_year_gives_a_deadline(calendar, year):
    deadlines = sla.compute_deadlines(kind="report", urgency="normal", received_at=at(year, 6, 1, 9))
    assert deadlines.resolve.at > at(year, 6, 1, 9)


# --- Emergency, utilities, contact ------------------------------------------------------------


def test_urgent_request_gets_two_hours_to_contact_even_on_a_holiday(calendar):
    deadlines = sla.compute_deadlines(kind="help", urgency="urgent", sla_class=SlaClass.GENERAL,
                                      received_at=at(2026, 10, 1, 10))
    assert local(deadlines.contact.at) == at(2026, 10, 1, 12)
    assert local(deadlines.resolve.at) == at(2026, 10, 2, 10)
    assert not deadlines.provisional


def test_utilities_clock(calendar):
    deadlines = sla.compute_deadlines(kind="help", urgency="normal", sla_class=SlaClass.UTILITIES,
                                      received_at=at(2026, 2, 16, 20))
    assert local(deadlines.contact.at) == at(2026, 2, 16, 22)
    assert local(deadlines.resolve.at) == at(2026, 2, 17, 20)


def test_contact_is_never_after_resolve(calendar):
    # A consult received on Friday 23:00 is due Monday 23:00 (1 h + 24 h + 23 h of working time);
    # the general class's 24 h contact (Saturday 23:00) is earlier and stays.
    deadlines = sla.compute_deadlines(kind="consult", urgency="normal", sla_class=SlaClass.GENERAL,
                                      received_at=at(2026, 10, 16, 23))
    assert deadlines.contact.at <= deadlines.resolve.at


def test_bad_kind_or_class_is_refused_in_chinese(calendar):
    with pytest.raises(ValidationError, match="诉求类型"):
        sla.compute_deadlines(kind="praise", urgency="normal", received_at=at(2026, 3, 2, 9))
    with pytest.raises(ValidationError, match="时限类别"):
        sla.compute_deadlines(kind="help", urgency="normal", sla_class="slow", received_at=at(2026, 3, 2, 9))


def test_the_numbers_come_from_the_policy(calendar, personas):
    today = timezone.localdate()
    policy.policy_set(actor=personas.district_admin, key="dispatch.sla", value={"complaint_working_days": 5},
                      effective_from=today, note="试行")
    received = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=3), dt.time(10)))
    deadlines = sla.compute_deadlines(kind="complaint", urgency="normal", received_at=received)
    assert deadlines.resolve.at == workdays.add_working_days(received, 5).at


# --- Lights -----------------------------------------------------------------------------------


def _request(**fields) -> ServiceRequest:
    base = {"status": Status.ACCEPTED, "received_at": at(2026, 3, 2, 9), "contact_due_at": at(2026, 3, 2, 11),
            "resolve_due_at": at(2026, 3, 12, 9), "contacted_at": at(2026, 3, 2, 10)}
    base.update(fields)
    return ServiceRequest(**base)


@pytest.mark.parametrize(("now", "light"), [
    (at(2026, 3, 6, 9), SlaLight.GREEN),  # 40 % of the time
    (at(2026, 3, 9, 21), SlaLight.GREEN),  # 75 %
    (at(2026, 3, 10, 8, 59), SlaLight.GREEN),  # just under 80 %
    (at(2026, 3, 10, 9), SlaLight.YELLOW),  # 80 % exactly (8 of 10 days): the warning starts
    (at(2026, 3, 12, 8, 59), SlaLight.YELLOW),
    (at(2026, 3, 12, 9), SlaLight.RED),  # due
    (at(2026, 3, 20, 9), SlaLight.RED),
])
def test_light_turns_yellow_at_80_percent_and_red_when_due(db, now, light):
    assert sla.sla_light(_request(), now) == light


def test_contact_clock_shows_while_nobody_has_called(db):
    request = _request(contacted_at=None)
    assert sla.sla_light(request, at(2026, 3, 2, 10, 30)) == SlaLight.GREEN  # 75 % of the 2 h
    assert sla.sla_light(request, at(2026, 3, 2, 10, 40)) == SlaLight.YELLOW  # 83 %
    progress = sla.sla_progress(request, at(2026, 3, 2, 11, 30))
    assert progress.light == SlaLight.RED and progress.clock == "contact"
    assert sla.sla_light(_request(), at(2026, 3, 2, 11, 30)) == SlaLight.GREEN  # contacted: only resolve runs


def test_answered_requests_show_whether_the_answer_was_in_time(db):
    late = _request(status=Status.REPLIED, replied_at=at(2026, 3, 13, 9))
    in_time = _request(status=Status.CLOSED, replied_at=at(2026, 3, 11, 9), closed_at=at(2026, 3, 14, 9))
    assert sla.sla_light(late, at(2026, 3, 14)) == SlaLight.RED
    assert sla.sla_light(in_time, at(2026, 3, 30)) == SlaLight.GREEN
    assert sla.sla_light(_request(status=Status.HELD), at(2026, 3, 30)) == SlaLight.GREEN


def test_warn_ratio_comes_from_the_policy(db, personas):
    today = timezone.localdate()
    policy.policy_set(actor=personas.district_admin, key="dispatch.sla", value={"warn_ratio": 0.5},
                      effective_from=today)
    received = timezone.make_aware(dt.datetime.combine(today, dt.time(9)))
    request = _request(received_at=received, contact_due_at=None, resolve_due_at=received + dt.timedelta(days=10))
    assert sla.sla_light(request, received + dt.timedelta(days=6)) == SlaLight.YELLOW


def _reopened(personas, dispatch_world, monkeypatch, *, after: dt.timedelta) -> ServiceRequest:
    """A complaint (楼道卫生: 7 days to resolve) answered, found unresolved and reopened (督办重办)
    `after` its intake; the services' clock is moved so that everything happens at known times."""
    clock = [timezone.now()]
    monkeypatch.setattr(services, "_now", lambda: clock[0])
    staff, hub = personas.community_staff, personas.street_hub
    r = services.request_intake(actor=staff, kind="complaint", channel="hotline", area=personas.areas["community_a"],
                                title="楼道堆放杂物", description="3号楼2单元楼道长期堆放纸箱杂物，影响通行。",
                                category=dispatch_world.categories["040102"])
    services.request_accept(actor=staff, request=r)
    services.request_contact(actor=staff, request=r)
    services.request_reply(actor=staff, request=r, reply="已联系物业清理。")
    services.request_callback(actor=hub, request=r, resolution="not_resolved", satisfaction="unsatisfied")
    clock[0] += after
    services.request_reopen(actor=hub, request=r, reason="杂物仍未清走")
    monkeypatch.undo()
    return ServiceRequest.objects.unscoped().select_related("district").get(pk=r.pk)


def test_a_reopened_request_shows_the_light_the_sweep_warns_by(personas, dispatch_world, monkeypatch):
    """Reopening restarts the resolve clock: the light turns yellow when the sweep warns, not
    earlier (measured from the intake), and red when the sweep escalates."""
    r = _reopened(personas, dispatch_world, monkeypatch, after=dt.timedelta(days=5))
    reopened_at = r.resolve_due_at - dt.timedelta(days=7)
    assert r.warn_due_at == reopened_at + dt.timedelta(days=7) * 0.8
    before = r.warn_due_at - dt.timedelta(minutes=1)
    assert services.sla_sweep(now=before).warned == []
    assert sla.sla_light(r, before) == SlaLight.GREEN
    progress = sla.sla_progress(r, before)
    assert progress.clock == "resolve" and 0.79 < progress.elapsed_ratio < 0.8
    assert sla.resolve_clock_start(r, 0.8) == reopened_at
    assert services.sla_sweep(now=r.warn_due_at).warned == [r.pk]
    assert sla.sla_light(r, r.warn_due_at) == SlaLight.YELLOW
    assert sla.sla_light(r, r.resolve_due_at - dt.timedelta(minutes=1)) == SlaLight.YELLOW
    assert services.sla_sweep(now=r.resolve_due_at).escalated == [r.pk]
    assert sla.sla_light(r, r.resolve_due_at) == SlaLight.RED


def test_the_queue_shows_a_reopened_request_green_until_the_sweep_warns(personas, dispatch_world, client_for,
                                                                        monkeypatch):
    """Received 40 days ago, reopened just now with 7 new days: on the page it is on time
    (measured from the intake it would already be 85 % through and yellow)."""
    r = _reopened(personas, dispatch_world, monkeypatch, after=dt.timedelta(0))
    ServiceRequest.objects.unscoped().filter(pk=r.pk).update(received_at=r.received_at - dt.timedelta(days=40))
    client = client_for("street_hub")
    supervised = client.get(reverse("dispatch:queue"), {"tab": "supervised"}).content.decode()
    row = next(chunk for chunk in supervised.split("<tr") if r.number in chunk)
    assert 'data-zx-light="green"' in row
    assert r.number not in client.get(reverse("dispatch:queue"), {"tab": "due_soon"}).content.decode()


# --- Extensions -------------------------------------------------------------------------------


def test_extension_adds_working_days_from_the_current_deadline(calendar):
    request = _request(resolve_due_at=at(2026, 9, 30, 17))
    extended = sla.extend_deadline(request, 3)
    # 9/30 7 h, holiday week skipped, 10/8, 10/9, then 17 h of Saturday 10/10 (worked).
    assert local(extended.at) == at(2026, 10, 10, 17)
    assert extended.provisional is False
    into_2027 = sla.extend_deadline(_request(resolve_due_at=at(2026, 12, 30, 17)), 5)
    assert into_2027.provisional is True


@pytest.mark.parametrize("days", [0, -2, "三", None, 61, True])
def test_extension_needs_a_sensible_number_of_days(db, days):
    with pytest.raises(ValidationError):
        sla.extend_deadline(_request(), days)


def test_calendar_notes_name_the_skipped_days_and_the_adjusted_ones(calendar):
    notes = sla.calendar_notes(at(2026, 9, 30, 17), at(2026, 10, 27, 17))
    skipped = {n.date: n.name for n in notes if not n.workday}
    worked = {n.date: n.name for n in notes if n.workday}
    assert all(dt.date(2026, 10, d) in skipped for d in range(1, 8))
    assert "国庆" in skipped[dt.date(2026, 10, 5)]
    assert dt.date(2026, 10, 11) in skipped  # an ordinary Sunday
    assert list(worked) == [dt.date(2026, 10, 10)]
    assert "调休" in worked[dt.date(2026, 10, 10)]


# --- manage.py sla_deadline -------------------------------------------------------------------


def test_command_prints_both_deadlines(calendar):
    out = StringIO()
    call_command("sla_deadline", "--kind", "complaint", "--urgency", "normal", "--at", "2026-09-30T17:00",
                 stdout=out)
    text = out.getvalue()
    assert "2026-10-01 17:00" in text  # contact
    assert "2026-10-27 17:00" in text  # resolve
    assert "provisional: 否 no" in text


def test_command_marks_a_2027_deadline_provisional(calendar):
    out = StringIO()
    call_command("sla_deadline", "--kind", "complaint", "--urgency", "normal", "--at", "2026-12-28T09:00",
                 stdout=out)
    assert "2027-01-19 09:00（暂定 provisional）" in out.getvalue()
    assert "provisional: 是 yes" in out.getvalue()


def test_command_with_a_class_and_urgency(calendar):
    out = StringIO()
    call_command("sla_deadline", "--kind", "help", "--urgency", "urgent", "--at", "2026-10-01T10:00",
                 "--sla-class", "general", stdout=out)
    assert "2026-10-01 12:00" in out.getvalue()


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "praise", "--at", "2026-09-30T17:00"], "诉求类型“praise”无效"),
    (["--kind", "consult", "--urgency", "asap", "--at", "2026-09-30T17:00"], "紧急程度“asap”无效"),
    (["--kind", "consult", "--at", "yesterday"], "不是有效的 ISO 时间"),
    (["--kind", "consult", "--at", "2026-09-30T17:00", "--sla-class", "slow"], "时限类别“slow”无效"),
])
def test_command_refuses_bad_arguments(calendar, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("sla_deadline", *args, stdout=StringIO())


# --- The deadline calculator page -------------------------------------------------------------


def test_calculator_shows_deadlines_and_the_days_skipped(calendar, client_for):
    response = client_for("grid_worker").get(reverse("dispatch:deadline_calculator"), {
        "kind": "complaint", "urgency": "normal", "received_at": "2026-09-30T17:00"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026-10-27 17:00" in body and "2026-10-01 17:00" in body
    assert "2026-10-05" in body and "国庆节" in body  # a skipped holiday, named
    assert "2026-10-10" in body  # the adjusted working day, counted
    assert "暂定" not in body.split("计算结果")[1].split("工作日时钟")[0]


def test_calculator_with_a_category_uses_its_class(calendar, dispatch_world, client_for):
    response = client_for("community_staff").get(reverse("dispatch:deadline_calculator"), {
        "kind": "help", "urgency": "normal", "category": "040101", "received_at": "2026-10-01T10:00"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2026-10-01 12:00" in body  # 电梯故障 is an emergency item: 2 h to contact


def test_calculator_marks_a_provisional_deadline(calendar, client_for):
    response = client_for("department_handler").get(reverse("dispatch:deadline_calculator"), {
        "kind": "complaint", "urgency": "normal", "received_at": "2026-12-28T09:00"})
    assert response.status_code == 200
    assert "2027-01-19 09:00" in response.content.decode()
    assert "暂定" in response.content.decode()


def test_calculator_explains_bad_input(calendar, client_for):
    response = client_for("community_staff").get(reverse("dispatch:deadline_calculator"), {
        "kind": "complaint", "urgency": "normal", "received_at": "明天"})
    assert response.status_code == 400
    assert "请填写有效的受理时间" in response.content.decode()
