"""Staff pages of centre events (中心活动): the list (upcoming by day, then past), the form that
publishes an event (on an approved booking or at a time of its own), the event page with its
registrations (residents shown by masked phone only), cancel, the check-in screen with its
refreshing code, and staff confirming a registrant's arrival.

Events are fetched through events.events_for(user), so an event outside the user's area is 404;
the rules live in events.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can

from . import events
from .choices import EventStatus, RegistrationStatus
from .forms_events import CancelForm, EventForm
from .models import Centre, EventRegistration

PER_PAGE = 30
UPCOMING_SHOWN = 100


def _event(user, pk: int):
    return get_object_or_404(events.events_for(user).select_related(
        "centre__area", "booking__room", "booking__organisation", "volunteer_activity", "project", "created_by"), pk=pk)


def _managed(user, pk: int):
    event = _event(user, pk)
    if not events.can_manage(user, event):
        raise PermissionDenied
    return event


# --- List, form, page --------------------------------------------------------------------

@staff_view("centers.view")
@require_GET
def event_list(request):
    now = timezone.now()
    visible = events.with_counts(events.events_for(request.user).select_related("centre", "booking__room"))
    centres = list(Centre.objects.unscoped().filter(pk__in=visible.values("centre_id")).order_by("area__code", "name"))
    centre = request.GET.get("centre", "")
    if centre.isdigit() and any(c.pk == int(centre) for c in centres):
        visible = visible.filter(centre_id=int(centre))
    else:
        centre = ""
    upcoming = list(visible.filter(ends_at__gte=now).order_by("starts_at", "id")[:UPCOMING_SHOWN])
    for item in upcoming:
        item.day = timezone.localdate(item.starts_at)
    paginator = Paginator(visible.filter(ends_at__lt=now).order_by("-starts_at", "-id"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "centers/events/list.html", {
        "upcoming": upcoming, "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "centres": centres, "centre": centre, "can_create": can(request.user, "centers.manage")})


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def event_create(request):
    initial = {}
    wanted = request.GET.get("booking", "")
    if request.method == "GET" and wanted.isdigit():
        booking = events.bookings_for_events(request.user).filter(pk=int(wanted)).first()
        if booking is not None:
            initial = {"booking": booking, "centre": booking.room.centre, "title": booking.title,
                       "capacity": min(booking.expected or booking.room.capacity, booking.room.capacity)}
    form = EventForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            event = events.event_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("centre", str(exc) or _("您没有权限在该服务中心发布活动。"))
        else:
            messages.success(request, _("活动已发布，居民可以在居民服务网站的活动日历上看到并报名。"))
            return redirect("centers:event_detail", pk=event.pk)
    return render(request, "centers/events/form.html", {"form": form},
                  status=422 if request.method == "POST" else 200)


def _registrations(event):
    rows = list(EventRegistration.objects.unscoped().filter(event=event).select_related("account")
                .order_by("registered_at", "id"))
    waiting = 0
    for row in rows:
        # Residents by masked phone only, on staff pages too.
        row.display_name = _("居民 %(phone)s") % {"phone": row.account.phone_masked}
        if row.status == RegistrationStatus.WAITLISTED:
            waiting += 1
            row.position = waiting
    return rows


@staff_view("centers.view")
@require_GET
def event_detail(request, pk: int):
    event = _event(request.user, pk)
    rows = _registrations(event)
    manage = events.can_manage(request.user, event)
    now = timezone.now()
    registered = [r for r in rows if r.status == RegistrationStatus.REGISTERED]
    published = event.status == EventStatus.PUBLISHED
    return render(request, "centers/events/detail.html", {
        "event": event, "rows": rows, "can_manage": manage,
        "registered": len(registered), "checked_in": sum(1 for r in registered if r.checked_in_at),
        "waitlisted": sum(1 for r in rows if r.status == RegistrationStatus.WAITLISTED),
        "public_url": reverse("centers_public:event", args=[event.pk]),
        "can_cancel": manage and published and event.ends_at > now,
        "can_code": manage and published and event.ends_at > now,
        "can_check": manage and published and event.starts_at - events.CHECK_IN_EARLY <= now <= event.ends_at,
        "cancel_form": CancelForm()})


# --- Actions -----------------------------------------------------------------------------

@staff_view("centers.manage")
@require_POST
def event_cancel(request, pk: int):
    event = _managed(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        flash_errors(request, form)
        return redirect("centers:event_detail", pk=event.pk)
    try:
        events.event_cancel(actor=request.user, event=event, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("活动已取消，已报名和候补的居民会收到短信通知。场地预约如不再需要，请另行取消。"))
    return redirect("centers:event_detail", pk=event.pk)


@staff_view("centers.manage")
@require_POST
def event_registration_check_in(request, pk: int, registration_pk: int):
    event = _managed(request.user, pk)
    registration = get_object_or_404(EventRegistration.objects.unscoped(), pk=registration_pk, event=event)
    try:
        events.registration_check_in(actor=request.user, registration=registration)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已确认签到。"))
    return redirect(f"{reverse('centers:event_detail', args=[event.pk])}#zx-registrations")


@staff_view("centers.manage")
@require_POST
def event_rotate_key(request, pk: int):
    event = _managed(request.user, pk)
    events.event_rotate_key(actor=request.user, event=event)
    messages.success(request, _("签到码已更换，之前显示或转发的签到码全部失效。"))
    return redirect("centers:event_code", pk=event.pk)


# --- The check-in screen -----------------------------------------------------------------

def _code(request, event) -> dict:
    token = events.checkin_token(event)
    url = request.build_absolute_uri(reverse("centers_public:check", args=[token]))
    seconds = events.CODE_VALID_SECONDS
    return {"url": url, "svg": events.event_code_svg(url), "valid_seconds": seconds,
            "refresh_seconds": max(10, seconds // 3)}


def _showable(event) -> bool:
    return event.status == EventStatus.PUBLISHED and event.ends_at > timezone.now()


@staff_view("centers.manage")
@require_GET
def event_code(request, pk: int):
    event = _managed(request.user, pk)
    response = render(request, "centers/events/code.html", {
        "event": event, "code": _code(request, event) if _showable(event) else None,
        "json_url": reverse("centers:event_code_json", args=[event.pk])})
    add_never_cache_headers(response)
    return response


@staff_view("centers.manage")
@require_GET
def event_code_json(request, pk: int):
    event = _managed(request.user, pk)
    if not _showable(event):
        return JsonResponse({"error": _("活动已取消或已结束，不能显示签到码。")}, status=409)
    response = JsonResponse(_code(request, event))
    add_never_cache_headers(response)
    return response
