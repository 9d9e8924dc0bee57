"""双报到 in a real Chromium under the strict CSP: the Party member 周海燕 signs in on a phone and
registers with her community; 多福巷社区's staff confirm it from the 双报到 menu; the member sees
her registration valid until its date; the unit's liaison and the street see the figures.
axe-core checks the pages (a second context bypasses the CSP only to inject it)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe, open_from_menu
from zhouxin.volunteers.choices import RegistrationStatus
from zhouxin.volunteers.models import MemberRegistration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
MEMBER_PHONE = "13900001111"


def test_member_registers_on_a_phone_and_the_community_confirms(personas, live_server, browser,
                                                                browser_context_args):
    from playwright.sync_api import expect

    from zhouxin.testing.browser import sign_in

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    register = reverse("volunteers_public:register")
    errors: list[str] = []

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    member_context = browser.new_context(**phone)
    member = page_for(member_context)
    member.goto(url + register)
    member.get_by_label("手机号").fill(MEMBER_PHONE)
    member.get_by_label(re.compile("^我已阅读并同意《居民账号个人信息处理告知》")).check()
    member.get_by_role("button", name="获取登录验证码").tap()
    expect(member.get_by_role("heading", level=1)).to_have_text("输入登录验证码")
    member.get_by_label("短信验证码").fill(re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1))
    member.get_by_role("button", name="登录").tap()
    expect(member).to_have_url(url + register)
    expect(member.get_by_role("heading", level=1)).to_have_text("在职党员到居住社区报到")
    expect(member.get_by_label("报到社区")).to_have_value(str(personas.areas["community_a"].pk))
    member.get_by_label("特长与服务意愿").fill("医疗咨询，周末可服务")
    assert member.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    member.get_by_role("button", name="提交报到").tap()
    expect(member.get_by_text("报到已提交，请等待社区确认。")).to_be_visible()

    staff_context = browser.new_context(**browser_context_args)
    staff = page_for(staff_context)
    sign_in(staff, url, personas, "community_staff")
    open_from_menu(staff, "双报到", "报到管理")
    row = staff.get_by_role("row").filter(has_text="周海燕")
    row.get_by_role("button", name="确认").click()
    expect(staff.get_by_text("已确认报到。")).to_be_visible()
    with scopes_disabled():
        reg = MemberRegistration.objects.unscoped().get()
    assert reg.status == RegistrationStatus.CONFIRMED

    member.reload()
    expect(member.get_by_text(reg.valid_until.strftime("%Y-%m-%d")).first).to_be_visible()
    expect(member.locator("dd").filter(has_text="已报到")).to_be_visible()
    assert member.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert not [e for e in errors if "Content Security Policy" in e], errors

    liaison_context = browser.new_context(**browser_context_args)
    sign_in(page_for(liaison_context), url, personas, "unit_liaison")
    for context, paths in ((staff_context, [reverse("volunteers:registration_list"),
                                            reverse("volunteers:member_register"), reverse("volunteers:completion"),
                                            reverse("volunteers:completion_unit", args=[personas.orgs["unit"].pk])]),
                           (liaison_context, [reverse("volunteers:my_unit")]),
                           (member_context, [register])):
        audit = browser.new_context(**(phone if context is member_context else browser_context_args),
                                    bypass_csp=True)
        audit.add_cookies(context.cookies())
        for path in paths:
            axe.check_url(audit, url + path)
    axe.assert_clean()
