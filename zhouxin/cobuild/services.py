"""Every write of co-building: needs, resources, claims (双向认领) and projects.

Rules and where they come from:
* a need belongs to an active community or street the actor may post for
  ("cobuild.need.edit" on that area); a resource to a unit the actor is liaison of;
* a need has at most one live claim (pending or confirmed): the claim moves the need from
  open to claimed with a conditional UPDATE, and a partial unique index backs it, so two
  units claiming the same need at once cannot both win (DESIGN §3 cobuild, issue 6);
* a unit's offer is confirmed (or declined) by staff of the street or community holding
  "cobuild.confirm" on the need's area; a community's request for a unit's resource is
  accepted (or declined) by that unit's liaison — the side that did not start the claim;
* confirming commits the claimed quantity of the resource (never beyond its capacity);
  declining or withdrawing reopens the need;
* a project is created from a confirmed claim, by the staff who may confirm.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, OrgKind

from .choices import (
    ClaimDirection,
    ClaimStatus,
    NeedCategory,
    NeedSource,
    NeedStatus,
    ProjectStatus,
    ResourceKind,
    ServiceRadius,
)
from .models import Claim, Need, Project, Resource
from .text import terms_of

TITLE_MAX = 120
TEXT_MAX = 5000
NOTE_MAX = 300
UNIT_MAX = 16
# Units that may offer resources: resident units, social organisations, non-public
# enterprises, and their Party organisations (驻区单位 / 两新组织).
UNIT_KINDS = frozenset({OrgKind.RESIDENT_UNIT, OrgKind.SOCIAL_ORG, OrgKind.NONPUBLIC_ENTERPRISE, OrgKind.BRANCH,
                        OrgKind.GENERAL_BRANCH, OrgKind.PARTY_COMMITTEE})


class InvalidTransition(ValidationError):
    """The object is no longer in the state the action needs (someone else acted first)."""


def _text(errors: dict, field: str, value, *, required: bool, limit: int, label_missing: str) -> str:
    value = (value or "").strip()
    if required and not value:
        errors.setdefault(field, []).append(label_missing)
    elif len(value) > limit:
        errors.setdefault(field, []).append(_("不能超过 %(n)d 个字。") % {"n": limit})
    return value


def _dates(errors: dict, start: dt.date | None, end: dt.date | None, field: str) -> None:
    if start and end and end < start:
        errors.setdefault(field, []).append(_("结束日期不能早于开始日期。"))


def _need_snapshot(need: Need) -> dict:
    return {"area": need.area.code, "title": need.title, "category": need.category, "status": need.status,
            "source": need.source, "source_ref": need.source_ref, "quantity": need.quantity,
            "wanted_from": need.wanted_from, "wanted_until": need.wanted_until}


# --- Needs -------------------------------------------------------------------------------

@transaction.atomic
def need_create(*, actor, area, title: str, category: str, description: str = "", beneficiaries: str = "",
                beneficiary_count: int | None = None, quantity: int | None = None, quantity_unit: str = "",
                wanted_from: dt.date | None = None, wanted_until: dt.date | None = None,
                source: str = NeedSource.POSTED, source_ref: str = "") -> Need:
    """Post a need for a community or street (需求清单).  A need promoted from frequent
    requests or from a micro-wish keeps where it came from (source, source_ref)."""
    errors: dict[str, list[str]] = {}
    if area is None or area.level not in (AreaLevel.COMMUNITY, AreaLevel.STREET) or not area.is_active:
        errors.setdefault("area", []).append(_("需求只能发布在启用中的社区或街道。"))
    title = _text(errors, "title", title, required=True, limit=TITLE_MAX, label_missing=_("请填写需求名称。"))
    description = _text(errors, "description", description, required=False, limit=TEXT_MAX, label_missing="")
    beneficiaries = _text(errors, "beneficiaries", beneficiaries, required=False, limit=200, label_missing="")
    quantity_unit = _text(errors, "quantity_unit", quantity_unit, required=False, limit=UNIT_MAX, label_missing="")
    if category not in NeedCategory.values:
        errors.setdefault("category", []).append(_("请选择需求类别。"))
    if source not in NeedSource.values:
        errors.setdefault("source", []).append(_("需求来源无效。"))
    for field, value in (("beneficiary_count", beneficiary_count), ("quantity", quantity)):
        if value is not None and value < 0:
            errors.setdefault(field, []).append(_("数量不能为负数。"))
    _dates(errors, wanted_from, wanted_until, "wanted_until")
    if errors:
        raise ValidationError(errors)
    if not can(actor, "cobuild.need.edit", area.code):
        raise PermissionDenied(_("您没有权限在该区域发布需求。"))
    need = Need.objects.unscoped().create(
        area=area, title=title, description=description, category=category, beneficiaries=beneficiaries,
        beneficiary_count=beneficiary_count, quantity=quantity or None, quantity_unit=quantity_unit,
        wanted_from=wanted_from, wanted_until=wanted_until, source=source, source_ref=(source_ref or "")[:40],
        terms=terms_of(title, description), created_by=actor)
    audit.record(actor=actor, action="cobuild.need.created", obj=need, after=_need_snapshot(need))
    return need


@transaction.atomic
def need_close(*, actor, need: Need, met: bool, note: str = "") -> Need:
    """Mark a need met (满足) or close it without it being met; a need with a live claim
    must have the claim decided first, so nobody's commitment is dropped silently."""
    ensure_can(actor, "cobuild.need.edit", need.area.code)
    note = (note or "").strip()[:NOTE_MAX]
    target = NeedStatus.MET if met else NeedStatus.CLOSED
    allowed = (NeedStatus.IN_PROJECT, NeedStatus.CONFIRMED) if met else (NeedStatus.OPEN,)
    updated = Need.objects.unscoped().filter(pk=need.pk, status__in=allowed).update(
        status=target, updated_at=timezone.now())
    if updated != 1:
        raise InvalidTransition(_("只有已确认或实施中的需求可以标记为已满足；只有待认领的需求可以关闭。"))
    before = need.status
    need.refresh_from_db()
    audit.record(actor=actor, action="cobuild.need.met" if met else "cobuild.need.closed", obj=need,
                 before={"status": before}, after={"status": need.status, "note": note})
    return need


