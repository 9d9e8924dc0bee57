from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PolicyVersion(models.Model):
    """A versioned rule: the value of one policy key for one city from a date on.

    `city` empty means the national default.  The newest version whose
    effective date has come wins; older versions stay for history and for
    computing past periods correctly.
    """

    key = models.CharField(_("规则"), max_length=80)
    city = models.ForeignKey(
        "orgs.Area", on_delete=models.PROTECT, null=True, blank=True, related_name="policies",
        verbose_name=_("城市"),
    )
    effective_from = models.DateField(_("生效日期"))
    value = models.JSONField(_("取值"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("设置人"),
    )
    created_at = models.DateTimeField(_("设置时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("政策规则版本")
        verbose_name_plural = _("政策规则版本")
        ordering = ["key", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "city", "effective_from"], condition=Q(city__isnull=False),
                name="policy_one_city_version_per_day",
                violation_error_message=_("同一规则在同一城市同一生效日期只能有一个版本。"),
            ),
            models.UniqueConstraint(
                fields=["key", "effective_from"], condition=Q(city__isnull=True),
                name="policy_one_national_version_per_day",
                violation_error_message=_("同一规则在同一生效日期只能有一个全国版本。"),
            ),
        ]

    def __str__(self):
        return f"{self.key} @ {self.city_id or '*'} ≥ {self.effective_from}"
