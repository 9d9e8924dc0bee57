"""街乡吹哨、部门报到: the whistle services, the sweep and the department evaluation."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from zhouxin.core.choices import Role
from zhouxin.core.models import AuditEntry, Grant, PolicyVersion, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import whistles
from zhouxin.dispatch.choices import Channel, EventAction, RequestKind, Urgency, WhistleStatus
from zhouxin.dispatch.models import RequestEvent, Summons, Whistle
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def handler_for(personas, organisation, username):
    """Another department handler, tied to `organisation` and granted on 东城区."""
    user = User.objects.create_user(username=username, password="Zhouxin-Test-2026!", full_name=username)
    Grant.objects.create(user=user, role=Role.DEPARTMENT_HANDLER, area=personas.areas["dongcheng"],
                         organisation=organisation)
    return user


@pytest.fixture
def water_handler(personas, dispatch_world):
    return handler_for(personas, dispatch_world.orgs["water"], "water_handler")


def blow(personas, departments, *, urgency=Urgency.NORMAL, request=None, title="胡同积水严重，需多部门会商"):
    return whistles.whistle_open(
        actor=personas.street_hub, street=personas.areas["street_a"], title=title,
        description="连日降雨，多福巷胡同积水没过脚踝，涉及排水、市政和执法。", departments=departments,
        urgency=urgency, request=request)


def summons_of(whistle, organisation) -> Summons:
    return Summons.objects.select_related("whistle", "department").get(whistle=whistle, department=organisation)


def make_due(summons: Summons, *, ago: dt.timedelta) -> Summons:
    """Test set-up: move a summons' deadline into the past."""
    Summons.objects.filter(pk=summons.pk).update(report_due_at=timezone.now() - ago)
    summons.refresh_from_db()
    return summons


def a_request(personas, dispatch_world, *, area="community_a"):
    from zhouxin.dispatch import services

    with scopes_disabled():
        return services.request_intake(
            actor=personas.street_hub if area != "community_b" else personas.district_admin,
            kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE, area=personas.areas[area],
            title="胡同积水", description="多福巷胡同雨后积水，老人出行困难。",
            category=dispatch_world.categories["120101"])


# --- the whole flow ------------------------------------------------------------------

def test_whole_flow_open_report_late_solve_rate_and_score(personas, dispatch_world, water_handler):
    department, water = dispatch_world.orgs["department"], dispatch_world.orgs["water"]
    request = a_request(personas, dispatch_world)
    before = timezone.now()
    whistle = blow(personas, [water, department, department], request=request)

    # A readable number, one summons per department (duplicates folded), each due in 24 hours.
    assert re.fullmatch(r"CS110101\d{6}\d{3}", whistle.number)
    assert whistle.number[8:14] == timezone.localtime(whistle.opened_at).strftime("%y%m%d")
    assert whistle.status == WhistleStatus.OPEN and whistle.district == personas.areas["dongcheng"]
    summonses = list(whistle.summons.order_by("department__name"))
    assert [s.department for s in summonses] == sorted([department, water], key=lambda o: o.name)
    for s in summonses:
        assert s.report_due_at == whistle.opened_at + dt.timedelta(hours=24)
        assert before <= whistle.opened_at <= timezone.now()
    # The request's timeline shows the whistle.
    event = RequestEvent.objects.get(request=request, action=EventAction.WHISTLED)
    assert event.data["whistle"] == whistle.number
    assert sorted(event.data["departments"]) == sorted([department.pk, water.pk])
    assert event.from_status == event.to_status == request.status
    assert AuditEntry.objects.filter(action="dispatch.whistle.opened", object_id=str(whistle.pk)).exists()

    # 城管 reports in time.
    city_summons = whistles.summons_report(actor=personas.department_handler,
                                           summons=summons_of(whistle, department), note="执法队员已到场")
    assert not whistles.is_late(city_summons)
    # Solving now is refused: 水务 has not reported (事不完、人不撤).
    with pytest.raises(ValidationError) as refused:
        whistles.whistle_solve(actor=personas.street_hub, whistle=whistle, solution="已疏通")
    assert "事不完、人不撤" in refused.value.messages[0] and water.name in refused.value.messages[0]
    assert Whistle.objects.unscoped().get(pk=whistle.pk).status == WhistleStatus.OPEN

    # 水务 reports two hours after its deadline: taken, and recorded as late.
    water_summons = make_due(summons_of(whistle, water), ago=dt.timedelta(hours=2))
    water_summons = whistles.summons_report(actor=water_handler, summons=water_summons, note="抽水车已调派")
    assert whistles.is_late(water_summons)
    entry = AuditEntry.objects.get(action="dispatch.summons.reported", object_id=str(water_summons.pk))
    assert entry.after["late"] is True

    solved = whistles.whistle_solve(actor=personas.street_hub, whistle=whistle, solution="积水已排除，排水管道已疏通")
    stored = Whistle.objects.unscoped().get(pk=whistle.pk)
    assert solved.status == stored.status == WhistleStatus.SOLVED
    assert stored.solution == "积水已排除，排水管道已疏通" and stored.solved_at is not None

    # 一哨一考核: the street rates each department after it reported.
    whistles.summons_rate(actor=personas.street_hub, summons=summons_of(whistle, department), rating=5, note="响应迅速")
    whistles.summons_rate(actor=personas.street_hub, summons=summons_of(whistle, water), rating=2, note="到场较晚")
    rows = {r.department.pk: r for r in whistles.department_whistle_scores(
        district=personas.areas["dongcheng"], month=timezone.localdate())}
    assert (rows[department.pk].summonses, rows[department.pk].reported_in_time, rows[department.pk].late) == (1, 1, 0)
    assert (rows[water.pk].summonses, rows[water.pk].reported_in_time, rows[water.pk].late) == (1, 0, 1)
    assert rows[department.pk].average_rating == Decimal("5.00")
    assert rows[water.pk].average_rating == Decimal("2.00")


