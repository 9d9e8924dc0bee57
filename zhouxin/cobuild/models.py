"""Co-building (区域化党建, 共驻共建): the three lists — needs, resources, projects — and claims.

Needs belong to a community (or a street) and are reached by the area tree.  Resources
belong to a resident unit (驻区单位) and are reached by its liaisons through their
organisation grant and by staff of the area where the resource sits.  A claim ties a need
to a resource: a unit offering it (单位认领) or a community asking for it (社区申请);
a need has at most one live claim, enforced by a partial unique index, so two units
claiming the same need at once cannot both win.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.scoping import ScopedManager

from .choices import (
    LIVE_CLAIM_STATUSES,
    ClaimDirection,
    ClaimStatus,
    NeedCategory,
    NeedSource,
    NeedStatus,
    ProjectStatus,
    ResourceKind,
    ServiceRadius,
)


class Need(models.Model):
    """需求清单: what a community (or street) needs from the units around it."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="cobuild_needs",
                             verbose_name=_("所属社区或街道"))
    title = models.CharField(_("需求名称"), max_length=120)
    description = models.TextField(_("需求说明"), blank=True)
    category = models.CharField(_("类别"), max_length=24, choices=NeedCategory.choices)
    beneficiaries = models.CharField(_("服务对象"), max_length=200, blank=True)
    beneficiary_count = models.PositiveIntegerField(_("受益人数"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("需要的数量"), null=True, blank=True)
    quantity_unit = models.CharField(_("数量单位"), max_length=16, blank=True)
    wanted_from = models.DateField(_("希望开始日期"), null=True, blank=True)
    wanted_until = models.DateField(_("希望结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.OPEN,
                              db_index=True)
    source = models.CharField(_("来源"), max_length=16, choices=NeedSource.choices, default=NeedSource.POSTED)
    # Where a promoted need came from: the dispatch category code, or the micro-wish id.
    source_ref = models.CharField(_("来源编号"), max_length=40, blank=True)
    terms = models.TextField(_("检索词"), blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("发布人"))
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("共建需求")
        verbose_name_plural = _("共建需求")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["category", "status"], name="cobuild_need_category_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(wanted_until__isnull=True) | Q(wanted_from__isnull=True)
                | Q(wanted_until__gte=F("wanted_from")),
                name="cobuild_need_dates_ordered", violation_error_message=_("结束日期不能早于开始日期。")),
        ]

    def __str__(self):
        return self.title


