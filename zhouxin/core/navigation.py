"""Navigation by role: each entry shows only to users holding one of its roles."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user


NAV: list[NavItem] = [
    NavItem(_("工作台"), "core:home", None),
    NavItem(_("区域与组织"), "orgs:tree", "orgs.view"),
    NavItem(_("人员"), "orgs:person_list", "orgs.view"),
    NavItem(_("数据导入"), "orgs:import", "orgs.import"),
    NavItem(_("节假日日历"), "core:calendar", "core.calendar.edit"),
    NavItem(_("政策规则"), "core:policy_list", "core.policy.edit"),
    NavItem(_("审计日志"), "core:audit_list", "core.audit.view"),
    NavItem(_("账号与授权"), "core:user_list", "core.user.manage"),
]


def navigation_for(user) -> list[dict]:
    items = []
    for item in NAV:
        if item.permission is None or can(user, item.permission):
            items.append({"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name})
    return items