def test_urgent_whistle_gives_thirty_minutes_and_the_policy_decides(personas, dispatch_world):
    whistle = blow(personas, [dispatch_world.orgs["department"]], urgency=Urgency.URGENT)
    summons = whistle.summons.get()
    assert summons.report_due_at - whistle.opened_at == dt.timedelta(minutes=30)

    PolicyVersion.objects.create(key="dispatch.whistle", value={"urgent_report_minutes": 15, "normal_report_hours": 12},
                                 effective_from=timezone.localdate() - dt.timedelta(days=1))
    urgent = blow(personas, [dispatch_world.orgs["department"]], urgency=Urgency.URGENT).summons.get()
    normal = blow(personas, [dispatch_world.orgs["department"]]).summons.get()
    assert urgent.report_due_at - urgent.whistle.opened_at == dt.timedelta(minutes=15)
    assert normal.report_due_at - normal.whistle.opened_at == dt.timedelta(hours=12)


def test_numbers_follow_each_other_within_a_day(personas, dispatch_world):
    first = blow(personas, [dispatch_world.orgs["department"]])
    second = blow(personas, [dispatch_world.orgs["water"]])
    assert int(second.number[-3:]) == int(first.number[-3:]) + 1
    assert first.number[:-3] == second.number[:-3]


# --- refusals ------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["community_staff", "grid_worker", "district_admin", "department_handler",
                                     "outsider"])
def test_only_the_street_hub_blows_a_whistle(personas, dispatch_world, persona):
    with pytest.raises(PermissionDenied):
        whistles.whistle_open(actor=personas.users[persona], street=personas.areas["street_a"], title="占道经营",
                              description="早市占道", departments=[dispatch_world.orgs["department"]])
    assert not Whistle.objects.unscoped().exists()


def test_the_street_hub_cannot_blow_in_another_street(personas, dispatch_world):
    with pytest.raises(PermissionDenied):
        whistles.whistle_open(actor=personas.street_hub, street=personas.areas["street_b"], title="占道经营",
                              description="早市占道", departments=[dispatch_world.orgs["department"]])
    assert not Whistle.objects.unscoped().exists()


