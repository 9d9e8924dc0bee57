from django.db import models
from django.utils.translation import gettext_lazy as _

from . import payrules


class PostType(models.TextChoices):
    """三岗: the values are the pay engine's own (payrules)."""

    ZHENG = payrules.ZHENG, _("正职")
    FU = payrules.FU, _("副职")
    ZHUANZHI = payrules.ZHUANZHI, _("专职")
    QITA = payrules.QITA, _("其他")


class Education(models.TextChoices):
    BELOW = "高中及以下", _("高中及以下")
    COLLEGE = "大专", _("大专")
    BACHELOR = "本科", _("本科")
    MASTER = "硕士", _("硕士")
    DOCTOR = "博士", _("博士")


class Certificate(models.TextChoices):
    NONE = "", _("无")
    ASSISTANT = payrules.CERTIFICATES[0], _("助理社会工作师")
    SOCIAL_WORKER = payrules.CERTIFICATES[1], _("社会工作师")
    SENIOR = payrules.CERTIFICATES[2], _("高级社会工作师")


class AssessmentGrade(models.TextChoices):
    EXCELLENT = payrules.EXCELLENT, _("优秀")
    PASSED = payrules.PASSED, _("合格")
    BASIC = payrules.BASIC, _("基本合格")
    FAILED = payrules.FAILED, _("不合格")


class WorkerStatus(models.TextChoices):
    ACTIVE = "active", _("在岗")
    LEFT = "left", _("已离岗")


class RunStatus(models.TextChoices):
    DRAFT = "draft", _("试算")
    CONFIRMED = "confirmed", _("已确认")
