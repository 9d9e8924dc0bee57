"""Demonstration sites (示范点) and the case library of good practice (案例库), issue 11 item 4.

Demonstration sites
* a street hub nominates its street or one of its communities, community staff their community
  ("oversight.site.nominate" on the area), with a kind, a year, a title and the reason;
* the criteria come from this module (CRITERIA).  Where the platform knows the answer it fills
  it in itself: met or not, the figure and the link to the records behind it (the latest star
  rating of the area, the year's satisfaction rate, whether the secretary post is held).  What
  it cannot know (the centre meets the standard, the practice can be copied) is answered by
  the nominator in free text, per criterion, and judged by the district;
* the district decides ("oversight.site.decide"): approve or reject with a note (a note is
  required to reject, and to approve a site that misses a criterion the platform checked); the
  platform's answers are taken again at the decision.  An approved site can be revoked with a
  reason.

Case library
* staff write cases ("oversight.case.edit" on the area): title, summary, a body of rich text
  sanitised to the allowlist (core.sanitize), up to MAX_TAGS tags, evidence links to the
  platform's own pages (relative URLs that resolve on this site only) and files (photos and
  PDFs judged by content, photos without their metadata: dispatch.imagemeta.clean_document, as
  for the funds vouchers), optionally linked to a demonstration site;
* the street hub (for its communities) or the district publishes a case into the library (入库)
  and can withdraw it; a draft or withdrawn case is edited, a published one is withdrawn first;
* who reads what (cases_visible_to): a published case is read by the staff of its whole district
  (good practice is there to be shared); a draft or withdrawn case only in its own area's scope.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from zhouxin.core import audit, indicators
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.sanitize import clean_html, text_of
from zhouxin.core.scoping import scope_for_user
from zhouxin.dispatch import imagemeta
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Organisation

from .choices import CaseStatus, SiteKind, SiteStatus
from .models import CaseFile, CaseStudy, DemoSite, Rating
from .reviews import FIRST_YEAR, STORE_LANGUAGE, clean_text

TITLE_MAX = 120
REASON_MAX = 4000
EVIDENCE_TEXT_MAX = 500
NOTE_MAX = 500
SUMMARY_MAX = 300
BODY_MAX = 50000
MAX_TAGS = 8
TAG_MAX = 16
MAX_LINKS = 10
LINK_TITLE_MAX = 100
LINK_URL_MAX = 500
MAX_FILES = 12
MAX_FILES_PER_UPLOAD = 5
FILE_MAX_BYTES = 10 * 1024 * 1024

NOMINATED_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY)
CASE_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
EDITABLE_CASES = (CaseStatus.DRAFT, CaseStatus.WITHDRAWN)
# The level a kind of site must be nominated at (None: a street or a community).
KIND_LEVELS = {SiteKind.COMMUNITY: AreaLevel.COMMUNITY, SiteKind.STREET: AreaLevel.STREET}
STAFF_VIEW = "oversight.view"


# --- Criteria ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    met: bool | None   # None: the platform has no figure (or cannot know)
    figure: str
    link: str | None


@dataclass(frozen=True)
class Criterion:
    key: str
    text: str | Promise
    check: Callable[[Area, int], Answer] | None = None   # None: the nominator explains, the district judges

    @property
    def auto(self) -> bool:
        return self.check is not None


def _safe_reverse(name: str, *args, query: dict | None = None) -> str | None:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


STARS_NEEDED = 3


def _rating_answer(area: Area, year: int) -> Answer:
    """The latest star rating of the area (of a period that began in the year or before)."""
    rating = (Rating.objects.unscoped().filter(area=area, period_start__year__lte=year)
              .order_by("-period_end", "-id").first())
    if rating is None:
        return Answer(None, _("暂无星级评定"), None)
    try:
        label = indicators.Period.parse(rating.period).label
    except ValidationError:
        label = rating.period
    figure = _("%(stars)d 星（%(period)s）") % {"stars": rating.stars, "period": label}
    link = (_safe_reverse("oversight:rating_detail", area.code, rating.period)
            or _safe_reverse("oversight:rating_list", query={"period": rating.period}))
    return Answer(rating.stars >= STARS_NEEDED, figure, link)


def _indicator_answer(name: str, test: Callable[[Decimal], bool]) -> Callable[[Area, int], Answer]:
    def answer(area: Area, year: int) -> Answer:
        if not indicators.exists(name):
            return Answer(None, _("暂无数据"), None)
        period = indicators.Period.year(year)
        value = indicators.compute_many([name], [area], period).get(name, {}).get(area.pk)
        indicator = indicators.get(name)
        met = None if value is None else bool(test(Decimal(value)))
        return Answer(met, indicator.format(value), indicators.link(name, area, period))
    return answer


SATISFACTION_LINE = Decimal("0.90")

CRITERIA: tuple[Criterion, ...] = (
    Criterion("rating", gettext_lazy("星级评定三星以上"), _rating_answer),
    Criterion("satisfaction", gettext_lazy("群众满意率不低于 90%"),
              _indicator_answer("dispatch.satisfaction_rate", lambda v: v >= SATISFACTION_LINE)),
    Criterion("secretary", gettext_lazy("书记岗位在岗"),
              _indicator_answer("workforce.secretary_vacancy_days", lambda v: v == 0)),
    Criterion("centre", gettext_lazy("党群服务中心达标（面积、功能布局、开放时间）")),
    Criterion("practice", gettext_lazy("特色做法成效明显，可复制、可推广")),
    Criterion("discipline", gettext_lazy("班子团结，近三年无违纪违法和重大安全责任事故")),
)
CRITERIA_BY_KEY = {c.key: c for c in CRITERIA}
MANUAL_CRITERIA = tuple(c for c in CRITERIA if not c.auto)


def criteria_for(area: Area, year: int, evidence: dict[str, str] | None = None) -> list[dict]:
    """The criteria with the platform's answers: [{key, text, auto, met, figure, link, evidence}]."""
    evidence = evidence or {}
    rows = []
    with translation.override(STORE_LANGUAGE):
        for criterion in CRITERIA:
            answer = criterion.check(area, year) if criterion.auto else Answer(None, "", None)
            rows.append({"key": criterion.key, "text": str(criterion.text), "auto": criterion.auto,
                         "met": answer.met, "figure": str(answer.figure), "link": answer.link,
                         "evidence": evidence.get(criterion.key, "")})
    return rows


