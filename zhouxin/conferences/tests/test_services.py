import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import screening
from zhouxin.dispatch.screening import ScreenResult

from .. import services
from ..choices import ActionStatus, AttendanceStatus, MeetingKind, MeetingStatus, TermState
from ..models import ActionItem, Escalation, JointConference, Meeting, PartTimeMember

pytestmark = pytest.mark.django_db


def test_term_state_expired_expiring_active(world):
    seat = PartTimeMember.objects.get(person=world.seat_person)
    today = dt.date(2026, 6, 1)
    seat.term_start, seat.term_end = dt.date(2023, 6, 1), dt.date(2026, 5, 31)
    assert seat.term_state(today) == TermState.EXPIRED
    seat.term_end = dt.date(2026, 7, 1)  # 30 days left: warn
    assert seat.term_state(today) == TermState.EXPIRING
    seat.term_end = dt.date(2026, 7, 2)
    assert seat.term_state(today) == TermState.ACTIVE


def test_part_time_member_must_come_from_a_member_unit(personas, world):
    outsider_unit = personas.orgs["community_b_committee"]
    with scopes_disabled(), pytest.raises(ValidationError, match="成员单位"):
        services.part_time_member_add(actor=personas.street_hub, conference=world.conference,
                                      person=world.seat_person, unit=outsider_unit, role="member",
                                      term_start=dt.date(2026, 1, 1), term_end=dt.date(2028, 1, 1))


def test_community_staff_cannot_manage_the_streets_conference(personas, world):
    with scopes_disabled(), pytest.raises(PermissionDenied):
        services.meeting_create(actor=personas.community_staff, conference=world.conference,
                                kind=MeetingKind.TOPIC, title="越权会议", held_on=dt.date(2026, 12, 1), place="某处")
    assert not Meeting.objects.unscoped().filter(title="越权会议").exists()


def test_attendance_rate_counts_present_among_expected(personas, world):
    hub = personas.street_hub
    with scopes_disabled():
        units, seats = services.attendees(world.meeting)
        assert len(units) == 4 and len(seats) == 1
        marks = {units[0].pk: AttendanceStatus.PRESENT, units[1].pk: AttendanceStatus.PRESENT,
                 units[2].pk: AttendanceStatus.EXCUSED, units[3].pk: AttendanceStatus.ABSENT}
        rate = services.attendance_record(actor=hub, meeting=world.meeting, units=marks,
                                          seats={seats[0].pk: AttendanceStatus.PRESENT})
    assert (rate.present, rate.expected, rate.percent) == (3, 5, 60)


def test_attendance_refuses_someone_not_expected(personas, world):
    with scopes_disabled(), pytest.raises(ValidationError):
        services.attendance_record(actor=personas.street_hub, meeting=world.meeting, units={999999: "present"},
                                   seats={})


def test_decision_turns_into_action_items_with_working_day_due_date(personas, world):
    o = personas.orgs
    with scopes_disabled():
        decision = services.decision_record(
            actor=personas.street_hub, meeting=world.meeting, text="开展老旧小区环境整治",
            actions=[services.ActionSpec(owner=o["unit"], title="提供医疗义诊", due_in_working_days=5),
                     services.ActionSpec(owner=o["department"], title="清理违规广告", due_on=dt.date(2099, 1, 1))])
        items = list(decision.action_items.order_by("pk"))
    assert [i.owner for i in items] == [o["unit"], o["department"]]
    assert all(i.status == ActionStatus.OPEN for i in items)
    # Five working days are at least a week away and never land on a weekend.
    start = max(timezone.localdate(), world.meeting.held_on)
    assert items[0].due_on >= start + dt.timedelta(days=5)
    assert items[1].due_on == dt.date(2099, 1, 1)
    assert AuditEntry.objects.filter(action="conferences.decision.recorded", object_id=str(decision.pk)).exists()


def test_decision_owner_must_be_a_member_unit(personas, world):
    with scopes_disabled(), pytest.raises(ValidationError, match="成员单位"):
        services.decision_record(actor=personas.street_hub, meeting=world.meeting, text="某决议",
                                 actions=[services.ActionSpec(owner=personas.orgs["community_b_committee"],
                                                              title="某事", due_on=dt.date(2099, 1, 1))])


def test_overdue_action_is_escalated_once_not_twice(personas, world):
    later = timezone.now() + dt.timedelta(days=30)
    with scopes_disabled():
        first = services.conference_sweep(now=later)
        second = services.conference_sweep(now=later + dt.timedelta(hours=1))
        item = ActionItem.objects.unscoped().get(pk=world.action.pk)
    assert world.action.pk in first.escalated
    assert world.action.pk not in second.escalated
    assert item.status == ActionStatus.OVERDUE
    assert Escalation.objects.filter(action_item=item).count() == 1
    assert Escalation.objects.get(action_item=item).street == personas.areas["street_a"]
    assert AuditEntry.objects.filter(action="conferences.action.escalated", object_id=str(item.pk)).count() == 1


