from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BookerKind(models.TextChoices):
    UNIT = "unit", _("驻区单位")
    GROUP = "group", _("社会组织或居民团队")
    RESIDENT = "resident", _("居民")
    STAFF = "staff", _("社区或街道")


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")
    CANCELLED = "cancelled", pgettext_lazy("booking", "已取消")
    NO_SHOW = "no_show", _("爽约")
    COMPLETED = "completed", _("已使用")


# Bookings that hold their slot: no two of them overlap on one room (service, and the database).
LIVE_BOOKING_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class DutyPeriod(models.TextChoices):
    MORNING = "morning", _("上午")
    AFTERNOON = "afternoon", _("下午")
    EVENING = "evening", _("晚间")


class DutyRole(models.TextChoices):
    """AB 岗: the A post is on duty; the B post stands in when A is away."""

    A = "a", _("A 岗（主岗）")
    B = "b", _("B 岗（备岗）")


class EventStatus(models.TextChoices):
    PUBLISHED = "published", _("报名中")
    CANCELLED = "cancelled", pgettext_lazy("event", "已取消")


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("已报名")
    WAITLISTED = "waitlisted", _("候补")
    CANCELLED = "cancelled", pgettext_lazy("registration", "已取消")
