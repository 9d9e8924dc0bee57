"""Forms of the moderation pages; the services validate again and have the last word."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import LexiconCategory, LexiconKind
from .services import DECISION_NOTE_MAX, NOTE_MAX, TERM_MAX


class TermForm(forms.Form):
    term = forms.CharField(label=_("词条"), max_length=TERM_MAX,
                           error_messages={"required": _("请填写词条。"),
                                           "max_length": _("词条不能超过 100 个字。")})
    category = forms.ChoiceField(label=_("类别"), choices=LexiconCategory.choices,
                                 error_messages={"required": _("请选择类别。"), "invalid_choice": _("请选择类别。")})
    kind = forms.ChoiceField(label=_("类型"), choices=LexiconKind.choices, initial=LexiconKind.KEYWORD,
                             error_messages={"required": _("请选择类型：关键词或域名。"),
                                             "invalid_choice": _("请选择类型：关键词或域名。")})
    note = forms.CharField(label=_("备注"), max_length=NOTE_MAX, required=False,
                           error_messages={"max_length": _("备注不能超过 200 个字。")})


class ImportForm(forms.Form):
    text = forms.CharField(label=_("词条（每行一个）"), widget=forms.Textarea(attrs={"rows": 12}), max_length=100_000,
                           error_messages={"required": _("请每行填写一个词条。"),
                                           "max_length": _("内容太长，请分批导入。")})
    category = TermForm.base_fields["category"]
    kind = TermForm.base_fields["kind"]
    note = TermForm.base_fields["note"]


class ScreenTestForm(forms.Form):
    text = forms.CharField(label=_("待检测文本"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20_000,
                           error_messages={"required": _("请填写要检测的文本。"),
                                           "max_length": _("文本太长，请不超过 20000 字。")})


class ReleaseForm(forms.Form):
    note = forms.CharField(label=_("审核意见"), max_length=DECISION_NOTE_MAX, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"max_length": _("审核意见不能超过 300 个字。")})


class RejectForm(forms.Form):
    note = forms.CharField(label=_("理由"), max_length=DECISION_NOTE_MAX, min_length=2,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _("请填写理由。"),
                                           "min_length": _("理由至少写 2 个字。"),
                                           "max_length": _("理由不能超过 300 个字。")})
