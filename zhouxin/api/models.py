"""Integration tokens: a token acts as one user and reaches exactly what that user's grants reach."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    name = models.CharField(_("接入系统名称"), max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens",
                             verbose_name=_("代表的用户"))
    # Only a SHA-256 of the key is stored; the key is shown once, at creation.
    key_digest = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("密钥前缀"), max_length=8, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("创建人"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class IdempotencyRecord(models.Model):
    """What an Idempotency-Key of POST /api/v1/requests/ was first used with.

    The request itself carries the key's digest (dispatch's ServiceRequest.idempotency_key,
    which makes a retry return it); this adds a digest of the body, so that reusing a key for
    different content is refused instead of silently answered with the first request."""

    key_digest = models.CharField(_("幂等键摘要"), max_length=64, unique=True, editable=False)
    body_digest = models.CharField(_("请求内容摘要"), max_length=64, editable=False)
    request = models.ForeignKey("dispatch.ServiceRequest", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("工单"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("幂等记录")
        verbose_name_plural = _("幂等记录")

    def __str__(self):
        return f"{self.key_digest[:8]}… → {self.request_id}"


from .open311.models import Open311Submission  # noqa: E402,F401  (GeoReport v2, zhouxin/api/open311/)
