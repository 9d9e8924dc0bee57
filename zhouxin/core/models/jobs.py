from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import JobStatus


class ImportJob(models.Model):
    """An uploaded spreadsheet imported by a background task, all rows or none."""

    kind = models.CharField(_("导入类型"), max_length=40)
    filename = models.CharField(_("文件名"), max_length=200)
    content = models.BinaryField(_("文件内容"), editable=False)
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    created_count = models.PositiveIntegerField(_("导入条数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    scope_area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("导入范围"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("提交人"))
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.filename}"

    @property
    def percent(self) -> int:
        if self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0
