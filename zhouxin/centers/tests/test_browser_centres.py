"""Centres end to end, in a real Chromium (Debian's, see conftest.py) under the strict CSP:
a unit's liaison books a room of the community's centre; the community approves the booking
and publishes it as an event; the event is on the portal's events calendar; two residents
register on their phones and one checks in by scanning the QR code the community shows at the
door; the community's utilisation page counts the booked hours, the event and the check-in.

The clock: the whole journey happens within the next hour and a half, on today's date, so the
test runs in a time zone where it is around noon now (opening hours, "today" and the dashboard
period then hold at any hour the suite is run).  axe-core checks the pages on the way.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import centres
from zhouxin.centers.models import Booking, Event, EventRegistration
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe, open_from_menu, portal_sign_in, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
RESIDENTS = ("13911117777", "13911118888")
TITLE = "医院专家义诊进社区"
ALL_DAY = [["07:00", "22:00"]]


@pytest.fixture(autouse=True)
def _noon_somewhere(settings):
    """A fixed-offset zone where the local time is between 12:00 and 13:00 right now."""
    offset = 12 - dt.datetime.now(dt.UTC).hour
    offset = offset - 24 if offset > 14 else offset + 24 if offset < -12 else offset
    settings.TIME_ZONE = "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def scanned_url(staff_page, live_url: str) -> str:
    """What the resident's camera opens: the URL inside the community's current QR code, taken
    from the code feed the page itself polls (data-url)."""
    from playwright.sync_api import expect

    code = staff_page.locator("#zx-vol-qr")
    expect(code.locator("svg")).to_be_visible()
    feed = code.get_attribute("data-url")
    response = staff_page.request.get(live_url + feed if feed.startswith("/") else feed)
    assert response.ok, response.status
    return response.json()["url"]


def test_a_unit_books_a_room_the_event_is_public_residents_register_and_check_in(
        personas, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    a, o = personas.areas, personas.orgs
    with scopes_disabled():
        centre = centres.centre_save(
            actor=personas.community_staff, area=a["community_a"], name="多福巷社区党群服务站",
            address="东城区多福巷 12 号", floor_area=Decimal("820"),
            opening_hours=dict.fromkeys((*centres.DAY_KEYS, "holiday"), ALL_DAY))
        hall = centres.room_save(actor=personas.community_staff, centre=centre, name="多功能厅",
                                 floor_area=Decimal("180"), capacity=60, equipment="投影仪、音响、折叠桌椅")
    now = timezone.localtime()
    start = (now + dt.timedelta(minutes=20)).replace(second=0, microsecond=0)
    start = start.replace(minute=start.minute - start.minute % 5)
    end = start + dt.timedelta(hours=1)
    errors: list[str] = []

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    # 1. The hospital's liaison books the hall for a free clinic.
    liaison_context = browser.new_context(**browser_context_args)
    liaison = page_for(liaison_context)
    sign_in(liaison, url, personas, "unit_liaison")
    open_from_menu(liaison, "党群服务中心", "场地预约")
    liaison.get_by_role("link", name="预约功能室").click()
    liaison.get_by_label("功能室").select_option(label="多福巷社区党群服务站 · 多功能厅（容纳 60 人）")
    liaison.get_by_label("日期").fill(start.date().isoformat())
    liaison.get_by_label("开始时间").fill(start.strftime("%H:%M"))
    liaison.get_by_label("结束时间").fill(end.strftime("%H:%M"))
    liaison.get_by_label("活动名称").fill(TITLE)
    liaison.get_by_label("预计人数").fill("40")
    liaison.get_by_role("button", name="提交预约").click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(liaison.get_by_text("待审批").first).to_be_visible()
    with scopes_disabled():
        booking = Booking.objects.get(title=TITLE)
        assert (booking.room_id, booking.organisation_id, booking.status) == (hall.pk, o["unit"].pk, "pending")

    # 2. The community approves it and publishes it as a public event with 30 places.
    staff_context = browser.new_context(**browser_context_args)
    staff = page_for(staff_context)
    sign_in(staff, url, personas, "community_staff")
    staff.goto(url + reverse("centers:booking_detail", args=[booking.pk]))
    staff.get_by_role("button", name="批准", exact=True).click()
    expect(staff.get_by_text("已批准").first).to_be_visible()
    staff.get_by_role("link", name="发布为公开活动").click()
    staff.get_by_label("名额").fill("30")
    staff.get_by_label("活动介绍").fill("东城区第一人民医院心内科、眼科专家现场义诊，测血压血糖，免费咨询")
    staff.get_by_role("button", name="发布活动").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(TITLE)
    with scopes_disabled():
        event = Event.objects.get(booking=booking)
        assert (event.starts_at, event.ends_at, event.capacity) == (start, end, 30)

    # 3. Two residents find it on the portal's events calendar and register on their phones.
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    event_path = reverse("centers_public:event", args=[event.pk])
    residents = []
    for number in RESIDENTS:
        resident = page_for(browser.new_context(**phone))
        resident.goto(url + reverse("portal:home"))
        resident.get_by_role("link", name="活动日历").first.tap()
        resident.get_by_role("link", name=TITLE).first.tap()
        expect(resident.get_by_role("heading", level=1)).to_have_text(TITLE)
        expect(resident.get_by_text("多功能厅").first).to_be_visible()
        portal_sign_in(resident, url, event_path, number)
        resident.get_by_role("button", name="报名参加").tap()
        expect(resident.get_by_role("button", name="取消报名")).to_be_visible()
        assert resident.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        residents.append(resident)
    with scopes_disabled():
        assert EventRegistration.objects.unscoped().filter(event=event, status="registered").count() == 2
    # No registrant's phone on the public event page.
    public = page_for(browser.new_context(**phone))
    public.goto(url + event_path)
    for number in RESIDENTS:
        expect(public.get_by_text(number)).to_have_count(0)

    # 4. At the door the community shows the check-in code; the first resident scans it.
    staff.goto(url + reverse("centers:event_code", args=[event.pk]))
    first = residents[0]
    first.goto(scanned_url(staff, url))
    first.get_by_role("button", name=re.compile("签到")).tap()
    expect(first.get_by_role("heading", level=1)).to_have_text("签到成功")
    with scopes_disabled():
        checked = EventRegistration.objects.unscoped().get(event=event, checked_in_at__isnull=False)
        assert checked.account.phone == RESIDENTS[0]

    # 5. The community's utilisation page counts the hour, the event and the check-in.
    staff.goto(url + reverse("centers:dashboard_community"))
    row = staff.locator("tr", has=staff.get_by_role("rowheader", name="多功能厅"))
    expect(row.locator("td[data-label='使用小时']")).to_have_text("1")
    expect(row.locator("td[data-label='活动场次']")).to_have_text("1")
    expect(row.locator("td[data-label='签到人次']")).to_have_text("1")
    expect(row.locator("td[data-label='使用率']")).not_to_have_text("0.0%")
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # Every page of the way, checked by axe-core.
    for context, paths in (
            (liaison_context, [reverse("centers:booking_list"), reverse("centers:booking_create")]),
            (staff_context, [reverse("centers:booking_detail", args=[booking.pk]),
                             reverse("centers:event_detail", args=[event.pk]),
                             reverse("centers:centre_detail", args=[centre.pk]),
                             reverse("centers:rota", args=[centre.pk]),
                             reverse("centers:dashboard_community")])):
        audit = browser.new_context(**browser_context_args, bypass_csp=True)
        audit.add_cookies(context.cookies())
        for path in paths:
            axe.check_url(audit, url + path)
    anonymous = browser.new_context(**phone, bypass_csp=True)
    for path in (event_path, reverse("centers_public:calendar"), reverse("centers_public:centre", args=[centre.pk]),
                 reverse("centers_public:room", args=[hall.pk])):
        axe.check_url(anonymous, url + path)
    axe.assert_clean()
