"""Every write of publishing: notices through draft → pending → published, and the integrity
monitor's findings (withhold, alert), the security admin's review and the file baseline.

Rules and where they come from:
* rich text is sanitised on every save (core.sanitize, DESIGN §4: no style attributes, so no
  hidden links);
* the text is screened (dispatch.screening) when submitted and again at approval; a held
  notice cannot be approved, and its reason is shown;
* approval is by a different person from the author (审核与撰稿分离, also a database
  constraint) holding "publishing.approve" on the notice's area; links must go to our own
  site or the allow-list;
* at approval the canonical public content is hashed; the monitor compares against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.choices import AuditResult
from zhouxin.core.permissions import can, ensure_can
from zhouxin.core.sanitize import clean_html, host_allowed, outbound_links, text_of
from zhouxin.dispatch import screening
from zhouxin.orgs.choices import AreaLevel

from . import integrity
from .choices import EDITABLE_STATUSES, AlertKind, CheckResult, NoticeStatus, PageKind
from .models import FileBaseline, Notice, PublishedPage, SecurityAlert
from .policy import allowed_hosts

TITLE_MAX = 120
BODY_MAX = 50_000
REASON_MAX = 300


class NoticeHeld(Exception):
    """The screening held the notice: it stays pending with the reason shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# --- Notices ---------------------------------------------------------------------------

