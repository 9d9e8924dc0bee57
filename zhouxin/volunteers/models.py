"""Dual registration and volunteering (双报到): units and in-service Party members register with
communities; activities with slots, sign-up and verified check-in/out; micro-wishes and the
three-order chain; a points ledger; feedback batches to work units.

Who is who.  Staff (community, street) run activities and confirm registrations on the
staff site.  Volunteers act on the portal as resident accounts (a phone proven by a code);
an account whose phone is a Party member's (orgs.Person, same blind index) is that member,
so the member's hours and wishes reach their work unit without anyone typing them twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhouxin.core.scoping import ScopedManager

from .choices import (
    LIVE_REGISTRATION_STATUSES,
    LIVE_SIGNUP_STATUSES,
    ActivityCategory,
    ActivityStatus,
    Channel,
    CheckMethod,
    FeedbackKind,
    PointSource,
    RegistrationStatus,
    SignUpStatus,
    WishStatus,
)


class UnitRegistration(models.Model):
    """单位报到: a resident unit registers with the community where it sits."""

    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="volunteer_registrations",
                             verbose_name=_("报到单位"))
    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="unit_registrations",
                                  verbose_name=_("报到社区"))
    status = models.CharField(_("状态"), max_length=16, choices=RegistrationStatus.choices,
                              default=RegistrationStatus.PENDING)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    services_offered = models.CharField(_("可提供的服务"), max_length=300, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("登记人"))
    registered_at = models.DateTimeField(pgettext_lazy("dual registration", "报到时间"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("确认人"))
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decision_note = models.CharField(_("确认意见"), max_length=300, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="community__code", org_field="unit")

    class Meta:
        verbose_name = _("单位报到")
        verbose_name_plural = _("单位报到")
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "community"], condition=Q(status__in=LIVE_REGISTRATION_STATUSES),
                                    name="volunteers_one_live_unit_registration",
                                    violation_error_message=_("该单位已向这个社区报到。")),
        ]

    def __str__(self):
        return f"{self.unit} → {self.community}"


class MemberRegistration(models.Model):
    """在职党员到居住社区报到: first by the policy's deadline, renewed every N months."""

    person = models.ForeignKey("orgs.Person", on_delete=models.PROTECT, related_name="volunteer_registrations",
                               verbose_name=_("党员"))
    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="member_registrations",
                                  verbose_name=_("居住社区"))
    # The work unit when registering: the feedback goes there even if the person moves on.
    work_unit = models.ForeignKey("orgs.Organisation", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="member_registrations", verbose_name=_("工作单位"))
    account = models.ForeignKey("portal.ResidentAccount", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("居民账号"))
    channel = models.CharField(_("报到方式"), max_length=16, choices=Channel.choices, default=Channel.PORTAL)
    status = models.CharField(_("状态"), max_length=16, choices=RegistrationStatus.choices,
                              default=RegistrationStatus.PENDING)
    skills = models.CharField(_("特长与意愿"), max_length=300, blank=True)
    registered_at = models.DateTimeField(pgettext_lazy("dual registration", "报到时间"))
    valid_until = models.DateField(_("有效期至"))
    renewed_at = models.DateTimeField(_("最近续报时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("最近提醒时间"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("确认人"))
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decision_note = models.CharField(_("确认意见"), max_length=300, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="community__code", org_field="work_unit")

    class Meta:
        verbose_name = _("党员报到")
        verbose_name_plural = _("党员报到")
        ordering = ["-registered_at", "-id"]
        indexes = [models.Index(fields=["status", "valid_until"], name="volunteers_member_reg_due")]
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(status__in=LIVE_REGISTRATION_STATUSES),
                                    name="volunteers_one_live_member_registration",
                                    violation_error_message=_("该党员已经报到。")),
        ]

    def __str__(self):
        return f"{self.person} → {self.community}"


