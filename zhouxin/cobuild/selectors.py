"""Scoped reads of co-building.

Staff reach needs, claims and projects of their area subtree, and resources located there
or whose service radius reaches their area.  A unit liaison reaches their unit's resources,
claims and projects, and the needs of the district their unit sits in (a unit's resources
serve at most its district) — open ones to claim, and the ones their unit claimed.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q

from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user

from .choices import NeedStatus, ServiceRadius
from .models import Claim, Need, Project, Resource
from .services import liaison_units


def _any(parts) -> Q:
    parts = list(parts)
    return reduce(or_, parts) if parts else Q(pk__in=[])


def unit_ids(user) -> list[int]:
    return list(liaison_units(user).values_list("pk", flat=True))


def needs_for(user):
    """Needs the user may see."""
    scope = scope_for_user(user)
    parts = [Q(area__code__startswith=p) for p in scope.prefixes(AREA_ROLES & roles_for("cobuild.view"))]
    units = list(liaison_units(user).values_list("pk", "area__code"))
    for _pk, code in units:
        parts.append(Q(area__code__startswith=code[:6], status=NeedStatus.OPEN))
    if units:
        parts.append(Q(claims__unit_id__in=[pk for pk, _code in units]))
    if not parts:
        return Need.objects.unscoped().none()
    visible = Need.objects.unscoped().filter(_any(parts)).values("pk")
    return Need.objects.unscoped().filter(pk__in=visible)


def resource_reach_q(prefix: str) -> Q:
    """Resources located in `prefix`'s subtree or serving the area `prefix` (radius)."""
    parts = [Q(area_code__startswith=prefix)]
    if len(prefix) >= 6:
        parts.append(Q(radius=ServiceRadius.DISTRICT, area_code__startswith=prefix[:6]))
    if len(prefix) >= 9:
        parts.append(Q(radius=ServiceRadius.STREET, area_code__startswith=prefix[:9]))
    return _any(parts)


def resources_for(user):
    """Resources the user may see: their unit's, or located in / serving their area."""
    scope = scope_for_user(user)
    parts = [resource_reach_q(p) for p in scope.prefixes(AREA_ROLES & roles_for("cobuild.view"))]
    units = unit_ids(user)
    if units:
        parts.append(Q(owner_id__in=units))
    if not parts:
        return Resource.objects.unscoped().none()
    return Resource.objects.unscoped().filter(_any(parts))


def claims_for(user):
    scope = scope_for_user(user)
    parts = [Q(need__area__code__startswith=p) for p in scope.prefixes(AREA_ROLES & roles_for("cobuild.view"))]
    units = unit_ids(user)
    if units:
        parts.append(Q(unit_id__in=units))
    if not parts:
        return Claim.objects.unscoped().none()
    return Claim.objects.unscoped().filter(_any(parts))


def projects_for(user):
    scope = scope_for_user(user)
    parts = [Q(area__code__startswith=p) for p in scope.prefixes(AREA_ROLES & roles_for("cobuild.view"))]
    units = unit_ids(user)
    if units:
        parts.append(Q(pk__in=Project.objects.unscoped().filter(parties__in=units).values("pk")))
    if not parts:
        return Project.objects.unscoped().none()
    return Project.objects.unscoped().filter(_any(parts))
