"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2/.

    GET  discovery.{fmt}                  Service Discovery (public)
    GET  services.{fmt}                   the catalogue's leaves (public)
    GET  services/{service_code}.{fmt}    a service definition (public)
    POST requests.{fmt}                   submit a request (api_key; rate-limited per key and IP)
    GET  requests.{fmt}                   requests (api_key: only what its user may see)
    GET  requests/{service_request_id}.{fmt}
    GET  tokens/{token}.{fmt}             the request a POST's token stands for (api_key)

The spec lets servers answer GET requests to anyone; Zhouxin's requests are scoped, so every
read of requests needs an api_key and sees exactly what the key's user sees (discovery says
so in key_service).  An api_key is the key of an integration token (the system administrator
issues them); the key acts as the token's user with that user's grants.

Errors are the spec's arrays of {code, description}, code being the HTTP status: 400 for bad
input, 403 for a missing, invalid or revoked api_key, 404 for an unknown jurisdiction,
service, request or token, 405 for a method the URL does not take, 429 when a POST comes too
often (with Retry-After).  Descriptions are in the request's language (Chinese by default).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation, ValidationError
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from zhouxin.core import ratelimit
from zhouxin.core.permissions import can
from zhouxin.core.scoping import activate, scope_for_user
from zhouxin.dispatch.choices import Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.dispatch.services import IDEMPOTENCY_KEY_MAX

from ..authentication import token_for_key
from . import catalogue, params, selectors, services
from .params import Open311Error, problem
from .render import FORMATS, MIME_TYPES, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
RATE_WINDOW_SECONDS = 60
NUMBER_MAX = ServiceRequest._meta.get_field("number").max_length
TOKEN_LENGTH = 32
TITLE_FROM_DESCRIPTION = 40
# dispatch intake's field names → the Open311 parameter a client sent it in.
INTAKE_PARAMS = {
    "title": "attribute[title]", "description": "description", "address": "address_string",
    "latitude": "lat", "longitude": "long", "contact_name": "first_name/last_name", "contact_phone": "phone",
    "idempotency_key": "Idempotency-Key", "area": "address_id", "kind": "attribute[kind]",
    "urgency": "attribute[urgency]", "category": "service_code",
}


def w3(moment) -> str | None:
    """W3C datetime in Beijing time: 2026-11-27T08:00:00+08:00."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _error(error: Open311Error, fmt: str):
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else None
    return respond("errors", error.payload(), fmt, status=error.status, headers=headers)


def open311(*methods: str):
    """The frame of every Open311 view: the format from the URL (unknown → 404), the allowed
    methods (else 405), and every client mistake answered as an error array, never a 500."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, fmt: str, **kwargs):
            if fmt not in FORMATS:
                return _error(Open311Error(404, _("不支持的格式“%(fmt)s”，请使用 .json 或 .xml。") % {
                    "fmt": fmt[:10]}), fmt)
            if request.method not in allowed:
                response = _error(Open311Error(405, _("该地址不支持 %(method)s 请求。") % {
                    "method": request.method[:10]}), fmt)
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return _error(error, fmt)
            except (SuspiciousOperation, MultiPartParserError):
                return _error(Open311Error(400, _("请求内容无法解析（过大、字段过多或格式错误）。")), fmt)
        return csrf_exempt(wrapper)  # an API call, authenticated by api_key alone

    return decorate


def _jurisdiction(data) -> str:
    """The area prefix of the jurisdiction_id sent (404 when it is not ours)."""
    prefix = selectors.jurisdiction_prefix(params.jurisdiction_id(data))
    if prefix is None:
        raise Open311Error(404, _("未找到该 jurisdiction_id。"))
    return prefix


def _authenticate(request):
    key = params.api_key(request)
    if not key:
        raise Open311Error(403, _("缺少 api_key：提交和查询诉求都需要接口密钥。"))
    token = token_for_key(key) if len(key) <= params.API_KEY_MAX and key.isprintable() else None
    if token is None:
        raise Open311Error(403, _("api_key 无效或已被吊销。"))
    return token


def _limit(bucket: str, key: str, limit: int, message: str) -> None:
    try:
        ratelimit.enforce(bucket, key, limit=limit, window_seconds=RATE_WINDOW_SECONDS)
    except ratelimit.RateLimited as refused:
        raise Open311Error(429, message % {"n": limit, "wait": refused.retry_after},
                           retry_after=refused.retry_after) from None


# ---------------------------------------------------------------------------
# Discovery and services (public: the catalogue is no secret)
# ---------------------------------------------------------------------------

