"""Validation of personal identifiers: citizen ID numbers (GB 11643-1999) and mainland mobile numbers.

Each validator returns the normalised value or raises ValidationError with a
message a clerk can act on.  Services call them before anything is stored or
indexed, so the blind index is always taken over the normalised form.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# GB 11643-1999 §5.2: weights 2^(17-i) mod 11 for the first 17 digits, and the
# check character indexed by the weighted sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)

_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Mainland mobile numbers: 11 digits, 1 then 3–9 (GSM/CDMA/virtual operators' segments).
_MOBILE_SHAPE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


def id_check_char(first17: str) -> str:
    """The check character (0–9 or X) for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def normalise_id_number(value: str) -> str:
    """Strip surrounding blanks and upper-case a trailing x; nothing else is changed."""
    return (value or "").strip().upper()


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """Validate a citizen ID number; return it normalised (upper-case X).

    18 characters: 6-digit area code, 8-digit date of birth (YYYYMMDD, a real date
    between 1900-01-01 and today), 3-digit sequence and the GB 11643 check character.
    """
    number = normalise_id_number(value)
    if not number:
        raise ValidationError(_("请填写身份证号。"), code="id_number_required")
    if len(number) != 18:
        raise ValidationError(_("身份证号应为 18 位，您填写了 %(n)d 位。") % {"n": len(number)},
                              code="id_number_length")
    if not _ID_SHAPE.match(number):
        raise ValidationError(_("身份证号前 17 位必须是数字，最后一位是数字或 X。"), code="id_number_chars")
    birth_text = number[6:14]
    try:
        birth = dt.date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期 %(d)s 不是有效日期。") % {"d": birth_text},
                              code="id_number_birth_date") from None
    today = today or timezone.localdate()
    if not EARLIEST_BIRTH <= birth <= today:
        raise ValidationError(_("身份证号中的出生日期 %(d)s 不在合理范围内。") % {"d": birth_text},
                              code="id_number_birth_date")
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(_("身份证号校验位不正确，请核对后重新填写。"), code="id_number_checksum")
    return number


def is_valid_id_number(value: str) -> bool:
    try:
        validate_id_number(value)
    except ValidationError:
        return False
    return True


def birth_date_of(id_number: str) -> dt.date:
    """Date of birth encoded in a (valid) ID number."""
    text = id_number[6:14]
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def normalise_phone(value: str) -> str:
    """Drop blanks, hyphens and brackets and a leading +86 / 0086 / 86 country code."""
    phone = _PHONE_SEPARATORS.sub("", value or "")
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            return phone[len(prefix):]
    if len(phone) == 13 and phone.startswith("86"):
        return phone[2:]
    return phone


def validate_mobile_phone(value: str) -> str:
    """Validate a mainland mobile number; return its 11 digits."""
    phone = normalise_phone(value)
    if not phone:
        raise ValidationError(_("请填写手机号。"), code="phone_required")
    if not phone.isascii() or not phone.isdigit():
        raise ValidationError(_("手机号只能包含数字。"), code="phone_chars")
    if len(phone) != 11:
        raise ValidationError(_("手机号应为 11 位，您填写了 %(n)d 位。") % {"n": len(phone)}, code="phone_length")
    if not _MOBILE_SHAPE.match(phone):
        raise ValidationError(_("手机号应以 13 至 19 开头，请核对后重新填写。"), code="phone_prefix")
    return phone


def is_valid_mobile_phone(value: str) -> bool:
    try:
        validate_mobile_phone(value)
    except ValidationError:
        return False
    return True
