"""The street's yearly promotion and monthly payroll in a real Chromium under the strict CSP:
the street hub runs the promotion for next January, opens one worker's explanation, confirms
it, runs the month's payroll, downloads the xlsx (read back: every worker, the total) and
confirms it.  axe-core checks the pages on the way.  (A worker's view of their own pay, and
nobody else's, is in test_payroll.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.testing.browser import Axe, open_from_menu
from zhouxin.workforce.models import Payslip, PromotionResult

from .promotion_helpers import make_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 15_000


def test_street_runs_the_promotion_opens_an_explanation_and_downloads_the_payroll(
        personas, live_server, browser, browser_context_args, settings, tmp_path):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from zhouxin.testing.browser import sign_in

    settings.MEDIA_ROOT = tmp_path / "media"
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    axe = Axe()
    year = timezone.localdate().year
    # A grid worker with three full years of service and passing assessments; a deputy director.
    grid = make_worker(personas, "王晓梅", hired=dt.date(year - 4, 1, 1), post=("其他", "网格员"),
                       grades={year - 4: "合格", year - 3: "合格", year - 2: "合格", year - 1: "合格"})
    make_worker(personas, "陈建国", hired=dt.date(year - 2, 6, 1), post=("副职", "副主任"), grades={year - 1: "优秀"})
    errors: list[str] = []
    hub = browser.new_context(**browser_context_args).new_page()
    hub.set_default_timeout(TIMEOUT_MS)
    hub.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(hub, url, personas, "street_hub")

    # 1. The promotion run for 1 January of this year, from the menu.
    open_from_menu(hub, "社区工作者", "晋级")
    expect(hub.get_by_role("heading", level=1)).to_contain_text("晋级")
    hub.get_by_role("button", name="试算晋级").click()
    expect(hub.get_by_role("button", name="确认晋级")).to_be_visible()
    with scopes_disabled():
        result = PromotionResult.objects.unscoped().get(worker=grid)
        assert result.grade_after is not None and result.explanation
    row = hub.locator("tr", has=hub.get_by_text("王晓梅"))
    row.get_by_role("link", name="查看说明").click()
    for line in result.explanation[:3]:
        expect(hub.get_by_text(line, exact=False).first).to_be_visible()
    hub.go_back()
    hub.get_by_role("button", name="确认晋级").click()
    expect(hub.get_by_text("已确认").first).to_be_visible()

    # 2. The month's payroll: run it, confirm it, download the xlsx.
    open_from_menu(hub, "社区工作者", "工资")
    hub.get_by_role("button", name="计算工资（试算）").click()
    expect(hub.get_by_role("link", name="下载工资表（Excel）")).to_be_visible()
    with scopes_disabled():
        slips = list(Payslip.objects.unscoped().select_related("worker__person"))
    assert {s.worker.person.name for s in slips} == {"王晓梅", "陈建国"}
    for slip in slips:
        assert slip.total == sum(Decimal(line["amount"]) for line in slip.lines)
    with hub.expect_download() as download:
        hub.get_by_role("link", name="下载工资表（Excel）").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    names = [r[0] for r in rows[1:]]
    assert "王晓梅" in names and "陈建国" in names
    total_row = next(r for r in rows if r[0] == "合计")
    assert Decimal(str(total_row[-1])) == sum(s.total for s in slips)
    hub.get_by_role("button", name="确认工资").click()
    expect(hub.get_by_text("已确认").first).to_be_visible()
    assert not [e for e in errors if "Content Security Policy" in e], errors

    audit = browser.new_context(**browser_context_args, bypass_csp=True)
    audit.add_cookies(hub.context.cookies())
    for path in (reverse("workforce:promotion"), reverse("workforce:promotion_result", args=[result.pk]),
                 reverse("workforce:payroll"), reverse("workforce:payroll_detail", args=[slips[0].run_id]),
                 reverse("workforce:payslip", args=[slips[0].pk]), reverse("workforce:roster_list"),
                 reverse("workforce:staffing"), reverse("workforce:assessments")):
        axe.check_url(audit, url + path)
    axe.assert_clean()
