"""Delivery of a co-building project (项目实施): its lifecycle, milestones (节点), service
records (服务记录) and completion evidence (佐证材料).

Rules and where they come from (DESIGN §3 cobuild "Projects", issue 6 item 5):
* who acts on a project: staff holding "cobuild.confirm" on the project's area, or a
  liaison of one of the project's parties (the unit doing the work reports it);
* the lifecycle is planned → running → completed, or planned/running → cancelled.  Every
  move is a conditional UPDATE on the status, so two people pressing at once cannot both
  move it; the project row is locked while milestones and records change, so a milestone
  cannot be added to a project that is being completed;
* completing needs every milestone done; the need becomes met (已满足);
* cancelling needs a reason; the need is open for claiming again, the claim is withdrawn
  (it no longer holds the need: one live claim per need) and the quantity its confirmation
  committed (services.claim_confirm) is given back to the resource;
* a service record counts people, never names them: a group (高龄老人), a head count,
  volunteers and their hours (at most 24 hours a volunteer a day);
* evidence is a JPEG, PNG or WebP photo checked by content (dispatch/attachments.py, the
  same polyglot refusal; metadata such as GPS removed) or a PDF (``%PDF-``), at most 10 MB,
  stored under a random name with its SHA-256, served only through a scoped view.
Closed projects (completed, cancelled) take no milestone changes; records may still be added
to a completed project (late paperwork), evidence too; a cancelled project takes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.dispatch import attachments, imagemeta

from .choices import ClaimStatus, NeedStatus, ProjectStatus
from .models import Claim, Evidence, Milestone, Need, Project, Resource, ServiceRecord
from .services import NOTE_MAX, TITLE_MAX, InvalidTransition, _is_liaison_of, staff_can

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
CAPTION_MAX = 200
GROUP_MAX = 60
PDF = attachments.PDF
EVIDENCE_TYPES = attachments.DOCUMENT_EXTENSIONS
OPEN_STATUSES = (ProjectStatus.PLANNED, ProjectStatus.RUNNING)
HOURS_PER_VOLUNTEER = 24
HOURS_MAX = Decimal("9999999.9")  # max_digits=8, decimal_places=1


# --- Who may act ---------------------------------------------------------------------------

def party_ids(project: Project) -> list[int]:
    from zhouxin.orgs.models import Organisation

    return list(Organisation.objects.unscoped().filter(cobuild_projects=project).values_list("pk", flat=True))


def can_manage(actor, project: Project) -> bool:
    """Staff confirming co-building in the project's area, or a liaison of one of its parties."""
    if actor is None or not actor.is_authenticated:
        return False
    if staff_can(actor, "cobuild.confirm", project.area.code):
        return True
    return any(_is_liaison_of(actor, pk) for pk in party_ids(project))


def _ensure_manager(actor, project: Project) -> None:
    if not can_manage(actor, project):
        raise PermissionDenied(_("只有项目所在社区或街道的工作人员、或共建单位的联络员可以管理项目实施。"))


def _locked(project: Project) -> Project:
    """The project's current row, locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway)."""
    return Project.objects.unscoped().select_for_update().select_related("area").get(pk=project.pk)


def _today() -> dt.date:
    return timezone.localdate()


def _text(errors: dict, field: str, value, *, limit: int, missing: str | None = None) -> str:
    value = (value or "").strip()
    if missing and not value:
        errors.setdefault(field, []).append(missing)
    elif len(value) > limit:
        errors.setdefault(field, []).append(_("不能超过 %(n)d 个字。") % {"n": limit})
    return value


def _refresh(project: Project, current: Project) -> Project:
    for field in ("status", "starts_on", "completed_at"):
        setattr(project, field, getattr(current, field))
    return project


# --- Lifecycle -----------------------------------------------------------------------------

def _release(project: Project, claim_status: str, now) -> tuple[Claim | None, int]:
    """End the project's claim (→ `claim_status`) and give its quantity back to the resource.

    The commitment exists exactly while the claim is confirmed (claim_confirm): moving the
    claim off "confirmed" first makes a second release impossible."""
    claim = Claim.objects.unscoped().filter(pk=project.claim_id).first() if project.claim_id else None
    if not claim or Claim.objects.unscoped().filter(pk=claim.pk, status=ClaimStatus.CONFIRMED).update(
            status=claim_status) != 1:
        return claim, 0
    given_back = Resource.objects.unscoped().filter(pk=claim.resource_id, committed__gte=claim.quantity).update(
        committed=F("committed") - claim.quantity, updated_at=now)
    if given_back != 1:  # an inconsistent count (edited by hand): never below zero
        Resource.objects.unscoped().filter(pk=claim.resource_id).update(committed=0, updated_at=now)
    return claim, claim.quantity


