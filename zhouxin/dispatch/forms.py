"""Forms of the staff work pages: intake, queue filters, bulk actions and the request actions.

Forms validate what a clerk typed and say what is wrong in Chinese; the rules of the
lifecycle (who may do what, in which status) live in services.py, whose
ValidationError messages the views show next to these forms.
"""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .attachments import MAX_IMAGES
from .choices import Channel, RequestKind, Resolution, Satisfaction, Urgency
from .models import Category

# What a clerk may record by hand; the portal and the API are channels of their own.
STAFF_CHANNELS = [(c.value, c.label) for c in (Channel.HOTLINE, Channel.WALK_IN, Channel.GRID)]
INTAKE_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID)
_KEY = re.compile(r"^[0-9a-f]{32}$")


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Up to MAX_IMAGES files from one <input type=file multiple>; the intake service checks
    each one's content (a real JPEG/PNG/WebP) and size."""

    widget = MultipleImageInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_IMAGES:
            raise forms.ValidationError(_("最多上传 %(n)d 张图片。") % {"n": MAX_IMAGES})
        return [super(MultipleImageField, self).clean(f, initial) for f in files]


def area_label(area: Area) -> str:
    return area.name


class CategoryLeafField(forms.ModelChoiceField):
    """A leaf of the catalogue, by id; only active leaves can be chosen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Category.objects.filter(level=3, is_active=True))
        kwargs.setdefault("error_messages", {"invalid_choice": _("请从目录中选择一个具体的（第三级）类别。")})
        super().__init__(**kwargs)


class IntakeForm(forms.Form):
    """A request recorded by staff: a hotline call, a visitor, or a grid patrol finding."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=32)
    channel = forms.ChoiceField(label=_("来源渠道"), choices=STAFF_CHANNELS, widget=forms.RadioSelect,
                                error_messages={"required": _("请选择来源渠道。"),
                                                "invalid_choice": _("请选择来源渠道。")})
    kind = forms.ChoiceField(label=_("诉求类型"), choices=RequestKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": _("请选择诉求类型。"),
                                             "invalid_choice": _("请选择诉求类型。")})
    area = forms.CharField(label=_("发生地（社区或网格）"), max_length=15,
                           error_messages={"required": _("请选择发生地所在的社区或网格。")})
    title = forms.CharField(label=_("标题"), max_length=120,
                            error_messages={"required": _("请填写标题。"),
                                            "max_length": _("标题不能超过 120 个字。")})
    description = forms.CharField(label=_("诉求内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
                                  error_messages={"required": _("请填写诉求内容。"),
                                                  "max_length": _("诉求内容不能超过 4000 个字。")})
    category = CategoryLeafField(label=_("诉求类别"), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL,
                                widget=forms.RadioSelect,
                                error_messages={"invalid_choice": _("请选择紧急程度。")})
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False,
                              error_messages={"max_length": _("地址不能超过 200 个字。")})
    contact_name = forms.CharField(label=_("联系人"), max_length=64, required=False,
                                   error_messages={"max_length": _("联系人姓名不能超过 64 个字。")})
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False,
                                    error_messages={"max_length": _("联系电话不能超过 20 位。")})
    images = MultipleImageField(label=_("现场图片"), required=False)

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The areas the clerk may record for (scoped communities and grids), by code.
        self.areas = {a.code: a for a in (areas or [])}

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"].strip().lower()
        if not _KEY.match(key):
            raise forms.ValidationError(_("表单已失效，请刷新页面后重新填写。"))
        return key

    def clean_area(self):
        area = self.areas.get(self.cleaned_data["area"].strip())
        if area is None:
            raise forms.ValidationError(_("请选择您管辖范围内的社区或网格。"))
        return area

    def clean_title(self):
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("请填写标题。"))
        return title

    def clean_description(self):
        text = self.cleaned_data["description"].strip()
        if len(text) < 5:
            raise forms.ValidationError(_("诉求内容太短，请至少写 5 个字，说清楚发生了什么。"))
        return text



