"""Staff pages of the centres (党群服务中心): the list of the caller's centres with their standards status
and rota warnings, a centre's page (facts, opening hours of the coming 14 days, rooms, service
catalogue, standards check, rota), the centre, room and catalogue forms, and the rota's week grid.

Centres are read through centres.centres_for (the areas of the caller's "centers.view" grants):
another street's or community's centre is 404; a role without the permission is 403; reading a
centre but not keeping it (the district) is 403 on the forms.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import centres
from .choices import DutyRole
from .forms_centres import CentreForm, RoomForm, RotaAssignForm, ServiceItemForm
from .models import Centre, DutyShift, Room, ServiceItem

PER_PAGE = 50
AHEAD_DAYS = 14  # the detail page and the list look this far ahead (today included)
FIRST_WEEK = dt.date(2000, 1, 3)  # a Monday; the rota grid is not paged before it


def _rooms_prefetch():
    return Prefetch("rooms", queryset=Room.objects.unscoped().order_by("name"))


def _centre(user, pk: int) -> Centre:
    return get_object_or_404(centres.centres_for(user).select_related("area__parent"), pk=pk)


def _managed_centre(user, pk: int) -> Centre:
    centre = _centre(user, pk)
    if not can(user, "centers.manage", centre.area.code):
        raise PermissionDenied  # e.g. the district: reads the centre, the street or community keeps it
    return centre


def _horizon() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today, today + dt.timedelta(days=AHEAD_DAYS - 1)


# --- List ----------------------------------------------------------------------------------------

@staff_view("centers.view")
@require_GET
def centre_list(request):
    user = request.user
    rows = centres.centres_for(user).select_related("area__parent").prefetch_related(_rooms_prefetch()) \
        .order_by("area__code", "name")
    paginator = Paginator(rows, PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    shown = list(page.object_list)
    first, last = _horizon()
    findings = centres.standards_check_many(shown)
    warnings = centres.rota_check_many(shown, first, last)
    items = [{"centre": c, "rooms": sum(1 for r in c.rooms.all() if r.is_active),
              "standards": centres.standards_summary(findings[c.pk]), "warnings": len(warnings[c.pk])}
             for c in shown]
    return render(request, "centers/centres/list.html", {
        "page": page, "items": items, "first": first, "last": last,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "can_create": centres.manageable_areas(user).exists(),
    })


# --- Centre create / edit ------------------------------------------------------------------------

def _save_centre(request, form: CentreForm, centre: Centre | None):
    data = form.cleaned_data
    return centres.centre_save(actor=request.user, area=data["area"], name=data["name"], address=data["address"],
                               floor_area=data["floor_area"], opening_hours=data["opening_hours"],
                               phone=data["phone"], description=data["description"], centre=centre)


def _centre_form_page(request, form, centre=None, status=200):
    return render(request, "centers/centres/form.html", {"form": form, "centre": centre,
                                                         "empty": not form.fields["area"].queryset.exists()},
                  status=status)


def _refuse_unknown_area(request):
    code = request.POST.get("area", "")
    if code and not centres.manageable_areas(request.user).filter(code=code).exists():
        raise Http404  # another street's area: not the caller's to know about


DEFAULT_HOURS = {**{key: [["08:30", "12:00"], ["13:30", "17:30"]] for key in centres.DAY_KEYS[:5]},
                 "sat": [["09:00", "12:00"]], "sun": [], centres.HOLIDAY: []}


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def centre_create(request):
    user = request.user
    if request.method == "POST":
        _refuse_unknown_area(request)
        form = CentreForm(request.POST, user=user)
        if form.is_valid():
            try:
                centre = _save_centre(request, form, None)
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("服务中心“%(name)s”已建立。") % {"name": centre.name})
                return redirect("centers:centre_detail", pk=centre.pk)
        return _centre_form_page(request, form, status=422)
    initial = {**CentreForm.initial_hours(DEFAULT_HOURS)}
    chosen = centres.manageable_areas(user).filter(code=request.GET.get("area", "")).first()
    if chosen is not None:
        initial["area"] = chosen.code
    return _centre_form_page(request, CentreForm(initial=initial, user=user))


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def centre_edit(request, pk: int):
    user = request.user
    centre = _managed_centre(user, pk)
    if request.method == "POST":
        _refuse_unknown_area(request)
        form = CentreForm(request.POST, user=user)
        if form.is_valid():
            try:
                centre = _save_centre(request, form, centre)
            except ValidationError as exc:
                errors_into_form(form, exc)
            else:
                messages.success(request, _("服务中心“%(name)s”已保存。") % {"name": centre.name})
                return redirect("centers:centre_detail", pk=centre.pk)
        return _centre_form_page(request, form, centre, status=422)
    initial = {"area": centre.area.code, "name": centre.name, "address": centre.address, "phone": centre.phone,
               "floor_area": centre.floor_area, "description": centre.description,
               **CentreForm.initial_hours(centre.opening_hours)}
    return _centre_form_page(request, CentreForm(initial=initial, user=user), centre)


# --- Detail --------------------------------------------------------------------------------------

def _rota_rows(centre: Centre, days: list[centres.OpeningDay], warnings: list[centres.RotaWarning], *,
               editable_from: dt.date | None = None) -> list[dict]:
    """One row per day: for each period whether the centre is open, who is on duty and the warnings."""
    if not days:
        return []
    shifts = defaultdict(list)
    for shift in DutyShift.objects.unscoped().filter(centre=centre, day__range=(days[0].day, days[-1].day)) \
            .select_related("worker").order_by("role", "worker__full_name", "id"):
        shifts[(shift.day, shift.period)].append(shift)
    by_cell = defaultdict(list)
    for warning in warnings:
        by_cell[(warning.day, warning.period)].append(warning)
    rows = []
    for opening in days:
        cells = []
        for period in centres.PERIODS:
            cells.append({
                "period": period, "label": centres.period_label(period), "open": period in opening.periods,
                "shifts": shifts[(opening.day, period)], "warnings": by_cell[(opening.day, period)],
                "editable": editable_from is not None and opening.day >= editable_from,
            })
        rows.append({"opening": opening, "cells": cells})
    return rows


@staff_view("centers.view")
@require_GET
def centre_detail(request, pk: int):
    user = request.user
    centre = get_object_or_404(centres.centres_for(user).select_related("area__parent")
                               .prefetch_related(_rooms_prefetch()), pk=pk)
    first, last = _horizon()
    days = centres.opening_days(centre, first, last)
    findings = centres.standards_check(centre)
    warnings = centres.rota_check(centre, first, last)
    rooms = list(centre.rooms.all())
    return render(request, "centers/centres/detail.html", {
        "centre": centre, "can_manage": can(user, "centers.manage", centre.area.code),
        "weekly": centres.weekly_hours(centre), "days": days, "first": first, "last": last,
        "provisional": any(d.provisional for d in days),
        "rooms": rooms, "resident_area": sum((r.floor_area for r in rooms if r.is_active and r.for_residents), 0),
        "services": list(ServiceItem.objects.filter(centre=centre)),
        "findings": findings, "standards": centres.standards_summary(findings),
        "warnings": warnings, "rota_rows": _rota_rows(centre, days, warnings),
        "periods": [centres.period_label(p) for p in centres.PERIODS],
    })


# --- Rooms ---------------------------------------------------------------------------------------

def _room_page(request, centre, form, room=None, status=200):
    return render(request, "centers/centres/room_form.html", {"centre": centre, "form": form, "room": room},
                  status=status)


def _save_room(request, centre, form, room):
    if form.is_valid():
        try:
            room = centres.room_save(actor=request.user, centre=centre, room=room, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("功能室“%(name)s”已保存。") % {"name": room.name})
            return redirect("centers:centre_detail", pk=centre.pk)
    return _room_page(request, centre, form, room, status=422)


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def room_create(request, pk: int):
    centre = _managed_centre(request.user, pk)
    if request.method == "POST":
        return _save_room(request, centre, RoomForm(request.POST), None)
    return _room_page(request, centre, RoomForm())


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def room_edit(request, pk: int, room_pk: int):
    centre = _managed_centre(request.user, pk)
    room = get_object_or_404(Room.objects.unscoped(), pk=room_pk, centre=centre)
    if request.method == "POST":
        return _save_room(request, centre, RoomForm(request.POST), room)
    initial = {name: getattr(room, name) for name in RoomForm.base_fields}
    return _room_page(request, centre, RoomForm(initial=initial), room)


# --- Service catalogue ---------------------------------------------------------------------------

def _service_page(request, centre, form, item=None, status=200):
    return render(request, "centers/centres/service_form.html", {"centre": centre, "form": form, "item": item},
                  status=status)


def _save_service(request, centre, form, item):
    if form.is_valid():
        try:
            item = centres.service_item_save(actor=request.user, centre=centre, item=item, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("服务事项“%(name)s”已保存。") % {"name": item.name})
            return redirect(reverse("centers:centre_detail", args=[centre.pk]) + "#zx-services")
    return _service_page(request, centre, form, item, status=422)


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def service_create(request, pk: int):
    centre = _managed_centre(request.user, pk)
    if request.method == "POST":
        return _save_service(request, centre, ServiceItemForm(request.POST), None)
    return _service_page(request, centre, ServiceItemForm())


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def service_edit(request, pk: int, item_pk: int):
    centre = _managed_centre(request.user, pk)
    item = get_object_or_404(ServiceItem.objects.all(), pk=item_pk, centre=centre)
    if request.method == "POST":
        return _save_service(request, centre, ServiceItemForm(request.POST), item)
    initial = {name: getattr(item, name) for name in ServiceItemForm.base_fields}
    return _service_page(request, centre, ServiceItemForm(initial=initial), item)


@staff_view("centers.manage")
@require_POST
def service_delete(request, pk: int, item_pk: int):
    centre = _managed_centre(request.user, pk)
    item = get_object_or_404(ServiceItem.objects.all(), pk=item_pk, centre=centre)
    try:
        centres.service_item_delete(actor=request.user, item=item)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("服务事项“%(name)s”已删除。") % {"name": item.name})
    return redirect(reverse("centers:centre_detail", args=[centre.pk]) + "#zx-services")


# --- Rota ----------------------------------------------------------------------------------------

def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _week_of(raw) -> dt.date:
    """The Monday of the week asked for (?week=YYYY-MM-DD, any day of it), this week by default."""
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(str(raw))
    except (TypeError, ValueError):
        day = today
    latest = today + dt.timedelta(days=centres.ROTA_DAYS_AHEAD + 7)
    return _monday(min(max(day, FIRST_WEEK), latest))


def _rota_url(centre: Centre, week: dt.date) -> str:
    return f"{reverse('centers:rota', args=[centre.pk])}?week={week.isoformat()}"


def _rota_page(request, centre: Centre, week: dt.date, *, form: RotaAssignForm | None = None, status: int = 200):
    user = request.user
    today = timezone.localdate()
    can_manage = can(user, "centers.manage", centre.area.code)
    days = centres.opening_days(centre, week, week + dt.timedelta(days=6))
    warnings = centres.rota_check(centre, week, week + dt.timedelta(days=6))
    assignable = [d.day for d in days if d.day >= today and d.periods]
    if can_manage and form is None and assignable:
        initial = {"day": assignable[0]}
        wanted = request.GET.get("day", "")
        if wanted in {d.isoformat() for d in assignable}:
            initial["day"] = dt.date.fromisoformat(wanted)
        if request.GET.get("period") in centres.PERIODS:
            initial["period"] = request.GET["period"]
        form = RotaAssignForm(initial=initial, centre=centre, days=assignable)
    return render(request, "centers/centres/rota.html", {
        "centre": centre, "can_manage": can_manage, "form": form if can_manage else None,
        "week": week, "week_end": week + dt.timedelta(days=6),
        "previous": _rota_url(centre, week - dt.timedelta(days=7)),
        "next": _rota_url(centre, week + dt.timedelta(days=7)),
        "this_week": _rota_url(centre, _monday(today)),
        "rows": _rota_rows(centre, days, warnings, editable_from=today if can_manage else None),
        "warnings": warnings, "periods": [centres.period_label(p) for p in centres.PERIODS],
        "staff_count": centres.duty_staff(centre).count(), "roles": DutyRole.choices,
    }, status=status)


@staff_view("centers.view")
@require_GET
def rota(request, pk: int):
    centre = _centre(request.user, pk)
    return _rota_page(request, centre, _week_of(request.GET.get("week")))


@staff_view("centers.manage")
@require_POST
def rota_assign(request, pk: int):
    centre = _managed_centre(request.user, pk)
    week = _week_of(request.POST.get("day") or request.POST.get("week"))
    today = timezone.localdate()
    days = [week + dt.timedelta(days=n) for n in range(7)]
    form = RotaAssignForm(request.POST, centre=centre, days=[d for d in days if d >= today])
    if form.is_valid():
        data = form.cleaned_data
        try:
            shift = centres.rota_assign(actor=request.user, centre=centre, day=data["day"], period=data["period"],
                                        worker=data["worker"], role=data["role"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("已安排%(name)s在%(day)s%(period)s值班（%(role)s）。") % {
                "name": shift.worker.display_name, "day": centres.day_label(shift.day),
                "period": centres.period_label(shift.period), "role": shift.get_role_display()})
            return redirect(_rota_url(centre, _monday(shift.day)))
    return _rota_page(request, centre, week, form=form, status=422)


@staff_view("centers.manage")
@require_POST
def rota_remove(request, pk: int, shift_pk: int):
    centre = _managed_centre(request.user, pk)
    shift = get_object_or_404(DutyShift.objects.unscoped().select_related("worker"), pk=shift_pk, centre=centre)
    try:
        centres.rota_remove(actor=request.user, shift=shift)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已取消%(name)s在%(day)s%(period)s的值班。") % {
            "name": shift.worker.display_name, "day": centres.day_label(shift.day),
            "period": centres.period_label(shift.period)})
    return redirect(_rota_url(centre, _monday(shift.day)))
