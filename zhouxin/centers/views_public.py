"""The centres on the portal (phone first, no sign-in to look), under /portal/centres/:

* the centre list, by street (a street's centre and its communities' centres; district centres
  first), each with today's opening hours;
* a centre's page: address and desk phone, today's and the coming week's opening hours with the
  calendar's holidays named, its rooms (capacity, equipment), its service catalogue and its
  upcoming events; a room's page, which sends a signed-in resident on to the booking form;
* the events calendar: one month as a list grouped by day (?month=YYYY-MM), filtered by street
  or community; published events only, never a cancelled one;
* an event's page: its facts, places left and the size of the waiting list (never who
  registered), the linked co-building project and volunteer activity, and for the signed-in
  resident their own registration with the register or cancel button;
* check/<token>/: what the phone camera opens when a resident scans the code on the staff's
  screen; the scan is kept in the session while the resident signs in, then one tap checks in
  (or, for a walk-in while places remain, registers and checks in).

Also the community page's section (core.public_sections) and the pages the integrity monitor
watches (core.public_pages).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import ratelimit
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.portal import scans
from zhouxin.portal.session import current_account

from . import centres, events
from .choices import RegistrationStatus
from .forms_events import area_code, next_month, parse_month, previous_month
from .models import Centre, Event, EventRegistration, Room

SCANS_KEY = "centre_event_scans"
UPCOMING_SHOWN = 20
SECTION_EVENTS = 5
WEEK = 7
REGISTER_LIMIT = (20, 3600)  # registrations and cancellations per account per hour
STREET_CODE = 9


def _page(request, template: str, context: dict, status: int = 200, private: bool = False):
    account = context.setdefault("account", current_account(request))
    response = render(request, template, context, status=status)
    if private or account is not None:  # a page with the resident's own data: never in a shared cache
        patch_cache_control(response, private=True, no_store=True)
    return response


def _signin(path: str):
    return redirect(f"{reverse('portal:signin')}?{urlencode({'next': path})}")


def _not_found(request):
    return _page(request, "portal/404.html", {}, status=404)


def _public_centres():
    return Centre.objects.unscoped().filter(is_active=True)


def _centre(pk: int):
    return _public_centres().select_related("area__parent").filter(pk=pk).first()


def _today_text(centre, today) -> str:
    return centres.intervals_text(centres.opening_intervals(centre, today))


def _level_label(centre) -> str:
    return str(centres.LEVEL_LABELS.get(centre.area.level, ""))


def _streets_of(codes) -> dict[str, Area]:
    wanted = {code[:STREET_CODE] for code in codes if len(code) >= STREET_CODE}
    return {a.code: a for a in Area.objects.unscoped().filter(code__in=wanted, level=AreaLevel.STREET)}


# --- Centres -----------------------------------------------------------------------------

@require_GET
def centre_list(request):
    today = timezone.localdate()
    listed = list(_public_centres().select_related("area").order_by("area__code", "name"))
    streets = _streets_of([c.area.code for c in listed])
    options = sorted(streets.values(), key=lambda a: a.code)
    street = area_code(request.GET.get("street"), options)
    if street:
        listed = [c for c in listed if c.area.code.startswith(street)]
    groups: dict[str, dict] = {}
    for centre in listed:
        centre.level_label = _level_label(centre)
        centre.today_text = _today_text(centre, today)
        code = centre.area.code
        if len(code) < STREET_CODE:
            key, label = "", _("区级中心")
        else:
            key = code[:STREET_CODE]
            label = streets[key].name if key in streets else _("其他")
        groups.setdefault(key, {"label": label, "centres": []})["centres"].append(centre)
    return _page(request, "centers/public/centres.html", {
        "groups": [groups[k] for k in sorted(groups)], "streets": options, "street": street, "today": today,
        "total": len(listed)})


def _upcoming(queryset, limit=UPCOMING_SHOWN):
    rows = list(events.with_counts(queryset.filter(ends_at__gt=timezone.now()))
                .select_related("centre", "booking__room").order_by("starts_at", "id")[:limit])
    now = timezone.now()
    for row in rows:
        row.left = max(0, row.capacity - row.registered)
        row.started = row.starts_at <= now
    return rows


def _room_book_url(room) -> str | None:
    """The residents' booking form of the room (bookings part), when the room takes bookings."""
    if not room.bookable:
        return None
    try:
        return reverse("centers_public:room_book", args=[room.pk])
    except NoReverseMatch:
        return None


