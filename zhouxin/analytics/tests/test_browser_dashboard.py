"""In a browser: the district admin opens 数据驾驶舱 from the menu, every chart is drawn under the CSP
(ECharts from the data island), the tables carry the figures, a click on the treemap drills down to a
street and the table's link down to a community; axe-core finds nothing serious on any level."""

from __future__ import annotations

import re

import pytest

from zhouxin.dispatch import rates

from .helpers import category_rollup, rollup
from .test_dashboard import DONGHUAMEN, DUOFU, HALF, URL, YINZHA


@pytest.fixture
def city_board(personas, dispatch_world):
    a = personas.areas
    for n in range(12):
        month = rates.add_months(rates.this_month(), -n)
        rollup(a["community_a"], month, **DUOFU)
        rollup(a["community_a2"], month, **YINZHA)
        rollup(a["street_a"], month, **DONGHUAMEN)
        rollup(a["street_b"], month, **HALF)
        rollup(a["community_b"], month, **HALF)
        category_rollup(a["street_a"], month, dispatch_world.categories["04"], 11)
        category_rollup(a["street_a"], month, dispatch_world.categories["12"], 5)
    return personas


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("orm_beside_playwright")
def test_in_a_browser_the_charts_draw_and_the_district_admin_drills_down(city_board, personas, live_server, browser,
                                                                          browser_context_args):
    from playwright.sync_api import expect

    from zhouxin.testing.browser import Axe, open_from_menu, sign_in

    expect.set_options(timeout=15_000)
    errors: list[str] = []
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server.url, personas, "district_admin")
    open_from_menu(page, "督导考评", "数据驾驶舱")
    expect(page.get_by_role("heading", name="数据驾驶舱 · 东城区")).to_be_visible()
    for chart in ("ranking", "treemap", "volume", "rates", "categories"):
        expect(page.locator(f'[data-analytics-chart="{chart}"] canvas')).to_have_count(1)
    expect(page.locator("#zx-analytics-ranking")).to_contain_text("东华门街道")
    expect(page.locator("#zx-analytics-ranking")).to_contain_text("92.0%")

    # A click on a rectangle of the treemap opens that street's dashboard.
    treemap = page.locator('[data-analytics-chart="treemap"]')
    treemap.scroll_into_view_if_needed()
    box = treemap.bounding_box()
    treemap.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    page.wait_for_url(re.compile(r"area=11010100[12]&period="))
    name = {"110101001": "东华门街道", "110101002": "景山街道"}[re.search(r"area=(\d+)", page.url)[1]]
    expect(page.get_by_role("heading", name=f"数据驾驶舱 · {name}")).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="数据驾驶舱 · 东城区")).to_be_visible()

    page.locator("#zx-analytics-ranking").get_by_role("link", name="东华门街道").click()
    expect(page.get_by_role("heading", name="数据驾驶舱 · 东华门街道")).to_be_visible()
    expect(page.locator('[data-analytics-chart="ranking"] canvas')).to_have_count(1)
    page.locator("#zx-analytics-ranking").get_by_role("link", name="多福巷社区").click()
    expect(page.get_by_role("heading", name="数据驾驶舱 · 多福巷社区")).to_be_visible()
    expect(page.get_by_role("navigation", name="当前位置").get_by_role("link", name="东华门街道")).to_be_visible()
    for chart in ("volume", "rates"):
        expect(page.locator(f'[data-analytics-chart="{chart}"] canvas')).to_have_count(1)
    expect(page.locator("#zx-analytics-trend")).to_contain_text("88.0%")
    assert not [e for e in errors if "Content Security Policy" in e or "echarts" in e.lower()
                or "TypeError" in e or "ReferenceError" in e], errors

    axe = Axe()
    axe_context = browser.new_context(**browser_context_args, bypass_csp=True, storage_state=context.storage_state())
    for area in ("110101", "110101001", "110101001001"):
        axe.check_url(axe_context, f"{live_server.url}{URL}?area={area}")
    axe.assert_clean()
    context.close()
    axe_context.close()
