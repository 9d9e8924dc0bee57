"""Forms of the ratings part: starting a rating run, the rectification plan and its result."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zhouxin.core.indicators import Period

from .ratings import TEXT_MAX


class RatingRunForm(forms.Form):
    district = forms.ChoiceField(label=_("区"), error_messages={"required": _("请选择要评定的区。")})
    period = forms.CharField(label=_("统计期"), max_length=8, error_messages={"required": _("请填写统计期。")},
                             help_text=_("如“2026-10”（月）、“2026-Q3”（季）或“2026”（年）；本期按截至目前的数据评定。"),
                             widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "text"}))

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [(d.code, d.name) for d in districts]
        self.fields["district"].widget.attrs["class"] = "form-select"

    def clean_period(self) -> Period:
        return Period.parse(self.cleaned_data["period"])  # ValidationError with the format message


class RectificationPlanForm(forms.Form):
    plan = forms.CharField(label=_("整改措施"), max_length=TEXT_MAX,
                           error_messages={"required": _("请填写整改措施。")},
                           widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}))


class RectificationCloseForm(forms.Form):
    result = forms.CharField(label=_("整改结果"), max_length=TEXT_MAX,
                             error_messages={"required": _("请填写整改结果。")},
                             widget=forms.Textarea(attrs={"class": "form-control", "rows": 5}))