@require_GET
def centre_page(request, pk: int):
    centre = _centre(pk)
    if centre is None:
        return _not_found(request)
    today = timezone.localdate()
    week = centres.opening_days(centre, today, today + dt.timedelta(days=WEEK - 1))
    rooms = list(Room.objects.unscoped().filter(centre=centre, is_active=True).order_by("name"))
    return _page(request, "centers/public/centre.html", {
        "centre": centre, "level_label": _level_label(centre), "street": _street_of(centre),
        "today": week[0], "week": week, "holidays": [d for d in week if d.holiday],
        "weekly": centres.weekly_hours(centre), "rooms": rooms,
        "services": list(centre.services.all()),
        "events": _upcoming(events.public_events().filter(centre=centre)),
        "calendar_url": _calendar_url(centre.area),
    })


def _calendar_url(area) -> str:
    """The calendar filtered to the area's street or community (unfiltered for a district)."""
    url = reverse("centers_public:calendar")
    if area.level == AreaLevel.COMMUNITY:
        return f"{url}?{urlencode({'community': area.code})}"
    if area.level == AreaLevel.STREET:
        return f"{url}?{urlencode({'street': area.code})}"
    return url


def _street_of(centre):
    area = centre.area
    if area.level == AreaLevel.STREET:
        return area
    if area.level == AreaLevel.COMMUNITY:
        return area.parent
    return None


@require_GET
def room_page(request, pk: int):
    room = (Room.objects.unscoped().filter(pk=pk, is_active=True, centre__is_active=True)
            .select_related("centre__area").first())
    if room is None:
        return _not_found(request)
    today = timezone.localdate()
    account = current_account(request)
    book_url = _room_book_url(room)
    return _page(request, "centers/public/room.html", {
        "room": room, "centre": room.centre, "account": account, "book_url": book_url,
        "signin_url": f"{reverse('portal:signin')}?{urlencode({'next': book_url or request.path})}",
        "today": centres.opening_days(room.centre, today, today)[0],
        "events": _upcoming(events.public_events().filter(booking__room=room)),
    })


# --- The calendar ------------------------------------------------------------------------

def _month_bounds(first: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime.combine(first, dt.time(0)), zone),
            timezone.make_aware(dt.datetime.combine(next_month(first), dt.time(0)), zone))


def _filter_options():
    """Streets and communities that have an active centre (the calendar's filter)."""
    codes = set(_public_centres().values_list("area__code", flat=True))
    streets = sorted(_streets_of(codes).values(), key=lambda a: a.code)
    communities = list(Area.objects.unscoped().filter(code__in=codes, level=AreaLevel.COMMUNITY)
                       .select_related("parent").order_by("code"))
    return streets, communities


@require_GET
def calendar(request):
    today = timezone.localdate()
    first = parse_month(request.GET.get("month"), today)
    start, end = _month_bounds(first)
    streets, communities = _filter_options()
    street = area_code(request.GET.get("street"), streets)
    community = area_code(request.GET.get("community"), communities)
    listed = events.public_events().filter(starts_at__gte=start, starts_at__lt=end)
    if community:
        listed = listed.filter(centre__area__code__startswith=community)
    elif street:
        listed = listed.filter(centre__area__code__startswith=street)
    rows = list(events.with_counts(listed).select_related("centre__area", "booking__room").order_by("starts_at", "id"))
    now = timezone.now()
    days: list[dict] = []
    for row in rows:
        row.left = max(0, row.capacity - row.registered)
        row.over = row.ends_at <= now
        row.started = row.starts_at <= now
        day = timezone.localdate(row.starts_at)
        if not days or days[-1]["day"] != day:
            days.append({"day": day, "label": centres.day_label(day, centres.day_kind(day).name),
                         "is_today": day == today, "events": []})
        days[-1]["events"].append(row)
    keep = {k: v for k, v in (("street", street if not community else ""), ("community", community)) if v}

    def month_url(month):
        return f"?{urlencode({**keep, 'month': f'{month:%Y-%m}'})}"

    return _page(request, "centers/public/calendar.html", {
        "month": first, "days": days, "total": len(rows), "streets": streets, "communities": communities,
        "street": street, "community": community,
        "previous_url": month_url(previous_month(first)), "next_url": month_url(next_month(first)),
        "this_month_url": month_url(today.replace(day=1)) if first != today.replace(day=1) else "",
    })


