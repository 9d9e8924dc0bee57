"""The co-building dashboard (共建看板): a year of the three lists in the caller's areas.

Who sees what: staff see the areas of their co-building grants (a street hub their street,
community staff their community, the district administrator the district, narrowed to one
street on request); a unit liaison with no staff grant sees their own units' figures.

Figures of a calendar year, each from one aggregate query (a fixed number of queries
whatever the size of the tables):

* needs posted in the year, and of them the ones met (met rate); for a liaison, the needs
  their units claimed in the year (live or confirmed claims);
* resources on the list during the year (registered before its end, available in it), the
  ones newly registered, the ones in use (something committed) and the mean share of
  capacity committed (capacities are in different units, so shares, not sums);
* volunteer hours, beneficiaries, volunteers: sums of the year's service records;
* active units: units with a claim made in the year, or a party (other than a Party
  organisation, i.e. the host community's) of a project active in the year;
* projects active in the year (created in it, still planned or running, completed in it,
  or with a service record in it), by their current status;
* monthly series (needs posted, needs met, volunteer hours), needs by category, and the
  ten units with the most hours and with the most projects, with residents' mean rating.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import Avg, Count, F, FloatField, Q, Sum
from django.db.models.functions import Cast, ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import PARTY_KINDS, AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .choices import ClaimStatus, NeedCategory, NeedStatus, ProjectStatus, ResourceKind
from .models import Claim, Need, Project, Rating, Resource, ServiceRecord
from .services import liaison_units

TOP = 10
# Parties counted as co-building units: everything but Party organisations (a project's host
# community or street Party organisation is a party too, and is no unit).
UNIT_KINDS = tuple(k for k in OrgKind.values if k not in PARTY_KINDS)
LIVE_OR_DONE_CLAIMS = (ClaimStatus.PENDING, ClaimStatus.CONFIRMED, ClaimStatus.FULFILLED)


def _any(parts) -> Q:
    parts = list(parts)
    return reduce(or_, parts) if parts else Q(pk__in=[])


@dataclass(frozen=True)
class DashboardScope:
    """What the dashboard counts: area code prefixes (staff), or the liaison's units."""

    prefixes: tuple[str, ...] = ()
    unit_ids: tuple[int, ...] = ()
    label: str = ""
    streets: tuple[tuple[str, str], ...] = ()  # the street filter's choices (code, name)
    street: str = ""  # the chosen street, "" for all

    @property
    def by_units(self) -> bool:
        return not self.prefixes

    @property
    def empty(self) -> bool:
        return not self.prefixes and not self.unit_ids


def dashboard_scope(user, *, street: str = "") -> DashboardScope:
    """The caller's dashboard scope.  `street` narrows a district-wide view to one of its
    streets; a street outside the caller's areas is ignored (all of them are shown)."""
    prefixes = scope_for_user(user).prefixes(AREA_ROLES & roles_for("cobuild.view"))
    if prefixes:
        wide = [p for p in prefixes if len(p) <= 6]
        streets: tuple[tuple[str, str], ...] = ()
        if wide:
            streets = tuple(Area.objects.unscoped().filter(
                _any(Q(code__startswith=p) for p in wide), level=AreaLevel.STREET, is_active=True)
                .order_by("code").values_list("code", "name"))
        chosen = street if street in {code for code, _name in streets} else ""
        if chosen:
            prefixes = (chosen,)
        names = dict(Area.objects.unscoped().filter(code__in=prefixes).values_list("code", "name"))
        label = _("、").join(names.get(p, p) for p in prefixes)
        return DashboardScope(prefixes=tuple(prefixes), label=label, streets=streets, street=chosen)
    units = list(liaison_units(user).order_by("name").values_list("pk", "name"))
    return DashboardScope(unit_ids=tuple(pk for pk, _name in units), label=_("、").join(n for _pk, n in units))


