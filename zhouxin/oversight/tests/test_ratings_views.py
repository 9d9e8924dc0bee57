"""The ratings pages: the ranking list, the rating explanation, peers, starting a run, the
rectification list and decisions; each scoped to the reader's area; and the rate_areas command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from zhouxin.core.indicators import Period
from zhouxin.core.models import AuditEntry
from zhouxin.oversight import ratings
from zhouxin.oversight.choices import FlagStatus
from zhouxin.oversight.models import Rating, Rectification

from .helpers_ratings import (
    DUOFU,
    JIXIANG,
    STREET_A,
    YINZHA,
    D,
    fake_board,
    last_month,
    period_ago,
    this_month,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board():
    yield from fake_board()


@pytest.fixture
def rated(personas, board):
    """Last month rated: 银闸 4★ first, 多福巷 3★, 吉祥 1★ (bottom, and its secretary post vacant)."""
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.75")})
    board.set("volunteers.hours", {DUOFU: D("50"), YINZHA: D("200"), JIXIANG: D("100")})
    board.set("workforce.secretary_vacancy_days", {JIXIANG: 120})
    ratings.rate(personas.areas["dongcheng"], last_month())
    return last_month()


def detail_url(code, period) -> str:
    return reverse("oversight:rating_detail", kwargs={"code": code, "period": period.key})


def test_district_list_ranks_every_community_with_stars_type_and_flag(client_for, rated):
    page = client_for("district_admin").get(reverse("oversight:rating_list"), {"period": rated.key})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("银闸社区") < html.index("多福巷社区") < html.index("吉祥社区")
    assert "81.82" in html and "72.27" in html and "★★★★☆" in html and "老旧公房/售后公房" in html
    assert "待整改" in html   # 吉祥社区's flag
    assert 'action="/oversight/ratings/run/"' in html


def test_the_list_shows_only_the_readers_areas(client_for, rated):
    street = client_for("street_hub").get(reverse("oversight:rating_list"), {"period": rated.key}).content.decode()
    assert "多福巷社区" in street and "银闸社区" in street and "吉祥社区" not in street
    assert "开展评定" not in street       # only the district runs ratings
    own = client_for("community_staff").get(reverse("oversight:rating_list"), {"period": rated.key}).content.decode()
    assert "多福巷社区" in own and "银闸社区" not in own and "吉祥社区" not in own
    assert "2 / 3" in own                  # its rank among the district's 3 communities
    outsider = client_for("outsider").get(reverse("oversight:rating_list"),
                                          {"district": "110101", "period": rated.key}).content.decode()
    assert "多福巷社区" not in outsider and "本统计期还没有评定结果" in outsider


def test_list_filters_by_level_street_and_type(client_for, rated):
    client = client_for("district_admin")
    url = reverse("oversight:rating_list")
    by_type = client.get(url, {"period": rated.key, "type": "commercial"}).content.decode()
    assert "银闸社区" in by_type and "多福巷社区" not in by_type
    by_street = client.get(url, {"period": rated.key, "street": "110101002"}).content.decode()
    assert "吉祥社区" in by_street and "银闸社区" not in by_street
    streets = client.get(url, {"period": rated.key, "level": "street"}).content.decode()
    assert "街道排名" in streets and "多福巷社区</a>" not in streets and "东华门街道</a>" in streets
    bad = client.get(url, {"period": "2026-13"})
    assert bad.status_code == 200 and "统计期格式不正确" in bad.content.decode()


def test_rating_explanation_shows_each_component_missing_ones_rule_and_peers(client_for, rated, personas):
    page = client_for("district_admin").get(detail_url(DUOFU, rated))
    assert page.status_code == 200
    html = page.content.decode()
    assert "测试指标dispatch.composite" in html and "90.0%" in html and "65.45" in html and "6.82" in html
    assert f'href="/records/dispatch.composite/{DUOFU}/{rated.key}/"' in html and "查看明细" in html
    assert "缺少数据的指标" in html and "共建需求对接率" in html  # not registered: named after the rule's item
    assert "默认规则" in html and "72.27" in html and "2 / 3" in html
    assert "同类社区比较（老旧公房/售后公房）" in html and "72.2700" not in html


def test_the_list_costs_the_same_queries_for_more_communities(client_for, personas, board):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area

    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.8"), JIXIANG: D("0.3")})
    board.set("workforce.secretary_vacancy_days", {DUOFU: 100})
    client, url = client_for("district_admin"), reverse("oversight:rating_list")

    def queries() -> int:
        ratings.rate(personas.areas["dongcheng"], last_month())
        client.get(url, {"period": last_month().key})  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"period": last_month().key}).status_code == 200
        return len(captured)

    few = queries()
    for n in range(2, 8):
        Area.objects.unscoped().create(code=f"11010100200{n}", name=f"测试{n}社区", level=AreaLevel.COMMUNITY,
                                       parent=personas.areas["street_b"])
    board.set("workforce.secretary_vacancy_days", {f"11010100200{n}": 100 for n in range(2, 8)})
    assert queries() == few


def test_explanation_names_the_rule_version_and_its_effective_date(client_for, personas, board):
    from zhouxin.core import policy
    from zhouxin.core.models import PolicyVersion
    from zhouxin.oversight.policy import RATING_KEY

    board.set("dispatch.composite", {DUOFU: D("0.9")})
    PolicyVersion.objects.create(key=RATING_KEY, city=personas.areas["city"], effective_from=period_ago(2).start,
                                 value={"star_5": "95"}, note="五星线提高")
    policy.invalidate()
    ratings.rate(personas.areas["dongcheng"], last_month())
    html = client_for("community_staff").get(detail_url(DUOFU, last_month())).content.decode()
    start = period_ago(2).start
    assert f"自 {start.year}年{start.month}月1日 起生效的版本" in html and "五星线提高" in html
    assert "5 星 ≥ 95 分" in html


def test_explanation_is_scoped_and_names_only_visible_peers(client_for, rated, personas):
    from zhouxin.orgs.choices import AreaLevel, CommunityType
    from zhouxin.orgs.models import Area

    Area.objects.unscoped().create(code="110101002002", name="黄化门社区", level=AreaLevel.COMMUNITY,
                                   parent=personas.areas["street_b"], community_type=CommunityType.OLD_PUBLIC)
    ratings.rate(personas.areas["dongcheng"], rated)
    admin = client_for("district_admin").get(detail_url(DUOFU, rated)).content.decode()
    assert "黄化门社区" in admin
    own = client_for("community_staff").get(detail_url(DUOFU, rated)).content.decode()
    assert "黄化门社区" not in own and "多福巷社区" in own
    assert client_for("community_staff").get(detail_url(YINZHA, rated)).status_code == 404
    assert client_for("street_hub").get(detail_url(JIXIANG, rated)).status_code == 404
    assert client_for("district_admin").get(f"/oversight/ratings/{DUOFU}/2026-13/").status_code == 404


def test_peers_page_compares_with_the_same_type(client_for, rated, personas):
    from zhouxin.orgs.choices import AreaLevel, CommunityType
    from zhouxin.orgs.models import Area

    Area.objects.unscoped().create(code="110101002002", name="黄化门社区", level=AreaLevel.COMMUNITY,
                                   parent=personas.areas["street_b"], community_type=CommunityType.OLD_PUBLIC)
    ratings.rate(personas.areas["dongcheng"], rated)   # 黄化门 has no values
    url = reverse("oversight:peers", kwargs={"code": DUOFU})
    admin = client_for("district_admin").get(url)
    assert admin.status_code == 200
    html = admin.content.decode()
    assert "黄化门社区" in html and "同类单位共 2 个" in html and "银闸社区" not in html
    assert "90.0%" in html and "50.0" in html            # its composite and its hours
    own = client_for("community_staff").get(url, {"period": rated.key}).content.decode()
    assert "黄化门社区" not in own and "另有 1 个同类单位不在您的查看范围内" in own
    assert client_for("community_staff").get(reverse("oversight:peers", kwargs={"code": YINZHA})).status_code == 404
    empty = client_for("district_admin").get(url, {"period": period_ago(5).key})
    assert empty.status_code == 200 and "还没有评定结果" in empty.content.decode()


def test_district_admin_runs_a_rating_through_the_task(client_for, personas, board, django_capture_on_commit_callbacks):
    from zhouxin.oversight.tasks import rate_district

    board.set("dispatch.composite", {DUOFU: D("0.9")})
    client = client_for("district_admin")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("oversight:rating_run"), {"district": "110101", "period": this_month().key})
    assert response.status_code == 302 and this_month().key in response["Location"]
    task = DBTaskResult.objects.get(task_path="zhouxin.oversight.tasks.rate_district")
    assert task.args_kwargs["kwargs"] == {"district_code": "110101", "period": this_month().key,
                                          "actor_id": personas.district_admin.pk}
    rate_district.call(**task.args_kwargs["kwargs"])
    assert Rating.objects.unscoped().get(area__code=DUOFU, period=this_month().key).score == D("90.00")
    assert AuditEntry.objects.get(action="oversight.rating.run").actor_id == personas.district_admin.pk


def test_a_run_for_a_period_not_started_is_refused_with_a_message(client_for, personas, board):
    client = client_for("district_admin")
    upcoming = Period.of("month", this_month().end + dt.timedelta(days=1))
    response = client.post(reverse("oversight:rating_run"), {"district": "110101", "period": upcoming.key},
                           follow=True)
    assert "尚未开始" in response.content.decode()
    bad = client.post(reverse("oversight:rating_run"), {"district": "110101", "period": "明年"}, follow=True)
    assert "统计期格式不正确" in bad.content.decode()
    assert not DBTaskResult.objects.exists()
    assert client.post(reverse("oversight:rating_run"), {"district": "110102", "period": "2026"}).status_code == 404


def test_rectification_pages_and_the_street_records_the_plan_and_result(client_for, rated):
    flag = Rectification.objects.unscoped().get(area__code=JIXIANG, period=rated.key)
    listing = client_for("district_admin").get(reverse("oversight:rectification_list")).content.decode()
    assert "吉祥社区" in listing and "星级评定排名靠后" in listing and "书记岗位空缺超过期限" in listing
    assert "吉祥社区" not in client_for("street_hub").get(reverse("oversight:rectification_list")).content.decode()

    own = client_for("community_staff_b").get(reverse("oversight:rectification_detail", args=[flag.pk]))
    assert own.status_code == 200
    assert "书记岗位已空缺 120 天" in own.content.decode() and "保存整改措施" not in own.content.decode()

    admin = client_for("district_admin")
    page = admin.get(reverse("oversight:rectification_detail", args=[flag.pk])).content.decode()
    assert "保存整改措施" in page and "验收完成" not in page
    empty = admin.post(reverse("oversight:rectification_plan", args=[flag.pk]), {"plan": "  "})
    assert empty.status_code == 422 and "请填写整改措施" in empty.content.decode()
    ok = admin.post(reverse("oversight:rectification_plan", args=[flag.pk]), {"plan": "选派书记，每周调度。"})
    assert ok.status_code == 302
    flag.refresh_from_db()
    assert flag.status == FlagStatus.RECTIFYING and flag.plan == "选派书记，每周调度。"
    closed = admin.post(reverse("oversight:rectification_close", args=[flag.pk]), {"result": "书记已到岗。"},
                        follow=True)
    assert "整改已验收完成" in closed.content.decode()
    flag.refresh_from_db()
    assert flag.status == FlagStatus.CLOSED and flag.result == "书记已到岗。"
    again = admin.post(reverse("oversight:rectification_close", args=[flag.pk]), {"result": "再验"})
    assert again.status_code == 422 and "已经验收完成" in again.content.decode()
    filtered = admin.get(reverse("oversight:rectification_list"), {"status": "open"}).content.decode()
    assert "吉祥社区" not in filtered


def test_rate_areas_command(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9")})
    out = io.StringIO()
    call_command("rate_areas", "--district", "110101", "--period", last_month().key, stdout=out)
    assert "社区 3 个、街道 2 个" in out.getvalue()
    call_command("rate_areas", "--district", "110101", "--months", "3", stdout=out)
    periods = set(Rating.objects.unscoped().values_list("period", flat=True))
    assert periods == {period_ago(2).key, last_month().key, this_month().key}
    assert AuditEntry.objects.filter(action="oversight.rating.run", actor_id__isnull=True).count() == 4
    for args in (["--district", "999999"], ["--district", "110101", "--period", "2026-13"],
                 ["--district", "110101", "--period", "2026-Q1", "--months", "2"]):
        with pytest.raises(CommandError):
            call_command("rate_areas", *args, stdout=out)
    assert STREET_A in set(Rating.objects.unscoped().values_list("area__code", flat=True))