def criteria_shown(site: DemoSite) -> list[dict]:
    """The stored criteria for a page, with the text in the reader's language where known."""
    rows = []
    for item in site.criteria or []:
        criterion = CRITERIA_BY_KEY.get(item.get("key"))
        rows.append({**item, "text": str(criterion.text) if criterion else item.get("text", "")})
    return rows


# --- Who may do what ----------------------------------------------------------------------------------

def _area_prefixes(user, permission: str) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(roles_for(permission) & AREA_ROLES)


def _within(prefixes: Iterable[str], field: str = "code") -> Q | None:
    parts = [Q(**{f"{field}__startswith": p}) for p in prefixes]
    return reduce(or_, parts) if parts else None


def areas_for(user, permission: str, levels) -> object:
    """Active areas of the given levels where `user` holds `permission`."""
    query = _within(_area_prefixes(user, permission))
    if query is None:
        return Area.objects.unscoped().none()
    return Area.objects.unscoped().filter(query, level__in=levels, is_active=True).order_by("code")


def decides(user, permission: str, area: Area) -> bool:
    """The level rule: a community's things are decided by its street or the district, a street's
    by the district, the district's by the district itself."""
    roles = roles_for(permission)
    scope = scope_for_user(user)
    for role, prefixes in scope.prefixes_by_role.items():
        if role not in roles or role not in AREA_ROLES:
            continue
        for prefix in prefixes:
            if area.code.startswith(prefix) and (len(prefix) < len(area.code) or area.level == AreaLevel.DISTRICT):
                return True
    return False


