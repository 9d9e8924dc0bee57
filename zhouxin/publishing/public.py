"""The notices section of a community's public page (core.public_sections) and the public
reads: published notices only (never a draft, a withheld or a taken-down one)."""

from __future__ import annotations

from django.db.models import Q

from zhouxin.orgs.choices import AreaLevel

from .choices import NoticeStatus
from .models import Notice

SECTION_LATEST = 5


def public_notices(area):
    """Published notices shown for `area`: a community shows its own and its street's."""
    query = Q(area_id=area.pk)
    if area.level == AreaLevel.COMMUNITY and area.parent_id:
        query |= Q(area_id=area.parent_id)
    return (Notice.objects.unscoped().filter(query, status=NoticeStatus.PUBLISHED)
            .select_related("area").order_by("-published_at", "-id"))


def latest_notices(area) -> dict | None:
    if area.level != AreaLevel.COMMUNITY:
        return None
    notices = list(public_notices(area)[:SECTION_LATEST])
    return {"notices": notices, "community": area}
