"""Pages of the yearly assessment (年度考核) and the promotion run (晋级).

The area a page works on is one of the areas the user holds the page's permission on
(`?area=<code>`, default the first); workers, runs and results are read through the scoped
managers, so another area's run or result is 404.  Writes go to assessments.py / promotion.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.actions import flash_errors
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import assessments, payrules, promotion
from .choices import RunStatus
from .models import Assessment, PromotionResult, PromotionRun

YEARS_BACK = 6


def _areas(user, permission: str) -> list[Area]:
    """The areas of the user's grants that carry `permission` (the areas they act on)."""
    prefixes = scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))
    return list(Area.objects.unscoped().filter(code__in=prefixes).order_by("code"))


def _area(request, permission: str) -> tuple[Area, list[Area]]:
    areas = _areas(request.user, permission)
    if not areas:
        raise Http404
    code = request.POST.get("area") or request.GET.get("area")
    if not code:
        return areas[0], areas
    chosen = next((a for a in areas if a.code == code), None)
    if chosen is None:  # an area the user does not act on is not found, never silently replaced
        raise Http404
    return chosen, areas


def _year(raw, default: int, low: int, high: int) -> int:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return default
    return year if low <= year <= high else default


def _url(name: str, area: Area, year: int) -> str:
    return f"{reverse(name)}?area={area.code}&year={year}"


# --- Assessments ---------------------------------------------------------------------------

@staff_view("workforce.assess")
@require_http_methods(["GET", "POST"])
def assessment_page(request):
    """Every worker of the area on the roster that year, a grade select each, one save."""
    area, areas = _area(request, "workforce.assess")
    this_year = timezone.localdate().year
    year = _year(request.POST.get("year") or request.GET.get("year"), this_year - 1, this_year - YEARS_BACK,
                 this_year)
    if request.method == "POST":
        grades = {key[len("grade_"):]: value for key, value in request.POST.items()
                  if key.startswith("grade_") and key[len("grade_"):].isdigit()}
        try:
            changed = assessments.assess_batch(actor=request.user, area=area, year=year, grades=grades)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, _("已保存 %(year)s 年度考核，%(n)s 人的等次有更新。") % {"year": year, "n": changed})
        return redirect(_url("workforce:assessments", area, year))
    workers = list(assessments.roster_in_year(area, year).select_related("person", "community")
                   .order_by("community__code", "person__name", "id"))
    given = {a.worker_id: a for a in Assessment.objects.filter(year=year, worker__in=workers)}
    rule = assessments.assessment_rule(area, year)
    final = PromotionRun.objects.unscoped().filter(
        year=year + 1, status=RunStatus.CONFIRMED,
        area__code__in={w.community.code[:n] for w in workers for n in range(2, len(w.community.code) + 1)},
    ).values_list("area__code", flat=True)
    final_codes = tuple(final)
    rows = [{"worker": w, "assessment": given.get(w.pk),
             "final": any(w.community.code.startswith(c) for c in final_codes)} for w in workers]
    streets = _streets(area)
    return render(request, "workforce/promotion/assessments.html", {
        "area": area, "areas": areas, "year": year, "years": list(range(this_year, this_year - YEARS_BACK - 1, -1)),
        "rows": rows, "grades": [(g, payrules.label(g)) for g in rule["grades"]],
        "quotas": [assessments.quota(s, year) for s in streets],
    })


def _streets(area: Area) -> list[Area]:
    if area.level in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        return [assessments.street_of(area)]
    return list(Area.objects.unscoped().filter(code__startswith=area.code, level=AreaLevel.STREET,
                                               is_active=True).order_by("code"))


# --- Promotion -----------------------------------------------------------------------------

@staff_view(promotion.PERMISSION)
def promotion_page(request):
    """The area's run for a year: the run button and each worker's grade before → after."""
    area, areas = _area(request, promotion.PERMISSION)
    this_year = timezone.localdate().year
    year = _year(request.GET.get("year"), this_year, this_year - YEARS_BACK, this_year + 1)
    runs = PromotionRun.objects.filter(area=area, year=year)
    run = runs.filter(status=RunStatus.CONFIRMED).first() or runs.first()
    results = []
    if run is not None:
        results = list(PromotionResult.objects.filter(run=run).select_related("worker__person", "worker__community")
                       .order_by("worker__community__code", "worker__person__name", "id"))
    return render(request, "workforce/promotion/promotion.html", {
        "area": area, "areas": areas, "year": year,
        "years": list(range(this_year + 1, this_year - YEARS_BACK - 1, -1)),
        "run": run, "results": results, "draft": RunStatus.DRAFT,
    })


@staff_view(promotion.PERMISSION)
@require_POST
def promotion_run_view(request):
    area, _areas_ = _area(request, promotion.PERMISSION)
    this_year = timezone.localdate().year
    year = _year(request.POST.get("year"), this_year, this_year - YEARS_BACK, this_year + 1)
    try:
        run = promotion.promotion_run(actor=request.user, area=area, year=year)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已试算 %(year)s 年晋级：%(n)s 人，其中晋级 %(p)s 人。请核对后确认。") % {
            "year": year, "n": run.workers, "p": run.promoted})
    return redirect(_url("workforce:promotion", area, year))


@staff_view(promotion.PERMISSION)
@require_POST
def promotion_confirm_view(request, pk: int):
    run = get_object_or_404(PromotionRun.objects.select_related("area"), pk=pk)
    try:
        promotion.promotion_confirm(actor=request.user, run=run)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("%(year)s 年晋级已确认。") % {"year": run.year})
    return redirect(_url("workforce:promotion", run.area, run.year))


@staff_view(promotion.PERMISSION)
def promotion_result(request, pk: int):
    """One worker's result with the engine's explanation of 1 January."""
    result = get_object_or_404(
        PromotionResult.objects.select_related("run__area", "worker__person", "worker__community"), pk=pk)
    return render(request, "workforce/promotion/result.html", {"result": result, "run": result.run})
