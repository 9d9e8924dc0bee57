from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """Roles of DESIGN §1; each is granted on a node of the area tree."""

    DISTRICT_ADMIN = "district_admin", _("区级管理员")
    STREET_HUB = "street_hub", _("街道党工委")
    COMMUNITY_STAFF = "community_staff", _("社区工作者")
    GRID_WORKER = "grid_worker", _("网格员")
    DEPARTMENT_HANDLER = "department_handler", _("职能部门承办人")
    UNIT_LIAISON = "unit_liaison", _("驻区单位联络员")
    MEMBER = "member", _("在职党员")
    RESIDENT = "resident", _("居民")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("安全审计员")


# 三员分立: no account may hold two of these, and none reads business data.
ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# Roles whose grant scopes business data by the area subtree.
AREA_ROLES = frozenset({Role.DISTRICT_ADMIN, Role.STREET_HUB, Role.COMMUNITY_STAFF, Role.GRID_WORKER})
# Staff roles must use TOTP two-factor.
STAFF_ROLES = frozenset(
    {
        Role.DISTRICT_ADMIN,
        Role.STREET_HUB,
        Role.COMMUNITY_STAFF,
        Role.GRID_WORKER,
        Role.DEPARTMENT_HANDLER,
        Role.SYSTEM_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDIT_ADMIN,
    }
)


class AuditResult(models.TextChoices):
    OK = "ok", _("成功")
    DENIED = "denied", _("拒绝")
    FAILED = "failed", _("失败")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("处理中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("未导入")