def _validated(*, title: str, body: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors.setdefault("title", []).append(_("请填写标题。"))
    elif len(title) > TITLE_MAX:
        errors.setdefault("title", []).append(_("标题不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    raw = body or ""
    if len(raw) > BODY_MAX:
        errors.setdefault("body", []).append(_("正文过长（最多 %(n)d 个字符）。") % {"n": BODY_MAX})
        cleaned = ""
    else:
        cleaned = clean_html(raw)
        if not text_of(cleaned):
            errors.setdefault("body", []).append(_("请填写正文。"))
    if errors:
        raise ValidationError(errors)
    return title, cleaned


def _check_area(actor, area) -> None:
    if area is None or area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY) or not area.is_active:
        raise ValidationError({"area": [_("公告只能发布在启用中的街道或社区。")]})
    if not can(actor, "publishing.edit", area.code):
        raise PermissionDenied(_("您没有权限在该区域发布公告。"))


def _snapshot(notice: Notice) -> dict:
    return {"area": notice.area.code, "title": notice.title, "status": notice.status,
            "body_sha256": integrity.sha256(notice.body)}


def _locked(notice: Notice) -> Notice:
    return Notice.objects.unscoped().select_for_update().select_related("area").get(pk=notice.pk)


@transaction.atomic
def notice_create(*, actor, area, title: str, body: str) -> Notice:
    """A draft notice of a street or community in the actor's scope; the body is sanitised."""
    _check_area(actor, area)
    title, body = _validated(title=title, body=body)
    notice = Notice.objects.unscoped().create(area=area, title=title, body=body, author=actor,
                                              status=NoticeStatus.DRAFT)
    audit.record(actor=actor, action="publishing.notice.created", obj=notice, after=_snapshot(notice))
    return notice


@transaction.atomic
def notice_update(*, actor, notice: Notice, title: str, body: str, area=None) -> Notice:
    """Edit a draft (or a taken-down notice, which goes back to draft)."""
    notice = _locked(notice)
    ensure_can(actor, "publishing.edit", notice.area.code)
    if notice.status not in EDITABLE_STATUSES:
        raise ValidationError(_("只有草稿或已撤下的公告可以修改；已提交的公告请先退回。"))
    if area is not None and area.pk != notice.area_id:
        _check_area(actor, area)
    title, body = _validated(title=title, body=body)
    before = _snapshot(notice)
    notice.title, notice.body = title, body
    if area is not None:
        notice.area = area
    notice.status = NoticeStatus.DRAFT
    notice.hold_reason = ""
    notice.save(update_fields=["title", "body", "area", "status", "hold_reason", "updated_at"])
    audit.record(actor=actor, action="publishing.notice.updated", obj=notice, before=before, after=_snapshot(notice))
    return notice


def _screen(notice: Notice) -> screening.ScreenResult:
    return screening.screen_text(f"{notice.title}\n{text_of(notice.body)}")


@transaction.atomic
def notice_submit(*, actor, notice: Notice) -> Notice:
    """Send a draft for approval; the screening's reason, if it holds the text, is kept for the approver."""
    notice = _locked(notice)
    ensure_can(actor, "publishing.edit", notice.area.code)
    if notice.status != NoticeStatus.DRAFT:
        raise ValidationError(_("只有草稿可以提交审核。"))
    result = _screen(notice)
    notice.status = NoticeStatus.PENDING
    notice.submitted_at = timezone.now()
    notice.hold_reason = result.reason if result.hold else ""
    notice.return_reason = ""
    notice.save(update_fields=["status", "submitted_at", "hold_reason", "return_reason", "updated_at"])
    audit.record(actor=actor, action="publishing.notice.submitted", obj=notice,
                 after={"status": notice.status, "held": result.hold, "hold_reason": notice.hold_reason})
    return notice


def notice_approve(*, actor, notice: Notice) -> Notice:
    """Approve and publish a pending notice (see the module docstring for the rules).

    Raises NoticeHeld when the screening holds the text: the reason is then stored on the
    notice and audited (that part commits), and nothing is published."""
    approved, held = _notice_approve(actor=actor, notice=notice)
    if held:
        raise NoticeHeld(held)
    return approved


@transaction.atomic
def _notice_approve(*, actor, notice: Notice) -> tuple[Notice, str]:
    notice = _locked(notice)
    ensure_can(actor, "publishing.approve", notice.area.code)
    if notice.status != NoticeStatus.PENDING:
        raise ValidationError(_("只有待审核的公告可以批准发布。"))
    if notice.author_id == actor.pk:
        raise ValidationError(_("不能批准自己撰写的公告，请由另一位审核人批准。"))
    result = _screen(notice)
    if result.hold:
        reason = result.reason or _("内容筛查未通过。")
        notice.hold_reason = reason[:200]
        notice.save(update_fields=["hold_reason", "updated_at"])
        audit.record(actor=actor, action="publishing.notice.held", obj=notice, after={"reason": notice.hold_reason},
                     result=AuditResult.DENIED)
        return notice, notice.hold_reason
    foreign = [h for h in outbound_links(notice.body) if not host_allowed(h, allowed_hosts())]
    if foreign:
        raise ValidationError(_("正文链接到未列入允许名单的网站：%(hosts)s。请删除这些链接，或请安全管理员把网站加入允许名单。")
                              % {"hosts": "、".join(foreign)})
    now = timezone.now().replace(microsecond=0)
    notice.status = NoticeStatus.PUBLISHED
    notice.approver = actor
    notice.approved_at = now
    notice.published_at = now
    notice.hold_reason = ""
    notice.content_hash = integrity.notice_hash(notice)
    notice.save(update_fields=["status", "approver", "approved_at", "published_at", "hold_reason", "content_hash",
                               "updated_at"])
    path = notice.public_path
    PublishedPage.objects.filter(notice=notice).exclude(path=path).delete()
    PublishedPage.objects.update_or_create(path=path, defaults={
        "kind": PageKind.NOTICE, "notice": notice, "label": notice.title[:200], "approved_hash": notice.content_hash,
        "approved_at": now, "approved_by": actor, "last_result": CheckResult.UNCHECKED, "last_problems": [],
        "withheld": False, "withheld_at": None})
    audit.record(actor=actor, action="publishing.notice.approved", obj=notice,
                 after={"status": notice.status, "path": path, "content_hash": notice.content_hash})
    return notice, ""


@transaction.atomic
def notice_return(*, actor, notice: Notice, reason: str) -> Notice:
    """Send a pending notice back to its author with a reason."""
    notice = _locked(notice)
    ensure_can(actor, "publishing.approve", notice.area.code)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写退回原因。")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("退回原因不能超过 %(n)d 个字。") % {"n": REASON_MAX}]})
    if notice.status != NoticeStatus.PENDING:
        raise ValidationError(_("只有待审核的公告可以退回。"))
    notice.status = NoticeStatus.DRAFT
    notice.return_reason = reason
    notice.save(update_fields=["status", "return_reason", "updated_at"])
    audit.record(actor=actor, action="publishing.notice.returned", obj=notice, after={"reason": reason})
    return notice


@transaction.atomic
def notice_unpublish(*, actor, notice: Notice, reason: str = "") -> Notice:
    """Take a published (or withheld) notice off the public site; its page leaves the monitor."""
    notice = _locked(notice)
    ensure_can(actor, "publishing.edit", notice.area.code)
    if notice.status not in (NoticeStatus.PUBLISHED, NoticeStatus.WITHHELD):
        raise ValidationError(_("只有已发布或核查中的公告可以撤下。"))
    before = notice.status
    notice.status = NoticeStatus.UNPUBLISHED
    notice.unpublished_at = timezone.now()
    notice.save(update_fields=["status", "unpublished_at", "updated_at"])
    PublishedPage.objects.filter(notice=notice).delete()
    audit.record(actor=actor, action="publishing.notice.unpublished", obj=notice,
                 before={"status": before}, after={"status": notice.status, "reason": (reason or "")[:REASON_MAX]})
    return notice


# --- File baseline ---------------------------------------------------------------------

def baseline() -> dict[str, str]:
    return dict(FileBaseline.objects.values_list("key", "sha256"))


@transaction.atomic
def baseline_record(*, actor, files: dict[str, integrity.FileEntry] | None = None) -> integrity.FileChanges:
    """Take the template and static files on disk as the baseline (at start-up, or after the
    security admin has reviewed a change).  Returns what differs from the previous baseline,
    which the audit entry keeps."""
    if actor is not None:
        ensure_can(actor, "core.security.manage")
    files = integrity.manifest() if files is None else files
    previous = baseline()
    changes = integrity.compare(previous, files)
    now = timezone.now()
    FileBaseline.objects.all().delete()
    FileBaseline.objects.bulk_create(
        [FileBaseline(key=k, kind=e.kind, sha256=e.sha256, size=e.size, recorded_at=now) for k, e in files.items()],
        batch_size=500)
    audit.record(actor=actor, action="publishing.baseline.recorded", object_type="publishing.filebaseline",
                 object_repr=_("模板与静态文件基线"),
                 after={"files": len(files), "first": not previous, "changed": changes.changed[:50],
                        "added": changes.added[:50], "removed": changes.removed[:50]})
    return changes


@transaction.atomic
def portal_pages_sync(*, pages: dict[str, str]) -> tuple[int, int]:
    """Make the portal's public pages (path → label) the watched portal pages: add the new ones,
    drop those no longer public unless withheld (a withheld page waits for the security admin)."""
    existing = dict(PublishedPage.objects.filter(kind=PageKind.PORTAL).values_list("path", "withheld"))
    new = [PublishedPage(path=path, kind=PageKind.PORTAL, label=label[:200])
           for path, label in pages.items() if path not in existing]
    PublishedPage.objects.bulk_create(new, batch_size=500)
    gone = [path for path, withheld in existing.items() if path not in pages and not withheld]
    PublishedPage.objects.filter(kind=PageKind.PORTAL, path__in=gone).delete()
    if new or gone:
        audit.record(actor=None, action="publishing.portal_pages.synced", object_type="publishing.publishedpage",
                     object_repr=_("社区公开页面"), after={"added": len(new), "removed": len(gone)})
    return len(new), len(gone)


# --- Monitor findings ------------------------------------------------------------------

@dataclass
class RunResult:
    pages: list[dict] = field(default_factory=list)
    files: integrity.FileChanges = field(default_factory=integrity.FileChanges)
    baseline_recorded: bool = False
    newly_withheld: list[str] = field(default_factory=list)
    alerts: int = 0

    @property
    def ok(self) -> bool:
        return not self.files.any and all(p["result"] == CheckResult.OK for p in self.pages)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "baseline_recorded": self.baseline_recorded, "files": self.files.as_dict(),
                "pages": self.pages, "newly_withheld": self.newly_withheld, "alerts": self.alerts}


def _page_label(page: PublishedPage) -> str:
    return page.label or page.path


def _withhold(page: PublishedPage, problems: list[dict], now: dt.datetime) -> None:
    page.withheld = True
    page.withheld_at = now
    if page.notice_id:
        Notice.objects.unscoped().filter(pk=page.notice_id, status=NoticeStatus.PUBLISHED).update(
            status=NoticeStatus.WITHHELD, updated_at=now)
    message = _("公开页面“%(page)s”（%(path)s）已暂停公开：%(problems)s") % {
        "page": _page_label(page), "path": page.path, "problems": "；".join(p["message"] for p in problems)}
    SecurityAlert.objects.create(kind=AlertKind.PAGE, message=message, page=page, object_type="publishing.publishedpage",
                                 object_id=str(page.pk), object_repr=_page_label(page)[:300],
                                 details={"path": page.path, "problems": problems})
    audit.record(actor=None, action="publishing.page.withheld", obj=page, result=AuditResult.DENIED,
                 after={"path": page.path, "problems": problems})


@transaction.atomic
def pages_record_results(*, checks: list[tuple[PublishedPage, integrity.PageCheck]], files: integrity.FileChanges,
                         baseline_recorded: bool = False) -> RunResult:
    """Store one monitor run: each page's result; a page found wrong is withheld (its public
    URL answers "页面核查中") with a SecurityAlert and an audit entry, once — a page already
    withheld stays so until the security admin re-approves it.  Changed files give one alert
    per distinct set of changes."""
    now = timezone.now()
    result = RunResult(files=files, baseline_recorded=baseline_recorded)
    changed_keys = files.keys
    for page, check in checks:
        problems = [p.as_dict() for p in check.problems]
        touched = sorted((check.templates | check.statics) & changed_keys)
        if touched:
            problems.append(integrity.Problem(
                "files", _("页面使用的文件已被改动：%(files)s。") % {"files": "、".join(touched[:10])},
                {"files": touched}).as_dict())
        fresh = PublishedPage.objects.select_for_update().filter(pk=page.pk).first()
        if fresh is None:  # unpublished while we were checking
            continue
        fresh.last_checked_at = now
        fresh.last_result = CheckResult.MISMATCH if problems else CheckResult.OK
        fresh.last_problems = problems
        if problems and not fresh.withheld:
            _withhold(fresh, problems, now)
            result.newly_withheld.append(fresh.path)
            result.alerts += 1
        fresh.save(update_fields=["last_checked_at", "last_result", "last_problems", "withheld", "withheld_at"])
        result.pages.append({"path": fresh.path, "kind": fresh.kind, "label": _page_label(fresh),
                             "result": fresh.last_result, "withheld": fresh.withheld, "problems": problems})
    if files.any:
        fingerprint = files.fingerprint()
        if not SecurityAlert.objects.filter(kind=AlertKind.FILES, acknowledged_at__isnull=True,
                                            details__fingerprint=fingerprint).exists():
            counts = {"changed": len(files.changed), "added": len(files.added), "removed": len(files.removed)}
            SecurityAlert.objects.create(
                kind=AlertKind.FILES, object_type="publishing.filebaseline", object_repr=_("模板与静态文件"),
                message=_("模板或静态文件与基线不一致：改动 %(changed)d 个，新增 %(added)d 个，删除 %(removed)d 个。")
                % counts, details={"fingerprint": fingerprint, **files.as_dict()})
            audit.record(actor=None, action="publishing.files.changed", object_type="publishing.filebaseline",
                         object_repr=_("模板与静态文件"), result=AuditResult.DENIED,
                         after={**counts, **{k: v[:50] for k, v in files.as_dict().items()}})
            result.alerts += 1
    audit.record(actor=None, action="publishing.verify.run", object_type="publishing.publishedpage",
                 object_repr=_("公开页面核查"),
                 result=AuditResult.OK if result.ok else AuditResult.FAILED,
                 after={"pages": len(result.pages),
                        "mismatched": sum(1 for p in result.pages if p["result"] != CheckResult.OK),
                        "newly_withheld": result.newly_withheld[:50], "files_changed": len(changed_keys),
                        "baseline_recorded": baseline_recorded})
    return result


@transaction.atomic
def alert_acknowledge(*, actor, alert: SecurityAlert, note: str = "") -> SecurityAlert:
    ensure_can(actor, "core.security.manage")
    claimed = SecurityAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_by=actor, acknowledged_at=timezone.now())
    if claimed != 1:
        raise ValidationError(_("这条告警已经确认过了。"))
    alert.refresh_from_db()
    audit.record(actor=actor, action="publishing.alert.acknowledged", obj=alert,
                 after={"kind": alert.kind, "note": (note or "")[:REASON_MAX]})
    return alert