@transaction.atomic
def project_start(*, actor, project: Project) -> Project:
    """Start a planned project (筹备中 → 实施中); an empty start date becomes today."""
    current = _locked(project)
    _ensure_manager(actor, current)
    today = _today()
    moved = Project.objects.unscoped().filter(pk=current.pk, status=ProjectStatus.PLANNED).update(
        status=ProjectStatus.RUNNING)
    if moved != 1:
        raise InvalidTransition(_("只有筹备中的项目可以开始实施。"))
    if current.starts_on is None and (current.ends_on is None or current.ends_on >= today):
        Project.objects.unscoped().filter(pk=current.pk).update(starts_on=today)
    current.refresh_from_db()
    audit.record(actor=actor, action="cobuild.project.started", obj=current,
                 before={"status": ProjectStatus.PLANNED}, after={"status": current.status,
                                                                  "starts_on": current.starts_on})
    return _refresh(project, current)


@transaction.atomic
def project_complete(*, actor, project: Project, note: str = "") -> Project:
    """Complete a running project (实施中 → 已完成): every milestone must be done; the need is met."""
    current = _locked(project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX)
    if errors:
        raise ValidationError(errors)
    if current.status != ProjectStatus.RUNNING:
        raise InvalidTransition(_("只有实施中的项目可以结项。"))
    still_open = list(Milestone.objects.filter(project=current, done_on__isnull=True).values_list("title", flat=True))
    if still_open:
        raise ValidationError({"milestones": [
            _("还有 %(n)d 个节点未完成（%(titles)s），请先完成或删除这些节点再结项。")
            % {"n": len(still_open), "titles": "、".join(still_open[:5])}]})
    now = timezone.now()
    moved = Project.objects.unscoped().filter(pk=current.pk, status=ProjectStatus.RUNNING).update(
        status=ProjectStatus.COMPLETED, completed_at=now)
    if moved != 1:
        raise InvalidTransition(_("只有实施中的项目可以结项。"))
    if current.need_id:
        Need.objects.unscoped().filter(pk=current.need_id, status__in=(NeedStatus.CONFIRMED, NeedStatus.IN_PROJECT)) \
            .update(status=NeedStatus.MET, updated_at=now)
    # The resource's quantity served this project only: once it is done the unit can offer it again.
    claim, released = _release(current, ClaimStatus.FULFILLED, now)
    current.refresh_from_db()
    audit.record(actor=actor, action="cobuild.project.completed", obj=current,
                 before={"status": ProjectStatus.RUNNING},
                 after={"status": current.status, "completed_at": now, "note": note, "need": current.need_id,
                        "claim": current.claim_id, "released": released,
                        "resource": claim.resource_id if claim else None})
    return _refresh(project, current)


@transaction.atomic
def project_cancel(*, actor, project: Project, reason: str) -> Project:
    """Cancel a planned or running project (→ 已取消) with a reason.  The need is open again,
    the claim is withdrawn and the quantity it committed goes back to the resource."""
    current = _locked(project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason, limit=NOTE_MAX, missing=_("请填写取消项目的原因。"))
    if errors:
        raise ValidationError(errors)
    before = current.status
    now = timezone.now()
    moved = Project.objects.unscoped().filter(pk=current.pk, status__in=OPEN_STATUSES).update(
        status=ProjectStatus.CANCELLED)
    if moved != 1:
        raise InvalidTransition(_("只有筹备中或实施中的项目可以取消。"))
    claim, released = _release(current, ClaimStatus.WITHDRAWN, now)
    if current.need_id:
        Need.objects.unscoped().filter(pk=current.need_id, status__in=(NeedStatus.CONFIRMED, NeedStatus.IN_PROJECT)) \
            .update(status=NeedStatus.OPEN, updated_at=now)
    current.refresh_from_db()
    audit.record(actor=actor, action="cobuild.project.cancelled", obj=current, before={"status": before},
                 after={"status": current.status, "reason": reason, "need": current.need_id,
                        "claim": current.claim_id, "released": released,
                        "resource": claim.resource_id if claim else None})
    return _refresh(project, current)


# --- Milestones ----------------------------------------------------------------------------

def _ensure_open(project: Project) -> None:
    if project.status not in OPEN_STATUSES:
        raise InvalidTransition(_("项目已结项或已取消，不能再修改节点。"))


