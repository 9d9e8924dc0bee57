"""Every write of the joint conferences: one transaction, the acting user explicit, audited.

Who may do what (core/permissions.py):

* "conferences.manage" (street hub, community staff) on the conference's area: set up a
  conference, its member units and part-time members, meetings, attendance, minutes,
  decisions and action items.  Community staff therefore manage their community's
  conference but not the street's.
* "conferences.propose" (unit liaison): propose agenda items for a meeting of a conference
  its unit is a current member of, and report progress on its unit's own action items.

Minutes are screened (zhouxin.dispatch.screening.screen_text) before saving: a text a screen
holds is not saved and the reason is shown.  Overdue action items are escalated to the street
hub once each by `conference_sweep` (compare-and-set on status and escalated_at).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, workdays
from zhouxin.core.permissions import can, ensure_can
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch.screening import screen_text
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Organisation, Person

from .choices import (
    ActionStatus,
    AgendaStatus,
    AttendanceStatus,
    ConferenceKind,
    MeetingKind,
    MeetingStatus,
    PartTimeRole,
)
from .models import (
    ActionItem,
    AgendaItem,
    Attendance,
    Decision,
    Escalation,
    JointConference,
    Meeting,
    Membership,
    PartTimeMember,
    ProgressNote,
)

TEXT_MAX = 2000
MINUTES_MAX = 20000
LIAISON_WINDOW_DAYS = 30


class MinutesHeld(ValidationError):
    """The minutes were held by a screen; nothing was saved."""


# --- helpers ---------------------------------------------------------------------------

def _text(value, *, label: str, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(_("请填写%(label)s。") % {"label": label})
    if len(text) > max_length:
        raise ValidationError(_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length})
    return text


def _today() -> dt.date:
    return timezone.localdate()


def ensure_manage(actor, conference: JointConference) -> None:
    ensure_can(actor, "conferences.manage", conference.area.code)


def can_manage(actor, conference: JointConference) -> bool:
    return can(actor, "conferences.manage", conference.area.code)


def liaison_units(actor, conference: JointConference) -> list[Organisation]:
    """The current member units of the conference the actor speaks for as a unit liaison."""
    if not can(actor, "conferences.propose"):
        return []
    ids = scope_for_user(actor).organisation_ids
    if not ids:
        return []
    return [m.organisation for m in conference.memberships.filter(organisation_id__in=ids, left_on__isnull=True)
            .select_related("organisation")]


def current_members(conference: JointConference):
    return conference.memberships.filter(left_on__isnull=True).select_related("organisation")


def _lock_meeting(meeting: Meeting) -> Meeting:
    return Meeting.objects.unscoped().select_for_update().select_related("conference__area").get(pk=meeting.pk)


# --- conferences and members ------------------------------------------------------------

@transaction.atomic
def conference_create(*, actor, area: Area, kind: str, name: str, established_on: dt.date,
                      convenor: str) -> JointConference:
    """A joint conference sits at a street (大工委 / 联席会议) or a community (大党委 / 联席会议)."""
    if area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY):
        raise ValidationError(_("联席会议只能设在街道或社区。"))
    ensure_can(actor, "conferences.manage", area.code)
    if kind not in ConferenceKind.values:
        raise ValidationError(_("请选择联席会议类型。"))
    name = _text(name, label=_("名称"), max_length=100)
    convenor = _text(convenor, label=_("召集人"), max_length=64)
    if established_on is None or established_on > _today():
        raise ValidationError(_("成立日期不能晚于今天。"))
    if JointConference.objects.unscoped().filter(area=area, name=name).exists():
        raise ValidationError(_("该区域已有同名联席会议。"))
    conference = JointConference.objects.unscoped().create(area=area, kind=kind, name=name,
                                                           established_on=established_on, convenor=convenor)
    audit.record(actor=actor, action="conferences.conference.created", obj=conference,
                 after={"area": area.code, "kind": kind, "name": name, "established_on": established_on,
                        "convenor": convenor})
    return conference


@transaction.atomic
def membership_add(*, actor, conference: JointConference, organisation: Organisation,
                   joined_on: dt.date) -> Membership:
    ensure_manage(actor, conference)
    if not organisation.is_active:
        raise ValidationError(_("该单位已停用，不能加入。"))
    district = conference.area.code[:6]
    if not organisation.area.code.startswith(district):
        raise ValidationError(_("只能吸收本区的单位为成员单位。"))
    if joined_on is None or joined_on > _today():
        raise ValidationError(_("加入日期不能晚于今天。"))
    if conference.memberships.filter(organisation=organisation, left_on__isnull=True).exists():
        raise ValidationError(_("该单位已是本联席会议的成员单位。"))
    membership = Membership.objects.create(conference=conference, organisation=organisation, joined_on=joined_on)
    audit.record(actor=actor, action="conferences.membership.added", obj=membership,
                 after={"conference": conference.pk, "organisation": organisation.pk, "joined_on": joined_on})
    return membership


@transaction.atomic
def membership_end(*, actor, membership: Membership, left_on: dt.date) -> Membership:
    ensure_manage(actor, membership.conference)
    if left_on is None or left_on < membership.joined_on or left_on > _today():
        raise ValidationError(_("退出日期须在加入日期之后且不晚于今天。"))
    updated = Membership.objects.filter(pk=membership.pk, left_on__isnull=True).update(left_on=left_on)
    if updated != 1:
        raise ValidationError(_("该单位已退出。"))
    membership.left_on = left_on
    audit.record(actor=actor, action="conferences.membership.ended", obj=membership, after={"left_on": left_on})
    return membership


@transaction.atomic
def part_time_member_add(*, actor, conference: JointConference, person: Person, unit: Organisation, role: str,
                         term_start: dt.date, term_end: dt.date) -> PartTimeMember:
    """兼职委员 come from the conference's current member units, for a term."""
    ensure_manage(actor, conference)
    if role not in PartTimeRole.values:
        raise ValidationError(_("请选择职务。"))
    if not current_members(conference).filter(organisation=unit).exists():
        raise ValidationError(_("兼职委员须来自本联席会议的成员单位。"))
    if term_start is None or term_end is None or term_end <= term_start:
        raise ValidationError(_("任期结束日期必须晚于开始日期。"))
    if conference.part_time_members.filter(person=person, term_end__gte=term_start, term_start__lte=term_end).exists():
        raise ValidationError(_("此人在该任期内已是本联席会议的兼职委员。"))
    seat = PartTimeMember.objects.create(conference=conference, person=person, unit=unit, role=role,
                                         term_start=term_start, term_end=term_end)
    audit.record(actor=actor, action="conferences.part_time_member.added", obj=seat,
                 after={"conference": conference.pk, "person": person.pk, "unit": unit.pk, "role": role,
                        "term_start": term_start, "term_end": term_end})
    return seat


