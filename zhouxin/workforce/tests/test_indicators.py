"""Community-worker indicators: the share of workers with a social-work certificate and the days
a community's 书记 post has been vacant, read from the roster on the period's last day, in a fixed
number of queries, with links to the roster."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.workforce import roster
from zhouxin.workforce.choices import Certificate, PostType
from zhouxin.workforce.indicators import is_secretary_title

from .roster_helpers import hire

D = Decimal
JUNE = Period.month(2025, 6)
ZHENG, FU, ZHUANZHI = PostType.ZHENG, PostType.FU, PostType.ZHUANZHI


@pytest.fixture
def world(personas):
    """多福巷: 张卫东 was 书记 (and 主任) until 31 March 2025; 赵敏 left on 31 May 2025; 孙洁 joins on
    1 July 2025.  银闸: a 主任 and a 副书记 since 2024, never a 书记.  吉祥: 书记 since 2020.
    西交民巷: nobody on the roster."""
    zhang = hire(personas, "张卫东", hired=dt.date(2015, 1, 1), post=(ZHENG, "书记、主任"),
                 certificate=Certificate.SOCIAL_WORKER)
    hire(personas, "王芳", hired=dt.date(2018, 5, 1), post=(ZHUANZHI, "网格员"), certificate=Certificate.ASSISTANT)
    hire(personas, "李强", hired=dt.date(2020, 3, 1))
    zhao = hire(personas, "赵敏", hired=dt.date(2020, 3, 1), certificate=Certificate.SENIOR)
    hire(personas, "孙洁", hired=dt.date(2025, 7, 1), certificate=Certificate.SOCIAL_WORKER)
    hire(personas, "钱亮", area="community_a2", hired=dt.date(2024, 1, 1), post=(ZHENG, "主任"),
         certificate=Certificate.ASSISTANT)
    hire(personas, "周敏", area="community_a2", hired=dt.date(2024, 2, 1), post=(ZHENG, "副书记"))
    hire(personas, "吴刚", area="community_b", hired=dt.date(2020, 1, 1), post=(ZHENG, "书记"))
    with scopes_disabled():
        roster.post_end(actor=personas.street_hub, post=zhang.posts.get(), ended_on=dt.date(2025, 3, 31))
        roster.worker_leave(actor=personas.street_hub, worker=zhao, left_on=dt.date(2025, 5, 31))
    return {"zhang": zhang}


def _values(name, areas, period=JUNE):
    with scopes_disabled():
        return indicators.compute(name, areas, period)


def test_secretary_titles():
    assert is_secretary_title("书记") and is_secretary_title("书记、主任") and is_secretary_title("副书记、书记")
    assert not is_secretary_title("副书记") and not is_secretary_title("主任")


def test_certified_share_on_the_periods_last_day(personas, world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["community_x"], a["street_a"],
             a["dongcheng"]]
    values = _values("workforce.certified_share", areas)
    # 30 June: 张卫东, 王芳 certified, 李强 not; 赵敏 has left, 孙洁 not yet hired.
    assert values == {a["community_a"].pk: D("2") / D("3"), a["community_a2"].pk: D("0.5"),
                      a["community_b"].pk: D("0"), a["street_a"].pk: D("0.6"),
                      a["dongcheng"].pk: D("3") / D("6")}
    # 31 May was 赵敏's last day: still on the roster.
    may = _values("workforce.certified_share", [a["community_a"]], Period.month(2025, 5))
    assert may == {a["community_a"].pk: D("0.75")}
    july = _values("workforce.certified_share", [a["community_a"]], Period.month(2025, 7))
    assert july == {a["community_a"].pk: D("0.75")}


def test_secretary_vacancy_days(personas, world):
    a = personas.areas
    areas = [a["community_a"], a["community_a2"], a["community_b"], a["community_x"], a["street_a"]]
    values = _values("workforce.secretary_vacancy_days", areas)
    # 多福巷: vacant since 1 April (91 days on 30 June); 银闸: never a 书记, counted from the first
    # hire on 1 January 2024; 吉祥: held; 西交民巷: nobody on the roster; streets: no figure.
    assert values == {a["community_a"].pk: 91, a["community_a2"].pk: (dt.date(2025, 6, 30) - dt.date(2024, 1, 1)).days,
                      a["community_b"].pk: 0, a["community_x"].pk: None}
    # 31 March was the last day held.
    assert _values("workforce.secretary_vacancy_days", [a["community_a"]], Period.month(2025, 3)) == {
        a["community_a"].pk: 0}
    # Before anyone was on 银闸's roster there is no figure.
    assert _values("workforce.secretary_vacancy_days", [a["community_a2"]], Period.year(2023)) == {
        a["community_a2"].pk: None}
    # A new 书记 from 15 July: held at the end of July.
    with scopes_disabled():
        roster.post_add(actor=personas.street_hub, worker=world["zhang"], post_type=ZHENG, title="书记",
                        started_on=dt.date(2025, 7, 15))
    assert _values("workforce.secretary_vacancy_days", [a["community_a"]], Period.month(2025, 7)) == {
        a["community_a"].pk: 0}
    assert _values("workforce.secretary_vacancy_days", [a["community_a"]], JUNE) == {a["community_a"].pk: 91}
    # A post titled 书记 but not 正职 is not the 书记 post.
    hire(personas, "郑华", area="community_a2", hired=dt.date(2024, 3, 1), post=(FU, "书记"))
    assert _values("workforce.secretary_vacancy_days", [a["community_a2"]]) == {a["community_a2"].pk: 546}


def test_a_fixed_number_of_queries_for_one_or_many_areas(personas, world):
    a = personas.areas
    with scopes_disabled():
        extra = [Area.objects.unscoped().create(code=f"110101001{100 + i:03d}", name=f"测试{i}社区",
                                                level=AreaLevel.COMMUNITY, parent=a["street_a"]) for i in range(8)]
    cases = {"workforce.certified_share": 1, "workforce.secretary_vacancy_days": 2}
    for name, expected in cases.items():
        with CaptureQueriesContext(connection) as one:
            _values(name, [a["community_a"]])
        with CaptureQueriesContext(connection) as many:
            values = _values(name, [a["community_a"], a["community_a2"], a["community_b"], *extra])
        assert len(one) == len(many) == expected, name
        assert len(values) >= 3


def test_links_open_the_roster(personas, world, client_for):
    a = personas.areas
    link = indicators.link("workforce.certified_share", a["community_a"], JUNE)
    parts = urlsplit(link)
    assert parts.path == reverse("workforce:roster_list")
    assert parse_qs(parts.query) == {"community": [str(a["community_a"].pk)]}
    page = client_for("street_hub").get(link)
    assert page.status_code == 200 and "王芳" in page.content.decode() and "吴刚" not in page.content.decode()
    vacancy = indicators.link("workforce.secretary_vacancy_days", a["community_a"], JUNE)
    assert parse_qs(urlsplit(vacancy).query) == {"community": [str(a["community_a"].pk)], "post_type": [ZHENG]}
    assert client_for("street_hub").get(vacancy).status_code == 200
    assert indicators.link("workforce.secretary_vacancy_days", a["street_a"], JUNE) is None
