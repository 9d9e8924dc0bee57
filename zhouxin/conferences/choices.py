from django.db import models
from django.utils.translation import gettext_lazy as _


class ConferenceKind(models.TextChoices):
    JOINT_MEETING = "joint_meeting", _("联席会议")
    BIG_WORKING_COMMITTEE = "big_working_committee", _("大工委")
    BIG_PARTY_COMMITTEE = "big_party_committee", _("大党委")


class PartTimeRole(models.TextChoices):
    DEPUTY_SECRETARY = "deputy_secretary", _("兼职副书记")
    MEMBER = "member", _("兼职委员")


class TermState(models.TextChoices):
    ACTIVE = "active", _("任期内")
    EXPIRING = "expiring", _("即将到期")
    EXPIRED = "expired", _("已到期")
    NOT_STARTED = "not_started", _("未开始")


class MeetingKind(models.TextChoices):
    PLENARY = "plenary", _("全体会议")
    LIAISON = "liaison", _("联络员会议")
    TOPIC = "topic", _("专题会议")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("计划召开")
    HELD = "held", _("已召开")
    APPROVED = "approved", _("纪要已审定")


class AgendaStatus(models.TextChoices):
    PROPOSED = "proposed", _("已提出")
    ACCEPTED = "accepted", _("已采纳")
    DEFERRED = "deferred", _("暂缓")


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("出席")
    ABSENT = "absent", _("缺席")
    EXCUSED = "excused", _("请假")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    OVERDUE = "overdue", _("已逾期")


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.OVERDUE)
