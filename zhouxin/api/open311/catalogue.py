"""Services and service definitions (GeoReport v2 "GET services", "GET service definition").

A service is an active leaf of the dispatch catalogue (three levels, codes "04" → "0401" →
"040101"): service_code is the leaf's code, group its top-level category, keywords the
leaf's cold-start keywords.  Intake is synchronous, so every service is "realtime".  Every
service has the same attributes (ATTRIBUTES): what dispatch intake needs beyond the spec's
own fields.  `clean_attributes` checks the values a POST sends against them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core.models import AuditEntry
from zhouxin.dispatch.catalogue import normalise_keywords
from zhouxin.dispatch.choices import RequestKind, SlaClass, Urgency
from zhouxin.dispatch.models import Category

from .params import problem

SERVICE_CODE_MAX = 12
TITLE_MAX = 120  # ServiceRequest.title
# When the attribute definitions below last changed (discovery's changeset moves with them).
DEFINITIONS_CHANGED = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
# Audit actions that change the catalogue: a new changeset for clients that cache services.
CATALOGUE_ACTIONS = ("dispatch.category.created", "dispatch.category.updated", "dispatch.category.deactivated",
                     "dispatch.category.activated", "dispatch.catalogue.seeded")


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    description: Callable[[], str] | str
    order: int
    datatype_description: Callable[[], str] | str | None = None
    values: Callable[[], list[tuple[str, str]]] | None = None
    max_length: int = 0  # string and text

    def payload(self) -> dict:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": str(self.datatype_description) if self.datatype_description else None,
            "order": self.order,
            "description": str(self.description),
            "values": [{"key": key, "name": str(name)} for key, name in (self.values() if self.values else [])],
        }


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("kind", "singlevaluelist", True, gettext_lazy("诉求类型"), 1,
              values=lambda: list(RequestKind.choices)),
    Attribute("urgency", "singlevaluelist", False, gettext_lazy("紧急程度"), 2,
              datatype_description=gettext_lazy("不填时按“一般”受理。"), values=lambda: list(Urgency.choices)),
    Attribute("title", "string", False, gettext_lazy("标题"), 3,
              datatype_description=gettext_lazy("不超过 120 个字；不填时取诉求内容的开头。"), max_length=TITLE_MAX),
)


def leaves():
    """Active leaves under active parents, in code order (one query)."""
    return (Category.objects.filter(level=3, is_active=True, parent__is_active=True,
                                    parent__parent__is_active=True)
            .select_related("parent", "parent__parent").order_by("code"))


def find_service(code: str) -> Category | None:
    if not code or len(code) > SERVICE_CODE_MAX or not code.isascii() or not code.isdigit():
        return None
    return leaves().filter(code=code).first()


def service_payload(leaf: Category) -> dict:
    path = f"{leaf.parent.parent.name} › {leaf.parent.name} › {leaf.name}"
    if leaf.sla_class:
        description = _("%(path)s（时限类别：%(sla)s）") % {"path": path, "sla": SlaClass(leaf.sla_class).label}
    else:
        description = path
    return {
        "service_code": leaf.code,
        "service_name": leaf.name,
        "description": description,
        "metadata": True,
        "type": "realtime",
        "keywords": ", ".join(normalise_keywords(leaf.keywords).split()),
        "group": leaf.parent.parent.name,
    }


def services_payload() -> list[dict]:
    return [service_payload(leaf) for leaf in leaves()]


def definition_payload(leaf: Category) -> dict:
    return {"service_code": leaf.code, "attributes": [a.payload() for a in ATTRIBUTES]}


def changeset() -> dt.datetime:
    """The last change of the services or their definitions."""
    edited = AuditEntry.objects.filter(action__in=CATALOGUE_ACTIONS).aggregate(at=Max("at"))["at"]
    return max(filter(None, (edited, DEFINITIONS_CHANGED)))


@dataclass
class CleanAttributes:
    values: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _check(attribute: Attribute, raw: list[str], errors: list[str]):
    name = f"attribute[{attribute.code}]"
    values = [v.strip() for v in raw if v is not None and v.strip()]
    if attribute.datatype != "multivaluelist" and len(values) > 1:
        errors.append(problem(name, _("只能填写一个值。")))
        return None
    if not values:
        return [] if attribute.datatype == "multivaluelist" else None
    allowed = {key for key, _name in attribute.values()} if attribute.values else set()
    if attribute.datatype in ("singlevaluelist", "multivaluelist"):
        wrong = [v for v in values if v not in allowed]
        if wrong:
            keys = "、".join(sorted(allowed))
            errors.append(problem(name, _("“%(value)s”不是可选的值（可选：%(keys)s）。") % {
                "value": wrong[0][:40], "keys": keys}))
            return None
        return values if attribute.datatype == "multivaluelist" else values[0]
    value = values[0]
    if attribute.datatype in ("string", "text"):
        limit = attribute.max_length or 4000
        if len(value) > limit or any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            errors.append(problem(name, _("应为不超过 %(n)d 个字的文字。") % {"n": limit}))
            return None
        return value if attribute.datatype == "text" else " ".join(value.split())
    if attribute.datatype == "number":
        try:
            number = float(value) if len(value) <= 40 else None
        except ValueError:
            number = None
        if number is None or number != number or number in (float("inf"), float("-inf")):
            errors.append(problem(name, _("应为数字。")))
            return None
        return number
    # datetime
    try:
        moment = parse_datetime(value) if len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None:
        errors.append(problem(name, _("应为 W3C 日期时间，例如 2026-05-01T08:00:00+08:00。")))
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def clean_attributes(raw: dict[str, list[str]], attributes: tuple[Attribute, ...] = ATTRIBUTES) -> CleanAttributes:
    """Check attribute[CODE] values against the definition: unknown codes, missing required
    ones, values outside a list, wrong types.  Each problem names its attribute."""
    result = CleanAttributes()
    known = {a.code: a for a in attributes}
    for code in sorted(raw):
        if code not in known:
            result.errors.append(problem(f"attribute[{code[:40]}]", _("该服务没有这个属性。")))
    for attribute in sorted(attributes, key=lambda a: a.order):
        before = len(result.errors)
        value = _check(attribute, raw.get(attribute.code, []), result.errors)
        if len(result.errors) > before:
            continue
        if value in (None, []) and attribute.required:
            labels = "、".join(f"{key}（{name}）" for key, name in attribute.values()) if attribute.values else ""
            message = (_("请填写%(label)s，可选：%(keys)s。") % {"label": attribute.description, "keys": labels}
                       if labels else _("请填写%(label)s。") % {"label": attribute.description})
            result.errors.append(problem(f"attribute[{attribute.code}]", message))
        elif value not in (None, []):
            result.values[attribute.code] = value
    return result
