"""Properties of the pay engine that must hold for any worker and any of the shipped rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zhouxin.workforce.payrules import (
    POST_ORDER,
    PostHolding,
    Rules,
    WorkerFacts,
    grade_on,
    monthly_pay,
    paid_post,
    payroll,
)
from zhouxin.workforce.policy import DEFAULT, preset_value

RULES = [
    DEFAULT,
    preset_value("jinan"),
    preset_value("benxi"),
    {**DEFAULT, "education_mode": "years", "certificate_mode": "grades", "promotion_interval_years": 2,
     "dual_top_allowance": Decimal("300"), "forfeit_year": "same"},
    {**DEFAULT, "base_mode": "benchmark", "benchmark_amount": Decimal("7345.67"), "benchmark_percent": Decimal("55"),
     "certificate_mode": "grades", "certificate_stacks_education": True, "early_after_excellent": 1,
     "early_max": 5, "passing_grades": ["优秀", "合格", "基本合格"], "zhuanzhi_min": 5, "zhuanzhi_max": 16},
]
ASSESSMENTS = ["优秀", "合格", "基本合格", "不合格", None]
TITLES = ["书记", "主任", "书记、主任", "副主任", "副书记", "委员", "网格员"]
LAST = dt.date(2027, 12, 1)

rules = st.sampled_from(RULES)
days = st.dates(min_value=dt.date(2005, 1, 1), max_value=LAST)


@st.composite
def workers(draw):
    hire = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2027, 6, 1)))
    posts = []
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.dates(min_value=hire, max_value=LAST))
        end = draw(st.none() | st.dates(min_value=start, max_value=dt.date(2030, 1, 1)))
        posts.append(PostHolding(draw(st.sampled_from(POST_ORDER)), draw(st.sampled_from(TITLES)), start, end))
    assessments = {}
    for year in range(hire.year, 2028):
        grade = draw(st.sampled_from(ASSESSMENTS))
        if grade:
            assessments[year] = grade
    return WorkerFacts(
        hire_date=hire, posts=posts, assessments=assessments,
        education=draw(st.sampled_from(["", "大专", "本科", "硕士", "博士"])),
        has_diploma=draw(st.booleans()), has_degree=draw(st.booleans()),
        certificates=tuple(draw(st.lists(st.sampled_from(["助理社会工作师", "社会工作师", "高级社会工作师"]),
                                         max_size=3))),
        entry_grade=draw(st.none() | st.integers(1, 18)), early_promotions_used=draw(st.integers(0, 2)))


def fixed(value):
    return lambda day: value


@settings(deadline=None)
@given(workers(), rules, days)
def test_a_grade_never_leaves_its_posts_range(facts, rule, day):
    result = grade_on(facts, fixed(rule), day)
    compiled = Rules.from_policy(rule)
    post = paid_post(facts.posts, day, compiled)
    if result.grade is None:
        assert post is None or day < facts.hire_date
        return
    assert result.post_type == post.post_type
    low, high = compiled.ranges[post.post_type]
    assert low <= result.grade <= high
    held = {p.post_type for p in facts.posts if p.held_on(day)}
    assert all(compiled.ranges[t][1] <= high for t in held)  # paid at the highest post


@settings(deadline=None)
@given(workers(), rules, days, st.data())
def test_a_failed_year_never_counts_as_service(facts, rule, day, data):
    assume(facts.hire_date.year < day.year)
    year = data.draw(st.integers(facts.hire_date.year, day.year - 1))
    passed = dataclasses.replace(facts, assessments={**facts.assessments, year: "合格"})
    failed = dataclasses.replace(facts, assessments={**facts.assessments, year: "不合格"})
    with_pass = grade_on(passed, fixed(rule), day).grade
    with_fail = grade_on(failed, fixed(rule), day).grade
    assert (with_pass is None) == (with_fail is None)
    if with_pass is not None:
        assert with_fail <= with_pass


@settings(deadline=None)
@given(workers(), rules, st.integers(2005, 2027), st.integers(1, 12), st.data())
def test_a_lower_concurrent_post_never_pays_twice(facts, rule, year, month, data):
    day = dt.date(year, month, 1)
    compiled = Rules.from_policy(rule)
    post = paid_post(facts.posts, day, compiled)
    assume(post is not None)
    lower = [t for t in POST_ORDER if compiled.rank(t) < compiled.rank(post.post_type)]
    assume(lower)
    extra = PostHolding(data.draw(st.sampled_from(lower)), data.draw(st.sampled_from(TITLES)), facts.hire_date)
    alone = monthly_pay(facts, fixed(rule), year, month)
    both = monthly_pay(dataclasses.replace(facts, posts=[*facts.posts, extra]), fixed(rule), year, month)
    assert both.total <= alone.total
    assert [(line.label, line.amount) for line in both.lines] == [(line.label, line.amount) for line in alone.lines]


@settings(deadline=None, max_examples=50)
@given(st.lists(workers(), max_size=20), rules, st.integers(2005, 2027), st.integers(1, 12))
def test_the_payroll_total_is_the_sum_of_its_explained_lines(staff, rule, year, month):
    slips = payroll(staff, fixed(rule), year, month)
    assert len(slips) == len(staff)
    for slip in slips:
        assert slip.total == sum((line.amount for line in slip.lines), Decimal("0.00"))
        for line in slip.lines:
            assert line.amount == line.amount.quantize(Decimal("0.01")) and line.amount >= 0
            assert line.label and line.explanation
        assert slip.grade.explanation
    assert sum(s.total for s in slips) == sum(line.amount for s in slips for line in s.lines)


@settings(deadline=None)
@given(workers(), rules, rules, days, st.integers(2005, 2027), st.integers(1, 12))
def test_a_new_policy_version_changes_pay_only_from_its_effective_date(facts, old, new, effective, year, month):
    def switching(day):
        return new if day >= effective else old

    slip = monthly_pay(facts, switching, year, month)
    if dt.date(year, month, 1) < effective:
        before = monthly_pay(facts, fixed(old), year, month)
        assert slip.lines == before.lines and slip.total == before.total
        assert slip.grade == before.grade
