"""Co-building rules in the policy store: the weights of the matching score (matching.py)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

MATCHING_KEY = "cobuild.matching"


def _validate_matching(value: dict) -> None:
    for name, weight in value.items():
        if name.endswith("_weight") and not 0 <= float(weight) <= 1:
            raise ValidationError(_("权重必须在 0 和 1 之间。"))
    positive = sum(float(v) for k, v in value.items() if k.endswith("_weight") and k != "committed_weight")
    if positive <= 0:
        raise ValidationError(_("至少要有一项加分权重大于 0。"))
    if not 1 <= int(value["top_n"]) <= 100:
        raise ValidationError(_("显示条数必须在 1 到 100 之间。"))


# DESIGN §3 (cobuild): category fit, text similarity, proximity, capacity and time fit, the
# unit's record, minus what is already committed.  Each feature is in [0, 1]; the score is
# the weighted sum, so with these defaults a perfect match scores 1.
policy.register(
    MATCHING_KEY,
    label=gettext_lazy("共建资源匹配"),
    default={
        "category_weight": 0.30,
        "text_weight": 0.15,
        "proximity_weight": 0.25,
        "capacity_time_weight": 0.15,
        "record_weight": 0.15,
        "committed_weight": 0.10,
        "top_n": 10,
    },
    validate=_validate_matching,
    labels={
        "category_weight": gettext_lazy("类别相符权重"),
        "text_weight": gettext_lazy("文字相似权重"),
        "proximity_weight": gettext_lazy("距离远近权重"),
        "capacity_time_weight": gettext_lazy("容量与时间相符权重"),
        "record_weight": gettext_lazy("单位以往评价权重"),
        "committed_weight": gettext_lazy("已占用容量扣分权重"),
        "top_n": gettext_lazy("显示前几条"),
    },
)