# --- meetings -------------------------------------------------------------------------

@transaction.atomic
def meeting_create(*, actor, conference: JointConference, kind: str, title: str, held_on: dt.date,
                   place: str) -> Meeting:
    ensure_manage(actor, conference)
    if kind not in MeetingKind.values:
        raise ValidationError(_("请选择会议类型。"))
    title = _text(title, label=_("会议名称"), max_length=100)
    place = _text(place, label=_("地点"), max_length=100)
    if held_on is None:
        raise ValidationError(_("请填写会议日期。"))
    meeting = Meeting.objects.unscoped().create(conference=conference, kind=kind, title=title, held_on=held_on,
                                                place=place)
    audit.record(actor=actor, action="conferences.meeting.created", obj=meeting,
                 after={"conference": conference.pk, "kind": kind, "title": title, "held_on": held_on, "place": place})
    return meeting


def liaison_missing(meeting: Meeting) -> bool:
    """A plenary should follow a liaison meeting (联络员会议) in the 30 days before it."""
    if meeting.kind != MeetingKind.PLENARY:
        return False
    start = meeting.held_on - dt.timedelta(days=LIAISON_WINDOW_DAYS)
    return not Meeting.objects.unscoped().filter(
        conference_id=meeting.conference_id, kind=MeetingKind.LIAISON, held_on__gte=start,
        held_on__lt=meeting.held_on).exists()


@transaction.atomic
def meeting_mark_held(*, actor, meeting: Meeting) -> Meeting:
    ensure_manage(actor, meeting.conference)
    if meeting.held_on > _today():
        raise ValidationError(_("会议日期还没到，不能标记为已召开。"))
    updated = Meeting.objects.unscoped().filter(pk=meeting.pk, status=MeetingStatus.PLANNED).update(
        status=MeetingStatus.HELD)
    if updated != 1:
        raise ValidationError(_("只有计划召开的会议可以标记为已召开。"))
    meeting.status = MeetingStatus.HELD
    audit.record(actor=actor, action="conferences.meeting.held", obj=meeting,
                 before={"status": MeetingStatus.PLANNED}, after={"status": MeetingStatus.HELD})
    return meeting


