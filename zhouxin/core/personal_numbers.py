"""Finding personal numbers in free text that is going to be public: a mainland mobile number
and an 18-digit resident ID number (PIPL: a page anyone can open must not show them).

Used where staff or residents type text that the public will read (funds disclosures, a
project's rating comments, a wish's thanks message).  Residents' requests legitimately hold
phone numbers and are never public, so this is not part of the spam screen.
"""

from __future__ import annotations

import re
import unicodedata

# A mobile number (11 digits from 13…19) and an 18-digit ID number, each not part of a longer run
# of digits (plan numbers, area codes and amounts are longer or shorter).
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER_RE = re.compile(r"(?<![\dXx])\d{17}[\dXx](?![\dA-Za-z])")
# "138 1234 5678", "138-1234-5678", full-width digits: normalised and joined before looking.
_DIGIT_GAPS = re.compile(r"(?<=\d)[\s\-‐-―－]+(?=\d)")


def _flat(text: str) -> str:
    return _DIGIT_GAPS.sub("", unicodedata.normalize("NFKC", text))


def has_mobile(text: str) -> bool:
    return bool(MOBILE_RE.search(_flat(text)))


def has_id_number(text: str) -> bool:
    return bool(ID_NUMBER_RE.search(_flat(text)))


def public_text_problem(text: str) -> str | None:
    """A message for a resident whose public text holds a phone or ID number, else None."""
    from django.utils.translation import gettext as _

    if has_mobile(text):
        return _("内容中含有疑似手机号码。为保护个人信息，公开的内容不能包含手机号码，请删去后再提交。")
    if has_id_number(text):
        return _("内容中含有疑似身份证号码。为保护个人信息，公开的内容不能包含身份证号码，请删去后再提交。")
    return None
