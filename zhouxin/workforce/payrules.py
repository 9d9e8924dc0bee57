"""The pay engine of community workers (三岗十八级): grades and monthly pay from plain facts.

Pure and deterministic: plain dataclasses in, plain dataclasses out, no database.  The rule
comes from a callable `policy_by_date(day) -> dict` (in production
`lambda d: policy.get("workforce.pay", city=city, on=d)`), asked only for the first day of a
month and for 1 January of each year, and cached per day for a whole payroll run.  Every
figure comes with Chinese explanation lines.

What is implemented (the precise reading of DESIGN §3 workforce; items of policy.py):

Grade on a day (`grade_on`)
- The post paid is the *highest* post held that day: the post type with the highest grade
  range (its maximum, then its minimum; ties 正职 > 副职 > 专职 > 其他).  Other posts held at
  the same time are not paid (兼职不兼酬、就高不就低).
- Starting grade: `entry_grade` when given (a grade set at hiring, e.g. when the scheme was
  introduced; it already counts education and certificate), else the paid post's minimum plus
  the education/certificate grades of the rule in force that day.  The starting grade follows the post paid that day: after a move to a
  higher post the worker starts from that post's minimum and keeps every promotion earned.
- Service is counted in days from the hire date, year by year.  A year assessed 不合格 does
  not count at all.  In education "years" credit (see policy.py) the credited years are a
  head start of 365 days each.  A full interval is `promotion_interval_years` × 365 days.
- Promotion: at the end of each year Y, if the counted service since the last promotion has
  reached the interval and Y's assessment is a passing grade, the worker goes up one grade
  (more if several intervals are complete) from 1 January of Y+1; the remainder carries on.
  A year without a passing grade (基本合格, or no assessment yet) keeps the service but the
  promotion waits for the next passing year.  The interval and passing grades are those of the
  rule in force on that 1 January.
- Early promotion: when Y ends a run of `early_after_excellent` consecutive 优秀 and no regular
  promotion happened that January, one grade up from 1 January of Y+1, at most `early_max`
  times in a career (`early_promotions_used` are those granted before the assessments given);
  the service clock and the 优秀 run restart after it.  A regular promotion also ends the run.
- The grade is clamped to the paid post's range, with an explanation line when it is.

Pay for a month (`monthly_pay`), from the grade and the posts on the first day of the month
(no pro-rating within a month; a worker not in post on the 1st is not paid that month):
- standard = base × the grade's coefficient, rounded to 0.01 yuan (ROUND_HALF_UP); base is
  `base_amount` ("fixed") or `benchmark_amount` × `benchmark_percent` % ("benchmark");
- 基本工资 = standard × base_percent %, rounded; 绩效工资 = standard − 基本工资 (so the two add up
  to the standard exactly); 绩效工资 is 0 when the assessment of the previous year
  (`forfeit_year` "previous", default) or of the month's own year ("same") is 不合格;
- 社工证津贴 ("allowance" mode): the allowance of the highest certificate held, once;
- 一肩挑津贴: when one person holds a 正职 post titled 书记 and a 正职 post titled 主任 (one
  holding may carry both, e.g. "书记、主任"; 副书记/副主任 do not count);
- total = the sum of the lines, exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from django.utils.translation import gettext, gettext_lazy

from .policy import POST_RANGE_ITEMS

ZHENG, FU, ZHUANZHI, QITA = "正职", "副职", "专职", "其他"
POST_ORDER = (ZHENG, FU, ZHUANZHI, QITA)  # tie-break of equal ranges, highest first
EXCELLENT, PASSED, BASIC, FAILED = "优秀", "合格", "基本合格", "不合格"
EDUCATION_LEVELS = ("本科", "硕士", "博士")
CERTIFICATES = ("助理社会工作师", "社会工作师", "高级社会工作师")
YEAR_DAYS = 365
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@functools.lru_cache(maxsize=1024)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


def _(message: str) -> str:
    """gettext, remembered per language: a payroll of 10,000 workers asks for the same few dozen
    explanation texts hundreds of thousands of times."""
    return _translated(translation.get_language(), message)


# How the values above read in the interface language (the values themselves are data).
LABELS = {
    ZHENG: gettext_lazy("正职"), FU: gettext_lazy("副职"), ZHUANZHI: gettext_lazy("专职"), QITA: gettext_lazy("其他"),
    EXCELLENT: gettext_lazy("优秀"), PASSED: gettext_lazy("合格"), BASIC: gettext_lazy("基本合格"),
    FAILED: gettext_lazy("不合格"),
    "本科": gettext_lazy("本科"), "硕士": gettext_lazy("硕士"), "博士": gettext_lazy("博士"),
    "助理社会工作师": gettext_lazy("助理社会工作师"), "社会工作师": gettext_lazy("社会工作师"),
    "高级社会工作师": gettext_lazy("高级社会工作师"),
}


def label(value: str) -> str:
    """A post type, assessment grade, education level or certificate as the interface says it."""
    return _(value) if value in LABELS else value  # each label's msgid is the value itself


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- Facts ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PostHolding:
    post_type: str  # 正职 / 副职 / 专职 / 其他
    title: str  # e.g. 书记, 主任, 副主任, 网格员
    start: dt.date
    end: dt.date | None = None  # the last day held (inclusive); None: still held

    def held_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass
class WorkerFacts:
    hire_date: dt.date
    posts: list[PostHolding]
    education: str = ""  # the highest level: 本科 / 硕士 / 博士 count; anything else (大专, …) does not
    has_diploma: bool = True  # 学历证书 of that level
    has_degree: bool = True  # 学位证书 of that level
    certificates: tuple[str, ...] = ()  # social-work certificates held (the highest counts)
    assessments: dict[int, str] = field(default_factory=dict)  # year → 优秀 / 合格 / 基本合格 / 不合格
    entry_grade: int | None = None
    early_promotions_used: int = 0
    key: object = None  # the caller's id of the worker, handed back on the payslip


@dataclass(frozen=True)
class GradeResult:
    grade: int | None
    post_type: str | None
    explanation: list[str]
    post_title: str = ""


@dataclass(frozen=True)
class PayLine:
    label: str
    amount: Decimal
    explanation: str


@dataclass(frozen=True)
class Payslip:
    lines: list[PayLine]
    total: Decimal
    grade: GradeResult
    key: object = None
    year: int = 0
    month: int = 0


# --- The rule, compiled once per day --------------------------------------------------

@dataclass(frozen=True)
class Rules:
    base: Decimal
    base_text: str
    coefficients: tuple[Decimal, ...]
    ranges: dict
    base_percent: Decimal
    interval_years: int
    passing: frozenset
    early_after: int
    early_max: int
    education_mode: str
    education_grades: tuple[int, ...]
    education_years: tuple[int, ...]
    certificate_mode: str
    certificate_allowances: tuple[Decimal, ...]
    certificate_grades: tuple[int, ...]
    certificate_stacks: bool
    forfeit_year: str
    dual_top_allowance: Decimal

    @classmethod
    def from_policy(cls, value: dict) -> Rules:
        if value["base_mode"] == "benchmark":
            base = Decimal(value["benchmark_amount"]) * Decimal(value["benchmark_percent"]) / 100
            base_text = _("挂钩基准 %(amount)s 元 × %(percent)s%%") % {
                "amount": value["benchmark_amount"], "percent": value["benchmark_percent"]}
        else:
            base = Decimal(value["base_amount"])
            base_text = _("固定基数 %(amount)s 元") % {"amount": value["base_amount"]}
        return cls(
            base=base, base_text=base_text,
            coefficients=tuple(Decimal(c) for c in value["coefficients"]),
            ranges={post: (int(value[low]), int(value[high])) for post, (low, high) in POST_RANGE_ITEMS.items()},
            base_percent=Decimal(value["base_percent"]),
            interval_years=int(value["promotion_interval_years"]),
            passing=frozenset(value["passing_grades"]),
            early_after=int(value["early_after_excellent"]), early_max=int(value["early_max"]),
            education_mode=value["education_mode"],
            education_grades=tuple(int(g) for g in value["education_grades"]),
            education_years=tuple(int(y) for y in value["education_years"]),
            certificate_mode=value["certificate_mode"],
            certificate_allowances=tuple(Decimal(a) for a in value["certificate_allowances"]),
            certificate_grades=tuple(int(g) for g in value["certificate_grades"]),
            certificate_stacks=bool(value["certificate_stacks_education"]),
            forfeit_year=value["forfeit_year"],
            dual_top_allowance=Decimal(value["dual_top_allowance"]),
        )

    def rank(self, post_type: str) -> tuple:
        low, high = self.ranges[post_type]
        return (high, low, -POST_ORDER.index(post_type))


class Rulebook:
    """`policy_by_date` with each day's rule fetched and compiled once (share one per payroll run)."""

    def __init__(self, policy_by_date: Callable[[dt.date], dict]):
        self.policy_by_date = policy_by_date
        self._by_day: dict[dt.date, Rules] = {}

    def on(self, day: dt.date) -> Rules:
        rules = self._by_day.get(day)
        if rules is None:
            rules = self._by_day[day] = Rules.from_policy(self.policy_by_date(day))
        return rules


