"""Writes to areas, organisations and people.

Every service takes the acting user explicitly and keyword-only, checks the
permission on the object's area, validates, writes and audits in one
transaction.  `actor=None` means the system itself (divisions import, demo
loader, seeding): it is accepted only inside `scopes_disabled()`, i.e. where
the caller has said out loud that it acts for the system, never in a request.

Personal data (PIPL): phone and ID number are validated, stored encrypted,
indexed by a keyed HMAC for exact lookup, and appear in the audit log only
masked.  Revealing one needs the permission "orgs.person.reveal" on the
person's home area and a reason, and is itself audited (without the value).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin, load_phrases_dict

from zhouxin.core import audit
from zhouxin.core.choices import AuditResult
from zhouxin.core.crypto import blind_index, mask_id_number, mask_phone
from zhouxin.core.permissions import ensure_can
from zhouxin.core.scoping import DISABLED, current_scope

from .choices import CODE_LENGTH, LEVEL_ORDER, PARTY_KINDS, AreaLevel, CommunityType, OrgKind
from .models import Area, Organisation, Person, Sector
from .validators import validate_id_number, validate_mobile_phone


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET: Any = _Unset()

# ---------------------------------------------------------------------------
# Pinyin for search by initials (e.g. 东华门街道 → dhmjd)
# ---------------------------------------------------------------------------

# Place names whose reading differs from the characters' default one.
load_phrases_dict({
    "朝阳门": [["cháo"], ["yáng"], ["mén"]],
    "什刹海": [["shí"], ["chà"], ["hǎi"]],
    "长辛店": [["cháng"], ["xīn"], ["diàn"]],
    "大栅栏": [["dà"], ["shí"], ["lán"]],
})

# The neighbourhood and village committees (居委会, 村委会) are how the statistical
# tables name community-level units; the community itself is what people search for.
_COMMITTEE_SUFFIXES = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
)
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def community_short_name(name: str) -> str:
    """多福巷社区居委会 → 多福巷社区, 高井村委会 → 高井村, 海鸿村村委会 → 海鸿村."""
    name = name.strip()
    for suffix, kind in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            return stem if stem.endswith(kind) else stem + kind
    return name


def pinyin_of(name: str) -> str:
    return _NON_ALNUM.sub("", "".join(lazy_pinyin(name)).lower())


def initials_of(name: str) -> str:
    return _NON_ALNUM.sub("", "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower())


def area_search_keys(name: str, level: str) -> tuple[str, str]:
    """(pinyin, pinyin initials) of an area; community-level committee names are
    searched by the community's own name, so 多福巷社区居委会 is found by "dfx"."""
    key = community_short_name(name) if level == AreaLevel.COMMUNITY else name
    pinyin_max = Area._meta.get_field("pinyin").max_length
    initials_max = Area._meta.get_field("pinyin_initials").max_length
    return pinyin_of(key)[:pinyin_max], initials_of(key)[:initials_max]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def authorize(actor, permission: str, area_code: str | None) -> None:
    """The actor's grants must allow `permission` on `area_code`; the system may act
    only where scoping was disabled on purpose."""
    if actor is None:
        if current_scope() is DISABLED:
            return
        raise PermissionDenied(_("您没有权限执行此操作。"))
    ensure_can(actor, permission, area_code)


def _clean_text(value, *, field: str, label: str, max_length: int, required: bool, errors: dict) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors.setdefault(field, []).append(_("请填写%(label)s。") % {"label": label})
    elif len(text) > max_length:
        errors.setdefault(field, []).append(
            _("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length})
    return text


def _clean_count(value, *, field: str, label: str, errors: dict) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("%(label)s必须是整数。") % {"label": label})
        return None
    if number < 0:
        errors.setdefault(field, []).append(_("%(label)s不能为负数。") % {"label": label})
        return None
    return number


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


# Bulk services (imports): rows per INSERT and per `IN (...)` look-up.
BULK_BATCH_SIZE = 500


class BatchValidationError(ValidationError):
    """Rows of a bulk call that failed validation; nothing was written.

    `rows` maps each failing row's index in the call's `rows` list (from 0) to its
    errors, field name → messages, the same messages the single-row service gives."""

    def __init__(self, rows: dict[int, dict[str, list]]):
        self.rows = {index: rows[index] for index in sorted(rows)}
        super().__init__([
            _("第 %(n)s 条：%(message)s") % {"n": index + 1, "message": " ".join(str(m) for m in messages)}
            for index, fields in self.rows.items() for messages in fields.values()
        ])


def _changes(obj, values: dict) -> dict:
    """The subset of values that differ from the object's current attributes."""
    changed = {}
    for name, value in values.items():
        if value is UNSET:
            continue
        field = obj._meta.get_field(name)
        current = getattr(obj, field.attname)
        new = value.pk if field.is_relation and value is not None and hasattr(value, "pk") else value
        if current != new:
            changed[name] = value
    return changed


# ---------------------------------------------------------------------------
# Areas and sectors
# ---------------------------------------------------------------------------

AREA_AUDIT_FIELDS = ["code", "name", "level", "parent", "households", "population", "community_type", "is_active"]


def clean_coordinate(value, *, field: str, label: str, limit: int, errors: dict):
    """A latitude or longitude as a 6-place Decimal within ±limit, or None; errors go to `errors`."""
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("%(label)s必须是数字。") % {"label": label})
        return None
    if not number.is_finite() or not -limit <= number <= limit:
        errors.setdefault(field, []).append(_("%(label)s超出范围。") % {"label": label})
        return None
    return number


