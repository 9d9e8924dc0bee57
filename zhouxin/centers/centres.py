"""Centres, rooms, opening hours, the on-duty rota and the service catalogue (党群服务中心, DESIGN §3
centers), and the two checks on them: the construction standard and the rota.

Rules and where they come from:
* a centre sits on a district, street or community Area; it is kept ("centers.manage") by the
  street hub or community staff whose grant reaches that area; its name is unique in the area;
* opening hours are one entry per weekday ("mon" … "sun") plus "holiday" for the public holidays
  of the working-day calendar (zhouxin.core.workdays), each with at most two intervals "HH:MM"
  (e.g. 08:30–12:00 and 13:30–20:00): evenings and weekends are allowed, a day with no interval
  is closed.  A day the calendar marks as a rest day on a weekday, or as a named holiday, uses the
  "holiday" hours; a weekend day inside a holiday run that the calendar leaves unnamed keeps its
  own weekday's hours, and an adjusted workday (调休) keeps its weekday's hours too;
* the standards check reads "centers.standards" of the centre's city on the day asked:
  (1) floor area ≥ area_per_100_households × households / 100 (households of the centre's area; a
  street or district with no own figure sums its communities, and says so when any is missing),
  (2) the residents' activity rooms ≥ resident_share_percent % of the floor area,
  (3) floor area ≥ the minimum for the centre's level;
* the rota (值班, AB 岗) reads "centers.rota": every period a centre is open in (上午 before 12:00,
  下午 12:00–18:00, 晚间 after 18:00) needs minimum_staff people on duty and, when require_backup,
  one of them on the B post.  Staff on duty are users holding a staff grant within the centre's
  area, or on the street above a community centre.  The rota of a day already past is a record
  and is not changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from functools import reduce
from operator import or_

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from zhouxin.core import audit, policy, workdays
from zhouxin.core.choices import AREA_ROLES, Role
from zhouxin.core.models import Grant, User
from zhouxin.core.permissions import ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import CODE_LENGTH, AreaLevel
from zhouxin.orgs.models import Area

from .choices import DutyPeriod, DutyRole
from .models import Centre, DutyShift, Room, ServiceItem
from .policy import ROTA_KEY, STANDARDS_KEY

# --- Limits (the model's field sizes) ------------------------------------------------------------

NAME_MAX, ADDRESS_MAX, PHONE_MAX, DESCRIPTION_MAX = 80, 200, 32, 2000
ROOM_NAME_MAX, EQUIPMENT_MAX = 60, 300
SERVICE_NAME_MAX, SERVICE_DESCRIPTION_MAX, SERVICE_HOURS_MAX, SERVICE_ORDER_MAX = 80, 300, 100, 32767
CENTRE_AREA_MAX = Decimal("9999999.99")
ROOM_AREA_MAX = Decimal("999999.99")
CAPACITY_MAX = 100000
ROTA_DAYS_AHEAD = 366
CENT = Decimal("0.01")
CENTRE_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
LEVEL_LABELS = {AreaLevel.COMMUNITY: gettext_lazy("社区中心"), AreaLevel.STREET: gettext_lazy("街道中心"),
                AreaLevel.DISTRICT: gettext_lazy("区级中心")}

# --- Opening hours --------------------------------------------------------------------------------

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOLIDAY = "holiday"
HOURS_KEYS = (*DAY_KEYS, HOLIDAY)
HOURS_LABELS = {**dict(zip(DAY_KEYS, workdays.WEEKDAY_NAMES, strict=True)), HOLIDAY: gettext_lazy("法定节假日")}
MAX_INTERVALS = 2
_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

# The periods of a day the rota covers, as [start, end) on the clock (None: midnight, the day's end).
PERIOD_WINDOWS: dict[str, tuple[dt.time, dt.time | None]] = {
    DutyPeriod.MORNING: (dt.time(0, 0), dt.time(12, 0)),
    DutyPeriod.AFTERNOON: (dt.time(12, 0), dt.time(18, 0)),
    DutyPeriod.EVENING: (dt.time(18, 0), None),
}
PERIODS = tuple(PERIOD_WINDOWS)
# Staff who may be put on a centre's rota (the area roles; a department or unit is not the centre's staff).
DUTY_ROLES = (Role.DISTRICT_ADMIN, Role.STREET_HUB, Role.COMMUNITY_STAFF, Role.GRID_WORKER)


def parse_hhmm(value) -> dt.time | None:
    """"08:30" (or "8:30") → time(8, 30); None when it is not a time of day."""
    match = _HHMM.match(str(value or ""))
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def hhmm(value: dt.time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_opening_hours(raw) -> dict[str, list[list[str]]]:
    """Check and normalise opening hours: every key of HOURS_KEYS with its intervals sorted, as
    [["08:30", "12:00"], …].  Every problem is reported at once (ValidationError with a list of
    messages naming the day and the interval)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError(_("开放时间格式不对。"))
    unknown = sorted(str(key) for key in raw if key not in HOURS_KEYS)
    if unknown:
        raise ValidationError(_("开放时间中有无法识别的日子：%(keys)s。") % {"keys": pgettext("列表分隔", "、").join(unknown)})
    errors: list[str] = []
    out: dict[str, list[list[str]]] = {}
    for key in HOURS_KEYS:
        day = str(HOURS_LABELS[key])
        intervals = raw.get(key) or []
        if not isinstance(intervals, list | tuple):
            errors.append(_("%(day)s的开放时间格式不对。") % {"day": day})
            continue
        if len(intervals) > MAX_INTERVALS:
            errors.append(_("%(day)s最多填写两段开放时间。") % {"day": day})
            continue
        parsed: list[tuple[dt.time, dt.time]] = []
        for number, pair in enumerate(intervals, start=1):
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                errors.append(_("%(day)s第 %(n)d 段应有开始时间和结束时间。") % {"day": day, "n": number})
                continue
            start, end = parse_hhmm(pair[0]), parse_hhmm(pair[1])
            bad = False
            for value, parsed_value, which in ((pair[0], start, _("开始时间")), (pair[1], end, _("结束时间"))):
                if parsed_value is None:
                    bad = True
                    errors.append(_("%(day)s第 %(n)d 段的%(which)s“%(value)s”格式不对，应为 HH:MM，如 08:30。")
                                  % {"day": day, "n": number, "which": which, "value": value})
            if bad:
                continue
            if start >= end:
                errors.append(_("%(day)s第 %(n)d 段的开始时间 %(start)s 应早于结束时间 %(end)s。")
                              % {"day": day, "n": number, "start": hhmm(start), "end": hhmm(end)})
                continue
            parsed.append((start, end))
        parsed.sort()
        for first, second in zip(parsed, parsed[1:], strict=False):
            if second[0] < first[1]:
                errors.append(_("%(day)s的两段开放时间 %(a)s 与 %(b)s 重叠。") % {
                    "day": day, "a": f"{hhmm(first[0])}–{hhmm(first[1])}", "b": f"{hhmm(second[0])}–{hhmm(second[1])}"})
        out[key] = [[hhmm(s), hhmm(e)] for s, e in parsed]
    if errors:
        raise ValidationError(errors)
    return out


