"""双报到 and volunteering figures as indicators (core.indicators), computed from the records.

* volunteers.hours: verified service hours of the area's activities in the period (a street: its
  communities' activities).  Each sign-up's verified interval (checked in and out, status
  completed) clipped to its activity's hours, as in hours.py, and to the period; one volunteer's
  overlapping intervals within the area are merged, never counted twice.
* volunteers.members: in-service Party members registered (双报到) with the area's communities on
  the period's last day (today for a period not yet over): a registration confirmed by then,
  valid on that day (valid_until) and not ended by then — a registration ended later still
  counts for the earlier period.
* volunteers.wishes_rate: of the micro-wishes the communities posted (社区下单) in the period, the
  share fulfilled (completed, or completed and thanked).  A wish its orderer withdrew is left
  out; None when no wish was posted.

One grouped query per level of the areas asked about, whatever their number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.orgs.choices import AreaLevel

from . import hours
from .choices import RegistrationStatus, SignUpStatus, WishStatus
from .models import MemberRegistration, SignUp, Wish

DOMAIN = _("双报到")
FULFILLED = (WishStatus.COMPLETED, WishStatus.THANKED)


def service_hours(areas: Sequence, period: Period) -> dict[int, object]:
    start, end = period.bounds()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller (oversight, dashboards) has checked the areas' scope.
        rows = (SignUp.objects.unscoped()
                .filter(activity__community__code__startswith=group.common, status=SignUpStatus.COMPLETED,
                        checked_in_at__isnull=False, checked_out_at__isnull=False,
                        activity__ends_at__gt=start, activity__starts_at__lt=end)
                .annotate(node=Substr("activity__community__code", 1, group.length))
                .values_list("node", "person_id", "account_id", "checked_in_at", "checked_out_at",
                             "activity__starts_at", "activity__ends_at"))
        spans: dict[str, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
        for node, person_id, account_id, checked_in, checked_out, act_start, act_end in rows:
            lo = max(checked_in, act_start, start)
            hi = min(checked_out, act_end, end)
            if hi > lo:
                who = ("person", person_id) if person_id else ("account", account_id)
                spans[node][who].append((lo, hi))
        for code, pk in group.ids.items():
            minutes = sum(hours.merged_minutes(intervals) for intervals in spans.get(code, {}).values())
            out[pk] = hours.to_hours(minutes)
    return out


def registered_members(areas: Sequence, period: Period) -> dict[int, object]:
    day = period.as_of()
    day_end = timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))
    counted = (Q(status__in=(RegistrationStatus.CONFIRMED, RegistrationStatus.ENDED), decided_at__lt=day_end,
                 valid_until__gte=day)
               & (Q(ended_at__isnull=True) | Q(ended_at__gte=day_end)))
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller has checked the areas' scope.
        rows = (MemberRegistration.objects.unscoped()
                .filter(counted, community__code__startswith=group.common)
                .annotate(node=Substr("community__code", 1, group.length)).values("node")
                .annotate(n=Count("person", distinct=True)).order_by())
        found = {row["node"]: row["n"] for row in rows}
        for code, pk in group.ids.items():
            out[pk] = found.get(code, 0)
    return out


def wishes_rates(areas: Sequence, period: Period) -> dict[int, object]:
    start, end = period.bounds()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller has checked the areas' scope.
        rows = (Wish.objects.unscoped()
                .filter(community__code__startswith=group.common, posted_at__gte=start, posted_at__lt=end)
                .exclude(status=WishStatus.WITHDRAWN)
                .annotate(node=Substr("community__code", 1, group.length)).values("node")
                .annotate(posted=Count("pk"), done=Count("pk", filter=Q(status__in=FULFILLED))).order_by())
        for row in rows:
            pk = group.ids.get(row["node"])
            if pk is not None:
                out[pk] = indicators.share(row["done"], row["posted"])
    return out


def activities_link(area, period: Period) -> str | None:
    """The activity list (filtered to the community; a street's staff see their communities')."""
    if area.level == AreaLevel.COMMUNITY:
        return f"{reverse('volunteers:activity_list')}?{urlencode({'community': area.code})}"
    return reverse("volunteers:activity_list")


def registrations_link(area, period: Period) -> str | None:
    query = {"kind": "member", "status": RegistrationStatus.CONFIRMED, "area": area.code}
    return f"{reverse('volunteers:registration_list')}?{urlencode(query)}"


def wishes_link(area, period: Period) -> str | None:
    return reverse("volunteers:wish_board")


def register() -> None:
    common = {"domain": DOMAIN}
    indicators.register("volunteers.hours", title=_("志愿服务时长"), unit=indicators.HOURS,
                        compute=service_hours, link=activities_link, order=40,
                        description=_("统计期内本区域志愿服务活动经签到签退核定的服务时长"), **common)
    indicators.register("volunteers.members", title=_("报到在职党员"), unit=indicators.COUNT,
                        compute=registered_members, link=registrations_link, order=41,
                        description=_("统计期末已确认且在有效期内的在职党员报到人数"), **common)
    indicators.register("volunteers.wishes_rate", title=_("微心愿完成率"), unit=indicators.PERCENT,
                        compute=wishes_rates, link=wishes_link, order=42,
                        description=_("统计期内社区下单的微心愿中已完成的比例"), **common)