def _validate_area_fields(values: dict, errors: dict) -> dict:
    cleaned = {}
    if "households" in values:
        cleaned["households"] = _clean_count(values["households"], field="households", label=_("户数"),
                                             errors=errors)
    if "population" in values:
        cleaned["population"] = _clean_count(values["population"], field="population", label=_("人口"),
                                             errors=errors)
    if "community_type" in values:
        kind = values["community_type"] or ""
        if kind and kind not in CommunityType.values:
            errors.setdefault("community_type", []).append(_("社区类型“%(v)s”无效。") % {"v": kind})
        cleaned["community_type"] = kind
    if "latitude" in values:
        cleaned["latitude"] = clean_coordinate(values["latitude"], field="latitude", label=_("纬度"), limit=90,
                                                errors=errors)
    if "longitude" in values:
        cleaned["longitude"] = clean_coordinate(values["longitude"], field="longitude", label=_("经度"),
                                                 limit=180, errors=errors)
    return cleaned


def expected_parent_level(level: str) -> str | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index - 1] if index > 0 else None


@transaction.atomic
def area_create(*, actor, code: str, name: str, level: str, parent: Area | None = None,
                households=None, population=None, community_type: str = "",
                latitude=None, longitude=None) -> Area:
    """Add a node to the area tree.  The code is the 统计用区划代码 (a grid: its
    community's code + 3 digits) and must extend its parent's code."""
    errors: dict[str, list] = {}
    code = str(code or "").strip()
    name = _clean_text(name, field="name", label=_("名称"), max_length=64, required=True, errors=errors)
    if level not in AreaLevel.values:
        errors.setdefault("level", []).append(_("层级“%(v)s”无效。") % {"v": level})
    else:
        length = CODE_LENGTH[level]
        if not (code.isascii() and code.isdigit() and len(code) == length):
            errors.setdefault("code", []).append(
                _("%(level)s的区划代码应为 %(n)d 位数字。") % {"level": AreaLevel(level).label, "n": length})
        wanted_parent = expected_parent_level(level)
        if parent is None and level not in (AreaLevel.PROVINCE, AreaLevel.CITY):
            errors.setdefault("parent", []).append(_("请选择上级区域。"))
        elif parent is not None:
            if wanted_parent is None:
                errors.setdefault("parent", []).append(_("省级区域没有上级区域。"))
            elif parent.level != wanted_parent:
                errors.setdefault("parent", []).append(
                    _("%(level)s的上级应是%(parent)s。") % {"level": AreaLevel(level).label,
                                                        "parent": AreaLevel(wanted_parent).label})
            elif not code.startswith(parent.code):
                errors.setdefault("code", []).append(
                    _("区划代码 %(code)s 应以上级代码 %(parent)s 开头。") % {"code": code, "parent": parent.code})
    cleaned = _validate_area_fields(
        {"households": households, "population": population, "community_type": community_type,
         "latitude": latitude, "longitude": longitude}, errors)
    if "code" not in errors and Area.objects.unscoped().filter(code=code).exists():
        errors.setdefault("code", []).append(_("区划代码 %(code)s 已存在。") % {"code": code})
    _raise(errors)
    if parent is None:
        if actor is not None:  # roots of the tree come from the divisions import only
            raise PermissionDenied(_("您没有权限执行此操作。"))
        authorize(actor, "orgs.edit", None)
    else:
        authorize(actor, "orgs.edit", parent.code)
    pinyin, initials = area_search_keys(name, level)
    area = Area.objects.unscoped().create(code=code, name=name, level=level, parent=parent, pinyin=pinyin,
                                          pinyin_initials=initials, **cleaned)
    audit.record(actor=actor, action="orgs.area.created", obj=area, after=audit.snapshot(area, AREA_AUDIT_FIELDS))
    return area


@transaction.atomic
def area_update(*, actor, area: Area, name=UNSET, households=UNSET, population=UNSET, community_type=UNSET,
                latitude=UNSET, longitude=UNSET, boundary=UNSET, is_active=UNSET) -> Area:
    """Change an area's name or figures.  Code, level and parent follow the divisions
    and are not edited here.  Nothing changed → nothing written, nothing audited."""
    authorize(actor, "orgs.edit", area.code)
    errors: dict[str, list] = {}
    values: dict[str, Any] = {}
    if name is not UNSET:
        values["name"] = _clean_text(name, field="name", label=_("名称"), max_length=64, required=True,
                                     errors=errors)
    given = {k: v for k, v in {"households": households, "population": population,
                               "community_type": community_type, "latitude": latitude,
                               "longitude": longitude}.items() if v is not UNSET}
    values.update(_validate_area_fields(given, errors))
    if boundary is not UNSET:
        if boundary is not None and not (isinstance(boundary, dict) and "type" in boundary):
            errors.setdefault("boundary", []).append(_("边界必须是 GeoJSON 对象。"))
        values["boundary"] = boundary
    if is_active is not UNSET:
        values["is_active"] = bool(is_active)
    _raise(errors)
    changed = _changes(area, values)
    if not changed:
        return area
    before = audit.snapshot(area, list(changed))
    for field, value in changed.items():
        setattr(area, field, value)
    update_fields = list(changed)
    if "name" in changed:
        area.pinyin, area.pinyin_initials = area_search_keys(area.name, area.level)
        update_fields += ["pinyin", "pinyin_initials"]
    area.save(update_fields=update_fields)
    audit.record(actor=actor, action="orgs.area.updated", obj=area, before=before,
                 after=audit.snapshot(area, list(changed)))
    return area


