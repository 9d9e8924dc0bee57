from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("待社区确认")
    CONFIRMED = "confirmed", _("已报到")
    DECLINED = "declined", _("未通过")
    ENDED = "ended", _("已结束")


# A unit or member has at most one registration in these states.
LIVE_REGISTRATION_STATUSES = (RegistrationStatus.PENDING, RegistrationStatus.CONFIRMED)


class Channel(models.TextChoices):
    PORTAL = "portal", _("居民服务网站")
    STAFF = "staff", _("社区代为登记")


class ActivityStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("报名中")
    CANCELLED = "cancelled", _("已取消")
    FINISHED = "finished", _("已结束")


class ActivityCategory(models.TextChoices):
    ELDERLY = "elderly", _("关爱老人")
    CHILDREN = "children", _("关爱少儿")
    ENVIRONMENT = "environment", _("环境卫生")
    CIVILITY = "civility", _("文明引导")
    SAFETY = "safety", _("平安巡逻")
    CULTURE = "culture", _("文体活动")
    PUBLICITY = "publicity", _("政策宣传")
    EMERGENCY = "emergency", _("应急服务")
    OTHER = "other", _("其他")


class SignUpStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("已报名")
    CANCELLED = "cancelled", _("已取消")
    CHECKED_IN = "checked_in", _("已签到")
    COMPLETED = "completed", _("已签退")
    NO_SHOW = "no_show", _("未到场")


LIVE_SIGNUP_STATUSES = (SignUpStatus.SIGNED_UP, SignUpStatus.CHECKED_IN, SignUpStatus.COMPLETED)


class CheckMethod(models.TextChoices):
    QR = "qr", _("扫码")
    ORGANISER = "organiser", _("组织者确认")


class WishStatus(models.TextChoices):
    """The three-order chain: 居民点单 → 社区下单 → 党员接单 → completed → thanked."""

    ORDERED = "ordered", _("居民点单")
    POSTED = "posted", _("社区已下单")
    TAKEN = "taken", _("已接单")
    COMPLETED = "completed", _("已完成")
    THANKED = "thanked", _("居民已评价")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


class PointSource(models.TextChoices):
    HOURS = "hours", _("志愿服务时长")
    WISH = "wish", _("认领微心愿")
    REGISTRATION = "registration", _("按时报到")


class FeedbackKind(models.TextChoices):
    QUARTERLY_CARD = "card", _("季度服务卡")
    YEARLY_LETTER = "letter", _("年度反馈函")
