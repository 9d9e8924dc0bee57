from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhouxin.core.crypto import EncryptedTextField, mask_phone


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


class ResidentAccount(models.Model):
    """A resident's optional account on the portal: a phone number proven by a one-time code.

    Not a staff User: it has no password, no grants and no scope, and lives under its own
    session key (zhouxin.portal.accounts).  The phone is encrypted at rest and found by its
    blind index, like a request's contact phone, which is how the account finds its requests."""

    phone = EncryptedTextField(_("手机号"))
    phone_index = models.CharField(max_length=64, unique=True, editable=False)
    consent_version = models.CharField(_("同意的告知版本"), max_length=32)
    created_at = models.DateTimeField(_("开通时间"))
    last_signed_in_at = models.DateTimeField(_("最近登录时间"))

    class Meta:
        verbose_name = _("居民账号")
        verbose_name_plural = _("居民账号")

    def __str__(self) -> str:
        # Never the phone: this text ends up in the audit log's object column.
        return gettext("居民账号 #%(id)s") % {"id": self.pk}

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class SignInCode(models.Model):
    """A one-time code texted to a phone to sign in to (or open) a resident account.
    Keyed by the phone's blind index; only a salted digest of the code is kept."""

    phone_index = models.CharField(max_length=64, editable=False)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        indexes = [models.Index(fields=["phone_index", "created_at"])]

    def __str__(self) -> str:
        return f"{self.phone_index[:8]}… @ {self.created_at:%Y-%m-%d %H:%M}"


class AccountRequest(models.Model):
    """A request tied to a resident account: submitted while signed in, or whose contact the
    resident corrected from the account.  The account also sees every request whose
    contact phone is its phone; this link keeps a request in the list after its contact
    phone was changed.  Deleted with the account."""

    account = models.ForeignKey(ResidentAccount, on_delete=models.CASCADE, related_name="links",
                                verbose_name=_("居民账号"))
    request = models.ForeignKey("dispatch.ServiceRequest", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("诉求"))
    linked_at = models.DateTimeField(_("关联时间"))

    class Meta:
        verbose_name = _("账号的诉求")
        verbose_name_plural = _("账号的诉求")
        constraints = [models.UniqueConstraint(fields=["account", "request"], name="portal_account_request_unique")]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.request_id}"
