"""The policy store: versioned, per-city rules with effective dates.

Each app declares its rules and their defaults in its own `policy.py` with
`register(...)`.  `get(key, city=..., on=...)` returns the value in force for
that city on that day: the registered default, overlaid by the newest
national version in force, overlaid by the newest version of that city in
force.  A city version only holds the items it changes, so a later national
change to another item still reaches the city; an item the city did set stays
the city's until the city sets it again.

Values are dicts whose item types come from the default: int, Decimal (kept
as text in the database, given back as Decimal), float, bool, str and lists.
Who may add a version is a permission per rule (`edit_permission`): business
rules need "core.policy.edit" (district admin); the password rule needs
"core.password.edit", which only the security admin holds (三员分立).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from . import audit
from .permissions import can, roles_for
from .scoping import scope_for_user

POLICY_TYPES = (bool, int, Decimal, float, str, list)


@dataclass(frozen=True)
class PolicyDefinition:
    key: str
    label: str
    default: dict
    validate: Callable[[dict], None] | None = None
    edit_permission: str = "core.policy.edit"
    labels: dict = field(default_factory=dict)  # item name → its label in the edit form
    on_change: Callable[[], None] | None = None  # called after a new version commits (cache invalidation)

    def item_label(self, name: str) -> str:
        return str(self.labels.get(name, name))


_REGISTRY: dict[str, PolicyDefinition] = {}


def register(key: str, *, label, default: dict, validate: Callable[[dict], None] | None = None,
             edit_permission: str = "core.policy.edit", labels: dict | None = None,
             on_change: Callable[[], None] | None = None) -> None:
    """Declare a rule and its default.  Item types are taken from the default's values."""
    for name, value in default.items():
        if not isinstance(value, POLICY_TYPES) and not isinstance(value, dict):
            raise TypeError(f"policy {key}: item {name!r} has unsupported type {type(value).__name__}")
    roles_for(edit_permission)  # an unknown permission is a programming error, found at import
    _REGISTRY[key] = PolicyDefinition(
        key=key, label=label, default=dict(default), validate=validate, edit_permission=edit_permission,
        labels=dict(labels or {}), on_change=on_change,
    )


def definitions() -> dict[str, PolicyDefinition]:
    return dict(sorted(_REGISTRY.items()))


def definition(key: str) -> PolicyDefinition:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown policy {key!r}") from None


# --- Types ----------------------------------------------------------------------

def _item_error(spec: PolicyDefinition, name: str, message: str) -> ValidationError:
    return ValidationError(_("%(item)s：%(message)s") % {"item": spec.item_label(name), "message": message},
                           code="invalid")


def _coerce_scalar(kind: type, raw: Any):
    """Raw value (from a form, the database or code) → the item's Python type, or ValueError."""
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        raise ValueError(_("应为是或否"))
    if kind is int:
        if isinstance(raw, bool):
            raise ValueError(_("应为整数"))
        if isinstance(raw, int):
            return raw
        if isinstance(raw, Decimal) and raw == raw.to_integral_value():
            return int(raw)
        if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
            return int(raw.strip())
        raise ValueError(_("应为整数"))
    if kind is Decimal:
        if isinstance(raw, bool):
            raise ValueError(_("应为数字"))
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValueError(_("应为数字")) from None
        if not value.is_finite():
            raise ValueError(_("应为数字"))
        return value
    if kind is float:
        if isinstance(raw, bool):
            raise ValueError(_("应为数字"))
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(_("应为数字")) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(_("应为数字"))
        return value
    if kind is str:
        if isinstance(raw, str):
            return raw.strip()
        raise ValueError(_("应为文字"))
    if kind is dict:
        if isinstance(raw, dict):
            return raw
        raise ValueError(_("应为键值对"))
    raise ValueError(_("不支持的类型"))


def item_kind(default_value: Any) -> type:
    for kind in (bool, int, Decimal, float, str, list, dict):
        if isinstance(default_value, kind):
            return kind
    return str


def list_item_kind(default_value: list) -> type:
    return item_kind(default_value[0]) if default_value else str


def coerce_item(spec: PolicyDefinition, name: str, raw: Any) -> Any:
    """One item converted to the type its default has; ValidationError naming the item otherwise."""
    default_value = spec.default[name]
    kind = item_kind(default_value)
    try:
        if kind is list:
            if not isinstance(raw, list | tuple):
                raise ValueError(_("应为列表"))
            inner = list_item_kind(default_value)
            return [_coerce_scalar(inner, item) for item in raw]
        return _coerce_scalar(kind, raw)
    except ValueError as exc:
        raise _item_error(spec, name, str(exc)) from None


