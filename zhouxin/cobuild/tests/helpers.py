"""Builders for co-building tests: units with liaisons, needs and resources through the services."""

from __future__ import annotations

import datetime as dt

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.core.choices import Role
from zhouxin.core.models import Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation

TODAY = dt.date(2026, 6, 1)


def unit_with_liaison(personas, name: str, area_key: str, username: str):
    """A resident unit in an area, and a liaison granted on it."""
    with scopes_disabled():
        area = personas.areas[area_key]
        unit = Organisation.objects.unscoped().create(name=name, kind=OrgKind.RESIDENT_UNIT, area=area)
        user = User.objects.create_user(username=username, password="Zhouxin-Test-2026!", full_name=name + "联络员")
        Grant.objects.create(user=user, role=Role.UNIT_LIAISON, area=area, organisation=unit)
    return unit, user


def need(personas, *, area="community_a", actor="community_staff", title="为社区高龄独居老人提供午餐配送",
         category=NeedCategory.ELDERLY_MEAL, description="80岁以上独居老人午餐助餐配送，每天约30份。", **extra):
    with scopes_disabled():
        return services.need_create(actor=personas.users[actor], area=personas.areas[area], title=title,
                                    category=category, description=description, **extra)


def resource(personas, *, owner=None, actor=None, area=None, title="单位职工食堂助老餐", kind=ResourceKind.GOODS,
             category=NeedCategory.ELDERLY_MEAL, description="职工食堂每天中午可为社区老人提供助餐午餐。",
             capacity=40, capacity_unit="份", radius=ServiceRadius.DISTRICT, available_from=None, **extra):
    owner = owner or personas.orgs["unit"]
    actor = actor or personas.unit_liaison
    with scopes_disabled():
        return services.resource_create(
            actor=actor, owner=owner, kind=kind, category=category, title=title, description=description,
            capacity=capacity, capacity_unit=capacity_unit, radius=radius, area=area,
            available_from=available_from or dt.date(2026, 1, 1), **extra)