@transaction.atomic
def milestone_add(*, actor, project: Project, title: str, due_on: dt.date, note: str = "") -> Milestone:
    """Add a milestone (节点) to a planned or running project."""
    current = _locked(project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title, limit=TITLE_MAX, missing=_("请填写节点名称。"))
    note = _text(errors, "note", note, limit=NOTE_MAX)
    if due_on is None:
        errors.setdefault("due_on", []).append(_("请填写计划完成日期。"))
    if errors:
        raise ValidationError(errors)
    _ensure_open(current)
    milestone = Milestone.objects.create(project=current, title=title, due_on=due_on, note=note)
    audit.record(actor=actor, action="cobuild.milestone.added", obj=milestone,
                 after={"project": current.pk, "title": title, "due_on": due_on, "note": note})
    return milestone


@transaction.atomic
def milestone_done(*, actor, milestone: Milestone, done_on: dt.date | None = None, note: str = "") -> Milestone:
    """Mark a milestone reached on `done_on` (today by default, never a future day)."""
    current = _locked(milestone.project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX)
    done_on = done_on or _today()
    if done_on > _today():
        errors.setdefault("done_on", []).append(_("完成日期不能晚于今天。"))
    if errors:
        raise ValidationError(errors)
    _ensure_open(current)
    changes = {"done_on": done_on, "done_by": actor}
    if note:
        changes["note"] = note
    moved = Milestone.objects.filter(pk=milestone.pk, project=current, done_on__isnull=True).update(**changes)
    if moved != 1:
        raise InvalidTransition(_("这个节点已经标记为完成。"))
    milestone.refresh_from_db()
    audit.record(actor=actor, action="cobuild.milestone.done", obj=milestone, before={"done_on": None},
                 after={"project": current.pk, "done_on": done_on, "note": milestone.note})
    return milestone


@transaction.atomic
def milestone_delete(*, actor, milestone: Milestone) -> None:
    """Delete a milestone that is not done yet (a reached one is part of the record)."""
    current = _locked(milestone.project)
    _ensure_manager(actor, current)
    _ensure_open(current)
    snapshot = {"project": current.pk, "title": milestone.title, "due_on": milestone.due_on}
    deleted, _rows = Milestone.objects.filter(pk=milestone.pk, project=current, done_on__isnull=True).delete()
    if not deleted:
        raise InvalidTransition(_("已完成的节点不能删除。"))
    audit.record(actor=actor, action="cobuild.milestone.deleted", object_type="cobuild.milestone",
                 object_id=milestone.pk, object_repr=str(milestone)[:200], before=snapshot)


# --- Service records -----------------------------------------------------------------------

def _count(errors: dict, field: str, value) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("请填写整数。"))
        return 0
    if number < 0:
        errors.setdefault(field, []).append(_("人数不能为负数。"))
    elif number > 1_000_000:
        errors.setdefault(field, []).append(_("人数过大，请核对。"))
    return number


@transaction.atomic
def record_add(*, actor, project: Project, held_on: dt.date, title: str, beneficiary_group: str = "",
               beneficiaries: int = 0, volunteers: int = 0, volunteer_hours=0, note: str = "") -> ServiceRecord:
    """Record one delivery of a running (or completed) project: whom it served — a group and
    a head count, never names — and volunteers with their hours (≤ 24 per volunteer)."""
    current = _locked(project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title, limit=TITLE_MAX, missing=_("请填写服务内容。"))
    beneficiary_group = _text(errors, "beneficiary_group", beneficiary_group, limit=GROUP_MAX)
    note = _text(errors, "note", note, limit=NOTE_MAX)
    if held_on is None:
        errors.setdefault("held_on", []).append(_("请填写服务日期。"))
    elif held_on > _today():
        errors.setdefault("held_on", []).append(_("服务日期不能晚于今天。"))
    beneficiaries = _count(errors, "beneficiaries", beneficiaries)
    volunteers = _count(errors, "volunteers", volunteers)
    try:
        hours = Decimal(str(volunteer_hours if volunteer_hours not in (None, "") else "0"))
        if not hours.is_finite():
            raise InvalidOperation
        hours = hours.quantize(Decimal("0.1"))
    except InvalidOperation:
        errors.setdefault("volunteer_hours", []).append(_("服务时长应为数字（小时）。"))
        hours = Decimal(0)
    if hours < 0:
        errors.setdefault("volunteer_hours", []).append(_("服务时长不能为负数。"))
    elif hours > max(volunteers, 0) * HOURS_PER_VOLUNTEER or hours > HOURS_MAX:
        errors.setdefault("volunteer_hours", []).append(
            _("服务时长不能超过志愿者人数 × 24 小时（%(n)d 名志愿者最多 %(max)d 小时）。")
            % {"n": max(volunteers, 0), "max": max(volunteers, 0) * HOURS_PER_VOLUNTEER})
    if errors:
        raise ValidationError(errors)
    if current.status not in (ProjectStatus.RUNNING, ProjectStatus.COMPLETED):
        raise InvalidTransition(_("只有实施中或已完成的项目可以登记服务记录。"))
    record = ServiceRecord.objects.create(
        project=current, held_on=held_on, title=title, beneficiary_group=beneficiary_group,
        beneficiaries=beneficiaries, volunteers=volunteers, volunteer_hours=hours, note=note, created_by=actor)
    audit.record(actor=actor, action="cobuild.record.added", obj=record, after={
        "project": current.pk, "held_on": held_on, "title": title, "beneficiary_group": beneficiary_group,
        "beneficiaries": beneficiaries, "volunteers": volunteers, "volunteer_hours": str(hours)})
    return record


