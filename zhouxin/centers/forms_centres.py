"""Forms of the centre pages: a centre with its opening hours, a room, a service catalogue entry and a
rota assignment.  They only read what was typed; the rules are in centres.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.orgs.models import Area

from . import centres
from .choices import DutyPeriod, DutyRole

SLOTS = range(1, centres.MAX_INTERVALS + 1)


class _Styled:
    def _style(self):
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")


def hour_field_name(key: str, slot: int, end: bool) -> str:
    return f"hours_{key}_{slot}_{'end' if end else 'start'}"


def _time_input(label):
    return forms.CharField(label=label, required=False, max_length=8,
                           widget=forms.TextInput(attrs={"type": "time", "class": "form-control zx-hours__time"}))


class CentreForm(_Styled, forms.Form):
    area = forms.ModelChoiceField(label=gettext_lazy("所属区域"), queryset=Area.objects.unscoped().none(),
                                  to_field_name="code", empty_label=None,
                                  help_text=gettext_lazy("区、街道或社区；由该区域的街道或社区工作人员维护。"))
    name = forms.CharField(label=gettext_lazy("中心名称"), max_length=centres.NAME_MAX,
                           help_text=gettext_lazy("如“多福巷社区党群服务中心”。"))
    address = forms.CharField(label=gettext_lazy("地址"), max_length=centres.ADDRESS_MAX)
    phone = forms.CharField(label=gettext_lazy("服务电话"), max_length=centres.PHONE_MAX, required=False,
                            help_text=gettext_lazy("中心服务台的电话，会在居民端公开显示；不要填个人手机号。"))
    floor_area = forms.DecimalField(label=gettext_lazy("建筑面积（平方米）"), max_digits=9, decimal_places=2)
    description = forms.CharField(label=gettext_lazy("简介"), required=False, max_length=centres.DESCRIPTION_MAX,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = centres.manageable_areas(user).select_related("parent")
        self.fields["area"].label_from_instance = lambda area: (
            f"{area.parent.name} · {area.name}" if area.parent_id else area.name)
        for key in centres.HOURS_KEYS:
            label = centres.HOURS_LABELS[key]
            for slot in SLOTS:
                self.fields[hour_field_name(key, slot, False)] = _time_input(
                    _("%(day)s第 %(n)d 段开始") % {"day": label, "n": slot})
                self.fields[hour_field_name(key, slot, True)] = _time_input(
                    _("%(day)s第 %(n)d 段结束") % {"day": label, "n": slot})
        self._style()

    @staticmethod
    def initial_hours(hours: dict | None) -> dict:
        """Initial values of the hour fields from stored opening hours."""
        initial = {}
        for key in centres.HOURS_KEYS:
            for slot, pair in enumerate((hours or {}).get(key) or [], start=1):
                if slot in SLOTS and isinstance(pair, list | tuple) and len(pair) == 2:
                    initial[hour_field_name(key, slot, False)] = pair[0]
                    initial[hour_field_name(key, slot, True)] = pair[1]
        return initial

    def hour_rows(self) -> list[dict]:
        """The hours table: one row per weekday and the holidays, each with its two intervals."""
        return [{"key": key, "label": centres.HOURS_LABELS[key],
                 "slots": [(self[hour_field_name(key, slot, False)], self[hour_field_name(key, slot, True)])
                           for slot in SLOTS]}
                for key in centres.HOURS_KEYS]

    def hour_field_names(self) -> set[str]:
        return {hour_field_name(k, s, e) for k in centres.HOURS_KEYS for s in SLOTS for e in (False, True)}

    def clean(self):
        data = super().clean()
        hours: dict[str, list[list[str]]] = {}
        errors = []
        for key in centres.HOURS_KEYS:
            day = centres.HOURS_LABELS[key]
            hours[key] = []
            for slot in SLOTS:
                start = (data.get(hour_field_name(key, slot, False)) or "").strip()
                end = (data.get(hour_field_name(key, slot, True)) or "").strip()
                if not start and not end:
                    continue
                if not start or not end:
                    missing = _("开始时间") if not start else _("结束时间")
                    errors.append(_("%(day)s第 %(n)d 段缺少%(which)s。") % {"day": day, "n": slot, "which": missing})
                    continue
                hours[key].append([start, end])
        if not errors:
            try:
                hours = centres.parse_opening_hours(hours)
            except ValidationError as exc:
                errors.extend(exc.messages)
        for message in errors:
            self.add_error(None, message)
        data["opening_hours"] = hours
        return data


class RoomForm(_Styled, forms.Form):
    name = forms.CharField(label=gettext_lazy("功能室名称"), max_length=centres.ROOM_NAME_MAX,
                           help_text=gettext_lazy("如“多功能活动室”“党员活动室”“儿童之家”。"))
    floor_area = forms.DecimalField(label=gettext_lazy("面积（平方米）"), max_digits=8, decimal_places=2)
    capacity = forms.IntegerField(label=gettext_lazy("容纳人数"), min_value=1, max_value=centres.CAPACITY_MAX)
    equipment = forms.CharField(label=gettext_lazy("设备"), required=False, max_length=centres.EQUIPMENT_MAX,
                                help_text=gettext_lazy("如“投影仪、音响、桌椅 40 套”。"))
    for_residents = forms.BooleanField(label=gettext_lazy("居民活动用房"), required=False, initial=True,
                                       help_text=gettext_lazy("计入建设标准中“居民活动用房”的面积；办公用房不要勾选。"))
    bookable = forms.BooleanField(label=gettext_lazy("可预约"), required=False, initial=True)
    needs_approval = forms.BooleanField(label=gettext_lazy("预约需审批"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class ServiceItemForm(_Styled, forms.Form):
    name = forms.CharField(label=gettext_lazy("服务事项"), max_length=centres.SERVICE_NAME_MAX,
                           help_text=gettext_lazy("如“老年人优待证办理”“党员组织关系转接”。"))
    description = forms.CharField(label=gettext_lazy("说明"), required=False,
                                  max_length=centres.SERVICE_DESCRIPTION_MAX)
    hours = forms.CharField(label=gettext_lazy("办理时间"), required=False, max_length=centres.SERVICE_HOURS_MAX,
                            help_text=gettext_lazy("不填则为中心开放时间。"))
    order = forms.IntegerField(label=gettext_lazy("排序"), required=False, min_value=0,
                               max_value=centres.SERVICE_ORDER_MAX, initial=0,
                               help_text=gettext_lazy("数字小的排在前面。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class RotaAssignForm(_Styled, forms.Form):
    # A date, offered as the week's days still open to change; any other date is judged by the service.
    day = forms.DateField(label=gettext_lazy("日期"), input_formats=["%Y-%m-%d"], widget=forms.Select)
    period = forms.ChoiceField(label=gettext_lazy("时段"), choices=DutyPeriod.choices)
    worker = forms.ModelChoiceField(
        label=gettext_lazy("值班人员"), queryset=None, empty_label=None,
        error_messages={"invalid_choice": gettext_lazy("请从本中心所在社区或街道的工作人员中选择值班人员。")})
    role = forms.ChoiceField(label=gettext_lazy("岗位"), choices=DutyRole.choices, initial=DutyRole.A)

    def __init__(self, *args, centre, days: list[dt.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day"].widget.choices = [(d.isoformat(), centres.day_label(d, centres.day_kind(d).name))
                                             for d in days]
        self.fields["worker"].queryset = centres.duty_staff(centre)
        self.fields["worker"].label_from_instance = lambda user: user.display_name
        self._style()
