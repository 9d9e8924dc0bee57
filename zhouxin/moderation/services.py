"""Every write of moderation: the lexicon, and holding and deciding content.

The contract with other domains (published pages, micro-wishes, comments, …):

* **Nothing held is published.**  Before a domain shows user text to anyone but its
  author and staff, it screens it (`screen.screen(text)`); when the verdict holds, it
  keeps the content unpublished and calls `hold_item(...)` with a `source_key` naming the
  object ("cobuild.wish:42").  It publishes only when its reactor (registry.on_decision)
  hears "released", and drops or keeps hiding it on "rejected".  `is_held(source_key)`
  answers whether a key waits in the queue.
* Dispatch's requests are not copied here: intake puts a screened request in status HELD
  (dispatch.screening), and the queue lists those through sources.DispatchSource, deciding
  with dispatch's own services (request_release / request_invalidate).

Lexicon writes change the lexicon's token (LexiconState), so every process rebuilds its
automaton within lexicon.CHECK_SECONDS (this process at once).  Every write records an
audit entry in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can
from zhouxin.core.scoping import DISABLED, current_scope
from zhouxin.orgs.models import Area

from . import lexicon, registry
from .choices import ItemStatus, LexiconCategory, LexiconKind
from .models import LexiconEntry, LexiconState, ModerationItem
from .normalise import fold_text, normalise

TERM_MAX = 100
NOTE_MAX = 200
KEY_MIN = 2
IMPORT_MAX_LINES = 2000
EXCERPT_MAX = 1000
DECISION_NOTE_MAX = 300
REASON_MIN = 2

_DOMAIN = re.compile(r"^\.?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


# ---------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------

def _system_or(actor, permission: str) -> None:
    if actor is None:
        if current_scope() is not DISABLED:
            raise ValueError("the system acts only inside scopes_disabled()")
        return
    ensure_can(actor, permission)


def lexicon_key(term: str, kind: str) -> str:
    """The matching key of a term: folded like screened text; a domain: its host name
    (lower case, no scheme, no www.; "*.bet" and ".bet" mean every host ending in .bet)."""
    if kind == LexiconKind.DOMAIN:
        text = normalise(term).replace("。", ".").strip()
        text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0]
        if text.startswith("*."):
            text = text[1:]
        if text.startswith("www."):
            text = text[4:]
        return text
    return fold_text(term)


def _check_term(term, category, kind, note) -> tuple[str, str, str]:
    """(term, key, note) cleaned, or ValidationError with Chinese messages per field."""
    errors: dict[str, list[str]] = {}
    term = " ".join(str(term or "").split())
    note = " ".join(str(note or "").split())
    if kind not in LexiconKind.values:
        errors.setdefault("kind", []).append(_("请选择类型：关键词或域名。"))
    if category not in LexiconCategory.values:
        errors.setdefault("category", []).append(_("请选择类别。"))
    if not term:
        errors.setdefault("term", []).append(_("请填写词条。"))
    elif len(term) > TERM_MAX:
        errors.setdefault("term", []).append(_("词条不能超过 %(n)d 个字。") % {"n": TERM_MAX})
    if len(note) > NOTE_MAX:
        errors.setdefault("note", []).append(_("备注不能超过 %(n)d 个字。") % {"n": NOTE_MAX})
    key = ""
    if term and "term" not in errors and "kind" not in errors:
        key = lexicon_key(term, kind)
        if kind == LexiconKind.DOMAIN:
            if not _DOMAIN.match(key) or "." not in key:
                errors.setdefault("term", []).append(
                    _("“%(term)s”不是域名，请填写如 example.com 或 *.bet 的形式。") % {"term": term})
        elif "。" in key:
            errors.setdefault("term", []).append(
                _("“%(term)s”含有逗号、句号等标点，匹配时会被当作断句，请去掉标点。") % {"term": term})
        elif len(key) < KEY_MIN:
            errors.setdefault("term", []).append(
                _("“%(term)s”去掉空格和符号后不足 %(n)d 个字，太短会误伤正常内容。") % {"term": term, "n": KEY_MIN})
        elif key.isascii() and len(key) < 4:
            errors.setdefault("term", []).append(
                _("“%(term)s”是不足 4 个字母或数字的英文词，太短会误伤正常内容。") % {"term": term})
    if errors:
        raise ValidationError(errors)
    return term, key, note


def _bump() -> None:
    """A new token for the lexicon (in the caller's transaction); this process re-reads it."""
    token = uuid.uuid4().hex
    if not LexiconState.objects.filter(pk=1).update(version=F("version") + 1, token=token,
                                                     updated_at=timezone.now()):
        try:
            with transaction.atomic():
                LexiconState.objects.create(pk=1, version=1, token=token)
        except IntegrityError:
            LexiconState.objects.filter(pk=1).update(version=F("version") + 1, token=token)
    lexicon.invalidate()
    transaction.on_commit(lexicon.invalidate)


def _snapshot(entry: LexiconEntry) -> dict:
    return {"term": entry.term, "key": entry.key, "category": entry.category, "kind": entry.kind,
            "active": entry.active, "note": entry.note}


@transaction.atomic
def lexicon_add(*, actor, term: str, category: str, kind: str = LexiconKind.KEYWORD, note: str = "") -> LexiconEntry:
    """Add one term; the same term in another spelling (Traditional, full-width, with blanks)
    is the same entry and is refused as a duplicate."""
    _system_or(actor, "moderation.lexicon.edit")
    term, key, note = _check_term(term, category, kind, note)
    existing = LexiconEntry.objects.filter(kind=kind, key=key).first()
    if existing is not None:
        raise ValidationError({"term": [_("“%(term)s”已在词库中（%(existing)s）。") % {
            "term": term, "existing": existing.term}]})
    try:
        with transaction.atomic():
            entry = LexiconEntry.objects.create(term=term, key=key, category=category, kind=kind, note=note,
                                                created_by=actor)
    except IntegrityError:
        raise ValidationError({"term": [_("“%(term)s”已在词库中。") % {"term": term}]}) from None
    _bump()
    audit.record(actor=actor, action="moderation.lexicon.added", obj=entry, after=_snapshot(entry))
    return entry


@dataclass
class ImportResult:
    added: list[LexiconEntry] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)


