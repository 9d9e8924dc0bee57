from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhouxin.dispatch.choices import RequestKind, Resolution, Satisfaction, Status, Urgency
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.dispatch.services import (
    DESCRIPTION_MAX,
    NOTE_MAX,
    REASON_MAX,
    REPLY_MAX,
    TITLE_MAX,
)
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level = serializers.ChoiceField(choices=AreaLevel.choices, read_only=True)

    class Meta:
        model = Area
        fields = ["id", "code", "name", "level", "parent", "pinyin_initials", "households", "population",
                  "latitude", "longitude", "is_active"]
        read_only_fields = fields


class OrganisationSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    kind = serializers.ChoiceField(choices=OrgKind.choices, read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "area", "sector", "party_parent", "member_count", "is_active"]
        read_only_fields = fields


class RequestSerializer(serializers.ModelSerializer):
    area = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    kind = serializers.ChoiceField(choices=RequestKind.choices, read_only=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, read_only=True)
    contact_phone = serializers.CharField(source="contact_phone_masked", read_only=True,
                                          help_text=_("联系电话（已脱敏）"))
    # Empty until the callback: the schema says so (blank is part of the enum).
    resolution = serializers.ChoiceField(choices=Resolution.choices, allow_blank=True, read_only=True)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices, allow_blank=True, read_only=True)

    class Meta:
        model = ServiceRequest
        fields = ["number", "status", "kind", "urgency", "channel", "category", "area", "title", "description",
                  "address", "contact_name", "contact_phone", "received_at", "contact_due_at", "resolve_due_at",
                  "deadline_provisional", "lead_org", "reply", "resolution", "satisfaction", "closed_at"]
        read_only_fields = fields


class RequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    area = serializers.CharField(max_length=15, help_text=_("社区或网格的区划代码"))
    category = serializers.CharField(max_length=12, required=False, allow_blank=True,
                                     help_text=_("第三级诉求类别编码"))
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    title = serializers.CharField(max_length=TITLE_MAX)
    description = serializers.CharField(max_length=DESCRIPTION_MAX)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                        min_value=-90, max_value=90)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True,
                                         min_value=-180, max_value=180)
    contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class DispatchActionSerializer(serializers.Serializer):
    lead = serializers.IntegerField(min_value=1, help_text=_("主办单位 id"))
    co_handlers = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                        max_length=20)


class OrganisationActionSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(min_value=1, required=False, allow_null=True,
                                            help_text=_("以哪个承办单位的身份办理（可省略）"))


class ReturnActionSerializer(OrganisationActionSerializer):
    reason = serializers.CharField(max_length=REASON_MAX)


class NoteActionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX, required=False, allow_blank=True, default="")


class ReplyActionSerializer(serializers.Serializer):
    reply = serializers.CharField(max_length=REPLY_MAX)


class CallbackActionSerializer(NoteActionSerializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)


class ReasonActionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX)