@open311("GET")
def discovery(request, fmt):
    changed = w3(catalogue.changeset())
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    return respond("discovery", {
        "changeset": changed,
        "contact": _("如需接入或遇到问题，请联系本平台的系统管理员。"),
        "key_service": _(
            "api_key 是系统管理员在“接口令牌”中为接入系统创建的密钥，代表一个工作人员账号，"
            "只能提交和查询该账号管辖范围内的诉求。提交诉求（POST requests）和查询诉求"
            "（GET requests、GET requests/{id}、GET tokens/{token}）都必须提供 api_key；"
            "服务列表和服务定义无需密钥。"),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": base,
            "changeset": changed,
            "type": "production" if settings.PRODUCTION else "test",
            "formats": list(MIME_TYPES),
        }],
    }, fmt)


@open311("GET")
def services_list(request, fmt):
    _jurisdiction(request.GET)
    return respond("services", catalogue.services_payload(), fmt)


@open311("GET")
def service_definition(request, fmt, service_code: str):
    _jurisdiction(request.GET)
    leaf = catalogue.find_service(service_code)
    if leaf is None:
        raise Open311Error(404, _("未找到服务代码“%(code)s”。") % {"code": service_code[:20]})
    return respond("service_definition", catalogue.definition_payload(leaf), fmt)


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

def _status_notes(r: ServiceRequest) -> str:
    label = str(Status(r.status).label)
    if r.status == Status.MERGED and r.master_number:
        return _("已合并至工单 %(master)s，随主工单办理。") % {"master": r.master_number}
    if r.status == Status.INVALID and r.invalid_reason:
        return _("%(status)s：%(note)s") % {"status": label, "note": r.invalid_reason}
    if r.reply and r.status in (Status.REPLIED, Status.CLOSED, Status.REOPENED):
        return _("%(status)s：%(note)s") % {"status": label, "note": r.reply}
    return label


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _service_notice(r: ServiceRequest) -> str:
    if r.status == Status.HELD:
        return _("已受理，内容正在审核，审核通过后派单办理。")
    if r.resolve_due_at is None:
        return _("已受理，将尽快办理。")
    if r.contact_due_at is not None:
        notice = _("按时限要求，%(contact)s 前首次联系诉求人，%(resolve)s 前办结。") % {
            "contact": _local(r.contact_due_at), "resolve": _local(r.resolve_due_at)}
    else:
        notice = _("按时限要求，%(resolve)s 前办结。") % {"resolve": _local(r.resolve_due_at)}
    if r.deadline_provisional:
        notice += _("（当年节假日安排尚未公布，时限暂定。）")
    return notice


def _request_item(r: ServiceRequest) -> dict:
    """A request as GeoReport v2 shows it.  Never the requester's name or phone."""
    submission = getattr(r, "open311", None)  # select_related: no query, None when not from Open311
    return {
        "service_request_id": r.number,
        "status": "closed" if r.status in selectors.CLOSED_STATUSES else "open",
        "status_notes": _status_notes(r),
        "service_name": r.category.name if r.category_id else None,
        "service_code": r.category.code if r.category_id else None,
        "description": r.description,
        "agency_responsible": r.lead_org.name if r.lead_org_id else None,
        "service_notice": _service_notice(r),
        "requested_datetime": w3(r.received_at),
        "updated_datetime": w3(r.updated_at),
        "expected_datetime": w3(r.resolve_due_at),
        "address": r.address or r.area.name,
        "address_id": r.area.code,
        "zipcode": None,
        "lat": float(r.latitude) if r.latitude is not None else None,
        "long": float(r.longitude) if r.longitude is not None else None,
        "media_url": (submission.media_url or None) if submission is not None else None,
    }


@open311("GET", "POST")
def requests_view(request, fmt):
    if request.method == "POST":
        return _submit(request, fmt)
    token = _authenticate(request)
    data = request.GET
    prefix = _jurisdiction(data)
    numbers = params.comma_list(data, "service_request_id", max_items=selectors.MAX_RESULTS)
    with activate(scope_for_user(token.user)):
        if numbers:  # "overrides all other arguments"
            rows = selectors.requests_by_number([n for n in numbers if params.printable_id(n, NUMBER_MAX)], prefix)
        else:
            start, end = params.date_window(data, now=timezone.now())
            codes = params.comma_list(data, "service_code", max_items=selectors.MAX_RESULTS)
            statuses = params.comma_list(data, "status", max_items=10)
            wrong = [s for s in statuses if s not in ("open", "closed")]
            if wrong:
                raise Open311Error(400, problem("status", _("“%(value)s”无效，应为 open 或 closed。") % {
                    "value": wrong[0][:20]}))
            rows = selectors.requests_matching(start=start, end=end, service_codes=codes, statuses=statuses,
                                               prefix=prefix)
        return respond("service_requests", [_request_item(r) for r in rows], fmt)


@open311("GET")
def request_detail(request, fmt, service_request_id: str):
    token = _authenticate(request)
    prefix = _jurisdiction(request.GET)
    with activate(scope_for_user(token.user)):
        found = (selectors.request_by_number(service_request_id, prefix)
                 if params.printable_id(service_request_id, NUMBER_MAX) else None)
        if found is None:
            raise Open311Error(404, _("未找到该诉求，或不在该 api_key 的管辖范围内。"))
        return respond("service_requests", [_request_item(found)], fmt)