def _stored_intervals(hours: dict | None, key: str) -> list[tuple[dt.time, dt.time]]:
    """The intervals stored under `key`, skipping anything unreadable (data entered elsewhere)."""
    out = []
    for pair in (hours or {}).get(key) or []:
        if isinstance(pair, list | tuple) and len(pair) == 2:
            start, end = parse_hhmm(pair[0]), parse_hhmm(pair[1])
            if start is not None and end is not None and start < end:
                out.append((start, end))
    return sorted(out)


def intervals_text(intervals) -> str:
    """"08:30–12:00、13:30–20:00", or "不开放"."""
    if not intervals:
        return _("不开放")
    return pgettext("列表分隔", "、").join(f"{hhmm(s)}–{hhmm(e)}" for s, e in intervals)


def weekly_hours(centre: Centre) -> list[dict]:
    """The centre's hours as entered, one row per weekday and the holidays (for display)."""
    return [{"key": key, "label": HOURS_LABELS[key], "text": intervals_text(_stored_intervals(centre.opening_hours, key))}
            for key in HOURS_KEYS]


@dataclass(frozen=True)
class DayKind:
    holiday: bool
    name: str  # the holiday's name from the calendar ("" if none)
    provisional: bool


def day_kind(day: dt.date) -> DayKind:
    """Whether `day` takes the "holiday" hours: a rest day on a weekday, or a day the calendar names as a
    holiday (the fallback's fixed holidays name their weekend days too)."""
    info = workdays.is_workday(day)
    holiday = not info.workday and (bool(info.name) or day.weekday() < 5)
    return DayKind(holiday=holiday, name=info.name if holiday else "", provisional=info.provisional)