@transaction.atomic
def page_reapprove(*, actor, page: PublishedPage, note: str) -> PublishedPage:
    """The security admin's release of a withheld page after review: the page must render the
    same for browsers and crawlers, link only to allowed sites, and the files must match the
    baseline; its current content is then taken as approved (re-hashed) and it is public again."""
    ensure_can(actor, "core.security.manage")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写复核说明：核查了什么、为什么可以恢复公开。")]})
    page = PublishedPage.objects.select_for_update().get(pk=page.pk)
    files = integrity.compare(baseline(), integrity.manifest())
    if files.any:
        raise ValidationError(_("模板或静态文件与基线不一致，请先核查这些改动并更新文件基线，再恢复页面。"))
    check = integrity.check_page(page.path, approved_hash="" if page.kind == PageKind.NOTICE else None,
                                 allowed=allowed_hosts(), search_words=page.label)
    blocking = [p for p in check.problems if p.code != "hash"]
    if blocking:
        raise ValidationError(_("页面仍有问题，不能恢复公开：%(problems)s")
                              % {"problems": "；".join(p.message for p in blocking)})
    before = {"approved_hash": page.approved_hash, "withheld": page.withheld}
    now = timezone.now()
    page.approved_hash = check.region_hash if page.kind == PageKind.NOTICE else ""
    page.approved_at = now
    page.approved_by = actor
    page.withheld = False
    page.withheld_at = None
    page.last_checked_at = now
    page.last_result = CheckResult.OK
    page.last_problems = []
    page.save(update_fields=["approved_hash", "approved_at", "approved_by", "withheld", "withheld_at",
                             "last_checked_at", "last_result", "last_problems"])
    if page.notice_id:
        Notice.objects.unscoped().filter(
            pk=page.notice_id, status__in=[NoticeStatus.PUBLISHED, NoticeStatus.WITHHELD]).update(
            content_hash=page.approved_hash, status=NoticeStatus.PUBLISHED, updated_at=now)
    audit.record(actor=actor, action="publishing.page.reapproved", obj=page, before=before,
                 after={"approved_hash": page.approved_hash, "note": note[:REASON_MAX], "path": page.path})
    return page


def baseline_count() -> int:
    return FileBaseline.objects.count()
