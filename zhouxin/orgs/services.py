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

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
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


def _clean_coordinate(value, *, field: str, label: str, limit: int, errors: dict):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("%(label)s必须是数字。") % {"label": label})
        return None
    if not -limit <= number <= limit:
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
        cleaned["latitude"] = _clean_coordinate(values["latitude"], field="latitude", label=_("纬度"), limit=90,
                                                errors=errors)
    if "longitude" in values:
        cleaned["longitude"] = _clean_coordinate(values["longitude"], field="longitude", label=_("经度"),
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


@transaction.atomic
def organisation_create(*, actor, name: str, kind: str, area: Area, party_parent: Organisation | None = None,
                        sector: Sector | None = None, credit_code: str = "", address: str = "",
                        contact_phone: str = "", member_count: int | None = None,
                        is_active: bool = True) -> Organisation:
    """Register an organisation in an area (块), optionally under a Party organisation
    and in a sector (条).  Names are unique within an area."""
    errors: dict[str, list] = {}
    if area is None:
        errors.setdefault("area", []).append(_("请选择所在区域。"))
    cleaned = _clean_org_values({"name": name, "kind": kind, "credit_code": credit_code, "address": address,
                                 "contact_phone": contact_phone, "member_count": member_count,
                                 "is_active": is_active}, errors)
    _check_party_parent(kind, party_parent, errors)
    _raise(errors)
    authorize(actor, "orgs.edit", area.code)
    if Organisation.objects.unscoped().filter(area=area, name=cleaned["name"]).exists():
        raise ValidationError({"name": [_("“%(area)s”已有名为“%(name)s”的组织。")
                                        % {"area": area.name, "name": cleaned["name"]}]})
    org = Organisation.objects.unscoped().create(
        area=area, party_parent=party_parent, sector=sector, pinyin_initials=_org_search_initials(cleaned["name"]),
        **cleaned)
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


def _clean_person(values: dict, errors: dict, *, person: Person | None = None) -> dict:
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
            if number:
                # Repeating the partial index's condition lets SQLite use that index.
                clash = Person.objects.unscoped().filter(
                    id_number_index=blind_index("id_number", number)).exclude(id_number_index="")
                if person is not None:
                    clash = clash.exclude(pk=person.pk)
                if clash.exists():
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


@transaction.atomic
def person_create(*, actor, name: str, home_area: Area, phone: str = "", id_number: str = "",
                  work_unit: Organisation | None = None, is_party_member: bool = False,
                  party_branch: Organisation | None = None, user=None) -> Person:
    """Register a person in their home community.  Phone (mainland mobile) and ID
    number (GB 11643 checksum) are validated, encrypted and indexed; the audit log
    sees them masked only."""
    errors: dict[str, list] = {}
    cleaned = _clean_person({"name": name, "phone": phone, "id_number": id_number, "home_area": home_area,
                             "work_unit": work_unit, "is_party_member": is_party_member,
                             "party_branch": party_branch, "user": user}, errors)
    _raise(errors)
    authorize(actor, "orgs.edit", home_area.code)
    person = Person(name=cleaned["name"], home_area=home_area, work_unit=work_unit,
                    is_party_member=cleaned["is_party_member"], party_branch=party_branch, user=user,
                    pinyin_initials=_person_initials(cleaned["name"]))
    _apply_identifiers(person, cleaned)
    person.save(force_insert=True)
    audit.record(actor=actor, action="orgs.person.created", obj=person,
                 after=_person_audit(person, [*PERSON_AUDIT_FIELDS, "phone", "id_number"]))
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