@transaction.atomic
def sector_create(*, actor, code: str, name: str) -> Sector:
    """Add a line (条) such as 教育 or 物流快递; sectors are shared by the whole district."""
    authorize(actor, "orgs.sector.manage", None)
    errors: dict[str, list] = {}
    code = str(code or "").strip().lower()
    name = _clean_text(name, field="name", label=_("行业名称"), max_length=64, required=True, errors=errors)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", code):
        errors.setdefault("code", []).append(_("行业代码只能由小写字母、数字、下划线和连字符组成。"))
    elif Sector.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(_("行业代码 %(code)s 已存在。") % {"code": code})
    if name and Sector.objects.filter(name=name).exists():
        errors.setdefault("name", []).append(_("行业“%(name)s”已存在。") % {"name": name})
    _raise(errors)
    sector = Sector.objects.create(code=code, name=name)
    audit.record(actor=actor, action="orgs.sector.created", obj=sector, after={"code": code, "name": name})
    return sector


# ---------------------------------------------------------------------------
# Organisations
# ---------------------------------------------------------------------------

ORG_AUDIT_FIELDS = ["name", "kind", "area", "party_parent", "sector", "credit_code", "address", "contact_phone",
                    "member_count", "is_active"]
# GB 32100-2015 unified social credit code: 18 characters, check character mod 31.
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    code = str(value or "").strip().upper()
    if not code:
        return ""
    if len(code) != 18 or any(c not in _CREDIT_CHARS for c in code):
        raise ValidationError(_("统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）。"))
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对后重新填写。"))
    return code


def _check_party_parent(kind: str, party_parent: Organisation | None, errors: dict,
                        organisation: Organisation | None = None) -> None:
    if party_parent is None:
        return
    if kind not in PARTY_KINDS:
        errors.setdefault("party_parent", []).append(_("只有党组织才能设置上级党组织。"))
        return
    if party_parent.kind not in PARTY_KINDS:
        errors.setdefault("party_parent", []).append(
            _("上级党组织“%(name)s”不是党组织。") % {"name": party_parent.name})
        return
    if organisation is not None and organisation.pk:
        node, seen = party_parent, 0
        while node is not None and seen < 50:
            if node.pk == organisation.pk:
                errors.setdefault("party_parent", []).append(_("上级党组织不能是本组织或其下级组织。"))
                return
            node = Organisation.objects.unscoped().filter(pk=node.party_parent_id).first()
            seen += 1


def _clean_org_values(values: dict, errors: dict) -> dict:
    cleaned = {}
    if "name" in values:
        cleaned["name"] = _clean_text(values["name"], field="name", label=_("组织名称"), max_length=128,
                                      required=True, errors=errors)
    if "kind" in values:
        if values["kind"] not in OrgKind.values:
            errors.setdefault("kind", []).append(_("组织类型“%(v)s”无效。") % {"v": values["kind"]})
        cleaned["kind"] = values["kind"]
    if "credit_code" in values:
        try:
            cleaned["credit_code"] = validate_credit_code(values["credit_code"])
        except ValidationError as exc:
            errors.setdefault("credit_code", []).extend(exc.messages)
    if "address" in values:
        cleaned["address"] = _clean_text(values["address"], field="address", label=_("地址"), max_length=200,
                                         required=False, errors=errors)
    if "contact_phone" in values:
        phone = _clean_text(values["contact_phone"], field="contact_phone", label=_("办公电话"), max_length=32,
                            required=False, errors=errors)
        if phone and not re.fullmatch(r"[0-9+\-() 转]{3,32}", phone):
            errors.setdefault("contact_phone", []).append(_("办公电话只能包含数字、空格、括号、+ 和 -。"))
        cleaned["contact_phone"] = phone
    if "member_count" in values:
        cleaned["member_count"] = _clean_count(values["member_count"], field="member_count", label=_("党员人数"),
                                               errors=errors)
    for key in ("area", "party_parent", "sector"):
        if key in values:
            cleaned[key] = values[key]
    if "is_active" in values:
        cleaned["is_active"] = bool(values["is_active"])
    return cleaned


def _org_search_initials(name: str) -> str:
    return initials_of(name)[: Organisation._meta.get_field("pinyin_initials").max_length]


def _organisation_new(*, name: str, kind: str, area: Area, party_parent: Organisation | None = None,
                      sector: Sector | None = None, credit_code: str = "", address: str = "",
                      contact_phone: str = "", member_count: int | None = None,
                      is_active: bool = True) -> tuple[Organisation, dict[str, list]]:
    """Clean one new organisation's fields and build it, unsaved, with its search initials.

    No database access: the checks against other rows (name taken in the area) and the
    permission are the callers' (organisation_create, organisations_create_many)."""
    errors: dict[str, list] = {}
    if area is None:
        errors.setdefault("area", []).append(_("请选择所在区域。"))
    cleaned = _clean_org_values({"name": name, "kind": kind, "credit_code": credit_code, "address": address,
                                 "contact_phone": contact_phone, "member_count": member_count,
                                 "is_active": is_active}, errors)
    _check_party_parent(kind, party_parent, errors)
    org = Organisation(area=area, party_parent=party_parent, sector=sector,
                       pinyin_initials=_org_search_initials(cleaned["name"]), **cleaned)
    return org, errors


