"""Dispatch (接诉即办, 街乡吹哨、部门报到): the request, its handling and its measures.

Tables that grow with requests carry the district (`district`) so that they
can be partitioned or distributed by district when one primary is not enough.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.crypto import EncryptedTextField, mask_phone
from zhouxin.core.scoping import ScopedManager
from zhouxin.orgs.choices import OrgKind

from .choices import (
    AssignmentRole,
    AssignmentStatus,
    Channel,
    EventAction,
    ExtensionStatus,
    RequestKind,
    Resolution,
    Satisfaction,
    SlaClass,
    Status,
    Urgency,
    WhistleStatus,
)


class Category(models.Model):
    """The dispatch catalogue: three levels; leaves carry an SLA class and a default handler kind."""

    code = models.CharField(_("编码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
                               verbose_name=_("上级类别"))
    level = models.PositiveSmallIntegerField(_("层级"))
    sla_class = models.CharField(_("时限类别"), max_length=16, choices=SlaClass.choices, blank=True)
    default_org_kind = models.CharField(_("默认承办组织类型"), max_length=32, choices=OrgKind.choices, blank=True)
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("用空格或逗号分隔，用于分类建议的冷启动。"))
    pinyin_initials = models.CharField(_("拼音首字母"), max_length=64, blank=True, db_index=True)
    is_active = models.BooleanField(_("启用"), default=True)
    # Who last set this item: the bundled catalogue (seed_catalogue keeps it up to date) or an
    # administrator (seed_catalogue then leaves it as the administrator set it).
    SOURCE_SEED = "seed"
    SOURCE_ADMIN = "admin"
    source = models.CharField(_("来源"), max_length=8, default=SOURCE_ADMIN,
                              choices=[(SOURCE_SEED, _("内置目录")), (SOURCE_ADMIN, _("管理员维护"))])

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="category_level_1_to_3",
                                   violation_error_message=_("类别层级只能是 1 到 3。")),
        ]

    def __str__(self):
        return self.name


class RoutingRule(models.Model):
    """Category × area → organisation.  The most specific rule wins (deepest category, then
    longest area code); with no rule the street hub dispatches by hand."""

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="routing_rules",
                                 verbose_name=_("类别"))
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="routing_rules",
                             verbose_name=_("区域"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="routing_rules",
                                     verbose_name=_("承办组织"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        constraints = [
            models.UniqueConstraint(fields=["category", "area"], name="routing_rule_unique",
                                    violation_error_message=_("该类别在该区域已有派单规则。")),
        ]

    def __str__(self):
        return f"{self.category} @ {self.area} → {self.organisation}"


class ServiceRequest(models.Model):
    """A resident's request (诉求) from any channel, from intake to close."""

    number = models.CharField(_("工单号"), max_length=20, unique=True)
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    # street, category, lead_org and status lead a composite index each (Meta.indexes), which serves
    # their own look-ups as well: no single-column index of their own, fewer for every intake
    # to write (docs/performance.md, "Request intake").
    street = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"),
                               db_index=False)
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="service_requests",
                             verbose_name=_("发生地"))
    kind = models.CharField(_("诉求类型"), max_length=16, choices=RequestKind.choices)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="requests", verbose_name=_("类别"), db_index=False)
    category_confirmed = models.BooleanField(_("类别已确认"), default=False)
    suggestions = models.JSONField(_("类别建议"), default=list, blank=True)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("诉求内容"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=64, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True)
    contact_phone_index = models.CharField(max_length=64, blank=True, editable=False)  # Meta.indexes
    requester = models.ForeignKey("orgs.Person", on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="service_requests", verbose_name=_("诉求人"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    hold_reason = models.CharField(_("暂缓原因"), max_length=200, blank=True)
    lead_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="led_requests", verbose_name=_("主办单位"), db_index=False)
    master = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged",
                               verbose_name=_("合并至"))
    idempotency_key = models.CharField(_("幂等键"), max_length=64, null=True, blank=True, editable=False)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("首接人"))
    received_at = models.DateTimeField(_("受理时间"), db_index=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    contacted_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    callback_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    contact_due_at = models.DateTimeField(_("联系时限"), null=True, blank=True)
    # Set once by the SLA sweep when the contact deadline passed with nobody having called
    # (the compare-and-set target: the request then counts as due in the response rate,
    # event "contact_overdue", whether or not it is ever contacted).
    contact_overdue_at = models.DateTimeField(_("联系超时标记时间"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结时限"), null=True, blank=True, db_index=True)
    deadline_provisional = models.BooleanField(_("时限暂定"), default=False)
    # When the yellow light comes on (warn_ratio of the clock run), stored so that the SLA
    # sweep finds due warnings with an index instead of computing it per open request.
    warn_due_at = models.DateTimeField(_("预警时点"), null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("超时上报时间"), null=True, blank=True)
    supervised = models.BooleanField(_("督办"), default=False)
    # Set when intake ran deferred (settings.DISPATCH_INTAKE_DEFERRED): the row and its number
    # are stored, routing, deadlines, events and roll-ups are still to be done by the intake
    # worker (services.complete_pending_intakes).  No clerk action may start before.  A database
    # default too, so bulk loads that write their own column lists (COPY, INSERT … SELECT) need not know it.
    intake_pending = models.BooleanField(_("自动分派中"), default=False, db_default=False, editable=False)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    resolution = models.CharField(_("解决情况"), max_length=16, choices=Resolution.choices, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=16, choices=Satisfaction.choices, blank=True)
    reply = models.TextField(_("答复内容"), blank=True)
    invalid_reason = models.CharField(_("无效原因"), max_length=200, blank=True)
    # Set when the requester's personal data was deleted at their request (PIPL art. 47): the
    # contact fields, address and coordinates are cleared, the request itself is kept.
    anonymised_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Staff reach requests in their area subtree; departments and units reach
    # the requests assigned to them (lead or co-handler).
    # The district and street are stored at intake (code[:6], code[:9]) and never change, so a
    # district or street grant reads them by id (an index) rather than by code prefix.
    objects = ScopedManager(scope_field="area__code", org_field="assignments__organisation_id",
                            id_fields={6: "district_id", 9: "street_id"})

    class Meta:
        verbose_name = _("诉求工单")
        verbose_name_plural = _("诉求工单")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "resolve_due_at"], name="request_status_due"),
            models.Index(fields=["street", "received_at"], name="request_street_received"),
            models.Index(fields=["lead_org", "status"], name="request_lead_status"),
            models.Index(fields=["category", "area", "received_at"], name="request_duplicate_probe"),
            # The phone's blind index is only ever compared for equality: no LIKE index beside it.
            models.Index(fields=["contact_phone_index"], name="request_phone_index"),
            # The sweep's probe for requests past their contact deadline nobody has called yet.
            models.Index(fields=["contact_due_at"], name="request_contact_overdue_probe",
                         condition=Q(contacted_at__isnull=True, contact_overdue_at__isnull=True)),
            # The intake worker's queue: only the few rows received and not yet routed.
            models.Index(fields=["id"], name="request_intake_pending", condition=Q(intake_pending=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], condition=Q(idempotency_key__isnull=False),
                                    name="request_idempotency_key_unique"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)


class NumberCounter(models.Model):
    """Daily sequences for readable numbers (工单号, 哨号): one row per series and day,
    advanced by an atomic upsert (numbering.py), so two intakes never draw the same number."""

    series = models.CharField(_("序列"), max_length=16)
    day = models.DateField(_("日期"))
    value = models.PositiveIntegerField(_("当前序号"), default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")
        constraints = [models.UniqueConstraint(fields=["series", "day"], name="number_counter_unique")]

    def __str__(self):
        return f"{self.series} {self.day} {self.value}"


class Assignment(models.Model):
    """An organisation's part in handling a request: lead (主办) or co-handler (协办)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="assignments",
                                verbose_name=_("工单"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="assignments",
                                     verbose_name=_("承办单位"))
    role = models.CharField(_("角色"), max_length=8, choices=AssignmentRole.choices)
    status = models.CharField(_("状态"), max_length=16, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.PENDING)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("派单人"))
    assigned_at = models.DateTimeField(_("派单时间"))
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    return_reason = models.CharField(_("退单理由"), max_length=300, blank=True)
    note = models.TextField(_("办理意见"), blank=True)

    class Meta:
        verbose_name = _("承办记录")
        verbose_name_plural = _("承办记录")
        ordering = ["request", "-role", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=Q(role=AssignmentRole.LEAD) & ~Q(status__in=["returned", "withdrawn"]),
                name="assignment_one_active_lead",
                violation_error_message=_("一张工单同时只能有一个主办单位。"),
            ),
        ]

    def __str__(self):
        return f"{self.request_id} {self.get_role_display()} {self.organisation_id}"


class RequestEvent(models.Model):
    """The request's timeline: every transition, with who, when and why."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events",
                                verbose_name=_("工单"))
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("操作人"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("单位"))
    action = models.CharField(_("动作"), max_length=32, choices=EventAction.choices)
    from_status = models.CharField(_("原状态"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=Status.choices, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("工单动态")
        verbose_name_plural = _("工单动态")
        ordering = ["request", "at", "id"]

    def __str__(self):
        return f"{self.request_id} {self.action}"


class Extension(models.Model):
    """A request for more time (延期), approved or refused by the street."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="extensions",
                                verbose_name=_("工单"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("申请单位"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("申请人"))
    requested_at = models.DateTimeField(_("申请时间"))
    working_days = models.PositiveSmallIntegerField(_("延长工作日"))
    reason = models.CharField(_("延期理由"), max_length=300)
    status = models.CharField(_("状态"), max_length=16, choices=ExtensionStatus.choices,
                              default=ExtensionStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)
    new_resolve_due_at = models.DateTimeField(_("新办结时限"), null=True, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["request"], condition=Q(status="pending"),
                                    name="extension_one_pending",
                                    violation_error_message=_("该工单已有待审批的延期申请。")),
        ]

    def __str__(self):
        return f"{self.request_id} +{self.working_days}"


class Attachment(models.Model):
    """An image attached to a request, checked by content and size at intake."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="attachments",
                                verbose_name=_("工单"))
    file = models.FileField(_("文件"), upload_to="dispatch/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("摘要"), max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self):
        return self.original_name


class Whistle(models.Model):
    """吹哨: the street summons departments to a request or a local problem, until it is solved."""

    number = models.CharField(_("哨号"), max_length=20, unique=True)
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    street = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="whistles",
                               verbose_name=_("街道"))
    request = models.ForeignKey(ServiceRequest, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="whistles", verbose_name=_("关联工单"))
    title = models.CharField(_("问题"), max_length=120)
    description = models.TextField(_("情况说明"))
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("状态"), max_length=16, choices=WhistleStatus.choices, default=WhistleStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("吹哨人"))
    opened_at = models.DateTimeField(_("吹哨时间"))
    solved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    solution = models.TextField(_("解决情况"), blank=True)

    objects = ScopedManager(scope_field="street__code", org_field="summons__department_id")

    class Meta:
        verbose_name = _("吹哨")
        verbose_name_plural = _("吹哨")
        ordering = ["-opened_at"]

    def __str__(self):
        return f"{self.number} {self.title}"


class Summons(models.Model):
    """A department summoned by a whistle: it must report (报到) by its deadline; the street rates it."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="summons", verbose_name=_("吹哨"))
    department = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="summons",
                                   verbose_name=_("报到部门"))
    report_due_at = models.DateTimeField(_("报到时限"))
    reported_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("报到人"))
    report_note = models.TextField(_("报到情况"), blank=True)
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    rating_note = models.CharField(_("评价说明"), max_length=300, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("评价人"))
    # Set once by the whistle sweep when the deadline passed without a report (the
    # compare-and-set target that keeps two sweepers from flagging it twice).
    overdue_at = models.DateTimeField(_("超时标记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("报到")
        verbose_name_plural = _("报到")
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="summons_once_per_department",
                                    violation_error_message=_("该部门已被召集。")),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                                   name="summons_rating_1_to_5",
                                   violation_error_message=_("评价只能是 1 到 5 分。")),
        ]

    def __str__(self):
        return f"{self.whistle_id} {self.department_id}"


class Rollup(models.Model):
    """Monthly counters per street, community or handling organisation, kept in the same
    transaction as each transition so that rates and rankings never scan raw requests.
    The month is the month the request was received."""

    month = models.DateField(_("月份"))
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("街道或社区"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("承办单位"))
    received = models.PositiveIntegerField(_("受理量"), default=0)
    invalid = models.PositiveIntegerField(_("无效量"), default=0)
    response_due = models.PositiveIntegerField(_("应联系量"), default=0)
    responded_in_time = models.PositiveIntegerField(_("按时联系量"), default=0)
    callbacks = models.PositiveIntegerField(_("回访量"), default=0)
    resolved = models.PositiveIntegerField(_("解决量"), default=0)
    partly = models.PositiveIntegerField(_("部分解决量"), default=0)
    evaluated = models.PositiveIntegerField(_("评价量"), default=0)
    satisfied = models.PositiveIntegerField(_("满意量"), default=0)
    basic = models.PositiveIntegerField(_("基本满意量"), default=0)
    returned = models.PositiveIntegerField(_("退单量"), default=0)
    overdue = models.PositiveIntegerField(_("超时量"), default=0)
    reopened = models.PositiveIntegerField(_("重办量"), default=0)
    closed = models.PositiveIntegerField(_("办结量"), default=0)

    objects = ScopedManager(scope_field="district__code")

    class Meta:
        verbose_name = _("月度统计")
        verbose_name_plural = _("月度统计")
        constraints = [
            models.CheckConstraint(
                condition=(Q(area__isnull=False) & Q(organisation__isnull=True))
                | (Q(area__isnull=True) & Q(organisation__isnull=False)),
                name="rollup_one_subject",
                violation_error_message=_("统计对象必须是一个区域或一个单位。"),
            ),
            models.UniqueConstraint(fields=["month", "area"], condition=Q(area__isnull=False),
                                    name="rollup_unique_area_month"),
            models.UniqueConstraint(fields=["month", "organisation"], condition=Q(organisation__isnull=False),
                                    name="rollup_unique_org_month"),
        ]
        indexes = [models.Index(fields=["month", "area"], name="rollup_month_area"),
                   models.Index(fields=["month", "organisation"], name="rollup_month_org")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.area_id or self.organisation_id}"


class CategoryRollup(models.Model):
    """Monthly request volume per street and top-level category (breakdowns, 每月一题 before/after)."""

    month = models.DateField(_("月份"))
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    street = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("类别"))
    received = models.PositiveIntegerField(_("受理量"), default=0)

    objects = ScopedManager(scope_field="district__code")

    class Meta:
        verbose_name = _("类别月度统计")
        verbose_name_plural = _("类别月度统计")
        constraints = [models.UniqueConstraint(fields=["month", "street", "category"],
                                               name="category_rollup_unique")]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.street_id} {self.category_id}"


class MonthlyTheme(models.Model):
    """每月一题: a category chosen for focused work in a month, with volume before and after."""

    month = models.DateField(_("月份"))
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", verbose_name=_("类别"))
    title = models.CharField(_("主题"), max_length=120)
    note = models.TextField(_("说明"), blank=True)

    objects = ScopedManager(scope_field="district__code")

    class Meta:
        verbose_name = _("每月一题")
        verbose_name_plural = _("每月一题")
        constraints = [models.UniqueConstraint(fields=["district", "month", "category"], name="theme_unique")]

    def __str__(self):
        return self.title
