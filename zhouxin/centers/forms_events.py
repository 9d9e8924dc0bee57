"""Forms of the centre events: the staff form that publishes an event (on a booking or at a
time of its own), the cancel form, and the public calendar's filter."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from . import events
from .models import Booking, Centre

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _datetime_field(label):
    return forms.DateTimeField(label=label, required=False,
                               widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
                               error_messages={"invalid": gettext_lazy("时间格式不正确。")})


class BookingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, booking):
        start = timezone.localtime(booking.starts_at)
        end = timezone.localtime(booking.ends_at)
        who = booking.organisation.name if booking.organisation_id else (booking.group_name or booking.get_booker_kind_display())
        return f"{start:%m-%d %H:%M}–{end:%H:%M} {booking.room.centre.name} {booking.room.name} · {booking.title} · {who}"


class EventForm(forms.Form):
    centre = forms.ModelChoiceField(label=gettext_lazy("服务中心"), queryset=Centre.objects.unscoped().none(),
                                    required=False,
                                    error_messages={"invalid_choice": gettext_lazy("请选择您负责的服务中心。")})
    booking = BookingChoiceField(
        label=gettext_lazy("使用已批准的场地预约"), queryset=Booking.objects.unscoped().none(), required=False,
        help_text=gettext_lazy("选择后，活动的中心、功能室和时间以预约为准，下面的开始、结束时间不用填。"),
        error_messages={"invalid_choice": gettext_lazy("请选择本中心已批准、尚未发布活动的预约。")})
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=events.TITLE_MAX,
                            error_messages={"required": gettext_lazy("请填写活动名称。"),
                                            "max_length": gettext_lazy("活动名称过长。")})
    starts_at = _datetime_field(gettext_lazy("开始时间"))
    ends_at = _datetime_field(gettext_lazy("结束时间"))
    capacity = forms.IntegerField(label=gettext_lazy("名额"), min_value=1, max_value=events.CAPACITY_MAX,
                                  help_text=gettext_lazy("报满后居民进入候补名单，有人取消时按顺序递补并短信通知。"),
                                  error_messages={"required": gettext_lazy("请填写名额。"),
                                                  "min_value": gettext_lazy("名额必须大于 0。"),
                                                  "max_value": gettext_lazy("名额过多。"),
                                                  "invalid": gettext_lazy("请填写整数。")})
    description = forms.CharField(label=gettext_lazy("活动介绍"), required=False, max_length=events.DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    volunteer_activity = forms.ModelChoiceField(
        label=gettext_lazy("关联志愿服务活动"), required=False, queryset=None,
        help_text=gettext_lazy("志愿者的服务时长仍以志愿活动的签到签退核定，本活动的签到不重复计算。"),
        error_messages={"invalid_choice": gettext_lazy("请选择本中心所在区域的志愿活动。")})
    project = forms.ModelChoiceField(label=gettext_lazy("关联共建项目"), required=False, queryset=None,
                                     error_messages={"invalid_choice": gettext_lazy("请选择本中心所在社区或街道的共建项目。")})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        from zhouxin.cobuild.choices import ProjectStatus
        from zhouxin.cobuild.models import Project
        from zhouxin.volunteers.choices import ActivityStatus
        from zhouxin.volunteers.models import Activity

        centres = events.centres_managed_by(user)
        self.fields["centre"].queryset = centres
        self.fields["booking"].queryset = events.bookings_for_events(user)
        codes = list(centres.values_list("area__code", flat=True))
        activity_q = project_q = None
        for code in codes:
            a = Q(community__code__startswith=code)
            p = Q(area__code__startswith=code)
            street = events._street_code(code)
            if street:
                p |= Q(area__code=street)
            activity_q = a if activity_q is None else activity_q | a
            project_q = p if project_q is None else project_q | p
        self.fields["volunteer_activity"].queryset = (
            Activity.objects.unscoped().filter(activity_q or Q(pk__in=[]), ends_at__gt=timezone.now())
            .exclude(status=ActivityStatus.CANCELLED).select_related("community").order_by("starts_at", "id"))
        self.fields["volunteer_activity"].label_from_instance = (
            lambda a: f"{timezone.localtime(a.starts_at):%m-%d %H:%M} {a.title}（{a.community.name}）")
        self.fields["project"].queryset = (Project.objects.unscoped().filter(project_q or Q(pk__in=[]))
                                           .exclude(status=ProjectStatus.CANCELLED).order_by("-id"))
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if not data.get("booking"):
            if not data.get("centre") and "centre" not in self.errors:
                self.add_error("centre", gettext_lazy("请选择服务中心，或选择一个已批准的场地预约。"))
            if not data.get("starts_at") and "starts_at" not in self.errors:
                self.add_error("starts_at", gettext_lazy("请填写开始时间，或选择一个已批准的场地预约。"))
            if not data.get("ends_at") and "ends_at" not in self.errors:
                self.add_error("ends_at", gettext_lazy("请填写结束时间。"))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=events.REASON_MAX,
                             error_messages={"required": gettext_lazy("请填写取消原因，会以短信告知已报名的居民。"),
                                             "max_length": gettext_lazy("取消原因不能超过 200 个字。")})


# --- The public calendar -----------------------------------------------------------------

def parse_month(value: str | None, today: dt.date) -> dt.date:
    """The first day of the month "YYYY-MM" (years 2000–2099), or of today's month."""
    value = str(value or "")
    if len(value) == 7 and value[4] == "-" and value[:4].isdigit() and value[5:].isdigit():
        year, month = int(value[:4]), int(value[5:])
        if 2000 <= year <= 2099 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    return today.replace(day=1)


def next_month(first: dt.date) -> dt.date:
    return dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def previous_month(first: dt.date) -> dt.date:
    return dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def area_code(value: str | None, areas) -> str:
    """`value` when it is the code of one of `areas` (the filter's options), else ""."""
    value = str(value or "")
    return value if value.isdigit() and any(a.code == value for a in areas) else ""

