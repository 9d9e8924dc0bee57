from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审核")
    PUBLISHED = "published", _("已发布")
    # Taken off the public site by the integrity monitor until the security admin has reviewed it.
    WITHHELD = "withheld", _("核查中")
    UNPUBLISHED = "unpublished", _("已撤下")


# A notice in these states can be changed by its editors (and goes back to draft).
EDITABLE_STATUSES = frozenset({NoticeStatus.DRAFT, NoticeStatus.UNPUBLISHED})


class PageKind(models.TextChoices):
    NOTICE = "notice", _("公告页面")
    PORTAL = "portal", _("社区公开页面")


class CheckResult(models.TextChoices):
    UNCHECKED = "unchecked", _("尚未核查")
    OK = "ok", _("一致")
    MISMATCH = "mismatch", _("不一致")


class AlertKind(models.TextChoices):
    PAGE = "page", _("公开页面内容不一致")
    FILES = "files", _("模板或静态文件被改动")


class FileKind(models.TextChoices):
    TEMPLATE = "template", _("模板")
    STATIC = "static", _("静态文件")