@transaction.atomic
def minutes_save(*, actor, meeting: Meeting, text: str) -> Meeting:
    """Minutes are plain text, screened before saving; a held text is not saved (MinutesHeld)."""
    ensure_manage(actor, meeting.conference)
    text = _text(text, label=_("会议纪要"), max_length=MINUTES_MAX)
    meeting = _lock_meeting(meeting)
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("只有已召开、纪要尚未审定的会议可以填写纪要。"))
    result = screen_text(text)
    if result.hold:
        raise MinutesHeld(_("纪要未保存：内容需要审核（%(reason)s）。请修改后再保存。") % {"reason": result.reason})
    before = meeting.minutes
    meeting.minutes = text
    meeting.save(update_fields=["minutes"])
    audit.record(actor=actor, action="conferences.meeting.minutes_saved", obj=meeting,
                 before={"length": len(before)}, after={"length": len(text)})
    return meeting


@transaction.atomic
def minutes_approve(*, actor, meeting: Meeting) -> Meeting:
    ensure_manage(actor, meeting.conference)
    meeting = _lock_meeting(meeting)
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("只有已召开的会议可以审定纪要。"))
    if not meeting.minutes.strip():
        raise ValidationError(_("请先填写会议纪要再审定。"))
    meeting.status = MeetingStatus.APPROVED
    meeting.minutes_approved_at = timezone.now()
    meeting.save(update_fields=["status", "minutes_approved_at"])
    audit.record(actor=actor, action="conferences.meeting.minutes_approved", obj=meeting,
                 before={"status": MeetingStatus.HELD}, after={"status": MeetingStatus.APPROVED})
    return meeting


# --- agenda ---------------------------------------------------------------------------

@transaction.atomic
def agenda_propose(*, actor, meeting: Meeting, proposer: Organisation, title: str,
                   description: str = "") -> AgendaItem:
    """A member unit proposes an agenda item (its liaison, or the conference's managers for it)."""
    conference = meeting.conference
    if not can_manage(actor, conference) and proposer not in liaison_units(actor, conference):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    if not current_members(conference).filter(organisation=proposer).exists():
        raise ValidationError(_("只有本联席会议的成员单位可以提出议题。"))
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(_("会议已召开，不能再提出议题。"))
    title = _text(title, label=_("议题"), max_length=100)
    description = _text(description, label=_("说明"), max_length=TEXT_MAX, required=False)
    item = AgendaItem.objects.create(meeting=meeting, proposer=proposer, title=title, description=description,
                                     proposed_by=actor)
    audit.record(actor=actor, action="conferences.agenda.proposed", obj=item,
                 after={"meeting": meeting.pk, "proposer": proposer.pk, "title": title})
    return item


@transaction.atomic
def agenda_decide(*, actor, item: AgendaItem, status: str) -> AgendaItem:
    ensure_manage(actor, item.meeting.conference)
    if status not in (AgendaStatus.ACCEPTED, AgendaStatus.DEFERRED):
        raise ValidationError(_("请选择采纳或暂缓。"))
    if item.meeting.status == MeetingStatus.APPROVED:
        raise ValidationError(_("纪要已审定，议题不能再更改。"))
    before = item.status
    updated = AgendaItem.objects.filter(pk=item.pk, status=before).update(status=status)
    if updated != 1:
        raise ValidationError(_("议题状态已被他人更改，请刷新后再试。"))
    item.status = status
    audit.record(actor=actor, action="conferences.agenda.decided", obj=item,
                 before={"status": before}, after={"status": status})
    return item


# --- attendance -----------------------------------------------------------------------

@dataclass
class AttendanceRate:
    present: int = 0
    expected: int = 0

    @property
    def percent(self) -> int | None:
        if not self.expected:
            return None
        return round(self.present * 100 / self.expected)


def attendees(meeting: Meeting) -> tuple[list[Membership], list[PartTimeMember]]:
    """Who is expected: units that were members on the meeting date, part-time members in term."""
    day = meeting.held_on
    units = [m for m in meeting.conference.memberships.select_related("organisation").order_by("organisation__name")
             if m.joined_on <= day and (m.left_on is None or m.left_on >= day)]
    seats = list(meeting.conference.part_time_members.filter(term_start__lte=day, term_end__gte=day)
                 .select_related("person", "unit").order_by("person__name", "pk"))
    return units, seats


