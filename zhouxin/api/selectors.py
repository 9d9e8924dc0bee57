"""Reads of the API app: which accounts and tokens a system administrator manages.

A system administrator (三员) is granted on a node of the area tree like everyone else: the
city's administrator manages the whole city, a street's administrator only that street.  A
token acts as its user and reaches whatever that user's grants reach, so an administrator
may issue (and see, and revoke) tokens only for accounts whose every active grant lies in
their own area: a street's administrator must not hand out a token that reaches the
district.  Accounts of the three administrators get no token (they read no business data,
and a token must not carry administrative rights), nor do accounts without a staff role.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import F, Q, QuerySet

from zhouxin.core.choices import ADMIN_ROLES, STAFF_ROLES, Role
from zhouxin.core.models import Grant, User

from .models import ApiToken

# The staff roles whose work the API serves.
TOKEN_ROLES = STAFF_ROLES - ADMIN_ROLES
USER_CHOICES_LIMIT = 200


def admin_area_codes(admin) -> list[str]:
    """The area codes of the administrator's active system-administrator grants."""
    if admin is None or not admin.is_authenticated or not admin.is_active:
        return []
    return list(Grant.objects.filter(user=admin, role=Role.SYSTEM_ADMIN, active=True)
                .values_list("area__code", flat=True))


def _inside(codes: list[str]) -> Q:
    return reduce(or_, (Q(area__code__startswith=code) for code in codes))


def _in_area_users(codes: list[str]) -> QuerySet:
    """Accounts holding a staff role, with every active grant inside `codes` and no
    administrator role (active or not: the same account must not become one)."""
    if not codes:
        return User.objects.none()
    inside = _inside(codes)
    outside = Grant.objects.filter(active=True).exclude(inside).values("user_id")
    admins = Grant.objects.filter(role__in=ADMIN_ROLES).values("user_id")
    holders = Grant.objects.filter(inside, active=True, role__in=TOKEN_ROLES).values("user_id")
    return User.objects.filter(pk__in=holders).exclude(pk__in=outside).exclude(pk__in=admins)


def token_users(admin, query: str = "") -> QuerySet:
    """Active accounts the administrator may issue a token for, optionally searched by
    username or name."""
    users = _in_area_users(admin_area_codes(admin)).filter(is_active=True)
    query = " ".join(str(query or "").split())[:100]
    if query:
        users = users.filter(Q(username__icontains=query) | Q(full_name__icontains=query))
    return users.order_by("username")


def may_manage_user(admin, user) -> bool:
    return user is not None and _in_area_users(admin_area_codes(admin)).filter(pk=user.pk).exists()


def manageable_tokens(admin) -> QuerySet:
    """Tokens (active and revoked) of the accounts in the administrator's area."""
    users = _in_area_users(admin_area_codes(admin))
    return (ApiToken.objects.filter(user__in=users)
            .select_related("user", "created_by")
            .order_by(F("revoked_at").asc(nulls_first=True), "-created_at", "-pk"))