def test_sweep_command_reports_and_leaves_items_not_due(world, capsys):
    call_command("conference_sweep")
    assert "逾期上报 0 项" in capsys.readouterr().out
    with scopes_disabled():
        assert ActionItem.objects.unscoped().get(pk=world.action.pk).status == ActionStatus.OPEN


def test_overdue_item_can_still_be_finished(personas, world):
    with scopes_disabled():
        services.conference_sweep(now=timezone.now() + dt.timedelta(days=30))
        item = ActionItem.objects.unscoped().select_related("decision__meeting__conference__area").get(pk=world.action.pk)
        with pytest.raises(ValidationError):
            services.action_progress(actor=personas.unit_liaison, item=item, text="开始办理",
                                     status=ActionStatus.IN_PROGRESS)
        services.action_progress(actor=personas.unit_liaison, item=item, text="已开放 50 个车位", status=ActionStatus.DONE)
        assert ActionItem.objects.unscoped().get(pk=item.pk).status == ActionStatus.DONE


def test_unit_liaison_updates_only_own_units_action(personas, world):
    with scopes_disabled():
        item = ActionItem.objects.unscoped().get(pk=world.action.pk)
        services.action_progress(actor=personas.unit_liaison, item=item, text="已与物业对接", status=ActionStatus.IN_PROGRESS)
        other = ActionItem.objects.unscoped().get(pk=world.other_action.pk)
        with pytest.raises(PermissionDenied):
            services.action_progress(actor=personas.unit_liaison, item=other, text="越权", status=ActionStatus.DONE)
    assert other.notes.count() == 0


def test_unit_liaison_proposes_for_own_unit_only(personas, world):
    liaison = personas.unit_liaison
    with scopes_disabled():
        item = services.agenda_propose(actor=liaison, meeting=world.planned, proposer=personas.orgs["unit"],
                                       title="开放医院停车场", description="夜间向居民开放")
        assert item.status == "proposed"
        with pytest.raises(PermissionDenied):
            services.agenda_propose(actor=liaison, meeting=world.planned, proposer=world.school, title="冒名议题")


def test_minutes_held_by_screen_are_not_saved(personas, world):
    def spam(text):
        return ScreenResult(hold="代开发票" in text, reason="疑似广告")

    screening.register(spam)
    try:
        with scopes_disabled():
            with pytest.raises(services.MinutesHeld, match="疑似广告"):
                services.minutes_save(actor=personas.street_hub, meeting=world.meeting, text="会议纪要 代开发票 加微信")
            assert Meeting.objects.unscoped().get(pk=world.meeting.pk).minutes == ""
            services.minutes_save(actor=personas.street_hub, meeting=world.meeting, text="会议通报了上半年共建情况。")
    finally:
        screening.unregister(spam)
    with scopes_disabled():
        assert Meeting.objects.unscoped().get(pk=world.meeting.pk).minutes == "会议通报了上半年共建情况。"


def test_minutes_approval_needs_minutes_and_closes_the_meeting(personas, world):
    hub = personas.street_hub
    with scopes_disabled():
        with pytest.raises(ValidationError, match="纪要"):
            services.minutes_approve(actor=hub, meeting=world.meeting)
        services.minutes_save(actor=hub, meeting=world.meeting, text="纪要正文")
        meeting = services.minutes_approve(actor=hub, meeting=world.meeting)
        assert meeting.status == MeetingStatus.APPROVED
        with pytest.raises(ValidationError):
            services.minutes_save(actor=hub, meeting=world.meeting, text="审定后再改")


def test_plenary_warns_without_liaison_meeting_in_30_days(personas, world):
    assert services.liaison_missing(world.meeting)
    with scopes_disabled():
        services.meeting_create(actor=personas.street_hub, conference=world.conference, kind=MeetingKind.LIAISON,
                                title="联络员会议", held_on=world.meeting.held_on - dt.timedelta(days=31), place="街道")
        assert services.liaison_missing(world.meeting)
        services.meeting_create(actor=personas.street_hub, conference=world.conference, kind=MeetingKind.LIAISON,
                                title="联络员会议", held_on=world.meeting.held_on - dt.timedelta(days=7), place="街道")
    assert not services.liaison_missing(world.meeting)


def test_scope_unit_liaison_sees_only_conferences_of_its_unit(personas, world):
    names = set(JointConference.objects.restrict(personas.unit_liaison).values_list("name", flat=True))
    assert names == {"东华门街道大工委"}
    hub_names = set(JointConference.objects.restrict(personas.street_hub).values_list("name", flat=True))
    assert hub_names == {"东华门街道大工委", "多福巷社区大党委"}
    with scopes_disabled():
        services.membership_end(actor=personas.street_hub, membership=world.unit_membership,
                                left_on=timezone.localdate())
    personas.unit_liaison.__dict__.pop("_zhouxin_scope", None)
    assert not JointConference.objects.restrict(personas.unit_liaison).exists()