def can_publish(user, case: CaseStudy) -> bool:
    return decides(user, "oversight.case.publish", case.area)


def can_edit_case(user, case: CaseStudy) -> bool:
    return can(user, "oversight.case.edit", case.area.code)


# --- Reads ----------------------------------------------------------------------------------------------

def cases_visible_to(user):
    """Cases `user` may read: every case in the scope of their grants, and the published cases of
    every district they work in."""
    prefixes = _area_prefixes(user, STAFF_VIEW)
    own = _within(prefixes, "area__code")
    if own is None:
        return CaseStudy.objects.unscoped().none()
    districts = {p[:6] for p in prefixes if len(p) >= 6}
    shared = _within(districts, "area__code")
    query = own if shared is None else own | (Q(status=CaseStatus.PUBLISHED) & shared)
    return CaseStudy.objects.unscoped().filter(query)


def sites_visible_to(user):
    return DemoSite.objects.restrict(user)


# --- Text helpers -------------------------------------------------------------------------------------

def _text(errors: dict, field: str, value, *, limit: int, label: str, required: bool = False) -> str:
    text = clean_text(value)
    if required and not text:
        errors.setdefault(field, []).append(_("请填写%(label)s。") % {"label": label})
    elif len(text) > limit:
        errors.setdefault(field, []).append(_("%(label)s不能超过 %(limit)d 个字。") % {"label": label, "limit": limit})
    return text


def _year(errors: dict, value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    last = timezone.localdate().year
    if not FIRST_YEAR <= year <= last:
        errors.setdefault("year", []).append(_("年度应在 %(first)d 年到 %(last)d 年之间。")
                                             % {"first": FIRST_YEAR, "last": last})
    return year


_TAG_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
_SPACES = re.compile(r"\s+")


def parse_tags(value) -> list[str]:
    """Tags typed as "社区治理，接诉即办、老旧小区" (or a list): normalised (full-width letters and
    digits folded, spaces collapsed, a leading # dropped), each once, at most MAX_TAGS."""
    raw = _TAG_SEPARATORS.split(value) if isinstance(value, str) else [str(v) for v in value or []]
    tags: list[str] = []
    seen: set[str] = set()
    problems = []
    for item in raw:
        tag = _tag_text(item)
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            problems.append(_("标签“%(tag)s”过长（每个标签最多 %(n)d 个字）。") % {"tag": tag[:TAG_MAX] + "…", "n": TAG_MAX})
            continue
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        problems.append(_("标签最多 %(n)d 个（现有 %(count)d 个）。") % {"n": MAX_TAGS, "count": len(tags)})
    if problems:
        raise ValidationError({"tags": problems})
    return tags


def _tag_text(value) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", clean_text(value))).strip().lstrip("#").strip()


def normalise_tag(value) -> str:
    """The form of a tag that filters compare (case folded)."""
    return _tag_text(value).casefold()


def site_path(url: str) -> str | None:
    """`url` when it is a page of this site given as a site-absolute path ("/funds/plans/12/"),
    else None: no scheme, no host, no "//" or backslash tricks, and it must resolve to a route."""
    url = (url or "").strip()
    if (not url or len(url) > LINK_URL_MAX or not url.startswith("/") or url.startswith("//") or "\\" in url
            or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url)):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    try:
        resolve(parts.path)
    except Resolver404:
        return None
    return url


