"""Joint conferences (联席会议 / 大工委 / 大党委) of a street or community, their member units and
part-time committee members (兼职委员), their meetings, agenda, attendance, minutes, decisions
(决议) and the action items the decisions turn into.

Reads are scoped (core/scoping.py): area staff reach the conferences of their subtree; a unit's
liaison reaches the conferences its unit is a current member of (an explicit membership filter,
because organisation grants carry no area reach of their own).
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.choices import Role
from zhouxin.core.scoping import Scope, ScopedManager
from zhouxin.orgs.models import Area, Organisation, Person

from .choices import (
    ActionStatus,
    AgendaStatus,
    AttendanceStatus,
    ConferenceKind,
    MeetingKind,
    MeetingStatus,
    PartTimeRole,
    TermState,
)

# Area roles that reach conferences through the area tree (a grid worker's grid never holds one).
AREA_READERS = frozenset({Role.DISTRICT_ADMIN, Role.STREET_HUB, Role.COMMUNITY_STAFF})
EXPIRY_WARNING_DAYS = 30


class ConferenceScopedManager(ScopedManager):
    """Scoped by the conference's area, plus the conferences the user's organisations are
    current members of.  `conference_path` on the model: "" for JointConference itself,
    "conference" for Meeting, "decision__meeting__conference" for ActionItem."""

    def scope_q(self, scope: Scope) -> Q:
        path = self.model.conference_path
        prefix = f"{path}__" if path else ""
        parts = [Q(**{f"{prefix}area__code__startswith": p}) for p in scope.prefixes(self.roles)]
        if scope.organisation_ids:
            member_of = Membership.objects.filter(organisation_id__in=scope.organisation_ids,
                                                  left_on__isnull=True).values("conference_id")
            parts.append(Q(**{f"{prefix}pk__in": member_of}))
        if not parts:
            return Q(pk__in=[])
        return reduce(or_, parts)


def _manager() -> ConferenceScopedManager:
    return ConferenceScopedManager(scope_field="area__code", roles=AREA_READERS)


class JointConference(models.Model):
    conference_path = ""

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="joint_conferences",
                             verbose_name=_("所在街道或社区"))
    kind = models.CharField(_("类型"), max_length=32, choices=ConferenceKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    established_on = models.DateField(_("成立日期"))
    convenor = models.CharField(_("召集人"), max_length=64, help_text=_("书记或召集人的姓名与职务"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = _manager()

    class Meta:
        verbose_name = _("联席会议")
        verbose_name_plural = _("联席会议")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="conference_unique_name_in_area",
                                    violation_error_message=_("该区域已有同名联席会议。")),
        ]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A member unit: a resident unit, department, community organisation … (成员单位)."""

    conference = models.ForeignKey(JointConference, on_delete=models.CASCADE, related_name="memberships",
                                   verbose_name=_("联席会议"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="conference_memberships",
                                     verbose_name=_("成员单位"))
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("成员单位")
        verbose_name_plural = _("成员单位")
        ordering = ["organisation__name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["conference", "organisation"], condition=Q(left_on__isnull=True),
                                    name="membership_one_current",
                                    violation_error_message=_("该单位已是本联席会议的成员单位。")),
            models.CheckConstraint(condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                                   name="membership_left_after_joined",
                                   violation_error_message=_("退出日期不能早于加入日期。")),
        ]

    def __str__(self):
        return str(self.organisation)

    @property
    def is_current(self) -> bool:
        return self.left_on is None


class PartTimeMember(models.Model):
    """A part-time committee member (兼职委员) from a member unit, with a term."""

    conference = models.ForeignKey(JointConference, on_delete=models.CASCADE, related_name="part_time_members",
                                   verbose_name=_("联席会议"))
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="conference_seats",
                               verbose_name=_("人员"))
    unit = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="conference_seats",
                             verbose_name=_("所在单位"))
    role = models.CharField(_("职务"), max_length=32, choices=PartTimeRole.choices, default=PartTimeRole.MEMBER)
    term_start = models.DateField(_("任期开始"))
    term_end = models.DateField(_("任期结束"))

    class Meta:
        verbose_name = _("兼职委员")
        verbose_name_plural = _("兼职委员")
        ordering = ["-term_end", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(term_end__gt=models.F("term_start")), name="part_time_term_order",
                                   violation_error_message=_("任期结束日期必须晚于开始日期。")),
        ]

    def __str__(self):
        return self.person.name

    def term_state(self, today: dt.date) -> str:
        if self.term_start > today:
            return TermState.NOT_STARTED
        if self.term_end < today:
            return TermState.EXPIRED
        if (self.term_end - today).days <= EXPIRY_WARNING_DAYS:
            return TermState.EXPIRING
        return TermState.ACTIVE


