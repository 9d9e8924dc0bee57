"""Three-rates pages: what each role sees, bad input, query counts, and 每月一题 from the form."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rates, services
from zhouxin.dispatch.choices import Channel, RequestKind, Resolution, Satisfaction
from zhouxin.dispatch.models import MonthlyTheme, Rollup, ServiceRequest
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

pytestmark = pytest.mark.django_db

RANKINGS = reverse("dispatch:rankings")
TRENDS = reverse("dispatch:trends")
THEMES = reverse("dispatch:themes")
THEME_SET = reverse("dispatch:theme_set")


def this_month():
    return timezone.localdate().replace(day=1)


def handle(personas, world, *, area="community_a", category="040102", satisfaction=Satisfaction.SATISFIED):
    """One request through its whole life via the services, called back with `satisfaction`."""
    req = services.request_intake(
        actor=personas.district_admin, kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE,
        area=personas.areas[area], title="楼道堆放杂物", description="楼道里堆满纸箱，影响通行。",
        category=world.categories[category])
    lead = req.lead_org_id
    staff = (personas.department_handler if lead == personas.orgs["department"].pk
             else personas.community_staff if area == "community_a" else personas.community_staff_b)

    def fresh():
        return ServiceRequest.objects.unscoped().select_related("area").get(pk=req.pk)

    services.request_accept(actor=staff, request=fresh())
    services.request_contact(actor=staff, request=fresh())
    services.request_reply(actor=staff, request=fresh(), reply="已清理。")
    services.request_callback(actor=personas.district_admin, request=fresh(), resolution=Resolution.RESOLVED,
                              satisfaction=satisfaction)
    return req


def table_rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r.split(">", 1)[1])).strip() for r in body.split("<tr")[1:]]


@pytest.fixture
def world(dispatch_world):
    return dispatch_world


# --- rankings ----------------------------------------------------------------------------

def test_rankings_show_the_change_after_an_unsatisfied_callback(personas, world, client_for):
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_b")
    client = client_for("district_admin")
    rows = table_rows(client.get(RANKINGS).content.decode())
    assert rows[0].startswith("1 东华门街道") and "100.0%" in rows[0]
    assert rows[1].startswith("1 景山街道")
    handle(personas, world, area="community_a", satisfaction=Satisfaction.UNSATISFIED)
    html = client.get(RANKINGS).content.decode()
    rows = table_rows(html)
    assert rows[0].startswith("1 景山街道")
    # 东华门: 2 requests, satisfaction (1 + 0) / 2 = 50 %; composite 0.2 + 0.4 + 0.2 = 80.0
    assert rows[1].startswith("2 东华门街道") and "50.0%" in rows[1] and "80.0" in rows[1]


def test_street_hub_sees_district_streets_and_own_communities_only(personas, world, client_for):
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_b")
    client = client_for("street_hub")
    html = client.get(RANKINGS).content.decode()
    assert "东华门街道" in html and "景山街道" in html
    assert "职能部门" not in html.split("zx-rates-tabs", 1)[1].split("</ul>", 1)[0]
    html = client.get(RANKINGS, {"tab": "communities"}).content.decode()
    assert "多福巷社区" in html and "银闸社区" in html
    assert "吉祥社区" not in html


def test_community_staff_see_own_figures_and_street_ranking(personas, world, client_for):
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_b", satisfaction=Satisfaction.UNSATISFIED)
    html = client_for("community_staff").get(RANKINGS).content.decode()
    assert "本社区本月情况" in html and "多福巷社区" in html
    assert "景山街道" in html  # the published street ranking
    assert "吉祥社区" not in html and "银闸社区" not in html  # nothing below another street's level


def test_department_sees_department_ranking(personas, world, client_for):
    with scopes_disabled():
        Rollup.objects.unscoped().create(month=this_month(), district=personas.areas["dongcheng"],
                                         organisation=personas.orgs["department"], received=4, response_due=4,
                                         responded_in_time=3)
    response = client_for("department_handler").get(RANKINGS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "职能部门排名" in html and "75.0%" in html and "本单位" in html
    assert "东华门街道" not in html


def test_governance_is_flagged_on_the_page(personas, world, client_for):
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_b", satisfaction=Satisfaction.UNSATISFIED)
    html = client_for("district_admin").get(RANKINGS).content.decode()
    assert "治理类街道" in html
    assert "治理类·诉求量高" in html and "治理类·综合得分低" in html


def test_bad_month_is_explained_and_shows_this_month(personas, world, client_for):
    response = client_for("district_admin").get(RANKINGS, {"month": "2026-13"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "月份格式不正确" in html
    assert f'value="{this_month():%Y-%m}"' in html


def test_empty_month_shows_dashes(personas, world, client_for):
    html = client_for("district_admin").get(RANKINGS, {"month": "2025-01"}).content.decode()
    rows = table_rows(html)
    assert rows and all("—" in r for r in rows)


def test_unknown_tab_is_404(personas, world, client_for):
    assert client_for("district_admin").get(RANKINGS, {"tab": "grids"}).status_code == 404


def test_rankings_query_count_does_not_grow_with_streets(personas, world, client_for, django_assert_max_num_queries):
    client = client_for("district_admin")
    client.get(RANKINGS)  # warm the session

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(RANKINGS).status_code == 200
        return len(ctx.captured_queries)

    few = measure()
    d = personas.areas["dongcheng"]
    with scopes_disabled():
        for i in range(30):
            street = Area.objects.unscoped().create(code=f"110101{100 + i:03d}", name=f"测试{i}街道",
                                                    level=AreaLevel.STREET, parent=d)
            Rollup.objects.unscoped().create(month=this_month(), district=d, area=street, received=i + 1,
                                             response_due=i + 1, responded_in_time=i)
    assert measure() == few
    with django_assert_max_num_queries(12):
        client.get(RANKINGS)
    with django_assert_max_num_queries(12):
        client.get(RANKINGS, {"tab": "departments"})
    with django_assert_max_num_queries(13):
        client.get(RANKINGS, {"tab": "communities"})


# --- trends ------------------------------------------------------------------------------

def test_trends_chart_data_and_table(personas, world, client_for):
    handle(personas, world, area="community_a")
    handle(personas, world, area="community_a", category="080101")  # to the 城管 department
    response = client_for("district_admin").get(TRENDS)
    html = response.content.decode()
    assert response.status_code == 200
    data = json.loads(html.split('id="zx-trend-data" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert len(data["months"]) == 12 and data["months"][-1] == f"{this_month():%Y-%m}"
    assert data["volume"][-1] == 2 and data["volume"][0] == 0
    assert data["satisfaction"][-1] == 100.0 and data["satisfaction"][0] is None
    assert {c["name"] for c in data["categories"]} == {"物业管理", "社会秩序"}
    assert "echarts.min.js" in html and "charts.js" in html
    assert "<script>" not in html  # no inline script (CSP)


def test_trends_for_a_department_and_a_community(personas, world, client_for):
    handle(personas, world, area="community_a", category="080101")
    html = client_for("department_handler").get(TRENDS).content.decode()
    assert "东城区城市管理综合行政执法监察局" in html
    assert "类别分布按区和街道统计" in html
    html = client_for("community_staff").get(TRENDS).content.decode()
    assert "多福巷社区" in html


def test_trends_query_count(personas, world, client_for, django_assert_max_num_queries):
    handle(personas, world)
    client = client_for("district_admin")
    client.get(TRENDS)
    # session, user, device, the scope's grants, the viewer (grants, districts), the rule (2),
    # the trend, the categories, the picker's streets and departments
    with django_assert_max_num_queries(13):
        assert client.get(TRENDS).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(TRENDS, {"area": personas.areas["street_a"].code}).status_code == 200


# --- 每月一题 ------------------------------------------------------------------------------

def test_district_admin_sets_a_theme_from_the_form(personas, world, client_for):
    client = client_for("district_admin")
    html = client.get(THEMES).content.decode()
    assert "设置每月一题" in html
    response = client.post(THEME_SET, {"district": "110101", "month": f"{this_month():%Y-%m}",
                                       "category": world.categories["04"].pk, "title": "楼道堆物专项治理"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "楼道堆物专项治理" in html and "物业管理" in html
    # Everyone with a rates role in the district reads it; only the district sets it.
    html = client_for("community_staff").get(THEMES).content.decode()
    assert "楼道堆物专项治理" in html and "设置每月一题" not in html


def test_theme_form_errors_change_nothing(personas, world, client_for):
    client = client_for("district_admin")
    response = client.post(THEME_SET, {"district": "110101", "month": "2026-13",
                                       "category": world.categories["040102"].pk, "title": ""})
    html = response.content.decode()
    assert response.status_code == 400
    assert "月份格式不正确" in html and "请选择一个有效的一级类别" in html and "请填写主题" in html
    with scopes_disabled():
        assert not MonthlyTheme.objects.unscoped().exists()


def test_themes_query_count(personas, world, client_for, django_assert_max_num_queries):
    for i in range(5):
        rates.monthly_theme_set(actor=personas.district_admin, district=personas.areas["dongcheng"],
                                month=this_month(), category=world.categories[["04", "08", "12", "06", "04"][i]],
                                title=f"主题{i}")
    client = client_for("district_admin")
    client.get(THEMES)
    with django_assert_max_num_queries(12):
        assert client.get(THEMES).status_code == 200


def test_navigation_entry(personas, world, client_for):
    assert "三率考核" in client_for("street_hub").get(reverse("core:home")).content.decode()
    assert "三率考核" not in client_for("resident").get(reverse("core:home")).content.decode()

