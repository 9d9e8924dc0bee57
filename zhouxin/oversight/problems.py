"""Responsibility lists (责任清单), key problems (重点难点问题) with closure (销号) on evidence, and
topic meetings (专题会议): issue 11 item 1, DESIGN §3 oversight (领导责任).

Rules and where they come from:

* a responsibility list belongs to one Party committee (党委, 党工委, 党总支) of a district, street
  or community, one year and one leader role (第一责任人 the secretary, 直接责任人 the full-time
  deputy, 一岗双责 the other members), with the holder's name; its items have a deadline inside
  the list's year and are marked done only with what shows it (完成情况);
* a key problem belongs to a street or a community; it has an owner (包联领导), a lead
  organisation (牵头单位) and co-organisations (协办单位) of the same district, a target and a
  deadline in the future.  Progress reports (进展) are appended, never edited: a percentage may
  go down (the work turned out larger), but the report then says so;
* closure (销号) is asked for by who keeps the problem, with a closure note, progress at 100 %
  and at least one evidence file (a photo or PDF judged by its content,
  dispatch.imagemeta.clean_document, the check the funds vouchers use); it is decided one level
  up (the contract's level rule): a community's problem by its street hub or the district, a
  street's by the district.  Nobody decides on a problem they listed or asked to close, nor
  on one whose owner they are: approved → closed (closed_by, closed_at); rejected with a reason
  → back in progress;
* a topic meeting of a district, street or community is held on a day not in the future and
  may take up the key problems of its area;
* keeping lists, problems and meetings needs "oversight.responsibility.edit" /
  "oversight.problem.edit" on the object's area, deciding closure "oversight.problem.close" on
  a node above it.  Every write is audited in its transaction.

Services that depend on the day take an optional `today` (default: the local date), so a
test or the demo can say which day it is.  The selectors at the end are the scoped reads of
the pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch import attachments, imagemeta
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .choices import ItemStatus, LeaderRole, MeetingKind, ProblemSource, ProblemStatus
from .models import (
    KeyProblem,
    ProblemEvidence,
    ProblemUpdate,
    Responsibility,
    ResponsibilityItem,
    TopicMeeting,
)

HOLDER_MAX = 64
ITEM_TEXT_MAX = 300
ITEM_EVIDENCE_MAX = 500
ITEMS_MAX = 60
TITLE_MAX = 120
DESCRIPTION_MAX = 4000
OWNER_MAX = 64
TARGET_MAX = 300
CO_ORGS_MAX = 20
NOTE_MAX = 1500            # a progress report (the model keeps 2000: room for the "went back" remark)
CLOSURE_NOTE_MAX = 2000
REASON_MAX = 500
FILES_MAX = 6              # evidence files in one report or closure request
FILE_MAX_BYTES = 10 * 1024 * 1024
DEADLINE_YEARS_AHEAD = 3
CHAIR_MAX = 64
DECISIONS_MAX = 4000
ATTENDEES_MAX = 2000
MEETING_PROBLEMS_MAX = 30
MEETING_YEARS_BACK = 3

# Who keeps a responsibility list: the Party committees that lead an area.
LIST_ORG_KINDS = (OrgKind.PARTY_COMMITTEE, OrgKind.WORKING_COMMITTEE, OrgKind.GENERAL_BRANCH)
LIST_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
# Key problems are a street's or a community's: the district decides on them.
PROBLEM_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY)
MEETING_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
# ProblemUpdate.kind
PROGRESS, CLOSURE_REQUEST, CLOSED, REOPENED = "progress", "closure_request", "closed", "reopened"
OPEN_STATUSES = (ProblemStatus.OPEN, ProblemStatus.IN_PROGRESS)


# --- Small helpers -------------------------------------------------------------------------------

def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


def _text(errors: dict, field: str, value, *, limit: int, missing: str | None = None) -> str:
    """The stripped text; a message on `field` when it is missing (if required) or too long."""
    text = str(value or "").strip()
    if not text and missing:
        errors.setdefault(field, []).append(missing)
    elif len(text) > limit:
        errors.setdefault(field, []).append(_("不能超过 %(limit)d 个字（现有 %(count)d 个）。")
                                            % {"limit": limit, "count": len(text)})
    return text


def _int(errors: dict, field: str, value, *, low: int, high: int, message: str) -> int | None:
    """A whole number between low and high (an int, or its digits as text), else `message`."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        number = int(value)
    if number is None or not low <= number <= high:
        errors.setdefault(field, []).append(message)
        return None
    return number


