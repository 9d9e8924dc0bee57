"""A Party member's activity, on phones, in a real Chromium under the strict CSP: the member
signs up on the portal; the organiser opens the check-in code on their phone; the member
"scans" it (opens the URL the QR code carries, read from the page's own code feed), confirms,
and later checks out the same way; the check-out page and 我的志愿服务 show the verified
hours and the points for them.  axe-core checks the pages on the way."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.testing.browser import Axe
from zhouxin.volunteers.choices import CheckMethod, SignUpStatus
from zhouxin.volunteers.models import PointEntry, SignUp

from .test_activities_helpers import MEMBER_PHONE, activity, move
from .test_wishes_browser import PHONE_VIEWPORT, TIMEOUT_MS, _no_sideways_scroll, _portal_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]


def scanned_url(organiser, live_url: str, action: str) -> str:
    """What the member's camera opens: the URL inside the organiser's current QR code, taken
    from the code feed the organiser's page itself polls (data-url)."""
    from playwright.sync_api import expect

    code = organiser.locator("#zx-vol-qr")
    expect(code.locator("svg")).to_be_visible()
    feed = code.get_attribute("data-url")
    response = organiser.request.get(live_url + feed if feed.startswith("/") else feed)
    assert response.ok, response.status
    data = response.json()
    assert data["action"] == action
    return data["url"]


def test_a_member_signs_up_checks_in_and_out_by_qr_and_sees_verified_hours(
        personas, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    from zhouxin.testing.browser import sign_in

    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    axe = Axe()
    errors: list[str] = []
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    now = timezone.now()
    with scopes_disabled():
        visit = activity(personas, title="多福巷社区敬老院陪伴", slots=10)

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    # 1. The member signs up on the portal.
    member = page_for(browser.new_context(**phone))
    activity_path = reverse("volunteers_public:activity", args=[visit.pk])
    _portal_sign_in(member, url, activity_path, MEMBER_PHONE)
    expect(member.get_by_role("heading", level=1)).to_have_text("多福巷社区敬老院陪伴")
    member.get_by_role("button", name="报名参加").tap()
    expect(member.get_by_role("button", name="取消报名")).to_be_visible()
    _no_sideways_scroll(member)
    with scopes_disabled():
        # The day comes: under way since three hours ago, ends in an hour.
        move(visit, starts_at=now - dt.timedelta(hours=3), ends_at=now + dt.timedelta(hours=1))

    # 2. The organiser shows the check-in code on a phone; the member scans it and confirms.
    organiser = page_for(browser.new_context(**phone))
    sign_in(organiser, url, personas, "community_staff")
    organiser.goto(url + reverse("volunteers:activity_detail", args=[visit.pk]))
    organiser.get_by_role("link", name="签到码", exact=True).click()
    expect(organiser.get_by_role("heading", level=1)).to_have_text("签到码")
    member.goto(scanned_url(organiser, url, "in"))
    member.get_by_role("button", name="确认签到").tap()
    expect(member.get_by_role("heading", level=1)).to_have_text("签到成功")
    _no_sideways_scroll(member)
    with scopes_disabled():
        signup = SignUp.objects.unscoped().get(activity=visit)
        assert (signup.status, signup.check_in_method, signup.person) == (
            SignUpStatus.CHECKED_IN, CheckMethod.QR, personas.people["member_a"])
        # Two hours of service pass.
        SignUp.objects.unscoped().filter(pk=signup.pk).update(checked_in_at=signup.checked_in_at - dt.timedelta(hours=2))

    # 3. Check-out by the check-out code: the hours are verified.
    organiser.get_by_role("link", name="签退", exact=True).click()
    expect(organiser.get_by_role("heading", level=1)).to_have_text("签退码")
    member.goto(scanned_url(organiser, url, "out"))
    member.get_by_role("button", name="确认签退").tap()
    expect(member.get_by_role("heading", level=1)).to_have_text("签退成功")
    expect(member.get_by_role("status")).to_contain_text(re.compile(r"核定服务时长 2\.0 小时"))
    with scopes_disabled():
        signup.refresh_from_db()
        assert signup.status == SignUpStatus.COMPLETED and 120 <= signup.minutes <= 121
        assert signup.verified_by == visit.organiser
        points = PointEntry.objects.unscoped().get(person=personas.people["member_a"], source_id=signup.pk)
        assert points.points == 2

    # 4. 我的志愿服务 shows the verified hours and the points.
    member.get_by_role("link", name="我的志愿服务").first.tap()
    expect(member.get_by_role("heading", level=1)).to_have_text("我的志愿服务")
    figures = member.locator(".zx-public__figures")
    expect(figures).to_contain_text("2.0")
    expect(member.get_by_role("link", name="多福巷社区敬老院陪伴")).to_be_visible()
    _no_sideways_scroll(member)
    assert not [e for e in errors if "Content Security Policy" in e], errors

    audit = browser.new_context(**phone, bypass_csp=True)
    audit.add_cookies(member.context.cookies())
    for path in (activity_path, reverse("volunteers_public:me"), reverse("volunteers_public:activities")):
        axe.check_url(audit, url + path)
    staff = browser.new_context(**phone, bypass_csp=True)
    staff.add_cookies(organiser.context.cookies())
    for path in (reverse("volunteers:activity_detail", args=[visit.pk]),
                 reverse("volunteers:activity_code", args=[visit.pk])):
        axe.check_url(staff, url + path)
    axe.assert_clean()