def parse_evidence(value) -> list[dict]:
    """Evidence links, one a line: "标题 | /funds/plans/12/" or just the path; or a list of
    {title, url}.  Only pages of this site (site_path)."""
    if isinstance(value, str):
        lines = [line.strip() for line in value.splitlines() if line.strip()]
        pairs = []
        for line in lines:
            if "|" in line:
                title, url = (part.strip() for part in line.rsplit("|", 1))
            elif " " in line and line.rsplit(None, 1)[-1].startswith("/"):
                title, url = line.rsplit(None, 1)
            else:
                title, url = "", line
            pairs.append((title, url))
    else:
        pairs = [(str(item.get("title", "")), str(item.get("url", ""))) for item in value or []]
    links, problems = [], []
    for title, url in pairs:
        path = site_path(url)
        if path is None:
            problems.append(_("“%(url)s”不是本平台的页面地址。佐证链接只能是本平台业务记录的地址，"
                              "如 /funds/plans/12/（以 / 开头，不含域名）。") % {"url": url[:80]})
            continue
        title = clean_text(title) or path
        if len(title) > LINK_TITLE_MAX:
            problems.append(_("佐证标题“%(t)s”过长（最多 %(n)d 个字）。") % {"t": title[:20] + "…", "n": LINK_TITLE_MAX})
            continue
        links.append({"title": title, "url": path})
    if len(links) > MAX_LINKS:
        problems.append(_("佐证链接最多 %(n)d 条。") % {"n": MAX_LINKS})
    if problems:
        raise ValidationError({"evidence": problems})
    return links


# --- Demonstration sites ------------------------------------------------------------------------------

def _site_snapshot(site: DemoSite) -> dict:
    return {"area": site.area.code, "kind": site.kind, "year": site.year, "title": site.title, "status": site.status,
            "criteria": [{"key": c.get("key"), "met": c.get("met"), "figure": c.get("figure")}
                         for c in site.criteria or []]}


def _locked_site(site: DemoSite) -> DemoSite:
    return DemoSite.objects.unscoped().select_for_update(of=("self",)).select_related("area").get(pk=site.pk)


def _copy(target, current) -> None:
    for field in current._meta.concrete_fields:
        setattr(target, field.attname, getattr(current, field.attname))


@transaction.atomic
def site_nominate(*, actor, area: Area, kind: str, year: int, title: str, reason: str,
                  evidence: dict[str, str] | None = None, organisation: Organisation | None = None) -> DemoSite:
    """Nominate a street or community (or a unit, a centre, a building in it) as a demonstration
    site; the platform answers the criteria it can, the nominator explains the others."""
    area = Area.objects.unscoped().get(pk=area.pk)
    errors: dict[str, list[str]] = {}
    if area.level not in NOMINATED_LEVELS or not area.is_active:
        raise ValidationError({"area": [_("示范点由街道或社区推荐，请选择启用中的街道或社区。")]})
    ensure_can(actor, "oversight.site.nominate", area.code)
    if kind not in SiteKind.values:
        errors.setdefault("kind", []).append(_("请选择示范点类别。"))
    elif KIND_LEVELS.get(kind) and KIND_LEVELS[kind] != area.level:
        errors.setdefault("area", []).append(_("“%(kind)s”须推荐%(level)s。") % {
            "kind": SiteKind(kind).label, "level": AreaLevel(KIND_LEVELS[kind]).label})
    year = _year(errors, year)
    title = _text(errors, "title", title, limit=TITLE_MAX, label=_("名称"), required=True)
    reason = _text(errors, "reason", reason, limit=REASON_MAX, label=_("推荐理由"), required=True)
    if organisation is not None:
        organisation = Organisation.objects.unscoped().select_related("area").get(pk=organisation.pk)
        if not organisation.area.code.startswith(area.code):
            errors.setdefault("organisation", []).append(_("所选单位不在%(area)s。") % {"area": area.name})
    elif kind == SiteKind.UNIT:
        errors.setdefault("organisation", []).append(_("推荐共建示范单位须选择单位。"))
    notes: dict[str, str] = {}
    for key, text in (evidence or {}).items():
        if key in CRITERIA_BY_KEY:
            notes[key] = _text(errors, f"evidence_{key}", text, limit=EVIDENCE_TEXT_MAX,
                               label=_("“%(c)s”的说明") % {"c": CRITERIA_BY_KEY[key].text})
    if not errors and DemoSite.objects.unscoped().filter(
            area=area, kind=kind, year=year, organisation=organisation,
            status__in=(SiteStatus.NOMINATED, SiteStatus.APPROVED)).exists():
        errors.setdefault("kind", []).append(_("%(area)s%(year)d年度已推荐（或已命名）同类示范点。")
                                             % {"area": area.name, "year": year})
    if errors:
        raise ValidationError(errors)
    site = DemoSite(area=area, organisation=organisation, kind=kind, year=year, title=title, reason=reason,
                    criteria=criteria_for(area, year, notes), nominated_by=actor)
    site.save(force_insert=True)
    audit.record(actor=actor, action="oversight.site.nominated", obj=site,
                 after={**_site_snapshot(site), "reason": reason, "evidence": notes})
    return site


