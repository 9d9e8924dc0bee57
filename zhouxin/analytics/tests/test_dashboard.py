"""The dashboard (数据驾驶舱): who opens which area, the drill-down, the figures against the roll-ups
written here, the links, the chart data against the tables, bad input, and the query count that must
not grow with the number of children or months.

Roll-up rows are written directly: the dashboard reads nothing else.  With the default weights of
`dispatch.rates` (partly resolved 0.6, basically satisfied 0.8; composite 0.2 / 0.4 / 0.4):
  多福巷社区   response 9/10 = 90.0 %, resolution (6 + 2 × 0.6)/8 = 90.0 %, satisfaction (6 + 0.8)/8 = 85.0 %,
              composite 88.0 %, 10 valid requests;
  银闸社区     everything 100.0 %, 5 requests;
  东华门街道   (its communities and one request filed on the street, one invalid) response 14/15 = 93.3 %,
              resolution (10 + 1.2)/12 = 93.3 %, satisfaction (10 + 0.8)/12 = 90.0 %, composite 92.0 %, 15 valid;
  景山街道 / 吉祥社区  every rate 50.0 %, 20 requests."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.choices import Role
from zhouxin.core.indicators import Period
from zhouxin.core.models import Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rates
from zhouxin.oversight.models import Rating

from .helpers import add_communities, category_rollup, chart_data, rollup, table

URL = reverse("analytics:dashboard")
DUOFU = {"received": 10, "response_due": 10, "responded_in_time": 9, "callbacks": 8, "resolved": 6, "partly": 2,
         "evaluated": 8, "satisfied": 6, "basic": 1}
YINZHA = {"received": 5, "response_due": 5, "responded_in_time": 5, "callbacks": 4, "resolved": 4, "evaluated": 4,
          "satisfied": 4}
DONGHUAMEN = {"received": 16, "invalid": 1, "response_due": 15, "responded_in_time": 14, "callbacks": 12, "resolved": 10,
              "partly": 2, "evaluated": 12, "satisfied": 10, "basic": 1}
HALF = {"received": 20, "response_due": 20, "responded_in_time": 10, "callbacks": 10, "resolved": 5, "evaluated": 10,
        "satisfied": 5}


def this_month() -> dt.date:
    return rates.this_month()


def key(month: dt.date) -> str:
    return f"{month:%Y-%m}"


@pytest.fixture
def board(personas, dispatch_world):
    """This month's roll-ups of 东城区 (see the module's docstring), last month's of 东华门街道 and its
    communities, and category roll-ups of both streets."""
    a = personas.areas
    month, last = this_month(), rates.add_months(this_month(), -1)
    rollup(a["community_a"], month, **DUOFU)
    rollup(a["community_a2"], month, **YINZHA)
    rollup(a["street_a"], month, **DONGHUAMEN)
    rollup(a["street_b"], month, **HALF)
    rollup(a["community_b"], month, **HALF)
    rollup(a["street_a"], last, received=7, response_due=7, responded_in_time=7)
    rollup(a["community_a"], last, received=7, response_due=7, responded_in_time=7)
    cats = dispatch_world.categories
    category_rollup(a["street_a"], month, cats["04"], 11)
    category_rollup(a["street_a"], month, cats["12"], 5)
    category_rollup(a["street_b"], month, cats["12"], 20)
    category_rollup(a["street_a"], last, cats["08"], 7)
    return personas


def link_to(code: str, period: str | None = None) -> str:
    return f'href="{URL}?area={code}&amp;period={period or key(this_month())}"'


# --- Who sees what ------------------------------------------------------------------------

def test_the_district_admin_sees_the_district_and_its_streets_ranked(board, client_for):
    response = client_for("district_admin").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "东城区" in html
    rows = table(response, "zx-analytics-ranking")
    assert rows == [["1", "东华门街道", "92.0%", "93.3%", "93.3%", "90.0%", "15"],
                    ["2", "景山街道", "50.0%", "50.0%", "50.0%", "50.0%", "20"]]
    # Each row drills down to the street, keeping the period.
    assert link_to("110101001") in html and link_to("110101002") in html
    assert "西城区" not in html


def test_the_district_admin_drills_down_to_a_community(board, client_for):
    client = client_for("district_admin")
    street = client.get(URL, {"area": "110101001"})
    assert street.status_code == 200
    assert table(street, "zx-analytics-ranking") == [
        ["1", "银闸社区", "100.0%", "100.0%", "100.0%", "100.0%", "5"],
        ["2", "多福巷社区", "88.0%", "90.0%", "90.0%", "85.0%", "10"]]
    crumbs = street.content.decode().split('class="breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert link_to("110101") in crumbs and "东华门街道" in crumbs
    community = client.get(URL, {"area": "110101001001", "period": key(this_month())})
    html = community.content.decode()
    assert community.status_code == 200
    crumbs = html.split('class="breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert link_to("110101") in crumbs and link_to("110101001") in crumbs
    assert 'aria-current="page">多福巷社区</li>' in crumbs
    assert 'id="zx-analytics-ranking"' not in html  # a community has no children to rank
    assert received_tile(html) == "10"
    assert "88.0%" in html.split('data-indicator="dispatch.composite"', 1)[1].split("</li>", 1)[0]
    assert "类别分布按街道统计" in html


def test_the_street_hub_sees_its_street_and_communities_only(board, client_for):
    client = client_for("street_hub")
    response = client.get(URL)
    assert response.status_code == 200
    assert [row[1] for row in table(response, "zx-analytics-ranking")] == ["银闸社区", "多福巷社区"]
    crumbs = response.content.decode().split('class="breadcrumb"', 1)[1].split("</ol>", 1)[0]
    assert "东城区" not in crumbs  # the hub's top node is its street
    assert client.get(URL, {"area": "110101001002"}).status_code == 200
    for code in ("110101", "110101002", "110101002001", "1101", "110102001001"):
        assert client.get(URL, {"area": code}).status_code == 404, code


def test_community_staff_see_their_community_only(board, client_for):
    client = client_for("community_staff")
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "多福巷社区" in html and "银闸社区" not in html and "吉祥社区" not in html
    for code in ("110101001", "110101001002", "110101002001", "110101", "110101001001001"):
        assert client.get(URL, {"area": code}).status_code == 404, code


def test_roles_without_the_dashboard_are_refused(board, client_for):
    for persona in ("grid_worker", "department_handler", "resident", "system_admin"):
        assert client_for(persona).get(URL).status_code == 403, persona


def test_unknown_or_malformed_areas_are_not_found(board, client_for):
    client = client_for("district_admin")
    for code in ("110101999", "abc", "110101001001' OR 1=1", "1" * 40, "110101001001001"):
        assert client.get(URL, {"area": code}).status_code == 404, code


def test_a_city_grant_opens_the_city(board, personas, client_for):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zhouxin.testing.personas import TOTP_KEY_HEX

    with scopes_disabled():
        user = User.objects.create_user(username="city_admin", password="x-Long-Password-2026", full_name="市级管理员")
        Grant.objects.create(user=user, role=Role.DISTRICT_ADMIN, area=personas.areas["city"])
        personas.devices["city_admin"] = TOTPDevice.objects.create(user=user, name="默认", key=TOTP_KEY_HEX,
                                                                   confirmed=True)
    personas.users["city_admin"] = user
    rollup(personas.areas["street_x"], this_month(), received=3, response_due=3, responded_in_time=3)
    category_rollup(personas.areas["street_x"], this_month(), board_category(personas, "12"), 3)
    response = client_for("city_admin").get(URL)
    assert response.status_code == 200
    assert [row[1] for row in table(response, "zx-analytics-ranking")] == ["西城区", "东城区"]
    assert [row[6] for row in table(response, "zx-analytics-ranking")] == ["3", "35"]
    data = chart_data(response)
    assert data["volume"][-1] == 38 and data["volume"][-2] == 7
    # The city's breakdown sums its districts' streets: 水电气热 5 + 20 + 3, 物业管理 11.
    assert table(response, "zx-analytics-categories") == [["水电气热", "28"], ["物业管理", "11"]]


def board_category(personas, code):
    from zhouxin.dispatch.models import Category

    with scopes_disabled():
        return Category.objects.get(code=code)


# --- Figures, links, charts ------------------------------------------------------------------

def test_the_headline_shows_every_indicator_with_its_link(board, client_for):
    def hours(areas, period):
        return {area.pk: Decimal("12.25") for area in areas}

    def broken(areas, period):
        raise RuntimeError("a domain's bug")

    indicators.register("test.hours", title="测试服务时长", unit=indicators.HOURS, domain="测试业务", compute=hours,
                        link=lambda area, period: f"/test/{area.code}/{period.key}/", order=900)
    indicators.register("test.broken", title="测试坏指标", unit=indicators.COUNT, domain="测试业务", compute=broken,
                        order=901)
    try:
        response = client_for("street_hub").get(URL)
    finally:
        indicators.unregister("test.hours")
        indicators.unregister("test.broken")
    html = response.content.decode()
    tile = html.split('data-indicator="test.hours"', 1)[1].split("</li>", 1)[0]
    assert "12.3" in tile and "小时" in tile and "测试服务时长" in tile
    assert f'href="/test/110101001/{key(this_month())}/" data-indicator="test.hours"' in html
    broken_tile = html.split('data-indicator="test.broken"', 1)[1].split("</li>", 1)[0]
    assert "—" in broken_tile
    # dispatch's own figures for the street, from its roll-up row, linking to the rankings.
    received = html.split('data-indicator="dispatch.received"', 1)[1].split("</li>", 1)[0]
    assert ">15<" in received
    composite = html.split('data-indicator="dispatch.composite"', 1)[0].rsplit("<a ", 1)[1]
    assert reverse("dispatch:rankings") in composite
    assert "92.0%" in html.split('data-indicator="dispatch.composite"', 1)[1].split("</li>", 1)[0]


def test_the_trend_table_and_chart_carry_the_same_figures(board, client_for):
    response = client_for("street_hub").get(URL)
    data = chart_data(response)
    rows = table(response, "zx-analytics-trend")
    assert len(rows) == len(data["months"]) == 12
    assert [r[0] for r in rows] == data["months"]
    assert data["months"][-1] == key(this_month())
    assert [int(r[1]) for r in rows] == data["volume"]
    assert data["volume"][-2:] == [7, 15] and sum(data["volume"]) == 22
    assert rows[-1][2:] == ["93.3%", "93.3%", "90.0%", "92.0%"]
    assert data["composite"][-1] == 92.0 and data["response"][-1] == 93.3
    assert data["composite"][-2] == 100.0 and data["resolution"][-2] is None and rows[-2][3] == "—"


def test_the_ranking_and_treemap_data_match_the_table(board, client_for):
    response = client_for("district_admin").get(URL)
    data = chart_data(response)
    rows = table(response, "zx-analytics-ranking")
    assert [r["name"] for r in data["ranking"]] == [r[1] for r in rows]
    assert [f'{r["value"]}%' for r in data["ranking"]] == [r[2] for r in rows]
    assert [(t["name"], t["value"], t["score"]) for t in data["treemap"]] == [("东华门街道", 15, 92.0),
                                                                              ("景山街道", 20, 50.0)]
    assert data["treemap"][0]["url"] == f"{URL}?area=110101001&period={key(this_month())}"
    assert 'data-analytics-chart="treemap"' in response.content.decode()


def test_the_category_breakdown(board, client_for):
    client = client_for("district_admin")
    district = client.get(URL)
    assert table(district, "zx-analytics-categories") == [["水电气热", "25"], ["物业管理", "11"]]
    assert chart_data(district)["categories"] == [{"name": "水电气热", "value": 25}, {"name": "物业管理", "value": 11}]
    street = client.get(URL, {"area": "110101001", "period": key(rates.add_months(this_month(), -1))})
    assert table(street, "zx-analytics-categories") == [["社会秩序", "7"]]


def test_a_quarter_and_a_year_sum_their_months(board, client_for):
    client = client_for("street_hub")
    today = timezone.localdate()
    for period in (Period.of(indicators.QUARTER, today), Period.year(today.year)):
        response = client.get(URL, {"period": period.key})
        assert response.status_code == 200
        html = response.content.decode()
        months_in = sum(1 for m in (this_month(), rates.add_months(this_month(), -1)) if period.contains(m))
        expected = 15 + (7 if months_in == 2 else 0)
        received = html.split('data-indicator="dispatch.received"', 1)[1].split("</li>", 1)[0]
        assert f">{expected}<" in received, period.key
        assert f'<option value="{period.key}" selected>' in html


def test_a_bad_period_says_so_and_shows_this_month(board, client_for):
    response = client_for("street_hub").get(URL, {"period": "2026-13"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "统计期格式不正确" in html and "已显示本月" in html
    assert f'<option value="{key(this_month())}" selected>' in html
    assert client_for("street_hub").get(URL, {"period": "1999"}).status_code == 200


def test_the_page_has_no_inline_script_or_style(board, client_for):
    html = client_for("district_admin").get(URL).content.decode()
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert all('type="application/json"' in attrs for attrs in scripts), scripts
    assert "zhouxin/analytics-dashboard.js" in html and "vendor/echarts/echarts.min.js" in html
    assert ' style="' not in html


# --- The community's rating and report -----------------------------------------------------------

@pytest.fixture
def rated(board, personas):
    with scopes_disabled():
        Rating.objects.unscoped().create(
            area=personas.areas["community_a"], district=personas.areas["dongcheng"], period=key(this_month()),
            period_kind="month", period_start=this_month(), period_end=Period.parse(key(this_month())).end,
            score=Decimal("84.50"), stars=4, rank=2, rank_of=3, computed_at=timezone.now())
    return personas


def test_the_community_panel_links_the_rating_and_posts_the_report(rated, client_for, settings):
    settings.ROOT_URLCONF = "zhouxin.analytics.tests.urls_oversight"
    html = client_for("community_staff").get(URL).content.decode()
    assert "4 星" in html and "84.50" in html and "区内第 2 / 3 名" in html
    assert f'href="/oversight/ratings/110101001001/{key(this_month())}/"' in html
    form = html.split('action="/oversight/reports/new/"', 1)[1].split("</form>", 1)[0]
    assert 'name="area" value="110101001001"' in form and f'name="period" value="{key(this_month())}"' in form
    assert "生成月度报表" in form and "csrfmiddlewaretoken" in form
    # Another month without a rating: no stars, still the report button.
    other = client_for("community_staff").get(URL, {"period": key(rates.add_months(this_month(), -1))}).content.decode()
    assert "还没有星级评定" in other and 'action="/oversight/reports/new/"' in other


def test_without_the_oversight_pages_there_is_no_link_and_no_button(rated, client_for, settings):
    settings.ROOT_URLCONF = "zhouxin.analytics.tests.urls_no_oversight"
    response = client_for("community_staff").get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "4 星" in html
    assert "查看评定说明" not in html and "生成月度报表" not in html


# --- Queries ------------------------------------------------------------------------------------

def _count(client, params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_query_count_does_not_grow_with_children_or_months(personas, dispatch_world, client_for,
                                                               django_assert_max_num_queries):
    """A street with 2 communities and 1 month of roll-ups, then with 10 communities and 12 months:
    the same number of queries (the district page too)."""
    a = personas.areas
    cats = dispatch_world.categories
    month = this_month()
    for area in (a["street_a"], a["community_a"], a["community_a2"]):
        rollup(area, month, **YINZHA)
    category_rollup(a["street_a"], month, cats["04"], 5)
    client = client_for("district_admin")
    client.get(URL, {"area": a["street_a"].code})  # warm the session, the policy and the calendar
    budget = 20 + 3 * len(indicators.indicators())
    with django_assert_max_num_queries(budget):
        small = _count(client, {"area": a["street_a"].code})
    district_small = _count(client, {"area": "110101"})

    more = add_communities(a["street_a"], range(3, 11))
    for n in range(1, 12):
        earlier = rates.add_months(month, -n)
        for area in (a["street_a"], a["community_a"], a["community_a2"]):
            rollup(area, earlier, **YINZHA)
        for code, cat in cats.items():
            if len(code) == 2:
                category_rollup(a["street_a"], earlier, cat, n)
    for area in more:
        for n in range(12):
            rollup(area, rates.add_months(month, -n), **HALF)
    with django_assert_max_num_queries(small):
        response = client.get(URL, {"area": a["street_a"].code})
    assert len(table(response, "zx-analytics-ranking")) == 10
    assert sum(1 for v in chart_data(response)["volume"] if v) == 12
    assert _count(client, {"area": "110101"}) <= district_small


def test_an_older_period_is_offered_in_the_chooser(board, client_for):
    html = client_for("street_hub").get(URL, {"period": "2020-03"}).content.decode()
    assert '<option value="2020-03" selected>2020年3月</option>' in html
    assert received_tile(html) == "—"  # no roll-ups that month


def received_tile(html: str) -> str:
    """The figure on the tile of dispatch.received."""
    received = html.split('data-indicator="dispatch.received"', 1)[1].split("</li>", 1)[0]
    return re.search(r'zx-tile__count">([^<]+)<', received)[1]


def test_staff_with_two_communities_choose_between_them(board, personas, client_for):
    with scopes_disabled():
        Grant.objects.create(user=personas.community_staff, role=Role.COMMUNITY_STAFF,
                             area=personas.areas["community_b"], organisation=personas.orgs["community_b_committee"])
    client = client_for("community_staff")
    html = client.get(URL).content.decode()
    assert "我负责的区域" in html
    assert '<span class="zx-muted">· 多福巷社区</span>' in html  # the first by code
    assert link_to("110101002001") in html
    other = client.get(URL, {"area": "110101002001"})
    assert other.status_code == 200 and received_tile(other.content.decode()) == "20"
    assert client.get(URL, {"area": "110101002"}).status_code == 404
