"""No phone or ID number on any public page (issue 9 acceptance, DESIGN §4 personal data).

A realistic data set — the personas (residents and members with phones and ID numbers), the
demo notices, co-building projects, volunteer activities and wishes, two years of community
funds with their plans and disclosures, and residents' requests, ratings and wishes that carry
those people's numbers in their text — and then every page under /portal/: each URL pattern
of the resolver there (portal, publishing's notices, cobuild_public, volunteers_public,
funds_public) with its path parameters filled from the real objects, plus every page the domains
register for the integrity monitor (core.public_pages).  Each is fetched anonymously; the pages
that should render must answer 200, none may fail, and none may show a mainland mobile number
or an 18-digit ID number of anyone in the data.  The scan must cover every pattern, every
funds_public page and a minimum number of pages, so it cannot pass by fetching nothing.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from zhouxin.core import public_pages
from zhouxin.core.scoping import scopes_disabled

from .helpers import make_request, signed_in

pytestmark = pytest.mark.django_db

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MIN_PAGES = 120
# Pages without parameters that render for an anonymous visitor.
RENDERS = {"portal:home", "portal:submit", "portal:track", "portal:signin", "portal:communities",
           "volunteers_public:wishes", "volunteers_public:activities", "centers_public:centres",
           "centers_public:calendar"}
# More residents, with their numbers, beside the personas' four.
RESIDENTS = [("钱秀英", "community_a", "13511112222", "110101195502020026"),
             ("孙建华", "community_a2", "15822223333", "110101196803030031"),
             ("李桂芳", "community_b", "18633334444", "11010119720404004X")]


@pytest.fixture
def world(personas, settings, monkeypatch, tmp_path):
    from zhouxin.core.crypto import blind_index
    from zhouxin.orgs import demo as orgs_demo
    from zhouxin.orgs.models import Person

    settings.DEMO_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (多福巷, 银闸) and 景山街道 (吉祥).
    for command in ("load_demo_notices", "load_demo_cobuild", "load_demo_volunteers", "load_demo_funds",
                    "load_demo_centers"):
        call_command(command, stdout=io.StringIO())
    with scopes_disabled():
        for name, area, phone, id_number in RESIDENTS:
            Person.objects.unscoped().create(
                name=name, home_area=personas.areas[area], phone=phone, phone_index=blind_index("phone", phone),
                id_number=id_number, id_number_index=blind_index("id_number", id_number))
        people = list(Person.objects.unscoped().exclude(phone=""))
    # Residents' requests whose name, phone and address are those people's (in text as well).
    for person in people[:8]:
        area = next(k for k, a in personas.areas.items() if a.pk == person.home_area_id)
        make_request(personas, phone=person.phone, name=person.name, area=area,
                     title=f"{person.name}反映楼道堆物，电话{person.phone}", address=f"身份证{person.id_number}住处")
    _resident_activity(personas, people)
    return personas


def _publish_projects(personas):
    """The running and completed demo projects go public, as their street or community would do."""
    from zhouxin.cobuild import ratings
    from zhouxin.cobuild.models import Project
    from zhouxin.core.permissions import can

    with scopes_disabled():
        for project in Project.objects.unscoped().filter(status__in=ratings.PUBLIC_STATUSES,
                                                         published_at__isnull=True).select_related("area"):
            actor = next(u for u in (personas.street_hub, personas.community_staff_b)
                         if can(u, "cobuild.confirm", project.area.code))
            ratings.project_publish(actor=actor, project=project)
        project = ratings.public_projects().order_by("pk").first()
    assert project is not None, "the co-building demo has running or completed projects"
    return project


def _resident_activity(personas, people):
    """A signed-in resident rates a public project and orders a wish with their number in the text."""
    from zhouxin.cobuild import ratings
    from zhouxin.volunteers import wishes

    project = _publish_projects(personas)
    resident = people[0]
    signed_in(resident.phone)
    with scopes_disabled():
        account = _account_of(resident.phone)
        ratings.rate(account=account, project=project, stars=5, comment="楼道亮了，谢谢社区和医院")
        wishes.wish_order(account=account, community=resident.home_area, title="一台收音机",
                          description=f"联系{resident.phone}", beneficiary="独居老人", value="80")


def _account_of(phone):
    from zhouxin.core.crypto import blind_index
    from zhouxin.portal.models import ResidentAccount

    return ResidentAccount.objects.get(phone_index=blind_index("phone", phone))


# --- The numbers that must not appear ------------------------------------------------------------

def personal_numbers() -> set[str]:
    """Every phone and ID number of a person, resident account or request in the data."""
    from zhouxin.dispatch.models import ServiceRequest
    from zhouxin.orgs.models import Person
    from zhouxin.portal.models import ResidentAccount

    found: set[str] = set()
    with scopes_disabled():
        for person in Person.objects.unscoped().all():
            found.update(n for n in (person.phone, person.id_number) if n)
        found.update(a.phone for a in ResidentAccount.objects.all() if a.phone)
        found.update(r.contact_phone for r in ServiceRequest.objects.unscoped().all() if r.contact_phone)
    return found


def public_numbers() -> set[str]:
    """Numbers published on purpose: organisations' office phones."""
    from zhouxin.orgs.models import Organisation

    with scopes_disabled():
        return {re.sub(r"\D", "", p) for p in Organisation.objects.unscoped().exclude(contact_phone="")
                .values_list("contact_phone", flat=True)}


