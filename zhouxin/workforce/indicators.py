"""Community-worker figures as indicators (core.indicators), computed from the roster.

Both are read on the period's last day (today for a period not yet over), from the roster's
dates: a worker is on the roster from `hire_date` to `left_on` (their last day), a post is held
from `started_on` to `ended_on` (its last day), as on the roster pages.

* workforce.certified_share: of the workers on the roster that day in the area (a street: its
  communities' workers), the share holding a social-work certificate (社会工作者职业资格, any
  level — the certificate as now recorded).  None when nobody was on the roster.
* workforce.secretary_vacancy_days: for a community, the days its 书记 post — a 正职 post whose
  title names 书记 (not only 副书记), as the pay rules read it — has been vacant that day: 0
  while someone holds it; else the days since the last holder's last day; a community whose
  roster never had a 书记 counts from the first worker's hire date (the roster's own start).
  None for a community with no worker on the roster at all, or none yet that day.  Only
  communities have it: street secretaries are not on the community roster.

One or two grouped queries per level of the areas asked about, whatever their number.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Count, Min, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhouxin.core import indicators
from zhouxin.core.indicators import Period
from zhouxin.orgs.choices import AreaLevel

from .choices import Certificate, PostType
from .models import PostHolding, Worker

DOMAIN = _("社区工作者")
SECRETARY = "书记"


def is_secretary_title(title: str) -> bool:
    """书记 (also "书记、主任"), not 副书记 alone."""
    return SECRETARY in title.replace("副" + SECRETARY, "")


def certified_shares(areas: Sequence, period: Period) -> dict[int, object]:
    day = period.as_of()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas):
        # Unscoped on purpose: the caller (oversight, dashboards) has checked the areas' scope.
        rows = (Worker.objects.unscoped()
                .filter(Q(left_on__isnull=True) | Q(left_on__gte=day),
                        community__code__startswith=group.common, hire_date__lte=day)
                .annotate(node=Substr("community__code", 1, group.length)).values("node")
                .annotate(n=Count("pk"), certified=Count("pk", filter=~Q(certificate=Certificate.NONE)))
                .order_by())
        for row in rows:
            pk = group.ids.get(row["node"])
            if pk is not None:
                out[pk] = indicators.share(row["certified"], row["n"])
    return out


def secretary_vacancy_days(areas: Sequence, period: Period) -> dict[int, object]:
    day = period.as_of()
    out: dict[int, object] = {}
    for group in indicators.code_groups(areas, levels=(AreaLevel.COMMUNITY,)):
        # Unscoped on purpose: the caller has checked the areas' scope.
        first_hired = dict(Worker.objects.unscoped().filter(community__code__startswith=group.common)
                           .values("community__code").annotate(first=Min("hire_date")).order_by()
                           .values_list("community__code", "first"))
        held: set[str] = set()
        last_day: dict[str, object] = {}
        for code, title, ended_on in (PostHolding.objects.unscoped()
                                      .filter(worker__community__code__startswith=group.common,
                                              post_type=PostType.ZHENG, title__contains=SECRETARY,
                                              started_on__lte=day)
                                      .values_list("worker__community__code", "title", "ended_on")):
            if not is_secretary_title(title):
                continue
            if ended_on is None or ended_on >= day:
                held.add(code)
            elif code not in last_day or ended_on > last_day[code]:
                last_day[code] = ended_on
        for code, pk in group.ids.items():
            first = first_hired.get(code)
            if first is None or first > day:
                out[pk] = None
            elif code in held:
                out[pk] = 0
            else:
                out[pk] = (day - last_day.get(code, first)).days
    return out


def roster_link(area, period: Period) -> str | None:
    """The community's workers on the roster (the whole roster for a street or district)."""
    if area.level == AreaLevel.COMMUNITY:
        return f"{reverse('workforce:roster_list')}?{urlencode({'community': area.pk})}"
    return reverse("workforce:roster_list")


def secretary_link(area, period: Period) -> str | None:
    if area.level != AreaLevel.COMMUNITY:
        return None
    return f"{reverse('workforce:roster_list')}?{urlencode({'community': area.pk, 'post_type': PostType.ZHENG})}"


def register() -> None:
    common = {"domain": DOMAIN}
    indicators.register("workforce.certified_share", title=_("持证社工占比"), unit=indicators.PERCENT,
                        compute=certified_shares, link=roster_link, order=70,
                        description=_("统计期末在岗社区工作者中持有社会工作者职业资格证书的比例"), **common)
    indicators.register("workforce.secretary_vacancy_days", title=_("书记岗位空缺天数"), unit=indicators.DAYS,
                        compute=secretary_vacancy_days, link=secretary_link, order=71, higher_is_better=False,
                        description=_("统计期末社区书记岗位已空缺的天数（有人任职为 0）"), **common)