class Activity(models.Model):
    """志愿服务活动: a community (or a unit with it) runs an activity with slots; volunteers sign
    up on the portal and check in and out at the site."""

    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="volunteer_activities",
                                  verbose_name=_("所属社区"))
    unit = models.ForeignKey("orgs.Organisation", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="volunteer_activities", verbose_name=_("联合开展单位"))
    project = models.ForeignKey("cobuild.Project", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="volunteer_activities", verbose_name=_("共建项目"))
    title = models.CharField(_("活动名称"), max_length=120)
    description = models.TextField(_("活动内容"), blank=True)
    category = models.CharField(_("服务类别"), max_length=16, choices=ActivityCategory.choices)
    place = models.CharField(_("活动地点"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    slots = models.PositiveIntegerField(_("招募人数"))
    signup_closes_at = models.DateTimeField(_("报名截止"), null=True, blank=True)
    members_only = models.BooleanField(_("仅限报到党员"), default=False)
    status = models.CharField(_("状态"), max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.DRAFT,
                              db_index=True)
    # Signs the check-in/out codes of this activity; replaced to invalidate every code shown so far.
    qr_key = models.CharField(max_length=64, editable=False)
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("组织者"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="community__code", org_field="unit")

    class Meta:
        verbose_name = _("志愿服务活动")
        verbose_name_plural = _("志愿服务活动")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["status", "starts_at"], name="volunteers_activity_when")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="volunteers_activity_times_ordered",
                                   violation_error_message=_("结束时间必须晚于开始时间。")),
            models.CheckConstraint(condition=Q(slots__gt=0), name="volunteers_activity_slots_positive",
                                   violation_error_message=_("招募人数必须大于 0。")),
        ]

    def __str__(self):
        return self.title


