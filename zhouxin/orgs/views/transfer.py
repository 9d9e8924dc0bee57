"""xlsx import (template, upload, job page with a progress bar) and export of organisations and people."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from zhouxin.core.choices import JobStatus
from zhouxin.core.db_router import replica_reads
from zhouxin.core.decorators import staff_view
from zhouxin.core.models import ImportJob

from .. import exports, imports, selectors
from ..choices import OrgKind
from ..models import Area, Sector

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# htmx 2 stops polling when the server answers 286.
HTMX_STOP_POLLING = 286
MAX_ERRORS_SHOWN = 500


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导入内容"), widget=forms.RadioSelect,
                             choices=[(code, kind.label) for code, kind in imports.KINDS.items()],
                             error_messages={"required": gettext_lazy("请选择导入组织还是人员。"),
                                             "invalid_choice": gettext_lazy("请选择导入组织还是人员。")})
    area = forms.CharField(label=gettext_lazy("导入范围"), max_length=15,
                           error_messages={"required": gettext_lazy("请选择导入到哪个区域。")})
    file = forms.FileField(label=gettext_lazy("Excel 文件（.xlsx）"),
                           error_messages={"required": gettext_lazy("请选择要上传的 Excel 文件。"),
                                           "empty": gettext_lazy("文件是空的，请选择填写好的 Excel 文件。"),
                                           "invalid": gettext_lazy("请选择要上传的 Excel 文件。")})

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        kind_code = cleaned.get("kind")
        if upload is None or not kind_code:
            return cleaned
        if upload.size > imports.MAX_UPLOAD_BYTES:
            self.add_error("file", _("文件超过 %(mb)s MB，请拆分成几个文件分批导入。")
                           % {"mb": imports.MAX_UPLOAD_BYTES // (1024 * 1024)})
            return cleaned
        content = upload.read()
        try:
            sheet = imports.read_sheet(imports.kind_for(kind_code), content)
        except imports.ImportFileError as exc:
            self.add_error("file", exc.message)
            return cleaned
        cleaned["content"] = content
        cleaned["rows"] = len(sheet.rows)
        return cleaned


@staff_view("orgs.import")
@require_http_methods(["GET", "POST"])
def import_start(request):
    user = request.user
    roots = list(imports.import_roots(user).only("code", "name", "level"))
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        code = request.POST.get("area", "").strip()
        area = None
        if code:
            # An area outside the user's import scope does not exist for them.
            area = imports.import_roots(user).filter(code=code).first()
            if area is None:
                raise Http404
        if form.is_valid():
            job = imports.import_job_submit(
                actor=user, kind=imports.kind_for(form.cleaned_data["kind"]), area=area,
                filename=form.cleaned_data["file"].name or "upload.xlsx", content=form.cleaned_data["content"],
                total=form.cleaned_data["rows"], language=getattr(request, "LANGUAGE_CODE", ""))
            return redirect("orgs:import_job", pk=job.pk)
    else:
        initial = {"kind": request.GET.get("kind") if request.GET.get("kind") in imports.KINDS else imports.ORGANISATIONS}
        if roots:
            initial["area"] = roots[0].code
        form = ImportUploadForm(initial=initial)
    jobs = ImportJob.objects.filter(created_by=user).select_related("scope_area").defer("content")[:10]
    export_areas = selectors.filter_choices_areas(user)
    return render(request, "orgs/transfer/import.html", {
        "form": form, "roots": roots, "kinds": imports.KINDS, "jobs": jobs,
        "selected_area": form["area"].value() or "", "selected_kind": form["kind"].value() or "",
        "max_mb": imports.MAX_UPLOAD_BYTES // (1024 * 1024), "max_rows": f"{imports.MAX_ROWS:,}",
        "export_areas": export_areas, "org_kinds": OrgKind.choices, "sectors": Sector.objects.order_by("name"),
    })


@staff_view("orgs.import")
@require_GET
def import_template(request, kind):
    if kind not in imports.KINDS:
        raise Http404
    import_kind = imports.kind_for(kind)
    content = imports.template_workbook(import_kind, request.user)
    response = HttpResponse(content, content_type=XLSX)
    filename = _("%(kind)s导入模板.xlsx") % {"kind": import_kind.label}
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _visible_job(request, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("scope_area", "created_by").defer("content"), pk=pk)
    if not imports.job_visible_to(job, request.user):
        raise Http404
    return job


def _job_context(job: ImportJob) -> dict:
    finished = job.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}
    errors = job.errors or []
    return {
        "job": job, "finished": finished, "kind": imports.KINDS.get(job.kind),
        "validating": job.status == JobStatus.RUNNING and job.processed < job.total,
        "writing": job.status == JobStatus.RUNNING and job.total and job.processed >= job.total,
        "errors": errors[:MAX_ERRORS_SHOWN], "errors_hidden": max(0, len(errors) - MAX_ERRORS_SHOWN),
        "error_count": len(errors),
    }


@staff_view()
@require_GET
def import_job(request, pk):
    job = _visible_job(request, pk)
    return render(request, "orgs/transfer/job.html", _job_context(job))


@staff_view()
@require_GET
def import_job_progress(request, pk):
    job = _visible_job(request, pk)
    context = _job_context(job)
    status = HTMX_STOP_POLLING if context["finished"] else 200
    return render(request, "orgs/transfer/_job_status.html", context, status=status)


def _export_area(request) -> Area | None:
    code = request.GET.get("area", "").strip()
    if not code:
        return None
    # The scoped manager: an area outside the user's scope is not found.
    return get_object_or_404(Area.objects.all(), code=code)


def _xlsx_response(export: exports.Export) -> FileResponse:
    return FileResponse(export.file, as_attachment=True, filename=export.filename, content_type=XLSX)


@staff_view("orgs.export")
@require_GET
@replica_reads  # the rows may come from the read replica; the audit entry goes to the primary
def export_people(request):
    area = _export_area(request)
    q = request.GET.get("q", "")[:64]
    return _xlsx_response(exports.people_export(actor=request.user, area=area, q=q))


@staff_view("orgs.export")
@require_GET
@replica_reads  # the rows may come from the read replica; the audit entry goes to the primary
def export_organisations(request):
    area = _export_area(request)
    q = request.GET.get("q", "")[:64]
    kind = request.GET.get("kind", "")
    if kind and kind not in OrgKind.values:
        messages.error(request, _("组织类型“%(kind)s”无效，请重新选择。") % {"kind": kind[:40]})
        return redirect(reverse("orgs:import") + "#export")
    sector = None
    sector_id = request.GET.get("sector", "")
    if sector_id:
        if not sector_id.isdigit():
            messages.error(request, _("行业系统无效，请重新选择。"))
            return redirect(reverse("orgs:import") + "#export")
        sector = get_object_or_404(Sector, pk=int(sector_id))
    return _xlsx_response(exports.organisations_export(actor=request.user, area=area, kind=kind, sector=sector,
                                                       q=q))