def prefix_q(prefixes: Iterable[str], field: str) -> Q:
    prefixes = list(prefixes)
    if not prefixes:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes))


def prefixes_for(user, permission: str) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(roles_for(permission))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_uploads(uploads) -> list[attachments.CheckedDocument]:
    """Every file judged by its content (photos lose their metadata), or a ValidationError on
    "uploads" naming each refused file."""
    uploads = [u for u in (uploads or []) if u is not None]
    if len(uploads) > FILES_MAX:
        raise ValidationError({"uploads": [_("一次最多上传 %(n)d 个文件。") % {"n": FILES_MAX}]})
    checked, messages = [], []
    for upload in uploads:
        try:
            checked.append(imagemeta.clean_document(upload, limit=FILE_MAX_BYTES, default_name="evidence",
                                                    missing=_("请选择照片或 PDF 文件。")))
        except ValidationError as exc:
            messages.extend(exc.messages)
    if messages:
        raise ValidationError({"uploads": messages})
    return checked


def _evidence_summary(items: list[ProblemEvidence]) -> list[dict]:
    return [{"id": e.pk, "name": e.name, "content_type": e.content_type, "size": e.size, "sha256": e.sha256}
            for e in items]


# --- Who may do what ------------------------------------------------------------------------------

def list_organisations(user):
    """The Party committees the user may keep responsibility lists for: 党委, 党工委 and 党总支
    of the districts, streets and communities under their "oversight.responsibility.edit" grants."""
    query = prefix_q(prefixes_for(user, "oversight.responsibility.edit"), "area__code")
    return (Organisation.objects.unscoped().filter(query, kind__in=LIST_ORG_KINDS, area__level__in=LIST_LEVELS,
                                                   is_active=True)
            .select_related("area").order_by("area__code", "name"))


def editable_areas(user, permission: str, levels):
    """Areas of the given levels under the user's grants for `permission` (reference data)."""
    query = prefix_q(prefixes_for(user, permission), "code")
    return Area.objects.unscoped().filter(query, level__in=levels, is_active=True).order_by("code")


def district_organisations(codes: Iterable[str]):
    """Active organisations of the districts of the given area codes: who may lead or help."""
    districts = sorted({code[:6] for code in codes})
    return (Organisation.objects.unscoped().filter(prefix_q(districts, "area__code"), is_active=True)
            .select_related("area").order_by("area__code", "kind", "name"))


def can_edit_list(user, responsibility: Responsibility) -> bool:
    return can(user, "oversight.responsibility.edit", responsibility.area.code)


def can_edit_problem(user, problem: KeyProblem) -> bool:
    return can(user, "oversight.problem.edit", problem.area.code)


def deciders_reach(user, code: str) -> bool:
    """True when the user holds "oversight.problem.close" on a node strictly above `code`: the
    street or district for a community, the district for a street (the level rule)."""
    scope = scope_for_user(user)
    for role in roles_for("oversight.problem.close"):
        for prefix in scope.prefixes_by_role.get(role, ()):
            if code.startswith(prefix) and len(prefix) < len(code):
                return True
    return False


def own_problem_reason(user, problem: KeyProblem) -> str | None:
    """Why `user` may not decide on the closure of `problem`, if they are its own keeper."""
    if problem.created_by_id == user.pk:
        return _("这个问题是您列入的，销号须由其他人审核。")
    requester = (ProblemUpdate.objects.unscoped().filter(problem=problem, kind=CLOSURE_REQUEST)
                 .order_by("-at", "-id").values_list("actor_id", flat=True).first())
    if requester == user.pk:
        return _("销号是您申请的，不能由您自己审核。")
    if user.full_name and user.full_name.strip() == problem.owner.strip():
        return _("您是这个问题的包联领导，不能审核自己负责的问题销号。")
    return None


def can_decide(user, problem: KeyProblem) -> bool:
    return deciders_reach(user, problem.area.code) and own_problem_reason(user, problem) is None


# --- Responsibility lists ---------------------------------------------------------------------------

def _list_snapshot(item: ResponsibilityItem) -> dict:
    return {"text": item.text, "due": item.due, "status": item.status, "evidence": item.evidence}