@transaction.atomic
def lexicon_import(*, actor, text: str, category: str, kind: str = LexiconKind.KEYWORD,
                   note: str = "") -> ImportResult:
    """Add many terms at once, one per line (blank lines and lines starting with # are
    skipped).  All or nothing: one bad line refuses the whole import with a message per
    line; terms already in the lexicon (or repeated) are skipped and listed."""
    _system_or(actor, "moderation.lexicon.edit")
    lines = [(n, line.strip()) for n, line in enumerate(str(text or "").splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines:
        raise ValidationError({"text": [_("请每行填写一个词条。")]})
    if len(lines) > IMPORT_MAX_LINES:
        raise ValidationError({"text": [_("一次最多导入 %(n)d 行，请分批导入。") % {"n": IMPORT_MAX_LINES}]})
    errors: list[str] = []
    cleaned: list[tuple[str, str]] = []
    for number, line in lines:
        try:
            term, key, _note = _check_term(line, category, kind, note)
        except ValidationError as error:
            for field_name, messages in error.message_dict.items():
                for message in messages:
                    if field_name == "term":
                        errors.append(_("第 %(n)d 行：%(message)s") % {"n": number, "message": message})
                    else:
                        raise ValidationError({field_name: [message]}) from None
            continue
        cleaned.append((term, key))
    if errors:
        raise ValidationError({"text": errors[:50]})
    note = " ".join(str(note or "").split())
    existing = set(LexiconEntry.objects.filter(kind=kind, key__in=[k for _t, k in cleaned])
                   .values_list("key", flat=True))
    result = ImportResult()
    fresh: list[LexiconEntry] = []
    for term, key in cleaned:
        if key in existing:
            result.duplicates.append(term)
            continue
        existing.add(key)
        fresh.append(LexiconEntry(term=term, key=key, category=category, kind=kind, note=note, created_by=actor))
    if fresh:
        try:
            with transaction.atomic():
                result.added = LexiconEntry.objects.bulk_create(fresh)
        except IntegrityError:
            raise ValidationError({"text": [_("导入时词库被其他人修改了，请重新导入。")]}) from None
        if any(e.pk is None for e in result.added):  # backends without RETURNING ids
            keys = [e.key for e in fresh]
            result.added = list(LexiconEntry.objects.filter(kind=kind, key__in=keys))
        _bump()
        audit.record_many(actor=actor, entries=[
            {"action": "moderation.lexicon.added", "obj": e, "after": {**_snapshot(e), "import": True}}
            for e in result.added])
    return result


@transaction.atomic
def lexicon_set_active(*, actor, entry: LexiconEntry, active: bool) -> LexiconEntry:
    """Switch a term off (kept in the list, no longer matched) or on again."""
    _system_or(actor, "moderation.lexicon.edit")
    active = bool(active)
    if not LexiconEntry.objects.filter(pk=entry.pk, active=not active).update(active=active,
                                                                            updated_at=timezone.now()):
        entry.refresh_from_db()
        return entry
    entry.active = active
    _bump()
    audit.record(actor=actor, action="moderation.lexicon.activated" if active else "moderation.lexicon.deactivated",
                 obj=entry, before={"active": not active}, after={"active": active})
    return entry


@transaction.atomic
def lexicon_delete(*, actor, entry: LexiconEntry) -> None:
    _system_or(actor, "moderation.lexicon.edit")
    before = _snapshot(entry)
    pk = entry.pk
    if not LexiconEntry.objects.filter(pk=pk).delete()[0]:
        return
    _bump()
    audit.record(actor=actor, action="moderation.lexicon.deleted", object_type="moderation.lexiconentry",
                 object_id=pk, object_repr=before["term"], before=before)


@transaction.atomic
def seed_default_lexicon(*, force: bool = False) -> int:
    """Load the default lexicon (seed.py) once per seed version: terms not yet in the
    lexicon are added; terms an administrator deleted or switched off stay so until the seed
    version changes.  Idempotent; runs as the system.  Returns how many terms were added."""
    from .seed import DEFAULT_DOMAINS, DEFAULT_KEYWORDS, SEED_VERSION

    state = LexiconState.objects.select_for_update().filter(pk=1).first()
    if state is not None and state.seed_version >= SEED_VERSION and not force:
        return 0
    existing = set(LexiconEntry.objects.values_list("kind", "key"))
    fresh: list[LexiconEntry] = []
    for kind, table in ((LexiconKind.KEYWORD, DEFAULT_KEYWORDS), (LexiconKind.DOMAIN, DEFAULT_DOMAINS)):
        for category, terms in table.items():
            for term in terms:
                term, key, _note = _check_term(term, category, kind, "")
                if (kind, key) in existing:
                    continue
                existing.add((kind, key))
                fresh.append(LexiconEntry(term=term, key=key, category=category, kind=kind,
                                          note=_("默认词库")))
    LexiconEntry.objects.bulk_create(fresh)
    _bump()
    LexiconState.objects.filter(pk=1).update(seed_version=SEED_VERSION)
    audit.record(actor=None, action="moderation.lexicon.seeded", object_type="moderation.lexiconstate",
                 object_id=1, after={"seed_version": SEED_VERSION, "added": len(fresh)})
    return len(fresh)


# ---------------------------------------------------------------------------
# Held items
# ---------------------------------------------------------------------------

def is_held(source_key: str) -> bool:
    """Does content with this key wait in the queue?  (A domain's publish check.)"""
    return ModerationItem.objects.unscoped().filter(source_key=source_key, status=ItemStatus.HELD).exists()


@transaction.atomic
def hold_item(*, actor, kind: str, source_key: str, area: Area, text: str, reasons, matched=(), title: str = "",
              content_object=None) -> ModerationItem:
    """Put a domain's content in the moderation queue (the domain keeps it unpublished).

    `kind` names the domain's content type and chooses its decision reactors; `source_key`
    identifies the object ("cobuild.wish:42"); `area` decides which reviewers see it (the
    street hub of its street, the district).  Holding a key that is already held updates the
    reasons and text of the waiting item instead of adding a second one.  `actor` is the
    author when signed in, None for the system or an anonymous resident."""
    kind, source_key = str(kind or "").strip(), str(source_key or "").strip()
    if not kind or not source_key or len(kind) > 64 or len(source_key) > 200:
        raise ValueError("hold_item needs a kind (≤ 64) and a source_key (≤ 200)")
    if not isinstance(area, Area):
        raise ValueError("hold_item needs the content's area")
    reasons = [str(r)[:200] for r in (reasons or ())] or [_("待人工审核")]
    matched = [str(m)[:100] for m in matched or ()]
    values = {"kind": kind, "area": area, "title": str(title or "")[:200],
              "excerpt": str(text or "")[:EXCERPT_MAX], "reasons": reasons, "matched": matched}
    if content_object is not None:
        values["content_type"] = ContentType.objects.get_for_model(content_object)
        values["object_id"] = str(content_object.pk)
    item = ModerationItem.objects.unscoped().select_for_update().filter(
        source_key=source_key, status=ItemStatus.HELD).first()
    if item is not None:
        for name, value in values.items():
            setattr(item, name, value)
        item.save(update_fields=[*values.keys()])
        action = "moderation.item.reheld"
    else:
        try:
            with transaction.atomic():
                item = ModerationItem.objects.create(source_key=source_key, held_at=timezone.now(),
                                                     held_by=actor if getattr(actor, "pk", None) else None,
                                                     **values)
        except IntegrityError:  # held at the same moment by another request: that one stands
            item = ModerationItem.objects.unscoped().get(source_key=source_key, status=ItemStatus.HELD)
            return item
        action = "moderation.item.held"
    audit.record(actor=actor, action=action, obj=item,
                 after={"kind": kind, "source_key": source_key, "area": area.code, "reasons": reasons,
                        "matched": matched})
    return item


def _decide(*, actor, item: ModerationItem, status: str, note: str) -> ModerationItem:
    ensure_can(actor, "moderation.review", item.area.code)
    now = timezone.now()
    claimed = ModerationItem.objects.unscoped().filter(pk=item.pk, status=ItemStatus.HELD).update(
        status=status, decided_by=actor, decided_at=now, decision_note=note)
    if claimed != 1:
        raise ValidationError(_("该内容已由其他人审核，请刷新后查看。"))
    item.status, item.decided_by, item.decided_at, item.decision_note = status, actor, now, note
    for reactor in registry.reactors(item.kind):
        reactor(item, registry.RELEASED if status == ItemStatus.RELEASED else registry.REJECTED)
    audit.record(actor=actor, action=f"moderation.item.{status}", obj=item, before={"status": ItemStatus.HELD},
                 after={"status": status, "note": note, "source_key": item.source_key})
    return item


def _note(value, *, required: bool, label: str) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > DECISION_NOTE_MAX:
        raise ValidationError({"note": [_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": DECISION_NOTE_MAX}]})
    if required and len(text) < REASON_MIN:
        raise ValidationError({"note": [_("请填写%(label)s（至少 %(n)d 个字）。") % {"label": label, "n": REASON_MIN}]})
    return text


@transaction.atomic
def item_release(*, actor, item: ModerationItem, note: str = "") -> ModerationItem:
    """The reviewer finds the content acceptable: the domain may publish it now."""
    note = _note(note, required=False, label=_("审核意见"))
    return _decide(actor=actor, item=item, status=ItemStatus.RELEASED, note=note)


@transaction.atomic
def item_reject(*, actor, item: ModerationItem, reason: str) -> ModerationItem:
    """The reviewer confirms it is spam: it is never published."""
    reason = _note(reason, required=True, label=_("驳回理由"))
    return _decide(actor=actor, item=item, status=ItemStatus.REJECTED, note=reason)
