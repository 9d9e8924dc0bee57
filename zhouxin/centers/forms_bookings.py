"""Forms of the booking pages: the staff booking form (rooms limited to those the user may book),
the resident's booking form on the portal, the decision, cancellation and use forms, and the
filters of the booking list.  Times are entered as a day and two clock times (local); the forms
turn them into aware datetimes for the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.orgs.models import Organisation

from . import bookings
from .choices import BookerKind, BookingStatus
from .models import Centre, Room

TIME_ATTRS = {"type": "time", "step": 900}


def _styled(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.RadioSelect, forms.CheckboxInput)):
            continue
        widget.attrs.setdefault("class", "form-select" if isinstance(widget, forms.Select) else "form-control")


class RoomChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Room) -> str:
        return _("%(centre)s · %(room)s（容纳 %(n)d 人）") % {"centre": obj.centre.name, "room": obj.name,
                                                         "n": obj.capacity}


class _TimesForm(forms.Form):
    """A day and a start and end time on it, combined into `starts_at` / `ends_at`."""

    day = forms.DateField(label=gettext_lazy("日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          error_messages={"required": gettext_lazy("请选择日期。"),
                                          "invalid": gettext_lazy("请按“2026-05-03”的格式填写日期。")})
    start = forms.TimeField(label=gettext_lazy("开始时间"), widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"),
                            error_messages={"required": gettext_lazy("请填写开始时间。"),
                                            "invalid": gettext_lazy("请按“09:00”的格式填写时间。")})
    end = forms.TimeField(label=gettext_lazy("结束时间"), widget=forms.TimeInput(attrs=TIME_ATTRS, format="%H:%M"),
                          error_messages={"required": gettext_lazy("请填写结束时间。"),
                                          "invalid": gettext_lazy("请按“11:00”的格式填写时间。")})

    def clean(self):
        data = super().clean()
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if day is not None and start is not None and end is not None:
            zone = timezone.get_current_timezone()
            data["starts_at"] = timezone.make_aware(dt.datetime.combine(day, start), zone)
            # "00:00" as the end means the end of the day.
            end_day = day + dt.timedelta(days=1) if end == dt.time(0) else day
            data["ends_at"] = timezone.make_aware(dt.datetime.combine(end_day, end), zone)
        return data

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("day", "start", "end")}


class BookingForm(_TimesForm):
    """Staff and liaisons: room, booker, activity and times."""

    room = RoomChoice(label=gettext_lazy("功能室"), queryset=Room.objects.unscoped().none(),
                      empty_label=gettext_lazy("请选择功能室"),
                      error_messages={"required": gettext_lazy("请选择功能室。"),
                                      "invalid_choice": gettext_lazy("请选择您可以预约的功能室。")})
    booker_kind = forms.ChoiceField(label=gettext_lazy("预约方"), choices=(),
                                    error_messages={"required": gettext_lazy("请选择预约方。"),
                                                    "invalid_choice": gettext_lazy("请选择预约方。")})
    organisation = forms.ModelChoiceField(label=gettext_lazy("预约单位"), required=False,
                                          queryset=Organisation.objects.unscoped().none(),
                                          error_messages={"invalid_choice": gettext_lazy("只能以您担任联络员的单位名义预约。")})
    group_name = forms.CharField(label=gettext_lazy("团队名称"), required=False, max_length=bookings.GROUP_MAX,
                                 help_text=gettext_lazy("代社会组织或居民团队预约时填写，如“多福巷合唱团”。"))
    title = forms.CharField(label=gettext_lazy("活动名称"), max_length=bookings.TITLE_MAX,
                            error_messages={"required": gettext_lazy("请填写活动名称。")})
    expected = forms.IntegerField(label=gettext_lazy("预计人数"), min_value=1,
                                  error_messages={"required": gettext_lazy("请填写预计人数。"),
                                                  "min_value": gettext_lazy("预计人数至少为 1 人。")})
    note = forms.CharField(label=gettext_lazy("备注"), required=False, max_length=bookings.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["room", "booker_kind", "organisation", "group_name", "title", "day", "start", "end", "expected",
                   "note"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = bookings.bookable_rooms(user)
        kinds = bookings.booker_kinds_for(user)
        self.fields["booker_kind"].choices = [(k, BookerKind(k).label) for k in kinds]
        if len(kinds) == 1:
            self.fields["booker_kind"].initial = kinds[0]
        units = bookings.liaison_units(user)
        if BookerKind.UNIT in kinds:
            self.fields["organisation"].queryset = units
            # Only a liaison: the unit is what they book for, so it is asked for like the other fields.
            self.fields["organisation"].required = kinds == [BookerKind.UNIT]
            self.fields["organisation"].error_messages["required"] = _("请选择预约单位。")
            if units.count() == 1:
                self.fields["organisation"].initial = units.first().pk
                self.fields["organisation"].empty_label = None
        else:
            del self.fields["organisation"]
        if BookerKind.GROUP not in kinds:
            del self.fields["group_name"]
        _styled(self)

    def service_data(self) -> dict:
        data = super().service_data()
        data.setdefault("organisation", None)
        data.setdefault("group_name", "")
        return data


class PublicBookingForm(_TimesForm):
    """A resident books a room for themselves."""

    title = forms.CharField(label=gettext_lazy("活动内容"), max_length=bookings.TITLE_MAX,
                            help_text=gettext_lazy("如“书法练习”“楼门议事”。工作人员可见，请勿填写电话等个人信息。"),
                            error_messages={"required": gettext_lazy("请填写活动名称。")})
    expected = forms.IntegerField(label=gettext_lazy("预计人数"), min_value=1,
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                                  error_messages={"required": gettext_lazy("请填写预计人数。"),
                                                  "min_value": gettext_lazy("预计人数至少为 1 人。"),
                                                  "invalid": gettext_lazy("请填写预计人数。")})
    note = forms.CharField(label=gettext_lazy("备注（选填）"), required=False, max_length=bookings.NOTE_MAX,
                           widget=forms.Textarea(attrs={"rows": 2}))

    field_order = ["day", "start", "end", "title", "expected", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=(("approve", gettext_lazy("批准")), ("reject", gettext_lazy("不予批准"))),
                                 error_messages={"required": gettext_lazy("请选择批准或不予批准。"),
                                                 "invalid_choice": gettext_lazy("请选择批准或不予批准。")})
    note = forms.CharField(required=False, max_length=bookings.NOTE_MAX,
                           error_messages={"max_length": gettext_lazy("审批意见不能超过 300 个字。")})


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=bookings.NOTE_MAX,
                             error_messages={"max_length": gettext_lazy("取消原因不能超过 300 个字。")})


class CompleteForm(forms.Form):
    attended = forms.IntegerField(min_value=0, max_value=bookings.ATTENDED_MAX,
                                  error_messages={"required": gettext_lazy("请填写实到人数。"),
                                                  "invalid": gettext_lazy("请填写实到人数。"),
                                                  "min_value": gettext_lazy("请填写实到人数。"),
                                                  "max_value": gettext_lazy("请填写实到人数。")})


class FilterForm(forms.Form):
    centre = forms.ModelChoiceField(label=gettext_lazy("服务中心"), required=False,
                                    queryset=Centre.objects.unscoped().none(), empty_label=gettext_lazy("全部"))
    room = forms.ModelChoiceField(label=gettext_lazy("功能室"), required=False, queryset=Room.objects.unscoped().none(),
                                  empty_label=gettext_lazy("全部"))
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False,
                               choices=[("", gettext_lazy("全部")), *BookingStatus.choices])
    day = forms.DateField(label=gettext_lazy("日期"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          error_messages={"invalid": gettext_lazy("请按“2026-05-03”的格式填写日期。")})

    def __init__(self, *args, centres, rooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["centre"].queryset = centres
        self.fields["room"].queryset = rooms
        _styled(self)
