"""Community workers (社区工作者职业体系, 三岗十八级): the roster, posts held, yearly assessments,
promotion runs and monthly payroll runs.  Grades and pay are computed by payrules.py from
these facts and the pay rule in force; runs keep what was computed with its explanation."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.scoping import ScopedManager

from .choices import AssessmentGrade, Certificate, Education, PostType, RunStatus, WorkerStatus


class ValuesJSONField(models.JSONField):
    """A JSONField bulk-inserted with VALUES rows rather than PostgreSQL's UNNEST of arrays: psycopg
    escapes every quote of every document inside a jsonb[] array literal, which made writing
    10,000 explained payslips take seconds.  A field with get_placeholder opts out of UNNEST."""

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class Worker(models.Model):
    """A community worker: the person (orgs.Person: name, phone, identity — masked as everywhere)
    and the facts pay depends on.  A worker signs in as the person's user to see their own pay."""

    person = models.OneToOneField("orgs.Person", on_delete=models.PROTECT, related_name="worker",
                                  verbose_name=_("人员"))
    community = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="workers",
                                  verbose_name=_("所在社区"))
    hire_date = models.DateField(_("入职日期"))
    education = models.CharField(_("学历"), max_length=16, choices=Education.choices, default=Education.COLLEGE)
    has_diploma = models.BooleanField(_("有学历证书"), default=True)
    has_degree = models.BooleanField(_("有学位证书"), default=True)
    certificate = models.CharField(_("社会工作者职业资格"), max_length=16, choices=Certificate.choices, blank=True)
    training_hours = models.DecimalField(_("本年培训学时"), max_digits=6, decimal_places=1, default=0)
    entry_grade = models.PositiveSmallIntegerField(_("入职定级"), null=True, blank=True)
    early_promotions_used = models.PositiveSmallIntegerField(_("已提前晋级次数"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=WorkerStatus.choices, default=WorkerStatus.ACTIVE)
    left_on = models.DateField(_("离岗日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="community__code")

    class Meta:
        verbose_name = _("社区工作者")
        verbose_name_plural = _("社区工作者")
        ordering = ["community__code", "person__name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(entry_grade__isnull=True) | (Q(entry_grade__gte=1)
                                                                           & Q(entry_grade__lte=18)),
                                   name="workforce_entry_grade_range",
                                   violation_error_message=_("入职定级应为 1 到 18 级。")),
        ]

    def __str__(self):
        return str(self.person)


class PostHolding(models.Model):
    """任职: a post held from a day to a day (several at once are paid once, at the highest)."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="posts", verbose_name=_("社区工作者"))
    post_type = models.CharField(_("岗位类别"), max_length=8, choices=PostType.choices)
    title = models.CharField(_("职务"), max_length=40)
    started_on = models.DateField(_("任职日期"))
    ended_on = models.DateField(_("免职日期"), null=True, blank=True)

    objects = ScopedManager(scope_field="worker__community__code")

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        ordering = ["started_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                                   name="workforce_post_dates_ordered",
                                   violation_error_message=_("免职日期不能早于任职日期。")),
        ]

    def __str__(self):
        return f"{self.worker} {self.title}"


class Assessment(models.Model):
    """年度考核: one grade per worker and year, within the city's quota limits."""

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="assessments",
                               verbose_name=_("社区工作者"))
    year = models.PositiveSmallIntegerField(_("年度"))
    grade = models.CharField(_("考核等次"), max_length=8, choices=AssessmentGrade.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("评定人"))
    decided_at = models.DateTimeField(_("评定时间"))

    objects = ScopedManager(scope_field="worker__community__code")

    class Meta:
        verbose_name = _("年度考核")
        verbose_name_plural = _("年度考核")
        ordering = ["-year", "id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "year"], name="workforce_one_assessment_a_year",
                                    violation_error_message=_("该工作者本年度已有考核结果。")),
        ]

    def __str__(self):
        return f"{self.worker} {self.year} {self.grade}"


class PromotionRun(models.Model):
    """晋级: the yearly run for an area, effective 1 January of `year`; each worker's result with
    the engine's explanation."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    year = models.PositiveSmallIntegerField(_("生效年度"))
    status = models.CharField(_("状态"), max_length=16, choices=RunStatus.choices, default=RunStatus.DRAFT)
    workers = models.PositiveIntegerField(_("人数"), default=0)
    promoted = models.PositiveIntegerField(_("晋级人数"), default=0)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("执行人"))
    run_at = models.DateTimeField(_("执行时间"))

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("晋级批次")
        verbose_name_plural = _("晋级批次")
        ordering = ["-year", "-run_at", "-id"]

    def __str__(self):
        return f"{self.area} {self.year}"


class PromotionResult(models.Model):
    run = models.ForeignKey(PromotionRun, on_delete=models.CASCADE, related_name="results", verbose_name=_("晋级批次"))
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="promotions", verbose_name=_("社区工作者"))
    grade_before = models.PositiveSmallIntegerField(_("原等级"), null=True, blank=True)
    grade_after = models.PositiveSmallIntegerField(_("新等级"), null=True, blank=True)
    explanation = ValuesJSONField(_("说明"), default=list)

    objects = ScopedManager(scope_field="worker__community__code")

    class Meta:
        verbose_name = _("晋级结果")
        verbose_name_plural = _("晋级结果")
        ordering = ["run", "worker"]
        constraints = [
            models.UniqueConstraint(fields=["run", "worker"], name="workforce_one_result_per_run"),
        ]

    def __str__(self):
        return f"{self.worker} {self.grade_before}→{self.grade_after}"


class PayrollRun(models.Model):
    """月度工资: one month's payroll for an area, every payslip explained line by line."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    year = models.PositiveSmallIntegerField(_("年"))
    month = models.PositiveSmallIntegerField(_("月"))
    status = models.CharField(_("状态"), max_length=16, choices=RunStatus.choices, default=RunStatus.DRAFT)
    workers = models.PositiveIntegerField(_("人数"), default=0)
    total = models.DecimalField(_("应发合计（元）"), max_digits=14, decimal_places=2, default=0)
    run_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("执行人"))
    run_at = models.DateTimeField(_("执行时间"))

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("工资批次")
        verbose_name_plural = _("工资批次")
        ordering = ["-year", "-month", "-run_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="workforce_payroll_month",
                                   violation_error_message=_("月份应为 1 到 12。")),
        ]

    def __str__(self):
        return f"{self.area} {self.year}-{self.month:02d}"


class Payslip(models.Model):
    run = models.ForeignKey(PayrollRun, on_delete=models.CASCADE, related_name="payslips", verbose_name=_("工资批次"))
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="payslips", verbose_name=_("社区工作者"))
    grade = models.PositiveSmallIntegerField(_("等级"), null=True, blank=True)
    post_title = models.CharField(_("计酬岗位"), max_length=40, blank=True)
    total = models.DecimalField(_("应发（元）"), max_digits=12, decimal_places=2)
    # [{"label", "amount", "explanation"}], amounts as strings; total == their sum.
    lines = ValuesJSONField(_("工资明细"), default=list)
    grade_explanation = ValuesJSONField(_("定级说明"), default=list)

    objects = ScopedManager(scope_field="worker__community__code")

    class Meta:
        verbose_name = _("工资条")
        verbose_name_plural = _("工资条")
        ordering = ["run", "worker"]
        constraints = [
            models.UniqueConstraint(fields=["run", "worker"], name="workforce_one_payslip_per_run"),
        ]

    def __str__(self):
        return f"{self.worker} {self.total}"