@transaction.atomic
def site_decide(*, actor, site: DemoSite, approve: bool, note: str = "") -> DemoSite:
    """The district's decision on a nomination.  The platform's answers are taken again first; a
    site that misses a criterion the platform checked is approved only with a note saying why."""
    current = _locked_site(site)
    ensure_can(actor, "oversight.site.decide", current.area.code)
    if current.status != SiteStatus.NOMINATED:
        raise ValidationError(_("示范点状态为“%(status)s”，不在待审定状态。") % {"status": current.get_status_display()})
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX, label=_("审定意见"), required=not approve)
    evidence = {item.get("key"): item.get("evidence", "") for item in current.criteria or []}
    criteria = criteria_for(current.area, current.year, evidence)
    missed = [str(CRITERIA_BY_KEY[c["key"]].text) for c in criteria if c["auto"] and c["met"] is False]
    if approve and missed and not note and not errors:
        errors.setdefault("note", []).append(_("平台核验未达标的条件：%(list)s。命名须在审定意见中说明理由。")
                                             % {"list": pgettext("列表分隔", "、").join(missed)})
    if errors:
        raise ValidationError(errors)
    before = _site_snapshot(current)
    current.criteria = criteria
    current.status = SiteStatus.APPROVED if approve else SiteStatus.REJECTED
    current.decided_by, current.decided_at, current.decision_note = actor, timezone.now(), note
    current.save(update_fields=["criteria", "status", "decided_by", "decided_at", "decision_note"])
    audit.record(actor=actor, action="oversight.site.approved" if approve else "oversight.site.rejected",
                 obj=current, before=before, after={**_site_snapshot(current), "note": note, "missed": missed})
    _copy(site, current)
    return site


@transaction.atomic
def site_revoke(*, actor, site: DemoSite, reason: str) -> DemoSite:
    """Revoke (撤销) an approved demonstration site, with the reason (kept as the decision note)."""
    current = _locked_site(site)
    ensure_can(actor, "oversight.site.decide", current.area.code)
    if current.status != SiteStatus.APPROVED:
        raise ValidationError(_("示范点状态为“%(status)s”，只有已命名的示范点可以撤销。")
                              % {"status": current.get_status_display()})
    errors: dict[str, list[str]] = {}
    reason = _text(errors, "reason", reason, limit=NOTE_MAX - 5, label=_("撤销原因"), required=True)
    if errors:
        raise ValidationError(errors)
    before = {**_site_snapshot(current), "note": current.decision_note}
    current.status = SiteStatus.REVOKED
    current.decided_by, current.decided_at = actor, timezone.now()
    current.decision_note = (_("撤销：%(reason)s") % {"reason": reason})[:NOTE_MAX]
    current.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.record(actor=actor, action="oversight.site.revoked", obj=current, before=before,
                 after={**_site_snapshot(current), "reason": reason})
    _copy(site, current)
    return site


# --- Cases --------------------------------------------------------------------------------------------

def _case_snapshot(case: CaseStudy) -> dict:
    return {"area": case.area.code, "title": case.title, "status": case.status, "tags": list(case.tags or []),
            "evidence": list(case.evidence or []), "site": case.site_id,
            "body_sha256": hashlib.sha256(case.body.encode()).hexdigest()}


