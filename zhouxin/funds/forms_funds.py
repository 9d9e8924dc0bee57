"""Forms of the fund pages: setting up a fund with its sources, allocating more money, and the
list's filter.  They only parse what was typed; the rules are in funds.py."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from zhouxin.orgs.models import Area

from . import funds
from .choices import FundKind, FundSourceKind

SOURCE_FIELDS = (  # (form field, source)
    ("city", FundSourceKind.CITY),
    ("district", FundSourceKind.DISTRICT),
    ("street", FundSourceKind.STREET),
    ("other", FundSourceKind.OTHER),
)


def _money_field(label, required=False, help_text=""):
    return forms.DecimalField(label=label, required=required, max_digits=12, decimal_places=2,
                              help_text=help_text)


class _Styled:
    def _style(self):
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class FundCreateForm(_Styled, forms.Form):
    community = forms.ModelChoiceField(label=gettext_lazy("社区"), queryset=Area.objects.unscoped().none(),
                                       to_field_name="code", empty_label=None)
    year = forms.TypedChoiceField(label=gettext_lazy("年度"), coerce=int)
    kind = forms.ChoiceField(label=gettext_lazy("经费类型"), choices=FundKind.choices, initial=FundKind.SERVICE)
    city = _money_field(gettext_lazy("市级财政（元）"),
                        help_text=gettext_lazy("已按政策规则“社区经费标准”预填服务群众专项经费的市、区分担金额，可按批复调整。"))
    district = _money_field(gettext_lazy("区级财政（元）"))
    street = _money_field(gettext_lazy("街道财政（元）"))
    other = _money_field(gettext_lazy("其他来源（元）"))
    note = forms.CharField(label=gettext_lazy("说明"), required=False, max_length=funds.NOTE_MAX,
                           help_text=gettext_lazy("如预算批复文件号。"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = funds.allocatable_communities(user).select_related("parent")
        self.fields["community"].label_from_instance = lambda area: (
            f"{area.parent.name} · {area.name}" if area.parent_id else area.name)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [(y, str(y)) for y in (this_year + 1, this_year, this_year - 1)]
        self._style()

    def sources(self) -> dict:
        """The amounts typed, by source (empty fields left out; a typed 0 is passed on and refused)."""
        return {source.value: self.cleaned_data[name] for name, source in SOURCE_FIELDS
                if self.cleaned_data.get(name) is not None}

    def clean(self):
        data = super().clean()
        if not any(data.get(name) is not None for name, _source in SOURCE_FIELDS):
            raise forms.ValidationError(gettext_lazy("请至少填写一项经费来源的金额。"))
        return data


class AllocateForm(_Styled, forms.Form):
    source = forms.ChoiceField(label=gettext_lazy("来源"), choices=FundSourceKind.choices)
    amount = forms.DecimalField(label=gettext_lazy("金额（元）"), max_digits=12, decimal_places=2)
    memo = forms.CharField(label=pgettext_lazy("ledger", "摘要"), max_length=funds.MEMO_MAX,
                           help_text=gettext_lazy("如“区财政追加拨款（东财预〔2025〕12号）”。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
