"""Money in the funds pages, shown one way everywhere: "¥12,345.00".

    {% load funds_money %}{{ fund.balance|yuan }}  {{ entry.amount|yuan_signed }}
"""

from django import template

from zhouxin.funds.funds import money
from zhouxin.funds.funds import yuan as _yuan

register = template.Library()


@register.filter
def yuan(value) -> str:
    """¥12,345.00 (negative: -¥12,345.00; nothing: —)."""
    if value in (None, ""):
        return "—"
    return _yuan(value)


@register.filter
def yuan_signed(value) -> str:
    """A ledger amount with its sign: +¥200,000.00 in, -¥3,000.00 out."""
    if value in (None, ""):
        return "—"
    return ("+" if money(value) > 0 else "") + _yuan(value)
