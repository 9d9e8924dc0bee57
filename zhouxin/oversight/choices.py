from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LeaderRole(models.TextChoices):
    """领导责任: who answers for what in a Party organisation."""

    SECRETARY = "secretary", _("第一责任人（书记）")
    DEPUTY = "deputy", _("直接责任人（专职副书记）")
    MEMBER = "member", _("一岗双责（班子成员）")


class ItemStatus(models.TextChoices):
    ONGOING = "ongoing", _("推进中")
    DONE = "done", _("已完成")


class ProblemSource(models.TextChoices):
    REQUESTS = "requests", _("接诉即办高频诉求")
    RESEARCH = "research", _("调查研究")
    INSPECTION = "inspection", _("巡察督查")
    RESIDENTS = "residents", _("居民议事")
    SUPERIOR = "superior", _("上级交办")
    OTHER = "other", _("其他")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("待推进")
    IN_PROGRESS = "in_progress", _("推进中")
    CLOSURE_REQUESTED = "closure_requested", _("申请销号")
    CLOSED = "closed", _("已销号")


class MeetingKind(models.TextChoices):
    COMMITTEE = "committee", _("党工委（党委）会议")
    TOPIC = "topic", _("专题会议")
    JOINT = "joint", _("联席会议")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("准备述职")
    SUBMITTED = "submitted", _("已述职，评议中")
    FINAL = "final", _("已定等次")


class ReviewGrade(models.TextChoices):
    GOOD = "good", _("好")
    FAIRLY_GOOD = "fairly_good", _("较好")
    AVERAGE = "average", pgettext_lazy("述职评议等次", "一般")  # dispatch uses 一般 for a normal priority
    POOR = "poor", _("差")


class FlagReason(models.TextChoices):
    BOTTOM = "bottom", _("星级评定排名靠后")
    VACANCY = "vacancy", _("书记岗位空缺超过期限")
    SATISFACTION = "satisfaction", _("群众满意率低于底线")


class FlagStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    RECTIFYING = "rectifying", _("整改中")
    CLOSED = "closed", _("已整改")


class SiteKind(models.TextChoices):
    COMMUNITY = "community", _("示范社区")
    STREET = "street", _("示范街道")
    CENTRE = "centre", _("示范党群服务中心")
    BUILDING = "building", _("示范楼宇（商圈）")
    UNIT = "unit", _("共建示范单位")


class SiteStatus(models.TextChoices):
    NOMINATED = "nominated", _("已推荐")
    APPROVED = "approved", _("已命名")
    REJECTED = "rejected", _("未通过")
    REVOKED = "revoked", _("已撤销")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已入库")
    WITHDRAWN = "withdrawn", _("已撤回")


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    SUCCEEDED = "succeeded", _("已生成")
    FAILED = "failed", _("生成失败")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")
