"""Open311's own record of a request it created (in the api app: see zhouxin/api/models.py)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Submission(models.Model):
    """What an Open311 POST adds to the request it created (GeoReport v2): the token the
    client can look the request up by, the api_key it came with, and the media URL it
    referred to (kept as a reference only: the server never fetches it)."""

    request = models.OneToOneField("dispatch.ServiceRequest", on_delete=models.CASCADE, related_name="open311",
                                   verbose_name=_("诉求工单"))
    token = models.CharField(_("查询令牌"), max_length=32, unique=True, editable=False)
    api_token = models.ForeignKey("api.ApiToken", on_delete=models.PROTECT, related_name="open311_submissions",
                                  verbose_name=_("接口令牌"))
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)

    class Meta:
        app_label = "api"
        verbose_name = _("Open311 提交记录")
        verbose_name_plural = _("Open311 提交记录")

    def __str__(self):
        return f"Open311 → {self.request_id}"