@transaction.atomic
def need_update(*, actor, need: Need, title: str, category: str, description: str = "", beneficiaries: str = "",
                beneficiary_count: int | None = None, quantity: int | None = None, quantity_unit: str = "",
                wanted_from: dt.date | None = None, wanted_until: dt.date | None = None) -> Need:
    """Edit an open need (待认领); once a unit has claimed it, the need is what was claimed.
    Its community or street stays: a need for another area is a new need.  Closing an open
    need (withdrawing it) is need_close(met=False)."""
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title, required=True, limit=TITLE_MAX, label_missing=_("请填写需求名称。"))
    description = _text(errors, "description", description, required=False, limit=TEXT_MAX, label_missing="")
    beneficiaries = _text(errors, "beneficiaries", beneficiaries, required=False, limit=200, label_missing="")
    quantity_unit = _text(errors, "quantity_unit", quantity_unit, required=False, limit=UNIT_MAX, label_missing="")
    if category not in NeedCategory.values:
        errors.setdefault("category", []).append(_("请选择需求类别。"))
    for field, value in (("beneficiary_count", beneficiary_count), ("quantity", quantity)):
        if value is not None and value < 0:
            errors.setdefault(field, []).append(_("数量不能为负数。"))
    _dates(errors, wanted_from, wanted_until, "wanted_until")
    if errors:
        raise ValidationError(errors)
    if not staff_can(actor, "cobuild.need.edit", need.area.code):
        raise PermissionDenied(_("您没有权限修改该区域的需求。"))
    before = _need_snapshot(Need.objects.unscoped().select_related("area").get(pk=need.pk))
    changes = {"title": title, "description": description, "category": category, "beneficiaries": beneficiaries,
               "beneficiary_count": beneficiary_count, "quantity": quantity or None, "quantity_unit": quantity_unit,
               "wanted_from": wanted_from, "wanted_until": wanted_until, "terms": terms_of(title, description)}
    updated = Need.objects.unscoped().filter(pk=need.pk, status=NeedStatus.OPEN).update(
        **changes, updated_at=timezone.now())
    if updated != 1:
        raise InvalidTransition(_("只有待认领的需求可以修改；已被认领的需求请先处理认领。"))
    need.refresh_from_db()
    audit.record(actor=actor, action="cobuild.need.updated", obj=need, before=before, after=_need_snapshot(need))
    return need