@transaction.atomic
def responsibility_create(*, actor, organisation: Organisation, year, role: str, holder: str,
                          today: dt.date | None = None) -> Responsibility:
    """A responsibility list of one leader role of a Party committee for one year (last year,
    this year or next)."""
    ensure_can(actor, "oversight.responsibility.edit", organisation.area.code)
    errors: dict[str, list[str]] = {}
    if organisation.kind not in LIST_ORG_KINDS or organisation.area.level not in LIST_LEVELS:
        errors.setdefault("organisation", []).append(
            _("责任清单按区、街道、社区的党委（党工委、党总支）建立，“%(org)s”不是。") % {"org": organisation.name})
    current = _today(today).year
    number = _int(errors, "year", year, low=current - 1, high=current + 1,
                  message=_("年度应为 %(a)d 至 %(b)d 年。") % {"a": current - 1, "b": current + 1})
    if role not in LeaderRole.values:
        errors.setdefault("role", []).append(_("请选择责任类别。"))
    holder = _text(errors, "holder", holder, limit=HOLDER_MAX, missing=_("请填写责任人姓名。"))
    if not errors and Responsibility.objects.unscoped().filter(organisation=organisation, year=number, role=role,
                                                                holder=holder).exists():
        errors.setdefault("holder", []).append(_("%(holder)s %(year)d 年在%(org)s已有“%(role)s”责任清单。") % {
            "holder": holder, "year": number, "org": organisation.name, "role": LeaderRole(role).label})
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():   # two clerks at once: the database constraint decides
            item = Responsibility.objects.create(area=organisation.area, organisation=organisation, year=number,
                                                 role=role, holder=holder, created_by=actor)
    except IntegrityError:
        raise ValidationError({"holder": [_("%(holder)s %(year)d 年在%(org)s已有“%(role)s”责任清单。") % {
            "holder": holder, "year": number, "org": organisation.name, "role": LeaderRole(role).label}]}) from None
    audit.record(actor=actor, action="oversight.responsibility.created", obj=item, after={
        "organisation": organisation.pk, "area": organisation.area.code, "year": number, "role": role,
        "holder": holder})
    return item


def _check_due(errors: dict, responsibility: Responsibility, due) -> dt.date | None:
    if due in (None, ""):
        return None
    if not isinstance(due, dt.date) or due.year != responsibility.year:
        errors.setdefault("due", []).append(_("完成时限应在 %(year)d 年内。") % {"year": responsibility.year})
        return None
    return due


def _touch(responsibility: Responsibility) -> None:
    Responsibility.objects.unscoped().filter(pk=responsibility.pk).update(updated_at=timezone.now())


@transaction.atomic
def responsibility_item_add(*, actor, responsibility: Responsibility, text: str,
                            due: dt.date | None = None) -> ResponsibilityItem:
    """Add an item (责任事项) to a list; its deadline, if any, falls in the list's year."""
    ensure_can(actor, "oversight.responsibility.edit", responsibility.area.code)
    errors: dict[str, list[str]] = {}
    text = _text(errors, "text", text, limit=ITEM_TEXT_MAX, missing=_("请填写责任事项。"))
    due = _check_due(errors, responsibility, due)
    existing = ResponsibilityItem.objects.unscoped().filter(responsibility=responsibility).aggregate(
        n=Count("id"), last=Max("position"))
    if existing["n"] >= ITEMS_MAX:
        errors.setdefault("text", []).append(_("一份责任清单最多 %(n)d 项。") % {"n": ITEMS_MAX})
    if errors:
        raise ValidationError(errors)
    item = ResponsibilityItem.objects.create(responsibility=responsibility, text=text, due=due,
                                             position=(existing["last"] or 0) + 1)
    _touch(responsibility)
    audit.record(actor=actor, action="oversight.responsibility.item_added", obj=responsibility,
                 after={"item": item.pk, **_list_snapshot(item)})
    return item