def _book(policy_by_date) -> Rulebook:
    return policy_by_date if isinstance(policy_by_date, Rulebook) else Rulebook(policy_by_date)


# --- Grade ----------------------------------------------------------------------------

def paid_post(posts, day: dt.date, rules: Rules) -> PostHolding | None:
    """The highest post held on `day` (兼职不兼酬、就高不就低), or None."""
    held = [p for p in posts if p.held_on(day)]
    if not held:
        return None
    return max(held, key=lambda p: rules.rank(p.post_type))


def _highest_certificate(facts: WorkerFacts) -> int | None:
    held = [CERTIFICATES.index(c) for c in facts.certificates if c in CERTIFICATES]
    return max(held) if held else None


def _credits(facts: WorkerFacts, rules: Rules) -> tuple[int, int, list[str]]:
    """(grades, years of service, explanation) from education and certificate."""
    lines = []
    edu_grades = edu_years = 0
    if facts.education in EDUCATION_LEVELS and rules.education_mode != "none" and (
            facts.has_diploma or facts.has_degree):
        level = EDUCATION_LEVELS.index(facts.education)
        both = facts.has_diploma and facts.has_degree
        if rules.education_mode == "grades" and both:
            edu_grades = rules.education_grades[level]
            lines.append(_("学历%(level)s（学历学位齐全）：加 %(n)s 级。") % {"level": label(facts.education), "n": edu_grades})
        else:
            edu_years = rules.education_years[level]
            held = _("学历学位齐全") if both else (_("仅有学历") if facts.has_diploma else _("仅有学位"))
            lines.append(_("学历%(level)s（%(held)s）：加 %(n)s 年工作年限。") % {
                "level": label(facts.education), "held": held, "n": edu_years})
    cert_grades = 0
    cert = _highest_certificate(facts)
    if cert is not None and rules.certificate_mode == "grades":
        cert_grades = rules.certificate_grades[cert]
        lines.append(_("%(cert)s证书（只计最高一项）：加 %(n)s 级。") % {"cert": label(CERTIFICATES[cert]), "n": cert_grades})
    if cert_grades and edu_grades and not rules.certificate_stacks:
        grades = max(edu_grades, cert_grades)
        lines.append(_("学历与社工证加级不累加，取较高的 %(n)s 级。") % {"n": grades})
    else:
        grades = edu_grades + cert_grades
    return grades, edu_years, lines