@open311("GET")
def token_detail(request, fmt, token: str):
    api_token = _authenticate(request)
    prefix = _jurisdiction(request.GET)
    with activate(scope_for_user(api_token.user)):
        found = (selectors.request_by_token(token, prefix)
                 if len(token) == TOKEN_LENGTH and token.isascii() and token.isalnum() else None)
        if found is None:
            raise Open311Error(404, _("未找到该查询令牌，或不在该 api_key 的管辖范围内。"))
        return respond("service_requests", [{"service_request_id": found.number, "token": token}], fmt)


# ---------------------------------------------------------------------------
# POST requests
# ---------------------------------------------------------------------------

def _locate(loc: params.Location, prefix: str, errors: list[str]):
    """The community or grid of the request: address_id if given, else the area holding the
    coordinates, else the one named in address_string, else the only one the user reaches."""
    if loc.address_id:
        area = selectors.area_by_code(loc.address_id, prefix)
        if area is None:
            errors.append(problem("address_id", _("未找到该社区或网格，或不在该 api_key 的管辖范围内。")))
        return area
    area = None
    if loc.has_point:
        area = selectors.area_by_point(loc.latitude, loc.longitude, prefix)
    if area is None and loc.address:
        area = selectors.area_by_address(loc.address, prefix)
    if area is None:
        area = selectors.only_area(prefix)
    if area is None:
        errors.append(_("无法根据所给位置确定诉求发生的社区或网格，请提供 address_id（社区或网格的区划代码）。"))
    return area


def _title(description: str, leaf) -> str:
    first_line = " ".join((description.splitlines() or [""])[0].split())
    if not first_line:
        return leaf.name
    if len(first_line) > TITLE_FROM_DESCRIPTION:
        return first_line[:TITLE_FROM_DESCRIPTION - 1] + "…"
    return first_line


def _intake_problems(error: ValidationError) -> list[str]:
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [problem(INTAKE_PARAMS.get(name, name), message)
            for name, errors in error.message_dict.items() for message in errors]


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise Open311Error(400, problem("Idempotency-Key", _("应为 1 到 %(n)d 个可见字符。") % {
            "n": IDEMPOTENCY_KEY_MAX}))
    return key


def _submit(request, fmt):
    ip = ratelimit.client_ip(request)
    _limit("open311.post.ip", ip, settings.OPEN311_POST_LIMIT_PER_IP,
           _("提交过于频繁：同一地址每分钟最多 %(n)d 次，请 %(wait)d 秒后再试。"))
    token = _authenticate(request)
    _limit("open311.post.key", f"token:{token.pk}", settings.OPEN311_POST_LIMIT_PER_KEY,
           _("提交过于频繁：每个 api_key 每分钟最多 %(n)d 次，请 %(wait)d 秒后再试。"))
    data = request.POST
    prefix = _jurisdiction(data)
    user = token.user
    if not can(user, "dispatch.intake"):
        raise Open311Error(403, _("该 api_key 代表的账号无权受理诉求。"))
    idempotency_key = _idempotency_key(request)
    with activate(scope_for_user(user)):
        errors: list[str] = []
        code = (data.get("service_code") or "").strip()
        leaf = catalogue.find_service(code) if code else None
        if not code:
            errors.append(problem("service_code", _("请提供服务代码。")))
        elif leaf is None:
            errors.append(problem("service_code", _("未找到服务代码“%(code)s”。") % {"code": code[:20]}))
        attributes = catalogue.clean_attributes(params.attributes(data))
        errors.extend(attributes.errors)
        loc = params.location(data, errors)
        contact = params.contact(data, errors)
        description = params.text(data, "description", max_length=params.DESCRIPTION_MAX, multiline=True,
                                  errors=errors)
        media_url = params.media_url(data, errors)
        area = _locate(loc, prefix, errors) if not errors else None
        if errors:
            raise Open311Error(400, *errors)
        values = attributes.values
        try:
            submission, created = services.open311_request_submit(
                actor=user, api_token=token, kind=values["kind"], area=area,
                title=values.get("title") or _title(description, leaf), description=description or leaf.name,
                urgency=values.get("urgency", "normal"), category=leaf, address=loc.address,
                latitude=loc.latitude, longitude=loc.longitude, contact_name=contact.name,
                contact_phone=contact.phone, media_url=media_url, idempotency_key=idempotency_key)
        except ValidationError as error:
            raise Open311Error(400, *_intake_problems(error)) from None
        except PermissionDenied:
            raise Open311Error(403, _("该 api_key 代表的账号无权在该社区或网格受理诉求。")) from None
        received = submission.request
        return respond("service_requests", [{
            "service_request_id": received.number,
            "token": submission.token,
            "service_notice": _service_notice(received),
            "account_id": contact.account_id or None,
        }], fmt, status=201 if created else 200)