@transaction.atomic
def responsibility_item_update(*, actor, item: ResponsibilityItem, text: str, due: dt.date | None,
                               status: str, evidence: str = "") -> ResponsibilityItem:
    """Edit an item, or mark it done: done needs what shows it (完成情况)."""
    current = (ResponsibilityItem.objects.unscoped().select_for_update(of=("self",))
               .select_related("responsibility__area").get(pk=item.pk))
    responsibility = current.responsibility
    ensure_can(actor, "oversight.responsibility.edit", responsibility.area.code)
    errors: dict[str, list[str]] = {}
    text = _text(errors, "text", text, limit=ITEM_TEXT_MAX, missing=_("请填写责任事项。"))
    due = _check_due(errors, responsibility, due)
    if status not in ItemStatus.values:
        errors.setdefault("status", []).append(_("请选择状态。"))
    evidence = _text(errors, "evidence", evidence, limit=ITEM_EVIDENCE_MAX)
    if status == ItemStatus.DONE and not evidence:
        errors.setdefault("evidence", []).append(
            _("标记为已完成时，请写明完成情况：做了什么、有什么能证明（文件、会议、台账或平台记录）。"))
    if errors:
        raise ValidationError(errors)
    before = _list_snapshot(current)
    current.text, current.due, current.status, current.evidence = text, due, status, evidence
    after = _list_snapshot(current)
    if before == after:
        return current
    current.save(update_fields=["text", "due", "status", "evidence"])
    _touch(responsibility)
    done_now = before["status"] != ItemStatus.DONE and status == ItemStatus.DONE
    audit.record(actor=actor, action="oversight.responsibility.item_done" if done_now
                 else "oversight.responsibility.item_updated", obj=responsibility,
                 before={"item": current.pk, **before}, after={"item": current.pk, **after})
    for field in ("text", "due", "status", "evidence"):
        setattr(item, field, getattr(current, field))
    return current


# --- Key problems -----------------------------------------------------------------------------------

def _problem_snapshot(problem: KeyProblem) -> dict:
    return {"status": problem.status, "progress": problem.progress}


def _locked(problem: KeyProblem) -> KeyProblem:
    """The problem's current row, locked until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transactions serialise writers anyway)."""
    return (KeyProblem.objects.unscoped().select_for_update(of=("self",)).select_related("area")
            .get(pk=problem.pk))


def _refresh(problem: KeyProblem, current: KeyProblem) -> None:
    for field in current._meta.concrete_fields:
        setattr(problem, field.attname, getattr(current, field.attname))


@transaction.atomic
def problem_create(*, actor, area: Area, title: str, description: str, source: str, owner: str,
                   lead_org: Organisation, co_orgs=(), target: str, deadline: dt.date, category_code: str = "",
                   today: dt.date | None = None) -> KeyProblem:
    """List a key problem of a street or community: owner (包联领导), lead and co-organisations of
    the same district, target and a deadline after today (at most three years ahead)."""
    if area.level not in PROBLEM_LEVELS:
        raise ValidationError({"area": [_("重点难点问题列在街道或社区。")]})
    ensure_can(actor, "oversight.problem.edit", area.code)
    day = _today(today)
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title, limit=TITLE_MAX, missing=_("请填写问题。"))
    description = _text(errors, "description", description, limit=DESCRIPTION_MAX, missing=_("请填写问题描述。"))
    if source not in ProblemSource.values:
        errors.setdefault("source", []).append(_("请选择问题来源。"))
    owner = _text(errors, "owner", owner, limit=OWNER_MAX, missing=_("请填写包联领导。"))
    target = _text(errors, "target", target, limit=TARGET_MAX, missing=_("请填写工作目标。"))
    category_code = _text(errors, "category_code", category_code, limit=40)
    district = area.code[:6]
    if lead_org is None:
        errors.setdefault("lead_org", []).append(_("请选择牵头单位。"))
    elif not lead_org.area.code.startswith(district) or not lead_org.is_active:
        errors.setdefault("lead_org", []).append(_("牵头单位应是本区的单位。"))
    co_orgs = list(co_orgs or [])
    if len(co_orgs) > CO_ORGS_MAX:
        errors.setdefault("co_orgs", []).append(_("协办单位最多 %(n)d 个。") % {"n": CO_ORGS_MAX})
    outside = [o.name for o in co_orgs if not o.area.code.startswith(district) or not o.is_active]
    if outside:
        errors.setdefault("co_orgs", []).append(_("协办单位应是本区的单位：%(names)s 不是。") % {"names": pgettext("列表分隔", "、").join(outside)})
    if lead_org is not None and any(o.pk == lead_org.pk for o in co_orgs):
        errors.setdefault("co_orgs", []).append(_("牵头单位不必再列为协办单位。"))
    if not isinstance(deadline, dt.date):
        errors.setdefault("deadline", []).append(_("请填写完成时限。"))
    elif deadline <= day:
        errors.setdefault("deadline", []).append(_("完成时限应晚于今天。"))
    elif deadline > _add_years(day, DEADLINE_YEARS_AHEAD):
        errors.setdefault("deadline", []).append(_("完成时限不能晚于 %(n)d 年以后，请分阶段列入。")
                                                 % {"n": DEADLINE_YEARS_AHEAD})
    if errors:
        raise ValidationError(errors)
    problem = KeyProblem.objects.create(
        area=area, year=day.year, title=title, description=description, source=source, category_code=category_code,
        owner=owner, lead_org=lead_org, target=target, deadline=deadline, created_by=actor)
    problem.co_orgs.add(*co_orgs)
    audit.record(actor=actor, action="oversight.problem.created", obj=problem, after={
        "area": area.code, "title": title, "source": source, "owner": owner, "lead_org": lead_org.pk,
        "co_orgs": sorted(o.pk for o in co_orgs), "target": target, "deadline": deadline})
    return problem