def _locked_case(case: CaseStudy) -> CaseStudy:
    return CaseStudy.objects.unscoped().select_for_update(of=("self",)).select_related("area").get(pk=case.pk)


def _case_fields(actor, errors: dict, *, title, summary, body, tags, evidence, site) -> dict:
    title = _text(errors, "title", title, limit=TITLE_MAX, label=_("标题"), required=True)
    summary = _text(errors, "summary", summary, limit=SUMMARY_MAX, label=pgettext("case", "摘要"), required=True)
    raw = str(body or "")
    cleaned = ""
    if len(raw) > BODY_MAX:
        errors.setdefault("body", []).append(_("正文过长（最多 %(n)d 个字符）。") % {"n": BODY_MAX})
    else:
        cleaned = clean_html(raw)
        if not text_of(cleaned):
            errors.setdefault("body", []).append(_("请填写正文。"))
        elif len(cleaned) > BODY_MAX:
            errors.setdefault("body", []).append(_("正文过长（最多 %(n)d 个字符）。") % {"n": BODY_MAX})
    out = {"title": title, "summary": summary, "body": cleaned, "tags": [], "evidence": [], "site": None}
    for field, parse in (("tags", parse_tags), ("evidence", parse_evidence)):
        try:
            out[field] = parse(tags if field == "tags" else evidence)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
    if site is not None:
        found = sites_visible_to(actor).filter(pk=site.pk).first()
        if found is None:
            errors.setdefault("site", []).append(_("请选择您能看到的示范点。"))
        out["site"] = found
    return out


def _checked_files(uploads) -> list:
    uploads = [u for u in uploads or [] if u]
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise ValidationError({"upload": [_("一次最多上传 %(n)d 个文件。") % {"n": MAX_FILES_PER_UPLOAD}]})
    return [imagemeta.clean_document(u, limit=FILE_MAX_BYTES, missing=_("请选择照片或 PDF 文件。"), default_name="case")
            for u in uploads]


def _store_files(actor, case: CaseStudy, checked: list) -> list[CaseFile]:
    stored = []
    try:
        for item in checked:
            row = CaseFile(case=case, name=item.original_name, content_type=item.content_type, size=len(item.data),
                           sha256=hashlib.sha256(item.data).hexdigest(), uploaded_by=actor)
            row.file.save(f"{uuid.uuid4().hex}.{item.extension}", ContentFile(item.data), save=False)
            stored.append(row)
            row.save(force_insert=True)
    except Exception:
        for row in stored:
            row.file.storage.delete(row.file.name)  # no file without its row
        raise
    return stored


@transaction.atomic
def case_create(*, actor, area: Area, title: str, summary: str, body: str, tags="", evidence="",
                site: DemoSite | None = None, files=()) -> CaseStudy:
    """Write a case (a draft of the area) with its tags, evidence links and files."""
    area = Area.objects.unscoped().get(pk=area.pk)
    if area.level not in CASE_LEVELS or not area.is_active:
        raise ValidationError({"area": [_("案例应属于启用中的区、街道或社区。")]})
    ensure_can(actor, "oversight.case.edit", area.code)
    errors: dict[str, list[str]] = {}
    fields = _case_fields(actor, errors, title=title, summary=summary, body=body, tags=tags, evidence=evidence,
                          site=site)
    if errors:
        raise ValidationError(errors)
    checked = _checked_files(files)
    if len(checked) > MAX_FILES:
        raise ValidationError({"upload": [_("每个案例最多 %(n)d 个附件。") % {"n": MAX_FILES}]})
    case = CaseStudy(area=area, author=actor, status=CaseStatus.DRAFT, **fields)
    case.save(force_insert=True)
    stored = _store_files(actor, case, checked)
    audit.record(actor=actor, action="oversight.case.created", obj=case,
                 after={**_case_snapshot(case), "files": [{"name": f.name, "sha256": f.sha256} for f in stored]})
    return case


