"""Query counts of list pages and API lists do not depend on the number of rows shown (issue 12, item 4).

Each case builds FEW rows of what the list shows (through the apps' services or their test helpers),
GETs the list as a persona who sees them, builds more (MANY in all) and GETs it again: the number of
queries must be the same, and the page must show every row built (a marker unique to each row is
counted, so an empty or filtered-out page cannot pass).  Each count is taken after a warming GET,
the smaller of two (a GET that opens a rate-limit window or refreshes a session or token costs a
few more queries whatever the rows).

Inventory (URL names; 49 covered, each a case in CASES):

core        user_list, lockout_list, audit_list; api token_list
orgs        org_list, person_list
dispatch    queue, whistle_board, catalogue, routing_rules
api         /api/v1/ area-list, organisation-list, request-list, cobuild-need-list,
            cobuild-resource-list, cobuild-project-list; Open311 GET services.json, requests.json
cobuild     need_list, resource_list, project_list, my_matches (the five best needs per resource)
conferences conference_list, meeting_list, action_board
publishing  notice_list
funds       fund_list, plan_list, disclosure_list
centers     centre_list, event_list, booking_list
volunteers  activity_list, registration_list, wish_board, my_unit
workforce   roster_list, assessments
moderation  queue, lexicon
oversight   problem_list, meeting_list, responsibility_list, rating_list, rectification_list,
            review_list, site_list, case_list, report_list

Not covered here:
- aggregates over areas, departments or months, not lists of rows: dispatch rankings (bounded with
  30 streets in dispatch/tests/test_views_rates.py), trends, themes, department_scores;
  cobuild dashboard (cobuild/tests/test_dashboard.py); funds dashboard; centers dashboard_street,
  dashboard_community, visits; volunteers community_dashboard, completion; workforce staffing;
  analytics dashboard (analytics/tests/test_dashboard.py);
- lists whose rows need more set-up than fits here: cobuild unit_reports (units with resources or
  claims), volunteers feedback_units (units with registered members), workforce payroll (rows only
  after a payroll run), publishing integrity (security alerts of the monitor);
- fixed sets: core policy_list (the registered rules), core calendar (a year), orgs tree/search;
- public portal pages (volunteers_public activities/wishes, centers_public centres, publishing
  public_list, portal communities): not staff or API lists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from zhouxin.core.scoping import scopes_disabled

FEW, MANY = 2, 12


@dataclass
class ListCase:
    id: str
    persona: str
    url: str
    make: Callable  # make(personas, world, state, start, stop) builds rows start..stop-1
    marker: str  # a regex matching one distinct string per row (its index in a group)
    api: str = ""  # "", "token" (DRF token) or "open311" (api_key query parameter)
    setup: Callable | None = None  # setup(personas, world) -> state shared by make/url
    cap: int = MANY  # lists that show the best few only show at most this many


# --- builders (the apps' own test helpers, through the services) ------------------------------

def _users(personas, world, state, start, stop):
    from zhouxin.core.tests.test_views_users import make_users

    with scopes_disabled():
        for n in range(start, stop):
            make_users(personas, 1, prefix=f"qlist{n:02d}x")


def _audit(personas, world, state, start, stop):
    from zhouxin.core import audit

    with scopes_disabled():
        for n in range(start, stop):
            audit.record(actor=personas.system_admin, action="test.list", object_type="test",
                         object_id=n, object_repr=f"清单样本{n:02d}")


def _tokens(personas, world, state, start, stop):
    from zhouxin.api.services import api_token_create

    for n in range(start, stop):
        api_token_create(actor=personas.system_admin, user=personas.users["grid_worker"], name=f"清单样本{n:02d}")


def _orgs(personas, world, state, start, stop):
    from zhouxin.orgs.choices import OrgKind
    from zhouxin.orgs.models import Organisation
    from zhouxin.orgs.services import initials_of

    with scopes_disabled():
        for n in range(start, stop):
            name = f"清单样本{n:02d}楼门组织"
            Organisation.objects.unscoped().create(name=name, kind=OrgKind.SOCIAL_ORG,
                                                   area=personas.areas["community_a"],
                                                   pinyin_initials=initials_of(name))


def _people(personas, world, state, start, stop):
    from zhouxin.orgs.models import Person

    with scopes_disabled():
        for n in range(start, stop):
            Person.objects.unscoped().create(name=f"清单样本{n:02d}", home_area=personas.areas["community_a"],
                                             phone=f"1390000{n:04d}", work_unit=personas.orgs["unit"],
                                             party_branch=personas.orgs["unit_branch"], is_party_member=True)


def _requests(personas, world, state, start, stop):
    from zhouxin.api.tests.open311_helpers import intake

    categories = [world.categories[c] for c in ("040102", "080101", "120101", "060101")]
    with scopes_disabled():
        for n in range(start, stop):
            intake(personas, actor="street_hub", title=f"清单样本{n:02d}", category=categories[n % 4],
                   area="community_a" if n % 2 else "community_a2")


def _categories(personas, world, state, start, stop):
    from zhouxin.dispatch.choices import SlaClass
    from zhouxin.dispatch.models import Category

    parent = world.categories["0401"]
    with scopes_disabled():
        for n in range(start, stop):
            Category.objects.create(code=f"0401{n + 50:02d}", name=f"清单样本{n:02d}", parent=parent, level=3,
                                    sla_class=SlaClass.GENERAL)


def _areas(personas, world, state, start, stop):
    from zhouxin.orgs.models import Area

    with scopes_disabled():
        for n in range(start, stop):
            Area.objects.unscoped().create(code=f"110101001001{n + 100:03d}", name=f"清单样本{n:02d}",
                                           level="grid", parent=personas.areas["community_a"])


def _needs(personas, world, state, start, stop):
    from zhouxin.cobuild.tests.helpers import need

    for n in range(start, stop):
        need(personas, title=f"清单样本{n:02d}为社区老人提供午餐配送")


def _resources(personas, world, state, start, stop):
    from zhouxin.cobuild.tests.helpers import resource

    for n in range(start, stop):
        resource(personas, title=f"清单样本{n:02d}单位职工食堂助老餐")


def _notices(personas, world, state, start, stop):
    from zhouxin.publishing.tests.helpers import publish

    for n in range(start, stop):
        publish(personas, title=f"清单样本{n:02d}停水通知")


def _fund_setup(personas, world):
    from zhouxin.funds.tests.helpers_funds import make_fund

    return {"fund": make_fund(personas)}


def _funds(personas, world, state, start, stop):
    from zhouxin.funds.tests.helpers_funds import make_fund

    for n in range(start, stop):
        make_fund(personas, year=2000 + n)


def _plans(personas, world, state, start, stop):
    from zhouxin.funds.tests.helpers_funds import make_plan

    for n in range(start, stop):
        make_plan(personas, state["fund"], title=f"清单样本{n:02d}楼道照明改造")


def _centres(personas, world, state, start, stop):
    from zhouxin.centers.tests.helpers_centres import make_centre

    for n in range(start, stop):
        make_centre(personas, name=f"清单样本{n:02d}党群服务站")


def _activities(personas, world, state, start, stop):
    from zhouxin.volunteers.tests.test_activities_helpers import activity

    for n in range(start, stop):
        activity(personas, title=f"清单样本{n:02d}敬老院探访")


def _projects(personas, world, state, start, stop):
    from zhouxin.cobuild import services
    from zhouxin.cobuild.tests.helpers import need, resource

    with scopes_disabled():
        for n in range(start, stop):
            posted = need(personas, title=f"第{n}号午餐配送需求", quantity=5, quantity_unit="份")
            offered = resource(personas, title=f"第{n}号职工食堂助老餐", capacity=5)
            claim = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered, quantity=5)
            services.claim_confirm(actor=personas.street_hub, claim=claim)
            services.project_create_from_claim(actor=personas.community_staff, claim=claim,
                                               title=f"清单样本{n:02d}助老餐桌")


def _whistles(personas, world, state, start, stop):
    from zhouxin.dispatch.tests.test_whistles import blow

    with scopes_disabled():
        for n in range(start, stop):
            blow(personas, [world.orgs["department"], world.orgs["water"]], title=f"清单样本{n:02d}胡同积水")


def _centre_setup(personas, world):
    from zhouxin.centers.tests.helpers_bookings import centre, room

    with scopes_disabled():
        the_centre = centre(personas)
        return {"centre": the_centre, "room": room(the_centre)}


def _events(personas, world, state, start, stop):
    import datetime as dt

    from zhouxin.centers.tests.helpers_events import event

    for n in range(start, stop):
        event(personas, state["centre"], title=f"清单样本{n:02d}书画交流会", starts_in=dt.timedelta(days=n + 2))


def _bookings(personas, world, state, start, stop):
    from zhouxin.centers.tests.helpers_bookings import at, staff_booking_for

    with scopes_disabled():
        for n in range(start, stop):
            staff_booking_for(personas.community_staff, state["room"], title=f"清单样本{n:02d}议事会",
                              starts_at=at(n + 1, 9), ends_at=at(n + 1, 11))


def _conferences(personas, world, state, start, stop):
    import datetime as dt

    from zhouxin.conferences import services
    from zhouxin.conferences.choices import ConferenceKind

    with scopes_disabled():
        for n in range(start, stop):
            services.conference_create(actor=personas.street_hub, area=personas.areas["street_a"],
                                       kind=ConferenceKind.BIG_WORKING_COMMITTEE, name=f"清单样本{n:02d}大工委",
                                       established_on=dt.date(2020, 3, 1), convenor="街道党工委书记 李淑珍")


def _conference_setup(personas, world):
    from zhouxin.conferences.tests.world import build_world

    return {"world": build_world(personas)}


def _meetings(personas, world, state, start, stop):
    import datetime as dt

    from zhouxin.conferences import services
    from zhouxin.conferences.choices import MeetingKind

    with scopes_disabled():
        for n in range(start, stop):
            services.meeting_create(actor=personas.street_hub, conference=state["world"].conference,
                                    kind=MeetingKind.TOPIC, title=f"清单样本{n:02d}专题会",
                                    held_on=dt.date(2099, 1, 1) + dt.timedelta(days=n), place="街道二楼会议室")


def _actions(personas, world, state, start, stop):
    import datetime as dt

    from zhouxin.conferences import services

    with scopes_disabled():
        for n in range(start, stop):
            services.decision_record(actor=personas.street_hub, meeting=state["world"].meeting, text=f"决议{n}",
                                     actions=[services.ActionSpec(owner=personas.orgs["unit"],
                                                                  title=f"清单样本{n:02d}开放停车位",
                                                                  due_on=dt.date(2099, 1, 1))])


def _problems(personas, world, state, start, stop):
    import datetime as dt

    from django.utils import timezone

    from zhouxin.oversight.tests.helpers_reports import problem

    today = timezone.localdate()
    for n in range(start, stop):
        problem(personas, "street_a", f"清单样本{n:02d}停车难", created=timezone.now(),
                deadline=dt.date(today.year, 12, 31))


def _topic_meetings(personas, world, state, start, stop):
    from django.utils import timezone

    from zhouxin.oversight import problems

    with scopes_disabled():
        for n in range(start, stop):
            problems.meeting_create(actor=personas.street_hub, area=personas.areas["street_a"], kind="committee",
                                    title=f"清单样本{n:02d}党工委会议", held_on=timezone.localdate(), chair="李淑珍",
                                    attendees="9", decisions="成立专班，两周调度一次。")


def _cases(personas, world, state, start, stop):
    from zhouxin.oversight.tests.test_sites import write

    with scopes_disabled():
        for n in range(start, stop):
            write(personas, title=f"清单样本{n:02d}议事厅解决停车难")


def _rectifications(personas, world, state, start, stop):
    from django.utils import timezone

    from zhouxin.oversight.tests.helpers_ratings import period_ago
    from zhouxin.oversight.tests.helpers_reports import rectification

    for n in range(start, stop):
        rectification(personas, "community_a", period_ago(n + 1), flagged=timezone.now(),
                      text=f"清单样本{n:02d}书记岗位空缺")


def _reports(personas, world, state, start, stop):
    from zhouxin.oversight.tests.helpers_ratings import period_ago
    from zhouxin.oversight.tests.helpers_reports import make_report

    for n in range(start, stop):
        make_report(personas, period=period_ago(n + 1))


def _workers(personas, world, state, start, stop):
    from zhouxin.workforce.tests.roster_helpers import hire

    for n in range(start, stop):
        hire(personas, f"清单样本{n:02d}")


def _wishes(personas, world, state, start, stop):
    from decimal import Decimal

    from zhouxin.volunteers import wishes

    with scopes_disabled():
        for n in range(start, stop):
            wishes.wish_create(actor=personas.community_staff, community=personas.areas["community_a"],
                               title=f"清单样本{n:02d}一台收音机", beneficiary="独居老人", value=Decimal("50"))


def _registrations(personas, world, state, start, stop):
    from zhouxin.orgs.models import Person
    from zhouxin.volunteers.tests.test_feedback import register

    with scopes_disabled():
        for n in range(start, stop):
            person = Person.objects.unscoped().create(name=f"清单样本{n:02d}", home_area=personas.areas["community_a"],
                                                      work_unit=personas.orgs["unit"], is_party_member=True,
                                                      party_branch=personas.orgs["unit_branch"])
            register(personas, person)


def _moderation_setup(personas, world):
    from zhouxin.moderation import lexicon
    from zhouxin.moderation.services import seed_default_lexicon

    with scopes_disabled():
        seed_default_lexicon()
    lexicon.reset_cache()
    return {}


def _held(personas, world, state, start, stop):
    from zhouxin.moderation.tests.helpers import SPAM_TEXT, SPAM_TITLE, intake

    with scopes_disabled():
        for n in range(start, stop):
            intake(personas, title=f"{SPAM_TITLE}清单样本{n:02d}", description=SPAM_TEXT)


def _ratings(personas, world, state, start, stop):
    from zhouxin.oversight.tests.helpers_ratings import last_month
    from zhouxin.oversight.tests.helpers_reports import rating
    _new_communities(personas, start, stop)
    with scopes_disabled():
        for n in range(start, stop):
            rating(personas, f"qlist{n}", last_month(), score="80", stars=4, rank=n + 1)


def _disclosure_setup(personas, world):
    from zhouxin.funds.tests.disclosure_data import make_fund

    return {"fund": make_fund(personas)}


def _disclosures(personas, world, state, start, stop):
    from zhouxin.funds.tests.disclosure_data import deliberate, propose

    for n in range(start, stop):
        plan = propose(personas, state["fund"], title=f"清单样本{n:02d}楼院环境整治", amount="12000.00")
        deliberate(personas, plan)  # the residents' decision publishes the decision disclosure


def _new_communities(personas, start, stop):
    from zhouxin.oversight.tests.test_ratings import add_community

    keys = []
    with scopes_disabled():
        for n in range(start, stop):
            key = f"qlist{n}"
            if key not in personas.areas:
                personas.areas[key] = add_community(personas, f"110101001{n + 200:03d}", f"清单样本{n:02d}社区")
            keys.append(key)
    return keys


def _reviews(personas, world, state, start, stop):
    from zhouxin.oversight.tests.test_reviews import open_review

    with scopes_disabled():
        for key in _new_communities(personas, start, stop):
            open_review(personas, key)


def _sites(personas, world, state, start, stop):
    from zhouxin.oversight.tests.test_sites import nominate, rate

    with scopes_disabled():
        for n, key in enumerate(_new_communities(personas, start, stop), start):
            rate(personas, key)
            nominate(personas, key, actor=personas.street_hub, title=f"清单样本{n:02d}示范点")


def _responsibilities(personas, world, state, start, stop):
    from django.utils import timezone

    from zhouxin.oversight import problems
    from zhouxin.oversight.choices import LeaderRole

    with scopes_disabled():
        for n in range(start, stop):
            problems.responsibility_create(actor=personas.street_hub, organisation=personas.orgs["community_a_committee"],
                                           year=timezone.localdate().year, role=LeaderRole.values[0],
                                           holder=f"清单样本{n:02d}")


def _rules(personas, world, state, start, stop):
    from zhouxin.dispatch import catalogue
    from zhouxin.dispatch.models import Category

    _categories(personas, world, state, start, stop)
    with scopes_disabled():
        for n in range(start, stop):
            catalogue.routing_rule_set(actor=personas.district_admin, category=Category.objects.get(code=f"0401{n + 50:02d}"),
                                      area=personas.areas["community_a"], organisation=personas.orgs["community_a_committee"])


def _lexicon(personas, world, state, start, stop):
    from zhouxin.moderation import services
    from zhouxin.moderation.choices import LexiconCategory

    with scopes_disabled():
        for n in range(start, stop):
            services.lexicon_add(actor=personas.security_admin, term=f"清单样本{n:02d}违禁词",
                                 category=LexiconCategory.OTHER)


def _offer_setup(personas, world):
    from zhouxin.cobuild.tests.helpers import resource

    return {"resource": resource(personas)}


def _attempts(personas, world, state, start, stop):
    from axes.models import AccessAttempt

    for n in range(start, stop):  # what django-axes writes on failed sign-ins
        AccessAttempt.objects.create(username=f"qlist{n:02d}x", ip_address="127.0.0.1", user_agent="x",
                                     failures_since_start=5, get_data="", post_data="", http_accept="x",
                                     path_info="/accounts/login/")


# --- the lists ---------------------------------------------------------------------------------

SAMPLE = r"清单样本(\d\d)"

CASES = [
    ListCase("core:user_list", "system_admin", "/admin/users/", _users, r"qlist(\d\d)x"),
    ListCase("core:lockout_list", "security_admin", "/admin/users/lockouts/", _attempts, r"qlist(\d\d)x"),
    ListCase("core:audit_list", "audit_admin", "/admin/audit/?action=test.list", _audit, SAMPLE),
    ListCase("api:token_list", "system_admin", "/api/tokens/", _tokens, SAMPLE),
    ListCase("orgs:org_list", "street_hub", "/orgs/organisations/", _orgs, SAMPLE),
    ListCase("orgs:person_list", "street_hub", "/orgs/people/", _people, SAMPLE),
    ListCase("dispatch:queue", "street_hub", "/dispatch/?tab=all&per_page=50", _requests, SAMPLE),
    ListCase("api:area-list", "street_hub", "/api/v1/areas/", _areas, SAMPLE, api="token"),
    ListCase("api:organisation-list", "street_hub", "/api/v1/organisations/", _orgs, SAMPLE, api="token"),
    ListCase("api:request-list", "street_hub", "/api/v1/requests/", _requests, SAMPLE, api="token"),
    ListCase("api:cobuild-need-list", "community_staff", "/api/v1/cobuild/needs/", _needs, SAMPLE, api="token"),
    ListCase("api:cobuild-resource-list", "community_staff", "/api/v1/cobuild/resources/", _resources, SAMPLE,
             api="token"),
    ListCase("open311:services", "street_hub", "/open311/v2/services.json", _categories, SAMPLE, api="open311"),
    ListCase("open311:requests", "street_hub", "/open311/v2/requests.json", _requests, SAMPLE, api="open311"),
    ListCase("cobuild:need_list", "community_staff", "/cobuild/needs/", _needs, SAMPLE),
    ListCase("cobuild:resource_list", "community_staff", "/cobuild/resources/", _resources, SAMPLE),
    ListCase("publishing:notice_list", "community_staff", "/publishing/", _notices, SAMPLE),
    ListCase("funds:fund_list", "street_hub", "/funds/", _funds, r'href="/funds/(\d+)/"'),
    ListCase("funds:plan_list", "community_staff", "/funds/plans/", _plans, SAMPLE, setup=_fund_setup),
    ListCase("centers:centre_list", "street_hub", "/centers/", _centres, SAMPLE),
    ListCase("api:cobuild-project-list", "community_staff", "/api/v1/cobuild/projects/", _projects, SAMPLE,
             api="token"),
    ListCase("cobuild:project_list", "community_staff", "/cobuild/projects/", _projects, SAMPLE),
    ListCase("dispatch:whistle_board", "street_hub", "/dispatch/whistles/", _whistles, SAMPLE),
    ListCase("centers:event_list", "community_staff", "/centers/events/", _events, SAMPLE, setup=_centre_setup),
    ListCase("centers:booking_list", "community_staff", "/centers/bookings/", _bookings, SAMPLE,
             setup=_centre_setup),
    ListCase("conferences:conference_list", "street_hub", "/conferences/", _conferences, SAMPLE),
    ListCase("conferences:meeting_list", "street_hub", "/conferences/meetings/", _meetings, SAMPLE,
             setup=_conference_setup),
    ListCase("conferences:action_board", "street_hub", "/conferences/actions/", _actions, SAMPLE,
             setup=_conference_setup),
    ListCase("oversight:problem_list", "street_hub", "/oversight/problems/", _problems, SAMPLE),
    ListCase("oversight:meeting_list", "street_hub", "/oversight/meetings/", _topic_meetings, SAMPLE),
    ListCase("oversight:case_list", "community_staff", "/oversight/cases/", _cases, SAMPLE),
    ListCase("oversight:rectification_list", "district_admin", "/oversight/rectifications/", _rectifications,
             r'href="/oversight/rectifications/(\d+)/"'),
    ListCase("oversight:report_list", "street_hub", "/oversight/reports/", _reports, r'href="/oversight/reports/(\d+)/"'),
    ListCase("workforce:roster_list", "street_hub", "/workforce/roster/", _workers, SAMPLE),
    ListCase("volunteers:wish_board", "community_staff", "/volunteers/wishes/", _wishes, SAMPLE),
    ListCase("volunteers:registration_list", "community_staff", "/volunteers/registrations/", _registrations,
             SAMPLE),
    ListCase("moderation:queue", "street_hub", "/moderation/", _held, SAMPLE, setup=_moderation_setup),
    ListCase("oversight:rating_list", "district_admin", "/oversight/ratings/", _ratings, SAMPLE),
    ListCase("funds:disclosure_list", "community_staff", "/funds/disclosures/", _disclosures, SAMPLE,
             setup=_disclosure_setup),
    ListCase("oversight:review_list", "street_hub", "/oversight/reviews/", _reviews, SAMPLE),
    ListCase("oversight:site_list", "street_hub", "/oversight/sites/", _sites, SAMPLE),
    ListCase("oversight:responsibility_list", "street_hub", "/oversight/responsibilities/", _responsibilities,
             SAMPLE),
    ListCase("workforce:assessments", "street_hub", "/workforce/assessments/", _workers, SAMPLE),
    ListCase("dispatch:catalogue", "district_admin", "/dispatch/catalogue/", _categories, SAMPLE),
    ListCase("dispatch:routing_rules", "district_admin", "/dispatch/catalogue/routing/?area=110101001001", _rules,
             SAMPLE),
    ListCase("moderation:lexicon", "security_admin", "/moderation/lexicon/", _lexicon, SAMPLE),
    ListCase("cobuild:my_matches", "unit_liaison", "/cobuild/matches/", _needs, SAMPLE, setup=_offer_setup,
             cap=5),  # the five best needs for each resource
    ListCase("volunteers:my_unit", "unit_liaison", "/volunteers/my-unit/", _registrations, SAMPLE),
    ListCase("volunteers:activity_list", "community_staff", "/volunteers/activities/", _activities, SAMPLE),
]


def _client(case: ListCase, personas, client_for):
    if case.api == "token":
        from zhouxin.api.services import api_token_create

        _token, key = api_token_create(actor=personas.system_admin, user=personas.users[case.persona],
                                       name=f"清单 {case.persona}")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client, ""
    if case.api == "open311":
        from zhouxin.api.tests.open311_helpers import api_key

        return APIClient(), api_key(personas, case.persona)
    return client_for(case.persona), ""


def _measure(client, url: str) -> tuple[int, str]:
    """The smaller of two counts after a warming GET: a call that opens a new rate-limit window or
    refreshes a session or token's last use does a few more queries, whatever the rows."""
    client.get(url)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts.append(len(ctx))
    return min(counts), response.content.decode()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_list_query_count_does_not_grow_with_rows(case, personas, dispatch_world, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    state = case.setup(personas, dispatch_world) if case.setup else {}
    client, key = _client(case, personas, client_for)
    url = case.url
    if key:
        url += ("&" if "?" in url else "?") + f"api_key={key}"

    case.make(personas, dispatch_world, state, 0, FEW)
    few, body = _measure(client, url)
    assert len(set(re.findall(case.marker, body))) == FEW, "the list does not show the rows built"

    case.make(personas, dispatch_world, state, FEW, MANY)
    many, body = _measure(client, url)
    assert len(set(re.findall(case.marker, body))) == min(MANY, case.cap), "the list does not show the rows built"
    assert many == few, f"{case.id}: {few} queries for {FEW} rows, {many} for {MANY}"
