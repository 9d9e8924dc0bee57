"""A resident's request from a phone, in a real Chromium (Debian's, see conftest.py):

a resident opens the portal on a phone (390 × 844, touch), reports a dark stairwell with a photo
taken on the spot and gets a number; 多福巷社区 works the request (through the dispatch services,
to keep the journey short); the resident comes back, proves the phone with the code texted to it,
reads the reply and rates it "not resolved, unsatisfied"; the street hub, signed in with password
and TOTP in its own (desktop) browser, finds the request waiting for its decision after the
unsatisfied callback and reopens it under supervision (督办重办: dispatch.services.request_callback
leaves an unsatisfied request to the street, request_reopen reopens it); the resident's status
page then shows it being handled again.

Every portal page on the way is checked with axe-core (node_modules/axe-core, pinned in
package.json): a violation of impact "serious" or "critical" fails the test, with the rule, the
impact and the elements printed.  The resident's context bypasses the CSP only so that axe can be
injected; the application's CSP itself is unchanged (and tested elsewhere).

pytest-playwright keeps a full-page screenshot of a failure under test-results/.
"""

from __future__ import annotations

import base64
import re

import pytest
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import classify, services
from zhouxin.dispatch.choices import Satisfaction, Status
from zhouxin.dispatch.models import Attachment, ServiceRequest
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe, open_from_menu
from zhouxin.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
TITLE = "5号楼楼道灯不亮"
PHONE = "13911112222"
REPLY = "已联系物业更换5号楼2单元楼道灯，并检查了整栋楼的照明线路。"


def photo_from_the_phone(page) -> bytes:
    """A real JPEG, drawn and encoded by the browser itself (no imaging library needed)."""
    data_url = page.evaluate("""() => {
        const c = document.createElement("canvas");
        c.width = 64; c.height = 48;
        const g = c.getContext("2d");
        g.fillStyle = "#2b2b2b"; g.fillRect(0, 0, 64, 48);
        g.fillStyle = "#f2c230"; g.fillRect(24, 6, 16, 10);
        return c.toDataURL("image/jpeg", 0.8);
    }""")
    data = base64.b64decode(data_url.split(",", 1)[1])
    assert data[:3] == b"\xff\xd8\xff"
    return data


