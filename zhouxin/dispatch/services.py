"""Every write of dispatch (接诉即办): intake and each transition of a request's life.

The life of a request (DESIGN §3 "dispatch"):

    received ─┬─ held (spam screen) ── released → received / invalid
              ├─ dispatched (主办 + 协办) ─┬─ accepted ── contacted ── replied ── callback ─┬─ closed
              │                           └─ returned (退单) → dispatched again            └─ (supervisor) closed / reopened (督办)
              ├─ merged into a master (follows it: every requester gets the reply and a callback)
              └─ invalid (excluded from the rates)

Rules every service here keeps (CONVENTIONS 3–7):

* keyword-only arguments, the acting user first; `actor=None` is the system and is
  accepted only inside `scopes_disabled()` (as in orgs.services);
* the permission is checked on the request's area code; a handler (主办/协办) acts
  only for an organisation its grant names (Grant.organisation) and only on that
  organisation's assignment of the request;
* the transition is claimed with a compare-and-set `UPDATE … WHERE status = <seen>`:
  of two clerks acting at once exactly one succeeds, the other gets the same clear
  message as if they had come second (e.g. "该工单已被签收，不能退单。");
* each transition writes a RequestEvent and folds it into the roll-ups
  (rollups.apply_event) and writes the audit record, all in one transaction;
* side effects (the `request_changed` signal for notifications, tasks) run only
  after commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, bulk
from zhouxin.core import policy as policy_store
from zhouxin.core.crypto import blind_index, mask_phone
from zhouxin.core.permissions import ensure_can
from zhouxin.core.scoping import DISABLED, current_scope, scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area, Organisation, Person
from zhouxin.orgs.services import clean_coordinate
from zhouxin.orgs.validators import normalise_phone

from . import attachments, numbering, rollups, routing, screening, sla
from .choices import (
    OPEN_STATUSES,
    AssignmentRole,
    AssignmentStatus,
    Channel,
    EventAction,
    ExtensionStatus,
    RequestKind,
    Resolution,
    Satisfaction,
    Status,
    Urgency,
)
from .models import Assignment, Category, Extension, RequestEvent, ServiceRequest

logger = logging.getLogger("zhouxin.dispatch")

# Sent after the transaction commits, once per event: (sender=ServiceRequest, request_id, action,
# event_id).  Notifications (SMS to the requester, messages to the street hub) listen here.
request_changed = Signal()

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
REASON_MIN, REASON_MAX = 2, 300
NOTE_MAX = 2000
REPLY_MAX = 5000
IDEMPOTENCY_KEY_MAX = 200
EXTENSION_MAX_WORKING_DAYS = sla.MAX_EXTENSION_DAYS

# Contact numbers: a mainland mobile number, or a landline with area code (010-12345678) or
# without (12345678), after dropping blanks, hyphens, brackets and +86.
_PHONE_SHAPE = re.compile(r"^(1[3-9][0-9]{9}|0[1-9][0-9]{8,10}|[2-9][0-9]{6,7})$")


class TransitionError(ValidationError):
    """The request is not in a state where this action is allowed (or no longer is)."""


# Statuses in which a lead handler is working on the request.
HANDLING = frozenset({Status.ACCEPTED, Status.CONTACTED, Status.REOPENED})
ACTIVE_ASSIGNMENT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED, AssignmentStatus.DONE)

# Where each action may start from (CONVENTIONS 7: the compare-and-set's allowed set).
ALLOWED: dict[str, frozenset[str]] = {
    "categorise": frozenset({Status.RECEIVED, Status.HELD, Status.RETURNED}),
    "release": frozenset({Status.HELD}),
    "dispatch": frozenset({Status.RECEIVED, Status.RETURNED}),
    "accept": frozenset({Status.DISPATCHED}),
    "return": frozenset({Status.DISPATCHED}),
    "co_accept": frozenset({Status.DISPATCHED, *HANDLING}),
    "co_return": frozenset({Status.DISPATCHED, *HANDLING}),
    "extension": HANDLING,
    "contact": frozenset({Status.ACCEPTED}),
    "reply": frozenset({Status.CONTACTED, Status.REOPENED}),
    "callback": frozenset({Status.REPLIED}),
    "close": frozenset({Status.REPLIED}),
    "reopen": frozenset({Status.REPLIED, Status.CLOSED}),
    "merge": frozenset({Status.RECEIVED, Status.HELD, Status.RETURNED, Status.DISPATCHED}),
    "invalidate": frozenset({Status.RECEIVED, Status.HELD, Status.RETURNED, Status.DISPATCHED}),
}

def _label(action: str) -> str:
    labels = {
        "categorise": _("确认类别"), "release": _("审核通过"), "dispatch": _("派单"), "accept": _("签收"),
        "return": _("退单"), "co_accept": _("签收"), "co_return": _("退单"), "extension": _("申请延期"),
        "contact": _("记录首次联系"), "reply": _("答复"), "callback": _("回访"), "close": _("办结"),
        "reopen": _("督办重办"), "merge": _("合并"), "invalidate": _("判定无效"),
    }
    return labels[action]


def refusal(action: str, status: str, request: ServiceRequest | None = None) -> str:
    """The message for `action` refused because the request is in `status`."""
    accepted_like = {Status.ACCEPTED, Status.CONTACTED, Status.REPLIED, Status.REOPENED}
    specific = {
        ("return", Status.RETURNED): _("该工单已退单，正等待街道重新派单。"),
        ("accept", Status.RETURNED): _("该工单已退单，正等待街道重新派单，不能签收。"),
        ("accept", Status.RECEIVED): _("该工单尚未派单，不能签收。"),
        ("return", Status.RECEIVED): _("该工单尚未派单，不能退单。"),
        ("dispatch", Status.DISPATCHED): _("该工单已派单，正等待承办单位签收，不能重复派单。"),
        ("dispatch", Status.HELD): _("该工单正在审核，审核通过后才能派单。"),
        ("contact", Status.DISPATCHED): _("请先签收工单，再记录首次联系。"),
        ("reply", Status.ACCEPTED): _("请先记录与诉求人的首次联系，再答复。"),
        ("reply", Status.DISPATCHED): _("请先签收工单，再答复。"),
        ("reply", Status.REPLIED): _("该工单已答复，正等待回访。"),
        ("callback", Status.CLOSED): _("该工单已办结，不能再回访。"),
        ("release", Status.RECEIVED): _("该工单不在审核中，无需审核通过。"),
        ("categorise", Status.DISPATCHED): _("该工单已派单，不能再修改类别；如类别有误，请由承办单位退单。"),
    }
    if (action, status) in specific:
        return specific[(action, status)]
    if action in ("return", "co_return") and status in accepted_like | {Status.CLOSED}:
        return _("该工单已被签收，不能退单。")
    if action in ("accept", "co_accept") and status in accepted_like | {Status.CLOSED}:
        return _("该工单已被签收，不能重复签收。")
    if action == "dispatch" and status in accepted_like:
        return _("该工单已由承办单位签收，不能重新派单。")
    if action == "contact" and status in {Status.CONTACTED, Status.REPLIED, Status.REOPENED, Status.CLOSED}:
        return _("已记录过首次联系，不能重复记录。")
    if action in ("callback", "close", "reopen") and status not in {Status.REPLIED, Status.CLOSED}:
        return _("该工单尚未答复，不能%(action)s。") % {"action": _label(action)}
    if status == Status.MERGED:
        master = request.master.number if request is not None and request.master_id else ""
        return _("该工单已合并至工单 %(master)s，随主工单办理，不能%(action)s。") % {
            "master": master, "action": _label(action)}
    if status == Status.INVALID:
        return _("该工单已判定无效，不能%(action)s。") % {"action": _label(action)}
    if status == Status.CLOSED:
        return _("该工单已办结，不能%(action)s。") % {"action": _label(action)}
    if status == Status.HELD:
        return _("该工单正在审核，审核通过前不能%(action)s。") % {"action": _label(action)}
    return _("该工单当前状态为“%(status)s”，不能%(action)s。") % {
        "status": Status(status).label, "action": _label(action)}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def _authorize(actor, permission: str, area_code: str) -> None:
    """The actor's grants must allow `permission` on `area_code`; the system (actor=None)
    may act only where scoping was disabled on purpose."""
    if actor is None:
        if current_scope() is DISABLED:
            return
        raise PermissionDenied(_("您没有权限执行此操作。"))
    ensure_can(actor, permission, area_code)


def _now() -> dt.datetime:
    return timezone.now()


def _text(value, *, field: str, label: str, max_length: int, required: bool, errors: dict,
          multiline: bool = False) -> str:
    raw = str(value or "")
    text = raw.strip() if multiline else " ".join(raw.split())
    if required and not text:
        errors.setdefault(field, []).append(_("请填写%(label)s。") % {"label": label})
    elif len(text) > max_length:
        errors.setdefault(field, []).append(_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length})
    return text


def _reason(value, *, label: str, field: str = "reason") -> str:
    errors: dict[str, list] = {}
    text = _text(value, field=field, label=label, max_length=REASON_MAX, required=True, errors=errors)
    if not errors and len(text) < REASON_MIN:
        errors.setdefault(field, []).append(
            _("%(label)s至少写 %(n)d 个字。") % {"label": label, "n": REASON_MIN})
    if errors:
        raise ValidationError(errors)
    return text


def idempotency_digest(actor, key: str) -> str:
    """What is stored for a client's idempotency key: a digest of the key in the actor's
    namespace, so one client's key can never return another client's request."""
    owner = f"user:{actor.pk}" if actor is not None else "system"
    return hashlib.sha256(f"{owner}\x1f{key}".encode()).hexdigest()


def _fresh_status(request: ServiceRequest) -> str | None:
    return ServiceRequest.objects.unscoped().filter(pk=request.pk).values_list("status", flat=True).first()


def _claim(request: ServiceRequest, action: str, *, extra: Q | None = None, refuse_extra: str = "",
           **values) -> str:
    """Compare-and-set: move the request out of the status it is in now — which must be one
    `action` may start from — setting `values`.  Returns the status it came from.

    The UPDATE's WHERE repeats the status that was read, so of two clerks acting at once
    exactly one changes the row; the other reads the new status and gets its message.
    `extra` narrows the claim further (e.g. "not yet called back"); when only `extra`
    fails, `refuse_extra` is the message.
    """
    allowed = ALLOWED[action]
    for _attempt in range(2):
        status = _fresh_status(request)
        if status is None:
            raise TransitionError(_("该工单不存在。"))
        if status not in allowed:
            request.status = status
            raise TransitionError(refusal(action, status, request))
        # Never while the intake worker has still to route it (deferred intake).
        rows = ServiceRequest.objects.unscoped().filter(pk=request.pk, status=status, intake_pending=False)
        if extra is not None:
            rows = rows.filter(extra)
        changed = rows.update(updated_at=_now(), **values)
        if changed != 1 and ServiceRequest.objects.unscoped().filter(pk=request.pk, intake_pending=True).exists():
            raise TransitionError(_("该诉求刚刚受理，系统正在自动分派，请几秒钟后再操作。"))
        if changed == 1:
            for name, value in values.items():
                if not hasattr(value, "resolve_expression"):
                    setattr(request, name, value)
            if any(hasattr(v, "resolve_expression") for v in values.values()):
                request.refresh_from_db(fields=[n for n, v in values.items() if hasattr(v, "resolve_expression")])
            return status
        if extra is not None and _fresh_status(request) == status:
            raise TransitionError(refuse_extra or refusal(action, status, request))
        # The status changed under us: read it again and answer for the new one.
    status = _fresh_status(request) or ""
    raise TransitionError(refusal(action, status, request) if status else _("该工单不存在。"))


def _event(request: ServiceRequest, *, actor, action: str, from_status: str, to_status: str,
           organisation_id: int | None = None, note: str = "", data: dict | None = None,
           at: dt.datetime | None = None) -> RequestEvent:
    """The timeline entry, folded into the roll-ups in the same transaction; listeners hear of it
    after commit."""
    event = RequestEvent.objects.create(
        request=request, at=at or _now(), actor=actor, organisation_id=organisation_id, action=action,
        from_status=from_status, to_status=to_status, note=note, data=data or {},
    )
    _fold_and_announce(event)
    return event


def _record_events(events: list[RequestEvent]) -> None:
    """`_event` for several events written at once (one INSERT)."""
    RequestEvent.objects.bulk_create(events)
    for event in events:
        if event.pk is None:  # a database that cannot return ids from a bulk INSERT (SQLite < 3.35)
            raise RuntimeError("the database did not return the ids of the new events")
        _fold_and_announce(event)


def _fold_and_announce(event: RequestEvent) -> None:
    """A new event into the roll-ups (same transaction); its listeners hear of it after commit."""
    rollups.apply_event(event)
    request_id, action, event_id = event.request_id, event.action, event.pk
    transaction.on_commit(lambda: request_changed.send(
        sender=ServiceRequest, request_id=request_id, action=action, event_id=event_id))


def _district_and_street(area: Area) -> tuple[Area | None, Area | None]:
    """The district and street above a community or grid: from the loaded parents when the
    caller fetched them (select_related("parent__parent")), else one query."""
    found = {}
    node = area
    while node is not None and node.parent_id is not None:
        parent = node._state.fields_cache.get("parent")
        if parent is None or parent.pk != node.parent_id:
            break
        found[parent.code] = parent
        node = parent
    if area.code[:6] not in found or area.code[:9] not in found:
        found = {a.code: a for a in Area.objects.unscoped().filter(code__in=[area.code[:6], area.code[:9]])}
    return found.get(area.code[:6]), found.get(area.code[:9])


def _audit(actor, verb: str, request: ServiceRequest, *, before: dict | None = None, after: dict | None = None):
    audit.record(actor=actor, action=f"dispatch.request.{verb}", obj=request, before=before, after=after)


def _leaf(category) -> bool:
    return category is not None and category.level == 3 and category.is_active


def _city_id(area_code: str) -> int | None:
    return Area.objects.unscoped().filter(code=area_code[:4]).values_list("pk", flat=True).first()


def _warn_due(start: dt.datetime, due: dt.datetime | None, *, city=None) -> dt.datetime | None:
    """The yellow-light moment: `warn_ratio` (policy "dispatch.sla", default 80 %) of the clock run."""
    if due is None:
        return None
    ratio = float(policy_store.get("dispatch.sla", city=city, on=timezone.localtime(start).date())["warn_ratio"])
    return start + (due - start) * ratio


def _deadlines(*, kind: str, urgency: str, category: Category | None, start: dt.datetime, city=None):
    return sla.compute_deadlines(kind=kind, urgency=urgency, sla_class=category.sla_class if category else "",
                                 received_at=start, city=city)


def _clock_start(request: ServiceRequest) -> dt.datetime:
    """When the current resolve clock started: intake, or the latest reopening (督办)."""
    reopened = (RequestEvent.objects.filter(request=request, action=EventAction.REOPENED)
                .order_by("-at").values_list("at", flat=True).first())
    return reopened or request.received_at


def _suggestions(text: str) -> list[dict[str, Any]]:
    """Category suggestions for the text; never blocks intake (any failure → none)."""
    try:
        from . import classify

        return [
            {"category_id": s.category_id, "code": s.code, "name": s.name,
             "confidence": round(float(s.confidence), 4)}
            for s in classify.suggest(text, top=3)
        ]
    except Exception:
        logger.exception("category suggestions failed; intake goes on without them")
        return []


def _org_reaches(org: Organisation, request: ServiceRequest) -> bool:
    """An organisation may handle a request in its own area's subtree, or anywhere in its district."""
    code = org.area.code
    return request.area.code.startswith(code) or code.startswith(request.area.code[:6])


