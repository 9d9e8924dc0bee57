"""Dispatch rules in the policy store, with the defaults of DESIGN §3 (dispatch)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy


def _validate_sla(value: dict) -> None:
    for key, amount in value.items():
        if (key.endswith("_hours") or key.endswith("_days")) and int(amount) <= 0:
            raise ValidationError(_("时限必须大于 0。"))
    if not 0 < float(value["warn_ratio"]) < 1:
        raise ValidationError(_("预警比例必须在 0 和 1 之间。"))


# Time limits.  By SLA class (catalogue) the clock runs in calendar hours or days;
# by kind it runs in working days.  The stricter (earlier) deadline applies.
policy.register(
    "dispatch.sla",
    label=gettext_lazy("接诉即办时限"),
    default={
        "emergency_contact_hours": 2,
        "emergency_resolve_hours": 24,
        "utilities_contact_hours": 2,
        "utilities_resolve_hours": 24,
        "general_contact_hours": 24,
        "general_resolve_days": 7,
        "complex_contact_hours": 24,
        "complex_resolve_days": 15,
        "consult_working_days": 2,
        "help_working_days": 10,
        "suggestion_working_days": 10,
        "complaint_working_days": 15,
        "report_working_days": 15,
        "warn_ratio": 0.8,
    },
    validate=_validate_sla,
)

policy.register(
    "dispatch.whistle",
    label=gettext_lazy("吹哨报到时限"),
    default={"urgent_report_minutes": 30, "normal_report_hours": 24},
)

policy.register(
    "dispatch.rates",
    label=gettext_lazy("三率考核"),
    default={
        "partly_resolved_weight": 0.6,
        "basic_satisfied_weight": 0.8,
        "response_weight": 0.2,
        "resolution_weight": 0.4,
        "satisfaction_weight": 0.4,
        "governance_bottom_share": 0.1,
    },
)

policy.register(
    "dispatch.duplicates",
    label=gettext_lazy("重复诉求识别"),
    default={"radius_m": 250, "window_days": 7, "min_similarity": 0.5},
)