class Resource(models.Model):
    """资源清单: what a resident unit offers — a venue, volunteers, expertise, funds or goods."""

    owner = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="cobuild_resources",
                              verbose_name=_("提供单位"))
    kind = models.CharField(_("资源类型"), max_length=16, choices=ResourceKind.choices)
    category = models.CharField(_("服务类别"), max_length=24, choices=NeedCategory.choices)
    title = models.CharField(_("资源名称"), max_length=120)
    description = models.TextField(_("资源说明"), blank=True)
    capacity = models.PositiveIntegerField(_("可提供数量"))
    capacity_unit = models.CharField(_("数量单位"), max_length=16)
    committed = models.PositiveIntegerField(_("已承诺数量"), default=0)
    available_from = models.DateField(_("可用开始日期"))
    available_until = models.DateField(_("可用结束日期"), null=True, blank=True)
    radius = models.CharField(_("服务范围"), max_length=16, choices=ServiceRadius.choices,
                              default=ServiceRadius.STREET)
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="cobuild_resources",
                             verbose_name=_("所在区域"))
    # The location's code, copied from `area` by the services: matching filters 50,000
    # resources by code prefix with an index, without joining the area table.
    area_code = models.CharField(_("区划代码"), max_length=15, editable=False)
    is_active = models.BooleanField(_("可用"), default=True)
    terms = models.TextField(_("检索词"), blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("登记人"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Staff reach the resources located in their area; a unit's liaisons reach their unit's.
    objects = ScopedManager(scope_field="area_code", org_field="owner")

    class Meta:
        verbose_name = _("共建资源")
        verbose_name_plural = _("共建资源")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The matching prefilter: category (or kind), then the district's code prefix.
            models.Index(fields=["category", "area_code"], name="cobuild_res_category_area",
                         condition=Q(is_active=True)),
            models.Index(fields=["kind", "area_code"], name="cobuild_res_kind_area", condition=Q(is_active=True)),
            models.Index(fields=["owner", "is_active"], name="cobuild_res_owner"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(committed__lte=F("capacity")), name="cobuild_resource_not_overcommitted",
                                   violation_error_message=_("已承诺数量不能超过可提供数量。")),
            models.CheckConstraint(condition=Q(capacity__gt=0), name="cobuild_resource_capacity_positive",
                                   violation_error_message=_("可提供数量必须大于 0。")),
            models.CheckConstraint(
                condition=Q(available_until__isnull=True) | Q(available_until__gte=F("available_from")),
                name="cobuild_resource_dates_ordered", violation_error_message=_("结束日期不能早于开始日期。")),
        ]

    def __str__(self):
        return self.title

    @property
    def available(self) -> int:
        return self.capacity - self.committed


class Claim(models.Model):
    """双向认领: a unit offers a resource for a need, or a community asks a unit for one."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="claims", verbose_name=_("需求"))
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="claims", verbose_name=_("资源"))
    unit = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="cobuild_claims",
                             verbose_name=_("共建单位"))
    direction = models.CharField(_("发起方向"), max_length=16, choices=ClaimDirection.choices)
    quantity = models.PositiveIntegerField(_("承诺数量"))
    note = models.CharField(_("说明"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("发起人"))
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("确认人"))
    decided_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    decision_note = models.CharField(_("确认意见"), max_length=300, blank=True)

    # Staff reach the claims on needs of their area; liaisons the claims of their unit.
    objects = ScopedManager(scope_field="need__area__code", org_field="unit")

    class Meta:
        verbose_name = _("认领")
        verbose_name_plural = _("认领")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["need"], condition=Q(status__in=LIVE_CLAIM_STATUSES),
                                    name="cobuild_one_live_claim_per_need",
                                    violation_error_message=_("该需求已有单位认领。")),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cobuild_claim_quantity_positive",
                                   violation_error_message=_("承诺数量必须大于 0。")),
        ]

    def __str__(self):
        return f"{self.unit} → {self.need}"


class Project(models.Model):
    """项目清单: a co-building project started from a confirmed claim: its parties, the generated
    co-building agreement (共建协议) and its signed copy, milestones, service records (who
    benefited, volunteer hours), evidence, residents' ratings and, once published, a public page."""

    title = models.CharField(_("项目名称"), max_length=120)
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="cobuild_projects",
                             verbose_name=_("实施区域"))
    need = models.ForeignKey(Need, on_delete=models.PROTECT, null=True, blank=True, related_name="projects",
                             verbose_name=_("需求"))
    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="project",
                                 verbose_name=_("认领"))
    parties = models.ManyToManyField("orgs.Organisation", related_name="cobuild_projects", verbose_name=_("共建各方"))
    resources = models.ManyToManyField(Resource, related_name="projects", blank=True, verbose_name=_("投入资源"))
    budget = models.DecimalField(_("预算（元）"), max_digits=14, decimal_places=2, default=0)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED)
    # Average residents' rating (1–5) once ratings exist; feeds the unit's record in matching.
    rating_average = models.DecimalField(_("居民评价均分"), max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(_("居民评价数"), default=0)
    summary = models.TextField(_("项目内容"), blank=True)
    # The agreement is generated from the data (documents.py) and kept as issued: its number,
    # the PDF and its SHA-256, so the signed copy can be compared with what was issued.
    agreement_number = models.CharField(_("协议编号"), max_length=40, blank=True)
    agreement_file = models.FileField(_("共建协议"), upload_to="cobuild/agreements/%Y/", blank=True)
    agreement_sha256 = models.CharField(_("协议摘要"), max_length=64, blank=True)
    agreement_issued_at = models.DateTimeField(_("协议生成时间"), null=True, blank=True)
    signed_copy = models.FileField(_("签署文本"), upload_to="cobuild/signed/%Y/", blank=True)
    signed_copy_sha256 = models.CharField(_("签署文本摘要"), max_length=64, blank=True)
    signed_uploaded_at = models.DateTimeField(_("签署文本上传时间"), null=True, blank=True)
    signed_uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="+", verbose_name=_("签署文本上传人"))
    # Set when the street or community publishes the project on the portal (public page, ratings).
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True, db_index=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code", org_field="parties__id")

    class Meta:
        verbose_name = _("共建项目")
        verbose_name_plural = _("共建项目")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="cobuild_project_budget_not_negative",
                                   violation_error_message=_("预算不能为负数。")),
            models.CheckConstraint(condition=Q(ends_on__isnull=True) | Q(starts_on__isnull=True)
                                   | Q(ends_on__gte=F("starts_on")),
                                   name="cobuild_project_dates_ordered",
                                   violation_error_message=_("结束日期不能早于开始日期。")),
        ]

    def __str__(self):
        return self.title


