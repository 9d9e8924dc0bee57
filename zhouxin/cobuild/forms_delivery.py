"""Forms of a project's delivery panel (delivery.py): milestones, service records, evidence,
and the reasons asked when a project is completed or cancelled."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .delivery import CAPTION_MAX, GROUP_MAX
from .forms import DATE, StyledForm
from .services import NOTE_MAX, TITLE_MAX

NOTE_ERRORS = {"max_length": _("不能超过 %(limit_value)d 个字。")}
DATE_ERRORS = {"invalid": _("请填写正确的日期。")}


class CompleteForm(StyledForm):
    note = forms.CharField(label=_("结项说明"), max_length=NOTE_MAX, required=False, error_messages=NOTE_ERRORS)


class CancelForm(StyledForm):
    reason = forms.CharField(label=_("取消原因"), max_length=NOTE_MAX,
                             error_messages={**NOTE_ERRORS, "required": _("请填写取消项目的原因。")})


class MilestoneForm(StyledForm):
    title = forms.CharField(label=_("节点名称"), max_length=TITLE_MAX,
                            error_messages={**NOTE_ERRORS, "required": _("请填写节点名称。")})
    due_on = forms.DateField(label=_("计划完成日期"), widget=DATE,
                             error_messages={**DATE_ERRORS, "required": _("请填写计划完成日期。")})
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False, error_messages=NOTE_ERRORS)


class MilestoneDoneForm(StyledForm):
    done_on = forms.DateField(label=_("实际完成日期"), widget=DATE, required=False, error_messages=DATE_ERRORS)
    note = forms.CharField(label=_("说明"), max_length=NOTE_MAX, required=False, error_messages=NOTE_ERRORS)


class RecordForm(StyledForm):
    held_on = forms.DateField(label=_("服务日期"), widget=DATE,
                              error_messages={**DATE_ERRORS, "required": _("请填写服务日期。")})
    title = forms.CharField(label=_("服务内容"), max_length=TITLE_MAX,
                            error_messages={**NOTE_ERRORS, "required": _("请填写服务内容。")})
    beneficiary_group = forms.CharField(label=_("服务对象"), max_length=GROUP_MAX, required=False,
                                        help_text=_("填写群体，如“高龄独居老人”，不要填写居民姓名"),
                                        error_messages=NOTE_ERRORS)
    beneficiaries = forms.IntegerField(label=_("受益人次"), min_value=0, required=False,
                                       error_messages={"invalid": _("请填写整数。"), "min_value": _("人数不能为负数。")})
    volunteers = forms.IntegerField(label=_("参与志愿者人数"), min_value=0, required=False,
                                    error_messages={"invalid": _("请填写整数。"), "min_value": _("人数不能为负数。")})
    volunteer_hours = forms.DecimalField(label=_("志愿服务时长（小时）"), min_value=0, max_digits=8, decimal_places=1,
                                         required=False,
                                         error_messages={"invalid": _("服务时长应为数字（小时）。"),
                                                         "min_value": _("服务时长不能为负数。"),
                                                         "max_digits": _("服务时长过大，请核对。"),
                                                         "max_decimal_places": _("服务时长最多保留一位小数。")})
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX, required=False, error_messages=NOTE_ERRORS)

    def clean(self):
        data = super().clean()
        for field in ("beneficiaries", "volunteers"):
            if data.get(field) is None and field not in self.errors:
                data[field] = 0
        if data.get("volunteer_hours") is None and "volunteer_hours" not in self.errors:
            data["volunteer_hours"] = 0
        return data


class EvidenceForm(StyledForm):
    upload = forms.FileField(label=_("照片或 PDF 文件"), error_messages={"required": _("请选择要上传的照片或 PDF 文件。"),
                                                                    "empty": _("所选文件是空文件。")},
                             widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,"
                                                                              "application/pdf"}))
    caption = forms.CharField(label=_("说明"), max_length=CAPTION_MAX, required=False, error_messages=NOTE_ERRORS)
    milestone = forms.TypedChoiceField(label=_("对应节点"), required=False, coerce=int, empty_value=None,
                                       error_messages={"invalid_choice": _("请选择这个项目的节点。")})
    record = forms.TypedChoiceField(label=_("对应服务记录"), required=False, coerce=int, empty_value=None,
                                    error_messages={"invalid_choice": _("请选择这个项目的服务记录。")})

    def __init__(self, *args, milestones=(), records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [("", _("（不指定）")), *((m.pk, m.title) for m in milestones)]
        self.fields["record"].choices = [("", _("（不指定）")),
                                         *((r.pk, f"{r.held_on:%Y-%m-%d} {r.title}") for r in records)]
