"""Micro-wishes in a real Chromium under the strict CSP, on a 390 px phone: a resident orders a
wish, the community posts it from 双报到 → 微心愿, a Party member takes it on the wall, the
community confirms it was fulfilled and the resident thanks and rates it; no page
scrolls sideways, and axe-core finds nothing serious on the portal pages."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe, open_from_menu
from zhouxin.volunteers.choices import WishStatus
from zhouxin.volunteers.models import Wish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
PHONE, MEMBER_PHONE = "13911116666", "13900001111"


def _portal_sign_in(page, url: str, next_path: str, phone: str) -> None:
    from playwright.sync_api import expect

    page.goto(url + reverse("portal:signin") + f"?next={next_path}")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label(re.compile("^我已阅读并同意《居民账号个人信息处理告知》")).check()
    page.get_by_role("button", name="获取登录验证码").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("输入登录验证码")
    page.get_by_label("短信验证码").fill(re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1))
    page.get_by_role("button", name="登录").tap()
    expect(page).to_have_url(url + next_path)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"], page.url


def test_order_post_and_take_a_wish_on_a_phone(personas, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    from zhouxin.testing.browser import sign_in

    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    axe = Axe()
    errors: list[str] = []
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    # 1. A resident orders a wish on the phone.
    resident = page_for(browser.new_context(**phone))
    order_path = reverse("volunteers_public:wish_order")
    _portal_sign_in(resident, url, order_path, PHONE)
    resident.get_by_label("所在社区").select_option(label="东华门街道 · 多福巷社区")
    resident.get_by_label("我的心愿").fill("想要一台收音机")
    resident.get_by_label("心愿人").fill("独居老人")
    resident.get_by_label("大约价值（元）").fill("120")
    _no_sideways_scroll(resident)
    resident.get_by_role("button", name="提交心愿").tap()
    expect(resident.get_by_role("heading", level=1)).to_have_text("想要一台收音机")
    expect(resident.get_by_text("心愿已提交").first).to_be_visible()
    _no_sideways_scroll(resident)
    with scopes_disabled():
        wish = Wish.objects.unscoped().get()

    # 2. The community posts it from the menu.
    staff = page_for(browser.new_context(**browser_context_args))
    sign_in(staff, url, personas, "community_staff")
    open_from_menu(staff, "双报到", "微心愿")
    staff.get_by_role("link", name="想要一台收音机").click()
    staff.get_by_role("button", name="下单发布").click()
    expect(staff.get_by_text("心愿已下单").first).to_be_visible()

    # 3. A Party member finds it on the wall and takes it.
    member = page_for(browser.new_context(**phone))
    wall_path = reverse("volunteers_public:wishes")
    _portal_sign_in(member, url, wall_path, MEMBER_PHONE)
    expect(member.get_by_role("link", name="想要一台收音机")).to_be_visible()
    _no_sideways_scroll(member)
    member.get_by_role("link", name="查看并认领").first.tap()
    member.get_by_role("button", name="我来认领").tap()
    expect(member.get_by_text("认领成功").first).to_be_visible()
    _no_sideways_scroll(member)
    with scopes_disabled():
        wish.refresh_from_db()
    assert wish.status == WishStatus.TAKEN and wish.taken_by_person == personas.people["member_a"]
    member.goto(url + reverse("volunteers_public:wishes_mine"))
    expect(member.get_by_role("link", name="想要一台收音机")).to_be_visible()
    _no_sideways_scroll(member)

    # 4. The community confirms it was fulfilled; the resident thanks and rates on the phone.
    staff.reload()
    staff.get_by_role("button", name="确认心愿已完成").click()
    with scopes_disabled():
        wish.refresh_from_db()
    assert wish.status == WishStatus.COMPLETED
    resident.goto(url + reverse("volunteers_public:wish", args=[wish.number]))
    resident.get_by_label("5 星").check()
    resident.get_by_label("感谢留言（选填）").fill("收音机收到了，每天都能听新闻，谢谢党员同志！")
    resident.get_by_role("button", name="提交感谢与评价").tap()
    expect(resident.get_by_text("感谢您的评价！").first).to_be_visible()
    expect(resident.get_by_text("收音机收到了，每天都能听新闻，谢谢党员同志！").first).to_be_visible()
    _no_sideways_scroll(resident)
    with scopes_disabled():
        wish.refresh_from_db()
        from zhouxin.volunteers.models import PointEntry
        assert PointEntry.objects.unscoped().filter(person=personas.people["member_a"], source_id=wish.pk).count() == 1
    assert (wish.status, wish.stars) == (WishStatus.THANKED, 5)

    checker = browser.new_context(**browser_context_args, bypass_csp=True)
    for path in (wall_path, reverse("volunteers_public:wish", args=[wish.number])):
        axe.check_url(checker, url + path)
    assert not errors, errors
    axe.assert_clean()
