"""Staff pages of room bookings (场地预约): the booking list of the user's area (a liaison: their
unit's bookings), a room's week, the booking form, and a booking's page with approval, rejection,
cancellation, no-show and use.

Who may open them: area staff with "centers.view" (district admin, street hub, community staff)
and whoever may book ("centers.book": also unit liaisons); others 403.  A booking outside the
user's reach (another area's, another unit's) and a room they may neither see nor book are 404.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.crypto import mask_phone
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import bookings
from .choices import LIVE_BOOKING_STATUSES, BookerKind, BookingStatus
from .forms_bookings import BookingForm, CancelForm, CompleteForm, DecideForm, FilterForm
from .models import Booking, Centre, Room

PER_PAGE = 30
SHOWN_ON_WEEK = (*LIVE_BOOKING_STATUSES, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def _ensure_may_open(user) -> None:
    if not (can(user, "centers.view") or can(user, "centers.book")):
        raise PermissionDenied


def _is_area_staff(user, centre: Centre) -> bool:
    return can(user, "centers.view", centre.area.code)


def _rooms_for(user):
    """Rooms whose bookings and week the user may open: rooms of centres in their area (centers.view),
    and the rooms they may book."""
    seen = Room.objects.restrict(user).values("pk") if can(user, "centers.view") else Room.objects.unscoped().none()
    return (Room.objects.unscoped().filter(Q(pk__in=seen) | Q(pk__in=bookings.bookable_rooms(user).values("pk")))
            .select_related("centre__area").order_by("centre__area__code", "centre__name", "name"))


def _centres_for(user):
    return (Centre.objects.unscoped().filter(pk__in=_rooms_for(user).values("centre_id"))
            .order_by("area__code", "name"))


def _booking(user, pk: int) -> Booking:
    booking = (bookings.visible_bookings(user)
               .select_related("room__centre__area", "organisation", "account", "booked_by", "decided_by")
               .filter(pk=pk).first())
    if booking is None:
        raise Http404
    return booking


# --- Reads --------------------------------------------------------------------------------------

@staff_view()
def booking_list(request):
    user = request.user
    _ensure_may_open(user)
    rows = bookings.visible_bookings(user).select_related("room__centre__area", "organisation")
    form = FilterForm(request.GET or None, centres=_centres_for(user), rooms=_rooms_for(user))
    if form.is_valid():
        data = form.cleaned_data
        if data["centre"]:
            rows = rows.filter(room__centre=data["centre"])
        if data["room"]:
            rows = rows.filter(room=data["room"])
        if data["status"]:
            rows = rows.filter(status=data["status"])
        if data["day"]:
            zone = timezone.get_current_timezone()
            first = timezone.make_aware(dt.datetime.combine(data["day"], dt.time(0)), zone)
            rows = rows.filter(starts_at__gte=first, starts_at__lt=first + dt.timedelta(days=1))
    pending = bookings.visible_bookings(user).filter(status=BookingStatus.PENDING).aggregate(n=Count("pk"))["n"]
    paginator = Paginator(rows.order_by("-starts_at", "-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    for booking in page.object_list:
        booking.booker_text = bookings.booker_label(booking)
    return render(request, "centers/bookings/list.html", {
        "form": form, "page": page, "pending": pending,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "can_book": can(user, "centers.book") and bookings.bookable_rooms(user).exists(),
    })


def _week_start(raw: str | None) -> dt.date:
    try:
        day = dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        day = timezone.localdate()
    return day - dt.timedelta(days=day.weekday())


@staff_view()
def room_week(request, pk: int):
    """A room's week: per day the opening hours and the bookings as blocks (a table per day).
    Area staff see every booking's title and booker; a liaison sees their unit's, and only the
    times of others'."""
    from .centres import intervals_text, opening_intervals

    user = request.user
    _ensure_may_open(user)
    room = _rooms_for(user).filter(pk=pk).first()
    if room is None:
        raise Http404
    first = _week_start(request.GET.get("week"))
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(first, dt.time(0)), zone)
    end = timezone.make_aware(dt.datetime.combine(first + dt.timedelta(days=7), dt.time(0)), zone)
    staff = _is_area_staff(user, room.centre)
    units = set(bookings.liaison_units(user).values_list("pk", flat=True))
    rows = list(Booking.objects.unscoped().filter(room=room, status__in=SHOWN_ON_WEEK, starts_at__lt=end,
                                                  ends_at__gt=start)
                .select_related("organisation", "room__centre__area").order_by("starts_at", "id"))
    days = []
    today = timezone.localdate()
    for offset in range(7):
        day = first + dt.timedelta(days=offset)
        blocks = []
        for booking in rows:
            if timezone.localdate(booking.starts_at) != day:
                continue
            own = booking.booked_by_id == user.pk or (booking.organisation_id in units)
            blocks.append({"booking": booking, "span": bookings.span_text(booking.starts_at, booking.ends_at),
                           "detail": staff or own,
                           "booker": bookings.booker_label(booking) if staff or own else ""})
        intervals = opening_intervals(room.centre, day)
        days.append({"day": day, "today": day == today, "blocks": blocks,
                     "hours": intervals_text(intervals),
                     "bookable": day >= today and bool(intervals) and room.bookable and room.is_active})
    return render(request, "centers/bookings/week.html", {
        "room": room, "days": days, "first": first, "last": first + dt.timedelta(days=6),
        "previous": first - dt.timedelta(days=7), "next": first + dt.timedelta(days=7),
        "can_book": bookings.bookable_rooms(user).filter(pk=room.pk).exists(),
    })


