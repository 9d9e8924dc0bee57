"""The policy store: versioned, per-city rules with effective dates.

Each app declares its rules and their defaults in its own `policy.py` with
`register(...)`.  `get(key, city=..., on=...)` returns the value in force for
that city on that day: the newest version for the city, else the newest
national version, else the registered default.  A version is a whole value
(a dict); a city version only needs the keys it changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .permissions import ensure_can


@dataclass(frozen=True)
class PolicyDefinition:
    key: str
    label: str
    default: dict
    validate: Callable[[dict], None] | None = None


_REGISTRY: dict[str, PolicyDefinition] = {}


def register(key: str, *, label: str, default: dict, validate: Callable[[dict], None] | None = None) -> None:
    _REGISTRY[key] = PolicyDefinition(key=key, label=label, default=dict(default), validate=validate)


def definitions() -> dict[str, PolicyDefinition]:
    return dict(_REGISTRY)


def definition(key: str) -> PolicyDefinition:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise KeyError(f"unknown policy {key!r}") from None


def get(key: str, *, city=None, on: dt.date | None = None) -> dict[str, Any]:
    """The rule in force for `city` (an Area, its id or None) on day `on` (default today)."""
    from .models import PolicyVersion

    base = definition(key).default
    on = on or timezone.localdate()
    city_id = getattr(city, "pk", city)
    value = dict(base)
    national = (
        PolicyVersion.objects.filter(key=key, city__isnull=True, effective_from__lte=on)
        .order_by("-effective_from").values_list("value", flat=True).first()
    )
    if national:
        value.update(national)
    if city_id is not None:
        local = (
            PolicyVersion.objects.filter(key=key, city_id=city_id, effective_from__lte=on)
            .order_by("-effective_from").values_list("value", flat=True).first()
        )
        if local:
            value.update(local)
    return value


@transaction.atomic
def policy_set(*, actor, key: str, value: dict, effective_from: dt.date, city=None, note: str = "",
               permission: str = "core.policy.edit"):
    """Add a version of a rule.  Unknown keys in the value are refused."""
    from .models import PolicyVersion

    ensure_can(actor, permission)
    spec = definition(key)
    unknown = set(value) - set(spec.default)
    if unknown:
        raise ValidationError(_("规则 %(key)s 没有这些项：%(names)s") % {"key": key, "names": "、".join(sorted(unknown))})
    merged = {**spec.default, **value}
    if spec.validate:
        spec.validate(merged)
    version, created = PolicyVersion.objects.update_or_create(
        key=key, city=city, effective_from=effective_from,
        defaults={"value": value, "note": note, "created_by": actor},
    )
    audit.record(actor=actor, action="core.policy.set", obj=version,
                 after={"key": key, "city": getattr(city, "pk", None), "effective_from": effective_from,
                        "value": value, "created": created})
    return version


def _validate_password(value: dict) -> None:
    if int(value["min_length"]) < 8:
        raise ValidationError(_("等保三级要求密码长度至少 8 位。"))
    if not 1 <= int(value["min_classes"]) <= 4:
        raise ValidationError(_("字符类别数必须在 1 到 4 之间。"))


# 等保 level 3 (GB/T 22239-2019 8.1.4.1): complex passwords changed regularly.
register(
    "core.password",
    label="密码策略",
    default={"min_length": 10, "min_classes": 3, "history": 5, "max_age_days": 90},
    validate=_validate_password,
)
