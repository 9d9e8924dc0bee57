"""REST API v1 of co-building (区域化党建 共驻共建): needs, resources, projects, the explained
matches and claiming a need.

Reads go through zhouxin.cobuild.selectors, the same as the pages: a token reaches what its
user reaches there, and an object outside that is 404.  A role without "cobuild.view" (or
"cobuild.claim" for the claim) is 403, as on the pages.  The matches are
zhouxin.cobuild.matching's, the numbers the need and resource pages show; the claim calls
services.claim_create, the service the page uses.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from zhouxin.cobuild import matching, selectors, services
from zhouxin.cobuild.choices import NeedCategory, NeedStatus, ProjectStatus, ResourceKind
from zhouxin.cobuild.models import Claim
from zhouxin.core.permissions import can

from . import serializers_cobuild as s
from .schema import ErrorResponseSerializer
from .views import ScopedViewMixin, _choice, _digits


class CobuildPermission(BasePermission):
    """"cobuild.view" to read; "cobuild.claim" to claim (the pages' staff_view permissions)."""

    def has_permission(self, request, view):
        needed = "cobuild.claim" if getattr(view, "action", None) == "claim" else "cobuild.view"
        if can(request.user, needed):
            return True
        self.message = _("您没有查看共建清单的权限。") if needed == "cobuild.view" else _("您没有认领共建需求的权限。")
        return False


def _path_id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=description)


NEED_ID = _path_id("需求 id")
RESOURCE_ID = _path_id("资源 id")
PROJECT_ID = _path_id("项目 id")
AREA = OpenApiParameter("area", OpenApiTypes.STR, description="区划代码前缀（所属或所在区域）")
CATEGORY = OpenApiParameter("category", OpenApiTypes.STR, enum=NeedCategory.values, description="服务类别")


