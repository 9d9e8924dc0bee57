"""The dispatch catalogue (诉求分类目录) and routing rules: writes, the bundled catalogue, reads.

The catalogue has three levels with codes of two digits per level ("04", "0401",
"040101"); a third-level item (a leaf) carries the SLA class and the default
responsible organisation kind that intake, routing and the SLA clock use.  The
catalogue is shared by the whole city; district administrators
("dispatch.catalogue.edit") edit it, and each edit is audited.

The bundled catalogue (data/catalogue.csv, modelled on the 12345 hotline
classification of Beijing's 接诉即办) is loaded by `manage.py seed_catalogue`
through `catalogue_seed`: idempotent, it adds and updates the items it owns
(source "seed"), never touches an item an administrator has created or edited
(source "admin"), and never deletes an item that requests, rules or statistics
use — such an item is deactivated instead, so old requests keep their category.

Routing rules (category × area → organisation) are set per area by district
administrators; `routing_seed_district` derives a district's starting rules from
the catalogue file's `route` column (see ROUTE_HELP).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can
from zhouxin.core.scoping import DISABLED, current_scope
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation
from zhouxin.orgs.services import initials_of

from . import lookup
from .choices import SlaClass
from .models import Category, CategoryRollup, MonthlyTheme, RoutingRule, ServiceRequest

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "catalogue.csv"
EDIT_PERMISSION = "dispatch.catalogue.edit"
MAX_LEVEL = 3
MAX_KEYWORDS = 30
MAX_KEYWORD_LENGTH = 20
CATEGORY_AUDIT_FIELDS = ["code", "name", "parent", "level", "sla_class", "default_org_kind", "keywords",
                         "is_active", "source"]
RULE_AUDIT_FIELDS = ["category", "area", "organisation", "is_active"]
_KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")
ROUTE_HELP = ("社区 → each community's Party committee; 街道:派出所 → each street's department whose name "
              "contains 派出所; 区:城市管理综合|城管执法 → the district's department whose name contains the first "
              "alternative found; several targets separated by ';'")


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET: Any = _Unset()


def _authorize(actor, area_code: str | None = None) -> None:
    """District administrators edit; the system (seeding) only where scoping was disabled on purpose."""
    if actor is None:
        if current_scope() is DISABLED:
            return
        raise PermissionDenied(_("您没有权限执行此操作。"))
    ensure_can(actor, EDIT_PERMISSION, area_code)


def _suggestions_see_it_on_commit() -> None:
    """Category suggestions read the catalogue from a per-process cache (classify.catalogue):
    once the edit commits, drop it so this process suggests from the new catalogue at once
    (other processes within classify.CATALOGUE_TTL_SECONDS).  Bulk updates send no model
    signal, and a signal fires before commit, so every edit says it here."""
    from . import classify  # loaded lazily: it brings jieba and numpy

    transaction.on_commit(classify.invalidate_catalogue)
    lookup.forget_on_commit()  # intake's look-ups by code too


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def normalise_keywords(text) -> str:
    """"电梯，困人、 停运" → "电梯 困人 停运" (split on spaces and Chinese or Latin commas; duplicates dropped)."""
    seen: list[str] = []
    for word in _KEYWORD_SPLIT.split(str(text or "")):
        word = word.strip()
        if word and word not in seen:
            seen.append(word)
    return " ".join(seen)


def category_level(code: str) -> int:
    return len(code) // 2


def _initials(name: str) -> str:
    return initials_of(name)[: Category._meta.get_field("pinyin_initials").max_length]


def _check_fields(*, level: int, name, sla_class, org_kind, keywords, errors: dict) -> dict:
    """Cleaned name, class, kind and keywords; errors per field in Chinese."""
    cleaned: dict[str, Any] = {}
    if name is not UNSET:
        text = " ".join(str(name or "").split())
        if not text:
            errors.setdefault("name", []).append(_("请填写类别名称。"))
        elif len(text) > 64:
            errors.setdefault("name", []).append(_("类别名称不能超过 64 个字。"))
        cleaned["name"] = text
    if sla_class is not UNSET:
        value = str(sla_class or "")
        if value and value not in SlaClass.values:
            errors.setdefault("sla_class", []).append(_("时限类别“%(v)s”无效。") % {"v": value})
        elif level == MAX_LEVEL and not value:
            errors.setdefault("sla_class", []).append(_("三级类别必须设置时限类别。"))
        elif level < MAX_LEVEL and value:
            errors.setdefault("sla_class", []).append(_("只有三级类别设置时限类别。"))
        cleaned["sla_class"] = value
    if org_kind is not UNSET:
        value = str(org_kind or "")
        if value and value not in OrgKind.values:
            errors.setdefault("default_org_kind", []).append(_("组织类型“%(v)s”无效。") % {"v": value})
        elif level == MAX_LEVEL and not value:
            errors.setdefault("default_org_kind", []).append(_("三级类别必须设置默认承办组织类型。"))
        cleaned["default_org_kind"] = value
    if keywords is not UNSET:
        value = normalise_keywords(keywords)
        words = value.split()
        if len(words) > MAX_KEYWORDS:
            errors.setdefault("keywords", []).append(_("关键词最多 %(n)d 个。") % {"n": MAX_KEYWORDS})
        long_words = [w for w in words if len(w) > MAX_KEYWORD_LENGTH]
        if long_words:
            errors.setdefault("keywords", []).append(
                _("关键词“%(w)s”太长，每个关键词不超过 %(n)d 个字。") % {"w": long_words[0], "n": MAX_KEYWORD_LENGTH})
        cleaned["keywords"] = value
    return cleaned


# --- Categories ------------------------------------------------------------------------------


@transaction.atomic
def category_create(*, actor, code: str, name: str, parent: Category | None = None, sla_class: str = "",
                    default_org_kind: str = "", keywords: str = "") -> Category:
    """Add an item to the catalogue.

    The code has two digits per level and extends its parent's code ("0401" under
    "04"); at most three levels; a third-level item needs an SLA class and a default
    responsible organisation kind (DESIGN §3: "each item with a default SLA class and
    a default responsible organisation kind"); only leaves carry an SLA class.
    """
    _authorize(actor)
    errors: dict[str, list] = {}
    code = str(code or "").strip()
    level = 1 if parent is None else parent.level + 1
    if parent is not None and parent.level >= MAX_LEVEL:
        errors.setdefault("parent", []).append(_("三级类别下不能再设下级类别。"))
    elif parent is not None and not parent.is_active:
        errors.setdefault("parent", []).append(_("上级类别“%(name)s”已停用。") % {"name": parent.name})
    if not (code.isascii() and code.isdigit() and len(code) == 2 * level):
        errors.setdefault("code", []).append(_("%(level)d 级类别的编码应为 %(n)d 位数字。") % {"level": level, "n": 2 * level})
    elif parent is not None and not code.startswith(parent.code):
        errors.setdefault("code", []).append(
            _("编码 %(code)s 应以上级编码 %(parent)s 开头。") % {"code": code, "parent": parent.code})
    elif code.endswith("00"):
        errors.setdefault("code", []).append(_("编码每一级的两位数字不能是 00。"))
    cleaned = _check_fields(level=min(level, MAX_LEVEL), name=name, sla_class=sla_class, org_kind=default_org_kind,
                            keywords=keywords, errors=errors)
    if "code" not in errors and Category.objects.filter(code=code).exists():
        errors.setdefault("code", []).append(_("编码 %(code)s 已被使用。") % {"code": code})
    if cleaned.get("name") and Category.objects.filter(parent=parent, name=cleaned["name"]).exists():
        errors.setdefault("name", []).append(_("同一上级下已有名为“%(name)s”的类别。") % {"name": cleaned["name"]})
    _raise(errors)
    category = Category.objects.create(
        code=code, parent=parent, level=level, pinyin_initials=_initials(cleaned["name"]),
        source=Category.SOURCE_SEED if actor is None else Category.SOURCE_ADMIN, **cleaned)
    audit.record(actor=actor, action="dispatch.category.created", obj=category,
                 after=audit.snapshot(category, CATEGORY_AUDIT_FIELDS))
    _suggestions_see_it_on_commit()
    return category


@transaction.atomic
def category_update(*, actor, category: Category, name=UNSET, sla_class=UNSET, default_org_kind=UNSET,
                    keywords=UNSET) -> Category:
    """Change an item's name, SLA class, default organisation kind or keywords.

    The code and place in the tree do not change (requests and statistics refer to
    them).  The item becomes the administrator's: a later seed_catalogue leaves it
    as set here.  Nothing changed → nothing written, nothing audited.
    """
    _authorize(actor)
    errors: dict[str, list] = {}
    cleaned = _check_fields(level=category.level, name=name, sla_class=sla_class, org_kind=default_org_kind,
                            keywords=keywords, errors=errors)
    if cleaned.get("name") and cleaned["name"] != category.name and Category.objects.filter(
            parent_id=category.parent_id, name=cleaned["name"]).exclude(pk=category.pk).exists():
        errors.setdefault("name", []).append(_("同一上级下已有名为“%(name)s”的类别。") % {"name": cleaned["name"]})
    _raise(errors)
    changed = {k: v for k, v in cleaned.items() if getattr(category, k) != v}
    if not changed:
        return category
    before = audit.snapshot(category, [*changed, "source"])
    for key, value in changed.items():
        setattr(category, key, value)
    update_fields = list(changed)
    if "name" in changed:
        category.pinyin_initials = _initials(category.name)
        update_fields.append("pinyin_initials")
    if actor is not None:
        category.source = Category.SOURCE_ADMIN
        update_fields.append("source")
    category.save(update_fields=update_fields)
    audit.record(actor=actor, action="dispatch.category.updated", obj=category, before=before,
                 after=audit.snapshot(category, [*changed, "source"]))
    _suggestions_see_it_on_commit()
    return category


def _subtree(category: Category):
    return Category.objects.filter(code__startswith=category.code)


@transaction.atomic
def category_deactivate(*, actor, category: Category) -> int:
    """Take an item and everything under it out of use (停用).  Requests that already have
    it keep it; intake and classification no longer offer it.  Returns how many items
    changed."""
    _authorize(actor)
    codes = list(_subtree(category).filter(is_active=True).order_by("code").values_list("code", flat=True))
    if not codes:
        return 0
    fields = {"is_active": False}
    if actor is not None:
        fields["source"] = Category.SOURCE_ADMIN
    Category.objects.filter(code__in=codes).update(**fields)
    category.is_active = False
    audit.record(actor=actor, action="dispatch.category.deactivated", obj=category,
                 before={"is_active": True}, after={"is_active": False, "codes": codes})
    _suggestions_see_it_on_commit()
    return len(codes)


@transaction.atomic
def category_activate(*, actor, category: Category) -> int:
    """Put an item and everything under it back into use; its parent must be in use."""
    _authorize(actor)
    if category.parent_id and not Category.objects.filter(pk=category.parent_id, is_active=True).exists():
        raise ValidationError(_("上级类别已停用，请先启用上级类别。"))
    codes = list(_subtree(category).filter(is_active=False).order_by("code").values_list("code", flat=True))
    if not codes:
        return 0
    fields = {"is_active": True}
    if actor is not None:
        fields["source"] = Category.SOURCE_ADMIN
    Category.objects.filter(code__in=codes).update(**fields)
    category.is_active = True
    audit.record(actor=actor, action="dispatch.category.activated", obj=category,
                 before={"is_active": False}, after={"is_active": True, "codes": codes})
    _suggestions_see_it_on_commit()
    return len(codes)


# --- Routing rules ---------------------------------------------------------------------------


def _rule_errors(*, category: Category, area: Area, organisation: Organisation) -> dict:
    errors: dict[str, list] = {}
    if not category.is_active:
        errors.setdefault("category", []).append(_("类别“%(name)s”已停用。") % {"name": category.name})
    if area.level in (AreaLevel.PROVINCE,):
        errors.setdefault("area", []).append(_("派单规则不能设在省级区域上。"))
    if not organisation.is_active:
        errors.setdefault("organisation", []).append(_("单位“%(name)s”已停用。") % {"name": organisation.name})
    org_code = organisation.area.code
    # The organisation works in the rule's district: it sits on the rule area's path
    # (a district department for a street's rule) or inside the rule area's district.
    district_code = area.code[:6]
    if not (area.code.startswith(org_code) or org_code.startswith(district_code)):
        errors.setdefault("organisation", []).append(
            _("单位“%(org)s”不在“%(area)s”所在的区内，不能承办这里的诉求。") % {"org": organisation.name,
                                                                   "area": area.name})
    return errors


@transaction.atomic
def routing_rule_set(*, actor, category: Category, area: Area, organisation: Organisation) -> RoutingRule:
    """Requests of `category` (and the items under it) in `area` (and the areas inside it)
    go to `organisation`; replaces the organisation of an existing rule for the same
    category and area.  The most specific rule wins (dispatch.routing)."""
    _authorize(actor, area.code)
    _raise(_rule_errors(category=category, area=area, organisation=organisation))
    rule = RoutingRule.objects.unscoped().select_for_update().filter(category=category, area=area).first()
    if rule is None:
        rule = RoutingRule.objects.unscoped().create(category=category, area=area, organisation=organisation)
        audit.record(actor=actor, action="dispatch.routing_rule.created", obj=rule,
                     after=audit.snapshot(rule, RULE_AUDIT_FIELDS))
        return rule
    if rule.organisation_id == organisation.pk and rule.is_active:
        return rule
    before = audit.snapshot(rule, RULE_AUDIT_FIELDS)
    rule.organisation = organisation
    rule.is_active = True
    rule.save(update_fields=["organisation", "is_active"])
    audit.record(actor=actor, action="dispatch.routing_rule.updated", obj=rule, before=before,
                 after=audit.snapshot(rule, RULE_AUDIT_FIELDS))
    return rule


@transaction.atomic
def routing_rule_delete(*, actor, rule: RoutingRule) -> None:
    """Remove a rule; requests then follow the next less specific rule, or the street hub."""
    _authorize(actor, rule.area.code)
    before = audit.snapshot(rule, RULE_AUDIT_FIELDS)
    label = str(rule)
    rule_id = rule.pk
    deleted, _unused = RoutingRule.objects.unscoped().filter(pk=rule_id).delete()
    if not deleted:
        raise ValidationError(_("这条派单规则已被删除。"))
    audit.record(actor=actor, action="dispatch.routing_rule.deleted", object_type="dispatch.routingrule",
                 object_id=rule_id, object_repr=label, before=before)


# --- The bundled catalogue -------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueRow:
    code: str
    name: str
    sla_class: str
    org_kind: str
    route: str
    keywords: str

    @property
    def level(self) -> int:
        return category_level(self.code)

    @property
    def parent_code(self) -> str | None:
        return self.code[:-2] or None


def read_catalogue(path: Path | str = CATALOGUE_FILE) -> list[CatalogueRow]:
    """Rows of a catalogue file (columns code,name,sla_class,org_kind,route,keywords), checked:
    every problem is reported with its line number (ValidationError listing all)."""
    errors: list[str] = []
    rows: list[CatalogueRow] = []
    codes: set[str] = set()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"code", "name", "sla_class", "org_kind", "keywords"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationError(_("目录文件缺少列：%(cols)s") % {"cols": pgettext("列表分隔", "、").join(sorted(missing))})
        for line, raw in enumerate(reader, start=2):
            row = CatalogueRow(
                code=(raw.get("code") or "").strip(), name=(raw.get("name") or "").strip(),
                sla_class=(raw.get("sla_class") or "").strip(), org_kind=(raw.get("org_kind") or "").strip(),
                route=(raw.get("route") or "").strip(), keywords=normalise_keywords(raw.get("keywords")))
            problems: dict[str, list] = {}
            if not (row.code.isdigit() and len(row.code) in (2, 4, 6)):
                problems["code"] = [_("编码应为 2、4 或 6 位数字。")]
            else:
                if row.code in codes:
                    problems["code"] = [_("编码 %(code)s 重复。") % {"code": row.code}]
                if row.parent_code and row.parent_code not in codes:
                    problems["parent"] = [_("上级编码 %(code)s 应在本行之前出现。") % {"code": row.parent_code}]
                _check_fields(level=row.level, name=row.name, sla_class=row.sla_class, org_kind=row.org_kind,
                              keywords=row.keywords, errors=problems)
            for target in filter(None, row.route.split(";")):
                if parse_route_target(target) is None:
                    problems.setdefault("route", []).append(_("派单目标“%(t)s”无法识别。") % {"t": target})
            for messages in problems.values():
                errors.extend(_("第 %(n)d 行：%(message)s") % {"n": line, "message": m} for m in messages)
            codes.add(row.code)
            rows.append(row)
    if errors:
        raise ValidationError(errors)
    return rows


@dataclass
class CatalogueSeedResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept_admin: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.reactivated or self.deactivated or self.deleted)


def _in_use(category_ids: list[int]) -> set[int]:
    """The categories among these that anything refers to (requests, rules, statistics, themes)."""
    used: set[int] = set()
    used.update(ServiceRequest.objects.unscoped().filter(category_id__in=category_ids)
                .values_list("category_id", flat=True).distinct())
    used.update(RoutingRule.objects.unscoped().filter(category_id__in=category_ids)
                .values_list("category_id", flat=True).distinct())
    used.update(CategoryRollup.objects.unscoped().filter(category_id__in=category_ids)
                .values_list("category_id", flat=True).distinct())
    used.update(MonthlyTheme.objects.unscoped().filter(category_id__in=category_ids)
                .values_list("category_id", flat=True).distinct())
    return used


@transaction.atomic
def catalogue_seed(*, actor=None, rows: list[CatalogueRow] | None = None) -> CatalogueSeedResult:
    """Bring the catalogue in line with the bundled file (or `rows`).

    Items the file owns (source "seed") are created, renamed, re-classed and given
    the file's keywords; items an administrator created or edited (source "admin")
    are left alone.  A seed item no longer in the file is deleted when nothing
    refers to it and deactivated otherwise (requests keep their category).  One
    audit entry lists what changed; a second run with the same file writes nothing.
    """
    _authorize(actor)
    rows = read_catalogue() if rows is None else rows
    result = CatalogueSeedResult()
    existing = {c.code: c for c in Category.objects.all()}
    wanted = {row.code: row for row in rows}
    changes: dict[str, dict] = {}

    for level in (1, 2, 3):
        new: list[Category] = []
        dirty: list[Category] = []
        for row in (r for r in rows if r.level == level):
            values = {"name": row.name, "sla_class": row.sla_class, "default_org_kind": row.org_kind,
                      "keywords": row.keywords, "pinyin_initials": _initials(row.name)}
            current = existing.get(row.code)
            parent = existing.get(row.parent_code) if row.parent_code else None
            if current is None:
                new.append(Category(code=row.code, level=level, parent=parent, is_active=True,
                                    source=Category.SOURCE_SEED, **values))
                result.created.append(row.code)
                continue
            if current.source != Category.SOURCE_SEED:
                result.kept_admin.append(row.code)
                continue
            diff = {k: v for k, v in values.items() if getattr(current, k) != v}
            if parent is not None and current.parent_id != parent.pk:
                diff["parent"] = parent
            if not current.is_active:
                diff["is_active"] = True
                result.reactivated.append(row.code)
            if diff:
                changes[row.code] = {k: (v.code if isinstance(v, Category) else v) for k, v in diff.items()
                                     if k != "pinyin_initials"}
                for key, value in diff.items():
                    setattr(current, key, value)
                dirty.append(current)
                if set(diff) - {"is_active", "pinyin_initials"}:
                    result.updated.append(row.code)
        if new:
            Category.objects.bulk_create(new, batch_size=500)
            for category in Category.objects.filter(code__in=[c.code for c in new]):
                existing[category.code] = category
        if dirty:
            Category.objects.bulk_update(dirty, ["name", "sla_class", "default_org_kind", "keywords",
                                                 "pinyin_initials", "parent", "is_active"], batch_size=500)

    # Seed items the file no longer has: delete when unused, else deactivate (deepest first).
    gone = sorted((c for code, c in existing.items() if code not in wanted and c.source == Category.SOURCE_SEED),
                  key=lambda c: (-c.level, c.code))
    if gone:
        used = _in_use([c.pk for c in gone])
        kept_children = {c.parent_id for c in existing.values() if c.code in wanted or c.source != Category.SOURCE_SEED
                         or c.pk in used}
        for category in gone:
            if category.pk in used or category.pk in kept_children:
                kept_children.add(category.parent_id)
                if category.is_active:
                    Category.objects.filter(pk=category.pk).update(is_active=False)
                    result.deactivated.append(category.code)
            else:
                Category.objects.filter(pk=category.pk).delete()
                result.deleted.append(category.code)

    # Search initials are derived from the name: kept up to date for every item, whoever owns it.
    stale = [c for c in Category.objects.only("pk", "name", "pinyin_initials") if c.pinyin_initials != _initials(c.name)]
    for category in stale:
        category.pinyin_initials = _initials(category.name)
    if stale:
        Category.objects.bulk_update(stale, ["pinyin_initials"], batch_size=500)

    if result.changed:
        audit.record(
            actor=actor, action="dispatch.catalogue.seeded", object_type="dispatch.category",
            object_repr=_("诉求分类目录"),
            after={"created": result.created, "updated": changes, "reactivated": result.reactivated,
                   "deactivated": result.deactivated, "deleted": result.deleted},
        )
        _suggestions_see_it_on_commit()
    return result


# --- Routing rules from the catalogue file ----------------------------------------------------


@dataclass(frozen=True)
class RouteTarget:
    level: str  # "community", "street" or "district"
    names: tuple[str, ...] = ()  # name fragments, first match wins (street and district targets)


def parse_route_target(text: str) -> RouteTarget | None:
    text = text.strip()
    if text == "社区":
        return RouteTarget("community")
    prefix, sep, names = text.partition(":")
    parts = tuple(n.strip() for n in names.split("|") if n.strip())
    if not sep or not parts:
        return None
    if prefix == "街道":
        return RouteTarget("street", parts)
    if prefix == "区":
        return RouteTarget("district", parts)
    return None


@dataclass
class RoutingSeedResult:
    created: int = 0
    existing: int = 0
    unmatched: list[str] = field(default_factory=list)  # "06 区:城市管理综合" (no such organisation)


def _pick(candidates: list[Organisation], names: tuple[str, ...]) -> Organisation | None:
    for fragment in names:
        for org in candidates:
            if fragment in org.name:
                return org
    return None


@transaction.atomic
def routing_seed_district(*, actor=None, district: Area, rows: list[CatalogueRow] | None = None) -> RoutingSeedResult:
    """Starting routing rules for a district, from the catalogue file's `route` column.

    For each category with a route: a community target gives one rule per community
    to that community's Party committee (物业, 邻里 matters); a street target one rule
    per street to the street-level department whose name matches (派出所,
    市场监管所); a district target one rule for the district to the district
    department whose name matches.  Existing rules for the same category and area
    are kept as they are (an administrator may have changed them); targets with no
    matching organisation are reported, and those requests go to the street hub.
    """
    _authorize(actor, district.code)
    if district.level != AreaLevel.DISTRICT:
        raise ValidationError(_("“%(name)s”不是区级区域。") % {"name": district.name})
    rows = read_catalogue() if rows is None else rows
    categories = {c.code: c for c in Category.objects.filter(code__in=[r.code for r in rows if r.route],
                                                             is_active=True)}
    areas = list(Area.objects.unscoped().filter(code__startswith=district.code, is_active=True,
                                                level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY]))
    streets = [a for a in areas if a.level == AreaLevel.STREET]
    communities = [a for a in areas if a.level == AreaLevel.COMMUNITY]
    orgs = list(Organisation.objects.unscoped().filter(area__code__startswith=district.code, is_active=True,
                                                       kind__in=[OrgKind.DEPARTMENT, OrgKind.PARTY_COMMITTEE])
                .select_related("area").order_by("name", "pk"))
    departments_at: dict[int, list[Organisation]] = {}
    committee_at: dict[int, Organisation] = {}
    for org in orgs:
        if org.kind == OrgKind.DEPARTMENT:
            departments_at.setdefault(org.area_id, []).append(org)
        elif org.area.level == AreaLevel.COMMUNITY:
            committee_at.setdefault(org.area_id, org)
    taken = set(RoutingRule.objects.unscoped().filter(area__code__startswith=district.code[:6])
                .values_list("category_id", "area_id"))
    result = RoutingSeedResult()
    new: list[RoutingRule] = []

    def add(category: Category, area: Area, organisation: Organisation | None, label: str) -> None:
        if organisation is None:
            result.unmatched.append(label)
            return
        if (category.pk, area.pk) in taken:
            result.existing += 1
            return
        taken.add((category.pk, area.pk))
        new.append(RoutingRule(category=category, area=area, organisation=organisation))

    for row in rows:
        category = categories.get(row.code)
        if category is None or not row.route:
            continue
        for text in filter(None, row.route.split(";")):
            target = parse_route_target(text)
            label = f"{row.code} {text.strip()}"
            if target is None:
                continue
            if target.level == "district":
                add(category, district, _pick(departments_at.get(district.pk, []), target.names), label)
            elif target.level == "street":
                for street in streets:
                    add(category, street, _pick(departments_at.get(street.pk, []), target.names),
                        f"{label} @ {street.name}")
            else:
                for community in communities:
                    add(category, community, committee_at.get(community.pk), f"{label} @ {community.name}")
    if new:
        RoutingRule.objects.unscoped().bulk_create(new, batch_size=500)
        result.created = len(new)
        audit.record(actor=actor, action="dispatch.routing_rule.seeded", obj=district,
                     after={"district": district.code, "created": len(new), "unmatched": result.unmatched[:200]})
    return result


# --- Reads -----------------------------------------------------------------------------------


def catalogue_search(query: str):
    """Items whose name, code, pinyin initials or keywords match `query` (case-insensitive)."""
    q = str(query or "").strip()
    if not q:
        return Category.objects.none()
    cond = Q(name__icontains=q) | Q(keywords__icontains=q)
    if q.isdigit():
        cond |= Q(code__startswith=q)
    if q.isascii() and q.isalpha():
        cond |= Q(pinyin_initials__startswith=q.lower())
    return Category.objects.filter(cond)


def catalogue_tree(*, query: str = "", include_inactive: bool = True) -> list[Category]:
    """The catalogue as top-level items with `.nodes` (second level) each with `.nodes` (leaves),
    in two queries at most.  With a query: the matching items, their ancestors and, for a
    matching parent, its whole branch."""
    qs = Category.objects.order_by("code")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    items = list(qs)
    if query:
        matched = set(catalogue_search(query).values_list("code", flat=True))
        ancestors = {code[:n] for code in matched for n in range(2, len(code), 2)}
        items = [c for c in items if c.code in matched or c.code in ancestors
                 or any(c.code.startswith(m) for m in matched if len(m) < len(c.code))]
    by_code = {c.code: c for c in items}
    roots: list[Category] = []
    for item in items:
        item.nodes = []
    for item in items:
        parent = by_code.get(item.code[:-2]) if item.level > 1 else None
        if parent is not None:
            parent.nodes.append(item)
        elif item.level == 1:
            roots.append(item)
    return roots