def _acting_assignment(actor, request: ServiceRequest, organisation: Organisation | None) -> Assignment:
    """The assignment the actor acts on: one of the request's assignments whose organisation
    is named by the actor's grant (or `organisation`, which must be one of those).  A department
    handler therefore acts only on its own organisation's assignments; anyone else is refused."""
    rows = list(Assignment.objects.filter(request=request).order_by("-assigned_at", "-pk"))
    if actor is None:
        if current_scope() is not DISABLED or organisation is None:
            raise PermissionDenied(_("您没有权限执行此操作。"))
        mine = [a for a in rows if a.organisation_id == organisation.pk]
    else:
        ensure_can(actor, "dispatch.handle", request.area.code)
        org_ids = set(scope_for_user(actor).organisation_ids)
        if organisation is not None:
            org_ids &= {organisation.pk}
        mine = [a for a in rows if a.organisation_id in org_ids]
    if not mine:
        raise PermissionDenied(_("该工单没有派给您所在的单位，您不能办理。"))
    # The current lead assignment first, then current co-handling, then history.
    def rank(a: Assignment):
        active = a.status in ACTIVE_ASSIGNMENT
        return (not active, a.role != AssignmentRole.LEAD)
    return sorted(mine, key=rank)[0]


def _lead_assignment(actor, request, organisation, action: str) -> Assignment:
    assignment = _acting_assignment(actor, request, organisation)
    if assignment.role != AssignmentRole.LEAD:
        raise PermissionDenied(_("只有主办单位才能%(action)s。") % {"action": _label(action)})
    if assignment.status not in ACTIVE_ASSIGNMENT:
        status = _fresh_status(request) or request.status
        if status in ALLOWED[action]:  # the request was re-dispatched to someone else
            raise TransitionError(_("该工单已改派其他单位承办。"))
        raise TransitionError(refusal(action, status, request))
    return assignment


def _followers(master: ServiceRequest, statuses: Iterable[str]) -> list[ServiceRequest]:
    return list(ServiceRequest.objects.unscoped().filter(master=master, status__in=list(statuses)).order_by("pk"))


def _dispatch_to(request: ServiceRequest, *, actor, lead: Organisation, co_handlers: list[Organisation],
                 from_status: str, at: dt.datetime, automatic: bool) -> RequestEvent:
    """Create the assignments (the request row was already claimed) and the event."""
    Assignment.objects.create(request=request, organisation=lead, role=AssignmentRole.LEAD, assigned_by=actor,
                              assigned_at=at)
    for org in co_handlers:
        Assignment.objects.create(request=request, organisation=org, role=AssignmentRole.CO, assigned_by=actor,
                                  assigned_at=at)
    data = {"lead": lead.pk, "co": [o.pk for o in co_handlers]}
    if automatic:
        data["automatic"] = True
    return _event(request, actor=actor, action=EventAction.DISPATCHED, from_status=from_status,
                  to_status=Status.DISPATCHED, organisation_id=lead.pk, data=data, at=at)


