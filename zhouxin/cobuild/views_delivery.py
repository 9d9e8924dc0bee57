"""The delivery panel of a project page (项目实施): status buttons, milestones, service records
with their totals, and evidence with a scoped download.

The project is fetched through selectors.projects_for, so a project the caller may not see
is 404; reading the panel needs "cobuild.view", acting needs delivery.can_manage (staff
confirming co-building in the area, or a liaison of a party), else 403.  The rules live in
delivery.py; these views validate the form, call the service and redirect to the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from zhouxin.core.decorators import staff_view
from zhouxin.core.downloads import stored_file

from . import delivery, selectors
from .choices import ProjectStatus
from .forms_delivery import (
    CancelForm,
    CompleteForm,
    EvidenceForm,
    MilestoneDoneForm,
    MilestoneForm,
    RecordForm,
)
from .models import Evidence, Milestone, Project, ServiceRecord


def _project(user, pk: int) -> Project:
    return get_object_or_404(selectors.projects_for(user).select_related("area"), pk=pk)


def _back(project: Project):
    return redirect(reverse("cobuild:project_detail", args=[project.pk]) + "#zx-delivery")


def _label(form, field: str) -> str:
    return str(form.fields[field].label) if form is not None and field in form.fields else ""


def _say(request, form, field: str | None, message: str) -> None:
    label = _label(form, field) if field else ""
    messages.error(request, f"{label}：{message}" if label and label not in message else message)


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        for message in errors:
            _say(request, form, None if field == "__all__" else field, message)


def _service_errors(request, form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                _say(request, form, field, message)
    else:
        for message in exc.messages:
            messages.error(request, message)


def _act(request, project: Project, form, call, done: str):
    """Validate `form` (may be None), run `call(cleaned_data)` and report; 403 for a caller
    who sees the project but may not manage it."""
    if not delivery.can_manage(request.user, project):
        raise PermissionDenied
    if form is not None and not form.is_valid():
        _form_errors(request, form)
        return _back(project)
    try:
        call(form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        _service_errors(request, form, exc)
    else:
        messages.success(request, done)
    return _back(project)


# --- The panel -----------------------------------------------------------------------------

def panel_context(request, project: Project) -> dict:
    """Context of cobuild/project/_delivery.html for the project page."""
    milestones = list(Milestone.objects.filter(project=project).select_related("done_by").order_by("due_on", "id"))
    records = list(ServiceRecord.objects.filter(project=project).order_by("-held_on", "-id"))
    totals = ServiceRecord.objects.filter(project=project).aggregate(
        count=Count("id"), beneficiaries=Sum("beneficiaries"), volunteers=Sum("volunteers"),
        hours=Sum("volunteer_hours"))
    evidence = list(Evidence.objects.filter(project=project).select_related("uploaded_by", "milestone", "record")
                    .order_by("-uploaded_at", "-id"))
    manage = delivery.can_manage(request.user, project)
    status = project.status
    is_open = status in delivery.OPEN_STATUSES
    return {"delivery": {
        "can_manage": manage,
        "can_start": manage and status == ProjectStatus.PLANNED,
        "can_complete": manage and status == ProjectStatus.RUNNING,
        "can_cancel": manage and is_open,
        "can_edit_milestones": manage and is_open,
        "can_add_records": manage and status in (ProjectStatus.RUNNING, ProjectStatus.COMPLETED),
        "can_upload": manage and status != ProjectStatus.CANCELLED,
        "open_milestones": sum(1 for m in milestones if m.done_on is None),
        "milestones": milestones,
        "records": records,
        "totals": {"count": totals["count"] or 0, "beneficiaries": totals["beneficiaries"] or 0,
                   "volunteers": totals["volunteers"] or 0, "hours": totals["hours"] or 0},
        "evidence": evidence,
        "complete_form": CompleteForm(prefix="complete"),
        "cancel_form": CancelForm(prefix="cancel"),
        "milestone_form": MilestoneForm(prefix="milestone"),
        "record_form": RecordForm(prefix="record"),
        "evidence_form": EvidenceForm(prefix="evidence", milestones=milestones, records=records),
    }}


# --- Lifecycle -----------------------------------------------------------------------------

@staff_view("cobuild.view")
@require_POST
def project_start(request, pk: int):
    project = _project(request.user, pk)
    return _act(request, project, None, lambda data: delivery.project_start(actor=request.user, project=project),
                _("项目已开始实施。"))


@staff_view("cobuild.view")
@require_POST
def project_complete(request, pk: int):
    project = _project(request.user, pk)
    form = CompleteForm(request.POST, prefix="complete")
    return _act(request, project, form,
                lambda data: delivery.project_complete(actor=request.user, project=project, note=data["note"]),
                _("项目已结项，需求标记为已满足。"))


@staff_view("cobuild.view")
@require_POST
def project_cancel(request, pk: int):
    project = _project(request.user, pk)
    form = CancelForm(request.POST, prefix="cancel")
    return _act(request, project, form,
                lambda data: delivery.project_cancel(actor=request.user, project=project, reason=data["reason"]),
                _("项目已取消，需求重新开放认领，承诺的资源数量已退回。"))


# --- Milestones ----------------------------------------------------------------------------

@staff_view("cobuild.view")
@require_POST
def milestone_add(request, pk: int):
    project = _project(request.user, pk)
    form = MilestoneForm(request.POST, prefix="milestone")
    return _act(request, project, form,
                lambda data: delivery.milestone_add(actor=request.user, project=project, **data),
                _("节点已添加。"))


def _milestone(project: Project, milestone_pk: int) -> Milestone:
    milestone = get_object_or_404(Milestone, pk=milestone_pk, project=project)
    milestone.project = project
    return milestone


@staff_view("cobuild.view")
@require_POST
def milestone_done(request, pk: int, milestone_pk: int):
    project = _project(request.user, pk)
    milestone = _milestone(project, milestone_pk)
    form = MilestoneDoneForm(request.POST)
    return _act(request, project, form,
                lambda data: delivery.milestone_done(actor=request.user, milestone=milestone, **data),
                _("节点已标记为完成。"))


@staff_view("cobuild.view")
@require_POST
def milestone_delete(request, pk: int, milestone_pk: int):
    project = _project(request.user, pk)
    milestone = _milestone(project, milestone_pk)
    return _act(request, project, None,
                lambda data: delivery.milestone_delete(actor=request.user, milestone=milestone), _("节点已删除。"))


# --- Service records -----------------------------------------------------------------------

@staff_view("cobuild.view")
@require_POST
def record_add(request, pk: int):
    project = _project(request.user, pk)
    form = RecordForm(request.POST, prefix="record")
    return _act(request, project, form,
                lambda data: delivery.record_add(actor=request.user, project=project, **data),
                _("服务记录已登记。"))


# --- Evidence ------------------------------------------------------------------------------

@staff_view("cobuild.view")
@require_POST
def evidence_upload(request, pk: int):
    project = _project(request.user, pk)
    milestones = Milestone.objects.filter(project=project)
    records = ServiceRecord.objects.filter(project=project)
    form = EvidenceForm(request.POST, request.FILES, prefix="evidence", milestones=milestones, records=records)

    def upload(data):
        delivery.evidence_upload(
            actor=request.user, project=project, upload=data["upload"], caption=data["caption"],
            milestone=milestones.filter(pk=data["milestone"]).first() if data["milestone"] else None,
            record=records.filter(pk=data["record"]).first() if data["record"] else None)

    return _act(request, project, form, upload, _("佐证材料已上传。"))


def _evidence(project: Project, evidence_pk: int) -> Evidence:
    item = get_object_or_404(Evidence, pk=evidence_pk, project=project)
    item.project = project
    return item


@staff_view("cobuild.view")
@require_GET
def evidence_file(request, pk: int, evidence_pk: int):
    """An evidence file, only to those who may see the project (MEDIA_ROOT is served by no URL).
    Photos open in the page (thumbnails); PDFs, and photos with ?download=1, are downloaded."""
    project = _project(request.user, pk)
    item = _evidence(project, evidence_pk)
    return stored_file(request, item.file, content_type=item.content_type, name=item.original_name)


@staff_view("cobuild.view")
@require_POST
def evidence_delete(request, pk: int, evidence_pk: int):
    project = _project(request.user, pk)
    item = _evidence(project, evidence_pk)
    return _act(request, project, None, lambda data: delivery.evidence_delete(actor=request.user, evidence=item),
                _("佐证材料已删除。"))