class SuggestForm(forms.Form):
    description = forms.CharField(required=False, max_length=4000)
    title = forms.CharField(required=False, max_length=120)


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("关键词"), required=False, max_length=40)
    kind = forms.ChoiceField(label=_("诉求类型"), required=False, choices=[("", _("全部类型")), *RequestKind.choices])
    channel = forms.ChoiceField(label=_("渠道"), required=False, choices=[("", _("全部渠道")), *Channel.choices])
    category = forms.RegexField(label=_("类别"), required=False, regex=r"^[0-9A-Za-z]{1,12}$",
                                error_messages={"invalid": _("类别编码无效。")})
    area = forms.RegexField(label=_("区域"), required=False, regex=r"^[0-9]{2,15}$",
                            error_messages={"invalid": _("区域代码只能由 2 到 15 位数字组成。")})
    date_from = forms.DateField(label=_("受理日期自"), required=False,
                                error_messages={"invalid": _("请填写有效的日期，例如 2026-05-01。")})
    date_to = forms.DateField(label=_("受理日期至"), required=False,
                              error_messages={"invalid": _("请填写有效的日期，例如 2026-05-31。")})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
            cleaned["date_to"] = None
        return cleaned


# --- request actions ----------------------------------------------------------------

class DispatchForm(forms.Form):
    lead = forms.TypedChoiceField(label=_("主办单位"), coerce=int,
                                  error_messages={"required": _("请选择主办单位。"),
                                                  "invalid_choice": _("请从列表中选择主办单位。")})
    co_handlers = forms.TypedMultipleChoiceField(label=_("协办单位"), coerce=int, required=False,
                                                 widget=forms.CheckboxSelectMultiple,
                                                 error_messages={"invalid_choice": _("请从列表中选择协办单位。")})

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(org.pk, org.name) for org in targets]
        self.fields["lead"].choices = [("", _("请选择")), *choices]
        self.fields["co_handlers"].choices = choices
        self.targets = {org.pk: org for org in targets}

    def clean(self):
        cleaned = super().clean()
        lead = cleaned.get("lead")
        co = [pk for pk in cleaned.get("co_handlers") or [] if pk != lead]
        cleaned["lead_org"] = self.targets.get(lead)
        cleaned["co_orgs"] = [self.targets[pk] for pk in co]
        return cleaned


class CategoriseForm(forms.Form):
    category = CategoryLeafField(label=_("诉求类别"), error_messages={
        "required": _("请选择类别。"), "invalid_choice": _("请从目录中选择一个具体的（第三级）类别。")})


def _reason(label, required_message, max_length=300):
    return forms.CharField(label=label, max_length=max_length, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": required_message,
                                           "max_length": _("不能超过 %(n)d 个字。") % {"n": max_length}})


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("说明不能超过 500 个字。")})


class ReturnForm(forms.Form):
    reason = _reason(_("退单理由"), _("请填写退单理由。"))


class ReasonForm(forms.Form):
    reason = _reason(_("理由"), _("请填写理由。"))


class ExtensionForm(forms.Form):
    working_days = forms.IntegerField(label=_("延长工作日"), min_value=1, max_value=30,
                                      error_messages={"required": _("请填写延长几个工作日。"),
                                                      "invalid": _("延长天数必须是整数。"),
                                                      "min_value": _("至少延长 1 个工作日。"),
                                                      "max_value": _("一次最多延长 30 个工作日。")})
    reason = _reason(_("延期理由"), _("请填写延期理由。"))


class ExtensionDecideForm(forms.Form):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("refuse", _("不批准"))],
                                 error_messages={"required": _("请选择批准或不批准。"),
                                                 "invalid_choice": _("请选择批准或不批准。")})
    note = forms.CharField(label=_("审批意见"), required=False, max_length=300,
                           error_messages={"max_length": _("审批意见不能超过 300 个字。")})


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("答复内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                            error_messages={"required": _("请填写答复内容。"),
                                            "max_length": _("答复内容不能超过 2000 个字。")})


class CallbackForm(forms.Form):
    resolution = forms.ChoiceField(label=_("解决情况"), choices=Resolution.choices, widget=forms.RadioSelect,
                                   error_messages={"required": _("请选择解决情况。"),
                                                   "invalid_choice": _("请选择解决情况。")})
    satisfaction = forms.ChoiceField(label=_("满意度"), choices=Satisfaction.choices, widget=forms.RadioSelect,
                                     error_messages={"required": _("请选择满意度。"),
                                                     "invalid_choice": _("请选择满意度。")})
    note = forms.CharField(label=_("回访记录"), required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("回访记录不能超过 500 个字。")})


class MergeForm(forms.Form):
    master = forms.CharField(max_length=20, error_messages={"required": _("请选择要并入的工单。")})


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("查看原因"), required=False, max_length=200,
                             error_messages={"max_length": _("查看原因不能超过 200 个字。")})


# --- bulk actions -------------------------------------------------------------------

# The most requests one bulk action takes (a page of the queue at its largest).
BULK_MAX = 100
