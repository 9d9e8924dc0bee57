from django.db import models
from django.utils.translation import gettext_lazy as _


class TrackingCode(models.Model):
    """A one-time code sent to the requester's phone to show one request's progress.
    Only a salted digest of the code is kept."""

    request = models.ForeignKey("dispatch.ServiceRequest", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("诉求"))
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("查询验证码")
        verbose_name_plural = _("查询验证码")
        indexes = [models.Index(fields=["request", "created_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} @ {self.created_at:%Y-%m-%d %H:%M}"