def _auto_route(request: ServiceRequest, *, from_status: str, at: dt.datetime) -> Organisation | None:
    """Dispatch to the organisation of the most specific routing rule, as the system; no rule →
    the request waits for the street hub."""
    if request.category_id is None:
        return None
    lead = routing.route_for(category=request.category, area=request.area)
    if lead is None:
        return None
    changed = ServiceRequest.objects.unscoped().filter(pk=request.pk, status=from_status).update(
        status=Status.DISPATCHED, lead_org=lead, dispatched_at=at, updated_at=at)
    if changed != 1:
        return None
    request.status, request.lead_org, request.dispatched_at = Status.DISPATCHED, lead, at
    _dispatch_to(request, actor=None, lead=lead, co_handlers=[], from_status=from_status, at=at, automatic=True)
    return lead


# ---------------------------------------------------------------------------
# Intake
# ---------------------------------------------------------------------------

@dataclass
class _Cleaned:
    values: dict[str, Any] = field(default_factory=dict)
    images: list = field(default_factory=list)


def _clean_intake(*, kind, channel, area, title, description, urgency, category, address, latitude, longitude,
                  contact_name, contact_phone, requester, images, errors: dict) -> _Cleaned:
    c = _Cleaned()
    if kind not in RequestKind.values:
        errors.setdefault("kind", []).append(_("请选择诉求类型。"))
    if channel not in Channel.values:
        errors.setdefault("channel", []).append(_("请选择受理渠道。"))
    if urgency not in Urgency.values:
        errors.setdefault("urgency", []).append(_("紧急程度“%(v)s”无效。") % {"v": urgency})
    if category is not None and not isinstance(category, Category):
        errors.setdefault("category", []).append(_("诉求类别无效。"))
    elif category is not None and not _leaf(category):
        errors.setdefault("category", []).append(_("请选择启用中的第三级（最细一级）诉求类别。"))
    c.values["title"] = _text(title, field="title", label=_("标题"), max_length=TITLE_MAX, required=True,
                              errors=errors)
    c.values["description"] = _text(description, field="description", label=_("诉求内容"),
                                    max_length=DESCRIPTION_MAX, required=True, errors=errors, multiline=True)
    c.values["address"] = _text(address, field="address", label=_("地址"), max_length=200, required=False,
                                errors=errors)
    c.values["latitude"] = clean_coordinate(latitude, field="latitude", label=_("纬度"), limit=90, errors=errors)
    c.values["longitude"] = clean_coordinate(longitude, field="longitude", label=_("经度"), limit=180, errors=errors)
    c.values["contact_name"] = _text(contact_name, field="contact_name", label=_("联系人"), max_length=64,
                                     required=False, errors=errors)
    phone = normalise_phone(str(contact_phone or "").strip())
    if phone and not _PHONE_SHAPE.match(phone):
        errors.setdefault("contact_phone", []).append(
            _("联系电话应为 11 位手机号或带区号的固定电话，请核对后重新填写。"))
    c.values["contact_phone"] = phone
    if requester is not None and not isinstance(requester, Person):
        errors.setdefault("requester", []).append(_("诉求人无效。"))
    checked, image_errors = attachments.check_images(images)
    if image_errors:
        errors.setdefault("images", []).extend(image_errors)
    c.images = checked
    return c


def intake_deferred() -> bool:
    """Whether intake leaves routing and the rest to the intake worker (settings.DISPATCH_INTAKE_DEFERRED)."""
    return bool(getattr(settings, "DISPATCH_INTAKE_DEFERRED", False))


def request_intake(*, actor, kind, channel, area, title, description, urgency=Urgency.NORMAL, category=None,
                   address="", latitude=None, longitude=None, contact_name="", contact_phone="", requester=None,
                   idempotency_key=None, images=()) -> ServiceRequest:
    """Receive a request from any channel (staff forms, the portal, the API).

    Validates everything first (ValidationError with field → messages; nothing is written),
    checks that the area is a community or grid the actor may take requests for, and then in
    one transaction: stores the request (contact phone encrypted with its blind index), its
    images (checked by content), the screening result (held → HELD), category suggestions,
    the deadlines of the SLA rules, and — when a category is given and a routing rule
    matches — dispatches it to that organisation as lead (the system acts; 首接负责: the
    actor is recorded as the first receiver).

    Deferred (settings.DISPATCH_INTAKE_DEFERRED, for city scale): intake stores the request
    with its number, images, screening result and audit entry only, marked `intake_pending`
    (on PostgreSQL without images: one INSERT statement for the row and its entry); complete_pending_intakes() (the intake worker) then does the rest —
    the same suggestions, deadlines (from the time received), routing, timeline and
    roll-ups — for a batch at a time.  Until then no clerk action can start on it.

    An idempotency key makes a retry safe: the same key from the same actor returns the
    request it created the first time, even when both attempts run at once (the partial
    unique index decides; the loser reads the winner's row).
    """
    key_digest = None
    if idempotency_key not in (None, ""):
        key = str(idempotency_key).strip()
        if not key or len(key) > IDEMPOTENCY_KEY_MAX:
            raise ValidationError({"idempotency_key": [
                _("幂等键应为 1 到 %(n)d 个字符。") % {"n": IDEMPOTENCY_KEY_MAX}]})
        key_digest = idempotency_digest(actor, key)
        existing = ServiceRequest.objects.unscoped().filter(idempotency_key=key_digest).first()
        if existing is not None:
            return existing

    errors: dict[str, list] = {}
    if not isinstance(area, Area):
        raise ValidationError({"area": [_("请选择诉求发生的社区或网格。")]})
    if area.level not in (AreaLevel.COMMUNITY, AreaLevel.GRID) or not area.is_active:
        raise ValidationError({"area": [_("诉求发生地必须是启用中的社区或网格。")]})
    _authorize(actor, "dispatch.intake", area.code)
    cleaned = _clean_intake(kind=kind, channel=channel, area=area, title=title, description=description,
                            urgency=urgency, category=category, address=address, latitude=latitude,
                            longitude=longitude, contact_name=contact_name, contact_phone=contact_phone,
                            requester=requester, images=images, errors=errors)
    district, street = _district_and_street(area)
    if district is None or street is None:
        errors.setdefault("area", []).append(_("该社区的上级街道或区不在区划数据中，请联系管理员。"))
    if errors:
        raise ValidationError(errors)

    values = cleaned.values
    # The uploaded images' file names are user text too (spam hides in them): screened, not suggested from.
    screen = screening.screen_text("\n".join([values["title"], values["description"],
                                              *(image.original_name for image in cleaned.images)]))
    phone = values.pop("contact_phone")
    request = ServiceRequest(
        district=district, street=street, area=area, kind=kind, channel=channel, urgency=urgency,
        category=category, category_confirmed=category is not None and actor is not None,
        contact_phone=phone, contact_phone_index=blind_index("phone", phone) if phone else "",
        requester=requester, status=Status.HELD if screen.hold else Status.RECEIVED,
        hold_reason=screen.reason if screen.hold else "", idempotency_key=key_digest,
        received_by=actor, received_at=_now(), **values,
    )
    if intake_deferred():
        return _intake_accept(actor, request, cleaned.images)
    with transaction.atomic():
        return _intake_inline(actor, request, cleaned.images)


def _intake_inline(actor, request: ServiceRequest, images) -> ServiceRequest:
    """The whole intake in the caller's transaction (request_intake, not deferred)."""
    request.suggestions = _suggestions(f"{request.title}\n{request.description}")
    # Routed before the row is written, so it is stored dispatched at once (nobody else can see
    # it before commit, so there is no claim to make); no rule → the street hub dispatches.
    _complete_intake(request, at=request.received_at)
    # A temporary unique value until the number is drawn at the end of the transaction (numbering.py).
    request.number = f"~{uuid.uuid4().hex[:19]}"
    twin = _insert_once(request)
    if twin is not None:
        return twin
    with _files_removed_on_failure() as stored:
        stored.extend(attachments.store(request, image) for image in images)
        events, assignment = _intake_events(request)
        if assignment is not None:
            assignment.save(force_insert=True)
        # Both events in one INSERT, their roll-up changes in one statement per row, written
        # last but one: the rows stay locked until commit.
        with rollups.deferred():
            _record_events(events)
        # Drawn last: the counter row stays locked until commit (numbering.py).
        request.number = numbering.assign_request_number(request.pk, request.district.code, request.received_at)
        _audit(actor, "received", request, after=_received_after(request, stored))
    return request