def _organisation_names_taken(orgs: list[Organisation]) -> set[tuple[int, str]]:
    """The (area id, name) pairs of `orgs` that an organisation in the database already has."""
    names_by_area: dict[int, set[str]] = {}
    for org in orgs:
        names_by_area.setdefault(org.area_id, set()).add(org.name)
    taken: set[tuple[int, str]] = set()
    for area_id, names in names_by_area.items():
        names = sorted(names)
        for start in range(0, len(names), BULK_BATCH_SIZE):
            taken.update(Organisation.objects.unscoped().filter(
                area_id=area_id, name__in=names[start:start + BULK_BATCH_SIZE]).values_list("area_id", "name"))
    return taken


def _name_taken_message(org: Organisation) -> str:
    return _("“%(area)s”已有名为“%(name)s”的组织。") % {"area": org.area.name, "name": org.name}


@transaction.atomic
def organisation_create(*, actor, name: str, kind: str, area: Area, party_parent: Organisation | None = None,
                        sector: Sector | None = None, credit_code: str = "", address: str = "",
                        contact_phone: str = "", member_count: int | None = None,
                        is_active: bool = True) -> Organisation:
    """Register an organisation in an area (块), optionally under a Party organisation
    and in a sector (条).  Names are unique within an area."""
    org, errors = _organisation_new(name=name, kind=kind, area=area, party_parent=party_parent, sector=sector,
                                    credit_code=credit_code, address=address, contact_phone=contact_phone,
                                    member_count=member_count, is_active=is_active)
    _raise(errors)
    authorize(actor, "orgs.edit", area.code)
    if _organisation_names_taken([org]):
        raise ValidationError({"name": [_name_taken_message(org)]})
    org.save(force_insert=True)
    audit.record(actor=actor, action="orgs.organisation.created", obj=org,
                 after=audit.snapshot(org, ORG_AUDIT_FIELDS))
    return org


@transaction.atomic
def organisation_update(*, actor, organisation: Organisation, name=UNSET, kind=UNSET, area=UNSET,
                        party_parent=UNSET, sector=UNSET, credit_code=UNSET, address=UNSET,
                        contact_phone=UNSET, member_count=UNSET, is_active=UNSET) -> Organisation:
    """Change an organisation.  Moving it to another area needs the permission on both."""
    authorize(actor, "orgs.edit", organisation.area.code)
    given = {k: v for k, v in {"name": name, "kind": kind, "area": area, "party_parent": party_parent,
                               "sector": sector, "credit_code": credit_code, "address": address,
                               "contact_phone": contact_phone, "member_count": member_count,
                               "is_active": is_active}.items() if v is not UNSET}
    errors: dict[str, list] = {}
    if "area" in given and given["area"] is None:
        errors.setdefault("area", []).append(_("请选择所在区域。"))
    cleaned = _clean_org_values(given, errors)
    new_kind = cleaned.get("kind", organisation.kind)
    new_parent = cleaned.get("party_parent", organisation.party_parent)
    _check_party_parent(new_kind, new_parent, errors, organisation)
    _raise(errors)
    changed = _changes(organisation, cleaned)
    if not changed:
        return organisation
    new_area = changed.get("area", organisation.area)
    if "area" in changed:
        authorize(actor, "orgs.edit", new_area.code)
    new_name = changed.get("name", organisation.name)
    if ("area" in changed or "name" in changed) and Organisation.objects.unscoped().filter(
            area=new_area, name=new_name).exclude(pk=organisation.pk).exists():
        raise ValidationError({"name": [_("“%(area)s”已有名为“%(name)s”的组织。")
                                        % {"area": new_area.name, "name": new_name}]})
    before = audit.snapshot(organisation, list(changed))
    for field, value in changed.items():
        setattr(organisation, field, value)
    update_fields = list(changed)
    if "name" in changed:
        organisation.pinyin_initials = _org_search_initials(organisation.name)
        update_fields.append("pinyin_initials")
    organisation.save(update_fields=update_fields)
    audit.record(actor=actor, action="orgs.organisation.updated", obj=organisation, before=before,
                 after=audit.snapshot(organisation, list(changed)))
    return organisation


# ---------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------

PERSON_AUDIT_FIELDS = ["name", "home_area", "work_unit", "is_party_member", "party_branch", "user"]
REVEALABLE_FIELDS = {"phone": _("手机号"), "id_number": _("身份证号")}
_MASKERS = {"phone": mask_phone, "id_number": mask_id_number}


def _person_audit(person: Person, fields: list[str]) -> dict:
    """Audit view of a person: plain fields as stored, personal identifiers masked."""
    plain = [f for f in fields if f in PERSON_AUDIT_FIELDS]
    data = audit.snapshot(person, plain)
    for field in fields:
        if field in _MASKERS:
            data[field] = _MASKERS[field](getattr(person, field))
    return data


def _id_numbers_taken(indexes: list[str], *, exclude: Person | None = None) -> set[str]:
    """The ID-number blind indexes among `indexes` that a person in the database already has."""
    indexes = sorted({i for i in indexes if i})
    taken: set[str] = set()
    for start in range(0, len(indexes), BULK_BATCH_SIZE):
        # Repeating the partial index's condition lets SQLite use that index.
        clash = Person.objects.unscoped().filter(
            id_number_index__in=indexes[start:start + BULK_BATCH_SIZE]).exclude(id_number_index="")
        if exclude is not None:
            clash = clash.exclude(pk=exclude.pk)
        taken.update(clash.values_list("id_number_index", flat=True))
    return taken


