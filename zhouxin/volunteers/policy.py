"""Volunteers rules in the policy store (DESIGN §3 volunteers: the *default* values), read with
the date they apply to, so a registration deadline, a point or a completion rate follows the
version in force on that day."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

REGISTRATION_KEY = "volunteers.registration"
SERVICE_KEY = "volunteers.service"
WISHES_KEY = "volunteers.wishes"
POINTS_KEY = "volunteers.points"


def _validate_registration(value: dict) -> None:
    try:
        month, day = (int(part) for part in str(value["first_by"]).split("-"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise ValueError
    except ValueError:
        raise ValidationError(_("首次报到截止日期应写成“月-日”，如 06-30。")) from None
    if not 1 <= int(value["renew_months"]) <= 24:
        raise ValidationError(_("续报周期应为 1 到 24 个月。"))
    if not 0 <= int(value["remind_days"]) <= 90:
        raise ValidationError(_("提前提醒天数应为 0 到 90 天。"))


def _validate_service(value: dict) -> None:
    if not 0 <= float(value["yearly_minimum_hours"]) <= 1000:
        raise ValidationError(_("年度最低服务时长应为 0 到 1000 小时。"))
    if not 0 <= float(value["unit_threshold_percent"]) <= 100:
        raise ValidationError(_("单位完成率警戒线应为 0 到 100。"))
    if not 15 <= int(value["qr_valid_seconds"]) <= 600:
        raise ValidationError(_("签到码有效期应为 15 到 600 秒。"))


def _validate_wishes(value: dict) -> None:
    if not 0 < float(value["value_cap"]) <= 10000:
        raise ValidationError(_("微心愿价值上限应大于 0、不超过 10000 元。"))


def _validate_points(value: dict) -> None:
    for points in value.values():
        if not 0 <= float(points) <= 1000:
            raise ValidationError(_("积分应为 0 到 1000 之间的数。"))


policy.register(
    REGISTRATION_KEY, label=gettext_lazy("双报到时限"),
    default={"first_by": "06-30", "renew_months": 6, "remind_days": 14},
    validate=_validate_registration,
    labels={"first_by": gettext_lazy("每年首次报到截止（月-日）"), "renew_months": gettext_lazy("续报周期（月）"),
            "remind_days": gettext_lazy("到期前提醒（天）")},
)
policy.register(
    SERVICE_KEY, label=gettext_lazy("志愿服务考核"),
    default={"yearly_minimum_hours": 50, "unit_threshold_percent": 95, "qr_valid_seconds": 90},
    validate=_validate_service,
    labels={"yearly_minimum_hours": gettext_lazy("党员年度最低服务时长（小时）"),
            "unit_threshold_percent": gettext_lazy("单位完成率警戒线（%）"),
            "qr_valid_seconds": gettext_lazy("签到码有效期（秒）")},
)
policy.register(
    WISHES_KEY, label=gettext_lazy("微心愿"),
    default={"value_cap": 200},
    validate=_validate_wishes,
    labels={"value_cap": gettext_lazy("单个心愿价值上限（元）")},
)
policy.register(
    POINTS_KEY, label=gettext_lazy("志愿服务积分"),
    default={"per_hour": 1, "per_wish": 5, "on_time_registration": 5},
    validate=_validate_points,
    labels={"per_hour": gettext_lazy("每服务 1 小时积分"), "per_wish": gettext_lazy("完成 1 个微心愿积分"),
            "on_time_registration": gettext_lazy("按时报到积分")},
)