def _intake_accept(actor, request: ServiceRequest, images) -> ServiceRequest:
    """Deferred intake: the number (and on PostgreSQL the id) drawn first, outside the
    transaction, then one short transaction for the row, its images and its audit entry."""
    request.intake_pending = True
    request_id, request.number = numbering.draw_request_number(request.district.code, request.received_at)
    if request_id is not None:
        request.pk = request_id
        if not images:  # PostgreSQL: the row and its audit entry in one statement, no transaction
            return _accept_in_one_statement(actor, request)
    with transaction.atomic():
        twin = _insert_once(request)
        if twin is not None:
            return twin
        with _files_removed_on_failure() as stored:
            stored.extend(attachments.store(request, image) for image in images)
            _audit(actor, "received", request, after=_received_after(request, stored))
    return request


def _accept_in_one_statement(actor, request: ServiceRequest) -> ServiceRequest:
    """The deferred intake's write when there are no images: the request (id and number drawn)
    and its audit entry in one INSERT statement (audit.record_with_insert).  With an
    idempotency key the statement runs in a savepoint, so that a concurrent twin trips the
    partial unique index and its row is returned instead."""
    statement = bulk.insert_statement(request, connection=connection)
    after = _received_after(request, ())

    def write():
        audit.record_with_insert(statement, actor=actor, action="dispatch.request.received", obj=request,
                                 after=after)

    if request.idempotency_key is None:
        write()
    else:
        try:
            with transaction.atomic():
                write()
        except IntegrityError:
            existing = ServiceRequest.objects.unscoped().filter(idempotency_key=request.idempotency_key).first()
            if existing is None:
                raise
            return existing
    request._state.adding, request._state.db = False, connection.alias
    return request


def _insert_once(request: ServiceRequest) -> ServiceRequest | None:
    """INSERT the new request; with an idempotency key in a savepoint, so that a concurrent
    twin trips the partial unique index and its row is returned instead (None: inserted)."""
    if request.idempotency_key is None:
        request.save(force_insert=True)
        return None
    try:
        with transaction.atomic():
            request.save(force_insert=True)
    except IntegrityError:
        existing = ServiceRequest.objects.unscoped().filter(idempotency_key=request.idempotency_key).first()
        if existing is None:
            raise
        return existing
    return None


class _files_removed_on_failure:
    """Collects stored attachments; when the block fails their rows roll back, so their files go too."""

    def __enter__(self) -> list:
        self.stored = []
        return self.stored

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            for attachment in self.stored:
                attachment.file.delete(save=False)
        return False


def _received_after(request: ServiceRequest, stored) -> dict:
    after = {
        "number": request.number, "kind": request.kind, "channel": request.channel, "urgency": request.urgency,
        "area": request.area.code, "category": request.category.code if request.category else None,
        "status": request.status, "lead_org": request.lead_org_id, "contact_phone": mask_phone(request.contact_phone),
        "images": [a.sha256 for a in stored], "hold_reason": request.hold_reason,
    }
    if request.intake_pending:
        after["intake_pending"] = True
    return after


def _complete_intake(request: ServiceRequest, *, at: dt.datetime, routes: dict | None = None) -> None:
    """What intake decides beyond the resident's input, in memory: the SLA deadlines (the clock
    runs from the time received) and, unless held, the routing rule's lead organisation
    (dispatched `at`).  Inline intake and the intake worker both use it; the worker passes
    `routes`, the routing of its whole batch (routing.route_ids_for)."""
    city = request.district.parent_id
    deadlines = _deadlines(kind=request.kind, urgency=request.urgency, category=request.category,
                           start=request.received_at, city=city)
    request.contact_due_at, request.resolve_due_at = deadlines.contact.at, deadlines.resolve.at
    request.deadline_provisional = deadlines.provisional
    request.warn_due_at = _warn_due(request.received_at, deadlines.resolve.at, city=city)
    if request.category is not None and request.status == Status.RECEIVED:
        lead_id = (routes.get((request.category.code, request.area.code)) if routes is not None
                   else routing.route_id_for(category=request.category, area=request.area))
        if lead_id:
            request.status, request.lead_org_id, request.dispatched_at = Status.DISPATCHED, lead_id, at


def _intake_events(request: ServiceRequest) -> tuple[list[RequestEvent], Assignment | None]:
    """The timeline of an intake (received; then held or dispatched) and the lead's assignment."""
    received = request.received_at
    events = [RequestEvent(request=request, at=received, actor=request.received_by, action=EventAction.RECEIVED,
                           from_status="", to_status=Status.RECEIVED, data={})]
    assignment = None
    if request.status == Status.HELD:
        events.append(RequestEvent(request=request, at=received, action=EventAction.HELD,
                                   from_status=Status.RECEIVED, to_status=Status.HELD,
                                   note=request.hold_reason, data={"reason": request.hold_reason}))
    elif request.lead_org_id:
        lead_id, at = request.lead_org_id, request.dispatched_at
        assignment = Assignment(request=request, organisation_id=lead_id, role=AssignmentRole.LEAD, assigned_at=at)
        events.append(RequestEvent(request=request, at=at, action=EventAction.DISPATCHED,
                                   from_status=Status.RECEIVED, to_status=Status.DISPATCHED,
                                   organisation_id=lead_id, data={"lead": lead_id, "co": [], "automatic": True}))
    return events, assignment


INTAKE_BATCH = 200
_PENDING_FIELDS = ("suggestions", "status", "lead_org", "dispatched_at", "contact_due_at", "resolve_due_at",
                   "deadline_provisional", "warn_due_at", "intake_pending", "updated_at")


def complete_pending_intakes(*, limit: int = INTAKE_BATCH) -> list[ServiceRequest]:
    """One round of the intake worker (deferred intake): up to `limit` pending requests, oldest
    first, completed in one transaction exactly as inline intake would have — suggestions,
    deadlines from the time received, routing, the assignment, the timeline (received at the
    time received, by the first receiver) and the roll-ups — with one audit entry each.

    Several workers may run: on PostgreSQL each locks its batch (FOR UPDATE SKIP LOCKED) and
    the others take the next rows; SQLite's IMMEDIATE transactions let one writer in at a time.
    Returns the requests completed (empty: nothing was pending)."""
    pending = ServiceRequest.objects.unscoped().filter(intake_pending=True)
    if not pending.exists():  # a read first: an idle round takes no write lock (SQLite)
        return []
    with transaction.atomic():
        # The category with its parent: the roll-ups' top-level category then needs no query.
        rows = (pending
                .select_related("area", "category__parent", "district", "received_by").order_by("id"))
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        batch = list(rows[:limit])
        if not batch:
            return []
        now = _now()
        events, assignments = [], []
        routes = routing.route_ids_for((request.category.code, request.area.code) for request in batch
                                       if request.category_id is not None and request.status == Status.RECEIVED)
        for request in batch:
            request.suggestions = _suggestions(f"{request.title}\n{request.description}")
            _complete_intake(request, at=now, routes=routes)
            request_events, assignment = _intake_events(request)
            events.extend(request_events)
            if assignment is not None:
                assignments.append(assignment)
            request.intake_pending, request.updated_at = False, now
        Assignment.objects.bulk_create(assignments)
        with rollups.deferred():
            _record_events(events)
        bulk.update_rows(ServiceRequest, batch, _PENDING_FIELDS, manager=ServiceRequest.objects.unscoped())
        audit.record_many(actor=None, entries=[
            {"action": "dispatch.request.intake_completed", "obj": request,
             "after": {"status": request.status, "lead_org": request.lead_org_id,
                       "resolve_due_at": request.resolve_due_at.isoformat() if request.resolve_due_at else None}}
            for request in batch])
    return batch


# ---------------------------------------------------------------------------
# Screening, category, dispatch
# ---------------------------------------------------------------------------

@transaction.atomic
def request_release(*, actor, request: ServiceRequest, note: str = "") -> ServiceRequest:
    """A held request (spam screen) is released by the street after review: it is received
    normally and routed like at intake."""
    _authorize(actor, "dispatch.dispatch", request.area.code)
    note = _text(note, field="note", label=_("审核意见"), max_length=NOTE_MAX, required=False, errors={})
    now = _now()
    from_status = _claim(request, "release", status=Status.RECEIVED, hold_reason="")
    _event(request, actor=actor, action=EventAction.RELEASED, from_status=from_status, to_status=Status.RECEIVED,
           note=note, at=now)
    _auto_route(request, from_status=Status.RECEIVED, at=now)
    _audit(actor, "released", request, before={"status": from_status}, after={"status": request.status})
    return request


# Category suggestions learn from confirmed categories: retrain at most this often.
RETRAIN_INTERVAL = dt.timedelta(hours=1)
_RETRAIN_GATE = "zhouxin:dispatch:classifier-retrain-not-before"
_RETRAIN_LOCK = 0x7A78_6366  # PostgreSQL advisory lock of the retraining check ("zxcf")


