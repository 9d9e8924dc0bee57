"""The whistle pages as the street hub, the department and the district see them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.dispatch import whistles
from zhouxin.dispatch.choices import Channel, RequestKind, WhistleStatus
from zhouxin.dispatch.models import Summons, Whistle
from zhouxin.dispatch.tests.test_whistles import blow, handler_for, make_due, summons_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(personas, dispatch_world):
    return dispatch_world


def text(response) -> str:
    return response.content.decode()


# --- board ---------------------------------------------------------------------------

def test_board_shows_countdowns_overdue_in_red_and_solved_below(personas, world, client_for):
    department, water = world.orgs["department"], world.orgs["water"]
    open_one = blow(personas, [department, water], title="胡同积水严重")
    make_due(summons_of(open_one, water), ago=dt.timedelta(hours=1, minutes=5))
    solved = blow(personas, [department], title="早市占道经营")
    whistles.summons_report(actor=personas.department_handler, summons=summons_of(solved, department), note="已到场")
    whistles.whistle_solve(actor=personas.street_hub, whistle=solved, solution="已规范摊位")

    page = client_for("street_hub").get(reverse("dispatch:whistle_board"))
    body = text(page)
    assert page.status_code == 200
    open_part, solved_part = body.split('id="zx-solved-title"')
    assert "胡同积水严重" in open_part and "早市占道经营" not in open_part
    assert "早市占道经营" in solved_part
    assert 'class="zx-due zx-due--overdue"' in open_part and "已超时 1 小时 5 分钟" in open_part
    assert "zx-due zx-due--pending" in open_part and "还剩 23 小时" in open_part
    assert 'data-zx-due="' in open_part  # whistles.js keeps counting
    assert 'id="zx-countdown-text"' in body and "zhouxin/whistles.js" in body
    assert reverse("dispatch:whistle_open") in body  # the street may blow a whistle
    assert "<script>" not in body.replace('<script id="zx-countdown-text" type="application/json">', "")


def test_board_query_count_does_not_grow_with_whistles(personas, world, client_for):
    client = client_for("street_hub")

    def add(n: int, *, solved: bool):
        whistle = blow(personas, [world.orgs["department"], world.orgs["water"]], title=f"问题 {n}")
        if solved:
            Summons.objects.filter(whistle=whistle).update(reported_at=timezone.now())
            Whistle.objects.unscoped().filter(pk=whistle.pk).update(status=WhistleStatus.SOLVED,
                                                                    solved_at=timezone.now())

    add(0, solved=False)
    add(1, solved=True)
    client.get(reverse("dispatch:whistle_board"))  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dispatch:whistle_board"))
    for n in range(2, 12):
        add(n, solved=bool(n % 2))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("dispatch:whistle_board"))
    assert all(f"问题 {n}" in text(page) for n in range(12))
    assert len(many) == len(few)


def test_the_department_sees_its_own_pending_summonses(personas, world, client_for):
    department, water = world.orgs["department"], world.orgs["water"]
    mine = blow(personas, [department, water], title="我部门要报到的事")
    blow(personas, [water], title="只召集水务的事")
    page = client_for("department_handler").get(reverse("dispatch:whistle_board"))
    body = text(page)
    assert page.status_code == 200
    assert "本部门待报到" in body and "我部门要报到的事" in body
    assert "只召集水务的事" not in body
    assert reverse("dispatch:whistle_detail", args=[mine.number]) in body
    assert reverse("dispatch:whistle_open") not in body  # departments do not blow whistles


def test_navigation_entry_for_the_street_and_not_for_the_community(client_for):
    board = reverse("dispatch:whistle_board")
    assert board in text(client_for("street_hub").get(reverse("core:home")))
    assert board in text(client_for("department_handler").get(reverse("core:home")))
    assert board not in text(client_for("community_staff").get(reverse("core:home")))


# --- blowing a whistle ---------------------------------------------------------------

def test_open_form_lists_the_district_departments(personas, world, client_for):
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.orgs.choices import OrgKind
    from zhouxin.orgs.models import Organisation

    with scopes_disabled():
        Organisation.objects.create(name="西城区市场监管局", kind=OrgKind.DEPARTMENT, area=personas.areas["xicheng"])
    page = client_for("street_hub").get(reverse("dispatch:whistle_open"))
    body = text(page)
    assert page.status_code == 200
    assert world.orgs["department"].name in body and world.orgs["water"].name in body
    assert "西城区市场监管局" not in body
    assert "中共多福巷社区委员会" not in body  # not a department
    assert "紧急 30 分钟，一般 24 小时" in body


def test_blowing_a_whistle_from_the_form(personas, world, client_for):
    client = client_for("street_hub")
    response = client.post(reverse("dispatch:whistle_open"), {
        "street": personas.areas["street_a"].pk, "title": "老旧小区外墙脱落", "description": "外墙砖脱落，砸坏车辆。",
        "urgency": "urgent", "departments": [world.orgs["department"].pk, world.orgs["water"].pk],
    })
    whistle = Whistle.objects.unscoped().get(title="老旧小区外墙脱落")
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:whistle_detail", args=[whistle.number])
    assert whistle.urgency == "urgent" and whistle.summons.count() == 2
    page = client.get(response["Location"])
    assert f"已吹哨（{whistle.number}），已召集 2 个部门。" in text(page)
    assert "还剩 29 分钟" in text(page) or "还剩 30 分钟" in text(page)


def test_bad_form_input_gets_messages_and_creates_nothing(personas, world, client_for):
    client = client_for("street_hub")
    url = reverse("dispatch:whistle_open")
    base = {"street": personas.areas["street_a"].pk, "title": "占道", "description": "早市占道",
            "urgency": "normal", "departments": [world.orgs["department"].pk]}
    cases = [
        ({"title": ""}, "请填写问题。"),
        ({"departments": []}, "请至少召集一个职能部门。"),
        ({"departments": [personas.orgs["community_a_committee"].pk]}, "只能召集本区在用的职能部门。"),
        ({"departments": ["abc"]}, "只能召集本区在用的职能部门。"),
        ({"urgency": "whenever"}, "紧急程度只能是"),
        ({"street": personas.areas["street_b"].pk}, "只能在您负责的街道吹哨。"),
        ({"request_number": "99999999999999999"}, "没有找到工单 99999999999999999"),
    ]
    for change, message in cases:
        response = client.post(url, {**base, **change})
        assert response.status_code == 422, change
        assert message in text(response), change
    assert not Whistle.objects.unscoped().exists()


def test_a_whistle_on_a_request_prefills_and_links_the_request(personas, world, client_for):
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.dispatch import services

    with scopes_disabled():
        request = services.request_intake(
            actor=personas.street_hub, kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE,
            area=personas.areas["community_a"], title="楼道堆物阻塞", description="三号楼楼道堆满杂物，存在消防隐患。")
    client = client_for("street_hub")
    page = client.get(reverse("dispatch:whistle_open") + f"?request={request.number}")
    assert "楼道堆物阻塞" in text(page) and request.number in text(page)
    response = client.post(reverse("dispatch:whistle_open"), {
        "street": personas.areas["street_a"].pk, "title": "楼道堆物阻塞", "description": "消防隐患",
        "urgency": "normal", "departments": [world.orgs["department"].pk], "request_number": request.number})
    assert response.status_code == 302
    whistle = Whistle.objects.unscoped().get(request=request)
    link = reverse("dispatch:request_detail", args=[request.number])
    assert link in text(client.get(reverse("dispatch:whistle_detail", args=[whistle.number])))
    # The summoned department sees the number, without a link to a request it does not handle.
    seen = text(client_for("department_handler").get(reverse("dispatch:whistle_detail", args=[whistle.number])))
    assert request.number in seen and link not in seen


# --- one whistle ---------------------------------------------------------------------

def test_detail_actions_by_role(personas, world, client_for):
    whistle = blow(personas, [world.orgs["department"], world.orgs["water"]])
    city = summons_of(whistle, world.orgs["department"])
    url = reverse("dispatch:whistle_detail", args=[whistle.number])
    report_url = reverse("dispatch:summons_report", args=[whistle.number, city.pk])
    water_report_url = reverse("dispatch:summons_report", args=[whistle.number, summons_of(whistle, world.orgs["water"]).pk])
    solve_url = reverse("dispatch:whistle_solve", args=[whistle.number])

    hub = text(client_for("street_hub").get(url))
    assert whistle.title in hub and solve_url in hub and report_url not in hub
    assert "事不完、人不撤" in hub
    dept = text(client_for("department_handler").get(url))
    assert report_url in dept and water_report_url not in dept and solve_url not in dept
    admin = client_for("district_admin").get(url)
    assert admin.status_code == 200 and report_url not in text(admin) and solve_url not in text(admin)


def test_report_rate_and_solve_through_htmx(personas, world, client_for):
    department = world.orgs["department"]
    whistle = blow(personas, [department])
    summons = summons_of(whistle, department)
    hub, dept = client_for("street_hub"), client_for("department_handler")
    rate_url = reverse("dispatch:summons_rate", args=[whistle.number, summons.pk])
    solve_url = reverse("dispatch:whistle_solve", args=[whistle.number])

    # Before the report: rating and solving are refused with the reason, nothing changes.
    early = hub.post(rate_url, {"rating": "5"}, **HTMX)
    assert early.status_code == 422 and "尚未报到，报到后才能评价" in text(early)
    refused = hub.post(solve_url, {"solution": "已处理"}, **HTMX)
    assert refused.status_code == 422 and "事不完、人不撤" in text(refused) and department.name in text(refused)
    assert 'id="zx-whistle-panel"' in text(refused)

    empty = dept.post(reverse("dispatch:summons_report", args=[whistle.number, summons.pk]), {"note": ""}, **HTMX)
    assert empty.status_code == 422 and "请填写报到情况。" in text(empty)
    ok = dept.post(reverse("dispatch:summons_report", args=[whistle.number, summons.pk]),
                   {"note": "执法队员 10 分钟内到场"}, **HTMX)
    assert ok.status_code == 200 and f"{department.name}已按时报到。" in text(ok)
    assert "执法队员 10 分钟内到场" in text(ok) and "zx-due--reported" in text(ok)
    again = dept.post(reverse("dispatch:summons_report", args=[whistle.number, summons.pk]), {"note": "再报"}, **HTMX)
    assert again.status_code == 422 and "不能重复报到" in text(again)

    for bad in ("7", "0", "x", ""):
        response = hub.post(rate_url, {"rating": bad}, **HTMX)
        assert response.status_code == 422 and "1 到 5 分" in text(response), bad
    rated = hub.post(rate_url, {"rating": "4", "note": "到场及时"}, **HTMX)
    assert rated.status_code == 200 and "街道评价 4 分" in text(rated)
    assert Summons.objects.get(pk=summons.pk).rating == 4

    solved = hub.post(solve_url, {"solution": "占道摊位已清理"}, **HTMX)
    assert solved.status_code == 204
    assert solved["HX-Redirect"] == reverse("dispatch:whistle_detail", args=[whistle.number])
    page = text(hub.get(solved["HX-Redirect"]))
    assert f"吹哨 {whistle.number} 已解决。" in page and "占道摊位已清理" in page


def test_actions_without_htmx_redirect_or_show_the_page(personas, world, client_for):
    department = world.orgs["department"]
    whistle = blow(personas, [department])
    summons = summons_of(whistle, department)
    dept = client_for("department_handler")
    response = dept.post(reverse("dispatch:summons_report", args=[whistle.number, summons.pk]), {"note": "已到场"})
    assert response.status_code == 302
    make_due(summons, ago=dt.timedelta(minutes=1))
    refused = client_for("street_hub").post(reverse("dispatch:whistle_solve", args=[whistle.number]), {"solution": ""})
    assert refused.status_code == 422 and "请填写解决情况。" in text(refused) and whistle.title in text(refused)


def test_a_late_report_is_shown_as_late(personas, world, client_for):
    department = world.orgs["department"]
    whistle = blow(personas, [department])
    summons = make_due(summons_of(whistle, department), ago=dt.timedelta(hours=3))
    response = client_for("department_handler").post(
        reverse("dispatch:summons_report", args=[whistle.number, summons.pk]), {"note": "晚到"}, **HTMX)
    assert "超过时限，记为超时报到" in text(response) and "超时报到（晚 3 小时 0 分钟）" in text(response)


# --- department evaluation -----------------------------------------------------------

def test_scores_page_for_street_department_and_district(personas, world, client_for):
    department, water = world.orgs["department"], world.orgs["water"]
    water_handler = handler_for(personas, water, "water_handler")
    whistle = blow(personas, [department, water])
    whistles.summons_report(actor=personas.department_handler, summons=summons_of(whistle, department), note="到")
    whistles.summons_rate(actor=personas.street_hub, summons=summons_of(whistle, department), rating=5)
    late = make_due(summons_of(whistle, water), ago=dt.timedelta(minutes=1))
    whistles.summons_report(actor=water_handler, summons=late, note="晚到")
    url = reverse("dispatch:department_scores")

    hub = text(client_for("street_hub").get(url))
    assert department.name in hub and water.name in hub and "5.00" in hub and "100.0%" in hub
    assert "东华门街道吹哨" in hub
    dept = text(client_for("department_handler").get(url))
    assert department.name in dept and water.name not in dept
    admin = client_for("district_admin").get(url)
    assert admin.status_code == 200 and water.name in text(admin) and "东城区全部职能部门" in text(admin)
    other_month = client_for("street_hub").get(url, {"month": "2020-01"})
    assert department.name not in text(other_month) and "该月没有吹哨召集记录" in text(other_month)
    bad = client_for("street_hub").get(url, {"month": "最近"})
    assert bad.status_code == 200 and "月份格式不正确" in text(bad) and department.name in text(bad)
    rows = whistles.department_whistle_scores(district=personas.areas["dongcheng"], month=timezone.localdate())
    assert [(r.department, r.average_rating) for r in rows] == [(department, Decimal("5.00")), (water, None)]
