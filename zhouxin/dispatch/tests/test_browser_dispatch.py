"""A request's whole way in a real Chromium (Debian's, see conftest.py), as the people involved
take it:

the street hub's hotline clerk records a 12345 call (category suggestions appear as they type);
the street hub confirms the category on the dispatch screen (the routing rule suggests the
community) and dispatches it; 多福巷社区's worker signs for it, records the first contact and
replies; the street's callback finds the requester unsatisfied; the street reopens it under
supervision (督办); the rankings page shows the community's satisfaction for the month change
from "—" to 0.0 %.

Two browser contexts, one per person, each signed in with password and TOTP.
pytest-playwright keeps a full-page screenshot of a failure under test-results/.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from zhouxin.dispatch import classify
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.testing.browser import open_from_menu
from zhouxin.testing.personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000


def sign_in(page, live_server, personas, username: str):
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


def community_row(page, live_server):
    from playwright.sync_api import expect

    page.goto(live_server.url + reverse("dispatch:rankings") + "?tab=communities")
    row = page.locator("tr", has=page.get_by_role("rowheader", name=re.compile("多福巷社区")))
    expect(row).to_have_count(1)
    return row


def test_hotline_request_from_intake_to_supervision_shows_in_the_rankings(
        personas, dispatch_world, live_server, browser, browser_context_args):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    classify.invalidate_catalogue()  # the live server's catalogue cache must see this test's categories
    url = live_server.url
    hub_context = browser.new_context(**browser_context_args)
    community_context = browser.new_context(**browser_context_args)
    hub, community = hub_context.new_page(), community_context.new_page()
    for page in (hub, community):
        page.set_default_timeout(TIMEOUT_MS)

    # 1. The street hub's hotline clerk records a 12345 call.
    sign_in(hub, live_server, personas, "street_hub")
    open_from_menu(hub, "接诉即办", "受理登记")
    expect(hub).to_have_url(url + reverse("dispatch:intake"))
    expect(hub.get_by_label("12345 热线")).to_be_checked()  # the street's clerks take hotline calls
    hub.get_by_label("投诉").check()
    hub.get_by_label("发生地（社区或网格）").select_option(label="多福巷社区")
    hub.get_by_label("标题").fill("3号楼楼道堆放杂物")
    hub.get_by_label("诉求内容").fill("多福巷3号楼2单元楼道长期堆放纸箱杂物，垃圾无人清扫，影响通行。")
    suggestions = hub.locator("#zx-suggestions")
    expect(suggestions.get_by_role("button", name=re.compile("楼道卫生"))).to_be_visible()
    hub.get_by_label("联系人").fill("吴女士")
    hub.get_by_label("联系电话").fill("13812345678")
    hub.get_by_role("button", name="提交登记").click()
    expect(hub.get_by_role("heading", name="登记成功")).to_be_visible()
    number = hub.locator("[data-zx-number]").inner_text().strip()
    expect(hub.get_by_text("138****5678")).to_be_visible()
    assert ServiceRequest.objects.unscoped().get(number=number).status == Status.RECEIVED

    # 2. The dispatch screen: confirm the suggested category, then dispatch as the rule suggests.
    hub.get_by_role("link", name="查看工单").click()
    expect(hub).to_have_url(url + reverse("dispatch:request_detail", args=[number]))
    categorise = hub.locator('[data-zx-action="categorise"]')
    categorise.get_by_role("button", name=re.compile("楼道卫生")).click()
    categorise.get_by_role("button", name="确认类别").click()
    expect(hub.get_by_text("类别已确认为“楼道卫生”。")).to_be_visible()
    dispatch = hub.locator('[data-zx-action="dispatch"]')
    expect(dispatch.get_by_text("按派单规则建议由 中共多福巷社区委员会 主办。")).to_be_visible()
    expect(dispatch.get_by_label("主办单位")).to_have_value(str(dispatch_world.orgs["community_a"].pk))
    dispatch.get_by_role("button", name="派单", exact=True).click()
    expect(hub.get_by_text("已派单给中共多福巷社区委员会。")).to_be_visible()
    expect(hub.locator(".zx-req-head .zx-status")).to_have_text("已派单")

    # 3. The community signs for it, calls the requester and replies.
    sign_in(community, live_server, personas, "community_staff")
    open_from_menu(community, "接诉即办", "工单")
    community.get_by_role("link", name="3号楼楼道堆放杂物").click()
    accept = community.locator('[data-zx-action="accept"]')
    accept.locator("summary").click()
    accept.get_by_role("button", name="确认签收").click()
    expect(community.get_by_text("已签收。")).to_be_visible()
    contact = community.locator('[data-zx-action="contact"]')
    contact.locator("summary").click()
    contact.get_by_label("说明").fill("已电话联系吴女士，约定今天下午现场查看。")
    contact.get_by_role("button", name="已联系诉求人").click()
    expect(community.get_by_text("已记录首次联系。")).to_be_visible()
    reply = community.locator('[data-zx-action="reply"]')
    reply.locator("summary").click()
    reply.get_by_label("答复内容").fill("已联系物业清理楼道杂物，并张贴通知提醒居民不要在楼道堆物。")
    reply.get_by_role("button", name="提交答复").click()
    expect(community.get_by_text("答复已提交，等待回访。")).to_be_visible()

    # Before the callback the month has nothing to rate for satisfaction.
    row = community_row(hub, live_server)
    expect(row.locator('td[data-label="满意率"]')).to_have_text("—")

    # 4. The street's callback: not resolved, unsatisfied.
    hub.goto(url + reverse("dispatch:request_detail", args=[number]))
    callback = hub.locator('[data-zx-action="callback"]')
    callback.get_by_label("未解决").check()
    callback.get_by_label("不满意").check()
    callback.get_by_label("回访记录").fill("杂物仍在，居民不满意。")
    callback.get_by_role("button", name="保存回访结果").click()
    expect(hub.get_by_text("回访结果已记录。")).to_be_visible()

    # 5. Reopened under supervision.
    reopen = hub.locator('[data-zx-action="reopen"]')
    reopen.locator("summary").click()
    reopen.get_by_label("理由").fill("回访不满意，杂物未清理，督办重办。")
    reopen.get_by_role("button", name="重新办理并督办").click()
    expect(hub.get_by_text("工单已重新办理，列入督办。")).to_be_visible()
    expect(hub.locator(".zx-req-head .zx-status")).to_have_text("督办中")
    expect(hub.locator(".zx-req-head").get_by_text("督办", exact=True)).to_be_visible()
    hub.goto(url + reverse("dispatch:queue") + "?tab=supervised")
    expect(hub.locator(f'[data-zx-request="{number}"]')).to_be_visible()

    # 6. The rankings show it: 多福巷社区's satisfaction this month is now 0 %.
    row = community_row(hub, live_server)
    expect(row.locator('td[data-label="满意率"]')).to_have_text("0.0%")
    expect(row.locator('td[data-label="诉求量"]')).to_have_text("1")

    reopened = ServiceRequest.objects.unscoped().get(number=number)
    assert reopened.status == Status.REOPENED and reopened.supervised
    hub_context.close()
    community_context.close()