def _promotions(facts: WorkerFacts, book: Rulebook, on: dt.date, head_start_days: int) -> tuple[int, list[str]]:
    """Grades earned by service up to `on` (effective each 1 January), with their explanation."""
    steps = 0
    early_used = facts.early_promotions_used
    run = 0
    clock = head_start_days
    lines = []
    for year in range(facts.hire_date.year, on.year):
        first = facts.hire_date if facts.hire_date.year == year else dt.date(year, 1, 1)
        january = dt.date(year + 1, 1, 1)
        rules = book.on(january)
        assessed = facts.assessments.get(year)
        if assessed == FAILED:
            run = 0
            lines.append(_("%(year)s 年考核不合格：该年不计入工作年限。") % {"year": year})
            continue
        clock += (dt.date(year, 12, 31) - first).days + 1
        run = run + 1 if assessed == EXCELLENT else 0
        interval = rules.interval_years * YEAR_DAYS
        if clock >= interval:
            if assessed in rules.passing:
                n = clock // interval
                clock -= n * interval
                steps += n
                run = 0
                lines.append(_("%(year)s 年考核%(grade)s，工作年限满 %(years)s 年：%(date)s 起晋升 %(n)s 级。") % {
                    "year": year, "grade": label(assessed), "years": rules.interval_years * n, "date": january, "n": n})
                continue
            lines.append(_("%(year)s 年工作年限已满 %(years)s 年，但考核为%(grade)s：晋升待考核合格后生效。") % {
                "year": year, "years": rules.interval_years, "grade": label(assessed) if assessed else _("（尚无结果）")})
        if run >= rules.early_after and early_used < rules.early_max:
            steps += 1
            early_used += 1
            run = 0
            clock = 0
            lines.append(_("连续 %(n)s 年考核优秀：%(date)s 起提前晋升 1 级（第 %(k)s 次，最多 %(max)s 次），"
                           "晋升年限重新计算。") % {"n": rules.early_after, "date": january, "k": early_used,
                                           "max": rules.early_max})
    return steps, lines