# --- Evidence ------------------------------------------------------------------------------

def check_evidence(upload) -> tuple[str, str, bytes]:
    """(original name, content type, bytes to store) of an acceptable evidence file (a photo or
    a PDF, judged by content: dispatch.attachments.check_document), or a ValidationError.
    Photos lose their metadata: no GPS position or device in a published photo."""
    checked = imagemeta.clean_document(upload, limit=EVIDENCE_MAX_BYTES, default_name="evidence",
                                       missing=_("请选择要上传的照片或 PDF 文件。"))
    return checked.original_name, checked.content_type, checked.data


@transaction.atomic
def evidence_upload(*, actor, project: Project, upload, caption: str = "", milestone: Milestone | None = None,
                    record: ServiceRecord | None = None) -> Evidence:
    """Attach a photo or PDF as evidence (佐证材料) to a project, optionally to one of its
    milestones or service records.  Not on a cancelled project."""
    current = _locked(project)
    _ensure_manager(actor, current)
    errors: dict[str, list[str]] = {}
    caption = _text(errors, "caption", caption, limit=CAPTION_MAX)
    if milestone is not None and milestone.project_id != current.pk:
        errors.setdefault("milestone", []).append(_("该节点不属于这个项目。"))
    if record is not None and record.project_id != current.pk:
        errors.setdefault("record", []).append(_("该服务记录不属于这个项目。"))
    if errors:
        raise ValidationError(errors)
    name, kind, data = check_evidence(upload)
    if current.status == ProjectStatus.CANCELLED:
        raise InvalidTransition(_("项目已取消，不能再上传佐证材料。"))
    digest = hashlib.sha256(data).hexdigest()
    evidence = Evidence(project=current, milestone=milestone, record=record, original_name=name, content_type=kind,
                        size=len(data), sha256=digest, caption=caption, uploaded_by=actor)
    evidence.file.save(f"{uuid.uuid4().hex}.{EVIDENCE_TYPES[kind]}", ContentFile(data), save=False)
    try:
        evidence.save()
        audit.record(actor=actor, action="cobuild.evidence.uploaded", obj=evidence, after={
            "project": current.pk, "milestone": milestone.pk if milestone else None,
            "record": record.pk if record else None, "name": name, "content_type": kind, "size": len(data),
            "sha256": digest, "caption": caption})
    except Exception:
        evidence.file.storage.delete(evidence.file.name)  # no file without its row
        raise
    return evidence


@transaction.atomic
def evidence_delete(*, actor, evidence: Evidence) -> None:
    """Remove an evidence file (a wrong photo); the file goes once the deletion is committed."""
    from django.core.files.storage import default_storage

    current = _locked(evidence.project)
    _ensure_manager(actor, current)
    if current.status == ProjectStatus.CANCELLED:
        raise InvalidTransition(_("项目已取消，不能再修改佐证材料。"))
    snapshot = {"project": current.pk, "name": evidence.original_name, "sha256": evidence.sha256,
                "caption": evidence.caption}
    stored = evidence.file.name
    deleted, _rows = Evidence.objects.filter(pk=evidence.pk, project=current).delete()
    if not deleted:
        raise InvalidTransition(_("这份佐证材料已被删除。"))
    if stored:
        transaction.on_commit(lambda: default_storage.delete(stored))
    audit.record(actor=actor, action="cobuild.evidence.deleted", object_type="cobuild.evidence",
                 object_id=evidence.pk, object_repr=str(evidence)[:200], before=snapshot)
