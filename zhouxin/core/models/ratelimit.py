from django.db import models
from django.utils.translation import gettext_lazy as _


class RateLimitWindow(models.Model):
    """One fixed window of one rate limit for one client (an IP, an account, a token).

    Kept in the database rather than in Django's cache: the embedded set-up has no Redis or
    Memcached, the local-memory cache is per process (each gunicorn worker would count
    alone), and the database cache has no atomic increment.  A conditional UPDATE with
    F() is atomic on SQLite and PostgreSQL, so concurrent workers never undercount."""

    key = models.CharField(_("限流键摘要"), max_length=64)
    window_start = models.DateTimeField(_("窗口开始"))
    count = models.PositiveIntegerField(_("次数"), default=0)
    expires_at = models.DateTimeField(_("失效时间"), db_index=True)

    class Meta:
        verbose_name = _("限流计数")
        verbose_name_plural = _("限流计数")
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_window_unique")]

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.window_start:%Y-%m-%d %H:%M:%S} × {self.count}"