# --- An event ----------------------------------------------------------------------------

def _event(pk: int):
    # A cancelled event keeps its page (registrants look it up), shown as cancelled.
    return (Event.objects.unscoped().filter(pk=pk, centre__is_active=True)
            .select_related("centre__area__parent", "booking__room", "volunteer_activity", "project").first())


def _links(event) -> dict:
    """The linked project and volunteer activity, as public links where they are public."""
    from zhouxin.cobuild import ratings
    from zhouxin.volunteers.choices import ActivityStatus

    project = event.project
    activity = event.volunteer_activity
    return {
        "project": project,
        "project_url": reverse("cobuild_public:project", args=[project.pk])
        if project is not None and ratings.is_public(project) else "",
        "activity": activity if activity is not None and activity.status != ActivityStatus.DRAFT else None,
    }


def _event_context(request, event, account) -> dict:
    now = timezone.now()
    mine = events.registration_of(event, account)
    registered = events.places_taken(event)
    waitlisted = EventRegistration.objects.unscoped().filter(event=event, status=RegistrationStatus.WAITLISTED).count()
    reason = events.registration_closed_reason(event, now)
    left = max(0, event.capacity - registered)
    if mine is not None and mine.status == RegistrationStatus.WAITLISTED:
        mine.position = events.waitlist_position(mine)
    if not reason and left == 0 and event.starts_at <= now:
        reason = _("活动已经开始，名额已满。")
    return {
        "event": event, "centre": event.centre, "mine": mine, "left": left, "waitlisted": waitlisted,
        "closed_reason": reason, "full": left == 0, **_links(event),
        "can_register": not reason and mine is None,
        "can_cancel": mine is not None and mine.checked_in_at is None and event.starts_at > now,
        "over": event.ends_at <= now,
        "signin_url": f"{reverse('portal:signin')}?"
                      f"{urlencode({'next': reverse('centers_public:event', args=[event.pk])})}",
    }


DONE = {
    "registered": gettext_lazy("报名成功。请按时到场，到场后扫描工作人员出示的签到码签到。"),
    "waitlisted": gettext_lazy("名额已满，您已进入候补名单。有人取消时按顺序递补，递补成功会短信通知您。"),
    "cancelled": gettext_lazy("已取消报名。"),
}


@require_GET
def event_page(request, pk: int):
    event = _event(pk)
    if event is None:
        return _not_found(request)
    account = current_account(request)
    context = _event_context(request, event, account)
    if account is not None:
        context["notice"] = DONE.get(request.GET.get("ok", ""))
    return _page(request, "centers/public/event.html", context)


def _limited(request, account):
    hits, window = REGISTER_LIMIT
    try:
        ratelimit.enforce("centers.event.register", str(account.pk), limit=hits, window_seconds=window)
    except ratelimit.RateLimited as exc:
        response = _page(request, "portal/429.html", {"message": exc.message}, status=429, private=True)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return None


def _after_action(request, event, call):
    account = current_account(request)
    if account is None:
        return _signin(reverse("centers_public:event", args=[event.pk]))
    limited = _limited(request, account)
    if limited is not None:
        return limited
    try:
        done = call(account)
    except (ValidationError, PermissionDenied) as exc:
        context = _event_context(request, event, account)
        context["errors"] = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        return _page(request, "centers/public/event.html", context, status=422)
    return redirect(f"{reverse('centers_public:event', args=[event.pk])}?{urlencode({'ok': done})}")


@require_POST
def event_register(request, pk: int):
    event = _event(pk)
    if event is None:
        return _not_found(request)

    def register(account):
        return events.event_register(account=account, event=event).status

    return _after_action(request, event, register)


@require_POST
def event_cancel_registration(request, pk: int):
    event = _event(pk)
    if event is None:
        return _not_found(request)

    def cancel(account):
        events.event_cancel_registration(account=account, event=event)
        return "cancelled"

    return _after_action(request, event, cancel)


# --- Scanning the check-in code ----------------------------------------------------------

def _remember_scan(request, token: str) -> None:
    scans.remember(request, SCANS_KEY, token)


def _scanned_at(request, token: str) -> dt.datetime | None:
    scanned = scans.scanned_at(request, SCANS_KEY, token)
    return scanned if scanned is not None and timezone.now() - scanned <= events.SCAN_HOLD else None


