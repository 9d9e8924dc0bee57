"""Funds rules in the policy store (DESIGN §3 funds: the *default* values), read with the date
they apply to and the community's city, so a plan follows the version in force when proposed."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

BUDGET_KEY = "funds.budget"
CATEGORIES_KEY = "funds.categories"
DELIBERATION_KEY = "funds.deliberation"


def _money(value, message) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(message) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(message)
    return amount


def _validate_budget(value: dict) -> None:
    _money(value["service_yearly"], _("服务群众专项经费年度标准应为不小于零的金额。"))
    city, district = int(value["city_share"]), int(value["district_share"])
    if city < 0 or district < 0 or city + district == 0:
        raise ValidationError(_("市、区分担比例应为不小于零的整数，且不能都为零。"))


def _validate_categories(value: dict) -> None:
    allowed, forbidden = list(value["allowed"]), list(value["forbidden"])
    if not allowed:
        raise ValidationError(_("至少要有一个允许的支出类别。"))
    overlap = set(allowed) & set(forbidden)
    if overlap:
        raise ValidationError(_("“%(names)s”不能既允许又禁止。") % {"names": "、".join(sorted(overlap))})


def _validate_deliberation(value: dict) -> None:
    _money(value["threshold"], _("四议两公开限额应为不小于零的金额。"))
    if not 1 <= int(value["notice_days"]) <= 60:
        raise ValidationError(_("结果公示期应为 1 到 60 天。"))


policy.register(
    BUDGET_KEY, label=gettext_lazy("社区经费标准"),
    default={"service_yearly": Decimal("200000"), "city_share": 1, "district_share": 1},
    validate=_validate_budget,
    labels={"service_yearly": gettext_lazy("服务群众专项经费每社区每年（元）"),
            "city_share": gettext_lazy("市级分担份数"), "district_share": gettext_lazy("区级分担份数")},
)
# Categories are names: a plan records the name it was filed under, so a later edit of the list
# never changes what an old plan says.
policy.register(
    CATEGORIES_KEY, label=gettext_lazy("经费支出范围"),
    default={
        "allowed": ["社区环境整治", "便民服务设施", "为老助残服务", "少年儿童服务", "文体活动", "社区教育培训",
                    "困难群众帮扶", "社区治理项目", "志愿服务激励", "公共设施小修"],
        "forbidden": ["办公经费", "工资福利", "津贴补贴和奖金", "偿还债务", "应由居民个人承担的费用",
                      "已有财政资金保障的项目", "办公用房建设"],
    },
    validate=_validate_categories,
    labels={"allowed": gettext_lazy("允许的支出类别"), "forbidden": gettext_lazy("禁止的支出类别")},
)
policy.register(
    DELIBERATION_KEY, label=gettext_lazy("四议两公开"),
    default={"threshold": Decimal("10000"), "notice_days": 5},
    validate=_validate_deliberation,
    labels={"threshold": gettext_lazy("须经四议两公开的金额（元，超过即须）"),
            "notice_days": gettext_lazy("结果公示期（天）")},
)
