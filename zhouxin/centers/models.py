"""Party–masses service centres (党群服务中心, DESIGN §3 centers): centres at district, street and
community level with their rooms, opening hours, on-duty rota and service catalogue; the
standards check; room bookings that can never overlap; events with registration, a waiting list
and QR check-in; daily visitor counts for utilisation.

A booking's time is a half-open interval [starts_at, ends_at).  Live bookings (pending or
approved) of one room never overlap: the service checks inside its transaction, and the
database refuses it again — an exclusion constraint (btree_gist) on PostgreSQL, a trigger on
SQLite (centers/booking_sql.py) — so concurrent requests cannot both win.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.scoping import ScopedManager

from .choices import BookerKind, BookingStatus, DutyPeriod, DutyRole, EventStatus, RegistrationStatus


class Centre(models.Model):
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="centres", verbose_name=_("所属区域"))
    name = models.CharField(_("名称"), max_length=80)
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("服务电话"), max_length=32, blank=True)  # the centre's desk line, public
    floor_area = models.DecimalField(_("建筑面积（平方米）"), max_digits=9, decimal_places=2)
    # Opening hours: {"mon": [["08:30", "12:00"], ["13:30", "20:00"]], …, "holiday": [...]}; a day with
    # no interval is closed; "holiday" applies on the calendar's public holidays.
    opening_hours = models.JSONField(_("开放时间"), default=dict)
    description = models.TextField(_("简介"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("建立时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("党群服务中心")
        verbose_name_plural = _("党群服务中心")
        ordering = ["area__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area", "name"], name="centers_unique_name_per_area",
                                    violation_error_message=_("该区域已有同名的服务中心。")),
            models.CheckConstraint(condition=Q(floor_area__gt=0), name="centers_floor_area_positive",
                                   violation_error_message=_("建筑面积必须大于零。")),
        ]

    def __str__(self):
        return self.name


class Room(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("服务中心"))
    name = models.CharField(_("名称"), max_length=60)
    floor_area = models.DecimalField(_("面积（平方米）"), max_digits=8, decimal_places=2)
    capacity = models.PositiveIntegerField(_("容纳人数"))
    equipment = models.CharField(_("设备"), max_length=300, blank=True)
    # Counts toward the share of the floor given to residents' activities (standards check).
    for_residents = models.BooleanField(_("居民活动用房"), default=True)
    bookable = models.BooleanField(_("可预约"), default=True)
    needs_approval = models.BooleanField(_("预约需审批"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = ScopedManager(scope_field="centre__area__code")

    class Meta:
        verbose_name = _("功能室")
        verbose_name_plural = _("功能室")
        ordering = ["centre", "name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "name"], name="centers_unique_room_name",
                                    violation_error_message=_("该中心已有同名的功能室。")),
            models.CheckConstraint(condition=Q(floor_area__gt=0), name="centers_room_area_positive"),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="centers_room_capacity_positive"),
        ]

    def __str__(self):
        return f"{self.centre} {self.name}"


class ServiceItem(models.Model):
    """One entry of the centre's service catalogue (服务清单)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="services", verbose_name=_("服务中心"))
    name = models.CharField(_("服务事项"), max_length=80)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    hours = models.CharField(_("办理时间"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["centre", "order", "id"]

    def __str__(self):
        return self.name


class DutyShift(models.Model):
    """值班: who is on duty in one period of one day; at least two staff, one of them the B post (AB 岗)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("服务中心"))
    day = models.DateField(_("日期"))
    period = models.CharField(_("时段"), max_length=16, choices=DutyPeriod.choices)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("值班人员"))
    role = models.CharField(_("岗位"), max_length=8, choices=DutyRole.choices)

    objects = ScopedManager(scope_field="centre__area__code")

    class Meta:
        verbose_name = _("值班安排")
        verbose_name_plural = _("值班安排")
        ordering = ["centre", "day", "period", "role"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "day", "period", "worker"], name="centers_one_duty_per_worker",
                                    violation_error_message=_("该人员在这个时段已排班。")),
        ]

    def __str__(self):
        return f"{self.centre} {self.day} {self.get_period_display()} {self.get_role_display()}"


class Booking(models.Model):
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("功能室"))
    title = models.CharField(_("活动名称"), max_length=80)
    booker_kind = models.CharField(_("预约方"), max_length=16, choices=BookerKind.choices)
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="room_bookings", verbose_name=_("预约单位"))
    group_name = models.CharField(_("团队名称"), max_length=80, blank=True)
    account = models.ForeignKey("portal.ResidentAccount", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="room_bookings", verbose_name=_("预约居民"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("预约人"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    expected = models.PositiveIntegerField(_("预计人数"))
    status = models.CharField(_("状态"), max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    attended = models.PositiveIntegerField(_("实到人数"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="room__centre__area__code", org_field="organisation")

    class Meta:
        verbose_name = _("场地预约")
        verbose_name_plural = _("场地预约")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="centers_booking_ends_after_start",
                                   violation_error_message=_("结束时间应晚于开始时间。")),
        ]
        indexes = [models.Index(fields=["room", "starts_at"], name="centers_booking_room_start")]

    def __str__(self):
        return f"{self.room} {self.starts_at:%Y-%m-%d %H:%M} {self.title}"


class Event(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="events", verbose_name=_("服务中心"))
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="event",
                                   verbose_name=_("场地预约"))
    title = models.CharField(_("活动名称"), max_length=80)
    description = models.TextField(_("活动介绍"), max_length=2000, blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    status = models.CharField(_("状态"), max_length=16, choices=EventStatus.choices, default=EventStatus.PUBLISHED)
    volunteer_activity = models.ForeignKey("volunteers.Activity", on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="centre_events", verbose_name=_("志愿服务活动"))
    project = models.ForeignKey("cobuild.Project", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="centre_events", verbose_name=_("共建项目"))
    qr_key = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("发布人"))
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="centre__area__code")

    class Meta:
        verbose_name = _("中心活动")
        verbose_name_plural = _("中心活动")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="centers_event_ends_after_start",
                                   violation_error_message=_("结束时间应晚于开始时间。")),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="centers_event_capacity_positive"),
        ]

    def __str__(self):
        return self.title


class EventRegistration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("活动"))
    account = models.ForeignKey("portal.ResidentAccount", on_delete=models.CASCADE, related_name="event_registrations",
                                verbose_name=_("居民账号"))
    status = models.CharField(_("状态"), max_length=16, choices=RegistrationStatus.choices)
    registered_at = models.DateTimeField(_("报名时间"))
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="event__centre__area__code")

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["event", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "account"], condition=~Q(status="cancelled"),
                                    name="centers_one_live_registration_per_account",
                                    violation_error_message=_("您已报名这个活动。")),
        ]

    def __str__(self):
        return f"{self.event} #{self.pk}"


class VisitCount(models.Model):
    """Visitors of a centre on one day (counted at the desk or by the door counter)."""

    centre = models.ForeignKey(Centre, on_delete=models.CASCADE, related_name="visits", verbose_name=_("服务中心"))
    day = models.DateField(_("日期"))
    visitors = models.PositiveIntegerField(_("来访人次"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("登记人"))

    objects = ScopedManager(scope_field="centre__area__code")

    class Meta:
        verbose_name = _("来访人次")
        verbose_name_plural = _("来访人次")
        ordering = ["centre", "-day"]
        constraints = [models.UniqueConstraint(fields=["centre", "day"], name="centers_one_count_per_day")]

    def __str__(self):
        return f"{self.centre} {self.day} {self.visitors}"
