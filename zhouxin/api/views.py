"""REST API v1: areas, organisations, requests and the dispatch actions.

Every view runs in the scope of the AUTHENTICATED user (token or session): ScopeMiddleware
ran before DRF authenticated the token, so `initial()` activates the scope of request.user
and `finalize_response()` restores the previous one.  Scoped managers then filter every read.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    OpenApiTypes,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from zhouxin.core.scoping import _current, scope_for_user
from zhouxin.dispatch import selectors, services
from zhouxin.dispatch.choices import Channel, RequestKind, Status
from zhouxin.dispatch.models import Category, ServiceRequest
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from . import serializers as s
from . import services as api_services
from . import throttling
from .schema import ErrorDocumentingAutoSchema


class ScopedViewMixin:
    """Activates the scope of the user DRF authenticated (a token's user, or the session's),
    after the rate limits (throttling.py): per address before authenticating, per token or
    account after.  Documents the error responses of every operation (schema.py)."""

    schema = ErrorDocumentingAutoSchema()

    def initial(self, request, *args, **kwargs):
        throttling.check_ip(request)
        super().initial(request, *args, **kwargs)  # authenticates; raises 401/403 before any read
        throttling.check_client(request)
        self._scope_token = _current.set(scope_for_user(request.user))

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_scope_token", None)
        if token is not None:
            _current.reset(token)
            self._scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)


def _choice(params, name: str, choices) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationError({name: [_("“%(v)s”不是有效的取值。") % {"v": value}]})
    return value


def _digits(params, name: str, max_length: int) -> str | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > max_length or not value.isascii():
        raise ValidationError({name: [_("应为不超过 %(n)d 位的数字代码。") % {"n": max_length}]})
    return value


def _moment(params, name: str, *, end: bool = False) -> dt.datetime | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    moment = None
    try:
        day = parse_date(value) if len(value) == 10 else None
        if day is not None:  # a date alone: from its start, or to its end
            moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time.min)
        else:
            moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({name: [_("时间格式应为 ISO 8601，例如 2026-05-01 或 2026-05-01T08:00:00+08:00。")]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


CODE = OpenApiParameter("code", OpenApiTypes.STR, description="区划代码前缀")
SEARCH = OpenApiParameter("q", OpenApiTypes.STR, description="名称或拼音首字母")
BY_ID = extend_schema_view(retrieve=extend_schema(parameters=[
    OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)]))


@extend_schema(tags=["areas"])
@BY_ID
class AreaViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.AreaSerializer

    def get_queryset(self):
        qs = Area.objects.select_related("parent").order_by("code")
        params = self.request.query_params
        if level := _choice(params, "level", AreaLevel.values):
            qs = qs.filter(level=level)
        if parent := _digits(params, "parent", 15):
            qs = qs.filter(parent__code=parent)
        if code := _digits(params, "code", 15):
            qs = qs.filter(code__startswith=code)
        if q := " ".join(params.get("q", "").split())[:64]:
            qs = qs.filter(Q(name__icontains=q) | Q(pinyin_initials__istartswith=q))
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("level", OpenApiTypes.STR, enum=AreaLevel.values),
        OpenApiParameter("parent", OpenApiTypes.STR, description="上级区划代码"), CODE, SEARCH])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["organisations"])
@BY_ID
class OrganisationViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.OrganisationSerializer

    def get_queryset(self):
        qs = Organisation.objects.select_related("area", "sector").order_by("area__code", "name", "pk")
        params = self.request.query_params
        if kind := _choice(params, "kind", OrgKind.values):
            qs = qs.filter(kind=kind)
        if area := _digits(params, "area", 15):
            qs = qs.filter(area__code__startswith=area)
        if sector := params.get("sector"):
            qs = qs.filter(sector__code=sector[:40])
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("kind", OpenApiTypes.STR, enum=OrgKind.values),
        OpenApiParameter("area", OpenApiTypes.STR, description="所在区域代码前缀"),
        OpenApiParameter("sector", OpenApiTypes.STR, description="行业系统代码")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


def _action_schema(serializer):
    return extend_schema(request=serializer, responses={200: s.RequestSerializer})


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, location=OpenApiParameter.HEADER,
    description=("重试安全（1 到 200 个字符，如 UUID）：第一次提交创建工单并返回 201；"
                 "网络中断后用同一密钥、同样的内容重试，不会重复创建，返回第一次创建的工单和 200；"
                 "同一密钥用于内容不同的提交返回 422（code 为 idempotency_key_reused），什么也不改变。"))
CREATED = OpenApiResponse(s.RequestSerializer, description="已创建工单")
REPLAYED = OpenApiResponse(s.RequestSerializer,
                           description="重试：同一 Idempotency-Key 和同样的内容已创建过工单，返回该工单，未重复创建")


@extend_schema(tags=["requests"])
class RequestViewSet(ScopedViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[0-9A-Za-z-]{1,20}"

    def get_serializer_class(self):
        return s.RequestCreateSerializer if self.action == "create" else s.RequestSerializer

    def get_queryset(self):
        qs = ServiceRequest.objects.select_related("area", "category").order_by("-received_at", "-pk")
        if self.action != "list":
            return qs
        params = self.request.query_params
        if value := _choice(params, "status", Status.values):
            qs = qs.filter(status=value)
        if value := _choice(params, "kind", RequestKind.values):
            qs = qs.filter(kind=value)
        if value := _digits(params, "category", 12):
            qs = qs.filter(category__code__startswith=value)
        if value := _digits(params, "area", 15):
            qs = qs.filter(area__code__startswith=value)
        if value := _moment(params, "received_from"):
            qs = qs.filter(received_at__gte=value)
        if value := _moment(params, "received_to", end=True):
            qs = qs.filter(received_at__lt=value)
        return qs

    @extend_schema(parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values),
        OpenApiParameter("kind", OpenApiTypes.STR, enum=RequestKind.values),
        OpenApiParameter("category", OpenApiTypes.STR, description="类别编码前缀"),
        OpenApiParameter("area", OpenApiTypes.STR, description="区划代码前缀"),
        OpenApiParameter("received_from", OpenApiTypes.STR, description="受理时间起（含），ISO 8601"),
        OpenApiParameter("received_to", OpenApiTypes.STR, description="受理时间止，ISO 8601；仅日期时含当日")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[IDEMPOTENCY], request=s.RequestCreateSerializer,
                   responses={201: CREATED, 200: REPLAYED})
    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        area = Area.objects.filter(code=v["area"]).first()
        if area is None:
            raise ValidationError({"area": [_("未找到该区划代码，或不在您的管辖范围内。")]})
        category = None
        if v.get("category"):
            category = Category.objects.filter(code=v["category"]).first()
            if category is None:
                raise ValidationError({"category": [_("未找到该诉求类别编码。")]})
        created, replayed = api_services.api_request_create(
            actor=request.user, body={**v, "area": area.code, "category": category.code if category else None},
            idempotency_key=request.headers.get("Idempotency-Key"), kind=v["kind"], channel=Channel.API,
            area=area, title=v["title"], description=v["description"], urgency=v["urgency"], category=category,
            address=v["address"], latitude=v.get("latitude"), longitude=v.get("longitude"),
            contact_name=v["contact_name"], contact_phone=v["contact_phone"])
        created = ServiceRequest.objects.unscoped().select_related("area", "category").get(pk=created.pk)
        return Response(s.RequestSerializer(created).data,
                        status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    def _act(self, serializer_class, perform):
        obj = self.get_object()
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        perform(obj, data.validated_data)
        fresh = ServiceRequest.objects.unscoped().select_related("area", "category").get(pk=obj.pk)
        return Response(s.RequestSerializer(fresh).data)

    def _organisation(self, pk):
        if not pk:
            return None
        org = Organisation.objects.unscoped().filter(pk=pk).first()
        if org is None:
            raise ValidationError({"organisation": [_("未找到该承办单位。")]})
        return org

    @_action_schema(s.DispatchActionSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_(self, request, number=None):  # not `dispatch`: that is View.dispatch
        def perform(obj, v):
            targets = {org.pk: org for org in selectors.dispatch_targets(obj)}
            if v["lead"] not in targets:
                raise ValidationError({"lead": [_("请从可派单的单位中选择主办单位。")]})
            missing = [pk for pk in v["co_handlers"] if pk not in targets]
            if missing:
                raise ValidationError({"co_handlers": [_("请从可派单的单位中选择协办单位。")]})
            co = [targets[pk] for pk in dict.fromkeys(v["co_handlers"]) if pk != v["lead"]]
            services.request_dispatch(actor=request.user, request=obj, lead=targets[v["lead"]], co_handlers=co)
        return self._act(s.DispatchActionSerializer, perform)

    @_action_schema(s.OrganisationActionSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, number=None):
        return self._act(s.OrganisationActionSerializer, lambda obj, v: services.request_accept(
            actor=request.user, request=obj, organisation=self._organisation(v.get("organisation"))))

    @_action_schema(s.ReturnActionSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, number=None):
        return self._act(s.ReturnActionSerializer, lambda obj, v: services.request_return(
            actor=request.user, request=obj, reason=v["reason"],
            organisation=self._organisation(v.get("organisation"))))

    @_action_schema(s.NoteActionSerializer)
    @action(detail=True, methods=["post"])
    def contact(self, request, number=None):
        return self._act(s.NoteActionSerializer, lambda obj, v: services.request_contact(
            actor=request.user, request=obj, note=v["note"]))

    @_action_schema(s.ReplyActionSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, number=None):
        return self._act(s.ReplyActionSerializer, lambda obj, v: services.request_reply(
            actor=request.user, request=obj, reply=v["reply"]))

    @_action_schema(s.CallbackActionSerializer)
    @action(detail=True, methods=["post"])
    def callback(self, request, number=None):
        return self._act(s.CallbackActionSerializer, lambda obj, v: services.request_callback(
            actor=request.user, request=obj, resolution=v["resolution"], satisfaction=v["satisfaction"],
            note=v["note"]))

    @_action_schema(s.NoteActionSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, number=None):
        return self._act(s.NoteActionSerializer, lambda obj, v: services.request_close(
            actor=request.user, request=obj, note=v["note"]))

    @_action_schema(s.ReasonActionSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, number=None):
        return self._act(s.ReasonActionSerializer, lambda obj, v: services.request_reopen(
            actor=request.user, request=obj, reason=v["reason"]))


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar's local assets; the init script is a separate URL and
    the page has no inline style or script (our CSP: script-src 'self'; style-src 'self')."""

    template_name = "api/swagger_ui.html"
    url_name = "api:schema"



