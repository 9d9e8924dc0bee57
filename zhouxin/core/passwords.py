"""Password validators configured from the policy store (key "core.password")."""

from __future__ import annotations

import string

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import policy

CLASSES = (
    (string.ascii_lowercase, "小写字母"),
    (string.ascii_uppercase, "大写字母"),
    (string.digits, "数字"),
)


def character_classes(password: str) -> int:
    count = sum(1 for chars, _label in CLASSES if any(c in chars for c in password))
    if any(not c.isalnum() for c in password):
        count += 1
    return count


class ComplexityValidator:
    """Minimum length and number of character classes (lower, upper, digit, symbol)."""

    def validate(self, password, user=None):
        rule = policy.get("core.password")
        errors = []
        if len(password) < int(rule["min_length"]):
            errors.append(ValidationError(_("密码至少需要 %(n)d 位。") % {"n": int(rule["min_length"])},
                                          code="password_too_short"))
        if character_classes(password) < int(rule["min_classes"]):
            errors.append(ValidationError(
                _("密码需包含大写字母、小写字母、数字、符号中的至少 %(n)d 类。") % {"n": int(rule["min_classes"])},
                code="password_too_simple"))
        if errors:
            raise ValidationError(errors)

    def get_help_text(self):
        rule = policy.get("core.password")
        return _("至少 %(len)d 位，包含大写字母、小写字母、数字、符号中的至少 %(cls)d 类。") % {
            "len": int(rule["min_length"]), "cls": int(rule["min_classes"])}


class HistoryValidator:
    """A new password may not repeat one of the last N."""

    def validate(self, password, user=None):
        if user is None or not getattr(user, "pk", None):
            return
        rule = policy.get("core.password")
        recent = [user.password, *(user.password_history or [])][: int(rule["history"])]
        if any(encoded and check_password(password, encoded) for encoded in recent):
            raise ValidationError(_("新密码不能与最近 %(n)d 次使用过的密码相同。") % {"n": int(rule["history"])},
                                  code="password_reused")

    def get_help_text(self):
        return _("不能与最近使用过的密码相同。")
