from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import AuditResult


class AuditEntry(models.Model):
    """One write or one reveal of personal data.  Append-only (database triggers).

    `content_hash` is taken over the entry's own fields at insert; the chain that
    orders entries is kept in AuditSeal, linked by a single sealer in commit order,
    so concurrent writers never take a global lock (DESIGN §4).
    """

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("操作人"), db_constraint=False,
    )
    actor_label = models.CharField(_("操作人名称"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    result = models.CharField(_("结果"), max_length=16, choices=AuditResult.choices, default=AuditResult.OK)
    content_hash = models.CharField(_("内容摘要"), max_length=64)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.pk} {self.action}"


class AuditSeal(models.Model):
    """The hash chain over audit entries: seal n links entry e to seal n-1."""

    seq = models.BigIntegerField(_("链序号"), primary_key=True)
    entry = models.OneToOneField(AuditEntry, on_delete=models.PROTECT, related_name="seal", verbose_name=_("审计记录"))
    prev_hash = models.CharField(_("前一环摘要"), max_length=64)
    hash = models.CharField(_("本环摘要"), max_length=64)
    sealed_at = models.DateTimeField(_("封存时间"))

    class Meta:
        verbose_name = _("审计链")
        verbose_name_plural = _("审计链")

    def __str__(self):
        return f"seal {self.seq} → #{self.entry_id}"