def leaks(body: str, numbers: set[str], allowed: set[str]) -> list[str]:
    found = [n for n in numbers if n in body]
    shaped = {m.group(0) for pattern in (MOBILE, ID_NUMBER) for m in pattern.finditer(body)}
    found += sorted(n for n in shaped - allowed if n not in found)
    return found


# --- Every URL under /portal/ --------------------------------------------------------------------

def portal_patterns() -> dict[str, str]:
    """{url name: route} of every named pattern whose path starts with portal/."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if route.startswith("portal/"):
                    found.setdefault(f"{namespace}{pattern.name}", route)

    walk(get_resolver().url_patterns, "", "")
    return found


def parameters(route: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<(?:\w+:)?(\w+)>", route))


def concrete_urls(personas) -> dict[str, list[tuple[str, bool]]]:
    """{url name: [(url, must render)]} for every pattern, parameters filled from real objects."""
    from zhouxin.centers import events as centre_events
    from zhouxin.centers.models import Booking, Centre, Event, Room
    from zhouxin.cobuild import ratings
    from zhouxin.dispatch.models import ServiceRequest
    from zhouxin.funds.models import Disclosure
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area
    from zhouxin.publishing.choices import NoticeStatus
    from zhouxin.publishing.models import Notice
    from zhouxin.volunteers.models import Activity, Wish

    with scopes_disabled():
        streets = list(Area.objects.unscoped().filter(level=AreaLevel.STREET, is_active=True)
                       .values_list("code", flat=True))
        communities = list(Area.objects.unscoped().filter(level=AreaLevel.COMMUNITY, is_active=True)
                           .values_list("code", flat=True))
        notices = list(Notice.objects.unscoped().filter(status=NoticeStatus.PUBLISHED)
                       .values_list("area__code", "pk"))
        projects = list(ratings.public_projects().values_list("pk", flat=True))
        requests = list(ServiceRequest.objects.unscoped().values_list("number", flat=True)[:5])
        wishes = list(Wish.objects.unscoped().values_list("number", "status"))
        activities = list(Activity.objects.unscoped().values_list("pk", "status"))
        disclosures = list(Disclosure.objects.unscoped().values_list("pk", "content_hash"))
        disclosed = sorted(set(Disclosure.objects.unscoped().values_list("community__code", flat=True)))
        centres = list(Centre.objects.unscoped().filter(is_active=True).values_list("pk", flat=True))
        rooms = list(Room.objects.unscoped().filter(is_active=True, centre__is_active=True)
                     .values_list("pk", "bookable"))
        centre_events_ = list(Event.objects.unscoped().order_by("-starts_at")[:20])
        bookings = list(Booking.objects.unscoped().values_list("pk", flat=True)[:3])

    def url(name, *args, query=""):
        return reverse(name, args=args) + (f"?{query}" if query else "")

    posted_wishes = {"posted", "taken", "completed", "thanked"}
    filled: dict[str, list[tuple[str, bool]]] = {
        "portal:street": [(url("portal:street", c), True) for c in streets],
        "portal:community": [(url("portal:community", c), True) for c in communities],
        "portal:status": [(url("portal:status", n), False) for n in requests],
        "portal:rate": [(url("portal:rate", n), False) for n in requests],
        "portal:me_correct": [(url("portal:me_correct", n), False) for n in requests],
        "portal:grids": [(url("portal:grids", query=f"area={c}"), False) for c in communities],
        "publishing:public_list": [(url("publishing:public_list", c), True) for c in streets + communities],
        "publishing:public_detail": [(url("publishing:public_detail", c, pk), True) for c, pk in notices],
        "cobuild_public:project": [(url("cobuild_public:project", pk), True) for pk in projects],
        "cobuild_public:rate": [(url("cobuild_public:rate", pk), False) for pk in projects],
        "volunteers_public:wish": [(url("volunteers_public:wish", n), s in posted_wishes) for n, s in wishes],
        "volunteers_public:activity": [(url("volunteers_public:activity", pk), s != "draft")
                                       for pk, s in activities],
        "volunteers_public:check": [(url("volunteers_public:check", "not-a-real-code"), False)],
        "funds_public:community": [(url("funds_public:community", c), True) for c in disclosed],
        "funds_public:disclosure": [(url("funds_public:disclosure", pk), True) for pk, _h in disclosures],
        "funds_public:content": [(url("funds_public:content", pk), True) for pk, _h in disclosures],
        "funds_public:check": [(url("funds_public:check", pk, query=f"fingerprint={h}"), True)
                               for pk, h in disclosures],
    }
    filled.update({
        "centers_public:centre": [(url("centers_public:centre", pk), True) for pk in centres],
        "centers_public:room": [(url("centers_public:room", pk), True) for pk, _b in rooms],
        "centers_public:room_book": [(url("centers_public:room_book", pk), False) for pk, b in rooms if b][:5],
        "centers_public:event": [(url("centers_public:event", e.pk), True) for e in centre_events_],
        "centers_public:check": [(url("centers_public:check", centre_events.checkin_token(e)), False)
                                 for e in centre_events_[:3]],
        "centers_public:my_booking_cancel": [(url("centers_public:my_booking_cancel", pk), False) for pk in bookings],
    })
    for name in ("event_register", "event_cancel_registration"):
        filled[f"centers_public:{name}"] = [(url(f"centers_public:{name}", e.pk), False) for e in centre_events_[:3]]
    for name in ("wish_take", "wish_give_back", "wish_withdraw", "wish_thank"):
        filled[f"volunteers_public:{name}"] = [(url(f"volunteers_public:{name}", n), False) for n, _s in wishes[:3]]
    for name in ("activity_signup", "activity_withdraw"):
        filled[f"volunteers_public:{name}"] = [(url(f"volunteers_public:{name}", pk), False)
                                               for pk, _s in activities[:3]]
    for name, route in portal_patterns().items():
        if name not in filled and not parameters(route):
            filled[name] = [(reverse(name), name in RENDERS)]
    return filled


def test_no_public_page_shows_a_phone_or_id_number(world):
    numbers, allowed = personal_numbers(), public_numbers()
    # The data set holds people whose numbers could leak (and in the text of what they wrote).
    assert len(numbers) >= 15
    assert {"13812341234", "11010119800101007X", "18633334444", "11010119720404004X"} <= numbers
    # The detector finds a number put in a page: the scan cannot pass because it sees nothing.
    assert leaks("<p>联系 13812341234</p>", numbers, allowed) == ["13812341234"]
    assert leaks("<p>电话 13599998888</p>", set(), allowed) == ["13599998888"]

    patterns = portal_patterns()
    urls = concrete_urls(world)
    unfilled = sorted(n for n, route in patterns.items() if not urls.get(n))
    assert not unfilled, f"portal URL patterns the scan cannot fill (add them to concrete_urls): {unfilled}"
    plan = [(name, u, must) for name in sorted(urls) for u, must in urls[name]]
    plan += [("public_pages", path, True) for path in sorted(public_pages.collect())]

    client = Client()
    seen: dict[str, int] = {}
    rendered = defaultdict(int)
    failures, leaked = [], []
    for name, address, must_render in plan:
        if address not in seen:
            response = client.get(address)
            seen[address] = response.status_code
            found = leaks(response.content.decode(errors="replace"), numbers, allowed)
            if found:
                leaked.append(f"{name} {address}: {found}")
        status = seen[address]
        if status >= 500 or (must_render and status != 200):
            failures.append(f"{name} {address}: {status}")
        if status == 200:
            rendered[name] += 1
    assert not failures, "\n".join(failures)
    assert not leaked, "personal numbers on public pages:\n" + "\n".join(leaked)
    # Coverage: every pattern was fetched, every funds_public page rendered, enough pages in all.
    assert set(patterns) <= {name for name, _u, _m in plan}
    funds_names = {n for n in patterns if n.startswith("funds_public:")}
    assert funds_names == {"funds_public:community", "funds_public:disclosure", "funds_public:content",
                           "funds_public:check"}
    assert all(rendered[n] >= 1 for n in funds_names), dict(rendered)
    assert rendered["funds_public:disclosure"] >= 20 and rendered["public_pages"] >= 20
    # The centres' public pages, with their rooms and events (registrations behind them).
    assert all(rendered[f"centers_public:{n}"] >= 3 for n in ("centre", "room", "event")), dict(rendered)
    assert sum(1 for status in seen.values() if status == 200) >= MIN_PAGES, len(seen)


def test_a_rating_comment_with_the_residents_phone_is_refused_and_never_published(personas, settings, monkeypatch,
                                                                                  tmp_path):
    from django.core.exceptions import ValidationError

    from zhouxin.cobuild import ratings
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    call_command("load_demo_cobuild", stdout=io.StringIO())
    project = _publish_projects(personas)
    phone = personas.people["resident_a"].phone
    signed_in(phone)
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"
    with scopes_disabled(), pytest.raises(ValidationError) as refused:
        ratings.rate(account=_account_of(phone), project=project, stars=5, comment=f"很好，有事打我电话{spaced}")
    assert "手机号码" in " ".join(refused.value.messages)
    page = Client().get(reverse("cobuild_public:project", args=[project.pk])).content.decode()
    assert "有事打我电话" not in page
    assert leaks(page, {phone}, set()) == []