class CobuildViewSet(ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [CobuildPermission]


@extend_schema(tags=["cobuild"])
class NeedViewSet(CobuildViewSet):
    """需求清单."""

    serializer_class = s.NeedSerializer

    def get_queryset(self):
        qs = selectors.needs_for(self.request.user).select_related("area").order_by("-created_at", "-id")
        if self.action != "list":
            return qs
        params = self.request.query_params
        if value := _choice(params, "status", NeedStatus.values):
            qs = qs.filter(status=value)
        if value := _choice(params, "category", NeedCategory.values):
            qs = qs.filter(category=value)
        if value := _digits(params, "area", 15):
            qs = qs.filter(area__code__startswith=value)
        return qs

    @extend_schema(summary="共建需求列表", description="调用者可见的共建需求（需求清单），新发布的在前。", parameters=[
        OpenApiParameter("status", OpenApiTypes.STR, enum=NeedStatus.values, description="需求状态"), CATEGORY, AREA])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="共建需求详情", parameters=[NEED_ID])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="为需求匹配的资源",
        description=("按匹配得分从高到低列出能满足该需求的资源（只有待认领的需求才有匹配），与需求页面显示的相同："
                     "每条的得分由类别相符、文字相似、距离远近、容量与时间、单位以往评价各项得分相加，减去已占用容量的扣分；"
                     "各项得分保留 4 位小数，相加正好等于总分。街道、社区工作人员看到全部匹配资源，"
                     "驻区单位联络员只看到本单位的资源。条数和权重由政策设置“共建资源匹配”决定。"),
        parameters=[NEED_ID], responses={200: s.ResourceMatchSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def matches(self, request, pk=None):
        need = self.get_object()
        if need.status != NeedStatus.OPEN:
            return Response([])
        user = request.user
        code = need.area.code
        ranked = matching.resources_for_need(need)
        # As on the need page: staff see every matching resource, a liaison only their unit's;
        # and never a resource the caller could not open.
        visible = set(selectors.resources_for(user).filter(pk__in=[m.pk for m in ranked]).values_list("pk", flat=True))
        is_staff = services.staff_can(user, "cobuild.view", code)
        own_units = set(selectors.unit_ids(user))
        staff_claims = services.staff_can(user, "cobuild.claim", code)
        liaison = can(user, "cobuild.resource.edit")
        rows = [{"score": m.score, "components": m.components, "obj": m.obj,
                 "claimable": staff_claims or (liaison and m.obj.owner_id in own_units)}
                for m in ranked if m.pk in visible and (is_staff or m.obj.owner_id in own_units)]
        return Response(s.ResourceMatchSerializer(rows, many=True).data)

    @extend_schema(
        summary="认领需求（双向认领）",
        description=("用一项资源认领该需求：驻区单位联络员用本单位的资源认领（单位认领），"
                     "社区或街道工作人员为需求向单位申请资源（社区申请），与页面上的“认领”相同。"
                     "需求须为待认领状态；认领后等待另一方确认。两家单位同时认领时只有一家成功，"
                     "另一家得到 409。数量超过资源余量、资源已停用或服务范围不包括该社区时返回 422，什么也不改变。"),
        parameters=[NEED_ID], request=s.ClaimCreateSerializer,
        responses={201: OpenApiResponse(s.ClaimSerializer, description="已认领，等待对方确认"),
                   409: OpenApiResponse(ErrorResponseSerializer, description="该需求已被其他单位认领或不再接受认领"),
                   422: OpenApiResponse(ErrorResponseSerializer,
                                        description="认领未通过业务校验（如数量超过资源余量、资源已停用、服务范围不包括该社区）")})
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        need = self.get_object()
        data = s.ClaimCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        resource = selectors.resources_for(request.user).filter(pk=v["resource"]).first()
        if resource is None:
            raise ValidationError({"resource": [_("未找到该资源，或不在您的管辖范围内。")]})
        created = services.claim_create(actor=request.user, need=need, resource=resource, quantity=v.get("quantity"),
                                        note=v["note"])
        created = Claim.objects.unscoped().select_related("unit").get(pk=created.pk)
        return Response(s.ClaimSerializer(created).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["cobuild"])
class ResourceViewSet(CobuildViewSet):
    """资源清单."""

    serializer_class = s.ResourceSerializer

    def get_queryset(self):
        qs = selectors.resources_for(self.request.user).select_related("owner", "area").order_by("-created_at", "-id")
        if self.action != "list":
            return qs
        params = self.request.query_params
        if value := _choice(params, "kind", ResourceKind.values):
            qs = qs.filter(kind=value)
        if value := _choice(params, "category", NeedCategory.values):
            qs = qs.filter(category=value)
        if value := _digits(params, "area", 15):
            qs = qs.filter(area_code__startswith=value)
        return qs

    @extend_schema(summary="共建资源列表",
                   description="调用者可见的共建资源（资源清单）：本单位的资源，或位于、服务于调用者管辖区域的资源。",
                   parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=ResourceKind.values,
                                                description="资源类型"), CATEGORY, AREA])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="共建资源详情", parameters=[RESOURCE_ID])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="资源可满足的需求",
        description=("按匹配得分从高到低列出该资源可满足的待认领需求（停用的资源没有匹配），得分构成与页面显示的相同，"
                     "各项得分相加等于总分。只列出调用者可见的需求。"),
        parameters=[RESOURCE_ID], responses={200: s.NeedMatchSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def matches(self, request, pk=None):
        resource = self.get_object()
        if not resource.is_active:
            return Response([])
        ranked = matching.needs_for_resource(resource)
        visible = set(selectors.needs_for(request.user).filter(pk__in=[m.pk for m in ranked])
                      .values_list("pk", flat=True))
        rows = [m for m in ranked if m.pk in visible]
        return Response(s.NeedMatchSerializer(rows, many=True).data)


@extend_schema(tags=["cobuild"])
class ProjectViewSet(CobuildViewSet):
    """项目清单."""

    serializer_class = s.ProjectSerializer

    def get_queryset(self):
        qs = (selectors.projects_for(self.request.user).select_related("area").prefetch_related("parties")
              .order_by("-created_at", "-id"))
        if self.action != "list":
            return qs
        params = self.request.query_params
        if value := _choice(params, "status", ProjectStatus.values):
            qs = qs.filter(status=value)
        if value := _digits(params, "area", 15):
            qs = qs.filter(area__code__startswith=value)
        return qs

    @extend_schema(summary="共建项目列表",
                   description="调用者可见的共建项目（项目清单）：共建各方、预算、起止日期、状态和居民评价均分。",
                   parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ProjectStatus.values,
                                                description="项目状态"), AREA])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="共建项目详情", parameters=[PROJECT_ID])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
