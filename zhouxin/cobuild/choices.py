from django.db import models
from django.utils.translation import gettext_lazy as _


class NeedCategory(models.TextChoices):
    """What a need (or a resource) is about: the three lists share one small catalogue."""

    ELDERLY_MEAL = "elderly_meal", _("助老助餐")
    ELDERLY_CARE = "elderly_care", _("为老服务")
    EDUCATION = "education", _("助学")
    MEDICAL = "medical", _("医疗义诊")
    LEGAL = "legal", _("法律咨询")
    ENVIRONMENT = "environment", _("环境整治")
    CULTURE = "culture", _("文体活动")
    EMPLOYMENT = "employment", _("就业帮扶")
    SAFETY = "safety", _("平安建设")
    VENUE = "venue", _("场地")
    GOODS = "goods", _("物资")
    VOLUNTEER = "volunteer", _("志愿服务")
    OTHER = "other", _("其他")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    CLAIMED = "claimed", _("已认领待确认")
    CONFIRMED = "confirmed", _("已确认")
    IN_PROJECT = "in_project", _("项目实施中")
    MET = "met", _("已满足")
    CLOSED = "closed", _("已关闭")


class NeedSource(models.TextChoices):
    POSTED = "posted", _("社区发布")
    REQUESTS = "requests", _("高频诉求转化")
    WISH = "wish", _("微心愿转化")


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("场地")
    VOLUNTEERS = "volunteers", _("志愿者")
    EXPERTISE = "expertise", _("专业服务")
    FUNDS = "funds", _("资金")
    GOODS = "goods", _("物资")


class ServiceRadius(models.TextChoices):
    COMMUNITY = "community", _("本社区")
    STREET = "street", _("本街道")
    DISTRICT = "district", _("全区")


class ClaimDirection(models.TextChoices):
    OFFER = "offer", _("单位认领需求")
    REQUEST = "request", _("社区申请资源")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DECLINED = "declined", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    # The project it started was completed: the commitment is over and its quantity is free again.
    FULFILLED = "fulfilled", _("已履约")


LIVE_CLAIM_STATUSES = (ClaimStatus.PENDING, ClaimStatus.CONFIRMED)
# Claims the street or community confirmed: still committed, or fulfilled by a completed project.
CONFIRMED_CLAIM_STATUSES = (ClaimStatus.CONFIRMED, ClaimStatus.FULFILLED)


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    RUNNING = "running", _("实施中")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


# A resource of another category still fits some needs by its kind (a canteen hall for
# a venue need): such a resource is a partial category fit.
KIND_FITS: dict[str, tuple[str, ...]] = {
    NeedCategory.VENUE: (ResourceKind.VENUE,),
    NeedCategory.GOODS: (ResourceKind.GOODS, ResourceKind.FUNDS),
    NeedCategory.VOLUNTEER: (ResourceKind.VOLUNTEERS,),
}