class SignUp(models.Model):
    """报名: a volunteer's place in an activity, then the verified check-in and check-out.

    `minutes` is what was verified: the time between check-in and check-out within the
    activity's own hours, by QR at the site or by the organiser; never what was declared."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups",
                                 verbose_name=_("活动"))
    account = models.ForeignKey("portal.ResidentAccount", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("居民账号"))
    # The Party member behind the account (same phone), or added by the organiser.
    person = models.ForeignKey("orgs.Person", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="volunteer_signups", verbose_name=_("党员"))
    status = models.CharField(_("状态"), max_length=16, choices=SignUpStatus.choices, default=SignUpStatus.SIGNED_UP)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    check_in_method = models.CharField(_("签到方式"), max_length=16, choices=CheckMethod.choices, blank=True)
    check_out_method = models.CharField(_("签退方式"), max_length=16, choices=CheckMethod.choices, blank=True)
    minutes = models.PositiveIntegerField(_("核定时长（分钟）"), default=0)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("核定人"))
    verified_at = models.DateTimeField(_("核定时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="activity__community__code", org_field="person__work_unit")

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["person", "checked_in_at"], name="volunteers_signup_person")]
        constraints = [
            models.UniqueConstraint(fields=["activity", "account"], condition=Q(account__isnull=False)
                                    & Q(status__in=LIVE_SIGNUP_STATUSES), name="volunteers_one_signup_per_account",
                                    violation_error_message=_("您已报名这个活动。")),
            models.UniqueConstraint(fields=["activity", "person"], condition=Q(person__isnull=False)
                                    & Q(status__in=LIVE_SIGNUP_STATUSES), name="volunteers_one_signup_per_person",
                                    violation_error_message=_("该党员已报名这个活动。")),
            models.CheckConstraint(condition=Q(account__isnull=False) | Q(person__isnull=False),
                                   name="volunteers_signup_has_someone",
                                   violation_error_message=_("报名必须对应居民账号或党员。")),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True)
                                   | (Q(checked_in_at__isnull=False) & Q(checked_out_at__gte=F("checked_in_at"))),
                                   name="volunteers_signup_out_after_in",
                                   violation_error_message=_("签退时间不能早于签到时间。")),
        ]

    def __str__(self):
        return f"{self.activity} · {self.pk}"


class Wish(models.Model):
    """微心愿 and the three-order chain: a resident orders (居民点单), the community posts it
    (社区下单), a member or unit takes it (党员接单), the community confirms completion, and
    the resident thanks and rates."""

    number = models.CharField(_("心愿编号"), max_length=20, unique=True)
    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="wishes",
                                  verbose_name=_("所属社区"))
    title = models.CharField(_("心愿"), max_length=80)
    description = models.TextField(_("心愿说明"), blank=True)
    # Whom it is for, as the community describes them publicly (never a name: "独居老人" …).
    beneficiary = models.CharField(_("心愿人"), max_length=60)
    value = models.DecimalField(_("价值（元）"), max_digits=8, decimal_places=2)
    status = models.CharField(_("状态"), max_length=16, choices=WishStatus.choices, default=WishStatus.ORDERED,
                              db_index=True)
    ordered_by = models.ForeignKey("portal.ResidentAccount", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("点单居民"))
    ordered_at = models.DateTimeField(_("点单时间"))
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("下单人"))
    posted_at = models.DateTimeField(_("下单时间"), null=True, blank=True)
    taken_by_account = models.ForeignKey("portal.ResidentAccount", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("接单账号"))
    taken_by_person = models.ForeignKey("orgs.Person", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="wishes_taken", verbose_name=_("接单党员"))
    taken_by_unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="wishes_taken", verbose_name=_("接单单位"))
    taken_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("确认人"))
    decision_note = models.CharField(_("说明"), max_length=300, blank=True)
    thanks = models.CharField(_("感谢留言"), max_length=300, blank=True)
    thanks_visible = models.BooleanField(_("留言公开"), default=True)
    stars = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    thanked_at = models.DateTimeField(_("评价时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="community__code", org_field="taken_by_unit")

    class Meta:
        verbose_name = _("微心愿")
        verbose_name_plural = _("微心愿")
        ordering = ["-ordered_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="volunteers_wish_value_positive",
                                   violation_error_message=_("心愿价值必须大于 0。")),
            models.CheckConstraint(condition=Q(stars__isnull=True) | (Q(stars__gte=1) & Q(stars__lte=5)),
                                   name="volunteers_wish_stars_range", violation_error_message=_("评分应为 1 到 5 星。")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"


class PointEntry(models.Model):
    """积分: one line of a member's points ledger, written when hours are verified or a wish is
    completed, with the policy rule version in force then (so later rule changes do not
    rewrite the past)."""

    person = models.ForeignKey("orgs.Person", on_delete=models.PROTECT, related_name="volunteer_points",
                               verbose_name=_("党员"))
    source = models.CharField(_("来源"), max_length=16, choices=PointSource.choices)
    source_id = models.PositiveBigIntegerField(_("来源编号"))
    points = models.DecimalField(_("积分"), max_digits=8, decimal_places=1)
    earned_on = models.DateField(_("获得日期"))
    rule_version = models.CharField(_("规则版本"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="person__home_area__code", org_field="person__work_unit")

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        ordering = ["-earned_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "source", "source_id"], name="volunteers_points_once",
                                    violation_error_message=_("这项服务已经计过积分。")),
        ]

    def __str__(self):
        return f"{self.person} {self.points}"


class FeedbackBatch(models.Model):
    """反馈到单位: a work unit's batch of quarterly service cards or yearly letters, one per member,
    as one PDF and one xlsx, generated from the records."""

    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="feedback_batches",
                             verbose_name=_("工作单位"))
    kind = models.CharField(_("类型"), max_length=16, choices=FeedbackKind.choices)
    period = models.CharField(_("期间"), max_length=8)  # "2026Q3" or "2026"
    members = models.PositiveIntegerField(_("党员人数"), default=0)
    unregistered = models.PositiveIntegerField(_("未报到人数"), default=0)
    pdf = models.FileField(_("PDF"), upload_to="volunteers/feedback/%Y/")
    xlsx = models.FileField(_("Excel"), upload_to="volunteers/feedback/%Y/")
    pdf_sha256 = models.CharField(_("PDF 摘要"), max_length=64)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("生成人"))
    generated_at = models.DateTimeField(_("生成时间"))

    objects = ScopedManager(scope_field="unit__area__code", org_field="unit")

    class Meta:
        verbose_name = _("单位反馈批次")
        verbose_name_plural = _("单位反馈批次")
        ordering = ["-generated_at", "-id"]

    def __str__(self):
        return f"{self.unit} {self.period}"
