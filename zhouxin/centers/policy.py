"""Centre rules in the policy store (DESIGN §3 centers: the *default* values), read with the date
they apply to and the centre's city."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

STANDARDS_KEY = "centers.standards"
ROTA_KEY = "centers.rota"
BOOKING_KEY = "centers.booking"


def _validate_standards(value: dict) -> None:
    if not Decimal("0") <= Decimal(str(value["area_per_100_households"])) <= Decimal("1000"):
        raise ValidationError(_("每百户面积应为 0 到 1000 平方米。"))
    if not 0 <= int(value["resident_share_percent"]) <= 100:
        raise ValidationError(_("居民活动用房占比应为 0 到 100。"))
    for key in ("minimum_area_community", "minimum_area_street", "minimum_area_district"):
        if Decimal(str(value[key])) < 0:
            raise ValidationError(_("最低面积不能为负数。"))


def _validate_rota(value: dict) -> None:
    if not 1 <= int(value["minimum_staff"]) <= 20:
        raise ValidationError(_("每班最少值班人数应为 1 到 20。"))


def _validate_booking(value: dict) -> None:
    if not 1 <= int(value["days_ahead"]) <= 365:
        raise ValidationError(_("可提前预约天数应为 1 到 365。"))
    if not 15 <= int(value["minimum_minutes"]) <= 240:
        raise ValidationError(_("最短预约时长应为 15 到 240 分钟。"))
    if not 1 <= int(value["maximum_hours"]) <= 24:
        raise ValidationError(_("最长预约时长应为 1 到 24 小时。"))
    if not 0 <= int(value["no_show_limit"]) <= 20:
        raise ValidationError(_("爽约次数上限应为 0 到 20。"))


policy.register(
    STANDARDS_KEY, label=gettext_lazy("党群服务中心建设标准"),
    default={"area_per_100_households": Decimal("30"), "resident_share_percent": 60,
             "minimum_area_community": Decimal("300"), "minimum_area_street": Decimal("1000"),
             "minimum_area_district": Decimal("2000")},
    validate=_validate_standards,
    labels={"area_per_100_households": gettext_lazy("每百户不少于（平方米）"),
            "resident_share_percent": gettext_lazy("居民活动用房不低于建筑面积的（%）"),
            "minimum_area_community": gettext_lazy("社区中心最低面积（平方米）"),
            "minimum_area_street": gettext_lazy("街道中心最低面积（平方米）"),
            "minimum_area_district": gettext_lazy("区中心最低面积（平方米）")},
)
policy.register(
    ROTA_KEY, label=gettext_lazy("中心值班"),
    default={"minimum_staff": 2, "require_backup": True},
    validate=_validate_rota,
    labels={"minimum_staff": gettext_lazy("每班最少值班人数"), "require_backup": gettext_lazy("须有 B 岗（备岗）")},
)
policy.register(
    BOOKING_KEY, label=gettext_lazy("场地预约"),
    default={"days_ahead": 30, "minimum_minutes": 30, "maximum_hours": 8, "no_show_limit": 3, "no_show_days": 90},
    validate=_validate_booking,
    labels={"days_ahead": gettext_lazy("最多可提前预约（天）"), "minimum_minutes": gettext_lazy("最短预约时长（分钟）"),
            "maximum_hours": gettext_lazy("最长预约时长（小时）"),
            "no_show_limit": gettext_lazy("爽约达到几次暂停预约"),
            "no_show_days": gettext_lazy("爽约次数的统计期（天）")},
)
