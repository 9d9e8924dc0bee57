"""Permissions: which roles may perform an action, checked on the object's area.

Grants are data (a role on a node); this table says what each role may do.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .scoping import scope_for_user

R = Role
PERMISSIONS: dict[str, frozenset[str]] = {
    "orgs.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.GRID_WORKER}),
    "orgs.person.reveal": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "orgs.import": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "orgs.export": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "orgs.edit": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "orgs.sector.manage": frozenset({R.DISTRICT_ADMIN}),
    "core.audit.view": frozenset({R.AUDIT_ADMIN}),
    "core.grant.manage": frozenset({R.SYSTEM_ADMIN}),
    "core.user.manage": frozenset({R.SYSTEM_ADMIN}),
    "core.security.manage": frozenset({R.SECURITY_ADMIN}),
    "core.calendar.edit": frozenset({R.SYSTEM_ADMIN, R.DISTRICT_ADMIN}),
    "core.policy.edit": frozenset({R.DISTRICT_ADMIN}),
    # The policy list is readable by whoever may edit some rule; the password rule is the
    # security admin's alone (三员分立), business rules the district admin's.
    "core.policy.view": frozenset({R.DISTRICT_ADMIN, R.SECURITY_ADMIN, R.SYSTEM_ADMIN}),
    "core.password.edit": frozenset({R.SECURITY_ADMIN}),
}


def roles_for(permission: str) -> frozenset[str]:
    try:
        return PERMISSIONS[permission]
    except KeyError:  # a typo must not silently deny or allow
        raise KeyError(f"unknown permission {permission!r}") from None


def can(user, permission: str, area_code: str | None = None) -> bool:
    """True when one of the user's grants with a role allowed to do `permission`
    reaches `area_code` (or, with no area, exists at all)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = roles_for(permission)
    scope = scope_for_user(user)
    if area_code is None:
        return bool(scope.roles & roles)
    return scope.covers(area_code, roles)


def ensure_can(user, permission: str, area_code: str | None = None) -> None:
    if not can(user, permission, area_code):
        raise PermissionDenied(_("您没有权限执行此操作。"))