def schedule_classifier_retraining() -> bool:
    """Enqueue the task `retrain_classifier` (tasks_classifier.py) unless one was enqueued less
    than RETRAIN_INTERVAL ago, by this or any other process; True when it enqueued one.

    The task table (database task backend) is the record of the last enqueue; the check and
    the enqueue run in one transaction under a lock (SQLite: the IMMEDIATE write lock;
    PostgreSQL: an advisory lock), so two processes cannot both enqueue.  A per-process cache
    entry remembers until when there is nothing to do, so categorising costs no query then.
    """
    now = timezone.now()  # the task table's clock (enqueued_at), not the services' _now()
    not_before = cache.get(_RETRAIN_GATE)
    if not_before is not None and now < not_before:
        return False
    from .tasks_classifier import retrain_classifier

    backend = retrain_classifier.get_backend()
    enqueued = False
    with transaction.atomic():
        last = None
        if type(backend).__module__.startswith("django_tasks_db"):
            from django_tasks_db.models import DBTaskResult

            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_RETRAIN_LOCK])
            last = (DBTaskResult.objects.filter(task_path=retrain_classifier.module_path,
                                                enqueued_at__gt=now - RETRAIN_INTERVAL)
                    .order_by("-enqueued_at").values_list("enqueued_at", flat=True).first())
        if last is None:
            retrain_classifier.enqueue()
            last, enqueued = now, True
    not_before = last + RETRAIN_INTERVAL
    cache.set(_RETRAIN_GATE, not_before, timeout=max(1, int((not_before - now).total_seconds())))
    return enqueued


def _retrain_after_commit() -> None:
    """Runs after the categorising transaction committed: a failure to enqueue is logged,
    never shown to the dispatcher whose change is already saved."""
    try:
        schedule_classifier_retraining()
    except Exception:
        logger.exception("could not schedule the classifier's retraining")


@transaction.atomic
def request_categorise(*, actor, request: ServiceRequest, category: Category) -> ServiceRequest:
    """The dispatcher confirms (or corrects) the category before dispatch; the deadlines are
    recomputed from the intake time with the category's SLA class (the earlier rule applies).

    A confirmed category is a training example for the suggestions: after commit the task
    `retrain_classifier` is enqueued, at most once per hour (schedule_classifier_retraining)."""
    _authorize(actor, "dispatch.dispatch", request.area.code)
    if not isinstance(category, Category) or not _leaf(category):
        raise ValidationError({"category": [_("请选择启用中的第三级（最细一级）诉求类别。")]})
    city = _city_id(request.area.code)
    deadlines = _deadlines(kind=request.kind, urgency=request.urgency, category=category,
                           start=request.received_at, city=city)
    old = request.category_id
    from_status = _claim(
        request, "categorise", extra=Q(category_id=old) if old else Q(category__isnull=True),
        refuse_extra=_("该工单的类别刚被其他人修改，请刷新后再试。"),
        category=category, category_confirmed=True, contact_due_at=deadlines.contact.at,
        resolve_due_at=deadlines.resolve.at, deadline_provisional=deadlines.provisional,
        warn_due_at=_warn_due(request.received_at, deadlines.resolve.at, city=city))
    _event(request, actor=actor, action=EventAction.CATEGORISED, from_status=from_status, to_status=from_status,
           data={"from": old, "to": category.pk})
    _audit(actor, "categorised", request, before={"category": old}, after={"category": category.pk})
    transaction.on_commit(_retrain_after_commit)
    return request


@transaction.atomic
def request_dispatch(*, actor, request: ServiceRequest, lead: Organisation,
                     co_handlers: Iterable[Organisation] = ()) -> ServiceRequest:
    """The street hub dispatches to a lead handler (主办) with optional co-handlers (协办).
    Every organisation must be active and reach the request's area (its own subtree or its
    district); the request must have a category."""
    _authorize(actor, "dispatch.dispatch", request.area.code)
    co = list(co_handlers or ())
    errors: dict[str, list] = {}
    if not isinstance(lead, Organisation):
        errors.setdefault("lead", []).append(_("请选择主办单位。"))
    else:
        if not lead.is_active:
            errors.setdefault("lead", []).append(_("“%(name)s”已停用，不能派单。") % {"name": lead.name})
        elif not _org_reaches(lead, request):
            errors.setdefault("lead", []).append(
                _("“%(name)s”不在该工单所在区域，不能承办。") % {"name": lead.name})
    seen = {lead.pk} if isinstance(lead, Organisation) else set()
    for org in co:
        if not isinstance(org, Organisation):
            errors.setdefault("co_handlers", []).append(_("协办单位无效。"))
        elif org.pk in seen:
            errors.setdefault("co_handlers", []).append(
                _("“%(name)s”重复：主办单位不能同时是协办单位，协办单位也不能重复。") % {"name": org.name})
        elif not org.is_active or not _org_reaches(org, request):
            errors.setdefault("co_handlers", []).append(
                _("“%(name)s”已停用或不在该工单所在区域，不能协办。") % {"name": org.name})
        else:
            seen.add(org.pk)
    if errors:
        raise ValidationError(errors)
    if request.category_id is None and _fresh_status(request) in ALLOWED["dispatch"]:
        raise TransitionError(_("请先确认诉求类别，再派单。"))
    now = _now()
    from_status = _claim(request, "dispatch", extra=Q(category__isnull=False),
                         refuse_extra=_("请先确认诉求类别，再派单。"),
                         status=Status.DISPATCHED, lead_org=lead, dispatched_at=now)
    _dispatch_to(request, actor=actor, lead=lead, co_handlers=co, from_status=from_status, at=now, automatic=False)
    _audit(actor, "dispatched", request, before={"status": from_status},
           after={"status": Status.DISPATCHED, "lead": lead.pk, "co": [o.pk for o in co]})
    return request


# ---------------------------------------------------------------------------
# Handling: accept, return, extension, contact, reply
# ---------------------------------------------------------------------------

def _claim_assignment(assignment: Assignment, *, expected: str, message: str, **values) -> None:
    changed = Assignment.objects.filter(pk=assignment.pk, status=expected).update(**values)
    if changed != 1:
        raise TransitionError(message)
    for name, value in values.items():
        setattr(assignment, name, value)


@transaction.atomic
def request_accept(*, actor, request: ServiceRequest, organisation: Organisation | None = None) -> ServiceRequest:
    """The lead handler signs for the request (签收); a co-handler signs for its part."""
    assignment = _acting_assignment(actor, request, organisation)
    now = _now()
    if assignment.role == AssignmentRole.CO:
        if assignment.status not in (AssignmentStatus.PENDING,):
            raise TransitionError(_("贵单位已签收或退回了该工单的协办任务。"))
        status = _fresh_status(request)
        if status not in ALLOWED["co_accept"]:
            raise TransitionError(refusal("co_accept", status, request))
        _claim_assignment(assignment, expected=AssignmentStatus.PENDING, status=AssignmentStatus.ACCEPTED,
                          accepted_at=now, message=_("贵单位已签收或退回了该工单的协办任务。"))
        _event(request, actor=actor, action=EventAction.ACCEPTED, from_status=status, to_status=status,
               organisation_id=assignment.organisation_id, data={"role": AssignmentRole.CO})
        _audit(actor, "co_accepted", request, after={"organisation": assignment.organisation_id})
        return request
    if assignment.status not in ACTIVE_ASSIGNMENT:
        raise TransitionError(refusal("accept", _fresh_status(request) or request.status, request))
    from_status = _claim(request, "accept", extra=Q(lead_org_id=assignment.organisation_id),
                         refuse_extra=_("该工单已改派其他单位承办。"), status=Status.ACCEPTED, accepted_at=now)
    _claim_assignment(assignment, expected=AssignmentStatus.PENDING, status=AssignmentStatus.ACCEPTED,
                      accepted_at=now, message=_("该工单已被签收，不能重复签收。"))
    _event(request, actor=actor, action=EventAction.ACCEPTED, from_status=from_status, to_status=Status.ACCEPTED,
           organisation_id=assignment.organisation_id, data={"role": AssignmentRole.LEAD})
    _audit(actor, "accepted", request, before={"status": from_status}, after={"status": Status.ACCEPTED})
    return request


@transaction.atomic
def request_return(*, actor, request: ServiceRequest, reason: str,
                   organisation: Organisation | None = None) -> ServiceRequest:
    """退单: the lead handler sends the request back to the dispatcher with a reason, before
    signing for it (once signed, it is theirs).  A co-handler returns only its own part."""
    assignment = _acting_assignment(actor, request, organisation)
    reason = _reason(reason, label=_("退单理由"))
    now = _now()
    if assignment.role == AssignmentRole.CO:
        status = _fresh_status(request)
        if status not in ALLOWED["co_return"]:
            raise TransitionError(refusal("co_return", status, request))
        _claim_assignment(assignment, expected=AssignmentStatus.PENDING, status=AssignmentStatus.RETURNED,
                          returned_at=now, return_reason=reason,
                          message=_("贵单位已签收或退回了该工单的协办任务，不能退单。"))
        _event(request, actor=actor, action=EventAction.RETURNED, from_status=status, to_status=status,
               organisation_id=assignment.organisation_id, note=reason,
               data={"reason": reason, "role": AssignmentRole.CO})
        _audit(actor, "co_returned", request, after={"organisation": assignment.organisation_id, "reason": reason})
        return request
    if assignment.status not in ACTIVE_ASSIGNMENT:
        raise TransitionError(refusal("return", _fresh_status(request) or request.status, request))
    from_status = _claim(request, "return", extra=Q(lead_org_id=assignment.organisation_id),
                         refuse_extra=_("该工单已改派其他单位承办。"), status=Status.RETURNED, lead_org=None)
    _claim_assignment(assignment, expected=AssignmentStatus.PENDING, status=AssignmentStatus.RETURNED,
                      returned_at=now, return_reason=reason, message=_("该工单已被签收，不能退单。"))
    # The dispatcher starts afresh: co-handlers of the returned dispatch are withdrawn.
    Assignment.objects.filter(request=request, role=AssignmentRole.CO,
                              status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]).update(
        status=AssignmentStatus.WITHDRAWN)
    _event(request, actor=actor, action=EventAction.RETURNED, from_status=from_status, to_status=Status.RETURNED,
           organisation_id=assignment.organisation_id, note=reason, data={"reason": reason})
    _audit(actor, "returned", request, before={"status": from_status, "lead_org": assignment.organisation_id},
           after={"status": Status.RETURNED, "reason": reason})
    return request