def test_only_district_departments_can_be_summoned(personas, dispatch_world):
    with scopes_disabled():
        xicheng_dept = Organisation.objects.create(name="西城区城管执法局", kind=OrgKind.DEPARTMENT,
                                                   area=personas.areas["xicheng"])
        closed_dept = Organisation.objects.create(name="东城区已撤销办公室", kind=OrgKind.DEPARTMENT,
                                                  area=personas.areas["dongcheng"], is_active=False)
    for wrong in (xicheng_dept, closed_dept, personas.orgs["community_a_committee"]):
        with pytest.raises(ValidationError) as refused:
            blow(personas, [dispatch_world.orgs["department"], wrong])
        assert wrong.name in refused.value.messages[0]
    with pytest.raises(ValidationError, match="至少召集一个"):
        blow(personas, [])
    assert not Whistle.objects.unscoped().exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("title", "   ", "请填写问题"),
    ("title", "问" * 121, "不能超过 120 个字"),
    ("description", "", "请填写情况说明"),
    ("urgency", "critical", "紧急程度"),
])
def test_bad_input_is_refused_with_a_message(personas, dispatch_world, field, value, message):
    kwargs = {"actor": personas.street_hub, "street": personas.areas["street_a"], "title": "占道经营",
              "description": "早市占道", "departments": [dispatch_world.orgs["department"]], field: value}
    with pytest.raises(ValidationError, match=message):
        whistles.whistle_open(**kwargs)
    assert not Whistle.objects.unscoped().exists()


def test_a_whistle_on_a_request_of_another_street_is_refused(personas, dispatch_world):
    other = a_request(personas, dispatch_world, area="community_b")
    with pytest.raises(ValidationError, match="不属于本街道"):
        blow(personas, [dispatch_world.orgs["department"]], request=other)
    assert not RequestEvent.objects.filter(action=EventAction.WHISTLED).exists()


def test_a_department_not_summoned_cannot_report(personas, dispatch_world, water_handler):
    whistle = blow(personas, [dispatch_world.orgs["department"]])
    summons = summons_of(whistle, dispatch_world.orgs["department"])
    for actor in (water_handler, personas.street_hub, personas.community_staff):
        with pytest.raises(PermissionDenied):
            whistles.summons_report(actor=actor, summons=summons, note="我来报到")
    assert Summons.objects.get(pk=summons.pk).reported_at is None


def test_a_report_needs_a_note_and_counts_once(personas, dispatch_world):
    whistle = blow(personas, [dispatch_world.orgs["department"]])
    summons = summons_of(whistle, dispatch_world.orgs["department"])
    with pytest.raises(ValidationError, match="请填写报到情况"):
        whistles.summons_report(actor=personas.department_handler, summons=summons, note="  ")
    whistles.summons_report(actor=personas.department_handler, summons=summons, note="已到场")
    stale = summons_of(whistle, dispatch_world.orgs["department"])
    with pytest.raises(ValidationError, match="不能重复报到"):
        whistles.summons_report(actor=personas.department_handler, summons=stale, note="再次报到")
    assert Summons.objects.get(pk=summons.pk).report_note == "已到场"


def test_rating_needs_a_report_a_score_of_one_to_five_and_happens_once(personas, dispatch_world):
    whistle = blow(personas, [dispatch_world.orgs["department"]])
    summons = summons_of(whistle, dispatch_world.orgs["department"])
    with pytest.raises(ValidationError, match="尚未报到，报到后才能评价"):
        whistles.summons_rate(actor=personas.street_hub, summons=summons, rating=4)
    whistles.summons_report(actor=personas.department_handler, summons=summons, note="已到场")
    for bad in (0, 6, -1, "abc", None, True, "4.5"):
        with pytest.raises(ValidationError, match="1 到 5 分"):
            whistles.summons_rate(actor=personas.street_hub, summons=summons, rating=bad)
    assert Summons.objects.get(pk=summons.pk).rating is None
    with pytest.raises(PermissionDenied):
        whistles.summons_rate(actor=personas.department_handler, summons=summons, rating=5)
    with pytest.raises(PermissionDenied):
        whistles.summons_rate(actor=personas.district_admin, summons=summons, rating=5)
    whistles.summons_rate(actor=personas.street_hub, summons=summons, rating="4", note="较好")
    with pytest.raises(ValidationError, match="已评为 4 分"):
        whistles.summons_rate(actor=personas.street_hub, summons=summons, rating=5)
    stored = Summons.objects.get(pk=summons.pk)
    assert (stored.rating, stored.rating_note, stored.rated_by) == (4, "较好", personas.street_hub)


