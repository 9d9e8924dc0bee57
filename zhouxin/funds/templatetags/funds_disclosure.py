"""Showing a disclosure's published content (plain JSON) on a page.

The content is shown as it is stored, even if someone changed it behind the application's back
(the page then says so), so these filters never fail on a value they cannot read: they show
it as it is.

    {% load funds_disclosure %}{{ row.amount|content_yuan }}  {{ content.notice.until|content_date }}
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def content_yuan(value) -> str:
    """"12345.00" → "¥12,345.00"; anything else as it is ("—" for nothing)."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def content_date(value) -> str:
    """"2026-03-31" → "2026年3月31日"; anything else as it is."""
    if not value:
        return "—"
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日"


@register.filter
def fingerprint_groups(value) -> str:
    """A 64-character fingerprint in groups of eight, easier to compare with the paper notice."""
    text = str(value or "")
    return " ".join(text[i:i + 8] for i in range(0, len(text), 8))