def opening_intervals(centre: Centre, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """When the centre is open on `day`: the "holiday" hours on the calendar's public holidays,
    otherwise that weekday's hours; [] when closed."""
    key = HOLIDAY if day_kind(day).holiday else DAY_KEYS[day.weekday()]
    return _stored_intervals(centre.opening_hours, key)


def open_periods(intervals) -> list[str]:
    """The rota periods the opening intervals touch (上午 before 12:00, 下午 12:00–18:00, 晚间 after 18:00)."""
    found = []
    for period, (window_start, window_end) in PERIOD_WINDOWS.items():
        if any(start < (window_end or dt.time.max) and end > window_start for start, end in intervals):
            found.append(period)
    return found


def day_label(day: dt.date, holiday_name: str = "") -> str:
    """"11月28日（周六）", with the holiday's name on a holiday: "10月1日（周三·国庆节）"."""
    weekday = str(workdays.WEEKDAY_NAMES[day.weekday()])
    inner = f"{weekday}·{holiday_name}" if holiday_name else weekday
    return _("%(month)d月%(day)d日（%(inner)s）") % {"month": day.month, "day": day.day, "inner": inner}


@dataclass(frozen=True)
class OpeningDay:
    day: dt.date
    label: str
    holiday: bool
    holiday_name: str
    provisional: bool
    intervals: list
    text: str
    periods: list


def opening_days(centre: Centre, first: dt.date, last: dt.date) -> list[OpeningDay]:
    """The centre's opening hours day by day in [first, last], holidays marked."""
    out = []
    day = first
    while day <= last:
        kind = day_kind(day)
        key = HOLIDAY if kind.holiday else DAY_KEYS[day.weekday()]
        intervals = _stored_intervals(centre.opening_hours, key)
        out.append(OpeningDay(day, day_label(day, kind.name), kind.holiday, kind.name, kind.provisional, intervals,
                              intervals_text(intervals), open_periods(intervals)))
        day += dt.timedelta(days=1)
    return out


# --- Who reaches what ----------------------------------------------------------------------------

def _under(prefixes, field: str) -> Q:
    parts = [Q(**{f"{field}__startswith": p}) for p in prefixes]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def area_prefixes(user, permission: str) -> tuple[str, ...]:
    """Area code prefixes where `user` holds `permission` through an area role."""
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))


def centres_for(user):
    """The centres `user` may read ("centers.view": district, street, community staff of the area)."""
    return Centre.objects.unscoped().filter(_under(area_prefixes(user, "centers.view"), "area__code"))


def manageable_areas(user):
    """Active districts, streets and communities where `user` may keep a centre ("centers.manage")."""
    return Area.objects.unscoped().filter(_under(area_prefixes(user, "centers.manage"), "code"),
                                          level__in=CENTRE_LEVELS, is_active=True).order_by("code")


def duty_staff(centre: Centre):
    """Users who may be put on the centre's rota: active users with an active staff grant within the
    centre's area (its community and grids, or a street's communities), or on the street above a
    community centre."""
    code = centre.area.code
    street_len = CODE_LENGTH[AreaLevel.STREET]
    above = [code[:street_len]] if len(code) > street_len else []
    grants = Grant.objects.filter(Q(area__code__startswith=code) | Q(area__code__in=above), active=True,
                                  role__in=DUTY_ROLES)
    return User.objects.filter(pk__in=grants.values("user_id"), is_active=True).order_by("full_name", "username")


# --- Centres -------------------------------------------------------------------------------------