def test_solving_twice_and_solving_without_a_solution_are_refused(personas, dispatch_world):
    whistle = blow(personas, [dispatch_world.orgs["department"]])
    whistles.summons_report(actor=personas.department_handler,
                            summons=summons_of(whistle, dispatch_world.orgs["department"]), note="已到场")
    with pytest.raises(ValidationError, match="请填写解决情况"):
        whistles.whistle_solve(actor=personas.street_hub, whistle=whistle, solution="")
    with pytest.raises(PermissionDenied):
        whistles.whistle_solve(actor=personas.department_handler, whistle=whistle, solution="已解决")
    whistles.whistle_solve(actor=personas.street_hub, whistle=whistle, solution="已解决")
    stale = Whistle.objects.unscoped().get(pk=whistle.pk)
    stale.status = WhistleStatus.OPEN
    with pytest.raises(ValidationError, match="已解决，不能重复办结"):
        whistles.whistle_solve(actor=personas.street_hub, whistle=stale, solution="再次办结")
    assert Whistle.objects.unscoped().get(pk=whistle.pk).solution == "已解决"


# --- concurrency ---------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_whistle_blown_while_another_is_still_uncommitted_gets_the_next_number(personas, dispatch_world):
    """A holds its new whistle uncommitted; B blows meanwhile.  "Highest number so far + 1"
    would give B the same number as A (and a unique-index error when A commits); the daily
    counter makes B wait for A and draw the next one."""
    from django.db import transaction

    a_drawn, b_started = threading.Event(), threading.Event()
    numbers: dict[str, str] = {}
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                numbers["a"] = blow(personas, [dispatch_world.orgs["department"]], title="甲街巷积水").number
                a_drawn.set()
                b_started.wait(10)
                threading.Event().wait(0.5)  # B is now blocked behind A's counter row
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    def second():
        try:
            a_drawn.wait(10)
            b_started.set()
            numbers["b"] = blow(personas, [dispatch_world.orgs["water"]], title="乙街巷停水").number
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert numbers["a"][:-3] == numbers["b"][:-3]
    assert int(numbers["b"][-3:]) == int(numbers["a"][-3:]) + 1
    assert Whistle.objects.unscoped().count() == 2


@pytest.mark.django_db(transaction=True)
def test_whistles_blown_at_the_same_moment_get_distinct_consecutive_numbers(personas, dispatch_world):
    count = 6
    start = threading.Barrier(count)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def whistle(i):
        try:
            start.wait(10)
            numbers.append(blow(personas, [dispatch_world.orgs["department"]], title=f"第{i}处积水").number)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=whistle, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert len(set(numbers)) == count
    assert sorted(int(n[-3:]) for n in numbers) == list(range(1, count + 1))
    assert sorted(Whistle.objects.unscoped().values_list("number", flat=True)) == sorted(numbers)


