"""Issue 11's journey in a real Chromium (Debian's, see conftest.py) under the strict CSP: the district
administrator opens the dashboard from the menu, drills down from the district to a street and to one
community, opens the community's star-rating explanation (every figure with the records behind it),
comes back and asks for the monthly report, watches the progress bar while a real `db_worker`
generates it, and downloads the PDF and the workbook.

The figures are the platform's own: roll-up rows of the requests (what the dispatch services keep),
the rating computed by oversight.ratings.rate() from the registered indicators.  axe-core checks each
page in a second context; a "serious" or "critical" violation fails the test.
"""

from __future__ import annotations

import io

import pytest
from django.utils import timezone

from zhouxin.analytics.tests.helpers import rollup
from zhouxin.core.indicators import MONTH, Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import ratings
from zhouxin.oversight.models import Rating
from zhouxin.testing.browser import Axe, open_from_menu, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("orm_beside_playwright")]

TIMEOUT_MS = 20_000


def _month_of_figures(personas) -> Period:
    """This month's roll-ups of three communities and their streets, and the district's rating."""
    a = personas.areas
    period = Period.of(MONTH, timezone.localdate())
    month = period.start
    figures = {
        # community: received, due, in time, callbacks, resolved, partly, evaluated, satisfied, basic
        "community_a": (40, 40, 38, 36, 32, 2, 34, 30, 2),
        "community_a2": (25, 25, 20, 22, 15, 4, 20, 12, 4),
        "community_b": (30, 30, 29, 28, 26, 1, 27, 25, 1),
    }
    streets: dict[str, list[int]] = {}
    for key, values in figures.items():
        names = ("received", "response_due", "responded_in_time", "callbacks", "resolved", "partly", "evaluated",
                 "satisfied", "basic")
        counters = dict(zip(names, values, strict=True))
        rollup(a[key], month, **counters)
        street = a[key].code[:9]
        streets[street] = [x + y for x, y in zip(streets.get(street, [0] * 9), values, strict=True)]
    for street_key in ("street_a", "street_b"):
        values = streets[a[street_key].code]
        rollup(a[street_key], month, **dict(zip(("received", "response_due", "responded_in_time", "callbacks",
                                                  "resolved", "partly", "evaluated", "satisfied", "basic"),
                                                 values, strict=True)))
    with scopes_disabled():
        ratings.rate(a["dongcheng"], period, actor=None)
    return period


def test_district_admin_drills_down_to_a_community_its_rating_and_its_monthly_report(
        personas, live_server, browser, browser_context_args, task_worker, tmp_path):
    from playwright.sync_api import expect
    from pypdf import PdfReader

    period = _month_of_figures(personas)
    with scopes_disabled():
        rating = Rating.objects.unscoped().get(area=personas.areas["community_a"], period=period.key)
    assert rating.score is not None and rating.stars >= 1

    axe = Axe()
    expect.set_options(timeout=TIMEOUT_MS)
    url = live_server.url
    errors: list[str] = []
    context = browser.new_context(**browser_context_args, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # 1. The district administrator opens the dashboard from the menu: the district, its streets ranked.
    sign_in(page, url, personas, "district_admin")
    # axe-core is injected in a second context on the same session that bypasses the CSP only for that.
    audit = browser.new_context(**browser_context_args, bypass_csp=True)
    audit.add_cookies(context.cookies())
    open_from_menu(page, "督导考评", "数据驾驶舱")
    expect(page.get_by_role("heading", level=1)).to_contain_text("东城区")
    ranking = page.locator("table", has=page.get_by_role("link", name="东华门街道", exact=True))
    expect(ranking.first).to_be_visible()
    expect(page.locator("canvas").first).to_be_visible()  # the ECharts drew (no inline script needed)
    axe.check_url(audit, page.url)

    # 2. Down to the street, then to the community, by the links of the ranking tables.
    ranking.first.get_by_role("link", name="东华门街道", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("东华门街道")
    page.locator("table").get_by_role("link", name="多福巷社区", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("多福巷社区")
    panel = page.get_by_role("region", name="星级评定与报表")
    expect(panel).to_contain_text(f"得分 {rating.score}")
    dashboard_url = page.url
    axe.check_url(audit, dashboard_url)

    # 3. The rating explanation: the composite of the three rates with its weight and the records behind it.
    panel.get_by_role("link", name="查看评定说明").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("多福巷社区")
    expect(page.get_by_role("heading", level=1)).to_contain_text("星级评定说明")
    components = page.get_by_role("region", name="得分构成")
    expect(components).to_contain_text("三率综合得分")
    records = components.get_by_role("link", name="查看明细").first
    href = records.get_attribute("href")
    assert href and href.startswith("/dispatch/rates/"), href
    axe.check_url(audit, page.url)

    # 4. Back on the community's dashboard: generate the monthly report; the worker fills the progress bar.
    page.goto(dashboard_url)
    page.get_by_role("button", name="生成月度报表").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("多福巷社区")
    expect(page.get_by_role("progressbar")).to_be_visible()
    pdf_link = page.locator("#report-pdf")
    expect(pdf_link).to_be_visible(timeout=60_000)
    expect(page.locator("body")).to_contain_text("人工填写 0 项")
    axe.check_url(audit, page.url)

    with page.expect_download() as download_info:
        pdf_link.click()
    pdf_path = tmp_path / "report.pdf"
    download_info.value.save_as(pdf_path)
    data = pdf_path.read_bytes()
    assert data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "多福巷社区" in text and "月报" in text, text[:200]
    assert "人工填写 0 项" in text

    with page.expect_download() as download_info:
        page.locator("#report-xlsx").click()
    assert download_info.value.suggested_filename.endswith(".xlsx")

    axe.assert_clean()
    assert not errors, errors
    audit.close()
    context.close()