# --- Resources ---------------------------------------------------------------------------

def liaison_units(actor):
    """The units the actor is liaison of (their unit-liaison grants' organisations)."""
    from zhouxin.core.choices import Role
    from zhouxin.core.models import Grant
    from zhouxin.orgs.models import Organisation

    ids = Grant.objects.filter(user=actor, active=True, role=Role.UNIT_LIAISON,
                               organisation__isnull=False).values("organisation_id")
    return Organisation.objects.unscoped().filter(pk__in=ids, is_active=True).select_related("area")


def staff_can(actor, permission: str, area_code: str) -> bool:
    """`permission` through an area-staff grant reaching `area_code` (a liaison's grant on the
    community where the unit sits is no staff grant: it reaches the unit, not the area)."""
    if actor is None or not actor.is_authenticated:
        return False
    return scope_for_user(actor).covers(area_code, roles_for(permission) & AREA_ROLES)


def _is_liaison_of(actor, unit_id: int) -> bool:
    return can(actor, "cobuild.resource.edit") and unit_id in scope_for_user(actor).organisation_ids \
        and liaison_units(actor).filter(pk=unit_id).exists()


def _resource_fields(errors: dict, *, kind, category, title, description, capacity, capacity_unit, available_from,
                     available_until, radius) -> tuple[str, str, str]:
    """Check a resource's own fields (create and edit), collecting messages in `errors`;
    returns the cleaned title, description and capacity unit."""
    title = _text(errors, "title", title, required=True, limit=TITLE_MAX, label_missing=_("请填写资源名称。"))
    description = _text(errors, "description", description, required=False, limit=TEXT_MAX, label_missing="")
    capacity_unit = _text(errors, "capacity_unit", capacity_unit, required=True, limit=UNIT_MAX,
                          label_missing=_("请填写数量单位（如：人次、平方米、份）。"))
    if kind not in ResourceKind.values:
        errors.setdefault("kind", []).append(_("请选择资源类型。"))
    if category not in NeedCategory.values:
        errors.setdefault("category", []).append(_("请选择服务类别。"))
    if radius not in ServiceRadius.values:
        errors.setdefault("radius", []).append(_("请选择服务范围。"))
    if capacity is None or capacity <= 0:
        errors.setdefault("capacity", []).append(_("可提供数量必须大于 0。"))
    if available_from is None:
        errors.setdefault("available_from", []).append(_("请填写可用开始日期。"))
    _dates(errors, available_from, available_until, "available_until")
    return title, description, capacity_unit