def sign_in(page, live_server, personas, username: str) -> None:
    from playwright.sync_api import expect

    url = live_server.url
    page.goto(url + reverse("core:login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(url + reverse("core:verify_totp"))
    page.get_by_label("验证码").fill(personas.totp(username))
    page.get_by_role("button", name="验证并登录").click()
    expect(page).to_have_url(url + reverse("core:home"))


def text_code(phone: str) -> str:
    """The one-time code in the last text sent to `phone` (settings.SMS_BACKEND is the memory
    outbox, see zhouxin/portal/tests/conftest.py; the live server runs in this process)."""
    texts = [m.text for m in sms.outbox if m.phone == phone]
    assert texts, f"no text was sent to {phone}"
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", texts[-1])
    assert found, texts[-1]
    return found.group(1)


def work_the_request(personas, number: str) -> None:
    """多福巷社区 signs for the request, calls the resident and replies (the staff UI of these
    steps is covered by zhouxin/dispatch/tests/test_browser_dispatch.py)."""
    staff = personas.users["community_staff"]
    with scopes_disabled():
        request = ServiceRequest.objects.get(number=number)
        services.request_accept(actor=staff, request=request)
        services.request_contact(actor=staff, request=request, note="已电话联系，约定晚上查看。")
        services.request_reply(actor=staff, request=request, reply=REPLY)


def test_a_resident_reports_from_a_phone_rates_unsatisfied_and_the_street_reopens(
        personas, dispatch_world, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    classify.invalidate_catalogue()  # the live server's catalogue cache must see this test's categories
    url = live_server.url
    axe = Axe()
    resident_context = browser.new_context(
        **browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True, device_scale_factor=3,
        bypass_csp=True)  # only so that axe-core can be injected
    hub_context = browser.new_context(**browser_context_args)
    resident, hub = resident_context.new_page(), hub_context.new_page()
    for page in (resident, hub):
        page.set_default_timeout(TIMEOUT_MS)

    # 1. The portal's front page, on the phone.
    resident.goto(url + reverse("portal:home"))
    expect(resident.get_by_role("heading", level=1)).to_have_text("有事找社区，接诉即办")
    assert resident.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    axe.check(resident, "home")

    # 2. The form: what, where, a photo, who to call back, consent.
    resident.get_by_role("link", name="反映问题").tap()
    expect(resident).to_have_url(url + reverse("portal:submit"))
    expect(resident.get_by_role("heading", name="我要反映")).to_be_visible()
    axe.check(resident, "submit")
    photo = photo_from_the_phone(resident)
    resident.get_by_label("投诉").check()
    resident.get_by_label("标题").fill(TITLE)
    resident.get_by_label("具体情况").fill("5号楼2单元楼道灯坏了一周，晚上上下楼一片漆黑，老人容易摔倒。")
    resident.get_by_label("诉求类别").select_option(label="楼道卫生")
    resident.get_by_label("发生地（社区或网格）").select_option(label="多福巷社区")
    resident.get_by_label("详细地址").fill("5号楼2单元")
    resident.get_by_label("照片（最多 9 张，可不传）").set_input_files(
        files=[{"name": "楼道.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    resident.get_by_label("联系人").fill("王先生")
    resident.get_by_label(re.compile(r"^手机号")).fill(PHONE)
    resident.get_by_label(re.compile("^我已阅读并同意《个人信息处理告知》")).check()
    resident.get_by_label("我承诺所反映的情况真实").check()
    resident.get_by_role("button", name="提交诉求").tap()

    # 3. The receipt gives the number to keep.
    expect(resident).to_have_url(url + reverse("portal:receipt"))
    expect(resident.get_by_role("heading", name="提交成功")).to_be_visible()
    number = resident.locator(".zx-portal__number strong").inner_text().strip()
    assert re.fullmatch(r"\d{17}", number), number
    axe.check(resident, "receipt")
    with scopes_disabled():
        created = ServiceRequest.objects.get(number=number)
        assert created.title == TITLE and created.channel == "portal"
        assert created.status == Status.DISPATCHED  # 楼道卫生 in 多福巷社区: routed to the community
        attachment = Attachment.objects.get(request=created)
        assert attachment.content_type == "image/jpeg" and attachment.original_name == "楼道.jpg"

    # 4. The community works it.
    work_the_request(personas, number)

    # 5. The resident comes back: number + phone, then the code texted to that phone.
    resident.get_by_role("link", name="查询进度").first.tap()
    expect(resident).to_have_url(url + reverse("portal:track"))
    axe.check(resident, "track")
    resident.get_by_label("诉求编号").fill(number)
    resident.get_by_label("提交时填写的手机号").fill(PHONE)
    resident.get_by_role("button", name="获取验证码").tap()
    expect(resident).to_have_url(url + reverse("portal:verify"))
    expect(resident.get_by_role("heading", name="输入验证码")).to_be_visible()
    axe.check(resident, "code entry")
    resident.get_by_label("短信验证码").fill(text_code(PHONE))
    resident.get_by_role("button", name="查看进度").tap()

    # 6. The status page: the reply, and the rating.
    expect(resident).to_have_url(url + reverse("portal:status", args=[number]))
    expect(resident.get_by_text(REPLY)).to_be_visible()
    expect(resident.locator(".zx-portal__facts")).to_contain_text("已答复")
    axe.check(resident, "status (replied)")
    resident.get_by_role("radio", name="未解决").check()
    resident.get_by_role("radio", name="不满意").check()
    resident.get_by_role("button", name="提交评价").tap()
    expect(resident.get_by_text("评价：未解决，不满意。")).to_be_visible()
    expect(resident.get_by_role("button", name="提交评价")).to_have_count(0)
    with scopes_disabled():
        rated = ServiceRequest.objects.get(number=number)
        # Not resolved and unsatisfied: the request stays replied, waiting for the street.
        assert rated.status == Status.REPLIED and rated.satisfaction == Satisfaction.UNSATISFIED
        assert rated.callback_at is not None

    # 7. The street hub sees it among the callbacks, with the resident's verdict, and reopens it.
    sign_in(hub, live_server, personas, "street_hub")
    open_from_menu(hub, "接诉即办", "工单")
    hub.get_by_role("link", name=re.compile(r"^待回访 1$")).click()
    expect(hub.get_by_role("link", name=re.compile(r"^待回访"))).to_have_attribute("aria-current", "page")
    hub.get_by_role("link", name=TITLE).click()
    expect(hub).to_have_url(url + reverse("dispatch:request_detail", args=[number]))
    expect(hub.locator(".zx-req-head .zx-status")).to_have_text("已答复")
    expect(hub.get_by_text("未解决 · 不满意")).to_be_visible()
    expect(hub.get_by_role("img", name="现场图片 1")).to_be_visible()
    # Wait for the photo to finish loading (under load it may still be on its way), then check
    # that it decoded: a broken image has naturalWidth 0.
    assert hub.get_by_role("img", name="现场图片 1").evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth), {once: true});
            img.addEventListener("error", () => done(0), {once: true});
        })""") == 64
    reopen = hub.locator('[data-zx-action="reopen"]')
    reopen.locator("summary").click()
    reopen.get_by_label("理由").fill("居民反映楼道灯仍不亮，督办重办。")
    reopen.get_by_role("button", name="重新办理并督办").click()
    expect(hub.get_by_text("工单已重新办理，列入督办。")).to_be_visible()
    expect(hub.locator(".zx-req-head .zx-status")).to_have_text("督办中")

    # 8. The resident's status page shows it being handled again.
    resident.reload()
    expect(resident.locator(".zx-portal__facts")).to_contain_text("督办中")
    expect(resident.locator(".zx-portal__timeline")).to_contain_text("督办重新办理")
    axe.check(resident, "status (reopened)")

    # 9. The community's public page, if the portal has it.
    resident.goto(url + reverse("portal:home"))
    communities = resident.get_by_role("link", name="查看社区")
    if communities.count():
        communities.tap()
        expect(resident.get_by_role("heading", level=1)).to_be_visible()
        axe.check(resident, "communities")
        resident.get_by_role("link", name=re.compile("东华门街道")).first.tap()
        expect(resident.get_by_role("heading", level=1)).to_be_visible()
        axe.check(resident, "street")
        resident.get_by_role("link", name=re.compile("多福巷社区")).first.tap()
        expect(resident.get_by_role("heading", level=1)).to_contain_text("多福巷社区")
        axe.check(resident, "community")

    with scopes_disabled():
        assert ServiceRequest.objects.get(number=number).status == Status.REOPENED
    resident_context.close()
    hub_context.close()
    print("axe-core checked:", ", ".join(axe.checked))
    axe.assert_clean()