@transaction.atomic
def extension_request(*, actor, request: ServiceRequest, working_days, reason: str) -> Extension:
    """延期: the lead handler asks the street for more working days.  One pending request at a
    time (a partial unique index); the street decides (extension_decide)."""
    assignment = _lead_assignment(actor, request, None, "extension")
    errors: dict[str, list] = {}
    try:
        days = int(working_days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= EXTENSION_MAX_WORKING_DAYS:
        errors["working_days"] = [_("延长的工作日应为 1 到 %(n)d 天。") % {"n": EXTENSION_MAX_WORKING_DAYS}]
    try:
        reason = _reason(reason, label=_("延期理由"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    status = _fresh_status(request)
    if status not in ALLOWED["extension"]:
        raise TransitionError(refusal("extension", status, request))
    pending = _("该工单已有待审批的延期申请，请等待街道审批。")
    if Extension.objects.filter(request=request, status=ExtensionStatus.PENDING).exists():
        raise TransitionError(pending)
    now = _now()
    try:
        with transaction.atomic():
            extension = Extension.objects.create(
                request=request, organisation_id=assignment.organisation_id, requested_by=actor, requested_at=now,
                working_days=days, reason=reason)
    except IntegrityError:  # a colleague's request won the race
        raise TransitionError(pending) from None
    _event(request, actor=actor, action=EventAction.EXTENSION_REQUESTED, from_status=status, to_status=status,
           organisation_id=assignment.organisation_id, note=reason,
           data={"extension": extension.pk, "working_days": days, "reason": reason})
    audit.record(actor=actor, action="dispatch.extension.requested", obj=extension,
                 after={"request": request.pk, "working_days": days, "reason": reason})
    return extension


@transaction.atomic
def extension_decide(*, actor, extension: Extension, approve: bool, note: str = "") -> Extension:
    """The street approves (new resolve deadline: sla.extend_deadline) or refuses an extension."""
    request = ServiceRequest.objects.unscoped().select_related("area").get(pk=extension.request_id)
    _authorize(actor, "dispatch.supervise", request.area.code)
    note = _text(note, field="note", label=_("审批意见"), max_length=300, required=False, errors={})
    if not approve and len(note) < REASON_MIN:
        raise ValidationError({"note": [_("驳回延期申请时请写明理由。")]})
    status = _fresh_status(request)
    if approve and status not in OPEN_STATUSES:
        raise TransitionError(_("该工单已不在办理中，不能批准延期。"))
    now = _now()
    values: dict[str, Any] = {"status": ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED,
                              "decided_by": actor, "decided_at": now, "decision_note": note}
    new_due = None
    if approve:
        deadline = sla.extend_deadline(request, extension.working_days)
        new_due = deadline.at
        values["new_resolve_due_at"] = new_due
    changed = Extension.objects.filter(pk=extension.pk, status=ExtensionStatus.PENDING).update(**values)
    if changed != 1:
        raise TransitionError(_("该延期申请已审批过了。"))
    for name, value in values.items():
        setattr(extension, name, value)
    if approve:
        city = _city_id(request.area.code)
        warn_due = _warn_due(_clock_start(request), new_due, city=city)
        update = {"resolve_due_at": new_due, "warn_due_at": warn_due, "updated_at": now,
                  "deadline_provisional": request.deadline_provisional or deadline.provisional}
        if warn_due is not None and warn_due > now:
            update["warned_at"] = None  # the new clock may warn again
        ServiceRequest.objects.unscoped().filter(pk=request.pk).update(**update)
        _event(request, actor=actor, action=EventAction.EXTENSION_APPROVED, from_status=status, to_status=status,
               organisation_id=extension.organisation_id, note=note,
               data={"extension": extension.pk, "working_days": extension.working_days,
                     "resolve_due_at": new_due.isoformat()})
    else:
        _event(request, actor=actor, action=EventAction.EXTENSION_REFUSED, from_status=status, to_status=status,
               organisation_id=extension.organisation_id, note=note, data={"extension": extension.pk})
    audit.record(actor=actor, action="dispatch.extension.approved" if approve else "dispatch.extension.refused",
                 obj=extension, before={"status": ExtensionStatus.PENDING},
                 after={"status": extension.status, "new_resolve_due_at": new_due, "note": note})
    return extension


@transaction.atomic
def request_contact(*, actor, request: ServiceRequest, note: str = "") -> ServiceRequest:
    """First contact with the requester (首次联系), which the response rate measures against
    the contact deadline.  Not in time when the deadline has passed, or when the SLA sweep
    already marked the request overdue for contact (it was then counted as due; see
    rollups: the contact adds nothing more to those rows)."""
    assignment = _lead_assignment(actor, request, None, "contact")
    note = _text(note, field="note", label=_("联系情况"), max_length=NOTE_MAX, required=False, errors={},
                 multiline=True)
    now = _now()
    from_status = _claim(request, "contact", extra=Q(contacted_at__isnull=True),
                         refuse_extra=_("已记录过首次联系，不能重复记录。"),
                         status=Status.CONTACTED, contacted_at=now)
    # Read after the claim: the row is ours now, so a sweep that marked it first is seen, and
    # one that comes later finds contacted_at set and leaves it alone.
    due_at, overdue_at = ServiceRequest.objects.unscoped().filter(pk=request.pk).values_list(
        "contact_due_at", "contact_overdue_at").get()
    request.contact_due_at, request.contact_overdue_at = due_at, overdue_at
    in_time = overdue_at is None and (due_at is None or now <= due_at)
    _event(request, actor=actor, action=EventAction.CONTACTED, from_status=from_status, to_status=Status.CONTACTED,
           organisation_id=assignment.organisation_id, note=note, data={"in_time": in_time})
    _audit(actor, "contacted", request, before={"status": from_status},
           after={"status": Status.CONTACTED, "in_time": in_time})
    return request


def _follow_reply(master: ServiceRequest, followers: list[ServiceRequest], *, actor, at: dt.datetime) -> None:
    """Merged requests follow their master: each gets the master's reply and so waits for its
    own callback (every requester is called back)."""
    for follower in followers:
        changed = ServiceRequest.objects.unscoped().filter(pk=follower.pk, status=Status.MERGED).update(
            status=Status.REPLIED, reply=master.reply, replied_at=at, callback_at=None, resolution="",
            satisfaction="", lead_org=master.lead_org_id, updated_at=at)
        if changed:
            _event(follower, actor=actor, action=EventAction.REPLIED, from_status=Status.MERGED,
                   to_status=Status.REPLIED, organisation_id=master.lead_org_id, at=at,
                   data={"master": master.pk})


@transaction.atomic
def request_reply(*, actor, request: ServiceRequest, reply: str) -> ServiceRequest:
    """The lead handler's answer to the requester (答复); merged requests receive it too."""
    assignment = _lead_assignment(actor, request, None, "reply")
    errors: dict[str, list] = {}
    text = _text(reply, field="reply", label=_("答复内容"), max_length=REPLY_MAX, required=True, errors=errors,
                 multiline=True)
    if errors:
        raise ValidationError(errors)
    now = _now()
    from_status = _claim(request, "reply", status=Status.REPLIED, reply=text, replied_at=now, callback_at=None,
                         resolution="", satisfaction="")
    Assignment.objects.filter(request=request, status=AssignmentStatus.ACCEPTED).update(
        status=AssignmentStatus.DONE)
    _event(request, actor=actor, action=EventAction.REPLIED, from_status=from_status, to_status=Status.REPLIED,
           organisation_id=assignment.organisation_id, note=text[:200])
    _follow_reply(request, _followers(request, [Status.MERGED]), actor=actor, at=now)
    _audit(actor, "replied", request, before={"status": from_status}, after={"status": Status.REPLIED})
    return request


# ---------------------------------------------------------------------------
# Callback, close, reopen
# ---------------------------------------------------------------------------

CLOSING_RESOLUTIONS = frozenset({Resolution.RESOLVED, Resolution.PARTLY})
CLOSING_SATISFACTION = frozenset({Satisfaction.SATISFIED, Satisfaction.BASIC})


def closes_on_callback(resolution: str, satisfaction: str) -> bool:
    """Resolved or partly resolved, and satisfied or basically satisfied: the request closes.
    Anything else (not resolved, unsatisfied, unreachable) is left to the street supervisor."""
    return resolution in CLOSING_RESOLUTIONS and satisfaction in CLOSING_SATISFACTION


@transaction.atomic
def request_callback(*, actor, request: ServiceRequest, resolution: str, satisfaction: str,
                     note: str = "") -> ServiceRequest:
    """回访: ask the requester whether the request was resolved and whether they are satisfied
    ("unreachable" is a valid answer).  Closes the request when resolved or partly resolved and
    satisfied or basically satisfied; otherwise it waits for the supervisor (close or reopen)."""
    _authorize(actor, "dispatch.callback", request.area.code)
    errors: dict[str, list] = {}
    if resolution not in Resolution.values:
        errors["resolution"] = [_("请选择解决情况。")]
    if satisfaction not in Satisfaction.values:
        errors["satisfaction"] = [_("请选择满意度。")]
    note = _text(note, field="note", label=_("回访记录"), max_length=NOTE_MAX, required=False, errors=errors,
                 multiline=True)
    if errors:
        raise ValidationError(errors)
    now = _now()
    closing = closes_on_callback(resolution, satisfaction)
    values: dict[str, Any] = {"resolution": resolution, "satisfaction": satisfaction, "callback_at": now}
    if closing:
        values.update(status=Status.CLOSED, closed_at=now)
    from_status = _claim(request, "callback", extra=Q(callback_at__isnull=True),
                         refuse_extra=_("该工单已回访，请由街道决定办结或督办重办。"), **values)
    _event(request, actor=actor, action=EventAction.CALLBACK, from_status=from_status, to_status=Status.REPLIED,
           organisation_id=request.lead_org_id, note=note,
           data={"resolution": resolution, "satisfaction": satisfaction}, at=now)
    if closing:
        Assignment.objects.filter(request=request, status__in=[AssignmentStatus.ACCEPTED]).update(
            status=AssignmentStatus.DONE)
        _event(request, actor=actor, action=EventAction.CLOSED, from_status=Status.REPLIED,
               to_status=Status.CLOSED, organisation_id=request.lead_org_id, at=now)
    _audit(actor, "callback", request, before={"status": from_status},
           after={"status": request.status, "resolution": resolution, "satisfaction": satisfaction})
    return request


@transaction.atomic
def request_close(*, actor, request: ServiceRequest, note: str = "") -> ServiceRequest:
    """The street supervisor closes a request the callback left open (e.g. unreachable,
    or unsatisfied with a reasonable answer)."""
    _authorize(actor, "dispatch.supervise", request.area.code)
    note = _text(note, field="note", label=_("办结意见"), max_length=NOTE_MAX, required=False, errors={},
                 multiline=True)
    now = _now()
    from_status = _claim(request, "close", extra=Q(callback_at__isnull=False),
                         refuse_extra=_("请先完成回访，再办结。"), status=Status.CLOSED, closed_at=now)
    Assignment.objects.filter(request=request, status=AssignmentStatus.ACCEPTED).update(
        status=AssignmentStatus.DONE)
    _event(request, actor=actor, action=EventAction.CLOSED, from_status=from_status, to_status=Status.CLOSED,
           organisation_id=request.lead_org_id, note=note)
    _audit(actor, "closed", request, before={"status": from_status}, after={"status": Status.CLOSED})
    return request


@transaction.atomic
def request_reopen(*, actor, request: ServiceRequest, reason: str) -> ServiceRequest:
    """督办重办: the street reopens a replied (after its callback) or closed request under
    supervision: the lead handler works on it again with a new resolve deadline counted from
    now; the warning and escalation clocks start over.  Merged requests waiting for their own
    outcome follow the master again."""
    _authorize(actor, "dispatch.supervise", request.area.code)
    reason = _reason(reason, label=_("督办理由"))
    if request.master_id:
        raise TransitionError(_("该工单随主工单 %(master)s 办理，请对主工单督办重办。") % {
            "master": request.master.number})
    if request.lead_org_id is None:
        raise TransitionError(_("该工单没有主办单位，不能督办重办。"))
    now = _now()
    city = _city_id(request.area.code)
    deadlines = _deadlines(kind=request.kind, urgency=request.urgency, category=request.category, start=now,
                           city=city)
    from_status = _claim(
        request, "reopen", extra=Q(status=Status.CLOSED) | Q(callback_at__isnull=False),
        refuse_extra=_("该工单尚未回访，请先回访再决定是否督办重办。"),
        status=Status.REOPENED, supervised=True, reopen_count=F("reopen_count") + 1, closed_at=None,
        callback_at=None, resolution="", satisfaction="", resolve_due_at=deadlines.resolve.at,
        warn_due_at=_warn_due(now, deadlines.resolve.at, city=city), warned_at=None, escalated_at=None,
        deadline_provisional=deadlines.provisional)
    Assignment.objects.filter(request=request, role=AssignmentRole.LEAD, organisation_id=request.lead_org_id,
                              status=AssignmentStatus.DONE).update(status=AssignmentStatus.ACCEPTED)
    _event(request, actor=actor, action=EventAction.REOPENED, from_status=from_status, to_status=Status.REOPENED,
           organisation_id=request.lead_org_id, note=reason, data={"reason": reason}, at=now)
    for follower in _followers(request, [Status.REPLIED]):
        changed = ServiceRequest.objects.unscoped().filter(pk=follower.pk, status=Status.REPLIED).update(
            status=Status.MERGED, callback_at=None, resolution="", satisfaction="", updated_at=now)
        if changed:
            _event(follower, actor=actor, action=EventAction.REOPENED, from_status=Status.REPLIED,
                   to_status=Status.MERGED, organisation_id=request.lead_org_id, note=reason,
                   data={"reason": reason, "master": request.pk}, at=now)
    _audit(actor, "reopened", request, before={"status": from_status},
           after={"status": Status.REOPENED, "reason": reason, "reopen_count": request.reopen_count,
                  "resolve_due_at": deadlines.resolve.at})
    return request


# ---------------------------------------------------------------------------
# Merge, invalidate
# ---------------------------------------------------------------------------

@transaction.atomic
def request_merge(*, actor, master: ServiceRequest, duplicates: Iterable[ServiceRequest]) -> list[ServiceRequest]:
    """Merge duplicates into a master: each gets status MERGED and follows the master from then
    on (its pending assignments are withdrawn; when the master is replied, each duplicate gets
    the reply and its own callback).  A master already replied passes its reply on at once."""
    dups = sorted({d.pk: d for d in duplicates}.values(), key=lambda d: d.pk)
    _authorize(actor, "dispatch.dispatch", master.area.code)
    for dup in dups:
        _authorize(actor, "dispatch.dispatch", dup.area.code)
    if not dups:
        raise ValidationError({"duplicates": [_("请选择要合并的重复工单。")]})
    master_status = _fresh_status(master)
    if master.master_id or master_status in (Status.MERGED, Status.INVALID, Status.HELD, Status.CLOSED, None):
        raise TransitionError(_("主工单 %(number)s 当前状态为“%(status)s”，不能作为合并的主工单。") % {
            "number": master.number, "status": Status(master_status).label if master_status else "—"})
    if any(d.pk == master.pk for d in dups):
        raise ValidationError({"duplicates": [_("工单不能合并到自身。")]})
    if ServiceRequest.objects.unscoped().filter(master__in=[d.pk for d in dups]).exists():
        raise TransitionError(_("所选工单中有已被其他工单合并进来的主工单，不能再合并到别的工单。"))
    now = _now()
    for dup in dups:
        try:
            from_status = _claim(dup, "merge", status=Status.MERGED, master=master, lead_org=None)
        except TransitionError as exc:
            raise TransitionError(_("工单 %(number)s：%(message)s") % {
                "number": dup.number, "message": exc.messages[0]}) from None
        Assignment.objects.filter(request=dup, status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]) \
            .update(status=AssignmentStatus.WITHDRAWN)
        _event(dup, actor=actor, action=EventAction.MERGED, from_status=from_status, to_status=Status.MERGED,
               data={"master": master.pk}, at=now)
        _audit(actor, "merged", dup, before={"status": from_status},
               after={"status": Status.MERGED, "master": master.pk})
    if master_status == Status.REPLIED:
        master.refresh_from_db(fields=["reply", "lead_org"])
        _follow_reply(master, dups, actor=actor, at=now)
    return dups


@transaction.atomic
def request_invalidate(*, actor, request: ServiceRequest, reason: str) -> ServiceRequest:
    """判定无效 (malicious, spam, not a request): closed out of the work and excluded from the
    three rates.  Only before a handler signed for it; not for a master others follow."""
    _authorize(actor, "dispatch.dispatch", request.area.code)
    reason = _reason(reason, label=_("无效原因"))
    if ServiceRequest.objects.unscoped().filter(master=request, status=Status.MERGED).exists():
        raise TransitionError(_("有其他工单合并到该工单，不能判定无效。"))
    from_status = _claim(request, "invalidate", status=Status.INVALID, invalid_reason=reason)
    Assignment.objects.filter(request=request, status__in=[AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED]) \
        .update(status=AssignmentStatus.WITHDRAWN)
    _event(request, actor=actor, action=EventAction.INVALIDATED, from_status=from_status, to_status=Status.INVALID,
           organisation_id=request.lead_org_id, note=reason, data={"reason": reason})
    _audit(actor, "invalidated", request, before={"status": from_status},
           after={"status": Status.INVALID, "reason": reason})
    return request


# ---------------------------------------------------------------------------
# SLA sweep
# ---------------------------------------------------------------------------

@dataclass
class SweepResult:
    warned: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    contact_overdue: list[int] = field(default_factory=list)


# What the sweep looks for, per kind: the "not yet" condition of its compare-and-set.
def _sweep_due(kind: str, now: dt.datetime) -> Q:
    if kind == "escalate":
        return Q(escalated_at__isnull=True, resolve_due_at__lte=now)
    if kind == "contact":
        return Q(contacted_at__isnull=True, contact_overdue_at__isnull=True, contact_due_at__lte=now)
    return Q(warned_at__isnull=True, warn_due_at__lte=now, resolve_due_at__gt=now)


_SWEEP_MARK = {"escalate": "escalated_at", "contact": "contact_overdue_at", "warn": "warned_at"}


def _sweep_one(pk: int, *, now: dt.datetime, kind: str) -> bool:
    """Warn ("warn"), escalate ("escalate") or mark overdue for contact ("contact") one request,
    at most once: the UPDATE's WHERE says "not yet", so of two sweepers exactly one changes the
    row and writes the event."""
    with transaction.atomic():
        rows = ServiceRequest.objects.unscoped().filter(_sweep_due(kind, now), pk=pk,
                                                        status__in=list(OPEN_STATUSES))
        if rows.update(**{_SWEEP_MARK[kind]: now, "updated_at": now}) != 1:
            return False
        request = ServiceRequest.objects.unscoped().get(pk=pk)
        if kind == "contact":
            # The request is now due in the response rate and not in time (rollups).
            _event(request, actor=None, action=EventAction.CONTACT_OVERDUE, from_status=request.status,
                   to_status=request.status, organisation_id=request.lead_org_id, at=now,
                   data={"contact_due_at": request.contact_due_at.isoformat()})
            _audit(None, "contact_overdue", request,
                   after={"contact_due_at": request.contact_due_at, "street": request.street_id})
            return True
        escalating = kind == "escalate"
        action = EventAction.ESCALATED if escalating else EventAction.WARNED
        _event(request, actor=None, action=action, from_status=request.status, to_status=request.status,
               organisation_id=request.lead_org_id, at=now,
               data={} if escalating else {"resolve_due_at": request.resolve_due_at.isoformat()})
        _audit(None, "escalated" if escalating else "warned", request,
               after={"resolve_due_at": request.resolve_due_at, "street": request.street_id})
    return True


def sla_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> SweepResult:
    """Yellow warning at `warn_ratio` of the time (once), escalation of overdue open requests to
    the street hub (once), and open requests past their contact deadline that nobody has called
    marked overdue for contact (once: they count as due and not in time in the response rate,
    whether or not they are ever contacted) — each once even with several sweepers running
    (compare-and-set per request).  Run by the task `sweep_sla` and by
    `manage.py sla_sweep [--loop SECONDS]`."""
    now = now or _now()
    result = SweepResult()
    base = ServiceRequest.objects.unscoped().filter(status__in=list(OPEN_STATUSES))
    found = {"escalate": result.escalated, "contact": result.contact_overdue, "warn": result.warned}
    for kind, marked in found.items():
        candidates = base.filter(_sweep_due(kind, now))
        last_pk = 0
        while True:
            ids = list(candidates.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            for pk in ids:
                if _sweep_one(pk, now=now, kind=kind):
                    marked.append(pk)
            last_pk = ids[-1]
    return result


# ---------------------------------------------------------------------------
# The requester's personal data (PIPL): correction and deletion
# ---------------------------------------------------------------------------

# Statuses in which the contact details are still used (contact, reply, callback).
CONTACT_CORRECTABLE = frozenset(OPEN_STATUSES | {Status.HELD, Status.REPLIED})
# What the request keeps after deletion, and why: the record of the public duty performed.
PIPL_RETENTION_NOTE = ("个人信息已按居民申请删除，诉求记录依据《个人信息保护法》第十三条第一款第三项"
                       "（履行法定职责）保留")


def _mask_name(name: str) -> str:
    return f"{name[:1]}{'*' * max(1, len(name) - 1)}" if name else ""


@transaction.atomic
def request_contact_correct(*, actor, request: ServiceRequest, contact_name: str, contact_phone: str,
                            on_behalf_of: str = "") -> bool:
    """The requester corrects their contact name or phone (PIPL art. 46, right to correction)
    while the request is still being handled.  Returns False when nothing changed.

    The resident acts through the portal, which proves who they are; the service then runs
    as the system (actor=None inside scopes_disabled()) and `on_behalf_of` names them
    ("portal account 12").  The event and audit record keep only masked values."""
    _authorize(actor, "dispatch.dispatch", request.area.code)
    errors: dict[str, list] = {}
    name = _text(contact_name, field="contact_name", label=_("联系人"), max_length=64, required=True, errors=errors)
    phone = normalise_phone(str(contact_phone or "").strip())
    if not phone:
        errors.setdefault("contact_phone", []).append(_("请填写联系电话。"))
    elif not _PHONE_SHAPE.match(phone):
        errors.setdefault("contact_phone", []).append(
            _("联系电话应为 11 位手机号或带区号的固定电话，请核对后重新填写。"))
    if errors:
        raise ValidationError(errors)
    current = ServiceRequest.objects.unscoped().select_for_update().filter(pk=request.pk).first()
    if current is None:
        raise TransitionError(_("该工单不存在。"))
    if current.status not in CONTACT_CORRECTABLE or current.anonymised_at is not None:
        raise TransitionError(_("该诉求已办结或已结束办理，不能再更正联系方式。"))
    if current.contact_name == name and current.contact_phone == phone:
        return False
    before = {"contact_name": _mask_name(current.contact_name), "contact_phone": mask_phone(current.contact_phone)}
    after = {"contact_name": _mask_name(name), "contact_phone": mask_phone(phone)}
    ServiceRequest.objects.unscoped().filter(pk=request.pk).update(
        contact_name=name, contact_phone=phone, contact_phone_index=blind_index("phone", phone), updated_at=_now())
    request.contact_name, request.contact_phone = name, phone
    request.contact_phone_index = blind_index("phone", phone)
    _event(request, actor=actor, action=EventAction.CONTACT_CORRECTED, from_status=current.status,
           to_status=current.status, data={"before": before, "after": after, "by": on_behalf_of})
    _audit(actor, "contact_corrected", request, before=before, after={**after, "by": on_behalf_of})
    return True


@transaction.atomic
def request_anonymise(*, actor, request: ServiceRequest, on_behalf_of: str = "") -> bool:
    """Delete the requester's personal data from a request at their request (PIPL art. 47)
    and keep the request itself: the contact name and phone (with its lookup index), the
    address, the coordinates and the link to a known person are cleared, metadata (EXIF
    GPS and the like) is removed from its photos, and the legal basis for keeping the rest
    (PIPL art. 13(1)(3), performing a statutory duty) is written to the timeline and the
    audit log.  Neither keeps any of the deleted values.  Returns False when the request was
    anonymised before.  The request's counters and status are untouched."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from . import imagemeta
    from .models import Attachment

    _authorize(actor, "dispatch.dispatch", request.area.code)
    now = _now()
    claimed = ServiceRequest.objects.unscoped().filter(pk=request.pk, anonymised_at__isnull=True).update(
        contact_name="", contact_phone="", contact_phone_index="", address="", latitude=None, longitude=None,
        requester=None, anonymised_at=now, updated_at=now)
    if claimed != 1:
        return False
    for name, value in (("contact_name", ""), ("contact_phone", ""), ("contact_phone_index", ""), ("address", ""),
                        ("latitude", None), ("longitude", None), ("requester", None), ("anonymised_at", now)):
        setattr(request, name, value)
    stripped, old_files = 0, []
    for attachment in Attachment.objects.filter(request=request).order_by("pk"):
        try:
            with attachment.file.open("rb") as handle:
                data = handle.read()
        except (OSError, ValueError):
            logger.warning("attachment %s of request %s could not be read for metadata removal",
                           attachment.pk, request.pk)
            continue
        cleaned = imagemeta.strip(data, attachment.content_type)
        if cleaned is None or cleaned == data:
            continue
        old_files.append(attachment.file.name)
        attachment.file.save(f"{uuid.uuid4().hex}.{attachments.EXTENSIONS[attachment.content_type]}",
                             ContentFile(cleaned), save=False)
        attachment.size, attachment.sha256 = len(cleaned), hashlib.sha256(cleaned).hexdigest()
        attachment.save(update_fields=["file", "size", "sha256"])
        stripped += 1
    if old_files:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in old_files])
    status = _fresh_status(request) or request.status
    data = {"cleared": ["contact_name", "contact_phone", "address", "coordinates", "requester"],
            "photos_stripped": stripped, "legal_basis": "PIPL art. 13(1)(3)", "by": on_behalf_of}
    _event(request, actor=actor, action=EventAction.ANONYMISED, from_status=status, to_status=status,
           note=PIPL_RETENTION_NOTE, data=data, at=now)
    _audit(actor, "anonymised", request, after={**data, "note": PIPL_RETENTION_NOTE})
    return True
