from django import forms
from django.utils.translation import gettext_lazy as _

from zhouxin.orgs.models import Area, Organisation, Person

from .choices import ActionStatus, AgendaStatus, ConferenceKind, MeetingKind, PartTimeRole

DATE = forms.DateInput(attrs={"type": "date"})


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates can render {{ field }} as is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)


def _req(label):
    return {"required": _("请填写%(label)s。") % {"label": label}, "invalid": _("%(label)s格式不正确。") % {"label": label}}


class ConferenceForm(StyledForm):
    area = forms.ModelChoiceField(label=_("所在街道或社区"), queryset=Area.objects.unscoped().none(), empty_label=None,
                                  error_messages={"invalid_choice": _("只能在您负责的街道或社区设立。")})
    kind = forms.ChoiceField(label=_("类型"), choices=ConferenceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100, error_messages=_req(_("名称")))
    established_on = forms.DateField(label=_("成立日期"), widget=DATE, error_messages=_req(_("成立日期")))
    convenor = forms.CharField(label=_("召集人"), max_length=64, error_messages=_req(_("召集人")),
                               help_text=_("书记或召集人的姓名与职务"))

    def __init__(self, *args, areas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas


class MembershipForm(StyledForm):
    organisation = forms.ModelChoiceField(label=_("成员单位"), queryset=Organisation.objects.unscoped().none(),
                                          error_messages={"required": _("请选择单位。"),
                                                          "invalid_choice": _("只能选择本区的在用单位。")})
    joined_on = forms.DateField(label=_("加入日期"), widget=DATE, error_messages=_req(_("加入日期")))

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class MembershipEndForm(StyledForm):
    left_on = forms.DateField(label=_("退出日期"), widget=DATE, error_messages=_req(_("退出日期")))


class PartTimeForm(StyledForm):
    person = forms.ModelChoiceField(label=_("人员"), queryset=Person.objects.unscoped().none(),
                                    error_messages={"required": _("请选择人员。"),
                                                    "invalid_choice": _("只能选择成员单位的在册人员。")})
    role = forms.ChoiceField(label=_("职务"), choices=PartTimeRole.choices)
    term_start = forms.DateField(label=_("任期开始"), widget=DATE, error_messages=_req(_("任期开始")))
    term_end = forms.DateField(label=_("任期结束"), widget=DATE, error_messages=_req(_("任期结束")))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["person"].label_from_instance = lambda p: f"{p.name}（{p.work_unit.name if p.work_unit else ''}）"


class MeetingForm(StyledForm):
    kind = forms.ChoiceField(label=_("会议类型"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("会议名称"), max_length=100, error_messages=_req(_("会议名称")))
    held_on = forms.DateField(label=_("会议日期"), widget=DATE, error_messages=_req(_("会议日期")))
    place = forms.CharField(label=_("地点"), max_length=100, error_messages=_req(_("地点")))


class AgendaForm(StyledForm):
    proposer = forms.ModelChoiceField(label=_("提议单位"), queryset=Organisation.objects.unscoped().none(),
                                      empty_label=None,
                                      error_messages={"invalid_choice": _("只有本联席会议的成员单位可以提出议题。")})
    title = forms.CharField(label=_("议题"), max_length=100, error_messages=_req(_("议题")))
    description = forms.CharField(label=_("说明"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, proposers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposer"].queryset = proposers


class AgendaDecideForm(StyledForm):
    status = forms.ChoiceField(choices=[(AgendaStatus.ACCEPTED, AgendaStatus.ACCEPTED.label),
                                        (AgendaStatus.DEFERRED, AgendaStatus.DEFERRED.label)],
                               error_messages={"invalid_choice": _("请选择采纳或暂缓。")})


class MinutesForm(StyledForm):
    text = forms.CharField(label=_("会议纪要"), max_length=20000, widget=forms.Textarea(attrs={"rows": 10}),
                           error_messages={"required": _("请填写会议纪要。"),
                                           "max_length": _("会议纪要不能超过 %(limit_value)d 个字。")})


class DecisionForm(StyledForm):
    text = forms.CharField(label=_("决议内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages=_req(_("决议内容")))
    owner = forms.ModelChoiceField(label=_("责任单位"), queryset=Organisation.objects.unscoped().none(),
                                   error_messages={"required": _("请选择责任单位。"),
                                                   "invalid_choice": _("责任单位须是本联席会议的成员单位。")})
    action_title = forms.CharField(label=_("督办事项"), max_length=200, error_messages=_req(_("督办事项")))
    due_on = forms.DateField(label=_("完成期限"), required=False, widget=DATE,
                             error_messages={"invalid": _("完成期限格式不正确。")})
    due_in_working_days = forms.IntegerField(label=_("或：几个工作日内完成"), required=False, min_value=1,
                                             max_value=250,
                                             error_messages={"min_value": _("工作日数须在 1 到 250 之间。"),
                                                             "max_value": _("工作日数须在 1 到 250 之间。"),
                                                             "invalid": _("工作日数须是整数。")})

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("due_on") is None and data.get("due_in_working_days") is None:
            raise forms.ValidationError(_("请填写完成期限（日期或工作日数）。"))
        return data


class ProgressForm(StyledForm):
    text = forms.CharField(label=_("进展情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages=_req(_("进展情况")))
    status = forms.ChoiceField(label=_("状态"), choices=ActionStatus.choices,
                               error_messages={"invalid_choice": _("请选择有效的状态。")})
