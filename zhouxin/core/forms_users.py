"""Forms of the user and grant administration (系统管理员)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .models import User


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("用户名"), max_length=150, regex=r"^[\w.@+-]+$",
        error_messages={"required": _("请填写用户名。"),
                        "invalid": _("用户名只能包含字母、数字和 @ . + - _ 字符。")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    full_name = forms.CharField(
        label=_("姓名"), max_length=64, error_messages={"required": _("请填写姓名。")},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    password1 = forms.CharField(
        label=_("初始密码"), strip=False, max_length=128, error_messages={"required": _("请设置初始密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入初始密码"), strip=False, max_length=128,
        error_messages={"required": _("请再次输入初始密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = " ".join(password_validators_help_texts())

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                validate_password(p1, User(username=cleaned.get("username") or "",
                                           full_name=cleaned.get("full_name") or ""))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class GrantForm(forms.Form):
    role = forms.ChoiceField(
        label=_("角色"), choices=[("", _("请选择角色")), *Role.choices],
        error_messages={"required": _("请选择角色。"), "invalid_choice": _("未知的角色。")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    area_code = forms.RegexField(
        label=_("区域节点（区划代码）"), regex=r"^[0-9]{2,15}$", max_length=15,
        error_messages={"required": _("请填写区划代码。"), "invalid": _("区划代码为 2 到 15 位数字。")},
        widget=forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric", "autocomplete": "off"}),
    )
    organisation = forms.TypedChoiceField(
        label=_("所属组织"), required=False, coerce=int, empty_value=None,
        error_messages={"invalid_choice": _("所选组织不在该区域节点上。")},
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", _("（无）")), *[(o.pk, o.name) for o in organisations]]