@dataclass
class Dashboard:
    year: int
    scope: DashboardScope
    needs_posted: int = 0
    needs_met: int = 0
    resources: int = 0
    resources_new: int = 0
    resources_used: int = 0
    resource_share: float | None = None  # mean committed / capacity, 0–1
    resource_kinds: list[dict] = field(default_factory=list)
    hours: Decimal = Decimal("0")
    beneficiaries: int = 0
    volunteers: int = 0
    records: int = 0
    active_units: int = 0
    projects: int = 0
    project_statuses: list[dict] = field(default_factory=list)
    months: list[dict] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    top_hours: list[dict] = field(default_factory=list)
    top_projects: list[dict] = field(default_factory=list)

    @property
    def met_rate(self) -> float | None:
        return round(self.needs_met * 100 / self.needs_posted, 1) if self.needs_posted else None

    @property
    def resource_share_percent(self) -> float | None:
        return None if self.resource_share is None else round(self.resource_share * 100, 1)

    def chart_data(self) -> dict:
        """The numbers the charts draw (json_script): plain lists, labels translated here."""
        return {
            "labels": {
                "posted": _("认领需求") if self.scope.by_units else _("发布需求"), "met": _("已满足需求"),
                "hours": _("志愿服务时长（小时）"), "count": _("个"), "projects": _("项目数"),
                "statuses": _("项目状态"),
            },
            "months": [row["label"] for row in self.months],
            "posted": [row["posted"] for row in self.months],
            "met": [row["met"] for row in self.months],
            "hours": [float(row["hours"]) for row in self.months],
            "categories": [{"name": c["label"], "posted": c["posted"], "met": c["met"]} for c in self.categories],
            "statuses": [{"name": s["label"], "value": s["count"]} for s in self.project_statuses],
            "top_hours": [{"name": u["name"], "value": float(u["hours"])} for u in self.top_hours],
            "top_projects": [{"name": u["name"], "value": u["projects"]} for u in self.top_projects],
        }


def _tenths(value) -> Decimal:
    """A sum of hours as recorded (tenths of an hour); SQLite's sums carry float noise."""
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime(year, 1, 1), tz), timezone.make_aware(dt.datetime(year + 1, 1, 1), tz))


