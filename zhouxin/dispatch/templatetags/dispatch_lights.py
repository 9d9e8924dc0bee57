"""The traffic light of an SLA clock (sla.sla_progress's `light`) as a badge: {% light_badge light %}.

One mapping for the request page's clocks and the work queue's rows; the queue renders
each of the five badges once per page (work.queue) instead of once per row."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

register = template.Library()

# light → (CSS modifier, label); anything else shows as running normally.
LIGHTS = {
    "red": ("red", _("超时")),
    "yellow": ("yellow", _("预警")),
    "done": ("done", _("按时完成")),
    "stopped": ("done", _("未计时")),
    "green": ("green", _("正常")),
}


@register.simple_tag
def light_badge(light: str) -> str:
    modifier, label = LIGHTS.get(light, LIGHTS["green"])
    return format_html('<span class="zx-light zx-light--{}">{}</span>', modifier, label)
