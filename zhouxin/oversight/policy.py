"""Oversight rules in the policy store: the star rating's weighted indicators, stars, bottom
share and rectification triggers (DESIGN §3 oversight, *default* values), and the review grades.

A new version of `oversight.rating` (e.g. another weight) applies to the periods whose last day
is on or after its effective date: ratings.recompute_from() re-rates them when it commits,
ratings of earlier periods keep the version they were computed under."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

RATING_KEY = "oversight.rating"
REVIEW_KEY = "oversight.review"

# Policy item → the indicator (core.indicators) it weighs.  An indicator given in PERCENT counts
# its rate × 100 points; any other (counts, hours) counts value ÷ the best value of the areas rated
# with it (same district, same level) × 100.  A weight of 0 leaves the indicator out.
WEIGHTS = {
    "w_dispatch_composite": "dispatch.composite",
    "w_cobuild_needs_matched": "cobuild.needs_matched_rate",
    "w_volunteers_hours": "volunteers.hours",
    "w_volunteers_wishes": "volunteers.wishes_rate",
    "w_funds_execution": "funds.execution_rate",
    "w_centers_utilisation": "centers.utilisation",
    "w_workforce_certified": "workforce.certified_share",
}
STAR_ITEMS = ("star_5", "star_4", "star_3", "star_2")


def _validate_rating(value: dict) -> None:
    weights = [Decimal(str(value[item])) for item in WEIGHTS]
    if any(w < 0 or w > 1 for w in weights):
        raise ValidationError(_("每项权重应在 0 到 1 之间。"))
    if sum(weights) <= 0:
        raise ValidationError(_("至少要有一项指标的权重大于 0。"))
    stars = [Decimal(str(value[item])) for item in STAR_ITEMS]
    if not all(0 <= s <= 100 for s in stars) or stars != sorted(stars, reverse=True) or len(set(stars)) != len(stars):
        raise ValidationError(_("星级分数线应在 0 到 100 之间，且五星 > 四星 > 三星 > 二星。"))
    if not Decimal("0") <= Decimal(str(value["bottom_share"])) <= Decimal("0.3"):
        raise ValidationError(_("排名靠后比例应在 0 到 0.3 之间（默认 0.1，即 10%）。"))
    if not 1 <= int(value["vacancy_months"]) <= 24:
        raise ValidationError(_("书记岗位空缺期限应为 1 到 24 个月。"))
    if not Decimal("0") <= Decimal(str(value["satisfaction_floor"])) <= Decimal("1"):
        raise ValidationError(_("满意率底线应在 0 到 1 之间（默认 0.6，即 60%）。"))


def _validate_review(value: dict) -> None:
    lines = [Decimal(str(value[item])) for item in ("good", "fairly_good", "average")]
    if not all(0 <= s <= 100 for s in lines) or not lines[0] > lines[1] > lines[2]:
        raise ValidationError(_("等次分数线应在 0 到 100 之间，且“好” > “较好” > “一般”。"))
    if not 1 <= int(value["minimum_reviewers"]) <= 100:
        raise ValidationError(_("最少评议人数应为 1 到 100。"))


def _rating_changed() -> None:
    from .ratings import schedule_recompute  # the ratings module imports this one

    schedule_recompute()


policy.register(
    RATING_KEY, label=gettext_lazy("星级评定与整改"),
    default={
        "w_dispatch_composite": Decimal("0.40"),
        "w_cobuild_needs_matched": Decimal("0.10"),
        "w_volunteers_hours": Decimal("0.15"),
        "w_volunteers_wishes": Decimal("0.10"),
        "w_funds_execution": Decimal("0.10"),
        "w_centers_utilisation": Decimal("0.10"),
        "w_workforce_certified": Decimal("0.05"),
        "star_5": Decimal("90"), "star_4": Decimal("80"), "star_3": Decimal("70"), "star_2": Decimal("60"),
        "bottom_share": Decimal("0.10"),
        "vacancy_months": 3,
        "satisfaction_floor": Decimal("0.60"),
    },
    validate=_validate_rating,
    on_change=_rating_changed,
    labels={
        "w_dispatch_composite": gettext_lazy("权重：接诉即办三率综合得分"),
        "w_cobuild_needs_matched": gettext_lazy("权重：共建需求对接率"),
        "w_volunteers_hours": gettext_lazy("权重：志愿服务时长"),
        "w_volunteers_wishes": gettext_lazy("权重：微心愿实现率"),
        "w_funds_execution": gettext_lazy("权重：经费执行率"),
        "w_centers_utilisation": gettext_lazy("权重：党群服务中心使用率"),
        "w_workforce_certified": gettext_lazy("权重：社工持证率"),
        "star_5": gettext_lazy("五星分数线"), "star_4": gettext_lazy("四星分数线"),
        "star_3": gettext_lazy("三星分数线"), "star_2": gettext_lazy("二星分数线"),
        "bottom_share": gettext_lazy("排名靠后列入整改的比例"),
        "vacancy_months": gettext_lazy("书记岗位空缺超过几个月列入整改"),
        "satisfaction_floor": gettext_lazy("满意率低于多少列入整改"),
    },
)
policy.register(
    REVIEW_KEY, label=gettext_lazy("书记述职评议"),
    default={"good": Decimal("90"), "fairly_good": Decimal("80"), "average": Decimal("60"), "minimum_reviewers": 3},
    validate=_validate_review,
    labels={"good": gettext_lazy("“好”等次不低于（分）"), "fairly_good": gettext_lazy("“较好”等次不低于（分）"),
            "average": gettext_lazy("“一般”等次不低于（分）"), "minimum_reviewers": gettext_lazy("最少评议人数")},
)