@staff_view()
def booking_detail(request, pk: int):
    _ensure_may_open(request.user)
    return _detail(request, _booking(request.user, pk))


def _detail(request, booking: Booking, *, status: int = 200):
    user = request.user
    now = timezone.now()
    manage = bookings.can_manage(user, booking)
    booker = bookings.is_booker(user, booking)
    live = booking.status in LIVE_BOOKING_STATUSES
    started = booking.starts_at <= now
    return render(request, "centers/bookings/detail.html", {
        "booking": booking, "booker_text": bookings.booker_label(booking),
        "span": bookings.span_text(booking.starts_at, booking.ends_at),
        "account_phone": mask_phone(booking.account.phone) if booking.account_id and manage else "",
        "can_decide": manage and booking.status == BookingStatus.PENDING,
        "can_approve": booking.starts_at > now,
        "can_cancel_own": booker and live and not started,
        "can_cancel_staff": manage and not booker and live and booking.ends_at > now,
        "can_record_use": manage and booking.status == BookingStatus.APPROVED and started,
        # An approved booking can become a public event (once): time and room come from it.
        "event": getattr(booking, "event", None),
        "can_publish_event": (manage and booking.status == BookingStatus.APPROVED and booking.ends_at > now
                              and not hasattr(booking, "event")),
        "area_staff": _is_area_staff(user, booking.room.centre),
    }, status=status)


# --- Writes -------------------------------------------------------------------------------------

@staff_view("centers.book")
@require_http_methods(["GET", "POST"])
def booking_create(request):
    user = request.user
    initial = {}
    raw_room = request.GET.get("room", "")
    if raw_room.isdigit():
        initial["room"] = int(raw_room)
    try:
        if request.GET.get("day"):
            initial["day"] = dt.date.fromisoformat(request.GET["day"])
    except ValueError:
        pass
    form = BookingForm(request.POST or None, user=user, initial=initial)
    if not form.fields["room"].queryset.exists() or not form.fields["booker_kind"].choices:
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            booking = bookings.booking_request(actor=user, **form.service_data())
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if booking.status == BookingStatus.APPROVED:
                messages.success(request, _("预约成功，已自动批准。"))
            else:
                messages.success(request, _("预约已提交，等待服务中心审批；审批结果会短信通知。"))
            return redirect("centers:booking_detail", pk=booking.pk)
    return render(request, "centers/bookings/form.html", {"form": form, "unit": BookerKind.UNIT,
                                                          "group": BookerKind.GROUP},
                  status=422 if request.method == "POST" else 200)


def _act(request, pk: int, action, success: str, *, manage: bool = True):
    _ensure_may_open(request.user)
    booking = _booking(request.user, pk)
    if manage and not bookings.can_manage(request.user, booking):
        raise PermissionDenied
    try:
        action(booking)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, success)
    return redirect("centers:booking_detail", pk=booking.pk)


def _form_or_raise(form):
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    return form.cleaned_data


@staff_view("centers.manage")
@require_POST
def booking_decide(request, pk: int):
    form = DecideForm(request.POST)
    approve = request.POST.get("decision") == "approve"

    def decide(booking):
        data = _form_or_raise(form)
        bookings.booking_decide(actor=request.user, booking=booking, approve=data["decision"] == "approve",
                                note=data["note"])

    return _act(request, pk, decide, _("已批准，预约人会收到短信通知。") if approve else _("已不予批准，预约人会收到短信通知。"))


@staff_view()
@require_POST
def booking_cancel(request, pk: int):
    form = CancelForm(request.POST)
    _ensure_may_open(request.user)
    booking = _booking(request.user, pk)
    if not (bookings.is_booker(request.user, booking) or bookings.can_manage(request.user, booking)):
        raise PermissionDenied
    by_staff = not bookings.is_booker(request.user, booking)

    def cancel(booking):
        data = _form_or_raise(form)
        bookings.booking_cancel(actor=request.user, booking=booking, reason=data["reason"])

    return _act(request, pk, cancel,
                _("预约已取消，预约人会收到短信通知。") if by_staff else _("预约已取消。"), manage=False)


@staff_view("centers.manage")
@require_POST
def booking_no_show(request, pk: int):
    return _act(request, pk, lambda b: bookings.booking_mark_no_show(actor=request.user, booking=b),
                _("已标记为爽约。"))


@staff_view("centers.manage")
@require_POST
def booking_complete(request, pk: int):
    form = CompleteForm(request.POST)

    def complete(booking):
        data = _form_or_raise(form)
        bookings.booking_complete(actor=request.user, booking=booking, attended=data["attended"])

    return _act(request, pk, complete, _("已登记使用情况。"))
