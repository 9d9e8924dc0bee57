"""Notices (社区公告) published on the public site, and the integrity monitor's records.

A notice is written by community or street staff, screened, approved by another person
and published; at approval the canonical public content (the page's marked article
region) is hashed.  PublishedPage is what the monitor (integrity.py, `manage.py
verify_published`) re-renders and compares; SecurityAlert is what it tells the security
admin; FileBaseline is the manifest of template and static files it compares the disk with.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhouxin.core.scoping import ScopedManager

from .choices import AlertKind, CheckResult, FileKind, NoticeStatus, PageKind


class Notice(models.Model):
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="notices",
                             verbose_name=_("发布区域"))
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("正文"), help_text=_("经过净化的 HTML"))
    status = models.CharField(_("状态"), max_length=16, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("撰稿人"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                 blank=True, verbose_name=_("审核人"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    unpublished_at = models.DateTimeField(_("撤下时间"), null=True, blank=True)
    content_hash = models.CharField(_("发布内容哈希"), max_length=64, blank=True,
                                    help_text=_("审核通过时公开页面正文区域的 SHA-256"))
    hold_reason = models.CharField(_("内容筛查提示"), max_length=200, blank=True)
    return_reason = models.CharField(_("退回原因"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("社区公告")
        verbose_name_plural = _("社区公告")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["area", "status", "-published_at"], name="notice_area_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(approver__isnull=True) | ~Q(approver=F("author")), name="notice_four_eyes",
                violation_error_message=_("撰稿人不能审核自己的公告。"),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def public_path(self) -> str:
        return reverse("publishing:public_detail", args=[self.area.code, self.pk])


class PublishedPage(models.Model):
    """A public URL the monitor watches: a notice (hash, identical renders, allowed links) or one
    of the portal's dynamic community pages (identical renders and allowed links only)."""

    path = models.CharField(_("页面路径"), max_length=300, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=PageKind.choices)
    label = models.CharField(_("页面"), max_length=200, blank=True)
    notice = models.OneToOneField(Notice, on_delete=models.CASCADE, null=True, blank=True, related_name="page",
                                  verbose_name=_("公告"))
    approved_hash = models.CharField(_("核准哈希"), max_length=64, blank=True)
    approved_at = models.DateTimeField(_("核准时间"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("核准人"))
    last_checked_at = models.DateTimeField(_("最近核查"), null=True, blank=True)
    last_result = models.CharField(_("核查结果"), max_length=16, choices=CheckResult.choices,
                                   default=CheckResult.UNCHECKED)
    last_problems = models.JSONField(_("发现的问题"), default=list, blank=True)
    withheld = models.BooleanField(_("已暂停公开"), default=False)
    withheld_at = models.DateTimeField(_("暂停公开时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("受监测的公开页面")
        verbose_name_plural = _("受监测的公开页面")
        ordering = ["kind", "path"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=PageKind.NOTICE) | Q(notice__isnull=False), name="published_page_notice",
                violation_error_message=_("公告页面必须关联公告。"),
            ),
        ]

    def __str__(self):
        return self.label or self.path


class SecurityAlert(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=AlertKind.choices)
    message = models.TextField(_("说明"))
    page = models.ForeignKey(PublishedPage, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts",
                             verbose_name=_("页面"))
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=300, blank=True)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+", verbose_name=_("确认人"))
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("安全告警")
        verbose_name_plural = _("安全告警")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["acknowledged_at", "-created_at"], name="alert_open")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.object_repr or self.message[:60]}"


class FileBaseline(models.Model):
    """One template or static file as it was when the baseline was recorded."""

    key = models.CharField(_("文件"), max_length=500, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=FileKind.choices)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.BigIntegerField(_("大小"))
    recorded_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("文件基线")
        verbose_name_plural = _("文件基线")
        ordering = ["key"]

    def __str__(self):
        return self.key