def grade_on(facts: WorkerFacts, policy_by_date, on: dt.date) -> GradeResult:
    """The worker's grade on day `on` under the rule in force each day, explained."""
    book = _book(policy_by_date)
    rules = book.on(on)
    post = paid_post(facts.posts, on, rules)
    if post is None or on < facts.hire_date:
        return GradeResult(None, None, [_("%(day)s 未在任何社区工作者岗位上。") % {"day": on}])
    low, high = rules.ranges[post.post_type]
    lines = [_("计酬岗位：%(title)s（%(post)s），等级范围 %(low)s–%(high)s 级。") % {
        "title": post.title, "post": label(post.post_type), "low": low, "high": high}]
    others = [p for p in facts.posts if p.held_on(on) and p is not post]
    if others:
        lines.append(_("兼职不兼酬、就高不就低：同时担任%(others)s，只按%(title)s计酬一次。") % {
            "others": "、".join(f"{p.title}（{label(p.post_type)}）" for p in others), "title": post.title})
    credit_grades, credit_years, credit_lines = _credits(facts, rules)
    if facts.entry_grade is not None:
        start = facts.entry_grade
        lines.append(_("入职定级 %(g)s 级（已含学历、证书因素）。") % {"g": start})
        credit_grades = credit_years = 0
        credit_lines = []
    else:
        start = low
        lines.append(_("起始等级为岗位最低等级 %(g)s 级。") % {"g": low})
    lines.extend(credit_lines)
    steps, promotion_lines = _promotions(facts, book, on, credit_years * YEAR_DAYS)
    lines.extend(promotion_lines)
    grade = start + credit_grades + steps
    lines.append(_("等级 = 起始 %(start)s 级 + 加级 %(credit)s 级 + 晋升 %(steps)s 级 = %(grade)s 级。") % {
        "start": start, "credit": credit_grades, "steps": steps, "grade": grade})
    if grade > high:
        lines.append(_("超出%(post)s最高等级，按 %(high)s 级计。") % {"post": label(post.post_type), "high": high})
        grade = high
    elif grade < low:
        lines.append(_("低于%(post)s最低等级，按 %(low)s 级计。") % {"post": label(post.post_type), "low": low})
        grade = low
    return GradeResult(grade, post.post_type, lines, post.title)


# --- Pay ------------------------------------------------------------------------------

def _is_dual_top(posts, day: dt.date) -> bool:
    titles = [p.title for p in posts if p.post_type == ZHENG and p.held_on(day)]

    def has(word):
        return any(word in t.replace("副" + word, "") for t in titles)
    return has("书记") and has("主任")


def monthly_pay(facts: WorkerFacts, policy_for_month, year: int, month: int) -> Payslip:
    """The worker's pay for the month, line by line (from the grade and posts on its first day)."""
    book = _book(policy_for_month)
    day = dt.date(year, month, 1)
    grade = grade_on(facts, book, day)
    if grade.grade is None:
        return Payslip([], ZERO, grade, facts.key, year, month)
    rules = book.on(day)
    coefficient = rules.coefficients[grade.grade - 1]
    standard = money(rules.base * coefficient)
    base = money(standard * rules.base_percent / 100)
    performance = standard - base
    standard_text = _("%(base)s × 第 %(g)s 级系数 %(c)s = %(s)s 元") % {
        "base": rules.base_text, "g": grade.grade, "c": coefficient, "s": standard}
    lines = [PayLine(_("基本工资"), base, _("%(standard)s，基本工资占 %(p)s%%。") % {
        "standard": standard_text, "p": rules.base_percent})]
    forfeit_year = year - 1 if rules.forfeit_year == "previous" else year
    if facts.assessments.get(forfeit_year) == FAILED:
        lines.append(PayLine(_("绩效工资"), ZERO, _("%(y)s 年度考核不合格，本月绩效工资 %(p)s 元不予发放。") % {
            "y": forfeit_year, "p": performance}))
    else:
        lines.append(PayLine(_("绩效工资"), performance, _("%(standard)s，绩效工资占 %(p)s%%。") % {
            "standard": standard_text, "p": 100 - rules.base_percent}))
    cert = _highest_certificate(facts)
    if cert is not None and rules.certificate_mode == "allowance" and rules.certificate_allowances[cert] > 0:
        amount = money(rules.certificate_allowances[cert])
        lines.append(PayLine(_("社工证津贴"), amount, _("持有%(cert)s证书，只计最高一项，每月 %(a)s 元。") % {
            "cert": label(CERTIFICATES[cert]), "a": amount}))
    if rules.dual_top_allowance > 0 and _is_dual_top(facts.posts, day):
        amount = money(rules.dual_top_allowance)
        lines.append(PayLine(_("一肩挑津贴"), amount, _("书记、主任一肩挑，每月 %(a)s 元。") % {"a": amount}))
    return Payslip(lines, sum((line.amount for line in lines), ZERO), grade, facts.key, year, month)


def payroll(workers: list[WorkerFacts], policy_for_month, year: int, month: int) -> list[Payslip]:
    """Every worker's payslip for the month, one shared cache of the rule by day."""
    book = _book(policy_for_month)
    return [monthly_pay(facts, book, year, month) for facts in workers]