def build(scope: DashboardScope, year: int) -> Dashboard:
    """Compute the dashboard of `scope` for the calendar year `year`."""
    board = Dashboard(year=year, scope=scope)
    board.months = [{"month": m, "label": _("%(m)d月") % {"m": m}, "posted": 0, "met": 0, "hours": Decimal("0"),
                     "beneficiaries": 0} for m in range(1, 13)]
    if scope.empty:
        board.categories, board.project_statuses = [], []
        return board
    start, end = year_bounds(year)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    units = list(scope.unit_ids)

    if scope.by_units:
        need_rows = Claim.objects.unscoped().filter(unit_id__in=units, status__in=LIVE_OR_DONE_CLAIMS)
        via = "need__"
        resources = Resource.objects.unscoped().filter(owner_id__in=units)
        projects = Project.objects.unscoped().filter(
            pk__in=Project.objects.unscoped().filter(parties__in=units).values("pk"))
    else:
        need_rows = Need.objects.unscoped().filter(_any(Q(area__code__startswith=p) for p in scope.prefixes))
        via = ""
        resources = Resource.objects.unscoped().filter(_any(Q(area_code__startswith=p) for p in scope.prefixes))
        projects = Project.objects.unscoped().filter(_any(Q(area__code__startswith=p) for p in scope.prefixes))

    # Needs (or, for a liaison, their units' claims on needs).
    met = Q(**{f"{via}status": NeedStatus.MET})
    posted = need_rows.filter(created_at__gte=start, created_at__lt=end)
    totals = posted.aggregate(posted=Count("pk"), met=Count("pk", filter=met))
    board.needs_posted, board.needs_met = totals["posted"], totals["met"]
    for row in posted.annotate(m=ExtractMonth("created_at")).values("m").annotate(n=Count("pk")).order_by():
        board.months[row["m"] - 1]["posted"] = row["n"]
    met_in_year = need_rows.filter(met, **{f"{via}updated_at__gte": start, f"{via}updated_at__lt": end})
    for row in met_in_year.annotate(m=ExtractMonth(f"{via}updated_at")).values("m").annotate(n=Count("pk")) \
            .order_by():
        board.months[row["m"] - 1]["met"] = row["n"]
    labels = dict(NeedCategory.choices)
    board.categories = sorted(
        ({"category": row[f"{via}category"], "label": str(labels.get(row[f"{via}category"], row[f"{via}category"])),
          "posted": row["n"], "met": row["met"]}
         for row in posted.values(f"{via}category").annotate(n=Count("pk"), met=Count("pk", filter=met)).order_by()),
        key=lambda c: (-c["posted"], c["category"]))

    # Resources on the list during the year.
    listed = resources.filter(created_at__lt=end, available_from__lte=last).filter(
        Q(available_until__isnull=True) | Q(available_until__gte=first))
    share = Avg(Cast("committed", FloatField()) / F("capacity"))
    used = Q(committed__gt=0)
    totals = listed.aggregate(n=Count("pk"), new=Count("pk", filter=Q(created_at__gte=start)),
                              used=Count("pk", filter=used), share=share)
    board.resources, board.resources_new, board.resources_used = totals["n"], totals["new"], totals["used"]
    board.resource_share = totals["share"]
    kinds = dict(ResourceKind.choices)
    board.resource_kinds = sorted(
        ({"kind": row["kind"], "label": str(kinds.get(row["kind"], row["kind"])), "count": row["n"],
          "used": row["used"], "share": None if row["share"] is None else round(row["share"] * 100, 1)}
         for row in listed.values("kind").annotate(n=Count("pk"), used=Count("pk", filter=used), share=share)
         .order_by()),
        key=lambda k: (-k["count"], k["kind"]))

    # Service records of the year.
    records = ServiceRecord.objects.filter(project__in=projects.values("pk"), held_on__gte=first, held_on__lte=last)
    totals = records.aggregate(hours=Sum("volunteer_hours"), beneficiaries=Sum("beneficiaries"),
                               volunteers=Sum("volunteers"), n=Count("pk"))
    board.hours = _tenths(totals["hours"])
    board.beneficiaries, board.volunteers, board.records = (totals["beneficiaries"] or 0, totals["volunteers"] or 0,
                                                            totals["n"])
    for row in records.annotate(m=ExtractMonth("held_on")).values("m").annotate(
            hours=Sum("volunteer_hours"), beneficiaries=Sum("beneficiaries")).order_by():
        board.months[row["m"] - 1].update(hours=_tenths(row["hours"]), beneficiaries=row["beneficiaries"] or 0)

    # Projects active in the year.
    active = projects.filter(created_at__lt=end).filter(
        Q(created_at__gte=start) | Q(status__in=[ProjectStatus.PLANNED, ProjectStatus.RUNNING])
        | Q(completed_at__gte=start)
        | Q(pk__in=ServiceRecord.objects.filter(held_on__gte=first, held_on__lte=last).values("project_id")))
    statuses = dict(active.values("status").annotate(n=Count("pk")).order_by().values_list("status", "n"))
    board.project_statuses = [{"status": value, "label": str(label), "count": statuses.get(value, 0)}
                              for value, label in ProjectStatus.choices]
    board.projects = sum(statuses.values())

    # Active units: a claim made in the year, or a party of an active project.
    claims = Claim.objects.unscoped().filter(created_at__gte=start, created_at__lt=end)
    if scope.by_units:
        claims = claims.filter(unit_id__in=units)
    else:
        claims = claims.filter(_any(Q(need__area__code__startswith=p) for p in scope.prefixes))
    unit_q = Q(pk__in=claims.values("unit_id")) | Q(pk__in=active.values("parties"), kind__in=UNIT_KINDS)
    if scope.by_units:
        unit_q &= Q(pk__in=units)
    board.active_units = Organisation.objects.unscoped().filter(unit_q).count()

    # The top units by hours and by projects, with residents' mean rating of their projects.
    party = {"project__parties__kind__in": UNIT_KINDS}
    own = {"parties__kind__in": UNIT_KINDS}
    if scope.by_units:
        party["project__parties__in"] = units
        own["parties__in"] = units
    by_hours = list(records.filter(**party).values("project__parties").annotate(
        hours=Sum("volunteer_hours"), beneficiaries=Sum("beneficiaries"), projects=Count("project", distinct=True))
        .filter(hours__gt=0).order_by("-hours", "project__parties")[:TOP])
    by_projects = list(active.filter(**own).values("parties").annotate(projects=Count("pk", distinct=True))
                       .order_by("-projects", "parties")[:TOP])
    ids = {row["project__parties"] for row in by_hours} | {row["parties"] for row in by_projects}
    names, ratings = {}, {}
    if ids:
        names = dict(Organisation.objects.unscoped().filter(pk__in=ids).values_list("pk", "name"))
        ratings = {row["project__parties"]: row for row in Rating.objects.filter(
            project__in=active.values("pk"), project__parties__in=ids).values("project__parties").annotate(
            stars=Avg("stars"), n=Count("pk")).order_by()}

    def rating(pk):
        row = ratings.get(pk)
        return (round(row["stars"], 1), row["n"]) if row else (None, 0)

    board.top_hours = [{"id": row["project__parties"], "name": names.get(row["project__parties"], ""),
                        "hours": _tenths(row["hours"]), "beneficiaries": row["beneficiaries"] or 0,
                        "projects": row["projects"], "rating": rating(row["project__parties"])[0],
                        "ratings": rating(row["project__parties"])[1]} for row in by_hours]
    board.top_projects = [{"id": row["parties"], "name": names.get(row["parties"], ""), "projects": row["projects"],
                           "rating": rating(row["parties"])[0], "ratings": rating(row["parties"])[1]}
                          for row in by_projects]
    return board
