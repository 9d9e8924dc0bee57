"""The pay rule of community workers (DESIGN §3 workforce, 三岗十八级) in the policy store.

One rule, "workforce.pay", read with the date it applies to (payrules.py is the engine that
uses it).  Items are flat scalars and lists, as the policy store keeps them:

  base_mode                "fixed": the monthly standard is base_amount × the grade's coefficient;
                           "benchmark": benchmark_amount × benchmark_percent % × the coefficient
                           (a city links pay to e.g. last year's average wage)
  coefficients             18 coefficients, grade 1 first
  zheng_min … qita_max     grade range of each post type (正职 / 副职 / 专职 / 其他)
  base_percent             the base part of the standard in %; the rest is performance pay
  promotion_interval_years one grade up per this many years of counted service
  passing_grades           assessment grades with which a due promotion takes effect
  early_after_excellent    early promotion after this many consecutive 优秀 years …
  early_max                … at most this many times
  education_mode           "grades": 学历 and 学位 both held → education_grades (本科/硕士/博士);
                           only one of them → education_years of service;
                           "years": always education_years; "none": no credit
  certificate_mode         "allowance": certificate_allowances a month (助理社会工作师 / 社会工作师 /
                           高级社会工作师, the highest held only); "grades": certificate_grades grades,
                           added to the education grades if certificate_stacks_education, else the
                           larger of the two applies; "none"
  forfeit_year             which year's 不合格 forfeits a month's performance pay: "previous"
                           (the assessment of the year before the month's, known when the month is paid)
                           or "same" (the month's own year, for payroll re-run after the assessment)
  dual_top_allowance       a month, for one person who is both 书记 and 主任 (一肩挑) in 正职 posts

The registered default is DESIGN's: ranges 7–18 / 4–15 / 1–12 (专职 as 其他), a 70/30 split,
a grade up every 3 years, early promotion after 2 consecutive 优秀 at most twice, 本科 +1 /
硕士 +2 / 博士 +3 grades or +1/+3/+5 years, certificate allowance ¥100/200/300 (highest only),
no 一肩挑 allowance.  The base amount and coefficients of the default are placeholders for a
city to set (DESIGN does not fix them).  PRESETS are two worked city schemes, applied only by
`apply_preset`, never automatically.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

PAY_KEY = "workforce.pay"

GRADES = 18
POST_RANGE_ITEMS = {
    "正职": ("zheng_min", "zheng_max"),
    "副职": ("fu_min", "fu_max"),
    "专职": ("zhuanzhi_min", "zhuanzhi_max"),
    "其他": ("qita_min", "qita_max"),
}
BASE_MODES = ("fixed", "benchmark")
EDUCATION_MODES = ("grades", "years", "none")
CERTIFICATE_MODES = ("allowance", "grades", "none")
FORFEIT_YEARS = ("previous", "same")
ASSESSMENT_GRADES = ("优秀", "合格", "基本合格", "不合格")


def _coefficients(first: str, step: str) -> list[Decimal]:
    return [Decimal(first) + Decimal(step) * n for n in range(GRADES)]


DEFAULT = {
    "base_mode": "fixed",
    "base_amount": Decimal("3000"),
    "benchmark_amount": Decimal("0"),
    "benchmark_percent": Decimal("100"),
    "coefficients": _coefficients("1.00", "0.05"),
    "zheng_min": 7, "zheng_max": 18,
    "fu_min": 4, "fu_max": 15,
    "zhuanzhi_min": 1, "zhuanzhi_max": 12,
    "qita_min": 1, "qita_max": 12,
    "base_percent": 70,
    "promotion_interval_years": 3,
    "passing_grades": ["优秀", "合格"],
    "early_after_excellent": 2,
    "early_max": 2,
    "education_mode": "grades",
    "education_grades": [1, 2, 3],
    "education_years": [1, 3, 5],
    "certificate_mode": "allowance",
    "certificate_allowances": [Decimal("100"), Decimal("200"), Decimal("300")],
    "certificate_grades": [1, 2, 3],
    "certificate_stacks_education": False,
    "forfeit_year": "previous",
    "dual_top_allowance": Decimal("0"),
}

LABELS = {
    "base_mode": gettext_lazy("基数方式（fixed 固定基数 / benchmark 挂钩基准）"),
    "base_amount": gettext_lazy("固定基数（元/月）"),
    "benchmark_amount": gettext_lazy("挂钩基准额（元/月）"),
    "benchmark_percent": gettext_lazy("挂钩比例（%）"),
    "coefficients": gettext_lazy("1 至 18 级等级系数"),
    "zheng_min": gettext_lazy("正职最低等级"), "zheng_max": gettext_lazy("正职最高等级"),
    "fu_min": gettext_lazy("副职最低等级"), "fu_max": gettext_lazy("副职最高等级"),
    "zhuanzhi_min": gettext_lazy("专职最低等级"), "zhuanzhi_max": gettext_lazy("专职最高等级"),
    "qita_min": gettext_lazy("其他岗位最低等级"), "qita_max": gettext_lazy("其他岗位最高等级"),
    "base_percent": gettext_lazy("基本工资占比（%），其余为绩效工资"),
    "promotion_interval_years": gettext_lazy("晋升一级所需工作年限（年）"),
    "passing_grades": gettext_lazy("晋升生效所需的考核等次"),
    "early_after_excellent": gettext_lazy("连续几年优秀可提前晋升"),
    "early_max": gettext_lazy("提前晋升最多次数"),
    "education_mode": gettext_lazy("学历计算方式（grades 等级 / years 年限 / none 不计）"),
    "education_grades": gettext_lazy("本科、硕士、博士加等级（学历学位齐全）"),
    "education_years": gettext_lazy("本科、硕士、博士加工作年限（年）"),
    "certificate_mode": gettext_lazy("社工证计算方式（allowance 津贴 / grades 等级 / none 不计）"),
    "certificate_allowances": gettext_lazy("助理社会工作师、社会工作师、高级社会工作师津贴（元/月）"),
    "certificate_grades": gettext_lazy("助理社会工作师、社会工作师、高级社会工作师加等级"),
    "certificate_stacks_education": gettext_lazy("社工证加等级与学历加等级累加"),
    "forfeit_year": gettext_lazy("不合格扣绩效的年度（previous 上一年度 / same 当年度）"),
    "dual_top_allowance": gettext_lazy("书记、主任一肩挑津贴（元/月）"),
}


def validate(value: dict) -> None:
    """The whole rule (default overlaid by the versions) is consistent; Chinese messages otherwise."""
    errors = []
    if value["base_mode"] not in BASE_MODES:
        errors.append(_("基数方式只能是 fixed（固定基数）或 benchmark（挂钩基准）。"))
    elif value["base_mode"] == "fixed" and not value["base_amount"] > 0:
        errors.append(_("固定基数必须大于 0 元。"))
    elif value["base_mode"] == "benchmark":
        if not value["benchmark_amount"] > 0:
            errors.append(_("挂钩基准额必须大于 0 元。"))
        if not 0 < value["benchmark_percent"] <= 1000:
            errors.append(_("挂钩比例必须大于 0、不超过 1000%。"))
    coefficients = value["coefficients"]
    if len(coefficients) != GRADES:
        errors.append(_("等级系数必须正好 18 个（1 至 18 级）。"))
    elif any(c <= 0 for c in coefficients):
        errors.append(_("等级系数必须大于 0。"))
    elif any(b < a for a, b in zip(coefficients, coefficients[1:], strict=False)):
        errors.append(_("等级系数不能随等级升高而降低。"))
    for post_type, (low, high) in POST_RANGE_ITEMS.items():
        if not 1 <= value[low] <= value[high] <= GRADES:
            errors.append(_("%(post)s的等级范围必须在 1 至 18 级之间，且最低不高于最高。") % {"post": post_type})
    if not 0 <= value["base_percent"] <= 100:
        errors.append(_("基本工资占比必须在 0 到 100 之间。"))
    if not 1 <= value["promotion_interval_years"] <= 10:
        errors.append(_("晋升年限必须在 1 到 10 年之间。"))
    passing = value["passing_grades"]
    if not passing or "不合格" in passing or any(g not in ASSESSMENT_GRADES for g in passing):
        errors.append(_("晋升所需考核等次须从优秀、合格、基本合格中选择，至少一项。"))
    if not 1 <= value["early_after_excellent"] <= 10:
        errors.append(_("提前晋升所需连续优秀年数必须在 1 到 10 之间。"))
    if not 0 <= value["early_max"] <= GRADES:
        errors.append(_("提前晋升次数必须在 0 到 18 之间。"))
    if value["education_mode"] not in EDUCATION_MODES:
        errors.append(_("学历计算方式只能是 grades、years 或 none。"))
    if len(value["education_grades"]) != 3 or any(not 0 <= g < GRADES for g in value["education_grades"]):
        errors.append(_("学历加等级须为本科、硕士、博士三项，每项 0 到 17 级。"))
    if len(value["education_years"]) != 3 or any(not 0 <= y <= 10 for y in value["education_years"]):
        errors.append(_("学历加年限须为本科、硕士、博士三项，每项 0 到 10 年。"))
    if value["certificate_mode"] not in CERTIFICATE_MODES:
        errors.append(_("社工证计算方式只能是 allowance、grades 或 none。"))
    if len(value["certificate_allowances"]) != 3 or any(a < 0 for a in value["certificate_allowances"]):
        errors.append(_("社工证津贴须为三项（助理社会工作师、社会工作师、高级社会工作师），不能为负数。"))
    if len(value["certificate_grades"]) != 3 or any(not 0 <= g < GRADES for g in value["certificate_grades"]):
        errors.append(_("社工证加等级须为三项，每项 0 到 17 级。"))
    if value["forfeit_year"] not in FORFEIT_YEARS:
        errors.append(_("不合格扣绩效的年度只能是 previous（上一年度）或 same（当年度）。"))
    if value["dual_top_allowance"] < 0:
        errors.append(_("一肩挑津贴不能为负数。"))
    if errors:
        raise ValidationError(errors)


policy.register(
    PAY_KEY,
    label=gettext_lazy("社区工作者薪酬（三岗十八级）"),
    default=DEFAULT,
    validate=validate,
    edit_permission="core.policy.edit",
    labels=LABELS,
)


# --- Presets ------------------------------------------------------------------------
# Two city schemes as worked examples of the two structures.  Their figures are examples
# to be checked against the city's own document before a preset is applied.

PRESETS = {
    "jinan": {
        "label": gettext_lazy("济南式：固定基数 × 等级系数表，基本 70% / 绩效 30%"),
        "value": {
            "base_mode": "fixed",
            "base_amount": Decimal("3000"),
            "coefficients": [Decimal(c) for c in (
                "1.00", "1.05", "1.10", "1.15", "1.20", "1.26", "1.32", "1.38", "1.44",
                "1.50", "1.57", "1.64", "1.71", "1.78", "1.85", "1.93", "2.01", "2.09")],
            "zheng_min": 7, "zheng_max": 18, "fu_min": 4, "fu_max": 15,
            "zhuanzhi_min": 1, "zhuanzhi_max": 12, "qita_min": 1, "qita_max": 12,
            "base_percent": 70,
            "education_mode": "grades",
            "certificate_mode": "allowance",
            "certificate_allowances": [Decimal("100"), Decimal("200"), Decimal("300")],
        },
    },
    "benxi": {
        "label": gettext_lazy("本溪式：3400 元 × 等级系数，基本 80% / 绩效 20%"),
        "value": {
            "base_mode": "fixed",
            "base_amount": Decimal("3400"),
            "coefficients": _coefficients("1.00", "0.04"),
            "zheng_min": 7, "zheng_max": 18, "fu_min": 4, "fu_max": 15,
            "zhuanzhi_min": 1, "zhuanzhi_max": 12, "qita_min": 1, "qita_max": 12,
            "base_percent": 80,
            "education_mode": "grades",
            "certificate_mode": "allowance",
            "certificate_allowances": [Decimal("100"), Decimal("200"), Decimal("300")],
        },
    },
}


def preset_value(name: str) -> dict:
    """The whole rule a preset gives (the default overlaid by the preset's items)."""
    try:
        return {**DEFAULT, **PRESETS[name]["value"]}
    except KeyError:
        raise ValidationError(_("没有名为 %(name)s 的预设。") % {"name": name}) from None


def apply_preset(*, actor, name: str, effective_from, city=None, note: str = ""):
    """Add a version of "workforce.pay" holding the preset's items (policy_set checks the
    permission, the date and the values, and writes the audit record)."""
    preset_value(name)  # unknown name → ValidationError
    preset = PRESETS[name]
    return policy.policy_set(
        actor=actor, key=PAY_KEY, value=dict(preset["value"]), effective_from=effective_from, city=city,
        note=note or _("应用预设：%(label)s") % {"label": preset["label"]},
    )


# --- Staffing norm ------------------------------------------------------------------
# (Re-added by the pay-rule helper: a first version of this file, written at the same time by
# whoever wrote staffing.py, was overwritten; staffing.py says "workforce.staffing" is
# registered here.  The owner of staffing.py should check this block.)

def _validate_staffing(value: dict) -> None:
    from .staffing import DEFAULT_STAFFING

    if any(int(value[name]) <= 0 for name in DEFAULT_STAFFING):
        raise ValidationError(_("配备标准的各项都必须是正整数。"))
    if not value["small_below"] < value["middle_below"] <= value["step_until"]:
        raise ValidationError(_("户数分档必须依次增大。"))
    if not value["small_staff"] <= value["middle_staff"] <= value["max_staff"]:
        raise ValidationError(_("配备人数必须随户数增加而不减少，且不超过上限。"))


def _register_staffing() -> None:
    from .staffing import DEFAULT_STAFFING, STAFFING_KEY

    policy.register(
        STAFFING_KEY,
        label=gettext_lazy("社区工作者配备标准"),
        default=dict(DEFAULT_STAFFING),
        validate=_validate_staffing,
        labels={
            "small_below": gettext_lazy("第一档户数上限（不含）"), "small_staff": gettext_lazy("第一档配备人数"),
            "middle_below": gettext_lazy("第二档户数上限（不含）"), "middle_staff": gettext_lazy("第二档配备人数"),
            "step_until": gettext_lazy("按千户增配的户数上限"), "step_households": gettext_lazy("每增配一人的户数"),
            "fine_step_households": gettext_lazy("超过上限后每增配一人的户数"),
            "max_staff": gettext_lazy("每个社区最多配备人数"),
        },
    )


_register_staffing()


# --- Yearly assessment (年度考核) ---------------------------------------------------
# The grade set a city uses and its quota.  Items:
#   grades                 the grades a city awards, from the engine's four (优秀 / 合格 / 基本合格 /
#                          不合格; payrules only understands those): a city without 基本合格 leaves it out
#   excellent_max_percent  at most this share of a street's workers on the roster that year may be
#                          优秀, rounded down (20 % of 12 workers → 2); 100: no limit
# The rule in force on 31 December of the assessed year applies.

ASSESSMENT_KEY = "workforce.assessment"
ASSESSMENT_DEFAULT = {
    "grades": list(ASSESSMENT_GRADES),
    "excellent_max_percent": 20,
}


def _validate_assessment(value: dict) -> None:
    errors = []
    grades = value["grades"]
    if not grades or any(g not in ASSESSMENT_GRADES for g in grades) or len(set(grades)) != len(grades):
        errors.append(_("考核等次只能从优秀、合格、基本合格、不合格中选择，且不能重复。"))
    elif "合格" not in grades or "不合格" not in grades:
        errors.append(_("考核等次必须包含合格和不合格。"))
    if not 0 <= int(value["excellent_max_percent"]) <= 100:
        errors.append(_("优秀等次比例上限必须在 0 到 100 之间。"))
    if errors:
        raise ValidationError(errors)


policy.register(
    ASSESSMENT_KEY,
    label=gettext_lazy("社区工作者年度考核等次与比例"),
    default=ASSESSMENT_DEFAULT,
    validate=_validate_assessment,
    labels={
        "grades": gettext_lazy("考核等次（优秀、合格、基本合格、不合格中选用）"),
        "excellent_max_percent": gettext_lazy("优秀等次占街道在册人数比例上限（%，向下取整）"),
    },
)
