"""Funds end to end, in a real Chromium (Debian's, see conftest.py) under the strict CSP:
a community proposes a spending plan above the 四议两公开 threshold and records the four
deliberations; the residents' decision is published on the portal; the street approves and
files the plan and disburses the money; the community uploads a voucher and records the
acceptance, which puts the result notice on the portal; a resident on a phone opens the
community's disclosures, checks the notice's fingerprint in the browser (SHA-256 computed on
the phone from the downloaded content) and against the one on the paper notice board.

axe-core checks the pages on the way in a second context that bypasses the CSP only to
inject it; a "serious" or "critical" violation fails the test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import funds, ledger
from zhouxin.funds.choices import FundKind, PlanStatus
from zhouxin.funds.models import Disclosure, SpendingPlan
from zhouxin.testing.browser import Axe, open_from_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000
PHONE_VIEWPORT = {"width": 390, "height": 844}
TITLE = "老旧楼道照明改造"
PAYEE = "北京市东城区光明照明工程有限公司"


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def voucher_pdf(path) -> str:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Invoice No. 04417 - 36,000.00 CNY")
    file = path / "invoice.pdf"
    pdf.output(str(file))
    return str(file)


def test_a_plan_goes_through_four_deliberations_to_a_verified_public_notice(
        personas, live_server, browser, browser_context_args, tmp_path):
    from playwright.sync_api import expect

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    a = personas.areas
    today = dt.date.today()
    with scopes_disabled():
        fund = funds.fund_create(actor=personas.street_hub, community=a["community_a"], year=today.year,
                                 kind=FundKind.SERVICE,
                                 sources={"city": Decimal("100000"), "district": Decimal("100000")})
    errors: list[str] = []

    def page_for(context):
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        return page

    # 1. The community proposes the plan: above the threshold, so it goes to 四议两公开.
    community_context = browser.new_context(**browser_context_args)
    community = page_for(community_context)
    sign_in(community, url, personas, "community_staff")
    open_from_menu(community, "经费保障", "支出计划")
    community.get_by_role("link", name="提出支出计划").click()
    community.get_by_label("项目名称").fill(TITLE)
    community.get_by_label("支出类别").select_option("公共设施小修")
    community.get_by_label("计划金额（元）").fill("36000")
    community.get_by_label("用途说明").fill("更换 3 栋老旧居民楼 18 个单元的楼道声控灯和线路，消除夜间安全隐患")
    community.get_by_label("受益对象").fill("3 栋楼 216 户居民")
    community.get_by_role("button", name="提出计划").click()
    expect(community.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(community.get_by_text("四议两公开中").first).to_be_visible()
    with scopes_disabled():
        plan = SpendingPlan.objects.get(title=TITLE)
    assert plan.needs_deliberation

    # 2. The four deliberations, each with attendance and votes; the form offers the next step.
    #    First a members' meeting without its two-thirds quorum is refused and nothing is saved.
    meetings = [("社区党组织提议", 7, 7, 7), ("两委会议商议", 11, 10, 10), ("党员大会审议", 45, 31, 29),
                ("居民（代表）会议决议", 60, 41, 38)]
    detail = reverse("funds:plan_detail", args=[plan.pk])
    for step, due, present, votes_for in meetings:
        form = community.locator("form", has=community.get_by_role("button", name="保存会议记录"))
        expect(form.get_by_label("环节")).to_have_value(
            {"社区党组织提议": "party_proposal", "两委会议商议": "joint_discussion", "党员大会审议": "members_review",
             "居民（代表）会议决议": "residents_decision"}[step])
        form.get_by_label("会议日期").fill(today.isoformat())
        form.get_by_label("应到人数").fill(str(due))
        form.get_by_label("实到人数").fill(str(29 if step == "党员大会审议" else present))
        form.get_by_label("赞成", exact=True).fill(str(votes_for if step != "党员大会审议" else 28))
        form.get_by_label("会议纪要").fill(f"{step}：{TITLE}，表决通过")
        form.get_by_role("button", name="保存会议记录").click()
        if step == "党员大会审议":
            # 29 of 45 is less than two thirds (30): no meeting, nothing saved.
            expect(community.get_by_text("不足三分之二").first).to_be_visible()
            form = community.locator("form", has=community.get_by_role("button", name="保存会议记录"))
            form.get_by_label("会议日期").fill(today.isoformat())
            form.get_by_label("应到人数").fill(str(due))
            form.get_by_label("实到人数").fill(str(present))
            form.get_by_label("赞成", exact=True).fill(str(votes_for))
            form.get_by_role("button", name="保存会议记录").click()
        expect(community).to_have_url(url + detail)
    with scopes_disabled():
        assert plan.deliberations.filter(passed=True).count() == 4
        assert plan.deliberations.count() == 4  # the refused meeting left nothing behind
        decision = Disclosure.objects.get(plan=plan, topic="decision")
    community.get_by_role("button", name="报街道审核").click()
    expect(community.get_by_text("待街道审核").first).to_be_visible()

    # 3. The street approves and files it, then disburses the money through the ledger.
    hub_context = browser.new_context(**browser_context_args)
    hub = page_for(hub_context)
    sign_in(hub, url, personas, "street_hub")
    hub.goto(url + detail)
    hub.get_by_label("同意备案").check()
    hub.get_by_label("审核意见").fill("符合服务群众专项经费使用范围，同意备案")
    hub.get_by_role("button", name="提交审核意见").click()
    expect(hub.get_by_text("已审核备案").first).to_be_visible()
    hub.get_by_label("收款单位").fill(PAYEE)
    hub.get_by_role("button", name="拨付并记账").click()
    expect(hub.get_by_text("已拨付").first).to_be_visible()
    with scopes_disabled():
        fund.refresh_from_db()
        assert fund.balance == Decimal("164000.00")
        assert ledger.verify_fund(fund) is None

    # 4. The community uploads the invoice and records the acceptance: the result goes public.
    community.reload()
    voucher_form = community.locator("form", has=community.get_by_role("button", name="上传凭证"))
    voucher_form.get_by_label("凭证类型").select_option(label="发票")
    voucher_form.get_by_label("凭证文件（照片或 PDF）").set_input_files(voucher_pdf(tmp_path))
    voucher_form.get_by_label("凭证号").fill("04417")
    voucher_form.get_by_role("button", name="上传凭证").click()
    expect(community.get_by_text("04417").first).to_be_visible()
    community.get_by_label("验收意见").fill("18 个单元楼道灯全部亮灯，线路规范，验收合格")
    community.get_by_label("参加验收").fill("社区两委、居民代表 3 人、居务监督委员会")
    community.get_by_role("button", name="验收并公示结果").click()
    expect(community.get_by_text("结果公示中").first).to_be_visible()
    with scopes_disabled():
        plan.refresh_from_db()
        assert plan.status == PlanStatus.NOTICE
        result = Disclosure.objects.get(plan=plan, topic="result")

    # 5. A resident on a phone finds the notice on the community's page and verifies it.
    phone = dict(**browser_context_args, viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    resident = page_for(browser.new_context(**phone))
    resident.goto(url + reverse("portal:community", args=[a["community_a"].code]))
    resident.get_by_role("link", name=result.title).first.tap()
    expect(resident.get_by_role("heading", level=1)).to_have_text(result.title)
    expect(resident.get_by_text(PAYEE).first).to_be_visible()
    expect(resident.locator("#zx-fingerprint")).to_have_text(result.content_hash)
    resident.get_by_role("button", name="在本机计算并比对指纹").tap()
    expect(resident.get_by_text("本机计算结果与公示指纹一致")).to_be_visible()
    # The fingerprint printed on the paper notice board, typed with spaces and in capitals.
    spaced = " ".join(result.content_hash[i:i + 8].upper() for i in range(0, 64, 8))
    resident.get_by_label("公告栏上印的内容指纹").fill(spaced)
    resident.get_by_role("button", name="核对").tap()
    expect(resident.get_by_text("一致：您输入的指纹就是本条公开的内容指纹。")).to_be_visible()
    # The downloadable content is exactly what the fingerprint is computed over.
    body = resident.request.get(url + reverse("funds_public:content", args=[result.pk])).body()
    assert hashlib.sha256(body).hexdigest() == result.content_hash
    assert resident.evaluate("() => document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # Every page of the way, checked by axe-core.
    for context, paths in (
            (community_context, [detail, reverse("funds:plan_list"), reverse("funds:plan_create")]),
            (hub_context, [reverse("funds:fund_list"), reverse("funds:fund_detail", args=[fund.pk]),
                           reverse("funds:dashboard"), reverse("funds:disclosure_list")])):
        audit = browser.new_context(**browser_context_args, bypass_csp=True)
        audit.add_cookies(context.cookies())
        for path in paths:
            axe.check_url(audit, url + path)
    anonymous = browser.new_context(**phone, bypass_csp=True)
    for path in (reverse("funds_public:disclosure", args=[result.pk]),
                 reverse("funds_public:disclosure", args=[decision.pk]),
                 reverse("funds_public:community", args=[a["community_a"].code])):
        axe.check_url(anonymous, url + path)
    axe.assert_clean()
