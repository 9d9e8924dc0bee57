"""Needs promoted from frequent requests (高频诉求转需求), so nothing is typed twice.

For a community or street, the dispatch request categories most often received in the
last 90 days are listed; promoting one pre-fills a need's title, description, category
and area, and the need remembers the dispatch category it came from (source_ref).

Reads dispatch's requests for the area only (a community's handful of area ids, or the
street column, both indexed with received_at), grouped by category in one aggregate
query; invalid and merged requests are not counted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .choices import NeedCategory, NeedSource, NeedStatus
from .models import Need

WINDOW_DAYS = 90
# Words of a dispatch category (its name, its parents' names, its keywords) that say which
# co-building category a need promoted from it belongs to; first match wins.
CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (NeedCategory.ELDERLY_MEAL, ("助餐", "老年餐", "餐桌", "食堂")),
    (NeedCategory.ELDERLY_CARE, ("养老", "老年", "为老", "失能", "独居")),
    (NeedCategory.MEDICAL, ("医疗", "医院", "看病", "义诊", "健康", "卫生服务站")),
    (NeedCategory.LEGAL, ("法律", "纠纷", "调解", "维权")),
    (NeedCategory.EDUCATION, ("教育", "学校", "托管", "助学", "入学")),
    (NeedCategory.EMPLOYMENT, ("就业", "招聘", "失业", "欠薪")),
    (NeedCategory.CULTURE, ("文体", "健身", "文化", "体育")),
    (NeedCategory.SAFETY, ("治安", "消防", "安全", "秩序")),
    (NeedCategory.VENUE, ("场地", "活动室", "停车")),
    (NeedCategory.ENVIRONMENT, ("环境", "卫生", "垃圾", "绿化", "楼道", "噪声", "违建", "市容", "物业")),
)


@dataclass(frozen=True)
class FrequentCategory:
    category_id: int
    code: str
    name: str
    path: str  # "物业管理 / 物业服务 / 楼道卫生"
    received: int
    suggested: str  # a NeedCategory value
    promoted_need_id: int | None  # an open need already promoted from it here


def suggest_category(text: str) -> str:
    for category, words in CATEGORY_WORDS:
        if any(word in text for word in words):
            return category
    return NeedCategory.OTHER


def _requests(area: Area, since: dt.datetime):
    from zhouxin.dispatch.choices import Status
    from zhouxin.dispatch.models import ServiceRequest

    requests = ServiceRequest.objects.unscoped().filter(received_at__gte=since, category__isnull=False) \
        .exclude(status__in=[Status.INVALID, Status.MERGED])
    if area.level == AreaLevel.STREET:
        return requests.filter(street=area)
    ids = Area.objects.unscoped().filter(code__startswith=area.code).values_list("pk", flat=True)
    return requests.filter(area_id__in=list(ids))


def frequent_categories(area: Area, *, limit: int = 10, now: dt.datetime | None = None) -> list[FrequentCategory]:
    """The dispatch categories most received in `area` in the last 90 days (the caller checked
    that the user may post needs for `area`)."""
    from zhouxin.dispatch.models import Category

    since = (now or timezone.now()) - dt.timedelta(days=WINDOW_DAYS)
    rows = list(_requests(area, since).values("category_id").annotate(n=Count("id")).order_by("-n", "category_id")
                [:limit])
    if not rows:
        return []
    categories = Category.objects.select_related("parent__parent").in_bulk([r["category_id"] for r in rows])
    promoted = dict(Need.objects.unscoped().filter(
        area=area, source=NeedSource.REQUESTS, status__in=[NeedStatus.OPEN, NeedStatus.CLAIMED, NeedStatus.CONFIRMED,
                                                           NeedStatus.IN_PROJECT],
        source_ref__in=[c.code for c in categories.values()]).values_list("source_ref", "pk"))
    found = []
    for row in rows:
        category = categories[row["category_id"]]
        chain = [category]
        while chain[-1].parent_id and len(chain) < 3:
            chain.append(chain[-1].parent)
        words = " ".join([c.name for c in chain] + [category.keywords])
        found.append(FrequentCategory(
            category_id=category.pk, code=category.code, name=category.name,
            path=" / ".join(c.name for c in reversed(chain)), received=row["n"],
            suggested=suggest_category(words), promoted_need_id=promoted.get(category.code)))
    return found


def promotion_initial(area: Area, category_id: int) -> dict | None:
    """The need form's initial values for promoting a frequent category, or None when that
    category is not among the area's frequent ones (nothing to promote)."""
    for item in frequent_categories(area, limit=50):
        if item.category_id == category_id:
            return {
                "area": area,
                "title": _("%(area)s%(category)s问题共建") % {"area": area.name, "category": item.name},
                "category": item.suggested,
                "description": _("近%(days)d天%(area)s共收到%(n)d件“%(path)s”类诉求，希望驻区单位共同参与解决。")
                % {"days": WINDOW_DAYS, "area": area.name, "n": item.received, "path": item.path},
                "source": NeedSource.REQUESTS,
                "source_ref": item.code,
            }
    return None