class Meeting(models.Model):
    conference_path = "conference"

    conference = models.ForeignKey(JointConference, on_delete=models.CASCADE, related_name="meetings",
                                   verbose_name=_("联席会议"))
    kind = models.CharField(_("会议类型"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("会议名称"), max_length=100)
    held_on = models.DateField(_("会议日期"))
    place = models.CharField(_("地点"), max_length=100)
    status = models.CharField(_("状态"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    minutes = models.TextField(_("会议纪要"), blank=True)
    minutes_approved_at = models.DateTimeField(_("纪要审定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ConferenceScopedManager(scope_field="conference__area__code", roles=AREA_READERS)

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-held_on", "-pk"]

    def __str__(self):
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items",
                                verbose_name=_("会议"))
    proposer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="agenda_items",
                                 verbose_name=_("提议单位"))
    title = models.CharField(_("议题"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=AgendaStatus.choices, default=AgendaStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("提出人"))
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.title


class Attendance(models.Model):
    """One line of the attendance sheet: a member unit or a part-time member."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance",
                                verbose_name=_("会议"))
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, null=True, blank=True,
                                   related_name="attendance", verbose_name=_("成员单位"))
    part_time_member = models.ForeignKey(PartTimeMember, on_delete=models.CASCADE, null=True, blank=True,
                                         related_name="attendance", verbose_name=_("兼职委员"))
    status = models.CharField(_("出席情况"), max_length=16, choices=AttendanceStatus.choices)

    class Meta:
        verbose_name = _("出席记录")
        verbose_name_plural = _("出席记录")
        constraints = [
            models.CheckConstraint(
                condition=(Q(membership__isnull=False, part_time_member__isnull=True)
                           | Q(membership__isnull=True, part_time_member__isnull=False)),
                name="attendance_one_attendee",
                violation_error_message=_("每条出席记录只能对应一个成员单位或一名兼职委员。")),
            models.UniqueConstraint(fields=["meeting", "membership"], name="attendance_unique_unit"),
            models.UniqueConstraint(fields=["meeting", "part_time_member"], name="attendance_unique_person"),
        ]

    def __str__(self):
        return f"{self.meeting_id}: {self.get_status_display()}"


class Decision(models.Model):
    """A decision (决议) of a held meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("会议"))
    text = models.TextField(_("决议内容"))
    created_at = models.DateTimeField(_("形成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("决议")
        verbose_name_plural = _("决议")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:40]


class ActionItem(models.Model):
    """What a decision asks one member unit to do, by a due date."""

    conference_path = "decision__meeting__conference"

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="action_items",
                                 verbose_name=_("决议"))
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="conference_actions",
                              verbose_name=_("责任单位"))
    title = models.CharField(_("事项"), max_length=200)
    due_on = models.DateField(_("完成期限"))
    due_provisional = models.BooleanField(_("期限暂定"), default=False,
                                          help_text=_("按尚未公布的节假日安排推算"))
    status = models.CharField(_("状态"), max_length=16, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    escalated_at = models.DateTimeField(_("逾期上报时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ConferenceScopedManager(scope_field="decision__meeting__conference__area__code", roles=AREA_READERS)

    class Meta:
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="conf_action_status_due")]

    def __str__(self):
        return self.title


class ProgressNote(models.Model):
    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="notes",
                                    verbose_name=_("督办事项"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("填报人"))
    text = models.TextField(_("进展情况"))
    status_after = models.CharField(_("填报后状态"), max_length=16, choices=ActionStatus.choices)
    created_at = models.DateTimeField(_("填报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("进展")
        verbose_name_plural = _("进展")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.text[:40]


class Escalation(models.Model):
    """An overdue action item reported to the street hub, once per item."""

    action_item = models.OneToOneField(ActionItem, on_delete=models.CASCADE, related_name="escalation",
                                       verbose_name=_("督办事项"))
    street = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="conference_escalations",
                               verbose_name=_("街道"))
    created_at = models.DateTimeField(_("上报时间"))

    class Meta:
        verbose_name = _("逾期上报")
        verbose_name_plural = _("逾期上报")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return str(self.action_item)
