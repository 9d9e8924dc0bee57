"""Report pages: the list with the form that asks for a report, the report's page with its
progress bar (htmx polls the status partial every second until the task is done), and the
downloads.  Only reports of the caller's "oversight.report" areas exist for them (404 otherwise)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.actions import errors_into_form
from zhouxin.core.decorators import staff_view
from zhouxin.core.indicators import MONTH, Period

from . import reports
from .choices import ReportStatus
from .forms_reports import ReportForm, recent_periods
from .models import Report

PER_PAGE = 20
# htmx 2 stops polling when the server answers 286.
HTMX_STOP_POLLING = 286


def _list_context(request, form: ReportForm) -> dict:
    rows = reports.reports_for(request.user).select_related("area", "created_by").defer("xlsx", "pdf")
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    items = [{"report": r, "title": reports.title_of(r)} for r in page.object_list]
    return {"form": form, "page": page, "items": items, "periods": recent_periods(),
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1)}


@staff_view("oversight.report")
@require_GET
def report_list(request):
    form = ReportForm(user=request.user, initial=_initial(request))
    return render(request, "oversight/reports/list.html", _list_context(request, form))


def _initial(request) -> dict:
    """The area and period of the link ("重新生成" of a failed report), else last month."""
    initial: dict = {"period": Period.of(MONTH, timezone.localdate()).previous().key}
    area = reports.report_areas(request.user).filter(code=request.GET.get("area", "")).first()
    if area is not None:
        initial["area"] = area.code
    if request.GET.get("period"):
        initial["period"] = request.GET["period"][:16]
    return initial


@staff_view("oversight.report")
@require_POST
def report_create(request):
    user = request.user
    code = request.POST.get("area", "").strip()
    if code and not reports.report_areas(user).filter(code=code).exists():
        raise Http404  # an area the caller may not report on is not theirs to know about
    form = ReportForm(request.POST, user=user)
    if form.is_valid():
        try:
            report = reports.report_create(actor=user, area=form.cleaned_data["area"],
                                           period=form.cleaned_data["period"],
                                           language=getattr(request, "LANGUAGE_CODE", ""))
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            if reports.is_to_date(report):
                messages.info(request, _("已提交生成。本期尚未结束，报表统计截至今日的数据。"))
            else:
                messages.success(request, _("已提交生成，请稍候。"))
            return redirect("oversight:report_detail", pk=report.pk)
    return render(request, "oversight/reports/list.html", _list_context(request, form), status=422)


def _visible(request, pk: int) -> Report:
    return get_object_or_404(reports.reports_for(request.user).select_related("area__parent", "created_by")
                             .defer("xlsx", "pdf"), pk=pk)


def _detail_context(report: Report) -> dict:
    return {"report": report, "title": reports.title_of(report), "finished": report.status in reports.FINISHED,
            "to_date": reports.is_to_date(report), "empty": report.fields_total - report.fields_filled}


@staff_view("oversight.report")
@require_GET
def report_detail(request, pk):
    report = _visible(request, pk)
    return render(request, "oversight/reports/detail.html", _detail_context(report))


@staff_view("oversight.report")
@require_GET
def report_status(request, pk):
    report = _visible(request, pk)
    context = _detail_context(report)
    status = HTMX_STOP_POLLING if context["finished"] else 200
    return render(request, "oversight/reports/_status.html", context, status=status)


def _download(request, pk: int, fmt: str) -> HttpResponse:
    report = _visible(request, pk)
    if report.status != ReportStatus.SUCCEEDED:
        raise Http404
    try:
        data, filename, content_type = reports.report_download(actor=request.user, report=report, fmt=fmt)
    except ValidationError:
        raise Http404 from None
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view("oversight.report")
@require_GET
def report_xlsx(request, pk):
    return _download(request, pk, "xlsx")


@staff_view("oversight.report")
@require_GET
def report_pdf(request, pk):
    return _download(request, pk, "pdf")