@transaction.atomic
def resource_create(*, actor, owner, kind: str, category: str, title: str, capacity: int, capacity_unit: str,
                    available_from: dt.date, available_until: dt.date | None = None,
                    radius: str = ServiceRadius.STREET, area=None, description: str = "") -> Resource:
    """Register a unit's resource (资源清单).  Only the unit's own liaison registers it; its
    location defaults to the unit's area and must lie within the unit's district."""
    errors: dict[str, list[str]] = {}
    title, description, capacity_unit = _resource_fields(
        errors, kind=kind, category=category, title=title, description=description, capacity=capacity,
        capacity_unit=capacity_unit, available_from=available_from, available_until=available_until, radius=radius)
    area = area or (owner.area if owner else None)
    if owner is None or not owner.is_active:
        errors.setdefault("owner", []).append(_("请选择提供资源的单位。"))
    elif area is None or not area.is_active or not area.code.startswith(owner.area.code[:6]) \
            or area.level not in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        errors.setdefault("area", []).append(_("资源所在区域须是本单位所在区内的街道或社区。"))
    if errors:
        raise ValidationError(errors)
    if not _is_liaison_of(actor, owner.pk):
        raise PermissionDenied(_("只有本单位的联络员可以登记资源。"))
    area_code = area.code[:12]  # a grid location counts as its community
    resource = Resource.objects.unscoped().create(
        owner=owner, kind=kind, category=category, title=title, description=description, capacity=capacity,
        capacity_unit=capacity_unit, available_from=available_from, available_until=available_until,
        radius=radius, area=area, area_code=area_code, terms=terms_of(title, description), created_by=actor)
    audit.record(actor=actor, action="cobuild.resource.created", obj=resource, after={
        "owner": owner.pk, "kind": kind, "category": category, "title": title, "capacity": capacity,
        "capacity_unit": capacity_unit, "radius": radius, "area": area.code,
        "available_from": available_from, "available_until": available_until})
    return resource


def _resource_snapshot(resource: Resource) -> dict:
    return {"owner": resource.owner_id, "kind": resource.kind, "category": resource.category,
            "title": resource.title, "capacity": resource.capacity, "capacity_unit": resource.capacity_unit,
            "committed": resource.committed, "radius": resource.radius, "area": resource.area_code,
            "available_from": resource.available_from, "available_until": resource.available_until,
            "is_active": resource.is_active}


@transaction.atomic
def resource_update(*, actor, resource: Resource, kind: str, category: str, title: str, capacity: int,
                    capacity_unit: str, available_from: dt.date, available_until: dt.date | None = None,
                    radius: str = ServiceRadius.STREET, description: str = "") -> Resource:
    """Edit a resource (by its unit's liaison).  Its unit and location stay; the capacity may
    not drop below what confirmed claims have committed (checked in the UPDATE itself, so a
    confirmation at the same moment cannot slip under it)."""
    errors: dict[str, list[str]] = {}
    title, description, capacity_unit = _resource_fields(
        errors, kind=kind, category=category, title=title, description=description, capacity=capacity,
        capacity_unit=capacity_unit, available_from=available_from, available_until=available_until, radius=radius)
    if errors:
        raise ValidationError(errors)
    current = Resource.objects.unscoped().get(pk=resource.pk)
    if not _is_liaison_of(actor, current.owner_id):
        raise PermissionDenied(_("只有本单位的联络员可以修改资源。"))
    before = _resource_snapshot(current)
    updated = Resource.objects.unscoped().filter(pk=current.pk, committed__lte=capacity).update(
        kind=kind, category=category, title=title, description=description, capacity=capacity,
        capacity_unit=capacity_unit, available_from=available_from, available_until=available_until,
        radius=radius, terms=terms_of(title, description), updated_at=timezone.now())
    if updated != 1:
        current.refresh_from_db()
        raise ValidationError({"capacity": [_("可提供数量不能少于已承诺的 %(n)d %(unit)s。")
                                            % {"n": current.committed, "unit": current.capacity_unit}]})
    resource.refresh_from_db()
    audit.record(actor=actor, action="cobuild.resource.updated", obj=resource, before=before,
                 after=_resource_snapshot(resource))
    return resource


