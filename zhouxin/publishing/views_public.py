"""Public notice pages (anyone may read them): a community's or street's published notices and
one notice.  The notice's article region is publishing/public/_article.html — exactly what was
hashed at approval and what the integrity monitor compares."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.portal.session import current_account

from .choices import NoticeStatus
from .middleware import is_probe, withheld_response
from .models import Notice
from .public import public_notices

PER_PAGE = 20


def _area(code: str):
    return (Area.objects.unscoped().filter(code=code[:15], is_active=True,
                                           level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY])
            .select_related("parent").first())


def _not_found(request):
    return render(request, "portal/404.html", {"account": current_account(request)}, status=404)


@require_GET
def notice_index(request, code: str):
    area = _area(code)
    if area is None:
        return _not_found(request)
    paginator = Paginator(public_notices(area), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "publishing/public/list.html", {
        "area": area, "street": area.parent if area.level == AreaLevel.COMMUNITY else None, "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "account": current_account(request)})


@require_GET
def notice_page(request, code: str, pk: int):
    area = _area(code)
    notice = (Notice.objects.unscoped().select_related("area").filter(pk=pk, area=area).first()
              if area is not None else None)
    if notice is None or notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.WITHHELD):
        return _not_found(request)
    if notice.status == NoticeStatus.WITHHELD and not is_probe(request):
        return withheld_response(request)
    return render(request, "publishing/public/notice.html", {
        "notice": notice, "area": area, "street": area.parent if area.level == AreaLevel.COMMUNITY else None,
        "account": current_account(request)})
