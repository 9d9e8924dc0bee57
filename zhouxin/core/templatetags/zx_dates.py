"""Dates in the reader's language: `{{ day|ldate:"n月j日" }}`.

Templates write the Chinese date format they want; the format itself is a message (context
"date format"), so the English catalogue gives "j M" for "n月j日" and an English page shows
"27 Nov" where a Chinese one shows "11月27日".  Loaded as a template builtin (settings.TEMPLATES).
"""

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils.translation import pgettext, pgettext_lazy

register = template.Library()

# The formats the templates use, here so that makemessages finds them (add a new one here too).
FORMATS = (
    pgettext_lazy("date format", "Y年n月j日"),
    pgettext_lazy("date format", "Y年n月"),
    pgettext_lazy("date format", "n月j日"),
    pgettext_lazy("date format", "n月j日 l"),
    pgettext_lazy("date format", "m月d日 H:i"),
)


@register.filter(expects_localtime=True, is_safe=False)
def ldate(value, chinese_format: str):
    """Format `value` with `chinese_format` translated for the active language."""
    return date_filter(value, pgettext("date format", chinese_format))
