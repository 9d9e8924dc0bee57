"""Forms of the secretaries' review pages (reviews.py holds the rules; these only read the input).

There is no form field for a figure: the figures come from the platform (reviews.figures_for)."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.orgs.models import Area

from . import reviews
from .choices import ReviewStatus

TEXT_ERRORS = {"max_length": _("不能超过 %(limit_value)d 个字。")}


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields as {{ field }}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, area):
        parent = area.parent.name if area.parent_id and area.level == "community" else ""
        return f"{parent} {area.name}".strip()


class ReviewOpenForm(StyledForm):
    area = AreaChoiceField(label=_("街道或社区"), queryset=Area.objects.unscoped().none(), to_field_name="code",
                           empty_label=None,
                           error_messages={"required": _("请选择街道或社区。"),
                                           "invalid_choice": _("请选择您可以发起述职评议的街道或社区。")})
    year = forms.IntegerField(label=_("年度"), min_value=reviews.FIRST_YEAR,
                              error_messages={"required": _("请填写年度。"), "invalid": _("请填写年度，如 2025。"),
                                              "min_value": _("年度应不早于 %(limit_value)s 年。"),
                                              "max_value": _("年度不能晚于 %(limit_value)s 年。")})
    secretary = forms.CharField(label=_("书记姓名"), max_length=reviews.SECRETARY_MAX,
                                error_messages={**TEXT_ERRORS, "required": _("请填写书记姓名。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = reviews.openable_areas(user).select_related("parent")
        this_year = timezone.localdate().year
        self.fields["year"].max_value = this_year
        self.fields["year"].validators.append(
            MaxValueValidator(this_year, message=_("年度不能晚于 %(limit_value)s 年。")))
        self.fields["year"].widget.attrs.update({"min": reviews.FIRST_YEAR, "max": this_year})
        self.fields["year"].initial = this_year - 1 if timezone.localdate().month <= 6 else this_year


class ReportForm(StyledForm):
    report = forms.CharField(label=_("述职报告"), max_length=reviews.REPORT_MAX, required=False,
                             widget=forms.Textarea(attrs={"rows": 18}),
                             help_text=_("写履行抓基层党建第一责任人职责的情况、存在问题和下一步打算。"
                                         "各项数据由平台根据业务记录自动生成，附在报告之后，无需在报告中填报。"),
                             error_messages=TEXT_ERRORS)


class ScoreForm(StyledForm):
    score = forms.DecimalField(label=_("评分（0–100）"), min_value=0, max_value=100, max_digits=5, decimal_places=2,
                               error_messages={"required": _("请填写评分。"), "invalid": _("评分应为数字，如 86 或 88.5。"),
                                               "min_value": _("评分应在 0 到 100 之间。"),
                                               "max_value": _("评分应在 0 到 100 之间。"),
                                               "max_decimal_places": _("评分最多保留两位小数。"),
                                               "max_digits": _("评分应在 0 到 100 之间。")})
    comment = forms.CharField(label=_("评议意见"), max_length=reviews.COMMENT_MAX, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}), error_messages=TEXT_ERRORS)


class ReviewFilterForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=reviews.FIRST_YEAR, max_value=2099)
    status = forms.ChoiceField(required=False, choices=[("", "")] + list(ReviewStatus.choices))
