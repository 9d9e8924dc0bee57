"""Forms of the token management pages (系统管理员)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .services import NAME_MAX


class TokenCreateForm(forms.Form):
    user = forms.TypedChoiceField(
        label=_("令牌代表的用户"), coerce=int,
        help_text=_("令牌的权限与该用户完全相同，只能看到和办理该用户职责范围内的数据。"),
        error_messages={"required": _("请选择令牌代表的用户。"),
                        "invalid_choice": _("请从列表中选择令牌代表的用户。")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        label=_("接入系统名称"), max_length=NAME_MAX,
        help_text=_("例如“12345 热线平台”，便于日后识别和吊销。"),
        error_messages={"required": _("请填写接入系统名称。"),
                        "max_length": _("接入系统名称不能超过 %(limit_value)d 个字。")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", _("请选择用户")), *(
            (u.pk, f"{u.display_name}（{u.username}）") for u in users)]
