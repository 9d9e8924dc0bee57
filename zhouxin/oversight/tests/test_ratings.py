"""Star ratings: scoring arithmetic (percent and relative points, re-normalised weights), stars at
the exact lines, ranks with ties, peers of the same community type, the rule version in force on
the period's last day, re-runs and the audit trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from zhouxin.core import policy
from zhouxin.core.indicators import Period
from zhouxin.core.models import AuditEntry, PolicyVersion
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel, CommunityType
from zhouxin.orgs.models import Area
from zhouxin.oversight import ratings
from zhouxin.oversight.models import Rating
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
    period_ago,
    this_month,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board():
    yield from fake_board()


def rating(code: str, period: Period) -> Rating:
    return Rating.objects.unscoped().select_related("area").get(area__code=code, period=period.key)


def component(r: Rating, name: str) -> dict:
    return next(c for c in r.components if c["name"] == name)


def add_community(personas, code: str, name: str, street="street_a", community_type="") -> Area:
    return Area.objects.unscoped().create(code=code, name=name, level=AreaLevel.COMMUNITY,
                                          parent=personas.areas[street], community_type=community_type)


def test_percent_and_relative_points_with_missing_indicators_renormalised(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.75")})      # weight 0.40, 吉祥 has none
    board.set("volunteers.hours", {DUOFU: D("50"), YINZHA: D("200"), JIXIANG: D("100")})  # weight 0.15
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period, actor=personas.district_admin)

    duofu = rating(DUOFU, period)
    # 90 points × 0.40 + (50 ÷ 200 × 100 = 25 points) × 0.15, over the 0.55 of weight present.
    assert duofu.score == D("72.27") and duofu.stars == 3
    composite, hours = component(duofu, "dispatch.composite"), component(duofu, "volunteers.hours")
    assert composite["value"] == "0.9" and composite["shown"] == "90.0%"
    assert (composite["points"], composite["weight"], composite["share"], composite["weighted"]) == \
        ("90.00", "0.40", "72.73", "65.45")
    assert (hours["points"], hours["weight"], hours["weighted"]) == ("25.00", "0.15", "6.82")
    assert composite["link"] == f"/records/dispatch.composite/{DUOFU}/{period.key}/"
    missing = {c["name"] for c in duofu.components if c["missing"]}
    assert missing == {"cobuild.needs_matched_rate", "volunteers.wishes_rate", "funds.execution_rate",
                       "centers.utilisation", "workforce.certified_share"}
    assert all(c["points"] is None and c["weighted"] is None for c in duofu.components if c["missing"])

    yinzha = rating(YINZHA, period)
    assert yinzha.score == D("81.82") and yinzha.stars == 4   # (75 × 0.40 + 100 × 0.15) ÷ 0.55

    jixiang = rating(JIXIANG, period)   # only the hours: 100 ÷ 200 → 50 points, alone carrying the weight
    assert jixiang.score == D("50.00") and jixiang.stars == 1
    assert component(jixiang, "dispatch.composite")["missing"] is True
    assert component(jixiang, "volunteers.hours")["share"] == "100.00"

    assert [(r.area.code, r.rank, r.rank_of) for r in
            Rating.objects.unscoped().filter(period=period.key, area__level=AreaLevel.COMMUNITY)
            .select_related("area").order_by("rank")] == [(YINZHA, 1, 3), (DUOFU, 2, 3), (JIXIANG, 3, 3)]
    assert duofu.weights["dispatch.composite"] == "0.40" and duofu.weights["workforce.certified_share"] == "0.05"
    assert duofu.period_kind == "month" and duofu.period_start == period.start and duofu.period_end == period.end


def test_relative_points_are_zero_when_the_best_value_is_zero(personas, board):
    board.set("volunteers.hours", {DUOFU: 0, YINZHA: 0})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    duofu = rating(DUOFU, period)
    assert component(duofu, "volunteers.hours")["points"] == "0.00"
    assert duofu.score == D("0.00") and duofu.stars == 1
    assert rating(JIXIANG, period).score is None


def test_streets_are_scored_against_streets_only(personas, board):
    board.set("volunteers.hours", {DUOFU: 1000, STREET_A: 40, STREET_B: 80})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    assert rating(STREET_B, period).score == D("100.00")
    assert rating(STREET_A, period).score == D("50.00")       # 40 ÷ 80, not ÷ a community's 1000
    assert (rating(STREET_A, period).rank, rating(STREET_A, period).rank_of) == (2, 2)
    assert rating(DUOFU, period).score == D("100.00")


@pytest.mark.parametrize(("score", "stars"), [
    ("90.00", 5), ("89.99", 4), ("80.00", 4), ("79.99", 3), ("70.00", 3), ("69.99", 2), ("60.00", 2), ("59.99", 1),
    ("0.00", 1),
])
def test_stars_at_the_exact_lines(score, stars):
    rule = policy.definition(RATING_KEY).default
    assert ratings.stars_for(D(score), rule) == stars


def test_stars_from_rated_values_at_the_lines(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.8999"), JIXIANG: D("0.6")})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    assert (rating(DUOFU, period).score, rating(DUOFU, period).stars) == (D("90.00"), 5)
    assert (rating(YINZHA, period).score, rating(YINZHA, period).stars) == (D("89.99"), 4)
    assert (rating(JIXIANG, period).score, rating(JIXIANG, period).stars) == (D("60.00"), 2)


def test_no_indicator_with_a_value_gives_no_score_and_no_stars(personas, board):
    period = last_month()
    result = ratings.rate(personas.areas["dongcheng"], period)
    duofu = rating(DUOFU, period)
    assert (duofu.score, duofu.stars, duofu.rank, duofu.rank_of, duofu.peer_rank) == (None, 0, None, 0, None)
    assert all(c["missing"] for c in duofu.components)
    assert (result.communities, result.streets, result.scored) == (3, 2, 0)


def test_equal_scores_share_a_rank_and_the_next_rank_skips(personas, board):
    add_community(personas, "110101001003", "台基厂社区", community_type=CommunityType.OLD_PUBLIC)
    board.set("dispatch.composite", {DUOFU: D("0.8"), YINZHA: D("0.8"), JIXIANG: D("0.7"), "110101001003": D("0.9")})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    ranks = {code: rating(code, period).rank for code in (DUOFU, YINZHA, JIXIANG, "110101001003")}
    assert ranks == {"110101001003": 1, DUOFU: 2, YINZHA: 2, JIXIANG: 4}
    assert ratings.competition_ranks({1: D("5"), 2: None, 3: D("5"), 4: D("1")}) == {1: 1, 2: None, 3: 1, 4: 3}


def test_peer_ranks_are_within_the_community_type_and_untyped_is_its_own_group(personas, board):
    add_community(personas, "110101001003", "台基厂社区", community_type=CommunityType.OLD_PUBLIC)
    add_community(personas, "110101002002", "黄化门社区", street="street_b", community_type=CommunityType.OLD_PUBLIC)
    add_community(personas, "110101002003", "钟鼓社区", street="street_b")                 # no type
    add_community(personas, "110101002004", "鼓楼苑社区", street="street_b")               # no type
    board.set("dispatch.composite", {DUOFU: D("0.7"), "110101001003": D("0.9"), "110101002002": D("0.8"),
                                     YINZHA: D("0.95"), JIXIANG: D("0.5"), "110101002003": D("0.6"),
                                     "110101002004": D("0.65")})
    period = last_month()
    ratings.rate(personas.areas["dongcheng"], period)
    old_public = {code: (rating(code, period).peer_rank, rating(code, period).peer_count)
                  for code in (DUOFU, "110101001003", "110101002002")}
    assert old_public == {"110101001003": (1, 3), "110101002002": (2, 3), DUOFU: (3, 3)}
    assert rating(DUOFU, period).rank == 4   # 95, 90, 80, 70 in the district
    assert (rating(YINZHA, period).peer_rank, rating(YINZHA, period).peer_count) == (1, 1)
    untyped = {code: (rating(code, period).peer_rank, rating(code, period).peer_count, rating(code, period).community_type)
               for code in ("110101002003", "110101002004")}
    assert untyped == {"110101002004": (1, 2, ""), "110101002003": (2, 2, "")}
    assert ratings.type_label("") == "未分类" and ratings.type_label(CommunityType.MIXED) == "混合"


def test_the_rule_in_force_on_the_periods_last_day_is_used_and_recorded(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9")})
    board.set("volunteers.hours", {DUOFU: 10, YINZHA: 20})
    old, recent = period_ago(3), last_month()
    with scopes_disabled():
        national = PolicyVersion.objects.create(key=RATING_KEY, effective_from=period_ago(2).start,
                                                value={"w_volunteers_hours": "0.40"})
        city = PolicyVersion.objects.create(key=RATING_KEY, city=personas.areas["city"],
                                            effective_from=recent.start, value={"w_dispatch_composite": "0.10"})
        other_city = Area.objects.unscoped().create(code="1201", name="天津市", level=AreaLevel.CITY)
        PolicyVersion.objects.create(key=RATING_KEY, city=other_city, effective_from=old.start,
                                     value={"w_dispatch_composite": "0.90"})
    policy.invalidate()
    district = personas.areas["dongcheng"]
    ratings.rate(district, old)
    ratings.rate(district, period_ago(2))
    ratings.rate(district, recent)

    first = rating(DUOFU, old)       # the defaults: no version yet
    assert first.policy_version is None and first.weights["dispatch.composite"] == "0.40"
    assert first.score == D("79.09")    # (90 × 0.40 + 50 × 0.15) ÷ 0.55
    middle = rating(DUOFU, period_ago(2))
    assert middle.policy_version == national and middle.weights["volunteers.hours"] == "0.40"
    assert middle.score == D("70.00")   # (90 × 0.40 + 50 × 0.40) ÷ 0.80
    last = rating(DUOFU, recent)      # the city's version (national items it does not set still apply)
    assert last.policy_version == city
    assert (last.weights["dispatch.composite"], last.weights["volunteers.hours"]) == ("0.10", "0.40")
    assert last.score == D("58.00")     # (90 × 0.10 + 50 × 0.40) ÷ 0.50


def test_version_in_force_prefers_the_city_then_national_then_none(personas):
    city, day = personas.areas["city"], dt.date(2026, 5, 31)
    assert policy.version_in_force(RATING_KEY, city, day) is None
    national = PolicyVersion.objects.create(key=RATING_KEY, effective_from=dt.date(2026, 1, 1), value={})
    PolicyVersion.objects.create(key=RATING_KEY, effective_from=dt.date(2026, 6, 1), value={})   # not yet in force
    assert policy.version_in_force(RATING_KEY, city, day) == national
    assert policy.version_in_force(RATING_KEY, None, day) == national
    local = PolicyVersion.objects.create(key=RATING_KEY, city=city, effective_from=dt.date(2026, 5, 31), value={})
    assert policy.version_in_force(RATING_KEY, city, day) == local
    assert policy.version_in_force(RATING_KEY, city.pk, day - dt.timedelta(days=1)) == national
    assert policy.version_in_force(RATING_KEY, None, day) == national
    with pytest.raises(KeyError):
        policy.version_in_force("no.such.rule", city, day)


def test_rerating_updates_the_rows_in_place_with_one_audit_entry_per_run(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.8")})
    period, district = last_month(), personas.areas["dongcheng"]
    ratings.rate(district, period, actor=personas.district_admin)
    first = rating(DUOFU, period)
    board.set("dispatch.composite", {DUOFU: D("0.5"), YINZHA: D("0.8")})
    result = ratings.rate(district, period, actor=personas.district_admin)
    assert Rating.objects.unscoped().filter(period=period.key).count() == 5   # 3 communities + 2 streets
    again = rating(DUOFU, period)
    assert again.pk == first.pk and again.score == D("50.00") and again.rank == 2
    entries = AuditEntry.objects.filter(action="oversight.rating.run").order_by("id")
    assert entries.count() == 2
    assert entries.last().actor_id == personas.district_admin.pk
    assert entries.last().after["communities"] == 3 and entries.last().after["scored"] == 2
    assert result.period == period.key and result.scored == 2


def test_indicators_are_computed_once_per_run_for_all_areas(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9")})
    board.set("volunteers.hours", {DUOFU: 3})
    board.set("dispatch.satisfaction_rate", {DUOFU: D("0.9")})
    ratings.rate(personas.areas["dongcheng"], last_month())
    assert sorted(board.calls) == sorted([("dispatch.composite", last_month().key),
                                          ("volunteers.hours", last_month().key),
                                          ("dispatch.satisfaction_rate", last_month().key)])


def test_an_inactive_community_is_not_rated_and_its_old_rating_goes(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.8"), JIXIANG: D("0.7")})
    period, district = last_month(), personas.areas["dongcheng"]
    ratings.rate(district, period)
    Area.objects.unscoped().filter(code=YINZHA).update(is_active=False)
    ratings.rate(district, period)
    assert not Rating.objects.unscoped().filter(area__code=YINZHA, period=period.key).exists()
    assert (rating(JIXIANG, period).rank, rating(JIXIANG, period).rank_of) == (2, 2)


def test_quarters_and_years_are_rated_too(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9")})
    quarter = Period.of("quarter", last_month().start)
    year = Period.of("year", last_month().start)
    ratings.rate(personas.areas["dongcheng"], quarter.key)
    ratings.rate(personas.areas["dongcheng"], year)
    assert rating(DUOFU, quarter).period_kind == "quarter" and rating(DUOFU, quarter).period_end == quarter.end
    assert rating(DUOFU, year).period == str(year.start.year)


def test_the_current_period_is_rated_to_date_but_not_one_that_has_not_started(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9")})
    district = personas.areas["dongcheng"]
    ratings.rate(district, this_month())
    assert rating(DUOFU, this_month()).score == D("90.00")
    upcoming = Period.of("month", this_month().end + dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="尚未开始"):
        ratings.rate(district, upcoming)
    assert not Rating.objects.unscoped().filter(period=upcoming.key).exists()


def test_only_the_district_rates_and_only_a_district_is_rated(personas, board):
    district = personas.areas["dongcheng"]
    for persona in ("street_hub", "community_staff", "outsider", "department_handler"):
        with pytest.raises(PermissionDenied):
            ratings.rate(district, last_month(), actor=personas.users[persona])
    with pytest.raises(ValidationError, match="按区进行"):
        ratings.rate(personas.areas["street_a"], last_month(), actor=personas.district_admin)
    with pytest.raises(ValidationError, match="统计期格式"):
        ratings.rate(district, "2026-13", actor=personas.district_admin)
    assert not Rating.objects.unscoped().exists()
    assert not AuditEntry.objects.filter(action="oversight.rating.run").exists()
