"""Forms of the sign-in flow: password, TOTP code, password change."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.utils.translation import gettext_lazy as _

_TOKEN = re.compile(r"^[0-9]{6}$")


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"), max_length=150, strip=True,
        error_messages={"required": _("请输入用户名。")},
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "username", "autofocus": True,
                                      "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("密码"), max_length=128, strip=False,
        error_messages={"required": _("请输入密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "current-password"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("验证码"), max_length=16,
        error_messages={"required": _("请输入身份验证器上显示的 6 位验证码。")},
        widget=forms.TextInput(attrs={"class": "form-control form-control-lg", "autocomplete": "one-time-code",
                                      "inputmode": "numeric", "autofocus": True, "maxlength": "7"}),
    )

    def clean_token(self):
        token = re.sub(r"\s+", "", self.cleaned_data["token"])
        if not _TOKEN.match(token):
            raise forms.ValidationError(_("验证码为 6 位数字。"))
        return token


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"), strip=False, max_length=128,
        error_messages={"required": _("请输入当前密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("新密码"), strip=False, max_length=128,
        error_messages={"required": _("请输入新密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("再次输入新密码"), strip=False, max_length=128,
        error_messages={"required": _("请再次输入新密码。")},
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())

    def clean_old_password(self):
        old = self.cleaned_data["old_password"]
        if not self.user.check_password(old):
            raise forms.ValidationError(_("当前密码不正确。"))
        return old

    def clean(self):
        cleaned = super().clean()
        new1, new2 = cleaned.get("new_password1"), cleaned.get("new_password2")
        if new1 and new2 and new1 != new2:
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        elif new1:
            try:
                validate_password(new1, self.user)
            except forms.ValidationError as error:
                self.add_error("new_password1", error)
        return cleaned
