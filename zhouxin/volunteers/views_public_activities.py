"""Portal pages of volunteer activities (phone first), under /portal/volunteer/.

* activities/: published activities that have not ended, of every community, filterable by
  community; an activity page with the number of places left (never who signed up) and, for
  the signed-in volunteer, the sign-up or cancel button;
* me/ (我的志愿服务): the volunteer's own sign-ups, their verified hours this year and, for a
  Party member, their points and the progress towards the yearly minimum;
* check/<token>/: what the phone camera opens when the volunteer scans the organiser's code;
  the scan is kept in the session while the volunteer signs in, then one tap records it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core import policy
from zhouxin.orgs.models import Area
from zhouxin.portal import scans
from zhouxin.portal.session import current_account

from . import activities, checkin, hours, identity, points
from .choices import ActivityStatus, SignUpStatus
from .models import Activity, SignUp
from .policy import SERVICE_KEY

SCANS_KEY = "volunteer_scans"
LIST_SHOWN = 100


def _page(request, template: str, context: dict, status: int = 200, private: bool = False):
    account = context.setdefault("account", current_account(request))
    response = render(request, template, context, status=status)
    if private or account is not None:  # a page with the volunteer's own data: never in a shared cache
        patch_cache_control(response, private=True, no_store=True)
    return response


def _signin(request, path: str | None = None):
    return redirect(f"{reverse('portal:signin')}?{urlencode({'next': path or request.get_full_path()})}")


def _not_found(request):
    return _page(request, "portal/404.html", {}, status=404)


def _public_activities():
    return Activity.objects.unscoped().exclude(status=ActivityStatus.DRAFT)


@require_GET
def activity_list(request):
    now = timezone.now()
    listed = activities.with_places(_public_activities().filter(status=ActivityStatus.PUBLISHED, ends_at__gt=now)
                                    .select_related("community__parent"))
    communities = list(Area.objects.unscoped().filter(pk__in=listed.values("community_id"))
                       .select_related("parent").order_by("code"))
    community = request.GET.get("community", "")
    if community:
        listed = listed.filter(community__code=community)
    items = list(listed.order_by("starts_at", "id")[:LIST_SHOWN])
    for item in items:
        item.left = max(0, item.slots - item.taken)
    return _page(request, "volunteers/activities/public_list.html", {
        "items": items, "communities": communities, "community": community})


def _activity_context(request, activity, account) -> dict:
    mine = None
    if account is not None:
        mine = (SignUp.objects.unscoped().filter(activity=activity, account=account)
                .order_by("-id").first())
    taken = activities.places_taken(activity)
    reason = activities.signup_open_reason(activity)
    member = activities.registered_member(account) if account is not None and activity.members_only else None
    return {
        "activity": activity, "mine": mine, "left": max(0, activity.slots - taken), "closed_reason": reason,
        "can_sign_up": not reason and taken < activity.slots
        and (mine is None or mine.status == SignUpStatus.CANCELLED)
        and (not activity.members_only or account is None or member is not None),
        "needs_registration": activity.members_only and account is not None and member is None,
        "can_cancel": mine is not None and mine.status == SignUpStatus.SIGNED_UP
        and activity.starts_at > timezone.now(),
        "signin_url": f"{reverse('portal:signin')}?"
                      f"{urlencode({'next': reverse('volunteers_public:activity', args=[activity.pk])})}",
    }


def _activity(pk: int):
    return _public_activities().select_related("community__parent", "unit").filter(pk=pk).first()


@require_GET
def activity_page(request, pk: int):
    activity = _activity(pk)
    if activity is None:
        return _not_found(request)
    account = current_account(request)
    context = _activity_context(request, activity, account)
    if account is not None:
        context["notice"] = DONE.get(request.GET.get("ok", ""))
    return _page(request, "volunteers/activities/public_activity.html", context)


DONE = {"signed_up": gettext_lazy("报名成功。请按时到场，到场后扫描组织者出示的签到码签到。"), "cancelled": gettext_lazy("已取消报名。")}


def _after_action(request, activity, call, success: str):
    account = current_account(request)
    if account is None:
        return _signin(request, reverse("volunteers_public:activity", args=[activity.pk]))
    try:
        call(account)
    except (ValidationError, PermissionDenied) as exc:
        context = _activity_context(request, activity, account)
        context["errors"] = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        return _page(request, "volunteers/activities/public_activity.html", context, status=422)
    return redirect(f"{reverse('volunteers_public:activity', args=[activity.pk])}?{urlencode({'ok': success})}")


@require_POST
def activity_signup(request, pk: int):
    activity = _activity(pk)
    if activity is None:
        return _not_found(request)
    return _after_action(request, activity, lambda account: activities.signup(account=account, activity=activity),
                         "signed_up")


@require_POST
def activity_withdraw(request, pk: int):
    activity = _activity(pk)
    if activity is None:
        return _not_found(request)

    def cancel(account):
        own = SignUp.objects.unscoped().filter(activity=activity, account=account,
                                               status=SignUpStatus.SIGNED_UP).select_related("activity").first()
        if own is None:
            raise ValidationError(_("您没有可以取消的报名。"))
        activities.signup_cancel(account=account, signup=own)

    return _after_action(request, activity, cancel, "cancelled")


# --- 我的志愿服务 ------------------------------------------------------------------------

def _year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


@require_GET
def me(request):
    account = current_account(request)
    if account is None:
        return _signin(request)
    today = timezone.localdate()
    start, end = _year_bounds(today.year)
    member = identity.member_for_account(account)
    own = SignUp.objects.unscoped().filter(account=account)
    if member is not None:
        own = SignUp.objects.unscoped().filter(account=account) | SignUp.objects.unscoped().filter(person=member)
    signups = list(own.select_related("activity__community").order_by("-activity__starts_at", "-id")[:200])
    context = {"account": account, "signups": signups, "member": member, "year": today.year}
    if member is not None:
        minutes = hours.minutes_by_person([member.pk], start, end)[member.pk]
        minimum = Decimal(str(policy.get(SERVICE_KEY, city=identity.city_of(member.home_area),
                                         on=today)["yearly_minimum_hours"]))
        year_hours = hours.to_hours(minutes)
        context.update({
            "points_year": points.total([member.pk], dt.date(today.year, 1, 1),
                                        dt.date(today.year + 1, 1, 1)).get(member.pk, Decimal("0")),
            "points_all": points.total([member.pk]).get(member.pk, Decimal("0")),
            "minimum": minimum,
            "progress": min(100, int(year_hours * 100 / minimum)) if minimum else 100,
        })
    else:
        minutes = hours.minutes_for_account(account.pk, start, end)
        year_hours = hours.to_hours(minutes)
    context["year_hours"] = year_hours
    return _page(request, "volunteers/activities/public_me.html", context, private=True)


# --- Scanning the organiser's code -------------------------------------------------------

def _remember_scan(request, token: str) -> None:
    scans.remember(request, SCANS_KEY, token)


def _scanned_at(request, token: str) -> dt.datetime | None:
    return scans.scanned_at(request, SCANS_KEY, token)


@require_http_methods(["GET", "POST"])
def check(request, token: str):
    account = current_account(request)
    scanned_at = _scanned_at(request, token)
    if request.method == "GET":
        try:
            activity, action = checkin.read_token(token)
        except checkin.CheckError as exc:
            if scanned_at is None or account is None:
                return _page(request, "volunteers/activities/public_check.html",
                             {"error": exc.messages[0]}, status=400, private=True)
            # Seen valid before signing in: read it as of the scan, the service checks the rest.
            try:
                activity, action = checkin.read_token(token, at=scanned_at)
            except checkin.CheckError as again:
                return _page(request, "volunteers/activities/public_check.html",
                             {"error": again.messages[0]}, status=400, private=True)
        else:
            if scanned_at is None:
                _remember_scan(request, token)
        if account is None:
            return _signin(request)
        return _page(request, "volunteers/activities/public_check.html",
                     {"activity": activity, "action": action, "token": token}, private=True)
    if account is None:
        return _signin(request)
    try:
        signup = checkin.check_by_code(account=account, token=token, scanned_at=scanned_at)
    except checkin.CheckError as exc:
        return _page(request, "volunteers/activities/public_check.html",
                     {"error": exc.messages[0]}, status=400, private=True)
    except (ValidationError, PermissionDenied) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _page(request, "volunteers/activities/public_check.html", {"error": message}, status=400,
                     private=True)
    return _page(request, "volunteers/activities/public_check.html", {
        "done": signup, "activity": signup.activity, "hours": hours.to_hours(signup.minutes)}, private=True)