def _clean_person(values: dict, errors: dict, *, person: Person | None = None, check_taken: bool = True) -> dict:
    """Clean a person's fields.  check_taken=False leaves the "ID number already registered"
    check to the caller (people_create_many checks a whole batch in a few queries)."""
    cleaned: dict[str, Any] = {}
    if "name" in values:
        cleaned["name"] = _clean_text(values["name"], field="name", label=_("姓名"), max_length=64,
                                      required=True, errors=errors)
    if "phone" in values:
        raw = str(values["phone"] or "").strip()
        try:
            cleaned["phone"] = validate_mobile_phone(raw) if raw else ""
        except ValidationError as exc:
            errors.setdefault("phone", []).extend(exc.messages)
    if "id_number" in values:
        raw = str(values["id_number"] or "").strip()
        try:
            cleaned["id_number"] = validate_id_number(raw) if raw else ""
        except ValidationError as exc:
            errors.setdefault("id_number", []).extend(exc.messages)
        else:
            number = cleaned["id_number"]
            if number and check_taken and _id_numbers_taken([blind_index("id_number", number)], exclude=person):
                errors.setdefault("id_number", []).append(_("该身份证号已登记。"))
    if "home_area" in values:
        if values["home_area"] is None:
            errors.setdefault("home_area", []).append(_("请选择居住社区。"))
        cleaned["home_area"] = values["home_area"]
    for key in ("work_unit", "party_branch", "user"):
        if key in values:
            cleaned[key] = values[key]
    if "is_party_member" in values:
        cleaned["is_party_member"] = bool(values["is_party_member"])
    is_member = cleaned.get("is_party_member", person.is_party_member if person else False)
    branch = cleaned.get("party_branch", person.party_branch if person else None)
    if branch is not None:
        if not is_member:
            errors.setdefault("party_branch", []).append(_("只有中共党员才能填写所在党组织。"))
        elif branch.kind not in PARTY_KINDS:
            errors.setdefault("party_branch", []).append(
                _("“%(name)s”不是党组织，不能作为所在党组织。") % {"name": branch.name})
    return cleaned


def _apply_identifiers(person: Person, cleaned: dict) -> list[str]:
    """Set the encrypted identifiers and their blind indexes; return the columns touched."""
    fields = []
    if "phone" in cleaned:
        person.phone = cleaned["phone"]
        person.phone_index = blind_index("phone", cleaned["phone"]) if cleaned["phone"] else ""
        fields += ["phone", "phone_index"]
    if "id_number" in cleaned:
        person.id_number = cleaned["id_number"]
        person.id_number_index = blind_index("id_number", cleaned["id_number"]) if cleaned["id_number"] else ""
        fields += ["id_number", "id_number_index"]
    return fields


def _person_initials(name: str) -> str:
    return initials_of(name)[: Person._meta.get_field("pinyin_initials").max_length]


def _person_new(*, name: str, home_area: Area, phone: str = "", id_number: str = "",
                work_unit: Organisation | None = None, is_party_member: bool = False,
                party_branch: Organisation | None = None, user=None,
                check_taken: bool = True) -> tuple[Person, dict[str, list]]:
    """Clean one new person's fields and build them, unsaved, with identifiers set and
    indexed and search initials; returns the person and the errors found."""
    errors: dict[str, list] = {}
    cleaned = _clean_person({"name": name, "phone": phone, "id_number": id_number, "home_area": home_area,
                             "work_unit": work_unit, "is_party_member": is_party_member,
                             "party_branch": party_branch, "user": user}, errors, check_taken=check_taken)
    person = Person(name=cleaned["name"], home_area=home_area, work_unit=work_unit,
                    is_party_member=cleaned["is_party_member"], party_branch=party_branch, user=user,
                    pinyin_initials=_person_initials(cleaned["name"]))
    _apply_identifiers(person, cleaned)
    return person, errors


def _person_created_audit(person: Person) -> dict:
    return _person_audit(person, [*PERSON_AUDIT_FIELDS, "phone", "id_number"])


@transaction.atomic
def person_create(*, actor, name: str, home_area: Area, phone: str = "", id_number: str = "",
                  work_unit: Organisation | None = None, is_party_member: bool = False,
                  party_branch: Organisation | None = None, user=None) -> Person:
    """Register a person in their home community.  Phone (mainland mobile) and ID
    number (GB 11643 checksum) are validated, encrypted and indexed; the audit log
    sees them masked only."""
    person, errors = _person_new(name=name, home_area=home_area, phone=phone, id_number=id_number,
                                 work_unit=work_unit, is_party_member=is_party_member,
                                 party_branch=party_branch, user=user)
    _raise(errors)
    authorize(actor, "orgs.edit", home_area.code)
    person.save(force_insert=True)
    audit.record(actor=actor, action="orgs.person.created", obj=person, after=_person_created_audit(person))
    return person