def _check_page(request, context: dict, status: int = 200):
    return _page(request, "centers/public/check.html", context, status=status, private=True)


def _check_state(event, account) -> dict:
    """What the confirm page offers the signed-in resident for this event."""
    mine = events.registration_of(event, account)
    state = {"event": event, "mine": mine, **_links(event)}
    if mine is not None and mine.status == RegistrationStatus.WAITLISTED:
        state["error"] = _("您在“%(title)s”的候补名单上（第 %(n)d 位），还没有获得名额，不能签到；请联系现场工作人员。") % {
            "title": event.title, "n": events.waitlist_position(mine)}
    elif mine is not None and mine.checked_in_at is not None:
        state["already"] = True
    elif mine is None:
        left = event.capacity - events.places_taken(event)
        if left > 0:
            state["walk_in"] = True
            state["left"] = left
        else:
            state["error"] = _("您没有报名“%(title)s”，现场名额也已满，不能签到；请联系现场工作人员。") % {"title": event.title}
    return state


@require_http_methods(["GET", "POST"])
def check(request, token: str):
    account = current_account(request)
    scanned_at = _scanned_at(request, token)
    if request.method == "GET":
        try:
            event = events.read_token(token)
        except events.CheckError as exc:
            if scanned_at is None or account is None:
                return _check_page(request, {"error": exc.messages[0]}, status=400)
            # Seen valid before signing in: read as of the scan; the service checks the rest.
            try:
                event = events.read_token(token, at=scanned_at)
            except events.CheckError as again:
                return _check_page(request, {"error": again.messages[0]}, status=400)
        else:
            if scanned_at is None:
                _remember_scan(request, token)
        if account is None:
            return _signin(request.path)
        reason = events.check_in_window_error(event, scanned_at or timezone.now())
        if reason:
            return _check_page(request, {"error": reason, "event": event}, status=400)
        return _check_page(request, {**_check_state(event, account), "token": token})
    if account is None:
        return _signin(request.path)
    try:
        registration = events.check_in(account=account, token=token, scanned_at=scanned_at,
                                       walk_in=request.POST.get("walk_in") == "1")
    except (ValidationError, PermissionDenied) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _check_page(request, {"error": message}, status=400)
    event = registration.event
    context = {"done": registration, "event": event, **_links(event)}
    if event.volunteer_activity_id is not None:
        from zhouxin.volunteers import checkin as volunteer_checkin

        context["volunteer_signup"] = volunteer_checkin.signup_of(event.volunteer_activity, account)
    return _check_page(request, context)


# --- The community page and the integrity monitor ---------------------------------------

def community_section(area) -> dict | None:
    """The centres section of a community's public page (core.public_sections): the community's
    own centre(s) and its street's, with their upcoming events; nothing when there is no centre."""
    if area.level != AreaLevel.COMMUNITY:
        return None
    codes = [area.code] + ([area.parent.code] if area.parent_id else [])
    found = list(_public_centres().filter(area__code__in=codes).select_related("area").order_by("-area__code", "name"))
    if not found:
        return None
    today = timezone.localdate()
    for centre in found:
        centre.level_label = _level_label(centre)
        centre.today_text = _today_text(centre, today)
    upcoming = _upcoming(events.public_events().filter(centre__in=found), limit=SECTION_EVENTS)
    own = any(c.area.code == area.code for c in found)
    return {"centres": found, "events": upcoming, "calendar_url": _calendar_url(area if own else area.parent)}


def published_pages() -> dict[str, str]:
    """The centres' public pages, for the integrity monitor (core.public_pages): the list, the
    calendar, every active centre and room, and every published event not yet over."""
    pages = {reverse("centers_public:centres"): _("党群服务中心"), reverse("centers_public:calendar"): _("活动日历")}
    for pk, name in _public_centres().order_by("pk").values_list("pk", "name"):
        pages[reverse("centers_public:centre", args=[pk])] = name
    for pk, name, centre in (Room.objects.unscoped().filter(is_active=True, centre__is_active=True).order_by("pk")
                             .values_list("pk", "name", "centre__name")):
        pages[reverse("centers_public:room", args=[pk])] = f"{centre} {name}"
    for pk, title in (events.public_events().filter(ends_at__gt=timezone.now()).order_by("pk")
                      .values_list("pk", "title")):
        pages[reverse("centers_public:event", args=[pk])] = title
    return pages