@transaction.atomic
def resource_deactivate(*, actor, resource: Resource, note: str = "") -> Resource:
    """Withdraw a resource from the list (停用): no longer matched or claimable.  Pending
    claims on it must be decided or withdrawn first; confirmed ones (and their projects) stay."""
    current = Resource.objects.unscoped().get(pk=resource.pk)
    if not _is_liaison_of(actor, current.owner_id):
        raise PermissionDenied(_("只有本单位的联络员可以停用资源。"))
    note = (note or "").strip()[:NOTE_MAX]
    if Claim.objects.unscoped().filter(resource=current, status=ClaimStatus.PENDING).exists():
        raise InvalidTransition(_("该资源还有待确认的认领，请先撤回或等待对方处理后再停用。"))
    updated = Resource.objects.unscoped().filter(pk=current.pk, is_active=True).update(
        is_active=False, updated_at=timezone.now())
    if updated != 1:
        raise InvalidTransition(_("该资源已经停用。"))
    resource.refresh_from_db()
    audit.record(actor=actor, action="cobuild.resource.deactivated", obj=resource, before={"is_active": True},
                 after={"is_active": False, "note": note, "committed": resource.committed})
    return resource


def resource_reaches(resource: Resource, area_code: str) -> bool:
    """Does the resource's service radius reach the area (a community or street code)?"""
    if resource.radius == ServiceRadius.DISTRICT:
        return area_code[:6] == resource.area_code[:6]
    if resource.radius == ServiceRadius.STREET:
        return area_code[:9] == resource.area_code[:9]
    return len(area_code) >= 12 and area_code[:12] == resource.area_code[:12]


# --- Claims ------------------------------------------------------------------------------

@transaction.atomic
def claim_create(*, actor, need: Need, resource: Resource, quantity: int | None = None, note: str = "",
                 direction: str | None = None) -> Claim:
    """Claim a need with a resource (双向认领).

    A unit's liaison offers one of the unit's resources for a need (direction "offer"); staff
    of the need's community or street ask a unit for its resource (direction "request").
    The need must be open; it becomes "claimed" by a conditional UPDATE, so of two units
    claiming at once exactly one succeeds and the other is told the need was taken.
    """
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if len(note) > NOTE_MAX:
        errors.setdefault("note", []).append(_("说明不能超过 %(n)d 个字。") % {"n": NOTE_MAX})
    resource = Resource.objects.unscoped().select_related("owner").get(pk=resource.pk)
    quantity = quantity if quantity is not None else min(need.quantity or 1, max(resource.available, 1))
    if quantity <= 0:
        errors.setdefault("quantity", []).append(_("承诺数量必须大于 0。"))
    elif quantity > resource.available:
        errors.setdefault("quantity", []).append(
            _("资源余量不足：还可提供 %(n)d %(unit)s。") % {"n": resource.available, "unit": resource.capacity_unit})
    if not resource.is_active:
        errors.setdefault("resource", []).append(_("该资源已停用。"))
    elif not resource_reaches(resource, need.area.code):
        errors.setdefault("resource", []).append(_("该资源的服务范围不包括这个社区。"))
    if errors:
        raise ValidationError(errors)
    if direction is None:
        direction = ClaimDirection.OFFER if _is_liaison_of(actor, resource.owner_id) else ClaimDirection.REQUEST
    if direction == ClaimDirection.OFFER:
        if not _is_liaison_of(actor, resource.owner_id):
            raise PermissionDenied(_("只有本单位的联络员可以用本单位的资源认领需求。"))
    elif direction == ClaimDirection.REQUEST:
        if not staff_can(actor, "cobuild.claim", need.area.code):
            raise PermissionDenied(_("只有该社区或街道的工作人员可以为需求申请资源。"))
    else:
        raise ValidationError(_("认领方向无效。"))
    taken = Need.objects.unscoped().filter(pk=need.pk, status=NeedStatus.OPEN).update(
        status=NeedStatus.CLAIMED, updated_at=timezone.now())
    if taken != 1:
        raise InvalidTransition(_("该需求已被其他单位认领或不再接受认领。"))
    try:
        with transaction.atomic():
            claim = Claim.objects.unscoped().create(
                need=need, resource=resource, unit=resource.owner, direction=direction, quantity=quantity,
                note=note, created_by=actor)
    except IntegrityError:  # the partial unique index: another live claim exists
        raise InvalidTransition(_("该需求已被其他单位认领或不再接受认领。")) from None
    need.status = NeedStatus.CLAIMED
    audit.record(actor=actor, action="cobuild.claim.created", obj=claim, after={
        "need": need.pk, "resource": resource.pk, "unit": resource.owner_id, "direction": direction,
        "quantity": quantity, "note": note})
    return claim