@transaction.atomic
def person_update(*, actor, person: Person, name=UNSET, home_area=UNSET, phone=UNSET, id_number=UNSET,
                  work_unit=UNSET, is_party_member=UNSET, party_branch=UNSET, user=UNSET) -> Person:
    """Correct a person's record.  Moving them to another community needs the
    permission on both communities.  Nothing changed → nothing written or audited."""
    authorize(actor, "orgs.edit", person.home_area.code)
    given = {k: v for k, v in {"name": name, "home_area": home_area, "phone": phone, "id_number": id_number,
                               "work_unit": work_unit, "is_party_member": is_party_member,
                               "party_branch": party_branch, "user": user}.items() if v is not UNSET}
    errors: dict[str, list] = {}
    cleaned = _clean_person(given, errors, person=person)
    _raise(errors)
    changed = _changes(person, cleaned)
    if not changed:
        return person
    if "home_area" in changed:
        authorize(actor, "orgs.edit", changed["home_area"].code)
    before = _person_audit(person, list(changed))
    update_fields = _apply_identifiers(person, {k: v for k, v in changed.items() if k in _MASKERS})
    for field, value in changed.items():
        if field not in _MASKERS:
            setattr(person, field, value)
            update_fields.append(field)
    if "name" in changed:
        person.pinyin_initials = _person_initials(person.name)
        update_fields.append("pinyin_initials")
    person.save(update_fields=update_fields)
    audit.record(actor=actor, action="orgs.person.updated", obj=person, before=before,
                 after=_person_audit(person, list(changed)))
    return person


