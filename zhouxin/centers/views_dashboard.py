"""Utilisation dashboards of the centres (中心使用情况) and the day's visitor count.

* The street dashboard: every centre of one street (the street's own centre and its communities'
  centres) — the caller's street for a street hub; the district administrator picks one of the
  district's streets.  Community staff, who have no street, are sent to their community's page.
* The community dashboard: the centres of one community — community staff their own; the street
  hub and the district administrator pick one of theirs.
* The visitor count: staff who keep a centre record the day's visitors (POST, from either
  dashboard or from the page listing the recent counts).

Both dashboards offer this month, last month and the last twelve months.  The figures come from
utilisation.report (a fixed number of queries); ECharts draws them (static/zhouxin/centres-
dashboard.js reads the json_script data island, no inline script) and every chart's numbers are
in a table on the page as well.  A street or community outside the caller's areas answers 404;
a role without "centers.view" ("centers.manage" for the count) 403.
"""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from zhouxin.core.actions import perform
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.decorators import staff_view
from zhouxin.core.permissions import can, roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import utilisation
from .forms_utilisation import VisitCountForm
from .models import Centre, VisitCount

RECENT_DAYS = 14


def _prefixes(user, permission: str) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for(permission))


def _under(prefixes, field: str) -> Q:
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in prefixes)) if prefixes else Q(pk__in=[])


def viewable_streets(user) -> list[Area]:
    """Streets whose whole dashboard the caller may read (a grant on the street or above)."""
    return list(Area.objects.unscoped().filter(_under(_prefixes(user, "centers.view"), "code"),
                                               level=AreaLevel.STREET, is_active=True).order_by("code"))


def viewable_communities(user) -> list[Area]:
    return list(Area.objects.unscoped().filter(_under(_prefixes(user, "centers.view"), "code"),
                                               level=AreaLevel.COMMUNITY, is_active=True)
                .select_related("parent").order_by("code"))


def _chosen(areas: list[Area], code: str | None, default: Area | None) -> Area | None:
    if not code:
        return default
    found = next((a for a in areas if a.code == code), None)
    if found is None:  # another street's or community's page: as if it did not exist
        raise Http404
    return found


def _week_label(day) -> str:
    return _("%(m)d月%(d)d日") % {"m": day.month, "d": day.day}


def _number(value) -> float:
    return float(value) if value is not None else 0.0


def _chart_data(result: utilisation.Report, *, street: bool) -> dict:
    """The numbers the charts draw (json_script): plain lists, labels translated here."""
    return {
        "labels": {
            "occupancy": _("使用率（%）"), "bookings": _("预约场次"), "no_shows": _("爽约"),
            "visitors": _("来访人次"), "events": _("活动场次"), "attendance": _("签到人次"), "count": _("次"),
        },
        "centres": [{"name": c.centre.name, "value": _number(c.occupancy)} for c in result.centres],
        "rooms": [{"name": f"{r.room.centre.name} · {r.room.name}" if street else r.room.name,
                   "value": _number(r.occupancy)} for r in result.rooms],
        "weeks": [_week_label(w.start) for w in result.weeks],
        "bookings": [w.bookings for w in result.weeks],
        "no_shows": [w.no_shows for w in result.weeks],
        "visitors": [w.visitors for w in result.weeks],
        "events": [w.events for w in result.weeks],
        "attendance": [w.attendance for w in result.weeks],
    }


def _visit_form(request, centres: list[Centre]) -> VisitCountForm | None:
    """The visitor-count form for the centres on the page the caller keeps, or None."""
    if not can(request.user, "centers.manage"):
        return None
    allowed = _prefixes(request.user, "centers.manage")
    ids = [c.pk for c in centres if c.is_active and any(c.area.code.startswith(p) for p in allowed)]
    if not ids:
        return None
    return VisitCountForm(centres=Centre.objects.filter(pk__in=ids).order_by("area__code", "name"))


def _render(request, *, kind: str, area: Area, choices, centres: list[Centre], period):
    result = utilisation.report(centres, period.first, period.last)
    here = request.get_full_path()
    return render(request, "centers/dashboard/dashboard.html", {
        "kind": kind, "area": area, "choices": choices, "period": period, "periods": utilisation.PERIODS,
        "result": result, "totals": result.totals, "data": _chart_data(result, street=kind == "street"),
        "visit_form": _visit_form(request, centres), "next": here,
        "has_streets": kind == "street" or bool(viewable_streets(request.user)),
    })


@staff_view("centers.view")
@require_GET
def street_dashboard(request):
    streets = viewable_streets(request.user)
    if not streets and not request.GET.get("street"):
        # Community staff have no street: their community's page says what they may see.
        return redirect("centers:dashboard_community")
    street = _chosen(streets, request.GET.get("street"), streets[0] if streets else None)
    period = utilisation.period_for(request.GET.get("period"))
    centres = list(Centre.objects.filter(area__code__startswith=street.code, is_active=True)
                   .select_related("area").order_by("area__code", "name"))
    return _render(request, kind="street", area=street, choices=[(s.code, s.name) for s in streets],
                   centres=centres, period=period)


@staff_view("centers.view")
@require_GET
def community_dashboard(request):
    communities = viewable_communities(request.user)
    default = None
    if communities and not request.GET.get("community"):
        with_centre = set(Centre.objects.filter(area__in=communities, is_active=True).values_list("area_id", flat=True))
        default = next((c for c in communities if c.pk in with_centre), communities[0])
    community = _chosen(communities, request.GET.get("community"), default)
    period = utilisation.period_for(request.GET.get("period"))
    if community is None:
        return render(request, "centers/dashboard/dashboard.html", {
            "kind": "community", "area": None, "choices": [], "period": period, "periods": utilisation.PERIODS,
            "result": None})
    centres = list(Centre.objects.filter(area=community, is_active=True).select_related("area").order_by("name"))
    choices = [(c.code, f"{c.parent.name} · {c.name}" if c.parent_id and len(communities) > 1 else c.name)
               for c in communities]
    return _render(request, kind="community", area=community, choices=choices, centres=centres, period=period)


@staff_view("centers.manage")
@require_http_methods(["GET", "POST"])
def visits(request):
    """The day's visitor count: the form, and the counts of the last two weeks of the centres the
    caller keeps."""
    keepable = Centre.objects.filter(_under(_prefixes(request.user, "centers.manage"), "area__code"),
                                     is_active=True).select_related("area").order_by("area__code", "name")
    if request.method == "POST":
        raw = request.POST.get("centre", "")
        centre = get_object_or_404(Centre.objects.select_related("area"), pk=int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if centre is not None and not can(request.user, "centers.manage", centre.area.code):
            raise PermissionDenied
        form = VisitCountForm(request.POST, centres=keepable)

        def record(data):
            if centre is None:
                raise ValidationError(_("请选择服务中心。"))
            return utilisation.visits_record(actor=request.user, centre=centre, day=data["day"],
                                             visitors=data["visitors"])

        perform(request, form, record, success=lambda count: _("已登记%(centre)s %(day)s 的来访人次：%(n)s。") % {
            "centre": count.centre.name, "day": count.day.isoformat(), "n": count.visitors})
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
            target = reverse("centers:visits")
        return redirect(target)
    recent = list(VisitCount.objects.filter(centre__in=keepable, day__gte=timezone.localdate() - dt.timedelta(days=RECENT_DAYS - 1))
                  .select_related("centre", "recorded_by").order_by("-day", "centre__area__code", "centre__name"))
    return render(request, "centers/dashboard/visits.html", {
        "form": VisitCountForm(centres=keepable), "recent": recent, "days": RECENT_DAYS, "next": ""})