def attendance_rate(meeting: Meeting) -> AttendanceRate:
    """Present among those expected (member units and part-time members); absent and excused both
    count as not present, an expected attendee with no record as well."""
    units, seats = attendees(meeting)
    rows = list(meeting.attendance.all())
    present_units = {r.membership_id for r in rows if r.status == AttendanceStatus.PRESENT and r.membership_id}
    present_seats = {r.part_time_member_id for r in rows
                     if r.status == AttendanceStatus.PRESENT and r.part_time_member_id}
    present = sum(1 for u in units if u.pk in present_units) + sum(1 for s in seats if s.pk in present_seats)
    return AttendanceRate(present=present, expected=len(units) + len(seats))


@transaction.atomic
def attendance_record(*, actor, meeting: Meeting, units: dict[int, str], seats: dict[int, str]) -> AttendanceRate:
    """Record the sheet: {membership id: status} and {part-time member id: status}."""
    ensure_manage(actor, meeting.conference)
    meeting = _lock_meeting(meeting)
    if meeting.status == MeetingStatus.APPROVED:
        raise ValidationError(_("纪要已审定，出席情况不能再更改。"))
    expected_units, expected_seats = attendees(meeting)
    unit_ids = {m.pk for m in expected_units}
    seat_ids = {s.pk for s in expected_seats}
    for value in [*units.values(), *seats.values()]:
        if value not in AttendanceStatus.values:
            raise ValidationError(_("出席情况只能是出席、缺席或请假。"))
    if not set(units) <= unit_ids or not set(seats) <= seat_ids:
        raise ValidationError(_("出席名单中有不属于本次会议的单位或人员。"))
    for membership_id, value in units.items():
        Attendance.objects.update_or_create(meeting=meeting, membership_id=membership_id, defaults={"status": value})
    for seat_id, value in seats.items():
        Attendance.objects.update_or_create(meeting=meeting, part_time_member_id=seat_id, defaults={"status": value})
    rate = attendance_rate(meeting)
    audit.record(actor=actor, action="conferences.meeting.attendance", obj=meeting,
                 after={"units": {str(k): v for k, v in units.items()}, "seats": {str(k): v for k, v in seats.items()},
                        "present": rate.present, "expected": rate.expected})
    return rate


# --- decisions and action items ------------------------------------------------------

@dataclass
class ActionSpec:
    owner: Organisation
    title: str
    due_on: dt.date | None = None
    due_in_working_days: int | None = None


def _due(spec: ActionSpec, start: dt.date) -> tuple[dt.date, bool]:
    if spec.due_on is not None:
        return spec.due_on, False
    if spec.due_in_working_days is None or spec.due_in_working_days < 1:
        raise ValidationError(_("请填写完成期限（日期或工作日数）。"))
    # Working days from the decision's day, on the official calendar (调休 included).
    start_at = timezone.make_aware(dt.datetime.combine(start, dt.time(18, 0)))
    deadline = workdays.add_working_days(start_at, spec.due_in_working_days)
    return timezone.localtime(deadline.at).date(), deadline.provisional


@transaction.atomic
def decision_record(*, actor, meeting: Meeting, text: str, actions: list[ActionSpec],
                    as_of: dt.date | None = None) -> Decision:
    """A decision (决议) of a held meeting, turned into action items for member units.

    `as_of` is the day the decision is recorded (default today; the demo loader backdates a
    year of meetings): due dates may not lie before it."""
    ensure_manage(actor, meeting.conference)
    meeting = _lock_meeting(meeting)
    if meeting.status != MeetingStatus.HELD:
        raise ValidationError(_("只有已召开、纪要尚未审定的会议可以形成决议。"))
    text = _text(text, label=_("决议内容"), max_length=TEXT_MAX)
    if not actions:
        raise ValidationError(_("决议至少要落实为一项督办事项。"))
    members = set(current_members(meeting.conference).values_list("organisation_id", flat=True))
    today = as_of or _today()
    prepared = []
    for spec in actions:
        if spec.owner.pk not in members:
            raise ValidationError(_("责任单位须是本联席会议的成员单位。"))
        title = _text(spec.title, label=_("事项"), max_length=200)
        due_on, provisional = _due(spec, max(today, meeting.held_on))
        if due_on < today:
            raise ValidationError(_("完成期限不能早于今天。"))
        prepared.append((spec.owner, title, due_on, provisional))
    decision = Decision.objects.create(meeting=meeting, text=text)
    items = [ActionItem.objects.unscoped().create(decision=decision, owner=owner, title=title, due_on=due_on,
                                                  due_provisional=provisional)
             for owner, title, due_on, provisional in prepared]
    audit.record(actor=actor, action="conferences.decision.recorded", obj=decision,
                 after={"meeting": meeting.pk, "text": text,
                        "actions": [{"id": i.pk, "owner": i.owner_id, "title": i.title, "due_on": i.due_on}
                                    for i in items]})
    return decision


