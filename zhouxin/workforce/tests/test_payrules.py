"""The pay engine (三岗十八级) worked by hand: grades, pay lines, presets and the policy rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.workforce.payrules import PostHolding, WorkerFacts, _is_dual_top, grade_on, monthly_pay, payroll
from zhouxin.workforce.policy import DEFAULT, PAY_KEY, PRESETS, apply_preset, preset_value

JINAN = preset_value("jinan")
BENXI = preset_value("benxi")


def fixed(value):
    return lambda day: value


def all_passed(first, last):
    return dict.fromkeys(range(first, last + 1), "合格")


# --- Worked examples ------------------------------------------------------------------

def test_jinan_deputy_with_bachelor_hired_2017():
    facts = WorkerFacts(hire_date=dt.date(2017, 3, 1), posts=[PostHolding("副职", "副主任", dt.date(2017, 3, 1))],
                        education="本科", assessments=all_passed(2017, 2025))
    # Start: 副职 minimum 4 + 本科 (学历学位齐全) 1 grade = 5.
    # Counted service (days): 2017: 306; 2018: 671; 2019: 1036; 2020: 1402 ≥ 3 × 365 = 1095 and 2020 合格
    # → +1 from 2021-01-01 (307 carried); 2021: 672; 2022: 1037; 2023: 1402 → +1 from 2024-01-01 (307);
    # 2024: 673; 2025: 1038 < 1095 (the third step comes on 2027-01-01).  Grade 5 + 2 = 7.
    grade = grade_on(facts, fixed(JINAN), dt.date(2026, 11, 1))
    assert (grade.grade, grade.post_type) == (7, "副职")
    assert any("2024-01-01 起晋升 1 级" in line for line in grade.explanation)
    # Jinan: 3000 × coefficient of grade 7 (1.32) = 3960.00; base 70 % = 2772.00; performance 1188.00.
    slip = monthly_pay(facts, fixed(JINAN), 2026, 11)
    assert [(line.label, line.amount) for line in slip.lines] == [
        ("基本工资", Decimal("2772.00")), ("绩效工资", Decimal("1188.00"))]
    assert slip.total == Decimal("3960.00")
    assert "第 7 级系数 1.32" in slip.lines[0].explanation


def test_benxi_secretary_and_chair_in_one_person_with_certificate():
    benxi = {**BENXI, "dual_top_allowance": Decimal("500")}
    facts = WorkerFacts(
        hire_date=dt.date(2015, 1, 1),
        posts=[PostHolding("正职", "书记", dt.date(2015, 1, 1)), PostHolding("正职", "主任", dt.date(2018, 1, 1))],
        education="本科", has_diploma=False, has_degree=True, certificates=("助理社会工作师", "社会工作师"),
        assessments={**all_passed(2015, 2025), 2020: "优秀", 2021: "优秀"})
    # Start: 正职 minimum 7.  本科 degree only → +1 year of service (365 days head start).
    # 2015: 365 + 365 = 730; 2016: 1096 ≥ 1095 → +1 (2017-01-01), 1 carried; 2017: 366; 2018: 731;
    # 2019: 1096 → +1 (2020-01-01), 1 carried; 2020 优秀: 367; 2021 优秀: 732 — two 优秀 in a row and no
    # regular step → early +1 (2022-01-01), clock restarts at 0; 2022: 365; 2023: 730;
    # 2024: 1096 → +1 (2025-01-01); 2025: 366.  Grade 7 + 4 = 11.
    grade = grade_on(facts, fixed(benxi), dt.date(2026, 11, 1))
    assert grade.grade == 11
    assert any("提前晋升 1 级（第 1 次" in line for line in grade.explanation)
    # Benxi: 3400 × (1.00 + 0.04 × 10 = 1.40) = 4760.00; base 80 % = 3808.00; performance 952.00;
    # 社会工作师 (highest of the two) 200.00; 一肩挑 500.00.  Total 5460.00.
    slip = monthly_pay(facts, fixed(benxi), 2026, 11)
    assert [(line.label, line.amount) for line in slip.lines] == [
        ("基本工资", Decimal("3808.00")), ("绩效工资", Decimal("952.00")),
        ("社工证津贴", Decimal("200.00")), ("一肩挑津贴", Decimal("500.00"))]
    assert slip.total == Decimal("5460.00")


def test_a_failed_year_forfeits_performance_and_does_not_count_as_service():
    facts = WorkerFacts(hire_date=dt.date(2018, 1, 1), posts=[PostHolding("其他", "网格员", dt.date(2018, 1, 1))],
                        education="大专", assessments={**all_passed(2018, 2025), 2021: "不合格"})
    # 2018: 365; 2019: 730; 2020: 1096 → +1 (2021-01-01), 1 carried; 2021 不合格: not counted;
    # 2022: 366; 2023: 731; 2024: 1097 → +1 (2025-01-01).  Had 2021 been 合格: 2023: 1096 → +1 already
    # from 2024-01-01.  So in June 2024 the grade is 2 (not 3).
    assert grade_on(facts, fixed(JINAN), dt.date(2024, 6, 1)).grade == 2
    passed = WorkerFacts(**{**facts.__dict__, "assessments": all_passed(2018, 2025)})
    assert grade_on(passed, fixed(JINAN), dt.date(2024, 6, 1)).grade == 3
    # May 2022: grade 1 + 1 = 2, Jinan coefficient 1.05 → 3150.00; base 70 % = 2205.00; performance
    # 945.00 forfeited for the 2021 不合格 (the previous year's assessment).  Total 2205.00.
    slip = monthly_pay(facts, fixed(JINAN), 2022, 5)
    assert [(line.label, line.amount) for line in slip.lines] == [
        ("基本工资", Decimal("2205.00")), ("绩效工资", Decimal("0.00"))]
    assert slip.total == Decimal("2205.00")
    assert "不予发放" in slip.lines[1].explanation
    # May 2023 (2022 合格): paid in full.
    assert monthly_pay(facts, fixed(JINAN), 2023, 5).total == Decimal("3150.00")
    # With forfeit_year "same", the month's own year counts: 2021 months lose it, 2022 months do not.
    same = {**JINAN, "forfeit_year": "same"}
    assert monthly_pay(facts, fixed(same), 2021, 5).lines[1].amount == Decimal("0.00")
    assert monthly_pay(facts, fixed(same), 2022, 5).total == Decimal("3150.00")


def test_benchmark_base():
    rule = {**DEFAULT, "base_mode": "benchmark", "benchmark_amount": Decimal("8000"),
            "benchmark_percent": Decimal("50")}
    facts = WorkerFacts(hire_date=dt.date(2026, 1, 1), posts=[PostHolding("其他", "网格员", dt.date(2026, 1, 1))])
    # 8000 × 50 % = 4000; grade 1 (coefficient 1.00) → 4000.00; 70/30 → 2800.00 + 1200.00.
    slip = monthly_pay(facts, fixed(rule), 2026, 11)
    assert [line.amount for line in slip.lines] == [Decimal("2800.00"), Decimal("1200.00")]
    assert "挂钩基准 8000 元 × 50%" in slip.lines[0].explanation


def test_rounding_half_up_and_exact_total():
    rule = {**DEFAULT, "base_amount": Decimal("3333.33"), "base_percent": 70}
    facts = WorkerFacts(hire_date=dt.date(2026, 1, 1), posts=[PostHolding("副职", "委员", dt.date(2026, 1, 1))])
    # Grade 4 (副职 minimum), default coefficient 1.15: 3333.33 × 1.15 = 3833.3295 → 3833.33;
    # × 70 % = 2683.331 → 2683.33; performance = 3833.33 − 2683.33 = 1150.00.
    slip = monthly_pay(facts, fixed(rule), 2026, 3)
    assert [line.amount for line in slip.lines] == [Decimal("2683.33"), Decimal("1150.00")]
    assert slip.total == Decimal("3833.33")


def test_several_posts_are_paid_once_at_the_highest():
    facts = WorkerFacts(hire_date=dt.date(2026, 1, 1), posts=[
        PostHolding("其他", "网格员", dt.date(2026, 1, 1)), PostHolding("正职", "主任", dt.date(2026, 3, 1)),
        PostHolding("副职", "副书记", dt.date(2026, 1, 1))])
    february = monthly_pay(facts, fixed(DEFAULT), 2026, 2)
    assert february.grade.post_type == "副职" and february.grade.grade == 4
    april = monthly_pay(facts, fixed(DEFAULT), 2026, 4)
    # Paid once, as 正职 grade 7: 3000 × 1.30 = 3900.00, not the sum of three posts.
    assert (april.grade.post_type, april.grade.grade, april.total) == ("正职", 7, Decimal("3900.00"))
    assert any("兼职不兼酬" in line for line in april.grade.explanation)
    # Not 一肩挑: 副书记 is not 书记, and the allowance only for 正职 posts.
    assert not _is_dual_top(facts.posts, dt.date(2026, 4, 1))


def test_grade_is_clamped_to_the_post_range_with_a_reason():
    facts = WorkerFacts(hire_date=dt.date(2000, 1, 1), posts=[PostHolding("副职", "副主任", dt.date(2000, 1, 1))],
                        education="博士", assessments=all_passed(2000, 2025))
    # 4 + 3 + 8 promotions (26 years) = 15 … capped at 副职's 15 either way; entry grade 18 is capped too.
    grade = grade_on(facts, fixed(DEFAULT), dt.date(2026, 6, 1))
    assert grade.grade == 15
    high = WorkerFacts(**{**facts.__dict__, "entry_grade": 18})
    capped = grade_on(high, fixed(DEFAULT), dt.date(2026, 6, 1))
    assert capped.grade == 15 and "按 15 级计" in capped.explanation[-1]


def test_early_promotion_at_most_twice():
    facts = WorkerFacts(hire_date=dt.date(2020, 1, 1), posts=[PostHolding("其他", "网格员", dt.date(2020, 1, 1))],
                        assessments=dict.fromkeys(range(2020, 2026), "优秀"))
    # 2020 优秀 (366, run 1); 2021 优秀 (731, run 2) → early #1 from 2022, clock 0; 2022: 365 run 1;
    # 2023: 730 run 2 → early #2 from 2024, clock 0; 2024: 366 run 1; 2025: 731 run 2 but both used.
    # Grade 1 + 2 = 3 from 2024 and still in 2026.
    assert grade_on(facts, fixed(DEFAULT), dt.date(2025, 6, 1)).grade == 3
    assert grade_on(facts, fixed(DEFAULT), dt.date(2026, 6, 1)).grade == 3
    # Both already used before: only regular steps — 2022: 1096 → +1 from 2023; 2025: 1097 → +1 from 2026.
    both_used = WorkerFacts(**{**facts.__dict__, "early_promotions_used": 2})
    assert grade_on(both_used, fixed(DEFAULT), dt.date(2025, 6, 1)).grade == 2
    assert not any("提前" in line for line in grade_on(both_used, fixed(DEFAULT), dt.date(2026, 6, 1)).explanation)


def test_education_years_credit_and_certificate_grades():
    rule = {**DEFAULT, "certificate_mode": "grades", "certificate_grades": [1, 2, 3]}
    facts = WorkerFacts(hire_date=dt.date(2025, 1, 1), posts=[PostHolding("其他", "网格员", dt.date(2025, 1, 1))],
                        education="硕士", has_diploma=True, has_degree=False, certificates=("社会工作师",),
                        assessments={2025: "合格"})
    # 硕士 diploma only → +3 years: 1095 + 365 = 1460 at the end of 2025 → +1 from 2026-01-01.
    # 社会工作师 in grades mode: +2 grades (no education grades to compare with).  1 + 2 + 1 = 4.
    assert grade_on(facts, fixed(rule), dt.date(2026, 2, 1)).grade == 4
    # Both 学历 and 学位 of 硕士: +2 grades; the certificate's 2 grades do not stack → max(2, 2) = 2.
    both = WorkerFacts(**{**facts.__dict__, "has_degree": True})
    assert grade_on(both, fixed(rule), dt.date(2026, 2, 1)).grade == 3
    assert grade_on(both, fixed({**rule, "certificate_stacks_education": True}), dt.date(2026, 2, 1)).grade == 5
    # No certificate allowance in grades mode.
    assert [line.label for line in monthly_pay(both, fixed(rule), 2026, 2).lines] == ["基本工资", "绩效工资"]


def test_not_in_post_is_not_paid():
    facts = WorkerFacts(hire_date=dt.date(2026, 5, 15), posts=[PostHolding("其他", "网格员", dt.date(2026, 5, 15))])
    slip = monthly_pay(facts, fixed(DEFAULT), 2026, 5)
    assert slip.lines == [] and slip.total == Decimal("0.00")


def test_payroll_asks_the_rule_once_per_day():
    calls = []

    def rule(day):
        calls.append(day)
        return JINAN

    workers = [WorkerFacts(hire_date=dt.date(2010 + n % 10, 1 + n % 12, 1), key=n,
                           posts=[PostHolding("副职", "委员", dt.date(2010 + n % 10, 1 + n % 12, 1))],
                           assessments=all_passed(2010, 2025)) for n in range(300)]
    slips = payroll(workers, rule, 2026, 11)
    assert [s.key for s in slips] == list(range(300))
    assert len(calls) == len(set(calls)) <= 20  # 1 January 2011–2026 and 2026-11-01


# --- The rule in the policy store -----------------------------------------------------

@pytest.mark.django_db
def test_registered_default_is_designs():
    rule = policy.get(PAY_KEY)
    assert (rule["zheng_min"], rule["zheng_max"], rule["fu_min"], rule["fu_max"]) == (7, 18, 4, 15)
    assert (rule["qita_min"], rule["qita_max"], rule["base_percent"]) == (1, 12, 70)
    assert rule["certificate_allowances"] == [Decimal("100"), Decimal("200"), Decimal("300")]
    assert rule["dual_top_allowance"] == Decimal("0")


@pytest.mark.django_db
def test_apply_preset_is_a_dated_audited_version(personas):
    start = timezone.localdate() + dt.timedelta(days=10)
    city = personas.areas["city"]
    with scopes_disabled():
        apply_preset(actor=personas.district_admin, name="benxi", effective_from=start, city=city)
    assert policy.get(PAY_KEY, city=city, on=start - dt.timedelta(days=1))["base_percent"] == 70
    in_force = policy.get(PAY_KEY, city=city, on=start)
    assert (in_force["base_amount"], in_force["base_percent"]) == (Decimal("3400"), 80)
    assert in_force["coefficients"] == PRESETS["benxi"]["value"]["coefficients"]
    assert policy.get(PAY_KEY, on=start)["base_percent"] == 70  # other cities keep the default
    entry = AuditEntry.objects.get(action="core.policy.set")
    assert "本溪式" in entry.after["note"]
    # The engine reads it through the store by date.  No assessments, so no promotion: grade 1 (其他),
    # Benxi 3400 × 1.00 = 3400.00, base 80 % = 2720.00; before the date, the default 3000 × 1.00.
    facts = WorkerFacts(hire_date=dt.date(2020, 1, 1), posts=[PostHolding("其他", "网格员", dt.date(2020, 1, 1))])

    def by_date(day):
        return policy.get(PAY_KEY, city=city, on=day)
    month_after = start.replace(day=1) + dt.timedelta(days=32)
    after = monthly_pay(facts, by_date, month_after.year, month_after.month)
    assert (after.lines[0].amount, after.total) == (Decimal("2720.00"), Decimal("3400.00"))
    before = monthly_pay(facts, by_date, start.year, start.month)
    assert before.total == Decimal("3000.00")


@pytest.mark.django_db
def test_presets_unknown_names_and_bad_values_are_refused(personas):
    start = timezone.localdate()
    with scopes_disabled():
        with pytest.raises(ValidationError, match="没有名为 tianjin 的预设"):
            apply_preset(actor=personas.district_admin, name="tianjin", effective_from=start)
        with pytest.raises(PermissionDenied):
            apply_preset(actor=personas.community_staff, name="jinan", effective_from=start)
        with pytest.raises(ValidationError, match="副职的等级范围"):
            policy.policy_set(actor=personas.district_admin, key=PAY_KEY, value={"fu_min": 16},
                              effective_from=start)
        with pytest.raises(ValidationError, match="正好 18 个"):
            policy.policy_set(actor=personas.district_admin, key=PAY_KEY, value={"coefficients": ["1.0", "1.1"]},
                              effective_from=start)
        with pytest.raises(ValidationError, match="基数方式只能是"):
            policy.policy_set(actor=personas.district_admin, key=PAY_KEY, value={"base_mode": "table"},
                              effective_from=start)
    assert not AuditEntry.objects.filter(action="core.policy.set").exists()