def co_org_ids(problem: KeyProblem) -> list[int]:
    """The co-organisations' ids, read past the caller's scope: organisations are reference
    data, and a district department helping a community's problem is shown to its staff."""
    return list(KeyProblem.co_orgs.through.objects.filter(keyproblem_id=problem.pk)
                .values_list("organisation_id", flat=True))


def partners_of(problem: KeyProblem):
    """The lead and co-organisations of a problem (who may report on it)."""
    return (Organisation.objects.unscoped().filter(pk__in=[problem.lead_org_id, *co_org_ids(problem)])
            .select_related("area").order_by("name"))


def _reporting_org(errors: dict, problem: KeyProblem, organisation) -> Organisation | None:
    if organisation is None:
        return None
    allowed = {problem.lead_org_id, *co_org_ids(problem)}
    if organisation.pk not in allowed:
        errors.setdefault("organisation", []).append(_("填报单位应是牵头单位或协办单位。"))
        return None
    return organisation


def _require_open(current: KeyProblem) -> None:
    if current.status == ProblemStatus.CLOSURE_REQUESTED:
        raise ValidationError(_("问题已申请销号，正在等待上级审核，审核前不能再填报进展。"))
    if current.status == ProblemStatus.CLOSED:
        raise ValidationError(_("问题已销号，不能再填报进展。"))


@transaction.atomic
def problem_report_progress(*, actor, problem: KeyProblem, note: str, progress, uploads=(),
                            organisation: Organisation | None = None) -> ProblemUpdate:
    """Append a progress report (进展) with the percentage reached and optional photos or PDFs.
    A lower percentage than before is accepted, and the report says so."""
    current = _locked(problem)
    ensure_can(actor, "oversight.problem.edit", current.area.code)
    _require_open(current)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX, missing=_("请填写进展情况。"))
    percent = _int(errors, "progress", progress, low=0, high=100, message=_("进度应为 0 到 100 之间的整数。"))
    organisation = _reporting_org(errors, current, organisation)
    if errors:
        raise ValidationError(errors)
    files = _check_uploads(uploads)
    before = _problem_snapshot(current)
    if percent < current.progress:
        note += "\n" + _("（进度由 %(old)d%% 调整为 %(new)d%%，低于上次填报。）") % {"old": current.progress,
                                                                          "new": percent}
    written: list[ProblemEvidence] = []
    try:
        update = ProblemUpdate.objects.create(problem=current, actor=actor, organisation=organisation,
                                              kind=PROGRESS, note=note, progress=percent)
        _save_files(current, update, files, actor, written)
        current.progress = percent
        current.status = ProblemStatus.IN_PROGRESS
        current.save(update_fields=["progress", "status", "updated_at"])
        audit.record(actor=actor, action="oversight.problem.progress", obj=current, before=before, after={
            **_problem_snapshot(current), "update": update.pk, "went_back": percent < before["progress"],
            "files": _evidence_summary(written)})
    except Exception:
        _remove(written)
        raise
    _refresh(problem, current)
    return update


