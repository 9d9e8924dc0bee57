"""Choices of moderation (内容审核)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LexiconCategory(models.TextChoices):
    GAMBLING = "gambling", _("赌博")
    PORN = "porn", _("色情")
    FRAUD = "fraud", _("诈骗")
    INVOICE = "invoice", _("代开发票")
    CONTRABAND = "contraband", _("违禁品")
    TRAFFIC = "traffic", _("引流")
    OTHER = "other", _("其他")


class LexiconKind(models.TextChoices):
    KEYWORD = "keyword", _("关键词")
    DOMAIN = "domain", _("域名")


class ItemStatus(models.TextChoices):
    HELD = "held", _("待审核")
    RELEASED = "released", _("已放行")
    REJECTED = "rejected", _("已驳回")