def person_reveal(*, actor, person: Person, field: str, reason: str) -> str:
    """Show one masked identifier in full (PIPL): needs "orgs.person.reveal" on the
    person's home area and a stated reason.  The reveal is audited with the field and
    the reason, never the value; a refused attempt is audited as denied."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": [_("只能查看手机号或身份证号。")]})
    if actor is None:
        raise PermissionDenied(_("查看完整个人信息必须由具体的工作人员操作。"))
    reason = " ".join(str(reason or "").split())
    if len(reason.replace(" ", "")) < 2:
        raise ValidationError({"reason": [_("请填写查看原因（至少 2 个字）。")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("查看原因不能超过 200 个字。")]})
    try:
        ensure_can(actor, "orgs.person.reveal", person.home_area.code)
    except PermissionDenied:
        audit.record(actor=actor, action="orgs.person.reveal_denied", obj=person,
                     after={"field": field, "reason": reason}, result=AuditResult.DENIED)
        raise
    with transaction.atomic():
        audit.record(actor=actor, action="orgs.person.revealed", obj=person,
                     after={"field": field, "reason": reason})
    return getattr(person, field) or ""


# ---------------------------------------------------------------------------
# Bulk creation (xlsx imports)
# ---------------------------------------------------------------------------
#
# An import of 20,000 rows through the single-row services held its one write
# transaction for 13-16 s on SQLite (one INSERT, one audit INSERT and a few
# look-ups per row), and on SQLite that transaction blocks every other writer
# (DESIGN §4: a long import must not stall intake).  The bulk services split the
# work in two:
#
# * `*_prepare_many(actor=..., rows=...)` cleans and builds every row with the
#   single-row services' own code (`_organisation_new`, `_person_new`), computes
#   pinyin initials, blind indexes and the audit entries (`audit.prepare_entries`),
#   and the column values the INSERTs will send (encryption included), and checks
#   what needs no database (duplicates inside the batch, references between its
#   rows).  No writes, so a caller can run it before opening its transaction: on
#   SQLite that CPU work then blocks no other writer.
# * `*_create_many(actor=..., rows=...)` then, in one transaction: checks what
#   the database knows (names and ID numbers already taken) in a few `IN (...)`
#   queries, checks the permission once per area, inserts in batches (`_insert`,
#   level by level for organisations whose parent is in the batch) and writes one
#   audit entry per object through `audit.record_many`.  Any error in any row →
#   BatchValidationError listing them all, nothing written.
# Measured in docs/performance.md, "Importing spreadsheets".


@dataclass
class PreparedRows:
    """A batch cleaned and built by organisations_prepare_many / people_prepare_many."""

    kind: str  # "organisations" or "people"
    actor: Any
    objects: list  # unsaved, in the order of the rows
    errors: dict[int, dict[str, list]]  # row index → field → messages (checks without the database)
    audit: audit.PreparedEntries | None  # one "created" entry per object, in `levels` order (None if errors)
    levels: list[list[int]] = dataclasses.field(default_factory=list)  # row indexes in the order to insert them
    # Each object's column values as the database takes them (None while rows have errors).
    insert_rows: list[list] | None = None
    parent_refs: dict[int, int] = dataclasses.field(default_factory=dict)  # organisations: row → parent row in this batch


def _row_error(errors: dict[int, dict[str, list]], index: int, field_name: str, message) -> None:
    errors.setdefault(index, {}).setdefault(field_name, []).append(message)


def _insert_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and not f.generated]


def _insert_rows(model, objects: list) -> list[list]:
    """Each object's column values prepared for the database by the fields themselves
    (get_db_prep_save: encryption of personal data included), ahead of the transaction."""
    connection = connections[router.db_for_write(model)]
    fields = _insert_fields(model)
    return [[f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields] for obj in objects]


def _insert(model, objects: list, rows: list[list]) -> None:
    """INSERT prepared rows in batches, setting each object's id (`INSERT … RETURNING`).

    This is bulk_create without its value preparation: measured on SQLite, bulk_create
    spends about 70 µs a person preparing values (≈ 1.4 s of a 20,000-row import) and
    can do it only inside the transaction; _insert_rows does that work with the same
    field methods before the transaction opens.  Auto-now times are taken here, at
    the write.  A database that cannot return ids from a multi-row INSERT (SQLite
    before 3.35) gets one save() per object instead."""
    connection = connections[router.db_for_write(model)]
    fields = _insert_fields(model)
    now = timezone.now()
    stamped = [i for i, f in enumerate(fields) if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for i in stamped:
        value = fields[i].get_db_prep_save(now, connection)
        for obj, row in zip(objects, rows, strict=True):
            setattr(obj, fields[i].attname, now)
            row[i] = value
    if not connection.features.can_return_rows_from_bulk_insert:
        for obj in objects:
            obj.save(force_insert=True, using=connection.alias)
        return
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    tail = f" RETURNING {quote(model._meta.pk.column)}"
    per_statement = BULK_BATCH_SIZE
    if connection.features.max_query_params:
        per_statement = min(per_statement, connection.features.max_query_params // len(fields))
    if connection.vendor == "postgresql":
        # One array per column, as Django's bulk_create does on PostgreSQL: a few parameters
        # per statement instead of one per value, so the statement is cheap to bind and plan.
        arrays = ", ".join(f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in fields)
        per_statement = BULK_BATCH_SIZE * 4

        def statement(chunk):
            # bandit B608 (medium) reviewed: quoted table/column names and db types from _meta; the rows are parameters
            return f"{head}SELECT * FROM UNNEST({arrays}){tail}", [list(column) for column in zip(*chunk, strict=True)]
    else:
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"

        def statement(chunk):
            return (f"{head}VALUES {', '.join([placeholders] * len(chunk))}{tail}",
                    [value for row in chunk for value in row])
    with connection.cursor() as cursor:
        for start in range(0, len(objects), per_statement):
            cursor.execute(*statement(rows[start:start + per_statement]))
            for obj, (pk,) in zip(objects[start:start + per_statement], cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def _party_levels(count: int, refs: dict[int, int], errors: dict[int, dict[str, list]]) -> list[list[int]]:
    """Row indexes by depth in the batch's own party tree: rows whose parent is not in the
    batch first, then their children, and so on (the way divisions are written level by
    level).  A reference that goes round in a circle is an error on each row of it."""
    depth: dict[int, int] = {i: 0 for i in range(count) if i not in refs}
    for start in range(count):
        chain: list[int] = []
        on_chain: set[int] = set()
        node = start
        while node not in depth and node not in on_chain:
            chain.append(node)
            on_chain.add(node)
            node = refs[node]
        if node in depth:
            base = depth[node]
            for index in reversed(chain):
                base += 1
                depth[index] = base
        else:  # a circle
            for index in chain:
                _row_error(errors, index, "party_parent", _("上级党组织不能是本组织或其下级组织。"))
                depth[index] = 0
    levels: dict[int, list[int]] = {}
    for index in range(count):
        levels.setdefault(depth[index], []).append(index)
    return [levels[d] for d in sorted(levels)]


def organisations_prepare_many(*, actor, rows: list[dict]) -> PreparedRows:
    """Clean and build organisations for organisations_create_many, without the database.

    Each row holds organisation_create's arguments (name, kind, area, party_parent,
    sector, credit_code, address, contact_phone, member_count, is_active).  Its
    `party_parent` may also be the index (from 0) of another row of the batch: a
    Party organisation created by the same call, in any order (no circles)."""
    rows = list(rows)
    objects: list[Organisation] = []
    errors: dict[int, dict[str, list]] = {}
    refs: dict[int, int] = {}
    for index, row in enumerate(rows):
        values = dict(row)
        parent = values.get("party_parent")
        if isinstance(parent, int) and not isinstance(parent, bool):
            values["party_parent"] = None
            if 0 <= parent < len(rows) and parent != index:
                refs[index] = parent
            else:
                _row_error(errors, index, "party_parent", _("上级党组织须是本批中的另一条。"))
        org, row_errors = _organisation_new(**values)
        for name, messages in row_errors.items():
            errors.setdefault(index, {}).setdefault(name, []).extend(messages)
        objects.append(org)
    for index, parent in refs.items():
        objects[index].party_parent = objects[parent]
        found: dict[str, list] = {}
        _check_party_parent(objects[index].kind, objects[parent], found)
        for message in found.get("party_parent", []):
            _row_error(errors, index, "party_parent", message)
    levels = _party_levels(len(objects), refs, errors)
    first_row: dict[tuple[int, str], int] = {}
    for index, org in enumerate(objects):
        if org.area_id is None or not org.name:
            continue
        key = (org.area_id, org.name)
        if key in first_row:
            _row_error(errors, index, "name", _("与第 %(n)s 条重复：同一区域内不能有两个“%(name)s”。")
                       % {"n": first_row[key] + 1, "name": org.name})
        else:
            first_row[key] = index
    entries = None if errors else audit.prepare_entries(actor=actor, entries=[
        {"action": "orgs.organisation.created", "obj": objects[index],
         "after": audit.snapshot(objects[index], ORG_AUDIT_FIELDS)}
        for level in levels for index in level
    ])
    return PreparedRows(kind="organisations", actor=actor, objects=objects, errors=errors, audit=entries,
                        levels=levels, parent_refs=refs,
                        insert_rows=None if errors else _insert_rows(Organisation, objects))


@transaction.atomic
def organisations_create_many(*, actor, rows: list[dict] | PreparedRows) -> list[Organisation]:
    """Register many organisations at once, all or none: the same rules, messages and audit
    entries ("orgs.organisation.created", one per organisation) as organisation_create.

    `rows` as for organisations_prepare_many, or what it returned (so a caller can do
    that CPU work before its own write transaction).  Parents in the batch are written
    before their children.  Any invalid row → BatchValidationError, nothing written;
    no permission on one of the areas → PermissionDenied, nothing written."""
    prepared = rows if isinstance(rows, PreparedRows) else organisations_prepare_many(actor=actor, rows=rows)
    if prepared.kind != "organisations" or prepared.actor is not actor:
        raise TypeError("organisations_create_many needs rows prepared by organisations_prepare_many "
                        "for the same actor")
    objects = prepared.objects
    errors = {index: {name: list(messages) for name, messages in fields.items()}
              for index, fields in prepared.errors.items()}
    checked = [org for index, org in enumerate(objects) if index not in errors]
    taken = _organisation_names_taken(checked)
    for index, org in enumerate(objects):
        if index not in errors and (org.area_id, org.name) in taken:
            _row_error(errors, index, "name", _name_taken_message(org))
    if errors:
        raise BatchValidationError(errors)
    for code in sorted({org.area.code for org in objects}):
        authorize(actor, "orgs.edit", code)
    parent_column = _insert_fields(Organisation).index(Organisation._meta.get_field("party_parent"))
    position = 0
    for level in prepared.levels:
        for index in level:
            if index in prepared.parent_refs:  # its parent, in an earlier level, has an id only now
                org = objects[index]
                org.party_parent = objects[prepared.parent_refs[index]]
                prepared.insert_rows[index][parent_column] = org.party_parent_id
                prepared.audit.entries[position].after["party_parent"] = org.party_parent_id
            position += 1
        _insert(Organisation, [objects[index] for index in level], [prepared.insert_rows[index] for index in level])
    audit.record_many(actor=actor, entries=prepared.audit)
    return objects


def people_prepare_many(*, actor, rows: list[dict]) -> PreparedRows:
    """Clean and build people for people_create_many, without the database: validation,
    encryption-ready identifiers with their blind indexes, pinyin initials, the masked
    audit payloads, and ID numbers repeated inside the batch.  Each row holds
    person_create's arguments."""
    rows = list(rows)
    objects: list[Person] = []
    errors: dict[int, dict[str, list]] = {}
    first_row: dict[str, int] = {}
    for index, row in enumerate(rows):
        person, row_errors = _person_new(**row, check_taken=False)
        if row_errors:
            errors[index] = row_errors
        elif person.id_number_index:
            if person.id_number_index in first_row:
                _row_error(errors, index, "id_number", _("与第 %(n)s 条的身份证号重复。")
                           % {"n": first_row[person.id_number_index] + 1})
            else:
                first_row[person.id_number_index] = index
        objects.append(person)
    entries = None if errors else audit.prepare_entries(actor=actor, entries=[
        {"action": "orgs.person.created", "obj": person, "after": _person_created_audit(person)}
        for person in objects
    ])
    return PreparedRows(kind="people", actor=actor, objects=objects, errors=errors, audit=entries,
                        levels=[list(range(len(objects)))],
                        insert_rows=None if errors else _insert_rows(Person, objects))


