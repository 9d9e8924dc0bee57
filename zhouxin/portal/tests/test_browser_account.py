"""A resident with an account, on a phone, in a real Chromium (Debian's, see conftest.py) and
under the application's own strict CSP: the grid picker follows the community chosen and
category suggestions appear while typing (htmx, no inline script); the resident signs in
with a code texted to the phone, finds the request in 我的诉求 and opens it without a
second code, downloads their data, and reads their community's public page.

axe-core (node_modules/axe-core) checks each page in a second context that bypasses the CSP
only to inject it; a "serious" or "critical" violation fails the test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.urls import reverse

from zhouxin.dispatch import classify
from zhouxin.portal import sms
from zhouxin.testing.browser import Axe

from .helpers import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
PHONE = "13911113333"


def text_code() -> str:
    return re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)


def test_a_resident_signs_in_on_a_phone_and_sees_their_requests(
        personas, dispatch_world, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    classify.invalidate_catalogue()
    url = live_server.url
    mine = make_request(personas, phone=PHONE, title="5号楼门口积水")
    theirs = make_request(personas, phone="13700004444", title="隔壁装修噪音")
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    resident = browser.new_context(**phone).new_page()  # the application's CSP applies here
    resident.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    resident.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # Where: choosing a community loads its grids (htmx); typing suggests categories.
    resident.goto(url + reverse("portal:submit"))
    grid = resident.get_by_label("所在网格（可不选）")
    expect(grid.locator("option")).to_have_count(1)
    resident.get_by_label("发生地（社区或网格）").select_option(label="多福巷社区")
    expect(grid.locator("option")).to_have_count(2)
    grid.select_option(label="多福巷社区第一网格")
    resident.get_by_label("标题").fill("楼道垃圾堆放")
    resident.get_by_label("具体情况").fill("楼道卫生差，垃圾没人清扫")
    suggestion = resident.get_by_role("button", name="楼道卫生")
    suggestion.tap()
    expect(resident.get_by_label("诉求类别")).to_have_value(str(dispatch_world.categories["040102"].pk))

    # Sign in with the phone and the code texted to it.
    resident.goto(url + reverse("portal:home"))
    resident.get_by_role("link", name="手机号登录").tap()
    resident.get_by_label("手机号").fill(PHONE)
    resident.get_by_label(re.compile("^我已阅读并同意《居民账号个人信息处理告知》")).check()
    resident.get_by_role("button", name="获取登录验证码").tap()
    expect(resident.get_by_role("heading", level=1)).to_have_text("输入登录验证码")
    resident.get_by_label("短信验证码").fill(text_code())
    resident.get_by_role("button", name="登录").tap()

    # 我的诉求: mine, not theirs; it opens without another code.
    expect(resident.get_by_role("heading", level=1)).to_have_text("我的诉求")
    expect(resident.get_by_role("link", name="5号楼门口积水")).to_be_visible()
    expect(resident.get_by_text("隔壁装修噪音")).to_have_count(0)
    assert resident.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    resident.get_by_role("link", name="5号楼门口积水").tap()
    expect(resident.get_by_role("heading", level=1)).to_have_text("办理进度")
    expect(resident.get_by_text(mine.number)).to_be_visible()

    # The data export downloads a JSON file of their own requests.
    resident.goto(url + reverse("portal:me_data"))
    with resident.expect_download() as download:
        resident.get_by_role("link", name="下载我的信息（JSON）").tap()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [r["number"] for r in data["requests"]] == [mine.number] and theirs.number not in json.dumps(data)

    # The community's public page.
    resident.goto(url + reverse("portal:community", args=[personas.areas["community_a"].code]))
    expect(resident.get_by_role("heading", name="接诉即办")).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # Every page of the way, checked by axe-core (signed in as the same resident).
    audit = browser.new_context(**phone, bypass_csp=True)
    audit.add_cookies(resident.context.cookies())
    pages = [reverse("portal:home"), reverse("portal:submit"), reverse("portal:me"), reverse("portal:me_data"),
             reverse("portal:me_delete"), reverse("portal:me_correct", args=[mine.number]),
             reverse("portal:status", args=[mine.number]), reverse("portal:communities"),
             reverse("portal:street", args=[personas.areas["street_a"].code]),
             reverse("portal:community", args=[personas.areas["community_a"].code])]
    for path in pages:
        axe.check_url(audit, url + path)
    anonymous = browser.new_context(**phone, bypass_csp=True)
    axe.check_url(anonymous, url + reverse("portal:signin"))
    axe.assert_clean()
