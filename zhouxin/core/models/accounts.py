from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import ADMIN_ROLES, STAFF_ROLES, Role


class User(AbstractUser):
    """A login.  What it may see and do comes only from its grants."""

    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    password_history = models.JSONField(_("历史密码"), default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    def role_set(self) -> frozenset[str]:
        cached = getattr(self, "_role_set", None)
        if cached is None:
            cached = frozenset(self.grants.filter(active=True).values_list("role", flat=True))
            self._role_set = cached
        return cached

    @property
    def needs_two_factor(self) -> bool:
        """Every staff role uses TOTP; members and residents sign in without it."""
        return self.is_superuser or bool(self.role_set() & STAFF_ROLES)


class Grant(models.Model):
    """A role granted on a node of the area tree; it reaches that node's subtree.

    Department handlers and unit liaisons are also tied to their organisation.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants",
                             verbose_name=_("用户"))
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    area = models.ForeignKey("orgs.Area", on_delete=models.PROTECT, related_name="grants", verbose_name=_("区域节点"))
    organisation = models.ForeignKey(
        "orgs.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="grants",
        verbose_name=_("所属组织"),
    )
    active = models.BooleanField(_("有效"), default=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("授权人"),
    )
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "area"], name="grant_unique_role_on_node",
                violation_error_message=_("该用户在此节点上已有这个角色。"),
            ),
            # 三员分立: at most one of the three administrator roles per account.
            models.UniqueConstraint(
                fields=["user"], condition=Q(role__in=sorted(ADMIN_ROLES)), name="grant_one_admin_role",
                violation_error_message=_("三员分立：一个账号只能担任系统管理员、安全管理员、安全审计员中的一个。"),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} @ {self.area_id}"


class UserSession(models.Model):
    """Sessions of a user, so that deactivating the user can end all of them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")

    def __str__(self):
        return f"{self.user_id}:{self.session_key[:6]}…"
