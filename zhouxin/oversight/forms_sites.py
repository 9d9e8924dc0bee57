"""Forms of the demonstration-site and case-library pages (sites.py holds the rules).

The nomination form has no field for what the platform answers itself (the star rating, the
satisfaction rate, the secretary post): only free-text evidence for the criteria it cannot know."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django import forms
from django.core.validators import MaxValueValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhouxin.orgs.models import Organisation

from . import sites
from .choices import CaseStatus, SiteKind, SiteStatus
from .forms_reviews import AreaChoiceField, StyledForm
from .models import CaseFile, DemoSite

TEXT_ERRORS = {"max_length": _("不能超过 %(limit_value)d 个字。")}
UPLOAD_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


def _year_field(label):
    return forms.IntegerField(label=label, min_value=sites.FIRST_YEAR,
                              error_messages={"required": _("请填写年度。"), "invalid": _("请填写年度，如 2025。"),
                                              "min_value": _("年度应不早于 %(limit_value)s 年。")})


class OrganisationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, org):
        return _("%(name)s（%(area)s）") % {"name": org.name, "area": org.area.name}


class NominateForm(StyledForm):
    area = AreaChoiceField(label=_("推荐区域"), queryset=sites.Area.objects.unscoped().none(), to_field_name="code",
                           empty_label=None,
                           error_messages={"required": _("请选择街道或社区。"),
                                           "invalid_choice": _("请选择您所在的街道或社区。")})
    kind = forms.ChoiceField(label=_("类别"), choices=SiteKind.choices,
                             error_messages={"required": _("请选择示范点类别。"), "invalid_choice": _("请选择示范点类别。")})
    organisation = OrganisationChoiceField(label=_("单位"), queryset=Organisation.objects.unscoped().none(),
                                           required=False, help_text=_("推荐共建示范单位时必选。"),
                                           error_messages={"invalid_choice": _("请选择本区域内的单位。")})
    year = _year_field(_("年度"))
    title = forms.CharField(label=_("示范点名称"), max_length=sites.TITLE_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写名称。")})
    reason = forms.CharField(label=_("推荐理由"), max_length=sites.REASON_MAX, widget=forms.Textarea(attrs={"rows": 6}),
                             error_messages={**TEXT_ERRORS, "required": _("请填写推荐理由。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = sites.areas_for(user, "oversight.site.nominate", sites.NOMINATED_LEVELS)
        self.fields["area"].queryset = areas.select_related("parent")
        prefixes = [a.code for a in areas if a.level == "street"] or [a.code for a in areas]
        query = reduce(or_, (Q(area__code__startswith=p) for p in prefixes)) if prefixes else None
        self.fields["organisation"].queryset = (
            Organisation.objects.unscoped().filter(query).select_related("area").order_by("area__code", "name")
            if query is not None else Organisation.objects.unscoped().none())
        this_year = timezone.localdate().year
        self.fields["year"].validators.append(MaxValueValidator(this_year, message=_("年度不能晚于 %(limit_value)s 年。")))
        self.fields["year"].initial = this_year
        for criterion in sites.MANUAL_CRITERIA:
            self.fields[f"evidence_{criterion.key}"] = forms.CharField(
                label=criterion.text, required=False, max_length=sites.EVIDENCE_TEXT_MAX,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
                help_text=_("平台无法核验的条件，请说明情况和佐证。"), error_messages=TEXT_ERRORS)

    def evidence_fields(self):
        return [self[f"evidence_{c.key}"] for c in sites.MANUAL_CRITERIA]

    def main_fields(self):
        return [self[name] for name in ("area", "kind", "organisation", "year", "title", "reason")]

    def evidence(self) -> dict[str, str]:
        return {c.key: self.cleaned_data.get(f"evidence_{c.key}", "") for c in sites.MANUAL_CRITERIA}


class DecideForm(StyledForm):
    decision = forms.ChoiceField(label=_("审定结果"), choices=[("approve", _("命名为示范点")), ("reject", _("不予命名"))],
                                 widget=forms.RadioSelect,
                                 error_messages={"required": _("请选择审定结果。"), "invalid_choice": _("请选择审定结果。")})
    note = forms.CharField(label=_("审定意见"), max_length=sites.NOTE_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}), help_text=_("不予命名，或平台核验有未达标条件时必填。"),
                           error_messages=TEXT_ERRORS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget.attrs["class"] = "form-check-input"


class RevokeForm(StyledForm):
    reason = forms.CharField(label=_("撤销原因"), max_length=sites.NOTE_MAX - 5, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={**TEXT_ERRORS, "required": _("请填写撤销原因。")})


class SiteFilterForm(forms.Form):
    year = forms.IntegerField(required=False, min_value=sites.FIRST_YEAR, max_value=2099)
    status = forms.ChoiceField(required=False, choices=[("", "")] + list(SiteStatus.choices))
    kind = forms.ChoiceField(required=False, choices=[("", "")] + list(SiteKind.choices))


# --- Cases ----------------------------------------------------------------------------------------------

class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (at most sites.MAX_FILES_PER_UPLOAD; checked by content in sites.py)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": UPLOAD_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else [data]
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        return [item for item in cleaned if item]


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, site):
        return _("%(title)s（%(year)s，%(status)s）") % {"title": site.title, "year": site.year,
                                                       "status": site.get_status_display()}


class CaseForm(StyledForm):
    area = AreaChoiceField(label=_("所属区域"), queryset=sites.Area.objects.unscoped().none(), to_field_name="code",
                           empty_label=None,
                           error_messages={"required": _("请选择区域。"), "invalid_choice": _("请选择您所在的区域。")})
    title = forms.CharField(label=_("标题"), max_length=sites.TITLE_MAX,
                            error_messages={**TEXT_ERRORS, "required": _("请填写标题。")})
    summary = forms.CharField(label=pgettext_lazy("case", "摘要"), max_length=sites.SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={**TEXT_ERRORS, "required": _("请填写摘要。")})
    body = forms.CharField(label=_("正文"), max_length=sites.BODY_MAX, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_("可使用段落、小标题、列表、表格等简单格式；样式、脚本和外部图片会被去除。"),
                           error_messages={"max_length": _("正文过长（最多 %(limit_value)d 个字符）。"),
                                           "required": _("请填写正文。")})
    tags = forms.CharField(label=_("标签"), required=False, max_length=400,
                           help_text=_("用逗号或顿号分隔，最多 8 个，如：接诉即办、老旧小区、协商议事。"),
                           error_messages={"max_length": _("标签过长。")})
    evidence = forms.CharField(label=_("佐证链接"), required=False, max_length=6000,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("每行一条，写成“标题 | 本平台页面地址”，如：加装电梯支出计划 | /funds/plans/12/。"
                                           "只能链接本平台的业务记录。"),
                               error_messages={"max_length": _("佐证链接过长。")})
    site = SiteChoiceField(label=_("关联示范点"), queryset=DemoSite.objects.unscoped().none(), required=False,
                           error_messages={"invalid_choice": _("请选择您能看到的示范点。")})
    upload = MultipleFileField(label=_("照片或 PDF"), required=False,
                               help_text=_("可多选，一次最多 5 个，每个不超过 10 MB；按文件内容检查，照片会去除拍摄位置等信息。"))

    def __init__(self, *args, user, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is None:
            self.fields["area"].queryset = sites.areas_for(user, "oversight.case.edit", sites.CASE_LEVELS) \
                .select_related("parent")
        else:
            del self.fields["area"]
            files = CaseFile.objects.unscoped().filter(case=case).order_by("uploaded_at", "id")
            if files.exists():
                self.fields["remove_files"] = forms.ModelMultipleChoiceField(
                    label=_("删除附件"), queryset=files, required=False, widget=forms.CheckboxSelectMultiple,
                    error_messages={"invalid_choice": _("请选择本案例的附件。")})
        self.fields["site"].queryset = (sites.sites_visible_to(user)
                                        .exclude(status__in=(SiteStatus.REJECTED, SiteStatus.REVOKED))
                                        .order_by("-year", "title"))
        if case is not None and case.site_id:
            self.fields["site"].queryset = sites.sites_visible_to(user).filter(
                Q(pk=case.site_id) | ~Q(status__in=(SiteStatus.REJECTED, SiteStatus.REVOKED))).order_by("-year", "title")
        if "remove_files" in self.fields:
            self.fields["remove_files"].widget.attrs["class"] = "form-check-input"


class CaseFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=60)
    tag = forms.CharField(required=False, max_length=40)
    status = forms.ChoiceField(required=False, choices=[("", "")] + list(CaseStatus.choices))
