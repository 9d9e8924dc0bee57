"""Oversight (领导责任, 分类指导, 示范引领, 力戒形式主义): what leaders answer for and what the
platform says about how it went.  Every row belongs to an area (street or community, or the
district) and is read through its scope.  Figures are never typed here: ratings, reviews and
reports store the indicator values the platform computed (core.indicators), with the policy
version they were computed under."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhouxin.core.scoping import ScopedManager

from .choices import (
    CaseStatus,
    FlagStatus,
    ItemStatus,
    LeaderRole,
    MeetingKind,
    PeriodKind,
    ProblemSource,
    ProblemStatus,
    ReportStatus,
    ReviewGrade,
    ReviewStatus,
    SiteKind,
    SiteStatus,
)

USER = settings.AUTH_USER_MODEL


# --- 1. Responsibilities, key problems, topic meetings -----------------------------------------

class Responsibility(models.Model):
    """责任清单: what one leader role of one Party organisation answers for in a year."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("党组织"))
    year = models.PositiveSmallIntegerField(_("年度"))
    role = models.CharField(_("责任类别"), max_length=16, choices=LeaderRole.choices)
    holder = models.CharField(_("责任人"), max_length=64)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("责任清单")
        verbose_name_plural = _("责任清单")
        ordering = ["-year", "area__code", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "year", "role", "holder"],
                                    name="oversight_one_list_per_holder",
                                    violation_error_message=_("这位责任人本年度在该党组织已有同类责任清单。")),
        ]

    def __str__(self):
        return f"{self.organisation} {self.year} {self.get_role_display()} {self.holder}"