def _to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    return value


def _from_json(spec: PolicyDefinition, stored: dict) -> dict:
    """Stored items back to their Python types; items no longer in the default are ignored."""
    value = {}
    for name, raw in (stored or {}).items():
        if name not in spec.default:
            continue
        try:
            value[name] = coerce_item(spec, name, raw)
        except ValidationError:
            continue  # a stored item that no longer fits its type falls back to the layer below
    return value


def resolve(spec: PolicyDefinition, national: dict | None, local: dict | None) -> dict[str, Any]:
    """Default, overlaid by the national version's items, overlaid by the city's."""
    value = dict(spec.default)
    if national:
        value.update(_from_json(spec, national))
    if local:
        value.update(_from_json(spec, local))
    return value


# --- Reading --------------------------------------------------------------------

# Rules are read on hot paths (every intake computes deadlines from "dispatch.sla"), so
# resolved values are kept in-process for CACHE_SECONDS.  A new version clears this
# process's cache when it commits; other processes see it within CACHE_SECONDS.
CACHE_SECONDS = 30
_cache: dict[tuple, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def invalidate() -> None:
    with _cache_lock:
        _cache.clear()


def get(key: str, *, city=None, on: dt.date | None = None) -> dict[str, Any]:
    """The rule in force for `city` (a city-level Area, its id or None) on day `on` (default today)."""
    on = on or timezone.localdate()
    city_id = getattr(city, "pk", city)
    cache_key = (key, city_id, on)
    now = time.monotonic()
    hit = _cache.get(cache_key)
    if hit is not None and hit[0] > now:
        return dict(hit[1])
    value = _read(key, city_id, on)
    with _cache_lock:
        if len(_cache) > 4096:  # many distinct days (reports over years): start again
            _cache.clear()
        _cache[cache_key] = (now + CACHE_SECONDS, value)
    return dict(value)


def _read(key: str, city_id, on: dt.date) -> dict[str, Any]:
    from .models import PolicyVersion

    spec = definition(key)
    national = (
        PolicyVersion.objects.filter(key=key, city__isnull=True, effective_from__lte=on)
        .order_by("-effective_from").values_list("value", flat=True).first()
    )
    local = None
    if city_id is not None:
        local = (
            PolicyVersion.objects.filter(key=key, city_id=city_id, effective_from__lte=on)
            .order_by("-effective_from").values_list("value", flat=True).first()
        )
    return resolve(spec, national, local)


def version_in_force(key: str, city=None, on: dt.date | None = None):
    """The PolicyVersion that decides `key` for `city` on day `on` (default today): the newest
    version of that city in force, else the newest national one, else None (the registered
    default).  What a computed result records as "the rule it was computed under"."""
    from .models import PolicyVersion

    definition(key)  # an unknown rule is a programming error
    on = on or timezone.localdate()
    city_id = getattr(city, "pk", city)
    versions = PolicyVersion.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from", "-id")
    if city_id is not None:
        local = versions.filter(city_id=city_id).first()
        if local is not None:
            return local
    return versions.filter(city__isnull=True).first()


def can_edit(user, key: str, city=None) -> bool:
    """May `user` add a version of rule `key` (for `city`, or nationally)?

    A national version needs the rule's permission; a city version needs it
    from a grant on that city or on a node inside it.
    """
    spec = definition(key)
    if not can(user, spec.edit_permission):
        return False
    if city is None:
        return True
    prefixes = scope_for_user(user).prefixes(roles_for(spec.edit_permission))
    return any(p.startswith(city.code) or city.code.startswith(p) for p in prefixes)


def editable_cities(user, key: str):
    """The city-level areas `user` may set `key` for (the cities their grants lie in)."""
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area

    spec = definition(key)
    if not can(user, spec.edit_permission):
        return Area.objects.none()
    prefixes = scope_for_user(user).prefixes(roles_for(spec.edit_permission))
    candidates = {p[:n] for p in prefixes for n in range(2, len(p) + 1)}
    # Cities are the ancestors of the user's own grant nodes, not data of other areas:
    # the unscoped read is limited to exactly those codes.
    return Area.objects.unscoped().filter(level=AreaLevel.CITY, code__in=candidates).order_by("code")


# --- Writing --------------------------------------------------------------------

@transaction.atomic
def policy_set(*, actor, key: str, value: dict, effective_from: dt.date, city=None, note: str = ""):
    """Add a version of a rule (or replace one that is not yet in force).

    Refused: unknown rules or items, items of the wrong type, values the
    rule's validator rejects, an effective date in the past (it would change
    results already computed for past periods), a city that is not a
    city-level area, and actors without the rule's permission for that city.
    """
    from zhouxin.orgs.choices import AreaLevel

    from .models import PolicyVersion

    try:
        spec = definition(key)
    except KeyError:
        raise ValidationError(_("没有名为 %(key)s 的规则。") % {"key": key}) from None
    if not can_edit(actor, key, city):
        raise PermissionDenied(_("您没有权限修改这条规则。"))
    if city is not None and city.level != AreaLevel.CITY:
        raise ValidationError(_("城市规则只能设在市级区域上，%(name)s 不是市级区域。") % {"name": city.name})
    if not isinstance(value, dict) or not value:
        raise ValidationError(_("规则版本至少需要一项取值。"))
    unknown = set(value) - set(spec.default)
    if unknown:
        raise ValidationError(_("规则 %(key)s 没有这些项：%(names)s") % {"key": key, "names": pgettext("列表分隔", "、").join(sorted(unknown))})
    if effective_from < timezone.localdate():
        raise ValidationError(_("生效日期不能早于今天：已过去的日期会改变已经算出的结果。"))
    typed = {name: coerce_item(spec, name, raw) for name, raw in value.items()}
    in_force = get(key, city=city, on=effective_from)
    merged = {**in_force, **typed}
    if spec.validate:
        spec.validate(merged)
    stored = {name: _to_json(v) for name, v in typed.items()}
    previous = PolicyVersion.objects.filter(key=key, city=city, effective_from=effective_from).first()
    before = {"value": previous.value, "note": previous.note} if previous else {"in_force": _to_json_dict(in_force)}
    if previous:
        previous.value = stored
        previous.note = note
        previous.created_by = actor
        previous.save(update_fields=["value", "note", "created_by"])
        version = previous
    else:
        version = PolicyVersion.objects.create(
            key=key, city=city, effective_from=effective_from, value=stored, note=note, created_by=actor)
    audit.record(
        actor=actor, action="core.policy.set", obj=version, before=before,
        after={"key": key, "city": getattr(city, "code", None), "effective_from": effective_from,
               "value": stored, "note": note, "replaced": previous is not None},
    )
    invalidate()  # this transaction reads its own new version at once
    transaction.on_commit(invalidate)  # and every reader after commit
    if spec.on_change:
        transaction.on_commit(spec.on_change)
    return version


def _to_json_dict(value: dict) -> dict:
    return {k: _to_json(v) for k, v in value.items()}


# --- Core rules ------------------------------------------------------------------

def _validate_password(value: dict) -> None:
    if int(value["min_length"]) < 8:
        raise ValidationError(_("等保三级要求密码长度至少 8 位。"))
    if not 1 <= int(value["min_classes"]) <= 4:
        raise ValidationError(_("字符类别数必须在 1 到 4 之间。"))
    if not 0 <= int(value["history"]) <= 24:
        raise ValidationError(_("历史密码个数必须在 0 到 24 之间。"))
    if not 1 <= int(value["max_age_days"]) <= 365:
        raise ValidationError(_("密码有效期必须在 1 到 365 天之间。"))


# 等保 level 3 (GB/T 22239-2019 8.1.4.1): complex passwords changed regularly.
register(
    "core.password",
    label=gettext_lazy("密码策略"),
    default={"min_length": 10, "min_classes": 3, "history": 5, "max_age_days": 90},
    validate=_validate_password,
    edit_permission="core.password.edit",
    labels={
        "min_length": gettext_lazy("最短长度"),
        "min_classes": gettext_lazy("至少包含的字符类别数"),
        "history": gettext_lazy("不得重复最近几次的密码"),
        "max_age_days": gettext_lazy("密码有效期（天）"),
    },
)


def _validate_calendar(value: dict) -> None:
    from .workdays import parse_fixed_holiday

    for line in value["fixed_holidays"]:
        parse_fixed_holiday(line)


def _calendar_changed() -> None:
    from .workdays import invalidate

    invalidate()


# Working-day calendar fallback for years the State Council has not published
# (or the calendar table does not hold): weekends plus these fixed-date public
# holidays (《全国年节及纪念日放假办法》: 元旦 1/1, 劳动节 5/1, 国庆节 10/1–10/3).
register(
    "core.calendar",
    label=gettext_lazy("节假日日历（未发布年度的兜底规则）"),
    default={"fixed_holidays": ["01-01 元旦", "05-01 劳动节", "10-01 国庆节", "10-02 国庆节", "10-03 国庆节"]},
    validate=_validate_calendar,
    edit_permission="core.calendar.edit",
    labels={"fixed_holidays": gettext_lazy("固定日期的法定节假日（每行“月-日 名称”）")},
    on_change=_calendar_changed,
)
