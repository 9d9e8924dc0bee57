"""Payroll pages (月度工资): the street's or district's runs, a run's payslips and its xlsx, one
payslip explained line by line, and 我的工资 — a worker's own confirmed payslips.

Runs and payslips are fetched through payroll.runs_for / payslips_for (the area staff's grants),
a worker's own through payroll.my_payslips (their Person's user): what the caller may not see
is 404.  Writes go through payroll.payroll_run / payroll_confirm.
"""

from __future__ import annotations

import io

from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.actions import perform
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can
from zhouxin.orgs.models import Area

from . import payroll
from .choices import RunStatus

PER_PAGE = 30


def _payroll_areas(user):
    """The areas the user may run payroll for (district, streets, communities of their grants)."""
    prefixes = payroll._prefixes(user, "workforce.payroll")
    return Area.objects.unscoped().filter(payroll._under("code", prefixes), level__in=payroll.PAYROLL_LEVELS,
                                          is_active=True).order_by("code")


def _run(user, pk: int):
    return get_object_or_404(payroll.runs_for(user), pk=pk)


def _month_value(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _parse_month(raw: str) -> tuple[str, str]:
    year, _sep, month = (raw or "").partition("-")
    return year, month


@staff_view("workforce.payroll")
@require_GET
def payroll_page(request):
    areas = list(_payroll_areas(request.user))
    today = timezone.localdate()
    runs = payroll.runs_for(request.user).filter(area__in=areas).order_by("-year", "-month", "area__code", "-id")
    paginator = Paginator(runs, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    latest_year, latest = payroll.latest_month()
    return render(request, "workforce/payroll/payroll.html", {
        "areas": areas, "default_month": _month_value(today.year, today.month), "max_month": _month_value(latest_year, latest),
        "page": page, "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)})


@staff_view("workforce.payroll")
@require_POST
def payroll_run(request):
    area = _payroll_areas(request.user).filter(pk=request.POST.get("area") or 0).first()
    if area is None:
        raise Http404
    year, month = _parse_month(request.POST.get("month", ""))
    ok, run = perform(request, None, lambda _data: payroll.payroll_run(actor=request.user, area=area, year=year,
                                                                      month=month),
                      success=lambda r: _("已计算%(area)s %(year)d年%(month)d月工资：%(n)d 人，合计 %(total)s 元（试算）。") % {
                          "area": r.area.name, "year": r.year, "month": r.month, "n": r.workers, "total": r.total})
    if ok:
        return redirect("workforce:payroll_detail", pk=run.pk)
    return redirect("workforce:payroll")


@staff_view("workforce.view")
@require_GET
def payroll_detail(request, pk: int):
    run = _run(request.user, pk)
    whole = can(request.user, "workforce.view", run.area.code)
    payslips = payroll.payslips_for(request.user).filter(run=run).select_related(
        "worker__person", "worker__community").order_by("worker__community__code", "worker__person__name", "id")
    shown_total = run.total if whole else payslips.aggregate(total=Sum("total"))["total"]
    may_run = can(request.user, "workforce.payroll", run.area.code)
    return render(request, "workforce/payroll/run_detail.html", {
        "run": run, "payslips": payslips, "whole": whole, "shown_total": shown_total,
        "can_confirm": may_run and run.status == RunStatus.DRAFT, "can_download": may_run,
        "is_draft": run.status == RunStatus.DRAFT, "month_value": _month_value(run.year, run.month)})


@staff_view("workforce.payroll")
@require_POST
def payroll_confirm(request, pk: int):
    run = _run(request.user, pk)
    perform(request, None, lambda _data: payroll.payroll_confirm(actor=request.user, run=run),
            success=_("工资已确认，工作者可在“我的工资”中查看。"))
    return redirect("workforce:payroll_detail", pk=run.pk)


@staff_view("workforce.payroll")
@require_GET
def payroll_xlsx(request, pk: int):
    run = _run(request.user, pk)
    if not can(request.user, "workforce.payroll", run.area.code):
        raise Http404  # a community's part of a street's run: not the whole sheet
    data, filename = payroll.payroll_export(actor=request.user, run=run)
    response = FileResponse(io.BytesIO(data), content_type=payroll.XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)  # RFC 5987 filename*
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view("workforce.view")
@require_GET
def payslip_detail(request, pk: int):
    slip = get_object_or_404(payroll.payslips_for(request.user).select_related(
        "run__area", "worker__person", "worker__community"), pk=pk)
    return render(request, "workforce/payroll/payslip_detail.html", {"slip": slip, "mine": False})


# --- 我的工资 ---------------------------------------------------------------------------------

@staff_view()
@require_GET
def my_pay(request):
    slips = list(payroll.my_payslips(request.user))
    return render(request, "workforce/payroll/my_pay.html", {"slips": slips, "is_worker": is_worker(request.user)})


@staff_view()
@require_GET
def my_payslip(request, pk: int):
    slip = get_object_or_404(payroll.my_payslips(request.user), pk=pk)
    return render(request, "workforce/payroll/payslip_detail.html", {"slip": slip, "mine": True})


def is_worker(user) -> bool:
    """The signed-in user is a registered community worker (their Person has a Worker)."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        user.person.worker  # noqa: B018
    except ObjectDoesNotExist:
        return False
    return True


def my_pay_panel(request) -> dict | None:
    """The workbench panel "我的工资": shown only to a registered worker, with their latest confirmed payslip."""
    if not is_worker(request.user):
        return None
    return {"latest": payroll.my_payslips(request.user).first()}
