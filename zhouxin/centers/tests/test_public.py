"""The centres on the portal: the centre list and page (hours with holidays, rooms, catalogue,
events), the room page's way to booking, the events calendar (month, filters, never a cancelled
event), the event page (places, register, waiting list, cancel; never a registrant's phone), the
check-in landing (sign in first, then one tap; expired and walk-in cases), the community page's
section and the pages the integrity monitor watches."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import events, views_public
from zhouxin.centers.choices import RegistrationStatus
from zhouxin.centers.models import Centre, Event, ServiceItem
from zhouxin.core import public_pages
from zhouxin.core.scoping import scopes_disabled

from .helpers_events import account, centre, event, move, portal_client, room, running, texts_in_memory

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts(settings):
    yield from texts_in_memory(settings)


PHONE = "13800000011"
OTHER = "13800000012"


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), timezone.get_current_timezone())


def _place(the_event: Event, day: dt.date, hour: int = 10) -> Event:
    return move(the_event, starts_at=_at(day, hour), ends_at=_at(day, hour + 2))


# --- Centres -----------------------------------------------------------------------------

def test_the_centre_list_groups_centres_by_street_with_todays_hours(personas):
    centre(personas)
    centre(personas, area="street_b", name="景山街道党群服务中心")
    centre(personas, area="community_a2", name="银闸社区党群服务中心", is_active=False)
    page = Client().get(reverse("centers_public:centres"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "多福巷社区党群服务中心" in body and "景山街道党群服务中心" in body
    assert "东华门街道" in body and "景山街道" in body
    assert "银闸社区党群服务中心" not in body
    assert "今日开放：08:30–12:00、13:30–20:00" in body
    filtered = Client().get(reverse("centers_public:centres"), {"street": personas.areas["street_b"].code})
    assert "景山街道党群服务中心" in filtered.content.decode()
    assert "多福巷社区党群服务中心" not in filtered.content.decode()


def test_the_centre_page_shows_hours_holidays_rooms_catalogue_and_events(personas):
    from zhouxin.core import workdays

    today = timezone.localdate()
    holiday = next(today + dt.timedelta(days=n) for n in range(1, 7) if (today + dt.timedelta(days=n)).weekday() < 5)
    with scopes_disabled():
        workdays.calendar_year_publish(actor=personas.district_admin, year=holiday.year,
                                       days=[workdays.DaySpec(holiday, False, "测试节")])
    hours = {**{k: [["08:30", "12:00"], ["13:30", "20:00"]] for k in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                                      "sun")},
             "holiday": [["09:00", "11:00"]]}
    hub = centre(personas, hours=hours, description="一站式服务居民")
    room(hub, name="书画室", capacity=24, equipment="书画桌、投影仪")
    room(hub, name="停用的仓库", is_active=False)
    ServiceItem.objects.create(centre=hub, name="老年证办理", hours="工作日 9:00–17:00")
    planned = event(personas, hub, title="重阳节书画交流会", capacity=10)
    events.event_register(account=account(PHONE), event=planned)
    event(personas, hub, title="已取消的讲座")
    with scopes_disabled():
        events.event_cancel(actor=personas.community_staff, event=Event.objects.unscoped().get(title="已取消的讲座"),
                            reason="场地维修")
    body = Client().get(reverse("centers_public:centre", args=[hub.pk])).content.decode()
    assert "多福巷 1 号" in body and "010-65550000" in body and "一站式服务居民" in body
    assert f"{holiday.month}月{holiday.day}日" in body and "测试节" in body and "09:00–11:00" in body
    assert "书画室" in body and "可容纳 24 人" in body and "书画桌、投影仪" in body
    assert "停用的仓库" not in body
    assert "老年证办理" in body and "工作日 9:00–17:00" in body
    assert "重阳节书画交流会" in body and "剩余名额 9/10" in body
    assert "已取消的讲座" not in body
    assert PHONE not in body and "138****0011" not in body


def test_an_inactive_centre_and_its_rooms_answer_404(personas):
    hub = centre(personas, is_active=False)
    hall = room(hub)
    assert Client().get(reverse("centers_public:centre", args=[hub.pk])).status_code == 404
    assert Client().get(reverse("centers_public:room", args=[hall.pk])).status_code == 404


def test_the_room_page_sends_residents_on_to_booking(personas):
    hub = centre(personas)
    hall = room(hub, name="多功能厅", capacity=60)
    anonymous = Client().get(reverse("centers_public:room", args=[hall.pk])).content.decode()
    assert "<dd>60</dd>" in anonymous and "投影仪、音响" in anonymous and "多福巷 1 号" in anonymous
    assert "登录后预约" in anonymous and reverse("portal:signin") in anonymous
    signed_in = portal_client(account(PHONE)).get(reverse("centers_public:room", args=[hall.pk])).content.decode()
    assert f'href="{reverse("centers_public:room_book", args=[hall.pk])}"' in signed_in
    closed = room(hub, name="档案室", bookable=False)
    body = portal_client(account(PHONE)).get(reverse("centers_public:room", args=[closed.pk])).content.decode()
    assert "这间功能室不对外预约" in body and reverse("centers_public:room_book", args=[closed.pk]) not in body


# --- The calendar ------------------------------------------------------------------------

def test_the_calendar_shows_the_months_published_events_and_never_cancelled_ones(personas):
    hub = centre(personas)
    today = timezone.localdate()
    first = (today.replace(day=1) + dt.timedelta(days=40)).replace(day=1)  # a month ahead, all in the future
    _place(event(personas, hub, title="月初读书会", capacity=4), first + dt.timedelta(days=2), 9)
    _place(event(personas, hub, title="同日下午茶话会"), first + dt.timedelta(days=2), 14)
    _place(event(personas, hub, title="月中健康讲座"), first + dt.timedelta(days=14))
    cancelled = _place(event(personas, hub, title="取消的观影会"), first + dt.timedelta(days=3))
    with scopes_disabled():
        events.event_cancel(actor=personas.community_staff, event=cancelled, reason="设备故障")
    following = (first + dt.timedelta(days=40)).replace(day=1)
    _place(event(personas, hub, title="下个月的活动"), following + dt.timedelta(days=1))
    response = Client().get(reverse("centers_public:calendar"), {"month": f"{first:%Y-%m}"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "月初读书会" in body and "同日下午茶话会" in body and "月中健康讲座" in body
    assert "取消的观影会" not in body and "下个月的活动" not in body
    # Grouped by day, in time order; one heading for the day with two events.
    day_label = f"{(first + dt.timedelta(days=2)).month}月{(first + dt.timedelta(days=2)).day}日"
    assert body.count(day_label) == 1
    assert body.index("月初读书会") < body.index("同日下午茶话会") < body.index("月中健康讲座")
    assert "剩余名额 4/4" in body
    # Navigation: the next month's link carries the month.
    next_link = parse_qs(urlparse(_href(body, 'rel="next"')).query)
    assert next_link["month"] == [f"{following:%Y-%m}"]
    assert "下个月的活动" in Client().get(reverse("centers_public:calendar"),
                                       {"month": f"{following:%Y-%m}"}).content.decode()


def _href(body: str, marker: str) -> str:
    """The href of the first <a> carrying `marker`."""
    tag_start = body.rfind("<a ", 0, body.index(marker))
    tag = body[tag_start:body.index(">", tag_start)]
    return tag.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")


def test_the_calendar_filters_by_street_and_community(personas):
    ours = centre(personas)
    theirs = centre(personas, area="community_b", name="吉祥社区党群服务中心")
    street = centre(personas, area="street_a", name="东华门街道党群服务中心")
    day = timezone.localdate() + dt.timedelta(days=3)
    _place(event(personas, ours, title="多福巷的活动"), day)
    _place(event(personas, theirs, title="吉祥社区的活动", actor="community_staff_b"), day)
    _place(event(personas, street, title="街道中心的活动", actor="street_hub"), day)
    month = f"{day:%Y-%m}"
    by_street = Client().get(reverse("centers_public:calendar"),
                             {"month": month, "street": personas.areas["street_a"].code}).content.decode()
    assert "多福巷的活动" in by_street and "街道中心的活动" in by_street and "吉祥社区的活动" not in by_street
    by_community = Client().get(reverse("centers_public:calendar"),
                                {"month": month, "community": personas.areas["community_b"].code}).content.decode()
    assert "吉祥社区的活动" in by_community and "多福巷的活动" not in by_community
    # Nonsense parameters fall back to this month, unfiltered.
    assert Client().get(reverse("centers_public:calendar"), {"month": "2024-13", "street": "x"}).status_code == 200


# --- An event ----------------------------------------------------------------------------

def test_a_resident_registers_waits_and_cancels_on_the_event_page(personas, texts):
    planned = event(personas, centre(personas), capacity=1, title="太极拳入门")
    url = reverse("centers_public:event", args=[planned.pk])
    anonymous = Client().get(url).content.decode()
    assert "剩余名额" in anonymous and "1/1" in anonymous and "登录后报名" in anonymous
    # Posting without a resident session goes to the sign-in page and registers nobody.
    response = Client().post(reverse("centers_public:event_register", args=[planned.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:signin"))
    assert not planned.registrations.model.objects.unscoped().filter(event=planned).exists()

    first, second = portal_client(account(PHONE)), portal_client(account(OTHER))
    response = first.post(reverse("centers_public:event_register", args=[planned.pk]))
    assert response.status_code == 302
    page = first.get(response.url).content.decode()
    assert "报名成功" in page and "取消报名" in page and "0/1" in page
    page = second.get(url).content.decode()
    assert "报名候补" in page
    response = second.post(reverse("centers_public:event_register", args=[planned.pk]))
    page = second.get(response.url).content.decode()
    assert "您已进入候补名单" in page and "候补第 1 位" in page and "退出候补" in page
    # A second registration is refused with a message.
    again = first.post(reverse("centers_public:event_register", args=[planned.pk]))
    assert again.status_code == 422 and "您已报名这个活动" in again.content.decode()
    # Cancelling promotes the waiting resident, who is texted.
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = first.post(reverse("centers_public:event_cancel_registration", args=[planned.pk]))
    assert "已取消报名" in first.get(response.url).content.decode()
    assert [m.phone for m in texts] == [OTHER]
    assert events.registration_of(planned, account(OTHER)).status == RegistrationStatus.REGISTERED
    # Nobody's phone is on the public page.
    for client in (Client(), first, second):
        body = client.get(url).content.decode()
        assert PHONE not in body and OTHER not in body and "138****0011" not in body


def test_the_event_page_shows_its_links_and_a_cancelled_event_as_cancelled(personas):
    from zhouxin.volunteers.tests.test_activities_helpers import activity

    linked = activity(personas, title="助老志愿服务")
    planned = event(personas, centre(personas), volunteer_activity=linked)
    body = Client().get(reverse("centers_public:event", args=[planned.pk])).content.decode()
    assert reverse("volunteers_public:activity", args=[linked.pk]) in body and "助老志愿服务" in body
    with scopes_disabled():
        events.event_cancel(actor=personas.community_staff, event=planned, reason="天气")
    body = Client().get(reverse("centers_public:event", args=[planned.pk])).content.decode()
    assert "活动已取消" in body and "报名参加" not in body
    assert Client().get(reverse("centers_public:event", args=[999999])).status_code == 404


# --- The check-in landing ----------------------------------------------------------------

def test_scanning_signs_in_first_then_one_tap_checks_in(personas):
    planned = event(personas, centre(personas))
    mine = account(PHONE)
    events.event_register(account=mine, event=planned)
    running(planned)
    url = reverse("centers_public:check", args=[events.checkin_token(planned)])
    browser = Client()
    response = browser.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("portal:signin"))
    assert parse_qs(urlparse(response.url).query)["next"] == [url]
    # Signed in (the same browser), the page asks to confirm; the tap checks in.
    from zhouxin.portal.session import RESIDENT_KEY

    session = browser.session
    session[RESIDENT_KEY] = {"id": mine.pk, "since": time.time(), "seen": time.time()}
    session.save()
    page = browser.get(url)
    assert page.status_code == 200 and "确认签到" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    done = browser.post(url)
    assert done.status_code == 200 and "签到成功" in done.content.decode()
    assert events.registration_of(planned, mine).checked_in_at is not None
    assert "您已签到" in browser.get(url).content.decode()


def test_an_expired_code_on_the_portal_says_so(personas):
    planned = event(personas, centre(personas))
    events.event_register(account=account(PHONE), event=planned)
    running(planned)
    old = timezone.now() - dt.timedelta(seconds=events.CODE_VALID_SECONDS + 5)
    url = reverse("centers_public:check", args=[events.checkin_token(planned, issued_at=old)])
    for client in (Client(), portal_client(account(PHONE))):
        response = client.get(url)
        assert response.status_code == 400 and "签到码已过期" in response.content.decode()
    response = portal_client(account(PHONE)).post(url)
    assert response.status_code == 400 and "签到码已过期" in response.content.decode()
    assert events.registration_of(planned, account(PHONE)).checked_in_at is None


def test_an_unregistered_resident_may_register_on_the_spot(personas):
    planned = running(event(personas, centre(personas), capacity=2))
    walker = portal_client(account(PHONE))
    url = reverse("centers_public:check", args=[events.checkin_token(planned)])
    page = walker.get(url).content.decode()
    assert "您还没有报名这个活动" in page and "现场报名并签到" in page
    refused = walker.post(url)
    assert refused.status_code == 400 and "您没有报名" in refused.content.decode()
    done = walker.post(url, {"walk_in": "1"})
    assert done.status_code == 200 and "签到成功" in done.content.decode()
    assert events.registration_of(planned, account(PHONE)).checked_in_at is not None


def test_a_waitlisted_resident_is_told_on_scanning(personas):
    planned = event(personas, centre(personas), capacity=1)
    events.event_register(account=account(OTHER), event=planned)
    events.event_register(account=account(PHONE), event=planned)
    running(planned)
    page = portal_client(account(PHONE)).get(reverse("centers_public:check", args=[events.checkin_token(planned)]))
    body = page.content.decode()
    assert "候补名单上（第 1 位）" in body and "确认签到" not in body


def test_checking_in_at_a_linked_activity_points_to_the_volunteer_code(personas):
    from zhouxin.volunteers import activities as volunteer_activities
    from zhouxin.volunteers.tests.test_activities_helpers import activity

    linked = activity(personas, title="助老志愿服务")
    mine = account(PHONE)
    with scopes_disabled():
        volunteer_activities.signup(account=mine, activity=linked)
    planned = event(personas, centre(personas), volunteer_activity=linked)
    events.event_register(account=mine, event=planned)
    running(planned)
    done = portal_client(mine).post(reverse("centers_public:check", args=[events.checkin_token(planned)]))
    body = done.content.decode()
    assert "签到成功" in body and "您也报名了志愿活动“助老志愿服务”" in body and "不计入服务时长" in body


# --- The community page and the integrity monitor ---------------------------------------

def test_the_community_page_lists_its_centres_and_upcoming_events(personas):
    hub = centre(personas)
    centre(personas, area="street_a", name="东华门街道党群服务中心")
    event(personas, hub, title="社区邻里节")
    body = Client().get(reverse("portal:community", args=[personas.areas["community_a"].code])).content.decode()
    assert "党群服务中心" in body and "多福巷社区党群服务中心" in body and "东华门街道党群服务中心" in body
    assert "社区邻里节" in body
    assert views_public.community_section(personas.areas["community_x"]) is None


def test_the_monitor_watches_the_centre_pages(personas):
    hub = centre(personas)
    hall = room(hub)
    planned = event(personas, hub, title="社区邻里节")
    gone = event(personas, hub, title="取消了")
    with scopes_disabled():
        events.event_cancel(actor=personas.community_staff, event=gone, reason="取消")
        Centre.objects.unscoped().create(area=personas.areas["community_b"], name="停用中心", address="x",
                                         floor_area="100", is_active=False)
    pages = public_pages.collect()
    assert pages[reverse("centers_public:calendar")] == "活动日历"
    assert pages[reverse("centers_public:centre", args=[hub.pk])] == hub.name
    assert reverse("centers_public:room", args=[hall.pk]) in pages
    assert pages[reverse("centers_public:event", args=[planned.pk])] == "社区邻里节"
    assert reverse("centers_public:event", args=[gone.pk]) not in pages
    assert "停用中心" not in pages.values()


def test_the_residents_export_holds_their_registrations(personas):
    from zhouxin.portal import personal_data

    mine = account(PHONE)
    events.event_register(account=mine, event=event(personas, centre(personas), title="社区邻里节"))
    holder = next(h for h in personal_data.holders() if h.name == "centre_events")
    exported = holder.export(mine)
    assert [row["event"] for row in exported] == ["社区邻里节"] and exported[0]["status"] == "registered"
    assert holder.export(account(OTHER)) == []
