"""Co-building end to end, in a real Chromium (Debian's, see conftest.py) under the strict CSP:
a community posts a need; the unit's liaison finds it under 资源匹配 (matches for the unit's
resources) and claims it; the street confirms and starts a project, issues its agreement
(a PDF with the Chinese text in it), starts it and publishes it; a resident signs in on a
phone and rates it on the portal, and the rating shows on the public page and on the
street's project page.

axe-core checks the pages on the way in a second context that bypasses the CSP only to
inject it; a "serious" or "critical" violation fails the test.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import NeedCategory, ResourceKind, ServiceRadius
from zhouxin.cobuild.models import Claim, Need, Project
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe, open_from_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
PHONE = "13911115555"
NEED = "独居老人午间助餐"


@pytest.fixture(autouse=True)
def _texts_and_files(settings, tmp_path):
    """Sign-in codes go to the in-memory outbox; the agreement PDF to a temporary directory."""
    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def test_a_need_is_matched_claimed_confirmed_agreed_and_rated(personas, live_server, browser, browser_context_args):
    from playwright.sync_api import expect
    from pypdf import PdfReader

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    a, o = personas.areas, personas.orgs
    with scopes_disabled():
        # The unit's canteen, registered earlier, and another unit's in another street.
        canteen = services.resource_create(
            actor=personas.unit_liaison, owner=o["unit"], kind=ResourceKind.EXPERTISE,
            category=NeedCategory.ELDERLY_MEAL, title="职工食堂助老午餐", capacity=60, capacity_unit="份",
            available_from=dt.date.today() - dt.timedelta(days=30), radius=ServiceRadius.STREET,
            area=a["community_a"], description="工作日中午为社区老人提供午餐，可送餐上门")
    errors: list[str] = []

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    # 1. The community posts the need.
    community = page_for(browser.new_context(**browser_context_args))
    sign_in(community, url, personas, "community_staff")
    open_from_menu(community, "区域化党建", "需求清单")
    community.get_by_role("link", name="发布需求").click()
    community.get_by_label("所属社区或街道").select_option(label=f"多福巷社区（{a['community_a'].code}）")
    community.get_by_label("需求名称").fill(NEED)
    community.get_by_label("类别").select_option(label="助老助餐")
    community.get_by_label("需求说明").fill("社区有 30 位独居老人，工作日中午需要助餐送餐")
    community.get_by_label("需要的数量").fill("30")
    community.get_by_label("数量单位").fill("份")
    community.get_by_role("button", name="发布").click()
    expect(community.get_by_role("heading", level=1)).to_have_text(NEED)
    with scopes_disabled():
        need = Need.objects.get(title=NEED)

    # 2. The unit's liaison finds it among the matches for the unit's resources, with the
    #    score's components shown, and claims it.
    liaison_context = browser.new_context(**browser_context_args)
    liaison = page_for(liaison_context)
    sign_in(liaison, url, personas, "unit_liaison")
    open_from_menu(liaison, "区域化党建", "资源匹配")
    section = liaison.locator("section", has=liaison.get_by_role("heading", name=re.compile(canteen.title)))
    expect(section.get_by_role("link", name=NEED)).to_be_visible()
    expect(section.get_by_text("类别相符").first).to_be_attached()
    section.get_by_role("link", name=NEED).click()
    expect(liaison.get_by_role("heading", level=1)).to_have_text(NEED)
    liaison.get_by_label("承诺数量").first.fill("30")
    liaison.get_by_role("button", name="认领", exact=True).first.click()
    expect(liaison.get_by_text("待确认").first).to_be_visible()
    with scopes_disabled():
        claim = Claim.objects.get(need=need)
        assert (claim.unit_id, claim.quantity, claim.status) == (o["unit"].pk, 30, "pending")

    # 3. The street confirms it and starts a project, issues the agreement, starts and publishes it.
    hub_context = browser.new_context(**browser_context_args)
    hub = page_for(hub_context)
    sign_in(hub, url, personas, "street_hub")
    hub.goto(url + reverse("cobuild:need_detail", args=[need.pk]))
    hub.get_by_role("button", name="确认认领").click()
    expect(hub.get_by_role("button", name="创建共建项目")).to_be_visible()
    hub.get_by_label("项目名称").fill("多福巷社区爱心午餐")
    hub.get_by_label("预算（元）").fill("8000")
    hub.get_by_role("button", name="创建共建项目").click()
    expect(hub.get_by_role("heading", level=1)).to_have_text("多福巷社区爱心午餐")
    with scopes_disabled():
        project = Project.objects.get(claim=claim)
    hub.get_by_role("button", name="生成共建协议").click()
    with hub.expect_download() as download:
        hub.get_by_role("link", name=re.compile("下载共建协议")).click()
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    for expected in ("共建协议", "多福巷社区爱心午餐", o["unit"].name, "捌仟元整"):
        assert expected in text.replace("\n", ""), expected
    hub.get_by_role("button", name="开始实施").click()
    expect(hub.get_by_text("实施中").first).to_be_visible()
    hub.get_by_role("button", name="在居民服务网站公开").click()
    expect(hub.get_by_text("项目已在居民服务网站公开").first).to_be_visible()

    # 4. A resident, on a phone, opens the public page, signs in and rates the project.
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    resident = page_for(browser.new_context(**phone))
    public_path = reverse("cobuild_public:project", args=[project.pk])
    resident.goto(url + public_path)
    expect(resident.get_by_role("heading", level=1)).to_have_text("多福巷社区爱心午餐")
    resident.get_by_role("link", name="手机号登录后评价").tap()
    resident.get_by_label("手机号").fill(PHONE)
    resident.get_by_label(re.compile("^我已阅读并同意《居民账号个人信息处理告知》")).check()
    resident.get_by_role("button", name="获取登录验证码").tap()
    expect(resident.get_by_role("heading", level=1)).to_have_text("输入登录验证码")
    resident.get_by_label("短信验证码").fill(re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1))
    resident.get_by_role("button", name="登录").tap()
    expect(resident).to_have_url(url + public_path)
    resident.get_by_label("5 星").check()
    resident.get_by_label("评价内容（选填）").fill("饭菜热乎，送餐准时，老人们都很满意")
    resident.get_by_role("button", name="提交评价").tap()
    figures = resident.locator(".zx-public__figures")
    expect(figures).to_contain_text("5.0 / 5")
    expect(resident.get_by_role("paragraph").filter(has_text="饭菜热乎，送餐准时，老人们都很满意")).to_be_visible()
    expect(resident.get_by_text(PHONE)).to_have_count(0)
    assert resident.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]

    # The street's project page shows the rating.
    hub.reload()
    expect(hub.get_by_text("饭菜热乎，送餐准时，老人们都很满意")).to_be_visible()
    with scopes_disabled():
        project.refresh_from_db()
        assert (project.rating_count, float(project.rating_average)) == (1, 5.0)
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # Every page of the way, checked by axe-core.
    for context, paths in (
            (hub_context, [reverse("cobuild:need_detail", args=[need.pk]),
                           reverse("cobuild:project_detail", args=[project.pk]),
                           reverse("cobuild:project_list"), reverse("cobuild:dashboard"),
                           reverse("cobuild:unit_reports")]),
            (liaison_context, [reverse("cobuild:my_matches"), reverse("cobuild:resource_detail", args=[canteen.pk])])):
        audit = browser.new_context(**browser_context_args, bypass_csp=True)
        audit.add_cookies(context.cookies())
        for path in paths:
            axe.check_url(audit, url + path)
    anonymous = browser.new_context(**phone, bypass_csp=True)
    axe.check_url(anonymous, url + public_path)
    axe.check_url(anonymous, url + reverse("portal:community", args=[a["community_a"].code]))
    axe.assert_clean()