@transaction.atomic
def case_update(*, actor, case: CaseStudy, title: str, summary: str, body: str, tags="", evidence="",
                site: DemoSite | None = None, files=(), remove_files: Iterable[CaseFile] = ()) -> CaseStudy:
    """Edit a draft or withdrawn case (a published one is withdrawn first); add or remove files."""
    current = _locked_case(case)
    ensure_can(actor, "oversight.case.edit", current.area.code)
    if current.status not in EDITABLE_CASES:
        raise ValidationError(_("已入库的案例须先撤回再修改。"))
    errors: dict[str, list[str]] = {}
    fields = _case_fields(actor, errors, title=title, summary=summary, body=body, tags=tags, evidence=evidence,
                          site=site)
    if errors:
        raise ValidationError(errors)
    removing = list(CaseFile.objects.unscoped().filter(case=current, pk__in=[f.pk for f in remove_files]))
    checked = _checked_files(files)
    kept = CaseFile.objects.unscoped().filter(case=current).count() - len(removing)
    if kept + len(checked) > MAX_FILES:
        raise ValidationError({"upload": [_("每个案例最多 %(n)d 个附件（现有 %(count)d 个）。")
                                          % {"n": MAX_FILES, "count": kept}]})
    before = _case_snapshot(current)
    for key, value in fields.items():
        setattr(current, key, value)
    current.save(update_fields=["title", "summary", "body", "tags", "evidence", "site", "updated_at"])
    stored = _store_files(actor, current, checked)
    removed = [{"name": f.name, "sha256": f.sha256} for f in removing]
    paths = [f.file.name for f in removing]
    CaseFile.objects.unscoped().filter(pk__in=[f.pk for f in removing]).delete()
    if paths:
        storage = removing[0].file.storage
        transaction.on_commit(lambda: [storage.delete(p) for p in paths])
    audit.record(actor=actor, action="oversight.case.updated", obj=current, before=before,
                 after={**_case_snapshot(current), "files_added": [{"name": f.name, "sha256": f.sha256} for f in stored],
                        "files_removed": removed})
    _copy(case, current)
    return case


@transaction.atomic
def case_publish(*, actor, case: CaseStudy) -> CaseStudy:
    """Publish a case into the library (入库): the street for its communities, the district for
    any area of it; from then on the staff of the whole district read it."""
    current = _locked_case(case)
    if not can_publish(actor, current):
        raise PermissionDenied(_("社区的案例由街道或区级审核入库，街道的案例由区级审核入库。"))
    if current.status not in EDITABLE_CASES:
        raise ValidationError(_("案例状态为“%(status)s”，不能入库。") % {"status": current.get_status_display()})
    before = _case_snapshot(current)
    current.status = CaseStatus.PUBLISHED
    current.published_by, current.published_at = actor, timezone.now()
    current.save(update_fields=["status", "published_by", "published_at", "updated_at"])
    audit.record(actor=actor, action="oversight.case.published", obj=current, before=before,
                 after=_case_snapshot(current))
    _copy(case, current)
    return case


@transaction.atomic
def case_withdraw(*, actor, case: CaseStudy, note: str = "") -> CaseStudy:
    """Take a case out of the library (撤回); it can be edited and published again."""
    current = _locked_case(case)
    if not can_publish(actor, current):
        raise PermissionDenied(_("案例由审核入库的街道或区级撤回。"))
    if current.status != CaseStatus.PUBLISHED:
        raise ValidationError(_("案例状态为“%(status)s”，只有已入库的案例可以撤回。") % {"status": current.get_status_display()})
    errors: dict[str, list[str]] = {}
    note = _text(errors, "note", note, limit=NOTE_MAX, label=_("撤回原因"))
    if errors:
        raise ValidationError(errors)
    before = _case_snapshot(current)
    current.status = CaseStatus.WITHDRAWN
    current.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="oversight.case.withdrawn", obj=current, before=before,
                 after={**_case_snapshot(current), "note": note})
    _copy(case, current)
    return case
