"""The form that asks for a report: an area among the caller's, a kind and a period key.  It
only parses what was sent; the rules (scope, levels, no future period) are in reports.py.
The analytics dashboard posts just `area` (a code) and `period` (a key): the kind is then the
period's own."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core.indicators import MONTH, QUARTER, YEAR, Period
from zhouxin.orgs.models import Area

from . import reports
from .choices import PeriodKind

RECENT = {MONTH: 12, QUARTER: 8, YEAR: 5}


def recent_periods(today: dt.date | None = None) -> list[tuple[str, list[Period]]]:
    """The periods offered as suggestions, newest first per kind (the current one included)."""
    today = today or timezone.localdate()
    out = []
    for kind, label in PeriodKind.choices:
        period, items = Period.of(kind, today), []
        for _n in range(RECENT[kind]):
            items.append(period)
            period = period.previous()
        out.append((label, items))
    return out


class ReportForm(forms.Form):
    area = forms.ModelChoiceField(
        label=gettext_lazy("区域"), queryset=Area.objects.unscoped().none(), to_field_name="code", empty_label=None,
        error_messages={"required": gettext_lazy("请选择要生成报表的区域。"),
                        "invalid_choice": gettext_lazy("请从列表中选择要生成报表的区域。")})
    kind = forms.ChoiceField(label=gettext_lazy("周期"), required=False,
                             choices=[("", gettext_lazy("按统计期判断")), *PeriodKind.choices],
                             error_messages={"invalid_choice": gettext_lazy("请选择月度、季度或年度。")})
    period = forms.CharField(
        label=gettext_lazy("统计期"), max_length=16,
        help_text=gettext_lazy("月度如“2026-10”，季度如“2026-Q3”，年度如“2026”；本期可生成截至今日的报表。"),
        error_messages={"required": gettext_lazy("请填写统计期，如“2026-10”。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = reports.report_areas(user)
        self.fields["area"].label_from_instance = self._area_label
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        self.fields["period"].widget.attrs.update({"list": "zx-report-periods", "autocomplete": "off",
                                                   "placeholder": "2026-10"})

    @staticmethod
    def _area_label(area: Area) -> str:
        if area.parent_id and area.parent is not None and len(area.code) > 6:
            return f"{area.parent.name} · {area.name}"
        return area.name

    def clean_period(self) -> Period:
        try:
            return reports.check_period(self.cleaned_data["period"])
        except ValidationError as exc:
            messages = exc.message_dict.get("period", exc.messages) if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError(messages) from None

    def clean(self):
        data = super().clean()
        period, kind = data.get("period"), data.get("kind")
        if isinstance(period, Period) and kind and period.kind != kind:
            self.add_error("period", _("“%(period)s”不是%(kind)s统计期，请重新填写或改选周期。")
                           % {"period": period.key, "kind": PeriodKind(kind).label})
        return data
