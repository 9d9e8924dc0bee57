"""Secretaries' review (述职评议考核, issue 11 item 2), services: who opens, reports, scores and
finalises at which level; the figures come from the indicator registry with their links, are
refreshed while a draft and frozen when the report is given; the minimum number of reviewers
and the grade lines of the policy, exactly at their boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core import policy as policy_store
from zhouxin.core.choices import Role
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import reviews
from zhouxin.oversight.choices import ReviewGrade, ReviewStatus
from zhouxin.oversight.forms_reviews import ReportForm
from zhouxin.oversight.models import ReviewScore, SecretaryReview
from zhouxin.oversight.policy import REVIEW_KEY

D = Decimal
LAST_YEAR = timezone.localdate().year - 1
REPORT = ("一年来，社区党委认真履行抓基层党建第一责任人职责，围绕接诉即办、老旧小区综合整治和"
          "党群服务中心建设开展工作，组织在职党员回社区报到，解决了一批群众急难愁盼问题。")
FAKE = "test.review_fake_count"


class FakeIndicator:
    """A registered indicator whose values the test sets: {area id: value}."""

    def __init__(self):
        self.values: dict[int, object] = {}
        self.calls = 0

    def compute(self, areas, period):
        self.calls += 1
        return {a.pk: self.values[a.pk] for a in areas if a.pk in self.values}

    @staticmethod
    def link(area, period):
        return f"/fake/records/{area.code}/{period.key}/"


def install_fake() -> FakeIndicator:
    item = FakeIndicator()
    indicators.register(FAKE, title="测试事项办结数", unit=indicators.COUNT, domain="测试领域",
                        compute=item.compute, link=item.link, order=1)
    return item


@pytest.fixture
def fake():
    yield install_fake()
    indicators.unregister(FAKE)


def figure(review, name=FAKE) -> dict:
    return next(f for f in review.figures if f["name"] == name)


def open_review(personas, area_key="community_a", *, actor=None, year=LAST_YEAR, secretary="张丽华"):
    actor = actor or (personas.street_hub if area_key.startswith("community") else personas.district_admin)
    return reviews.review_open(actor=actor, area=personas.areas[area_key], year=year, secretary=secretary)


def submitted(personas, area_key="community_a"):
    review = open_review(personas, area_key)
    reporter = personas.community_staff if area_key == "community_a" else personas.street_hub
    reviews.review_save_report(actor=reporter, review=review, report=REPORT)
    reviews.review_submit(actor=reporter, review=review)
    return review


def reviewer(personas, username="reviewer_extra", role=Role.STREET_HUB, area_key="street_a") -> User:
    user = User.objects.create_user(username=username, password="Zhouxin-Test-2026!", full_name="赵评议")
    Grant.objects.create(user=user, role=role, area=personas.areas[area_key])
    return user


def three_reviewers(personas):
    return [personas.street_hub, personas.district_admin, reviewer(personas)]


def set_rule(personas, **values):
    policy_store.policy_set(actor=personas.district_admin, key=REVIEW_KEY, value=values,
                            effective_from=timezone.localdate(), city=personas.areas["city"])
    policy_store.invalidate()


# --- Opening: levels and the figures ----------------------------------------------------------------

def test_opening_takes_every_indicator_of_the_year_with_its_link(personas, fake):
    fake.values[personas.areas["community_a"].pk] = 42
    review = open_review(personas)
    item = figure(review)
    assert item == {"name": FAKE, "title": "测试事项办结数", "domain": "测试领域", "unit": indicators.COUNT,
                    "value": "42", "shown": "42", "link": f"/fake/records/110101001001/{LAST_YEAR}/"}
    # every registered indicator is in the snapshot, in the registry's order, even without a figure
    assert [f["name"] for f in review.figures] == [i.name for i in indicators.indicators()]
    assert review.figures_at is not None and review.status == ReviewStatus.DRAFT
    entry = AuditEntry.objects.get(action="oversight.review.opened")
    assert entry.after["figures"][FAKE] == "42"


def test_an_indicator_without_a_figure_is_stored_as_none_and_shown_as_a_dash(personas, fake):
    review = open_review(personas)
    assert figure(review)["value"] is None
    assert figure(review)["shown"] == indicators.DASH


def test_the_street_opens_its_communities_and_the_district_its_streets(personas, fake):
    assert open_review(personas, "community_a", actor=personas.street_hub).area == personas.areas["community_a"]
    assert open_review(personas, "community_b", actor=personas.district_admin).created_by == personas.district_admin
    assert open_review(personas, "street_a", actor=personas.district_admin).area.level == "street"


@pytest.mark.parametrize(("actor", "area_key"), [
    ("street_hub", "street_a"),          # its own street: opened by the district
    ("street_hub", "community_b"),       # another street's community
    ("community_staff", "community_a"),  # a community does not open its own review
    ("outsider", "community_a"),
])
def test_nobody_opens_a_review_at_their_own_level_or_outside_their_area(personas, fake, actor, area_key):
    with pytest.raises(PermissionDenied):
        open_review(personas, area_key, actor=personas.users[actor])
    assert not SecretaryReview.objects.unscoped().exists()


def test_one_review_per_area_and_year_and_no_future_year(personas, fake):
    open_review(personas)
    with pytest.raises(ValidationError) as dup:
        open_review(personas)
    assert "已有述职评议" in str(dup.value)
    with pytest.raises(ValidationError) as future:
        open_review(personas, "community_a2", year=timezone.localdate().year + 1)
    assert "年度应在" in str(future.value)
    with pytest.raises(ValidationError):
        open_review(personas, "community_a2", secretary="  ")
    with pytest.raises(ValidationError):
        reviews.review_open(actor=personas.district_admin, area=personas.areas["dongcheng"], year=LAST_YEAR,
                            secretary="王")
    assert SecretaryReview.objects.unscoped().count() == 1


# --- Refresh and freeze ---------------------------------------------------------------------------------

def test_refresh_takes_the_figures_again_while_a_draft(personas, fake):
    area = personas.areas["community_a"]
    fake.values[area.pk] = 10
    review = open_review(personas)
    first_at = review.figures_at
    fake.values[area.pk] = 15
    reviews.review_refresh(actor=personas.community_staff, review=review)
    assert figure(review)["value"] == "15"
    assert review.figures_at >= first_at
    fake.values[area.pk] = 16
    reviews.review_refresh(actor=personas.street_hub, review=review)
    with scopes_disabled():
        assert figure(SecretaryReview.objects.get(pk=review.pk))["value"] == "16"
    entry = AuditEntry.objects.filter(action="oversight.review.figures_refreshed").order_by("-id").first()
    assert entry.before["figures"][FAKE] == "15" and entry.after["changed"] == [FAKE]


def test_figures_are_taken_when_the_report_is_given_and_frozen_afterwards(personas, fake):
    area = personas.areas["community_a"]
    fake.values[area.pk] = 10
    review = open_review(personas)
    reviews.review_save_report(actor=personas.community_staff, review=review, report=REPORT)
    fake.values[area.pk] = 20
    reviews.review_submit(actor=personas.community_staff, review=review)
    assert review.status == ReviewStatus.SUBMITTED and figure(review)["value"] == "20"
    fake.values[area.pk] = 99
    with pytest.raises(ValidationError) as frozen:
        reviews.review_refresh(actor=personas.street_hub, review=review)
    assert "冻结" in str(frozen.value)
    with pytest.raises(ValidationError):
        reviews.review_save_report(actor=personas.community_staff, review=review, report=REPORT + "补充")
    with scopes_disabled():
        stored = SecretaryReview.objects.get(pk=review.pk)
    assert figure(stored)["value"] == "20" and stored.report == REPORT


def test_nobody_else_refreshes(personas, fake):
    review = open_review(personas)
    for name in ("community_staff_b", "outsider"):
        with pytest.raises(PermissionDenied):
            reviews.review_refresh(actor=personas.users[name], review=review)


# --- The report ------------------------------------------------------------------------------------------

def test_the_report_form_has_no_field_for_a_figure():
    assert list(ReportForm().fields) == ["report"]


def test_the_community_secretary_writes_the_community_report(personas, fake):
    review = open_review(personas)
    with pytest.raises(PermissionDenied):
        reviews.review_save_report(actor=personas.street_hub, review=review, report=REPORT)
    with pytest.raises(PermissionDenied):
        reviews.review_save_report(actor=personas.community_staff_b, review=review, report=REPORT)
    reviews.review_save_report(actor=personas.community_staff, review=review, report=f"  {REPORT}\r\n\u200b下一步打算。 ")
    assert review.report == f"{REPORT}\n下一步打算。"


def test_the_street_secretary_writes_the_street_report(personas, fake):
    review = open_review(personas, "street_a")
    with pytest.raises(PermissionDenied):
        reviews.review_save_report(actor=personas.community_staff, review=review, report=REPORT)
    with pytest.raises(PermissionDenied):
        reviews.review_save_report(actor=personas.district_admin, review=review, report=REPORT)
    reviews.review_save_report(actor=personas.street_hub, review=review, report=REPORT)
    reviews.review_submit(actor=personas.street_hub, review=review)
    assert review.status == ReviewStatus.SUBMITTED


def test_report_length_is_checked(personas, fake):
    review = open_review(personas)
    reviews.review_save_report(actor=personas.community_staff, review=review, report="太短")
    with pytest.raises(ValidationError) as short:
        reviews.review_submit(actor=personas.community_staff, review=review)
    assert f"至少 {reviews.REPORT_MIN} 个字" in str(short.value)
    with pytest.raises(ValidationError) as long:
        reviews.review_save_report(actor=personas.community_staff, review=review, report="字" * (reviews.REPORT_MAX + 1))
    assert "不能超过" in str(long.value)
    with scopes_disabled():
        assert SecretaryReview.objects.get(pk=review.pk).status == ReviewStatus.DRAFT


# --- Scores ------------------------------------------------------------------------------------------------

def test_reviewers_are_one_level_up_or_the_district(personas, fake):
    review = submitted(personas)
    reviews.review_score(actor=personas.street_hub, review=review, score="88.5", comment="群众工作扎实")
    reviews.review_score(actor=personas.district_admin, review=review, score=90)
    assert sorted(ReviewScore.objects.unscoped().values_list("score", flat=True)) == [D("88.50"), D("90.00")]
    entry = AuditEntry.objects.filter(action="oversight.review.scored").order_by("id").first()
    assert entry.after["score"] == "88.50"


@pytest.mark.parametrize("name", ["community_staff", "community_staff_b", "outsider", "grid_worker"])
def test_the_areas_own_staff_and_others_cannot_score(personas, fake, name):
    review = submitted(personas)
    with pytest.raises(PermissionDenied):
        reviews.review_score(actor=personas.users[name], review=review, score=95)
    assert not ReviewScore.objects.unscoped().exists()


def test_the_street_hub_does_not_score_its_own_streets_secretary(personas, fake):
    review = submitted(personas, "street_a")
    with pytest.raises(PermissionDenied):
        reviews.review_score(actor=personas.street_hub, review=review, score=95)
    reviews.review_score(actor=personas.district_admin, review=review, score=95)


def test_a_district_reviewer_who_also_works_in_the_community_cannot_score_it(personas, fake):
    review = submitted(personas)
    both = reviewer(personas, "both_levels", Role.DISTRICT_ADMIN, "dongcheng")
    Grant.objects.create(user=both, role=Role.COMMUNITY_STAFF, area=personas.areas["community_a"])
    both = User.objects.get(pk=both.pk)
    with pytest.raises(PermissionDenied):
        reviews.review_score(actor=both, review=review, score=95)


def test_scores_only_while_submitted_once_each_and_within_range(personas, fake):
    review = open_review(personas)
    with pytest.raises(ValidationError) as early:
        reviews.review_score(actor=personas.street_hub, review=review, score=90)
    assert "不在评议中" in str(early.value)
    reviews.review_save_report(actor=personas.community_staff, review=review, report=REPORT)
    reviews.review_submit(actor=personas.community_staff, review=review)
    for bad in ("100.01", "-1", "abc", "88.555", "NaN", ""):
        with pytest.raises(ValidationError):
            reviews.review_score(actor=personas.street_hub, review=review, score=bad)
    reviews.review_score(actor=personas.street_hub, review=review, score="100")
    reviews.review_score(actor=personas.district_admin, review=review, score="0")
    with pytest.raises(ValidationError) as twice:
        reviews.review_score(actor=personas.street_hub, review=review, score=80)
    assert "评过分" in str(twice.value)
    assert ReviewScore.objects.unscoped().count() == 2


# --- Finalise ---------------------------------------------------------------------------------------------

def test_finalise_needs_the_minimum_number_of_reviewers(personas, fake):
    review = submitted(personas)
    first, second, third = three_reviewers(personas)
    reviews.review_score(actor=first, review=review, score=92)
    reviews.review_score(actor=second, review=review, score=88)
    with pytest.raises(ValidationError) as few:
        reviews.review_finalise(actor=personas.street_hub, review=review)
    assert "至少须有 3 位评议人" in str(few.value) and "现有 2 位" in str(few.value)
    reviews.review_score(actor=third, review=review, score=D("89.99"))
    reviews.review_finalise(actor=personas.street_hub, review=review)
    # (92 + 88 + 89.99) / 3 = 89.9966… → 90.00 → 好 (the line is reached at exactly 90)
    assert review.status == ReviewStatus.FINAL and review.score == D("90.00") and review.grade == ReviewGrade.GOOD
    assert review.finalised_by == personas.street_hub
    with pytest.raises(ValidationError):
        reviews.review_score(actor=personas.district_admin, review=review, score=50)


def test_finalise_is_one_level_up(personas, fake):
    review = submitted(personas, "street_a")
    for user in (personas.district_admin, reviewer(personas, "d2", Role.DISTRICT_ADMIN, "dongcheng"),
                 reviewer(personas, "d3", Role.DISTRICT_ADMIN, "dongcheng")):
        reviews.review_score(actor=user, review=review, score=75)
    with pytest.raises(PermissionDenied):
        reviews.review_finalise(actor=personas.street_hub, review=review)
    reviews.review_finalise(actor=personas.district_admin, review=review)
    assert review.grade == ReviewGrade.AVERAGE


def test_the_city_rule_sets_minimum_and_lines_and_the_mean_rounds_half_up(personas, fake):
    set_rule(personas, minimum_reviewers=2, good=D("95"), fairly_good=D("85"), average=D("70"))
    review = submitted(personas)
    reviews.review_score(actor=personas.street_hub, review=review, score="70.01")
    reviews.review_score(actor=personas.district_admin, review=review, score="70.00")
    reviews.review_finalise(actor=personas.district_admin, review=review)
    # 70.005 → 70.01 (half up; banker's rounding would give 70.00); 70.01 ≥ 70 → 一般
    assert review.score == D("70.01") and review.grade == ReviewGrade.AVERAGE


@pytest.mark.parametrize(("score", "grade"), [
    ("100", ReviewGrade.GOOD), ("90", ReviewGrade.GOOD), ("89.99", ReviewGrade.FAIRLY_GOOD),
    ("80", ReviewGrade.FAIRLY_GOOD), ("79.99", ReviewGrade.AVERAGE), ("60", ReviewGrade.AVERAGE),
    ("59.99", ReviewGrade.POOR), ("0", ReviewGrade.POOR),
])
def test_grade_lines_are_reached_at_exactly_their_value(personas, score, grade):
    rule = reviews.review_rule(personas.areas["community_a"])
    assert (rule["good"], rule["fairly_good"], rule["average"]) == (D("90"), D("80"), D("60"))
    assert reviews.grade_for(D(score), rule) == grade


@pytest.mark.parametrize(("score", "grade"), [("85.00", ReviewGrade.FAIRLY_GOOD), ("84.99", ReviewGrade.AVERAGE)])
def test_finalised_grade_at_a_changed_line(personas, fake, score, grade):
    set_rule(personas, minimum_reviewers=1, fairly_good=D("85"))
    review = submitted(personas)
    reviews.review_score(actor=personas.street_hub, review=review, score=score)
    reviews.review_finalise(actor=personas.street_hub, review=review)
    assert review.score == D(score) and review.grade == grade


def test_a_failing_indicator_does_not_stop_a_review(personas, fake):
    def broken(areas, period):
        raise RuntimeError("domain bug")

    indicators.register("test.review_broken", title="坏指标", unit=indicators.PERCENT, domain="测试",
                        compute=broken, order=2)
    try:
        review = open_review(personas)
    finally:
        indicators.unregister("test.review_broken")
    assert figure(review, "test.review_broken")["shown"] == indicators.DASH


def test_year_of_the_figures_is_the_reviews_year(personas, fake):
    seen = []
    original = fake.compute

    def spy(areas, period):
        seen.append(period)
        return original(areas, period)

    fake.compute = spy
    indicators.register(FAKE, title="测试事项办结数", unit=indicators.COUNT, domain="测试领域", compute=spy,
                        link=fake.link, order=1)
    open_review(personas, year=LAST_YEAR - 1)
    assert seen == [indicators.Period(dt.date(LAST_YEAR - 1, 1, 1), dt.date(LAST_YEAR - 1, 12, 31), "year")]
