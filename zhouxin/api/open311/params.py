"""Reading what an Open311 client sent.  Anything wrong raises Open311Error, which the views
answer with the spec's error array (code = the HTTP status, description = what to fix, in
the request's language); nothing a client can send reaches the database unchecked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from zhouxin.orgs.services import clean_coordinate

# Longest value of any parameter we read (ids, codes, names, URLs); free text has its own limit.
PARAM_MAX = 500
# GeoReport v2: "description … limited to 4,000 characters".
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 200  # ServiceRequest.address
NAME_PART_MAX = 32  # first_name, last_name (together ServiceRequest.contact_name, 64)
ID_PARAM_MAX = 100  # device_id, account_id
MEDIA_URL_MAX = 500
API_KEY_MAX = 200
LIST_PARAM_MAX = 20_000  # a comma-separated list (service_request_id, service_code, status)
# GeoReport v2, GET requests: the default window and its longest allowed span.
DEFAULT_DAYS = 90
# Years a date may name (beyond them a datetime cannot even be converted to UTC and back).
YEARS = (1900, 2999)

# Control characters other than tab, line feed and carriage return (PostgreSQL refuses NUL,
# XML 1.0 cannot carry most of them): refused, never stored.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_AREA_CODE = re.compile(r"^[0-9]{2,15}$")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


class Open311Error(Exception):
    """An answer in the spec's error shape: HTTP `status` with one {code, description} per problem."""

    def __init__(self, status: int, *descriptions: str, retry_after: int | None = None):
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = [str(d) for d in descriptions] or [""]
        self.retry_after = retry_after

    def payload(self) -> list[dict]:
        return [{"code": self.status, "description": d} for d in self.descriptions]


def problem(param: str, message: str) -> str:
    """"phone：联系电话应为……": which parameter, and what is wrong with it."""
    return _("%(param)s：%(message)s") % {"param": param, "message": message}


def text(params, name: str, *, max_length: int = PARAM_MAX, multiline: bool = False,
         errors: list[str]) -> str:
    """A parameter as clean text ("" when absent); a problem goes to `errors`."""
    raw = params.get(name)
    if raw is None:
        return ""
    if len(raw) > max(max_length * 4, PARAM_MAX):  # do not even tidy a megabyte up
        errors.append(problem(name, _("不能超过 %(n)d 个字。") % {"n": max_length}))
        return ""
    value = raw.strip() if multiline else " ".join(raw.split())
    if _CONTROL.search(value):
        errors.append(problem(name, _("含有不允许的控制字符。")))
        return ""
    if len(value) > max_length:
        errors.append(problem(name, _("不能超过 %(n)d 个字。") % {"n": max_length}))
        return ""
    return value


def printable_id(value: str, max_length: int) -> bool:
    """Whether an id from the URL or a list can be looked up at all (no control characters)."""
    return 0 < len(value) <= max_length and value.isprintable()


def api_key(request) -> str:
    """The api_key of a call: a form field of the POST, or a query parameter."""
    value = request.POST.get("api_key") if request.method == "POST" else None
    return (value or request.GET.get("api_key") or "").strip()


def jurisdiction_id(params) -> str:
    value = (params.get("jurisdiction_id") or "").strip()
    if len(value) > PARAM_MAX:
        raise Open311Error(404, _("未找到该 jurisdiction_id。"))
    return value


def comma_list(params, name: str, *, max_items: int) -> list[str]:
    """A comma-separated parameter (several values of the same argument), without blanks or repeats."""
    raw = params.get(name) or ""
    if len(raw) > LIST_PARAM_MAX:
        raise Open311Error(400, problem(name, _("值过长。")))
    if _CONTROL.search(raw):
        raise Open311Error(400, problem(name, _("含有不允许的控制字符。")))
    items = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if len(items) > max_items:
        raise Open311Error(400, problem(name, _("一次最多 %(n)d 个值。") % {"n": max_items}))
    return items