def can_decide(actor, claim: Claim) -> bool:
    """The side that did not start the claim decides it: staff confirm a unit's offer, the
    unit's liaison answers a community's request."""
    if claim.direction == ClaimDirection.OFFER:
        return staff_can(actor, "cobuild.confirm", claim.need.area.code)
    return _is_liaison_of(actor, claim.unit_id)


@transaction.atomic
def claim_confirm(*, actor, claim: Claim, note: str = "") -> Claim:
    """Confirm a pending claim: the need is confirmed and the resource's quantity committed."""
    claim = Claim.objects.unscoped().select_related("need__area", "resource").get(pk=claim.pk)
    if not can_decide(actor, claim):
        raise PermissionDenied(_("您没有权限确认这项认领。"))
    note = (note or "").strip()[:NOTE_MAX]
    now = timezone.now()
    moved = Claim.objects.unscoped().filter(pk=claim.pk, status=ClaimStatus.PENDING).update(
        status=ClaimStatus.CONFIRMED, decided_by=actor, decided_at=now, decision_note=note)
    if moved != 1:
        raise InvalidTransition(_("这项认领已经处理过了。"))
    committed = Resource.objects.unscoped().filter(
        pk=claim.resource_id, committed__lte=F("capacity") - claim.quantity).update(
        committed=F("committed") + claim.quantity, updated_at=now)
    if committed != 1:
        raise ValidationError({"quantity": [_("资源余量不足，无法确认，请与单位协商调整数量。")]})
    Need.objects.unscoped().filter(pk=claim.need_id, status=NeedStatus.CLAIMED).update(
        status=NeedStatus.CONFIRMED, updated_at=now)
    claim.refresh_from_db()
    audit.record(actor=actor, action="cobuild.claim.confirmed", obj=claim,
                 before={"status": ClaimStatus.PENDING},
                 after={"status": claim.status, "note": note, "committed": claim.quantity,
                        "resource": claim.resource_id})
    return claim


@transaction.atomic
def claim_decline(*, actor, claim: Claim, note: str = "") -> Claim:
    """Decline a pending claim (a reason is required); the need is open for others again."""
    claim = Claim.objects.unscoped().select_related("need__area").get(pk=claim.pk)
    if not can_decide(actor, claim):
        raise PermissionDenied(_("您没有权限处理这项认领。"))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写未通过的原因。")]})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过 %(n)d 个字。") % {"n": NOTE_MAX}]})
    now = timezone.now()
    moved = Claim.objects.unscoped().filter(pk=claim.pk, status=ClaimStatus.PENDING).update(
        status=ClaimStatus.DECLINED, decided_by=actor, decided_at=now, decision_note=note)
    if moved != 1:
        raise InvalidTransition(_("这项认领已经处理过了。"))
    Need.objects.unscoped().filter(pk=claim.need_id, status=NeedStatus.CLAIMED).update(
        status=NeedStatus.OPEN, updated_at=now)
    claim.refresh_from_db()
    audit.record(actor=actor, action="cobuild.claim.declined", obj=claim, before={"status": ClaimStatus.PENDING},
                 after={"status": claim.status, "note": note})
    return claim


def can_withdraw(actor, claim: Claim) -> bool:
    """The side that started the claim withdraws it: the unit's liaison its offer, staff of
    the need's community or street their request."""
    if claim.direction == ClaimDirection.OFFER:
        return _is_liaison_of(actor, claim.unit_id)
    return staff_can(actor, "cobuild.claim", claim.need.area.code)


