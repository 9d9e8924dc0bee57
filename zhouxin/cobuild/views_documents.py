"""Generated documents of co-building: a project's agreement (共建协议) and its signed copy, and
the units' yearly reports (共建年报).

Projects are fetched through selectors.projects_for (the parties' liaisons may download the
agreement too); units through reports.report_units_for.  What the caller may not see is 404.
Files go out only through these views, as attachments (never shown inline) that the browser may
not sniff; the site's strict CSP applies to them like to every response.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.decorators import staff_view

from . import agreements, reports, selectors
from .models import Project

PDF = "application/pdf"


def _project(user, pk: int) -> Project:
    return get_object_or_404(selectors.projects_for(user).select_related("area"), pk=pk)


def _download(handle, *, filename: str, content_type: str) -> FileResponse:
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)  # RFC 5987 filename*
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _open(field):
    try:
        return field.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None


def _errors(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- The agreement -----------------------------------------------------------------------------

@staff_view("cobuild.confirm")
@require_POST
def agreement_issue(request, pk: int):
    project = _project(request.user, pk)
    reissue = bool(project.agreement_file)
    try:
        agreements.agreement_issue(actor=request.user, project=project)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("共建协议已重新生成，编号不变。") if reissue else _("共建协议已生成。"))
    return redirect("cobuild:project_detail", pk=project.pk)


@staff_view("cobuild.view")
@require_GET
def agreement_download(request, pk: int):
    project = _project(request.user, pk)
    if not project.agreement_file:
        raise Http404
    return _download(_open(project.agreement_file), content_type=PDF,
                     filename=_("共建协议-%(number)s.pdf") % {"number": project.agreement_number})


@staff_view("cobuild.confirm")
@require_POST
def signed_upload(request, pk: int):
    project = _project(request.user, pk)
    try:
        agreements.signed_copy_upload(actor=request.user, project=project, upload=request.FILES.get("upload"))
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("签署文本已上传，协议不能再重新生成。"))
    return redirect("cobuild:project_detail", pk=project.pk)


@staff_view("cobuild.view")
@require_GET
def signed_download(request, pk: int):
    project = _project(request.user, pk)
    if not project.signed_copy:
        raise Http404
    kind = agreements.signed_content_type(project)
    extension = agreements.SIGNED_TYPES.get(kind, "bin")
    return _download(_open(project.signed_copy), content_type=kind,
                     filename=_("共建协议签署文本-%(number)s.%(ext)s") % {"number": project.agreement_number,
                                                                    "ext": extension})


# --- Yearly unit reports -----------------------------------------------------------------------

@staff_view("cobuild.view")
@require_GET
def unit_reports(request):
    years = reports.years_for()
    raw = request.GET.get("year", "")
    year = int(raw) if raw.isdigit() and int(raw) in years else years[0]
    units = list(reports.report_units_for(request.user))
    return render(request, "cobuild/unit_reports.html", {"units": units, "years": years, "year": year})


def _report(request, org_pk: int, year: int, fmt: str):
    unit = get_object_or_404(reports.report_units_for(request.user), pk=org_pk)
    if not reports.valid_year(year):
        raise Http404
    data, filename = reports.report_export(actor=request.user, unit=unit, year=year, fmt=fmt)
    return _download(io.BytesIO(data), filename=filename, content_type=PDF if fmt == "pdf" else reports.XLSX)


@staff_view("cobuild.view")
@require_GET
def unit_report_pdf(request, org_pk: int, year: int):
    return _report(request, org_pk, year, "pdf")


@staff_view("cobuild.view")
@require_GET
def unit_report_xlsx(request, org_pk: int, year: int):
    return _report(request, org_pk, year, "xlsx")