def _text(value, *, label: str, limit: int, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(_("请填写%(label)s。") % {"label": label})
    if len(text) > limit:
        raise ValidationError(_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": limit})
    return text


def _area_value(value, *, label: str, maximum: Decimal) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError(_("%(label)s应为数字。") % {"label": label}) from None
    if not amount.is_finite():
        raise ValidationError(_("%(label)s应为数字。") % {"label": label})
    if amount <= 0:
        raise ValidationError(_("%(label)s必须大于零。") % {"label": label})
    if amount != amount.quantize(CENT):
        raise ValidationError(_("%(label)s最多保留两位小数。") % {"label": label})
    if amount > maximum:
        raise ValidationError(_("%(label)s不能超过 %(max)s 平方米。") % {"label": label, "max": num(maximum)})
    return amount.quantize(CENT)


def _rooms_total(centre: Centre, *, excluding: int | None = None) -> Decimal:
    rows = Room.objects.unscoped().filter(centre=centre, is_active=True)
    if excluding is not None:
        rows = rows.exclude(pk=excluding)
    return sum((r for r in rows.values_list("floor_area", flat=True)), Decimal("0"))


CENTRE_FIELDS = ["area", "name", "address", "phone", "floor_area", "opening_hours", "description"]


@transaction.atomic
def centre_save(*, actor, area: Area, name: str, address: str, floor_area, opening_hours: dict, phone: str = "",
                description: str = "", centre: Centre | None = None) -> Centre:
    """Create a centre on `area` (a district, street or community), or change `centre`.

    The caller needs "centers.manage" on the area (and, when moving a centre, on its old area).  The
    floor area is never smaller than the rooms' total; opening hours are checked by
    parse_opening_hours."""
    ensure_can(actor, "centers.manage", area.code)
    if centre is not None:
        centre = Centre.objects.unscoped().select_for_update().select_related("area").get(pk=centre.pk)
        ensure_can(actor, "centers.manage", centre.area.code)
    if area.level not in CENTRE_LEVELS:
        raise ValidationError(_("服务中心只能设在区、街道或社区。"))
    if not area.is_active:
        raise ValidationError(_("%(area)s已停用，不能设立服务中心。") % {"area": area.name})
    name = _text(name, label=_("中心名称"), limit=NAME_MAX, required=True)
    address = _text(address, label=_("地址"), limit=ADDRESS_MAX, required=True)
    phone = _text(phone, label=_("服务电话"), limit=PHONE_MAX, required=False)
    description = _text(description, label=_("简介"), limit=DESCRIPTION_MAX, required=False)
    floor_area = _area_value(floor_area, label=_("建筑面积"), maximum=CENTRE_AREA_MAX)
    hours = parse_opening_hours(opening_hours)
    same_name = Centre.objects.unscoped().filter(area=area, name=name)
    if centre is not None:
        same_name = same_name.exclude(pk=centre.pk)
        rooms = _rooms_total(centre)
        if floor_area < rooms:
            raise ValidationError(_("各功能室面积合计 %(rooms)s 平方米，建筑面积不能小于它。") % {"rooms": num(rooms)})
    if same_name.exists():
        raise ValidationError(_("%(area)s已有名为“%(name)s”的服务中心。") % {"area": area.name, "name": name})
    values = {"area": area, "name": name, "address": address, "phone": phone, "floor_area": floor_area,
              "opening_hours": hours, "description": description}
    before = audit.snapshot(centre, CENTRE_FIELDS) if centre is not None else None
    if centre is None:
        centre = Centre(**values)
    else:
        for field, value in values.items():
            setattr(centre, field, value)
    try:
        with transaction.atomic():
            if before is None:
                centre.save(force_insert=True)
            else:
                centre.save(update_fields=list(values))
    except IntegrityError:
        raise ValidationError(_("%(area)s已有名为“%(name)s”的服务中心。") % {"area": area.name, "name": name}) from None
    audit.record(actor=actor, action="centers.centre.created" if before is None else "centers.centre.updated",
                 obj=centre, before=before, after=audit.snapshot(centre, CENTRE_FIELDS))
    return centre


# --- Rooms ---------------------------------------------------------------------------------------

ROOM_FIELDS = ["centre", "name", "floor_area", "capacity", "equipment", "for_residents", "bookable", "needs_approval"]


@transaction.atomic
def room_save(*, actor, centre: Centre, name: str, floor_area, capacity, equipment: str = "",
              for_residents: bool = True, bookable: bool = True, needs_approval: bool = True,
              room: Room | None = None) -> Room:
    """Add a room to `centre`, or change `room` (of that centre).  The rooms' total floor area may not
    exceed the centre's."""
    ensure_can(actor, "centers.manage", centre.area.code)
    centre = Centre.objects.unscoped().select_for_update().select_related("area").get(pk=centre.pk)
    if room is not None:
        room = Room.objects.unscoped().select_for_update().get(pk=room.pk)
        if room.centre_id != centre.pk:
            raise ValidationError(_("该功能室不属于这个服务中心。"))
    name = _text(name, label=_("功能室名称"), limit=ROOM_NAME_MAX, required=True)
    equipment = _text(equipment, label=_("设备"), limit=EQUIPMENT_MAX, required=False)
    floor_area = _area_value(floor_area, label=_("功能室面积"), maximum=ROOM_AREA_MAX)
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        raise ValidationError(_("容纳人数应为整数。")) from None
    if not 1 <= capacity <= CAPACITY_MAX:
        raise ValidationError(_("容纳人数应为 1 到 %(max)d 人。") % {"max": CAPACITY_MAX})
    total = _rooms_total(centre, excluding=room.pk if room is not None else None) + floor_area
    if total > centre.floor_area:
        raise ValidationError(_("各功能室面积合计 %(total)s 平方米，超过了中心建筑面积 %(floor)s 平方米。")
                              % {"total": num(total), "floor": num(centre.floor_area)})
    same_name = Room.objects.unscoped().filter(centre=centre, name=name)
    if room is not None:
        same_name = same_name.exclude(pk=room.pk)
    if same_name.exists():
        raise ValidationError(_("%(centre)s已有名为“%(name)s”的功能室。") % {"centre": centre.name, "name": name})
    values = {"name": name, "floor_area": floor_area, "capacity": capacity, "equipment": equipment,
              "for_residents": bool(for_residents), "bookable": bool(bookable), "needs_approval": bool(needs_approval)}
    before = audit.snapshot(room, ROOM_FIELDS) if room is not None else None
    if room is None:
        room = Room(centre=centre, **values)
    else:
        for field, value in values.items():
            setattr(room, field, value)
    try:
        with transaction.atomic():
            if before is None:
                room.save(force_insert=True)
            else:
                room.save(update_fields=list(values))
    except IntegrityError:
        raise ValidationError(_("%(centre)s已有名为“%(name)s”的功能室。") % {"centre": centre.name, "name": name}) from None
    audit.record(actor=actor, action="centers.room.created" if before is None else "centers.room.updated",
                 obj=room, before=before, after=audit.snapshot(room, ROOM_FIELDS))
    return room


# --- Service catalogue ---------------------------------------------------------------------------

SERVICE_FIELDS = ["centre", "name", "description", "hours", "order"]


@transaction.atomic
def service_item_save(*, actor, centre: Centre, name: str, description: str = "", hours: str = "", order: int = 0,
                      item: ServiceItem | None = None) -> ServiceItem:
    """Add an entry to the centre's service catalogue (服务清单), or change `item` (of that centre)."""
    ensure_can(actor, "centers.manage", centre.area.code)
    if item is not None:
        item = ServiceItem.objects.select_for_update().get(pk=item.pk)
        if item.centre_id != centre.pk:
            raise ValidationError(_("该服务事项不属于这个服务中心。"))
    name = _text(name, label=_("服务事项"), limit=SERVICE_NAME_MAX, required=True)
    description = _text(description, label=_("说明"), limit=SERVICE_DESCRIPTION_MAX, required=False)
    hours = _text(hours, label=_("办理时间"), limit=SERVICE_HOURS_MAX, required=False)
    try:
        order = int(order or 0)
    except (TypeError, ValueError):
        raise ValidationError(_("排序应为整数。")) from None
    if not 0 <= order <= SERVICE_ORDER_MAX:
        raise ValidationError(_("排序应为 0 到 %(max)d。") % {"max": SERVICE_ORDER_MAX})
    values = {"name": name, "description": description, "hours": hours, "order": order}
    before = audit.snapshot(item, SERVICE_FIELDS) if item is not None else None
    if item is None:
        item = ServiceItem.objects.create(centre=centre, **values)
    else:
        for field, value in values.items():
            setattr(item, field, value)
        item.save(update_fields=list(values))
    audit.record(actor=actor, action="centers.service.created" if before is None else "centers.service.updated",
                 obj=item, before=before, after=audit.snapshot(item, SERVICE_FIELDS))
    return item


@transaction.atomic
def service_item_delete(*, actor, item: ServiceItem) -> None:
    """Take an entry off the centre's service catalogue."""
    centre = Centre.objects.unscoped().select_related("area").get(pk=item.centre_id)
    ensure_can(actor, "centers.manage", centre.area.code)
    before = audit.snapshot(item, SERVICE_FIELDS)
    deleted, _rows = ServiceItem.objects.filter(pk=item.pk).delete()
    if not deleted:
        raise ValidationError(_("该服务事项已被删除。"))
    audit.record(actor=actor, action="centers.service.deleted", object_type="centers.serviceitem",
                 object_id=item.pk, object_repr=f"{centre} {item.name}", before=before)


# --- Figures -------------------------------------------------------------------------------------

def num(value) -> str:
    """A figure as people write it: "2,300", "420.5" (two places at most, no trailing zeros)."""
    text = format(Decimal(value).quantize(CENT), ",f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- Standards check -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One item of the standards check: the rule it applies, whether the centre meets it (None: it
    cannot be told), the figures it was decided on, and the whole sentence to show."""

    rule: str  # the item of "centers.standards": area_per_100_households, resident_share_percent, minimum_area_…
    rule_label: str  # 党群服务中心建设标准
    label: str  # the item's label in the policy store
    ok: bool | None
    figures: str
    message: str


@dataclass(frozen=True)
class Households:
    total: int | None  # None: unknown
    communities: int = 0  # communities summed (a street or district with no own figure)
    missing: int = 0  # of those, how many have no figure


def _city_codes(areas) -> dict[str, Area | None]:
    """The city-level Area of each area code (policy rules are per city), in one query."""
    city_len = CODE_LENGTH[AreaLevel.CITY]
    prefixes = {a.code[:city_len] for a in areas}
    cities = {c.code: c for c in Area.objects.unscoped().filter(code__in=prefixes, level=AreaLevel.CITY)}
    return {a.code: cities.get(a.code[:city_len]) for a in areas}


def households_many(areas) -> dict[str, Households]:
    """Households of each area: its own figure, or for a street or district without one the sum of its
    active communities' (unknown when any of them has none), in at most one query."""
    out: dict[str, Households] = {}
    summed = []
    for area in areas:
        if area.households is not None:
            out[area.code] = Households(area.households)
        elif area.level == AreaLevel.COMMUNITY:
            out[area.code] = Households(None)
        else:
            summed.append(area)
    if summed:
        rows = Area.objects.unscoped().filter(_under([a.code for a in summed], "code"), level=AreaLevel.COMMUNITY,
                                              is_active=True).values_list("code", "households")
        totals: dict[str, list[int]] = {a.code: [0, 0, 0] for a in summed}  # total, communities, missing
        for code, households in rows:
            for area in summed:
                if code.startswith(area.code):
                    entry = totals[area.code]
                    entry[1] += 1
                    if households is None:
                        entry[2] += 1
                    else:
                        entry[0] += households
        for code, (total, count, missing) in totals.items():
            known = count > 0 and missing == 0
            out[code] = Households(total if known else None, count, missing)
    return out


def households_of(area: Area) -> Households:
    return households_many([area])[area.code]


def _resident_area(centre: Centre) -> Decimal:
    cache = getattr(centre, "_prefetched_objects_cache", {})
    if "rooms" in cache:
        rooms = [r for r in cache["rooms"] if r.is_active]
    else:
        rooms = list(Room.objects.unscoped().filter(centre=centre, is_active=True))
    return sum((r.floor_area for r in rooms if r.for_residents), Decimal("0"))


def _findings(centre: Centre, rule: dict, households: Households) -> list[Finding]:
    spec = policy.definition(STANDARDS_KEY)
    rule_label = str(spec.label)
    floor = Decimal(centre.floor_area)
    findings = []

    def add(key, ok, figures):
        label = spec.item_label(key)
        if ok is None:
            verdict = _("无法判断")
        elif ok:
            verdict = _("达标")
        else:
            verdict = _("不达标")
        message = _("%(rule)s“%(item)s”：%(figures)s。%(verdict)s。") % {
            "rule": rule_label, "item": label, "figures": figures, "verdict": verdict}
        findings.append(Finding(key, rule_label, label, ok, figures, message))

    # (1) Floor area per 100 households: the norm for community service facilities (社区综合服务
    #设施每百户不低于 30 平方米); a street or district centre serves many communities that each have
    # their own, and is held to its level's minimum area below instead.
    per100 = Decimal(str(rule["area_per_100_households"]))
    if centre.area.level != AreaLevel.COMMUNITY:
        pass
    elif households.total is None:
        if households.communities:
            who = _("%(area)s下 %(n)d 个社区中有 %(missing)d 个未登记户数") % {
                "area": centre.area.name, "n": households.communities, "missing": households.missing}
        else:
            who = _("%(area)s未登记户数") % {"area": centre.area.name}
        figures = _("户数未知（%(who)s），无法按每百户 %(per100)s 平方米核对建筑面积 %(floor)s 平方米") % {
            "who": who, "per100": num(per100), "floor": num(floor)}
        add("area_per_100_households", None, figures)
    else:
        required = per100 * households.total / 100
        ok = floor * 100 >= per100 * households.total
        figures = _("建筑面积 %(floor)s 平方米，按 %(households)s 户每百户 %(per100)s 平方米应不少于 %(required)s 平方米") % {
            "floor": num(floor), "households": f"{households.total:,}", "per100": num(per100),
            "required": num(required.quantize(CENT))}
        if not ok:
            figures += _("，尚差 %(short)s 平方米") % {"short": num((required - floor).quantize(CENT))}
        add("area_per_100_households", ok, figures)

    # (2) Share of the floor for residents' activities.
    percent = Decimal(str(rule["resident_share_percent"]))
    resident = _resident_area(centre)
    share = (resident * 100 / floor).quantize(Decimal("0.1"), rounding=ROUND_DOWN) if floor else Decimal("0")
    ok = resident * 100 >= percent * floor
    figures = _("居民活动用房 %(resident)s 平方米，占建筑面积 %(floor)s 平方米的 %(share)s%%，应不低于 %(percent)s%%"
                "（%(needed)s 平方米）") % {"resident": num(resident), "floor": num(floor), "share": share,
                                          "percent": num(percent), "needed": num((percent * floor / 100).quantize(CENT))}
    add("resident_share_percent", ok, figures)

    # (3) The minimum for the centre's level.
    level = centre.area.level if centre.area.level in CENTRE_LEVELS else AreaLevel.COMMUNITY
    key = f"minimum_area_{level}"
    minimum = Decimal(str(rule[key]))
    ok = floor >= minimum
    figures = _("建筑面积 %(floor)s 平方米，%(level)s应不少于 %(minimum)s 平方米") % {
        "floor": num(floor), "level": LEVEL_LABELS[level], "minimum": num(minimum)}
    if not ok:
        figures += _("，尚差 %(short)s 平方米") % {"short": num(minimum - floor)}
    add(key, ok, figures)
    return findings


def standards_check_many(centres, on: dt.date | None = None) -> dict[int, list[Finding]]:
    """standards_check for several centres with a fixed number of queries (prefetch `rooms` and
    select `area` to avoid one per centre)."""
    centres = list(centres)
    on = on or timezone.localdate()
    areas = {c.area.code: c.area for c in centres}
    households = households_many(list(areas.values()))
    cities = _city_codes(list(areas.values()))
    return {c.pk: _findings(c, policy.get(STANDARDS_KEY, city=cities[c.area.code], on=on), households[c.area.code])
            for c in centres}


def standards_check(centre: Centre, on: dt.date | None = None) -> list[Finding]:
    """The centre against "centers.standards" of its city on `on` (default today): area per 100
    households, residents' share of the floor, the minimum for its level."""
    return standards_check_many([centre], on)[centre.pk]


def standards_summary(findings: list[Finding]) -> dict:
    """For a badge: {"state": "ok" | "failed" | "unknown", "failed": n, "unknown": n}."""
    failed = sum(1 for f in findings if f.ok is False)
    unknown = sum(1 for f in findings if f.ok is None)
    state = "failed" if failed else ("unknown" if unknown else "ok")
    return {"state": state, "failed": failed, "unknown": unknown}


# --- Rota ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RotaWarning:
    day: dt.date
    period: str
    kind: str  # "gap" (nobody), "short" (fewer than the minimum), "no_backup" (no B post), "no_main" (no A post)
    message: str


def period_label(period: str) -> str:
    return str(DutyPeriod(period).label)


def _rota_findings(centre: Centre, first: dt.date, last: dt.date, shifts: dict, city) -> list[RotaWarning]:
    out: list[RotaWarning] = []
    for opening in opening_days(centre, first, last):
        if not opening.periods:
            continue
        rule = policy.get(ROTA_KEY, city=city, on=opening.day)
        minimum, backup = int(rule["minimum_staff"]), bool(rule["require_backup"])
        for period in opening.periods:
            roles = shifts.get((opening.day, period), [])
            names = {"day": opening.label, "period": period_label(period), "n": minimum, "count": len(roles)}
            if not roles:
                out.append(RotaWarning(opening.day, period, "gap",
                                       _("%(day)s%(period)s无人值班，至少 %(n)d 人") % names))
                continue
            if len(roles) < minimum:
                out.append(RotaWarning(opening.day, period, "short",
                                       _("%(day)s%(period)s只有 %(count)d 人值班，至少 %(n)d 人") % names))
            if DutyRole.A not in roles:
                out.append(RotaWarning(opening.day, period, "no_main",
                                       _("%(day)s%(period)s没有 A 岗（主岗）") % names))
            if backup and DutyRole.B not in roles:
                out.append(RotaWarning(opening.day, period, "no_backup",
                                       _("%(day)s%(period)s没有 B 岗（备岗）") % names))
    return out


def rota_check_many(centres, first: dt.date, last: dt.date) -> dict[int, list[RotaWarning]]:
    """rota_check for several centres with a fixed number of queries (select `area`)."""
    centres = list(centres)
    by_centre: dict[int, dict] = defaultdict(lambda: defaultdict(list))
    for centre_id, day, period, role in DutyShift.objects.unscoped().filter(
            centre__in=[c.pk for c in centres], day__range=(first, last)).values_list("centre_id", "day", "period",
                                                                                      "role"):
        by_centre[centre_id][(day, period)].append(role)
    cities = _city_codes([c.area for c in centres])
    return {c.pk: _rota_findings(c, first, last, by_centre[c.pk], cities[c.area.code]) for c in centres}


def rota_check(centre: Centre, first_day: dt.date, last_day: dt.date) -> list[RotaWarning]:
    """Every open period in [first_day, last_day] against "centers.rota": nobody on duty (a gap), fewer
    than minimum_staff, no A post, no B post when require_backup."""
    return rota_check_many([centre], first_day, last_day)[centre.pk]


def rota_warnings(centre: Centre, first_day: dt.date, last_day: dt.date) -> list[str]:
    """The rota check's warnings as sentences, e.g. "11月28日（周六）晚间只有 1 人值班，至少 2 人"."""
    return [w.message for w in rota_check(centre, first_day, last_day)]


SHIFT_FIELDS = ["centre", "day", "period", "worker", "role"]


def _editable_day(day: dt.date) -> None:
    today = timezone.localdate()
    if day < today:
        raise ValidationError(_("%(day)s已经过去，值班记录不能再改。") % {"day": day_label(day)})
    if day > today + dt.timedelta(days=ROTA_DAYS_AHEAD):
        raise ValidationError(_("最多提前一年排班。"))


@transaction.atomic
def rota_assign(*, actor, centre: Centre, day: dt.date, period: str, worker, role: str) -> DutyShift:
    """Put `worker` on duty at `centre` in one period of `day`, on the A or B post; a worker already on
    duty in that period is moved to the other post.  Only open periods, today or later, and staff of
    the centre's area (duty_staff)."""
    ensure_can(actor, "centers.manage", centre.area.code)
    centre = Centre.objects.unscoped().select_related("area").get(pk=centre.pk)
    if not centre.is_active:
        raise ValidationError(_("该服务中心已停用，不能排班。"))
    if period not in DutyPeriod.values:
        raise ValidationError(_("请选择上午、下午或晚间。"))
    if role not in DutyRole.values:
        raise ValidationError(_("请选择 A 岗或 B 岗。"))
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError(_("请选择日期。"))
    _editable_day(day)
    if worker is None:
        raise ValidationError(_("请选择值班人员。"))
    names = {"day": day_label(day, day_kind(day).name), "period": period_label(period), "name": worker.display_name}
    if not duty_staff(centre).filter(pk=worker.pk).exists():
        raise ValidationError(_("%(name)s不是本中心所在社区或街道的工作人员，不能排班。") % names)
    if period not in open_periods(opening_intervals(centre, day)):
        raise ValidationError(_("%(day)s%(period)s中心不开放，无需排班。") % names)
    current = DutyShift.objects.unscoped().select_for_update().filter(
        centre=centre, day=day, period=period, worker=worker).first()
    if current is not None:
        if current.role == role:
            raise ValidationError(_("%(name)s已在%(day)s%(period)s值班（%(role)s）。")
                                  % {**names, "role": current.get_role_display()})
        before = audit.snapshot(current, SHIFT_FIELDS)
        current.role = role
        current.save(update_fields=["role"])
        audit.record(actor=actor, action="centers.rota.changed", obj=current, before=before,
                     after=audit.snapshot(current, SHIFT_FIELDS))
        return current
    shift = DutyShift(centre=centre, day=day, period=period, worker=worker, role=role)
    try:
        with transaction.atomic():
            shift.save(force_insert=True)
    except IntegrityError:  # the same person put on the same period at the same moment by someone else
        raise ValidationError(_("%(name)s已在%(day)s%(period)s值班。") % names) from None
    audit.record(actor=actor, action="centers.rota.assigned", obj=shift, after=audit.snapshot(shift, SHIFT_FIELDS))
    return shift


@transaction.atomic
def rota_remove(*, actor, shift: DutyShift) -> None:
    """Take someone off the rota (today or later)."""
    centre = Centre.objects.unscoped().select_related("area").get(pk=shift.centre_id)
    ensure_can(actor, "centers.manage", centre.area.code)
    _editable_day(shift.day)
    before = audit.snapshot(shift, SHIFT_FIELDS)
    deleted, _rows = DutyShift.objects.unscoped().filter(pk=shift.pk).delete()
    if not deleted:
        raise ValidationError(_("这条值班安排已被删除。"))
    audit.record(actor=actor, action="centers.rota.removed", object_type="centers.dutyshift", object_id=shift.pk,
                 object_repr=str(shift), before=before)
