"""Navigation by role: each entry shows only to users holding one of its roles."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .permissions import can

logger = logging.getLogger("zhouxin.navigation")


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # None: every signed-in user
    # Other views that belong to this entry (marked as the current section), as view
    # names or "namespace:prefix*" patterns.
    section: tuple[str, ...] = ()
    # The menu this entry is grouped under in the top bar (None: a top-level entry).
    group: str | None = None

    def is_current(self, view_name: str | None) -> bool:
        if not view_name:
            return False
        if view_name == self.url_name:
            return True
        return any(view_name.startswith(p[:-1]) if p.endswith("*") else view_name == p for p in self.section)


DISPATCH = _("接诉即办")
ORGS = _("区域与组织")
SYSTEM = _("系统管理")
OVERSIGHT = _("督导考评")
COBUILD = _("区域化党建")
VOLUNTEERS = _("双报到")
WORKFORCE = _("社区工作者")
FUNDS = _("经费保障")
CENTERS = _("党群服务中心")

NAV: list[NavItem] = [
    NavItem(_("工作台"), "core:home", None),
    NavItem(_("工单"), "dispatch:queue", "dispatch.work",
            ("dispatch:request_*", "dispatch:bulk", "dispatch:attachment"), DISPATCH),
    NavItem(_("受理登记"), "dispatch:intake", "dispatch.intake", ("dispatch:intake_*",), DISPATCH),
    NavItem(_("吹哨报到"), "dispatch:whistle_board", "dispatch.whistle.view",
            ("dispatch:whistle_*", "dispatch:summons_*", "dispatch:department_scores"), DISPATCH),
    NavItem(_("三率考核"), "dispatch:rankings", "dispatch.rates.view",
            ("dispatch:trends", "dispatch:themes", "dispatch:theme_set"), DISPATCH),
    NavItem(_("分类与派单规则"), "dispatch:catalogue", "dispatch.catalogue.view",
            ("dispatch:category_*", "dispatch:routing_*"), DISPATCH),
    NavItem(_("时限计算"), "dispatch:deadline_calculator", "dispatch.catalogue.view", (), DISPATCH),
    NavItem(_("内容审核"), "moderation:queue", "moderation.review", ("moderation:decide",), DISPATCH),
    NavItem(_("社区公告"), "publishing:notice_list", "publishing.edit", ("publishing:notice_*",)),
    NavItem(_("联席会议"), "conferences:conference_list", "conferences.view",
            ("conferences:conference_*", "conferences:membership_*", "conferences:part_time_*",
             "conferences:meeting_*", "conferences:agenda_*", "conferences:attendance", "conferences:minutes",
             "conferences:decision_*"), COBUILD),
    NavItem(_("督办事项"), "conferences:action_board", "conferences.view", ("conferences:action_*",), COBUILD),
    NavItem(_("需求清单"), "cobuild:need_list", "cobuild.view",
            ("cobuild:need_*", "cobuild:promote", "cobuild:claim_*"), COBUILD),
    NavItem(_("资源清单"), "cobuild:resource_list", "cobuild.view", ("cobuild:resource_*",), COBUILD),
    NavItem(_("资源匹配"), "cobuild:my_matches", "cobuild.resource.edit", (), COBUILD),
    NavItem(_("共建项目"), "cobuild:project_list", "cobuild.view", ("cobuild:project_*",), COBUILD),
    NavItem(_("共建看板"), "cobuild:dashboard", "cobuild.view", (), COBUILD),
    NavItem(_("共建年报"), "cobuild:unit_reports", "cobuild.view", ("cobuild:unit_report*",), COBUILD),
    NavItem(_("报到管理"), "volunteers:registration_list", "volunteers.view",
            ("volunteers:member_register", "volunteers:member_registration_decide",
             "volunteers:unit_registration_decide"), VOLUNTEERS),
    NavItem(_("本单位报到"), "volunteers:my_unit", "volunteers.unit", (), VOLUNTEERS),
    NavItem(_("完成率"), "volunteers:completion", "volunteers.view", ("volunteers:completion_*",), VOLUNTEERS),
    NavItem(_("志愿活动"), "volunteers:activity_list", "volunteers.view", ("volunteers:activity_*",), VOLUNTEERS),
    NavItem(_("微心愿"), "volunteers:wish_board", "volunteers.view", ("volunteers:wish_*",), VOLUNTEERS),
    NavItem(_("单位反馈"), "volunteers:feedback_units", "volunteers.feedback", ("volunteers:feedback_*",), VOLUNTEERS),
    NavItem(_("双报到看板"), "volunteers:community_dashboard", "volunteers.view", (), VOLUNTEERS),
    NavItem(_("工作者名册"), "workforce:roster_list", "workforce.view",
            ("workforce:worker_*", "workforce:roster_*", "workforce:post_*"), WORKFORCE),
    NavItem(_("配备情况"), "workforce:staffing", "workforce.view", (), WORKFORCE),
    NavItem(_("年度考核"), "workforce:assessments", "workforce.assess", (), WORKFORCE),
    NavItem(_("晋级"), "workforce:promotion", "workforce.payroll", ("workforce:promotion_*",), WORKFORCE),
    NavItem(_("工资"), "workforce:payroll", "workforce.payroll",
            ("workforce:payroll_*", "workforce:payslip"), WORKFORCE),
    NavItem(_("社区经费"), "funds:fund_list", "funds.view", ("funds:fund_*",), FUNDS),
    NavItem(_("支出计划"), "funds:plan_list", "funds.view", ("funds:plan_*",), FUNDS),
    NavItem(_("三务公开"), "funds:disclosure_list", "funds.view", ("funds:disclosure_*",), FUNDS),
    NavItem(_("经费报表"), "funds:dashboard", "funds.view", ("funds:execution_xlsx",), FUNDS),
    NavItem(_("服务中心"), "centers:centre_list", "centers.view",
            ("centers:centre_*", "centers:room_*", "centers:service_*", "centers:rota*"), CENTERS),
    NavItem(_("场地预约"), "centers:booking_list", "centers.book", ("centers:booking_*",), CENTERS),
    NavItem(_("中心活动"), "centers:event_list", "centers.view", ("centers:event_*",), CENTERS),
    NavItem(_("中心使用情况"), "centers:dashboard_street", "centers.view", ("centers:dashboard_*", "centers:visits"),
            CENTERS),
    NavItem(_("数据驾驶舱"), "analytics:dashboard", "analytics.view", ("analytics:*",), OVERSIGHT),
    NavItem(_("星级评定"), "oversight:rating_list", "oversight.view",
            ("oversight:rating_*", "oversight:rectification_*", "oversight:peer*"), OVERSIGHT),
    NavItem(_("重点难点问题"), "oversight:problem_list", "oversight.view",
            ("oversight:problem_*", "oversight:meeting_*"), OVERSIGHT),
    NavItem(_("责任清单"), "oversight:responsibility_list", "oversight.view", ("oversight:responsibility_*",),
            OVERSIGHT),
    NavItem(_("述职评议"), "oversight:review_list", "oversight.view", ("oversight:review_*",), OVERSIGHT),
    NavItem(_("示范点与案例"), "oversight:site_list", "oversight.view", ("oversight:site_*", "oversight:case_*"),
            OVERSIGHT),
    NavItem(_("统计报表"), "oversight:report_list", "oversight.report", ("oversight:report_*",), OVERSIGHT),
    NavItem(_("区域与组织"), "orgs:tree", "orgs.view",
            ("orgs:area_*", "orgs:search", "orgs:org_*"), ORGS),
    NavItem(_("人员"), "orgs:person_list", "orgs.view", ("orgs:person_*",), ORGS),
    NavItem(_("数据导入"), "orgs:import", "orgs.import", ("orgs:import_*", "orgs:export_*"), ORGS),
    NavItem(_("节假日日历"), "core:calendar", "core.calendar.edit", ("core:calendar_*",), SYSTEM),
    NavItem(_("政策规则"), "core:policy_list", "core.policy.view", ("core:policy_*",), SYSTEM),
    NavItem(_("审计日志"), "core:audit_list", "core.audit.view", ("core:audit_*",), SYSTEM),
    NavItem(_("账号与授权"), "core:user_list", "core.user.manage", ("core:user_*", "core:grant_*"), SYSTEM),
    NavItem(_("敏感词库"), "moderation:lexicon", "moderation.lexicon.edit", ("moderation:lexicon_*",), SYSTEM),
    NavItem(_("登录锁定"), "core:lockout_list", "core.security.manage", ("core:lockout_*",), SYSTEM),
    NavItem(_("页面完整性"), "publishing:integrity", "core.security.manage",
            ("publishing:alert_*", "publishing:page_*", "publishing:baseline_*"), SYSTEM),
    NavItem(_("接口令牌"), "api:token_list", "api.token.manage", ("api:token_*",), SYSTEM),
]


def navigation_for(user, current: str | None = None) -> list[dict]:
    """The entries the user may open; `current` (the request's view name) marks the active one."""
    items = []
    for item in NAV:
        if item.permission is None or can(user, item.permission):
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                # An entry whose app is not installed in this deployment is left out
                # rather than breaking every page of the shell.
                logger.warning("navigation entry %s has no URL", item.url_name)
                continue
            items.append({"label": item.label, "url": url, "url_name": item.url_name,
                          "active": item.is_current(current), "group": item.group})
    return items


def navigation_menu(items: list[dict]) -> list[dict]:
    """The top bar: entries of one group become a dropdown menu (in the order of their first
    entry); a group with a single visible entry stays a plain link, so nobody opens a menu
    to find one item."""
    menu: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items:
        group = item["group"]
        if group is None:
            menu.append(item)
            continue
        if group not in groups:
            groups[group] = {"label": group, "children": [], "active": False}
            menu.append(groups[group])
        groups[group]["children"].append(item)
        groups[group]["active"] = groups[group]["active"] or item["active"]
    return [entry["children"][0] if "children" in entry and len(entry["children"]) == 1 else entry for entry in menu]


def role_labels(user) -> list[str]:
    """The user's active roles as translated labels, in the order of Role (no query:
    the role set is cached on the user by the staff guard)."""
    held = user.role_set()
    return [label for value, label in Role.choices if value in held]
