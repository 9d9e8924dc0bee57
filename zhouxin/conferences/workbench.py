"""The conferences panel of the staff workbench: overdue action items reported to the
caller's street (registered in ConferencesConfig.ready())."""

from __future__ import annotations

from .choices import ActionStatus
from .models import ActionItem


def workbench_panel(request) -> dict | None:
    items = list(ActionItem.objects.filter(status=ActionStatus.OVERDUE, escalated_at__isnull=False)
                 .select_related("owner", "decision__meeting__conference").order_by("due_on", "pk")[:10])
    if not items:
        return None
    return {"items": items}
