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
    # dispatch (接诉即办, 街乡吹哨、部门报到)
    "dispatch.intake": frozenset({R.COMMUNITY_STAFF, R.STREET_HUB, R.GRID_WORKER, R.DISTRICT_ADMIN}),
    "dispatch.dispatch": frozenset({R.STREET_HUB, R.DISTRICT_ADMIN}),
    "dispatch.handle": frozenset({R.COMMUNITY_STAFF, R.DEPARTMENT_HANDLER, R.STREET_HUB}),
    "dispatch.callback": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF, R.DISTRICT_ADMIN}),
    # The work queues and request pages: whoever records, dispatches or handles requests.
    "dispatch.work": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.GRID_WORKER,
                                R.DEPARTMENT_HANDLER}),
    # Showing a request's contact phone in full (PIPL): logged with a reason, like orgs.person.reveal.
    "dispatch.contact.reveal": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.DEPARTMENT_HANDLER}),
    "dispatch.supervise": frozenset({R.STREET_HUB, R.DISTRICT_ADMIN}),
    "dispatch.catalogue.edit": frozenset({R.DISTRICT_ADMIN}),
    # The catalogue, the routing rules that apply in one's area and the deadline calculator: every staff role.
    "dispatch.catalogue.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.GRID_WORKER,
                                          R.DEPARTMENT_HANDLER}),
    "dispatch.rates.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.DEPARTMENT_HANDLER}),
    # 每月一题 is chosen by the district.
    "dispatch.theme.set": frozenset({R.DISTRICT_ADMIN}),
    # 吹哨 (open, solve, rate) is the street's; 报到 is the summoned department's; the board,
    # a whistle and the department evaluation are read by the street, the department and the district.
    "dispatch.whistle": frozenset({R.STREET_HUB}),
    "dispatch.whistle.report": frozenset({R.DEPARTMENT_HANDLER}),
    "dispatch.whistle.view": frozenset({R.STREET_HUB, R.DEPARTMENT_HANDLER, R.DISTRICT_ADMIN}),
    # Notices (社区公告): written by community and street staff, approved by the street or district.
    "publishing.edit": frozenset({R.COMMUNITY_STAFF, R.STREET_HUB, R.DISTRICT_ADMIN}),
    "publishing.approve": frozenset({R.STREET_HUB, R.DISTRICT_ADMIN}),
    # moderation (内容审核): the spam lexicon is the whole deployment's (security admin, district
    # admin); held content is reviewed by the street hub (its street) and the district.
    "moderation.lexicon.edit": frozenset({R.SECURITY_ADMIN, R.DISTRICT_ADMIN}),
    "moderation.review": frozenset({R.STREET_HUB, R.DISTRICT_ADMIN}),
    # Joint conferences (联席会议 / 大工委 / 大党委, zhouxin.conferences): read by area staff and by the
    # liaisons of member units (their unit's conferences only); run by the street hub and community
    # staff at their level; unit liaisons propose agenda items and report on their own action items.
    "conferences.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.UNIT_LIAISON}),
    "conferences.manage": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "conferences.propose": frozenset({R.UNIT_LIAISON}),
    # Co-building lists (区域化党建 needs, resources, claims, projects; zhouxin.cobuild): read by area
    # staff and unit liaisons; communities and streets post needs, units (or the street for them)
    # register resources; both sides claim (双向认领); the street or community confirms.
    "cobuild.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.UNIT_LIAISON}),
    "cobuild.need.edit": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "cobuild.resource.edit": frozenset({R.UNIT_LIAISON}),
    "cobuild.claim": frozenset({R.UNIT_LIAISON, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "cobuild.confirm": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    # Dual registration and volunteering (双报到, zhouxin.volunteers): read by area staff and unit
    # liaisons (their unit's registrations and members); communities and streets run activities,
    # confirm registrations and post wishes; liaisons register their unit and get its feedback.
    "volunteers.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.UNIT_LIAISON}),
    "volunteers.manage": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "volunteers.unit": frozenset({R.UNIT_LIAISON}),
    "volunteers.feedback": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF, R.UNIT_LIAISON}),
    # Community workers (三岗十八级, zhouxin.workforce): area staff read their area's roster (a
    # community its own workers); the street (or district) keeps the roster, assesses, runs the
    # promotion and the payroll.  Every worker sees their own pay without any permission.
    "workforce.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "workforce.roster": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "workforce.assess": frozenset({R.STREET_HUB}),
    "workforce.payroll": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    # Community funds (经费保障, zhouxin.funds): area staff read their area's funds, plans and ledger;
    # the street (or district) sets up funds and allocates money; communities propose plans, record
    # the four deliberations, vouchers and acceptance and publish disclosures; the street reviews,
    # files and disburses.
    "funds.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "funds.allocate": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "funds.plan": frozenset({R.COMMUNITY_STAFF}),
    "funds.review": frozenset({R.STREET_HUB}),
    "funds.disburse": frozenset({R.STREET_HUB}),
    "funds.disclose": frozenset({R.COMMUNITY_STAFF, R.STREET_HUB}),
    # Party–masses service centres (党群服务中心, zhouxin.centers): area staff read their area's centres,
    # bookings, events and utilisation; the street and communities keep their centres (rooms, hours,
    # rota, catalogue), approve bookings and run events; units' liaisons book rooms for their unit.
    "centers.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "centers.manage": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "centers.book": frozenset({R.UNIT_LIAISON, R.STREET_HUB, R.COMMUNITY_STAFF}),
    # Oversight (督导考评, zhouxin.oversight) and the dashboards (zhouxin.analytics): area staff read
    # their area's; lists and problems are kept by who answers for them; closure (销号), review
    # grades, ratings and demonstration sites are decided one level up (street for communities,
    # district for streets: checked on the object in the services).
    "oversight.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.responsibility.edit": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.problem.edit": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.problem.close": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "oversight.review.manage": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "oversight.review.report": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.review.score": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "oversight.rating.run": frozenset({R.DISTRICT_ADMIN}),
    "oversight.rectify": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "oversight.site.nominate": frozenset({R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.site.decide": frozenset({R.DISTRICT_ADMIN}),
    "oversight.case.edit": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "oversight.case.publish": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB}),
    "oversight.report": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    "analytics.view": frozenset({R.DISTRICT_ADMIN, R.STREET_HUB, R.COMMUNITY_STAFF}),
    # Integration tokens of the REST API (zhouxin.api): the system admin issues and revokes them.
    "api.token.manage": frozenset({R.SYSTEM_ADMIN}),
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