@pytest.mark.django_db(transaction=True)
def test_two_handlers_reporting_at_once_count_once(personas, dispatch_world):
    """Two handlers of the summoned department press 报到 at the same moment: one report
    counts, the other is told the department has already reported."""
    department = dispatch_world.orgs["department"]
    colleague = handler_for(personas, department, "department_handler_2")
    whistle = blow(personas, [department])
    summons_pk = summons_of(whistle, department).pk
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def report(user, note):
        try:
            summons = Summons.objects.select_related("whistle", "whistle__street", "department").get(pk=summons_pk)
            start.wait()
            whistles.summons_report(actor=user, summons=summons, note=note)
            outcomes[user.username] = "ok"
        except ValidationError as exc:
            outcomes[user.username] = exc.messages[0]
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            outcomes[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=report, args=(personas.department_handler, "赵德明到场")),
               threading.Thread(target=report, args=(colleague, "同事到场"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(str(v) == "ok" for v in outcomes.values()) == [False, True], outcomes
    refusal = next(v for v in outcomes.values() if v != "ok")
    assert "不能重复报到" in str(refusal)
    stored = Summons.objects.get(pk=summons_pk)
    winner = next(name for name, v in outcomes.items() if v == "ok")
    assert stored.reported_by.username == winner
    assert AuditEntry.objects.filter(action="dispatch.summons.reported").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_clerks_solving_at_once_solve_once(personas, dispatch_world):
    department = dispatch_world.orgs["department"]
    colleague = User.objects.create_user(username="street_hub_2", password="Zhouxin-Test-2026!")
    Grant.objects.create(user=colleague, role=Role.STREET_HUB, area=personas.areas["street_a"])
    whistle = blow(personas, [department])
    whistles.summons_report(actor=personas.department_handler, summons=summons_of(whistle, department), note="到")
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def solve(user, solution):
        try:
            loaded = Whistle.objects.unscoped().select_related("street").get(pk=whistle.pk)
            start.wait()
            whistles.whistle_solve(actor=user, whistle=loaded, solution=solution)
            outcomes[user.username] = "ok"
        except ValidationError as exc:
            outcomes[user.username] = exc.messages[0]
        except BaseException as exc:  # pragma: no cover - reported by the assertion below
            outcomes[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=solve, args=(personas.street_hub, "甲的办结意见")),
               threading.Thread(target=solve, args=(colleague, "乙的办结意见"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(str(v) == "ok" for v in outcomes.values()) == [False, True], outcomes
    assert "不能重复办结" in next(str(v) for v in outcomes.values() if v != "ok")
    assert AuditEntry.objects.filter(action="dispatch.whistle.solved").count() == 1


# --- the sweep -----------------------------------------------------------------------

def test_sweep_flags_each_overdue_summons_once(personas, dispatch_world):
    department, water = dispatch_world.orgs["department"], dispatch_world.orgs["water"]
    whistle = blow(personas, [department, water])
    late = make_due(summons_of(whistle, water), ago=dt.timedelta(minutes=5))
    reported = make_due(summons_of(whistle, department), ago=dt.timedelta(minutes=5))
    Summons.objects.filter(pk=reported.pk).update(reported_at=timezone.now() - dt.timedelta(minutes=10))
    not_yet = summons_of(blow(personas, [water]), water)  # due in 24 hours

    first = whistles.whistle_sweep()
    assert first.summons_ids == (late.pk,)
    assert Summons.objects.get(pk=late.pk).overdue_at is not None
    assert Summons.objects.get(pk=reported.pk).overdue_at is None
    assert Summons.objects.get(pk=not_yet.pk).overdue_at is None
    assert whistles.whistle_sweep().flagged == 0
    assert AuditEntry.objects.filter(action="dispatch.summons.overdue", object_id=str(late.pk)).count() == 1
    # Later, the other one is due too: the command flags it, and only it.
    out = StringIO()
    call_command("whistle_sweep", "--now", (timezone.now() + dt.timedelta(days=2)).isoformat(), stdout=out)
    assert "1" in out.getvalue()
    assert Summons.objects.get(pk=not_yet.pk).overdue_at is not None
    assert AuditEntry.objects.filter(action="dispatch.summons.overdue").count() == 2


def test_sweep_leaves_solved_whistles_alone(personas, dispatch_world):
    whistle = blow(personas, [dispatch_world.orgs["department"]])
    summons = summons_of(whistle, dispatch_world.orgs["department"])
    whistles.summons_report(actor=personas.department_handler, summons=summons, note="已到场")
    whistles.whistle_solve(actor=personas.street_hub, whistle=whistle, solution="已解决")
    assert whistles.whistle_sweep(now=timezone.now() + dt.timedelta(days=3)).flagged == 0


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_flag_each_summons_once(personas, dispatch_world):
    water = dispatch_world.orgs["water"]
    for n in range(6):
        make_due(summons_of(blow(personas, [water], title=f"积水 {n}"), water), ago=dt.timedelta(minutes=n + 1))
    start = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            start.wait()
            results.append(whistles.whistle_sweep())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(r.flagged for r in results) == 6
    flagged = [pk for r in results for pk in r.summons_ids]
    assert len(flagged) == len(set(flagged)) == 6
    assert AuditEntry.objects.filter(action="dispatch.summons.overdue").count() == 6


def test_sweep_command_refuses_a_bad_time(personas):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效的时间"):
        call_command("whistle_sweep", "--now", "yesterday")


# --- department evaluation -----------------------------------------------------------

def test_department_scores_arithmetic(personas, dispatch_world, water_handler):
    department, water = dispatch_world.orgs["department"], dispatch_world.orgs["water"]
    dongcheng = personas.areas["dongcheng"]

    def report(whistle, organisation, actor, *, late=False, rating=None):
        summons = summons_of(whistle, organisation)
        if late:
            summons = make_due(summons, ago=dt.timedelta(minutes=1))
        whistles.summons_report(actor=actor, summons=summons, note="到场")
        if rating is not None:
            whistles.summons_rate(actor=personas.street_hub, summons=summons, rating=rating)

    # 城管: summoned 4 times — 3 in time rated 5, 4 and (unrated), 1 late rated 2; average (5+4+2)/3 = 3.67.
    # 水务: summoned 4 times — 1 in time rated 3, 1 late (unrated), 1 overdue unreported, 1 still
    # within its deadline: on time 1 of the 3 due = 33.3 %.
    w1, w2, w3, w4 = (blow(personas, [department, water], title=f"问题 {n}") for n in range(4))
    report(w1, department, personas.department_handler, rating=5)
    report(w2, department, personas.department_handler, rating=4)
    report(w3, department, personas.department_handler)
    report(w4, department, personas.department_handler, late=True, rating=2)
    report(w1, water, water_handler, rating=3)
    report(w2, water, water_handler, late=True)
    make_due(summons_of(w3, water), ago=dt.timedelta(minutes=3))
    # A whistle of last month does not count in this month.
    old = blow(personas, [water], title="上月问题")
    Whistle.objects.unscoped().filter(pk=old.pk).update(opened_at=timezone.now() - dt.timedelta(days=40))

    month = timezone.localdate()
    rows = whistles.department_whistle_scores(district=dongcheng, month=month)
    by_dept = {r.department.pk: r for r in rows}
    city, wat = by_dept[department.pk], by_dept[water.pk]
    assert (city.summonses, city.reported_in_time, city.late, city.overdue, city.pending, city.rated) == (
        4, 3, 1, 0, 0, 3)
    assert city.average_rating == Decimal("3.67") and city.in_time_rate == Decimal("75.0")
    assert (wat.summonses, wat.reported_in_time, wat.late, wat.overdue, wat.pending, wat.rated) == (4, 1, 1, 1, 1, 1)
    assert wat.due == 3 and wat.average_rating == Decimal("3.00") and wat.in_time_rate == Decimal("33.3")
    # A day later the pending one is overdue too: 1 of 4.
    later = {r.department.pk: r for r in whistles.department_whistle_scores(
        district=dongcheng, month=month, now=timezone.now() + dt.timedelta(days=1))}[water.pk]
    assert (later.overdue, later.pending, later.in_time_rate) == (2, 0, Decimal("25.0"))
    assert [r.department for r in rows] == [department, water]  # best average first

    # One department only; another street's whistles only (none); last month (only the old one).
    assert [r.department for r in whistles.department_whistle_scores(
        district=dongcheng, month=month, departments=[water.pk])] == [water]
    assert whistles.department_whistle_scores(district=dongcheng, month=month,
                                              street=personas.areas["street_b"]) == []
    last = whistles.department_whistle_scores(district=dongcheng,
                                              month=timezone.localdate(timezone.now() - dt.timedelta(days=40)))
    assert [(r.department, r.summonses, r.pending, r.average_rating, r.in_time_rate) for r in last] == [
        (water, 1, 1, None, None)]
    assert whistles.department_whistle_scores(district=personas.areas["xicheng"], month=month) == []