def w3_datetime(params, name: str, *, end: bool = False) -> dt.datetime | None:
    """A W3C datetime (2026-05-01T08:00:00+08:00, …Z, or a date alone: its start, or for an end
    its last moment); a time without offset is Beijing time."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    moment = None
    if len(raw) <= 40:
        try:
            day = parse_date(raw) if len(raw) == 10 else None
            if day is not None:
                moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            else:
                moment = parse_datetime(raw)
            if moment is not None and timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        except (ValueError, OverflowError):
            moment = None
    if moment is None:
        raise Open311Error(400, problem(name, _(
            "时间格式应为 W3C 日期时间，例如 2026-05-01T08:00:00+08:00 或 2026-05-01。")))
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise Open311Error(400, problem(name, _("日期超出范围。")))
    return moment


def date_window(params, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """start_date/end_date of GET requests: by default the last 90 days; a range given may not
    span more than 90 days (GeoReport v2)."""
    start = w3_datetime(params, "start_date")
    end = w3_datetime(params, "end_date", end=True)
    span = dt.timedelta(days=DEFAULT_DAYS)
    try:
        if start is None and end is None:
            start, end = now - span, now
        elif end is None:
            end = start + span
        elif start is None:
            start = end - span
    except OverflowError:
        raise Open311Error(400, problem("start_date", _("日期超出范围。"))) from None
    if end < start:
        raise Open311Error(400, problem("end_date", _("结束时间不能早于开始时间。")))
    if end - start > span:
        raise Open311Error(400, problem("end_date", _("查询时间范围不能超过 %(n)d 天。") % {"n": DEFAULT_DAYS}))
    return start, end


@dataclass
class Location:
    latitude: object = None  # Decimal or None
    longitude: object = None
    address: str = ""
    address_id: str = ""

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


def location(params, errors: list[str]) -> Location:
    """lat + long (WGS84), address_string or address_id: at least one of them (GeoReport v2)."""
    loc = Location()
    raw_lat, raw_long = (params.get("lat") or "").strip(), (params.get("long") or "").strip()
    if len(raw_lat) > 64 or len(raw_long) > 64:
        errors.append(problem("lat/long", _("坐标必须是 WGS84 经纬度数字。")))
    elif raw_lat or raw_long:
        if not (raw_lat and raw_long):
            errors.append(problem("lat/long", _("lat 和 long 须同时提供。")))
        else:
            found: dict[str, list] = {}
            loc.latitude = clean_coordinate(raw_lat, field="lat", label="lat", limit=90, errors=found)
            loc.longitude = clean_coordinate(raw_long, field="long", label="long", limit=180, errors=found)
            for name in ("lat", "long"):
                for _message in found.get(name, []):
                    limit = 90 if name == "lat" else 180
                    errors.append(problem(name, _("应为 -%(n)d 到 %(n)d 之间的 WGS84 十进制度数。") % {"n": limit}))
    loc.address = text(params, "address_string", max_length=ADDRESS_MAX, errors=errors)
    loc.address_id = text(params, "address_id", max_length=15, errors=errors)
    if loc.address_id and not _AREA_CODE.match(loc.address_id):
        errors.append(problem("address_id", _("应为社区或网格的区划代码（12 或 15 位数字）。")))
        loc.address_id = ""
    if not (raw_lat or raw_long or loc.address or loc.address_id or params.get("address_string")
            or params.get("address_id")):
        errors.append(_("请提供诉求发生的位置：lat 和 long、address_string 或 address_id 至少一项。"))
    return loc


def attributes(params) -> dict[str, list[str]]:
    """attribute[CODE]=value (and attribute[CODE][]=… for a multi-value list), by code."""
    found: dict[str, list[str]] = {}
    for name in params:
        match = _ATTRIBUTE.match(name)
        if match is None:
            if name.startswith("attribute["):
                raise Open311Error(400, problem(name[:80], _("属性参数应写作 attribute[代码]。")))
            continue
        found.setdefault(match.group(1), []).extend(params.getlist(name))
    return found


@dataclass
class Contact:
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    name: str = ""
    phone: str = ""


def contact(params, errors: list[str]) -> Contact:
    """Who sent it.  Only the name and phone are kept (encrypted phone, as for every channel);
    email and device_id are checked but not stored (PIPL: only what the work needs)."""
    c = Contact()
    c.email = text(params, "email", max_length=254, errors=errors)
    if c.email:
        try:
            EmailValidator()(c.email)
        except ValidationError:
            errors.append(problem("email", _("电子邮件地址格式不正确。")))
    c.device_id = text(params, "device_id", max_length=ID_PARAM_MAX, errors=errors)
    c.account_id = text(params, "account_id", max_length=ID_PARAM_MAX, errors=errors)
    first = text(params, "first_name", max_length=NAME_PART_MAX, errors=errors)
    last = text(params, "last_name", max_length=NAME_PART_MAX, errors=errors)
    # 姓 + 名 for Chinese names; "First Last" for names in Latin letters.
    c.name = f"{first} {last}".strip() if (first + last).isascii() else f"{last}{first}"
    c.phone = text(params, "phone", max_length=32, errors=errors)
    return c


def media_url(params, errors: list[str]) -> str:
    """A link to a photo (http or https only).  Stored as a reference; the server never fetches it."""
    value = text(params, "media_url", max_length=MEDIA_URL_MAX, errors=errors)
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            errors.append(problem("media_url", _("应为以 http:// 或 https:// 开头的网址。")))
            return ""
    return value