class ResponsibilityItem(models.Model):
    responsibility = models.ForeignKey(Responsibility, on_delete=models.CASCADE, related_name="items",
                                       verbose_name=_("责任清单"))
    text = models.CharField(_("责任事项"), max_length=300)
    due = models.DateField(_("完成时限"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.ONGOING)
    # What shows the item was done: a note and, where it exists, a link to the records.
    evidence = models.CharField(_("完成情况"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("序号"), default=0)

    objects = ScopedManager(scope_field="responsibility__area__code")

    class Meta:
        verbose_name = _("责任事项")
        verbose_name_plural = _("责任事项")
        ordering = ["responsibility", "position", "id"]

    def __str__(self):
        return self.text


class KeyProblem(models.Model):
    """重点难点问题: owned by a leader, led by one organisation with co-organisations, with a
    deadline, progress reports and closure (销号) on evidence, approved one level up."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("问题"), max_length=120)
    description = models.TextField(_("问题描述"), max_length=4000)
    source = models.CharField(_("来源"), max_length=16, choices=ProblemSource.choices, default=ProblemSource.OTHER)
    # The dispatch category behind a problem found in the requests (a code of the catalogue).
    category_code = models.CharField(_("诉求分类"), max_length=40, blank=True)
    owner = models.CharField(_("包联领导"), max_length=64)
    lead_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("牵头单位"))
    co_orgs = models.ManyToManyField("orgs.Organisation", blank=True, related_name="+", verbose_name=_("协办单位"))
    target = models.CharField(_("工作目标"), max_length=300)
    deadline = models.DateField(_("完成时限"))
    status = models.CharField(_("状态"), max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.OPEN)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    closure_note = models.TextField(_("销号说明"), max_length=2000, blank=True)
    closure_requested_at = models.DateTimeField(_("申请销号时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    closed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("销号审核人"))
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("重点难点问题")
        verbose_name_plural = _("重点难点问题")
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"], name="oversight_problem_due")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="oversight_problem_progress_range",
                                   violation_error_message=_("进度应在 0 到 100 之间。")),
        ]

    def __str__(self):
        return self.title


class ProblemUpdate(models.Model):
    """A progress report (or a closure request / decision) on a key problem: append only."""

    problem = models.ForeignKey(KeyProblem, on_delete=models.CASCADE, related_name="updates",
                                verbose_name=_("重点难点问题"))
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("填报人"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("填报单位"))
    kind = models.CharField(_("类型"), max_length=20, default="progress")  # progress | closure_request | closed | reopened
    note = models.TextField(_("进展情况"), max_length=2000)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)

    objects = ScopedManager(scope_field="problem__area__code")

    class Meta:
        verbose_name = _("问题进展")
        verbose_name_plural = _("问题进展")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.problem} {self.at:%Y-%m-%d}"


class ProblemEvidence(models.Model):
    """A file that shows the problem was solved (photo, PDF), checked by content like vouchers."""

    problem = models.ForeignKey(KeyProblem, on_delete=models.CASCADE, related_name="evidence",
                                verbose_name=_("重点难点问题"))
    update = models.ForeignKey(ProblemUpdate, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="evidence", verbose_name=_("进展"))
    file = models.FileField(_("文件"), upload_to="oversight/evidence/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=80)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("摘要"), max_length=64)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="problem__area__code")

    class Meta:
        verbose_name = _("销号佐证")
        verbose_name_plural = _("销号佐证")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


class TopicMeeting(models.Model):
    """专题会议: a meeting that took up key problems, with what it decided."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    kind = models.CharField(_("会议类型"), max_length=16, choices=MeetingKind.choices, default=MeetingKind.TOPIC)
    title = models.CharField(_("会议名称"), max_length=120)
    held_on = models.DateField(_("召开日期"))
    chair = models.CharField(_("主持人"), max_length=64)
    attendees = models.PositiveSmallIntegerField(_("参会人数"))
    decisions = models.TextField(_("议定事项"), max_length=4000)
    problems = models.ManyToManyField(KeyProblem, blank=True, related_name="meetings", verbose_name=_("研究的问题"))
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("记录人"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("专题会议")
        verbose_name_plural = _("专题会议")
        ordering = ["-held_on", "-id"]

    def __str__(self):
        return self.title


# --- 2. Secretaries' report and review (述职评议考核) ---------------------------------------------

class SecretaryReview(models.Model):
    """One secretary's yearly report and review.  `figures` is the snapshot of the platform's
    indicators for the area and year ([{name, title, unit, value, shown, link}]), taken when the
    review is opened and refreshed until the report is given; nobody types a figure."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道或社区"))
    year = models.PositiveSmallIntegerField(_("年度"))
    secretary = models.CharField(_("书记"), max_length=64)
    report = models.TextField(_("述职报告"), max_length=20000, blank=True)
    figures = models.JSONField(_("平台数据"), default=list, blank=True)
    figures_at = models.DateTimeField(_("数据提取时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    submitted_at = models.DateTimeField(_("述职时间"), null=True, blank=True)
    score = models.DecimalField(_("评议得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("等次"), max_length=16, choices=ReviewGrade.choices, blank=True)
    finalised_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("定等人"))
    finalised_at = models.DateTimeField(_("定等时间"), null=True, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("发起人"))
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("述职评议")
        verbose_name_plural = _("述职评议")
        ordering = ["-year", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="oversight_one_review_per_year",
                                    violation_error_message=_("该街道（社区）本年度已有述职评议。")),
        ]

    def __str__(self):
        return f"{self.area} {self.year} {self.secretary}"


class ReviewScore(models.Model):
    review = models.ForeignKey(SecretaryReview, on_delete=models.CASCADE, related_name="scores",
                               verbose_name=_("述职评议"))
    reviewer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("评议人"))
    score = models.DecimalField(_("评分"), max_digits=5, decimal_places=2)
    comment = models.CharField(_("评议意见"), max_length=500, blank=True)
    at = models.DateTimeField(_("评议时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="review__area__code")

    class Meta:
        verbose_name = _("评议评分")
        verbose_name_plural = _("评议评分")
        ordering = ["review", "at"]
        constraints = [
            models.UniqueConstraint(fields=["review", "reviewer"], name="oversight_one_score_per_reviewer",
                                    violation_error_message=_("您已对这份述职评过分。")),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="oversight_score_range",
                                   violation_error_message=_("评分应在 0 到 100 之间。")),
        ]

    def __str__(self):
        return f"{self.review} {self.score}"


# --- 3. Ratings and rectification -------------------------------------------------------------

class Rating(models.Model):
    """星级评定 of one community (or street) for one period, computed from the weighted
    indicators of the `oversight.rating` rule in force on the period's last day.
    `components` explains it: [{name, title, value, shown, points, weight, weighted, link}]."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道或社区"))
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    period = models.CharField(_("统计期"), max_length=8)   # core.indicators.Period.key
    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))
    community_type = models.CharField(_("社区类型"), max_length=24, blank=True)
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=2, null=True, blank=True)
    stars = models.PositiveSmallIntegerField(_("星级"), default=0)
    components = models.JSONField(_("指标构成"), default=list)
    rank = models.PositiveIntegerField(_("区内排名"), null=True, blank=True)
    rank_of = models.PositiveIntegerField(_("参评数"), default=0)
    peer_rank = models.PositiveIntegerField(_("同类排名"), null=True, blank=True)
    peer_count = models.PositiveIntegerField(_("同类数"), default=0)
    # The rule it was computed under: the newest city / national version in force (None: the defaults),
    # and the weights themselves, so an explanation never depends on re-reading the rule.
    policy_version = models.ForeignKey("core.PolicyVersion", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("规则版本"))
    weights = models.JSONField(_("权重"), default=dict)
    computed_at = models.DateTimeField(_("计算时间"))

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("星级评定")
        verbose_name_plural = _("星级评定")
        ordering = ["period", "rank", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["area", "period"], name="oversight_one_rating_per_period",
                                    violation_error_message=_("该统计期已有评定。")),
        ]
        indexes = [models.Index(fields=["district", "period"], name="oversight_rating_district")]

    def __str__(self):
        return f"{self.area} {self.period} {self.stars}★"


