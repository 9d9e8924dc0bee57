"""Serializers of the co-building API (views_cobuild.py): needs, resources, projects, the
explained matches and the claim action.

No resident's data: who posted a need or registered a resource is not exposed, and a
project's residents' ratings appear only as their average and count.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhouxin.cobuild.choices import (
    ClaimDirection,
    ClaimStatus,
    NeedCategory,
    NeedSource,
    NeedStatus,
    ProjectStatus,
    ResourceKind,
    ServiceRadius,
)
from zhouxin.cobuild.models import Claim, Need, Project, Resource
from zhouxin.cobuild.services import NOTE_MAX
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation

# Large enough for any integer a client sends, small enough for every database's integer column.
INT_MAX = 2_147_483_647


class NeedSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("所属社区或街道的区划代码"))
    area_name = serializers.CharField(source="area.name", read_only=True, help_text=_("所属社区或街道名称"))
    category = serializers.ChoiceField(choices=NeedCategory.choices, read_only=True)
    status = serializers.ChoiceField(choices=NeedStatus.choices, read_only=True)
    source = serializers.ChoiceField(choices=NeedSource.choices, read_only=True)

    class Meta:
        model = Need
        fields = ["id", "title", "description", "category", "status", "source", "area", "area_name",
                  "beneficiaries", "beneficiary_count", "quantity", "quantity_unit", "wanted_from", "wanted_until",
                  "created_at", "updated_at"]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.name", read_only=True, help_text=_("提供单位名称"))
    kind = serializers.ChoiceField(choices=ResourceKind.choices, read_only=True)
    category = serializers.ChoiceField(choices=NeedCategory.choices, read_only=True)
    radius = serializers.ChoiceField(choices=ServiceRadius.choices, read_only=True)
    area = serializers.CharField(source="area_code", read_only=True, help_text=_("所在区域的区划代码"))
    area_name = serializers.CharField(source="area.name", read_only=True, help_text=_("所在区域名称"))
    available = serializers.IntegerField(read_only=True, help_text=_("还可提供的数量（可提供数量减已承诺数量）"))

    class Meta:
        model = Resource
        fields = ["id", "title", "description", "kind", "category", "owner", "owner_name", "capacity",
                  "capacity_unit", "committed", "available", "available_from", "available_until", "radius", "area",
                  "area_name", "is_active", "created_at"]
        read_only_fields = fields


class PartySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=OrgKind.choices, read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind"]
        read_only_fields = fields


class ProjectSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True, help_text=_("实施区域的区划代码"))
    area_name = serializers.CharField(source="area.name", read_only=True, help_text=_("实施区域名称"))
    status = serializers.ChoiceField(choices=ProjectStatus.choices, read_only=True)
    parties = PartySerializer(many=True, read_only=True, help_text=_("共建各方"))
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2, read_only=True, allow_null=True,
                                              help_text=_("居民评价均分（1–5），尚无评价时为 null"))
    rating_count = serializers.IntegerField(read_only=True, help_text=_("居民评价数"))

    class Meta:
        model = Project
        fields = ["id", "title", "summary", "area", "area_name", "need", "status", "parties", "budget", "starts_on",
                  "ends_on", "rating_average", "rating_count", "published_at", "completed_at", "created_at"]
        read_only_fields = fields


# --- Matches -------------------------------------------------------------------------------

def _decimal(help_text):
    return serializers.DecimalField(max_digits=8, decimal_places=4, read_only=True, help_text=help_text)


class MatchComponentSerializer(serializers.Serializer):
    name = serializers.ChoiceField(
        choices=[("category", _("类别相符")), ("text", _("文字相似")), ("proximity", _("距离远近")),
                 ("capacity_time", _("容量与时间")), ("record", _("单位以往评价")), ("committed", _("已占用容量"))],
        read_only=True)
    label = serializers.CharField(read_only=True, help_text=_("因素名称（界面上显示的文字）"))
    feature = _decimal(_("符合程度，0 到 1"))
    weight = _decimal(_("权重（政策设置“共建资源匹配”）"))
    contribution = _decimal(_("得分 = 权重 × 符合程度，保留 4 位小数；扣分项为负数"))
    is_deduction = serializers.BooleanField(read_only=True, help_text=_("是否扣分项（已占用容量）"))


class MatchSerializer(serializers.Serializer):
    score = _decimal(_("匹配得分：各项得分之和，与页面显示的一致"))
    components = MatchComponentSerializer(many=True, read_only=True, help_text=_("得分构成"))


class ResourceMatchSerializer(MatchSerializer):
    resource = ResourceSerializer(source="obj", read_only=True)
    claimable = serializers.BooleanField(read_only=True,
                                         help_text=_("调用者能否用这个资源认领该需求（POST …/claim/）"))


class NeedMatchSerializer(MatchSerializer):
    need = NeedSerializer(source="obj", read_only=True)


# --- Claims --------------------------------------------------------------------------------

class ClaimCreateSerializer(serializers.Serializer):
    resource = serializers.IntegerField(
        min_value=1, max_value=INT_MAX, help_text=_("用来认领的资源 id"),
        error_messages={"required": _("请选择资源。"), "null": _("请选择资源。"), "invalid": _("资源 id 应为整数。"),
                        "min_value": _("资源 id 应为正整数。"), "max_value": _("未找到该资源。")})
    quantity = serializers.IntegerField(
        min_value=1, max_value=INT_MAX, required=False, allow_null=True,
        help_text=_("承诺数量；省略时取需求的数量（不超过资源余量）"),
        error_messages={"invalid": _("请填写整数。"), "min_value": _("承诺数量必须大于 0。"),
                        "max_value": _("承诺数量超过了资源余量。")})
    note = serializers.CharField(
        max_length=NOTE_MAX, required=False, allow_blank=True, default="", help_text=_("说明"),
        error_messages={"max_length": _("说明不能超过 {max_length} 个字。"), "invalid": _("说明应为文字。"),
                        "null": _("说明应为文字。")})


class ClaimSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True, help_text=_("共建单位名称"))
    direction = serializers.ChoiceField(choices=ClaimDirection.choices, read_only=True)
    status = serializers.ChoiceField(choices=ClaimStatus.choices, read_only=True)

    class Meta:
        model = Claim
        fields = ["id", "need", "resource", "unit", "unit_name", "direction", "quantity", "note", "status",
                  "created_at"]
        read_only_fields = fields