class Milestone(models.Model):
    """A project's milestone (节点): what is due when, and when it was reached."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones",
                                verbose_name=_("项目"))
    title = models.CharField(_("节点名称"), max_length=120)
    due_on = models.DateField(_("计划完成日期"))
    done_on = models.DateField(_("实际完成日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("确认人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["due_on", "id"]

    def __str__(self):
        return self.title


class ServiceRecord(models.Model):
    """服务记录: one delivery of a project — whom it served (a group and a head count, never a
    resident's name), how many volunteers for how many hours.  The beneficiaries, hours and
    dashboard figures are sums of these."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="records",
                                verbose_name=_("项目"))
    held_on = models.DateField(_("服务日期"))
    title = models.CharField(_("服务内容"), max_length=120)
    beneficiary_group = models.CharField(_("服务对象"), max_length=60, blank=True)
    beneficiaries = models.PositiveIntegerField(_("受益人次"), default=0)
    volunteers = models.PositiveIntegerField(_("参与志愿者人数"), default=0)
    volunteer_hours = models.DecimalField(_("志愿服务时长（小时）"), max_digits=8, decimal_places=1, default=0)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("记录人"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["held_on"], name="cobuild_record_held_on")]
        constraints = [
            models.CheckConstraint(condition=Q(volunteer_hours__gte=0), name="cobuild_record_hours_not_negative",
                                   violation_error_message=_("服务时长不能为负数。")),
        ]

    def __str__(self):
        return f"{self.held_on} {self.title}"


class Evidence(models.Model):
    """Completion evidence (佐证材料): a photo or PDF, optionally for a milestone or a service record,
    checked by content and size like every upload."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="evidence",
                                verbose_name=_("项目"))
    milestone = models.ForeignKey(Milestone, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="evidence", verbose_name=_("项目节点"))
    record = models.ForeignKey(ServiceRecord, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="evidence", verbose_name=_("服务记录"))
    file = models.FileField(_("文件"), upload_to="cobuild/evidence/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("摘要"), max_length=64)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return self.caption or self.original_name


class Rating(models.Model):
    """A resident's rating of a published project: 1–5 stars and an optional comment, screened
    like every public text; a held comment stays hidden until a moderator releases it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ratings",
                                verbose_name=_("项目"))
    account = models.ForeignKey("portal.ResidentAccount", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("居民账号"))
    stars = models.PositiveSmallIntegerField(_("评分"))
    comment = models.CharField(_("评价"), max_length=300, blank=True)
    comment_visible = models.BooleanField(_("评价公开"), default=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("居民评价")
        verbose_name_plural = _("居民评价")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "account"], name="cobuild_one_rating_per_resident",
                                    violation_error_message=_("您已评价过这个项目。")),
            models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="cobuild_rating_stars_range",
                                   violation_error_message=_("评分应为 1 到 5 星。")),
        ]

    def __str__(self):
        return f"{self.project} · {self.stars}"