class Rectification(models.Model):
    """整改: an area flagged for rectification in a period, with the reasons the platform found
    ([{reason, text, figure, link}]), and what was done about it."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("街道或社区"))
    district = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区"))
    period = models.CharField(_("统计期"), max_length=8)
    reasons = models.JSONField(_("原因"), default=list)
    status = models.CharField(_("状态"), max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    plan = models.TextField(_("整改措施"), max_length=4000, blank=True)
    result = models.TextField(_("整改结果"), max_length=4000, blank=True)
    flagged_at = models.DateTimeField(_("列入时间"))
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    closed_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  verbose_name=_("验收人"))

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("整改")
        verbose_name_plural = _("整改")
        ordering = ["-period", "area__code"]
        constraints = [
            models.UniqueConstraint(fields=["area", "period"], name="oversight_one_flag_per_period",
                                    violation_error_message=_("该统计期已列入整改。")),
        ]

    def __str__(self):
        return f"{self.area} {self.period}"


# --- 4. Demonstration sites and the case library ------------------------------------------------

class DemoSite(models.Model):
    """示范点: nominated by the street (or community), decided by the district, against criteria;
    `criteria` is [{text, met, evidence, figure, link}] where the platform fills what it can."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("单位"))
    kind = models.CharField(_("类别"), max_length=16, choices=SiteKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=120)
    reason = models.TextField(_("推荐理由"), max_length=4000)
    criteria = models.JSONField(_("评选条件"), default=list)
    status = models.CharField(_("状态"), max_length=16, choices=SiteStatus.choices, default=SiteStatus.NOMINATED)
    nominated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("推荐人"))
    nominated_at = models.DateTimeField(_("推荐时间"), auto_now_add=True)
    decided_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("审定人"))
    decided_at = models.DateTimeField(_("审定时间"), null=True, blank=True)
    decision_note = models.CharField(_("审定意见"), max_length=500, blank=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("示范点")
        verbose_name_plural = _("示范点")
        ordering = ["-year", "area__code", "id"]

    def __str__(self):
        return self.title


class CaseStudy(models.Model):
    """案例库: a piece of good practice with tags and evidence (links to the platform's records
    and files), written by staff and published into the library by the street or district."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    site = models.ForeignKey(DemoSite, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases",
                             verbose_name=_("示范点"))
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(pgettext_lazy("case", "摘要"), max_length=300)
    body = models.TextField(_("正文"), max_length=50000)   # sanitised HTML (core.sanitize)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    evidence = models.JSONField(_("佐证"), default=list, blank=True)   # [{title, url}] links to records
    status = models.CharField(_("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("撰写人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    published_by = models.ForeignKey(USER, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("入库审核人"))
    published_at = models.DateTimeField(_("入库时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("典型案例")
        verbose_name_plural = _("典型案例")
        ordering = ["-published_at", "-created_at"]

    def __str__(self):
        return self.title


class CaseFile(models.Model):
    case = models.ForeignKey(CaseStudy, on_delete=models.CASCADE, related_name="files", verbose_name=_("案例"))
    file = models.FileField(_("文件"), upload_to="oversight/cases/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=80)
    size = models.PositiveIntegerField(_("大小"))
    sha256 = models.CharField(_("摘要"), max_length=64)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人"))
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = ScopedManager(scope_field="case__area__code")

    class Meta:
        verbose_name = _("案例附件")
        verbose_name_plural = _("案例附件")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.name


# --- 6. Generated reports -------------------------------------------------------------------------

class Report(models.Model):
    """A monthly, quarterly or yearly report of an area, generated by a task from the indicators
    and records (xlsx and PDF).  `fields_total` / `fields_filled`: how many figures the report has
    and how many of them the platform filled itself (the rest had no data; none is typed)."""

    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("区域"))
    period = models.CharField(_("统计期"), max_length=8)
    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    language = models.CharField(_("语言"), max_length=16, default="zh-hans")
    status = models.CharField(_("状态"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    steps_total = models.PositiveIntegerField(_("总步骤"), default=0)
    steps_done = models.PositiveIntegerField(_("已完成步骤"), default=0)
    stage = models.CharField(_("当前步骤"), max_length=120, blank=True)
    fields_total = models.PositiveIntegerField(_("数据项"), default=0)
    fields_filled = models.PositiveIntegerField(_("平台填写"), default=0)
    xlsx = models.BinaryField(_("电子表格"), null=True, blank=True, editable=False)
    pdf = models.BinaryField(_("PDF"), null=True, blank=True, editable=False)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+", verbose_name=_("生成人"))
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("统计报表")
        verbose_name_plural = _("统计报表")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.area} {self.period}"

    @property
    def percent(self) -> int:
        if self.status in (ReportStatus.SUCCEEDED, ReportStatus.FAILED):
            return 100
        return int(self.steps_done * 100 / self.steps_total) if self.steps_total else 0