def can_update_action(actor, item: ActionItem) -> bool:
    conference = item.decision.meeting.conference
    if can_manage(actor, conference):
        return True
    return can(actor, "conferences.propose") and item.owner_id in scope_for_user(actor).organisation_ids


ALLOWED_STATUS = {
    ActionStatus.OPEN: {ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.DONE},
    ActionStatus.IN_PROGRESS: {ActionStatus.IN_PROGRESS, ActionStatus.DONE},
    # An overdue item stays overdue (it was reported to the street) until it is done.
    ActionStatus.OVERDUE: {ActionStatus.OVERDUE, ActionStatus.DONE},
    ActionStatus.DONE: set(),
}


@transaction.atomic
def action_progress(*, actor, item: ActionItem, text: str, status: str) -> ActionItem:
    """The owner unit (its liaison) or the conference's managers report progress."""
    if not can_update_action(actor, item):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    text = _text(text, label=_("进展情况"), max_length=TEXT_MAX)
    before = item.status
    if status not in ALLOWED_STATUS.get(before, set()):
        if before == ActionStatus.DONE:
            raise ValidationError(_("该事项已完成，不能再填报。"))
        raise ValidationError(_("不能从“%(a)s”改为“%(b)s”。") % {
            "a": ActionStatus(before).label, "b": ActionStatus(status).label if status in ActionStatus.values else status})
    fields = {"status": status}
    if status == ActionStatus.DONE:
        fields["completed_at"] = timezone.now()
    updated = ActionItem.objects.unscoped().filter(pk=item.pk, status=before).update(**fields)
    if updated != 1:
        raise ValidationError(_("事项状态已被他人更改，请刷新后再试。"))
    for key, value in fields.items():
        setattr(item, key, value)
    ProgressNote.objects.create(action_item=item, author=actor, text=text, status_after=status)
    audit.record(actor=actor, action="conferences.action.progress", obj=item,
                 before={"status": before}, after={"status": status, "note": text})
    return item


# --- the sweep -----------------------------------------------------------------------

@dataclass
class SweepResult:
    escalated: list[int] = field(default_factory=list)


def conference_sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Mark action items past their due date overdue and report each to its street hub, once:
    the conditional UPDATE (status still open, never escalated) is the claim, so two sweepers
    never escalate the same item twice."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    result = SweepResult()
    candidates = list(ActionItem.objects.unscoped().filter(
        status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS], escalated_at__isnull=True, due_on__lt=today)
        .select_related("decision__meeting__conference__area").values_list("pk", flat=True)[:1000])
    for pk in candidates:
        with transaction.atomic():
            claimed = ActionItem.objects.unscoped().filter(
                pk=pk, status__in=[ActionStatus.OPEN, ActionStatus.IN_PROGRESS], escalated_at__isnull=True,
            ).update(status=ActionStatus.OVERDUE, escalated_at=now)
            if claimed != 1:
                continue
            item = ActionItem.objects.unscoped().select_related("decision__meeting__conference__area", "owner").get(pk=pk)
            street = _street_of(item.decision.meeting.conference.area)
            try:
                with transaction.atomic():
                    Escalation.objects.create(action_item=item, street=street, created_at=now)
            except IntegrityError:
                continue
            audit.record(actor=None, action="conferences.action.escalated", obj=item,
                         after={"status": ActionStatus.OVERDUE, "due_on": item.due_on, "owner": item.owner_id,
                                "street": street.code})
            result.escalated.append(pk)
    return result


def _street_of(area: Area) -> Area:
    node = area
    while node is not None and node.level != AreaLevel.STREET:
        node = node.parent
    return node or area