def _save_files(problem: KeyProblem, update: ProblemUpdate, files, actor, written: list) -> None:
    """Store the checked files of one update, appending each to `written` as soon as it is on
    disk, so the caller can remove them if anything in its transaction fails."""
    for doc in files:
        item = ProblemEvidence(problem=problem, update=update, name=doc.original_name,
                               content_type=doc.content_type, size=len(doc.data),
                               sha256=hashlib.sha256(doc.data).hexdigest(), uploaded_by=actor)
        item.file.save(f"{uuid.uuid4().hex}.{doc.extension}", ContentFile(doc.data), save=False)
        written.append(item)
        item.save(force_insert=True)


def _remove(written: list) -> None:
    for item in written:
        item.file.storage.delete(item.file.name)


@transaction.atomic
def problem_request_closure(*, actor, problem: KeyProblem, note: str, uploads=()) -> ProblemUpdate:
    """Ask for closure (销号申请): progress at 100 %, a closure note, and at least one evidence
    file (attached now or with an earlier report).  The problem waits for the level above."""
    current = _locked(problem)
    ensure_can(actor, "oversight.problem.edit", current.area.code)
    if current.status == ProblemStatus.CLOSURE_REQUESTED:
        raise ValidationError(_("已经申请销号，正在等待上级审核。"))
    if current.status == ProblemStatus.CLOSED:
        raise ValidationError(_("问题已销号。"))
    if current.progress < 100:
        raise ValidationError({"note": [_("进度达到 100%% 后才能申请销号（当前 %(p)d%%），请先填报进展。")
                                        % {"p": current.progress}]})
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=CLOSURE_NOTE_MAX, missing=_("请填写销号说明：目标怎样达到、群众怎样评价。"))
    if errors:
        raise ValidationError(errors)
    files = _check_uploads(uploads)
    if not files and not ProblemEvidence.objects.unscoped().filter(problem=current).exists():
        raise ValidationError({"uploads": [_("申请销号须有佐证材料：请至少上传一份照片或 PDF 文件。")]})
    before = _problem_snapshot(current)
    written: list[ProblemEvidence] = []
    try:
        update = ProblemUpdate.objects.create(problem=current, actor=actor, kind=CLOSURE_REQUEST, note=note,
                                              progress=current.progress)
        _save_files(current, update, files, actor, written)
        current.status = ProblemStatus.CLOSURE_REQUESTED
        current.closure_note = note
        current.closure_requested_at = timezone.now()
        current.save(update_fields=["status", "closure_note", "closure_requested_at", "updated_at"])
        audit.record(actor=actor, action="oversight.problem.closure_requested", obj=current, before=before, after={
            **_problem_snapshot(current), "update": update.pk, "note": note, "files": _evidence_summary(written)})
    except Exception:
        _remove(written)
        raise
    _refresh(problem, current)
    return update


@transaction.atomic
def problem_decide_closure(*, actor, problem: KeyProblem, approve: bool, note: str = "") -> ProblemUpdate:
    """The level above decides a closure request: approved → closed (销号), rejected with a
    reason → back in progress.  Nobody decides on their own problem."""
    current = _locked(problem)
    ensure_can(actor, "oversight.view", current.area.code)
    if not deciders_reach(actor, current.area.code):
        raise PermissionDenied(_("销号由上一级审核：社区的问题由街道或区审核，街道的问题由区审核。"))
    if current.status != ProblemStatus.CLOSURE_REQUESTED:
        raise ValidationError(_("问题状态为“%(status)s”，没有待审核的销号申请。")
                              % {"status": current.get_status_display()})
    reason = own_problem_reason(actor, current)
    if reason:
        raise ValidationError(reason)
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=REASON_MAX,
                 missing=None if approve else _("不同意销号时，请写明理由和还要做什么。"))
    if errors:
        raise ValidationError(errors)
    before = _problem_snapshot(current)
    if approve:
        update = ProblemUpdate.objects.create(problem=current, actor=actor, kind=CLOSED, progress=current.progress,
                                              note=note or _("同意销号。"))
        current.status = ProblemStatus.CLOSED
        current.closed_by = actor
        current.closed_at = timezone.now()
        current.save(update_fields=["status", "closed_by", "closed_at", "updated_at"])
        action = "oversight.problem.closed"
    else:
        update = ProblemUpdate.objects.create(problem=current, actor=actor, kind=REOPENED, progress=current.progress,
                                              note=note)
        current.status = ProblemStatus.IN_PROGRESS
        current.closure_requested_at = None
        current.save(update_fields=["status", "closure_requested_at", "updated_at"])
        action = "oversight.problem.closure_rejected"
    audit.record(actor=actor, action=action, obj=current, before=before,
                 after={**_problem_snapshot(current), "update": update.pk, "note": note})
    _refresh(problem, current)
    return update


