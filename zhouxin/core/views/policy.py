"""Policy rules and the working-day calendar: the administrators' pages.

Policy: every registered rule with the value in force and its versions; a
form per rule, its fields built from the rule's default (int, decimal, float,
bool, text, list), to add a version.  Who may add one is the rule's own
permission (policy.can_edit): business rules the district admin, the password
rule only the security admin.

Calendar: the years the table holds (published or not, and where they came
from), and per year a textarea of holiday and adjusted-workday lines that is
validated line by line and published atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .. import policy, workdays
from ..decorators import staff_view
from ..models import CalendarDay, CalendarYear, PolicyVersion

# --- Policy ---------------------------------------------------------------------------


def _display(value) -> str:
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return pgettext("列表分隔", "；").join(_display(v) for v in value) if value else "—"
    if isinstance(value, Decimal | int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@never_cache
@require_GET
@staff_view("core.policy.view")
def policy_list(request):
    today = timezone.localdate()
    versions_by_key: dict[str, list[PolicyVersion]] = {}
    for version in PolicyVersion.objects.select_related("city", "created_by").order_by("key", "city__code",
                                                                                         "-effective_from"):
        versions_by_key.setdefault(version.key, []).append(version)
    rules = []
    for key, spec in policy.definitions().items():
        versions = versions_by_key.get(key, [])
        national = next((v for v in versions if v.city_id is None and v.effective_from <= today), None)
        value = policy.resolve(spec, national.value if national else None, None)
        history = []
        current_ids = set()
        cities_seen = set()
        for v in versions:  # newest first per city: the first one in force is the current one
            if v.effective_from <= today and v.city_id not in cities_seen:
                current_ids.add(v.pk)
                cities_seen.add(v.city_id)
        for v in versions:
            typed = policy.resolve(spec, v.value, None)
            status = "current" if v.pk in current_ids else ("future" if v.effective_from > today else "past")
            history.append({
                "version": v,
                "items": [(spec.item_label(name), _display(typed[name])) for name in v.value if name in spec.default],
                "status": status,
            })
        rules.append({
            "spec": spec,
            "items": [(name, spec.item_label(name), _display(value[name])) for name in spec.default],
            "history": history,
            "can_edit": policy.can_edit(request.user, key),
        })
    return render(request, "core/policy/list.html", {"rules": rules, "today": today})


class PolicyVersionForm(forms.Form):
    """Scope and date of the new version, plus one field per item of the rule."""

    city = forms.ModelChoiceField(label=gettext_lazy("适用范围"), queryset=PolicyVersion.objects.none(),
                                  required=False, empty_label=gettext_lazy("全国（所有城市）"))
    effective_from = forms.DateField(label=gettext_lazy("生效日期"),
                                     widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=gettext_lazy("依据或说明"), max_length=200, required=False)

    ITEM_PREFIX = "item_"

    def __init__(self, *args, spec: policy.PolicyDefinition, user, initial_value: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.fields["city"].queryset = policy.editable_cities(user, spec.key)
        self.fields["effective_from"].initial = timezone.localdate()
        for name, default in spec.default.items():
            field = self._item_field(name, default)
            field.label = spec.item_label(name)
            field.initial = self._initial(default, initial_value.get(name, default))
            self.fields[self.ITEM_PREFIX + name] = field
        for name, field in self.fields.items():
            if isinstance(field, forms.BooleanField):
                field.widget.attrs["class"] = "form-check-input"
            elif name == "city":
                field.widget.attrs["class"] = "form-select"
            else:
                field.widget.attrs["class"] = "form-control"

    @staticmethod
    def _item_field(name: str, default) -> forms.Field:
        kind = policy.item_kind(default)
        if kind is bool:
            return forms.BooleanField(required=False)
        if kind is int:
            return forms.IntegerField(help_text=gettext_lazy("整数"))
        if kind is Decimal:
            return forms.DecimalField(help_text=gettext_lazy("数字，可带小数"))
        if kind is float:
            return forms.FloatField(help_text=gettext_lazy("数字，可带小数"))
        if kind is list:
            inner = policy.list_item_kind(default)
            hint = gettext_lazy("每行一项（整数）") if inner is int else gettext_lazy("每行一项")
            return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text=hint)
        if kind is dict:
            return forms.JSONField(help_text=gettext_lazy("JSON 格式"))
        return forms.CharField(required=False, max_length=500)

    @staticmethod
    def _initial(default, value):
        if isinstance(default, list):
            return "\n".join(str(v) for v in value)
        return value

    def clean(self):
        data = super().clean()
        items = {}
        for name, default in self.spec.default.items():
            key = self.ITEM_PREFIX + name
            if key not in data:
                continue  # the field already has its own error
            raw = data[key]
            if isinstance(default, list):
                raw = [line.strip() for line in str(raw or "").splitlines() if line.strip()]
            try:
                items[name] = policy.coerce_item(self.spec, name, raw)
            except ValidationError as exc:
                self.add_error(key, exc)
        data["items"] = items
        return data


def _spec_or_404(key: str) -> policy.PolicyDefinition:
    try:
        return policy.definition(key)
    except KeyError:
        raise Http404(_("没有这条规则。")) from None


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view("core.policy.view")
def policy_edit(request, key: str):
    spec = _spec_or_404(key)
    if not policy.can_edit(request.user, key):
        raise PermissionDenied(_("您没有权限修改这条规则。"))
    today = timezone.localdate()
    in_force = policy.get(key, on=today)
    form = PolicyVersionForm(request.POST or None, spec=spec, user=request.user, initial_value=in_force)
    if request.method == "POST" and form.is_valid():
        city = form.cleaned_data.get("city")
        effective_from = form.cleaned_data["effective_from"]
        items = form.cleaned_data["items"]
        if city is not None:
            # A city version keeps only what differs from the national rule, so later
            # national changes to the other items still reach the city.
            national = policy.get(key, on=effective_from)
            items = {name: v for name, v in items.items() if v != national[name]}
        try:
            if not items:
                raise ValidationError(_("与全国规则完全相同，无需为该城市单独设置。"))
            policy.policy_set(actor=request.user, key=key, value=items, effective_from=effective_from,
                              city=city, note=form.cleaned_data.get("note", ""))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("已保存规则“%(label)s”的新版本，%(date)s 起生效。")
                             % {"label": spec.label, "date": effective_from.isoformat()})
            return redirect("core:policy_list")
    status = 400 if request.method == "POST" else 200
    item_fields = [form[PolicyVersionForm.ITEM_PREFIX + name] for name in spec.default]
    return render(request, "core/policy/edit.html", {
        "spec": spec, "form": form, "item_fields": item_fields,
        "in_force": [(spec.item_label(n), _display(in_force[n])) for n in spec.default],
    }, status=status)


# --- Calendar ---------------------------------------------------------------------------


@never_cache
@require_GET
@staff_view("core.calendar.edit")
def calendar(request):
    today = timezone.localdate()
    stored = {y.year: y for y in CalendarYear.objects.all()}
    wanted = set(stored) | {today.year - 1, today.year, today.year + 1, today.year + 2}
    years = []
    for year in sorted(wanted, reverse=True):
        row = stored.get(year)
        years.append({
            "year": year,
            "stored": row,
            "published": bool(row and row.published),
            "source": row.source if row else "",
        })
    counts: dict[int, list[int]] = {}
    for item in CalendarDay.objects.values("year_id", "is_workday").annotate(n=Count("date")):
        counts.setdefault(item["year_id"], [0, 0])[1 if item["is_workday"] else 0] += item["n"]
    for row in years:
        row["holidays"], row["adjusted"] = counts.get(row["year"], (0, 0))
    return render(request, "core/calendar/list.html", {"years": years, "today": today})


class CalendarYearForm(forms.Form):
    lines = forms.CharField(
        label=gettext_lazy("放假和调休安排"), required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "form-control zx-calendar-lines", "spellcheck": "false"}),
        help_text=gettext_lazy("每行一条：“2027-01-01 元旦 休”、“2027-02-07 春节调休 班”，"
                               "或一段日期“2027-02-10..2027-02-16 春节 休”。以 # 开头的行是注释。"),
    )
    note = forms.CharField(label=gettext_lazy("依据（国务院办公厅通知文号）"), max_length=200, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control"}))

    def __init__(self, *args, year: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.year = year

    def clean(self):
        data = super().clean()
        try:
            data["days"] = workdays.parse_year_lines(self.year, data.get("lines", ""))
        except ValidationError as exc:
            for message in exc.messages:
                self.add_error("lines", message)
        return data


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view("core.calendar.edit")
def calendar_year(request, year: int):
    if not workdays.MIN_EDIT_YEAR <= year <= workdays.MAX_EDIT_YEAR:
        raise Http404(_("年份超出范围。"))
    row = CalendarYear.objects.filter(year=year).first()
    days = workdays.stored_days(year) if row and row.published else []
    initial = {"lines": workdays.format_year_lines(days), "note": row.note if row else ""}
    form = CalendarYearForm(request.POST or None, year=year, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workdays.calendar_year_publish(actor=request.user, year=year, days=form.cleaned_data["days"],
                                           note=form.cleaned_data.get("note", ""))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("lines", message)
        else:
            messages.success(request, _("%(year)d 年的放假安排已发布，该年的期限不再是暂定。") % {"year": year})
            return redirect("core:calendar_year", year=year)
    fallback = [] if row and row.published else _fallback_preview(year)
    return render(request, "core/calendar/year.html", {
        "year": year, "row": row, "form": form, "days": days, "fallback": fallback,
    }, status=400 if request.method == "POST" else 200)


def _fallback_preview(year: int):
    """The fixed-date holidays a provisional year falls back to, for the page."""
    day = dt.date(year, 1, 1)
    found = []
    while day.year == year:
        info = workdays.is_workday(day)
        if info.name and not info.workday:
            found.append((day, info))
        day += dt.timedelta(days=1)
    return found
