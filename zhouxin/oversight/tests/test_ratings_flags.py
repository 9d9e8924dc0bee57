"""Rectification flags: the bottom share, the secretary vacancy and satisfaction triggers at their
boundaries, reasons recomputed on re-rating, and the plan and result recorded one level up."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.oversight import ratings
from zhouxin.oversight.choices import FlagStatus
from zhouxin.oversight.models import Rectification
from zhouxin.oversight.policy import RATING_KEY

from .helpers_ratings import (
    DUOFU,
    JIXIANG,
    STREET_A,
    STREET_B,
    YINZHA,
    D,
    fake_board,
    last_month,
    this_month,
    today,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board():
    yield from fake_board()


def flags(period) -> dict[str, Rectification]:
    return {f.area.code: f for f in Rectification.objects.unscoped().filter(period=period.key).select_related("area")}


def reasons(flag: Rectification) -> list[str]:
    return [r["reason"] for r in flag.reasons]


def eleven_communities(personas) -> list[str]:
    """The 3 persona communities and 8 more in 景山街道: 11 communities, so 10 % flags ceil(1.1) = 2."""
    codes = [DUOFU, YINZHA, JIXIANG]
    for n in range(2, 10):
        code = f"11010100200{n}"
        Area.objects.unscoped().create(code=code, name=f"测试{n}社区", level=AreaLevel.COMMUNITY,
                                       parent=personas.areas["street_b"])
        codes.append(code)
    return codes


def test_bottom_share_flags_the_lowest_ceil_share_of_the_scored_communities(personas, board):
    codes = eleven_communities(personas)
    board.set("dispatch.composite", {code: D(50 + 4 * i) / 100 for i, code in enumerate(codes)})
    period = last_month()
    result = ratings.rate(personas.areas["dongcheng"], period)
    flagged = flags(period)
    assert sorted(flagged) == sorted([DUOFU, YINZHA])   # 50 and 54 points: the lowest 2 of 11
    assert result.flagged == 2
    text = flagged[DUOFU].reasons[0]
    assert text["reason"] == "bottom" and text["figure"] == "50.00"
    assert "50.00 分" in text["text"] and "11 个参评社区中排第 11 名" in text["text"] and "10%" in text["text"]
    assert text["link"] == f"/oversight/ratings/{DUOFU}/{period.key}/"
    assert "排第 10 名" in flagged[YINZHA].reasons[0]["text"]
    assert all(f.status == FlagStatus.OPEN and f.district == personas.areas["dongcheng"] for f in flagged.values())


def test_bottom_share_of_three_is_one_and_unscored_communities_do_not_count(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.8")})   # 吉祥 has no score
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    assert list(flags(period)) == [YINZHA]   # ceil(0.1 × 2) = 1


def test_a_community_tied_with_the_last_one_flagged_is_flagged_too(personas, board):
    codes = eleven_communities(personas)
    values = {code: D("0.9") for code in codes}
    values.update({DUOFU: D("0.5"), YINZHA: D("0.6"), JIXIANG: D("0.6")})
    board.set("dispatch.composite", values)
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    assert sorted(flags(period)) == sorted([DUOFU, YINZHA, JIXIANG])


def test_a_bottom_share_of_zero_flags_nobody(personas, board):
    policy.policy_set(actor=personas.district_admin, key=RATING_KEY, value={"bottom_share": "0"},
                      effective_from=today(), city=personas.areas["city"])
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.1"), JIXIANG: D("0.2")})
    ratings.rate(personas.areas["dongcheng"], this_month())
    assert flags(this_month()) == {}


def test_secretary_vacancy_over_three_months_is_91_days_not_90(personas, board):
    board.set("workforce.secretary_vacancy_days", {DUOFU: 90, YINZHA: 91, JIXIANG: 0, STREET_A: 120, STREET_B: 30})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    flagged = flags(period)
    assert sorted(flagged) == sorted([YINZHA, STREET_A])
    vacancy = flagged[YINZHA].reasons[0]
    assert vacancy["reason"] == "vacancy" and vacancy["figure"] == 91
    assert vacancy["text"] == "书记岗位已空缺 91 天，超过 3 个月（90 天）。"
    assert vacancy["link"] == f"/records/workforce.secretary_vacancy_days/{YINZHA}/{period.key}/"
    assert "120 天" in flagged[STREET_A].reasons[0]["text"]


def test_satisfaction_below_60_percent_is_599_not_60(personas, board):
    board.set("dispatch.satisfaction_rate", {DUOFU: D("0.6"), YINZHA: D("0.599"), STREET_B: D("0.3")})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    flagged = flags(period)
    assert sorted(flagged) == sorted([YINZHA, STREET_B])
    reason = flagged[YINZHA].reasons[0]
    assert reason["reason"] == "satisfaction" and reason["figure"] == "59.9%"
    assert reason["text"] == "群众满意率 59.9%，低于 60% 的底线。"


def test_one_flag_carries_every_reason(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.3"), YINZHA: D("0.9"), JIXIANG: D("0.8")})
    board.set("dispatch.satisfaction_rate", {DUOFU: D("0.5")})
    board.set("workforce.secretary_vacancy_days", {DUOFU: 200})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    assert reasons(flags(period)[DUOFU]) == ["bottom", "vacancy", "satisfaction"]
    assert Rectification.objects.unscoped().filter(period=period.key).count() == 1


def test_reasons_are_recomputed_when_the_period_is_rerated(personas, board):
    district, period = personas.areas["dongcheng"], last_month()
    board.set("workforce.secretary_vacancy_days", {DUOFU: 100, YINZHA: 100, JIXIANG: 100})
    ratings.rate(district, period)
    before = flags(period)
    ratings.rectification_plan(actor=personas.street_hub, flag=before[YINZHA], plan="尽快选配书记。")
    ratings.rectification_plan(actor=personas.district_admin, flag=before[JIXIANG], plan="街道党工委选派。")
    ratings.rectification_close(actor=personas.district_admin, flag=flags(period)[JIXIANG], result="已到岗。")

    board.set("workforce.secretary_vacancy_days", {DUOFU: 0, YINZHA: 0, JIXIANG: 0})
    board.set("dispatch.satisfaction_rate", {JIXIANG: D("0.4")})
    result = ratings.rate(district, period)
    after = flags(period)
    assert DUOFU not in after                       # OPEN, no reason left: removed
    assert result.unflagged == 1
    assert after[YINZHA].status == FlagStatus.RECTIFYING and after[YINZHA].reasons == []
    assert after[YINZHA].plan == "尽快选配书记。"
    assert after[JIXIANG].status == FlagStatus.CLOSED and reasons(after[JIXIANG]) == ["satisfaction"]
    assert after[JIXIANG].pk == before[JIXIANG].pk and after[JIXIANG].result == "已到岗。"


def test_other_periods_flags_are_left_alone(personas, board):
    board.set("workforce.secretary_vacancy_days", {DUOFU: 100})
    ratings.rate(personas.areas["dongcheng"], last_month())
    board.set("workforce.secretary_vacancy_days", {DUOFU: 0})
    ratings.rate(personas.areas["dongcheng"], this_month())
    assert list(flags(last_month())) == [DUOFU] and flags(this_month()) == {}


def test_plan_and_result_are_recorded_one_level_up(personas, board):
    board.set("workforce.secretary_vacancy_days", {DUOFU: 100, JIXIANG: 100, STREET_A: 100})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    flagged = flags(period)
    community, other_street, street = flagged[DUOFU], flagged[JIXIANG], flagged[STREET_A]

    for persona, flag in [("community_staff", community), ("street_hub", other_street), ("street_hub", street),
                          ("outsider", community), ("community_staff_b", other_street)]:
        with pytest.raises(PermissionDenied):
            ratings.rectification_plan(actor=personas.users[persona], flag=flag, plan="整改")
    with pytest.raises(ValidationError, match="请先记录整改措施"):
        ratings.rectification_close(actor=personas.street_hub, flag=community, result="完成")
    with pytest.raises(ValidationError, match="请填写整改措施"):
        ratings.rectification_plan(actor=personas.street_hub, flag=community, plan="   ")

    ratings.rectification_plan(actor=personas.street_hub, flag=community, plan="街道选派第一书记。")
    assert community.status == FlagStatus.RECTIFYING and community.plan == "街道选派第一书记。"
    ratings.rectification_close(actor=personas.street_hub, flag=community, result="新书记已到岗。")
    community.refresh_from_db()
    assert community.status == FlagStatus.CLOSED and community.closed_by == personas.street_hub
    assert community.closed_at is not None
    with pytest.raises(ValidationError, match="已完成验收"):
        ratings.rectification_plan(actor=personas.street_hub, flag=community, plan="再改")
    with pytest.raises(ValidationError, match="已经验收完成"):
        ratings.rectification_close(actor=personas.street_hub, flag=community, result="再验")

    ratings.rectification_plan(actor=personas.district_admin, flag=street, plan="区委组织部督导。")
    assert street.status == FlagStatus.RECTIFYING
    actions = list(AuditEntry.objects.filter(action__startswith="oversight.rectification").order_by("id").values_list(
        "action", "actor_id"))
    assert actions == [("oversight.rectification.plan", personas.street_hub.pk),
                       ("oversight.rectification.close", personas.street_hub.pk),
                       ("oversight.rectification.plan", personas.district_admin.pk)]