# --- Topic meetings ----------------------------------------------------------------------------------

@transaction.atomic
def meeting_create(*, actor, area: Area, kind: str, title: str, held_on: dt.date, chair: str, attendees,
                   decisions: str, problems=(), today: dt.date | None = None) -> TopicMeeting:
    """Record a meeting (党工委会议, 专题会议, 联席会议) held on a day not in the future, with what it
    decided and the key problems of its area it took up."""
    if area.level not in MEETING_LEVELS:
        raise ValidationError({"area": [_("会议应属于区、街道或社区。")]})
    ensure_can(actor, "oversight.problem.edit", area.code)
    day = _today(today)
    errors: dict[str, list[str]] = {}
    if kind not in MeetingKind.values:
        errors.setdefault("kind", []).append(_("请选择会议类型。"))
    title = _text(errors, "title", title, limit=TITLE_MAX, missing=_("请填写会议名称。"))
    if not isinstance(held_on, dt.date):
        errors.setdefault("held_on", []).append(_("请填写召开日期。"))
    elif held_on > day:
        errors.setdefault("held_on", []).append(_("召开日期不能晚于今天：会议开过后再记录。"))
    elif held_on < _add_years(day, -MEETING_YEARS_BACK):
        errors.setdefault("held_on", []).append(_("只能记录 %(n)d 年以内召开的会议。") % {"n": MEETING_YEARS_BACK})
    chair = _text(errors, "chair", chair, limit=CHAIR_MAX, missing=_("请填写主持人。"))
    count = _int(errors, "attendees", attendees, low=1, high=ATTENDEES_MAX,
                 message=_("参会人数应为 1 到 %(n)d 之间的整数。") % {"n": ATTENDEES_MAX})
    decisions = _text(errors, "decisions", decisions, limit=DECISIONS_MAX, missing=_("请填写议定事项。"))
    problems = list(problems or [])
    if len(problems) > MEETING_PROBLEMS_MAX:
        errors.setdefault("problems", []).append(_("一次会议最多关联 %(n)d 个问题。") % {"n": MEETING_PROBLEMS_MAX})
    outside = [p.title for p in problems if not p.area.code.startswith(area.code)]
    if outside:
        errors.setdefault("problems", []).append(_("只能关联本区域的问题：%(titles)s 不是。") % {"titles": pgettext("列表分隔", "、").join(outside)})
    if errors:
        raise ValidationError(errors)
    meeting = TopicMeeting.objects.create(area=area, kind=kind, title=title, held_on=held_on, chair=chair,
                                          attendees=count, decisions=decisions, created_by=actor)
    meeting.problems.add(*problems)
    audit.record(actor=actor, action="oversight.meeting.recorded", obj=meeting, after={
        "area": area.code, "kind": kind, "title": title, "held_on": held_on, "chair": chair, "attendees": count,
        "problems": sorted(p.pk for p in problems)})
    return meeting


# --- Selectors (scoped reads of the pages) -------------------------------------------------------------

def _visible(manager, user, field: str = "area__code"):
    """Rows of the user's areas for "oversight.view" (a grid worker's grant reaches none)."""
    return manager.restrict(user).filter(prefix_q(prefixes_for(user, "oversight.view"), field))


def responsibilities_for(user):
    return _visible(Responsibility.objects, user)


def problems_for(user):
    return _visible(KeyProblem.objects, user)


def meetings_for(user):
    return _visible(TopicMeeting.objects, user)


def overdue_q(today: dt.date | None = None) -> Q:
    """Deadline passed and not closed (销号)."""
    return Q(deadline__lt=_today(today)) & ~Q(status=ProblemStatus.CLOSED)


def days_overdue(problem: KeyProblem, today: dt.date | None = None) -> int:
    """Days since the deadline of a problem not closed; 0 when it is not overdue."""
    day = _today(today)
    if problem.status == ProblemStatus.CLOSED or problem.deadline >= day:
        return 0
    return (day - problem.deadline).days