@transaction.atomic
def people_create_many(*, actor, rows: list[dict] | PreparedRows) -> list[Person]:
    """Register many people at once, all or none: the same rules and messages as
    person_create, identifiers encrypted and indexed, one audit entry per person
    ("orgs.person.created", identifiers masked).  `rows` as for people_prepare_many, or
    what it returned.  Any invalid row (also an ID number already registered) →
    BatchValidationError, nothing written; no permission on a home area → PermissionDenied."""
    prepared = rows if isinstance(rows, PreparedRows) else people_prepare_many(actor=actor, rows=rows)
    if prepared.kind != "people" or prepared.actor is not actor:
        raise TypeError("people_create_many needs rows prepared by people_prepare_many for the same actor")
    objects = prepared.objects
    errors = {index: {name: list(messages) for name, messages in fields.items()}
              for index, fields in prepared.errors.items()}
    taken = _id_numbers_taken([p.id_number_index for index, p in enumerate(objects) if index not in errors])
    for index, person in enumerate(objects):
        if index not in errors and person.id_number_index in taken:
            _row_error(errors, index, "id_number", _("该身份证号已登记。"))
    if errors:
        raise BatchValidationError(errors)
    for code in sorted({person.home_area.code for person in objects}):
        authorize(actor, "orgs.edit", code)
    _insert(Person, objects, prepared.insert_rows)
    audit.record_many(actor=actor, entries=prepared.audit)
    return objects


# ---------------------------------------------------------------------------
# Exact lookup by blind index (scoped to the actor)
# ---------------------------------------------------------------------------


def _people_for(actor):
    if actor is None:
        if current_scope() is DISABLED:
            return Person.objects.unscoped()
        raise PermissionDenied(_("您没有权限执行此操作。"))
    return Person.objects.restrict(actor)


def person_find_by_phone(*, actor, phone: str):
    """People in the actor's scope with exactly this mobile number (any common spelling)."""
    try:
        normalised = validate_mobile_phone(phone)
    except ValidationError:
        return Person.objects.unscoped().none()
    return _people_for(actor).filter(phone_index=blind_index("phone", normalised))


def person_find_by_id_number(*, actor, id_number: str):
    """The person in the actor's scope with this ID number, as a queryset (0 or 1 rows)."""
    try:
        normalised = validate_id_number(id_number)
    except ValidationError:
        return Person.objects.unscoped().none()
    return _people_for(actor).filter(id_number_index=blind_index("id_number", normalised)).exclude(id_number_index="")
