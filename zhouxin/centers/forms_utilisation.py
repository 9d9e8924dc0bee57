"""Forms of the utilisation pages: the day's visitor count of a centre (the rules are in
utilisation.visits_record)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .utilisation import VISITORS_MAX


class CentreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class VisitCountForm(forms.Form):
    centre = CentreChoiceField(label=_("服务中心"), queryset=None, empty_label=None)
    day = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    visitors = forms.IntegerField(label=_("来访人次"), min_value=0, max_value=VISITORS_MAX,
                                  help_text=_("当天到中心的人次（前台登记或客流计数器）；同一天再次登记会更正原数字。"))

    def __init__(self, *args, centres, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("day", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        self.fields["centre"].widget.attrs["class"] = "form-select"
        for name in ("day", "visitors"):
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["day"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["visitors"].widget.attrs["inputmode"] = "numeric"