@transaction.atomic
def claim_withdraw(*, actor, claim: Claim, note: str = "") -> Claim:
    """Withdraw one's own pending claim (撤回); the need is open for others again."""
    claim = Claim.objects.unscoped().select_related("need__area").get(pk=claim.pk)
    if not can_withdraw(actor, claim):
        raise PermissionDenied(_("只有发起认领的一方可以撤回。"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过 %(n)d 个字。") % {"n": NOTE_MAX}]})
    now = timezone.now()
    moved = Claim.objects.unscoped().filter(pk=claim.pk, status=ClaimStatus.PENDING).update(
        status=ClaimStatus.WITHDRAWN, decided_by=actor, decided_at=now, decision_note=note)
    if moved != 1:
        raise InvalidTransition(_("只有待确认的认领可以撤回。"))
    Need.objects.unscoped().filter(pk=claim.need_id, status=NeedStatus.CLAIMED).update(
        status=NeedStatus.OPEN, updated_at=now)
    claim.refresh_from_db()
    audit.record(actor=actor, action="cobuild.claim.withdrawn", obj=claim, before={"status": ClaimStatus.PENDING},
                 after={"status": claim.status, "note": note})
    return claim


# --- Projects ----------------------------------------------------------------------------

def _budget(raw) -> Decimal:
    try:
        value = Decimal(str(raw if raw not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError({"budget": [_("预算应为金额数字。")]}) from None
    if value < 0 or value >= Decimal("1e12"):
        raise ValidationError({"budget": [_("预算应为 0 到一万亿元之间的金额。")]})
    return value


@transaction.atomic
def project_create_from_claim(*, actor, claim: Claim, title: str = "", budget=None,
                              starts_on: dt.date | None = None, ends_on: dt.date | None = None) -> Project:
    """Start a co-building project (项目清单) from a confirmed claim: the parties are the
    unit and the community's (or street's) Party organisation; the need moves in project."""
    from zhouxin.orgs.choices import PARTY_KINDS
    from zhouxin.orgs.models import Organisation

    claim = Claim.objects.unscoped().select_related("need__area", "resource", "unit").get(pk=claim.pk)
    ensure_can(actor, "cobuild.confirm", claim.need.area.code)
    errors: dict[str, list[str]] = {}
    title = _text(errors, "title", title or claim.need.title, required=True, limit=TITLE_MAX,
                  label_missing=_("请填写项目名称。"))
    _dates(errors, starts_on, ends_on, "ends_on")
    if errors:
        raise ValidationError(errors)
    amount = _budget(budget)
    if claim.status != ClaimStatus.CONFIRMED:
        raise InvalidTransition(_("只有已确认的认领可以立项。"))
    if Project.objects.unscoped().filter(claim=claim).exists():
        raise InvalidTransition(_("这项认领已经立项。"))
    moved = Need.objects.unscoped().filter(pk=claim.need_id, status=NeedStatus.CONFIRMED).update(
        status=NeedStatus.IN_PROJECT, updated_at=timezone.now())
    if moved != 1:
        raise InvalidTransition(_("该需求当前不能立项。"))
    try:
        with transaction.atomic():
            project = Project.objects.unscoped().create(
                title=title, area=claim.need.area, need=claim.need, claim=claim, budget=amount, starts_on=starts_on,
                ends_on=ends_on, status=ProjectStatus.PLANNED, created_by=actor)
    except IntegrityError:
        raise InvalidTransition(_("这项认领已经立项。")) from None
    host = Organisation.objects.unscoped().filter(area=claim.need.area, kind__in=PARTY_KINDS,
                                                  is_active=True).order_by("id").first()
    parties = [claim.unit, *([host] if host else [])]
    project.parties.add(*parties)
    project.resources.add(claim.resource)
    audit.record(actor=actor, action="cobuild.project.created", obj=project, after={
        "title": title, "claim": claim.pk, "need": claim.need_id, "budget": amount,
        "parties": sorted(p.pk for p in parties), "starts_on": starts_on, "ends_on": ends_on})
    return project
