"""Residents' room bookings on the portal (phone first), under /portal/centres/:

* rooms/<pk>/book/ — a signed-in resident books a room for themselves; the page shows the room's
  facts, the opening hours of the coming days and the times already taken (times only: never who
  booked them or what for);
* my-bookings/ — the signed-in resident's own bookings, with "取消" for a live one that has not
  started; my-bookings/<pk>/cancel/ cancels it (another account's booking answers 404).

The resident is the portal account of the session (zhouxin.portal.session), never a staff login:
without one every page sends the visitor to the sign-in page and comes back afterwards.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import ratelimit
from zhouxin.core.actions import errors_into_form
from zhouxin.portal.session import current_account

from . import bookings
from .choices import LIVE_BOOKING_STATUSES, BookerKind, BookingStatus
from .forms_bookings import PublicBookingForm
from .models import Booking, Room

BOOK_LIMIT = (10, 3600)  # booking requests per account per hour
CANCEL_LIMIT = (30, 600)
DAYS_SHOWN = 7


def _signin(next_url: str):
    return redirect(f"{reverse('portal:signin')}?{urlencode({'next': next_url})}")


def _private(response):
    patch_cache_control(response, private=True, no_store=True)
    return response


def _not_found(request):
    return render(request, "portal/404.html", {"account": current_account(request)}, status=404)


def _limited(request, account, bucket: str, limit: tuple[int, int]):
    hits, window = limit
    try:
        ratelimit.enforce(bucket, str(account.pk), limit=hits, window_seconds=window)
    except ratelimit.RateLimited as exc:
        response = render(request, "portal/429.html", {"account": account,
                                                       "message": _("操作过于频繁，请稍后再试。")}, status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def _bookable_room(pk: int) -> Room | None:
    return (Room.objects.unscoped().filter(pk=pk, is_active=True, bookable=True, centre__is_active=True)
            .select_related("centre__area").first())


def _coming_days(room: Room) -> list[dict]:
    """Opening hours and taken times (no titles, no bookers) of the coming days."""
    from .centres import intervals_text, opening_intervals

    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time(0)), zone)
    end = start + dt.timedelta(days=DAYS_SHOWN)
    taken = list(Booking.objects.unscoped().filter(room=room, status__in=LIVE_BOOKING_STATUSES, starts_at__lt=end,
                                                   ends_at__gt=max(start, timezone.now()))
                 .order_by("starts_at").values_list("starts_at", "ends_at"))
    days = []
    for offset in range(DAYS_SHOWN):
        day = today + dt.timedelta(days=offset)
        intervals = opening_intervals(room.centre, day)
        days.append({"day": day, "hours": intervals_text(intervals),
                     "taken": [bookings.span_text(s, e) for s, e in taken if timezone.localdate(s) == day]})
    return days


@require_http_methods(["GET", "POST"])
def room_book(request, pk: int):
    room = _bookable_room(pk)
    if room is None:
        return _not_found(request)
    account = current_account(request)
    if account is None:
        return _signin(request.path)
    initial = {}
    try:
        if request.GET.get("day"):
            initial["day"] = dt.date.fromisoformat(request.GET["day"])
    except ValueError:
        pass
    form = PublicBookingForm(request.POST or None, initial=initial)
    if request.method == "POST":
        limited = _limited(request, account, "centers.booking.request", BOOK_LIMIT)
        if limited is not None:
            return limited
        if form.is_valid():
            try:
                booking = bookings.booking_request(account=account, room=room, booker_kind=BookerKind.RESIDENT,
                                                   **form.service_data())
            except ValidationError as exc:
                errors_into_form(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                if booking.status == BookingStatus.APPROVED:
                    messages.success(request, _("预约成功：%(when)s，请按时到场。") % {"when": bookings.when_text(booking)})
                else:
                    messages.success(request, _("预约已提交（%(when)s），服务中心审批后会短信通知您。")
                                     % {"when": bookings.when_text(booking)})
                return redirect("centers_public:my_bookings")
    rule = bookings.rules(room.centre)
    return _private(render(request, "centers/public/bookings/book.html", {
        "account": account, "room": room, "form": form, "days": _coming_days(room), "rule": rule,
    }, status=422 if request.method == "POST" else 200))


@require_GET
def my_bookings(request):
    account = current_account(request)
    if account is None:
        return _signin(reverse("centers_public:my_bookings"))
    now = timezone.now()
    rows = list(Booking.objects.unscoped().filter(account=account).select_related("room__centre")
                .order_by("-starts_at", "-id")[:100])
    for booking in rows:
        booking.when = bookings.when_text(booking)
        booking.cancellable = booking.status in LIVE_BOOKING_STATUSES and booking.starts_at > now
    upcoming = [b for b in rows if b.ends_at > now and b.status in LIVE_BOOKING_STATUSES]
    past = [b for b in rows if b not in upcoming]
    return _private(render(request, "centers/public/bookings/mine.html", {
        "account": account, "upcoming": sorted(upcoming, key=lambda b: b.starts_at), "past": past}))


@require_POST
def booking_cancel(request, pk: int):
    account = current_account(request)
    if account is None:
        return _signin(reverse("centers_public:my_bookings"))
    booking = Booking.objects.unscoped().filter(pk=pk, account=account).first()
    if booking is None:
        return _not_found(request)
    limited = _limited(request, account, "centers.booking.cancel", CANCEL_LIMIT)
    if limited is not None:
        return limited
    try:
        bookings.booking_cancel(account=account, booking=booking)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("预约已取消。"))
    return redirect("centers_public:my_bookings")
