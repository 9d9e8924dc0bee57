"""Scoped reads of the staff work pages: queues, the request detail, dispatch targets.

Every query of requests goes through ServiceRequest.objects, which inside a web
request is limited to the signed-in user's grants (area subtree, or for a
department the requests assigned to its organisation).  The queue runs a fixed
number of queries whatever the page size: the tab counts in one aggregate, the
page count and the page's rows with their area, category and lead organisation
joined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhouxin.core.permissions import can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from .choices import OPEN_STATUSES, AssignmentStatus, Status
from .models import Assignment, Category, Extension, RequestEvent, ServiceRequest

# Requests somebody still has to act on: the SLA clock runs (OPEN_STATUSES), or a
# reply waits for its callback.  Queues list only these; the "all" tab searches everything.
ACTIVE_STATUSES = frozenset(OPEN_STATUSES | {Status.REPLIED, Status.HELD})
ACTIVE_ASSIGNMENT = (AssignmentStatus.PENDING, AssignmentStatus.ACCEPTED)
DISPATCHABLE = (Status.RECEIVED, Status.RETURNED)
# Columns a queue row never shows (the encrypted phone is not even decrypted).
# Of the area and district loaded with each row, the GeoJSON boundary above all: a real city's
# community outlines run to kilobytes, parsed for every row otherwise.  The category's keywords too.
QUEUE_DEFER = ("description", "reply", "suggestions", "contact_phone", "contact_phone_index", "hold_reason",
               "invalid_reason", "address", "latitude", "longitude", "idempotency_key",
               # times the row and its SLA light (sla.sla_progress) never read: each is a parse per row
               "dispatched_at", "accepted_at", "callback_at", "contact_overdue_at", "warned_at", "escalated_at",
               "anonymised_at", "created_at", "updated_at",
               *(f"{area}__{name}" for area in ("area", "district")
                 for name in ("boundary", "pinyin", "pinyin_initials", "households", "population", "latitude",
                              "longitude")),
               "category__keywords")


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    permission: str | None = None  # shown only to users holding it


TABS = (
    Tab("mine", _("我的工单")),
    Tab("dispatch", _("待派单"), "dispatch.dispatch"),
    Tab("due_soon", _("即将超时")),
    Tab("overdue", _("已超时")),
    Tab("returned", _("退单")),
    Tab("callback", _("待回访")),
    Tab("supervised", _("督办")),
    Tab("all", _("全部")),
)
TAB_KEYS = {tab.key for tab in TABS}


def tabs_for(user) -> list[Tab]:
    return [tab for tab in TABS if tab.permission is None or can(user, tab.permission)]


def default_tab(user) -> str:
    return "dispatch" if can(user, "dispatch.dispatch") else "mine"


def _mine_q(user) -> Q:
    org_ids = scope_for_user(user).organisation_ids
    mine = Q(received_by_id=user.pk)
    if org_ids:
        mine |= Q(Exists(Assignment.objects.filter(request=OuterRef("pk"), organisation_id__in=org_ids,
                                                   status__in=ACTIVE_ASSIGNMENT)))
    return mine


def tab_q(key: str, user, now: dt.datetime) -> Q:
    """The condition of a tab (on top of the scope)."""
    active = Q(status__in=ACTIVE_STATUSES)
    running = Q(status__in=OPEN_STATUSES)
    if key == "mine":
        return active & _mine_q(user)
    if key == "dispatch":
        return Q(status__in=DISPATCHABLE)
    if key == "due_soon":
        # Yellow: the warning point (warn_ratio of the clock, stored at intake) passed, not yet due.
        return running & Q(warn_due_at__lte=now, resolve_due_at__gt=now)
    if key == "overdue":
        return running & Q(resolve_due_at__lte=now)
    if key == "returned":
        return Q(status=Status.RETURNED)
    if key == "callback":
        return Q(status=Status.REPLIED)
    if key == "supervised":
        return active & Q(supervised=True)
    return Q()


def tab_counts(user, tabs: list[Tab], now: dt.datetime) -> dict[str, int]:
    """The number of requests in every tab but "all", in one aggregate query over the active requests."""
    wanted = [tab.key for tab in tabs if tab.key != "all"]
    if not wanted:
        return {}
    aggregates = {key: Count("pk", filter=tab_q(key, user, now)) for key in wanted}
    return ServiceRequest.objects.filter(status__in=ACTIVE_STATUSES).aggregate(**aggregates)


def tab_ordering(key: str) -> tuple[str, ...]:
    if key == "dispatch":
        return ("received_at", "id")  # first come, first dispatched
    if key in ("due_soon", "overdue"):
        return ("resolve_due_at", "id")
    return ("-received_at", "-id")


@dataclass(frozen=True)
class QueueFilters:
    q: str = ""
    kind: str = ""
    channel: str = ""
    category: Category | None = None
    area: Area | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def queue(user, tab: str, filters: QueueFilters, now: dt.datetime | None = None):
    """The requests of one tab with the filters applied, ready to paginate."""
    now = now or timezone.now()
    return (_queue_filtered(ServiceRequest.objects.filter(tab_q(tab, user, now)), filters)
            .select_related("area", "district", "category", "lead_org")
            .defer(*QUEUE_DEFER)
            .order_by(*tab_ordering(tab)))


def queue_count_parts(user, tab: str, filters: QueueFilters, now: dt.datetime | None = None) -> list | None:
    """The rows of queue() as disjoint parts to count one by one (CappedPaginator's count_parts),
    or None when the user's scope has no organisation part (then the list counts with an index as
    it is).  The requests in the user's areas, then those assigned to their organisations outside
    those areas: each part reads an index, where `area OR assigned` scans the table."""
    now = now or timezone.now()
    area, organisation = ServiceRequest.objects.scope_parts(scope_for_user(user))
    if organisation is None:
        return None
    base = ServiceRequest.objects.unscoped().filter(tab_q(tab, user, now))
    return [_queue_filtered(base.filter(area), filters),
            _queue_filtered(base.filter(organisation).exclude(area), filters)]


def _queue_filtered(qs, filters: QueueFilters):
    f = filters
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.category is not None:
        qs = qs.filter(category__code__startswith=f.category.code)
    if f.area is not None:
        qs = qs.filter(area__code__startswith=f.area.code)
    if f.date_from:
        qs = qs.filter(received_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(received_at__lt=_day_start(f.date_to + dt.timedelta(days=1)))
    if f.q:
        text = Q(title__icontains=f.q) | Q(description__icontains=f.q) | Q(address__icontains=f.q)
        if f.q.isdigit():
            text |= Q(number=f.q)
        qs = qs.filter(text)
    return qs


def filter_areas(user, max_options: int = 400) -> list[Area]:
    """Areas offered in the queue's area filter: the user's part of the tree down to communities."""
    from zhouxin.orgs.selectors import filter_choices_areas

    return filter_choices_areas(user, max_options)


def intake_areas(user, max_options: int = 2000) -> list[Area]:
    """Where a clerk may record a request: the communities and grids in their scope.
    Grids are offered when the grant is at community level or below (a street has too
    many to list; its clerks choose the community)."""
    prefixes = scope_for_user(user).prefixes()
    if not prefixes:
        return []
    levels = [AreaLevel.COMMUNITY]
    if min(len(p) for p in prefixes) >= 12:
        levels.append(AreaLevel.GRID)
    return list(Area.objects.filter(level__in=levels, is_active=True).order_by("code")
                .only("code", "name", "level", "parent_id")[:max_options])


def _active_leaves():
    return Category.objects.filter(level=3, is_active=True, parent__is_active=True,
                                   parent__parent__is_active=True).order_by("code")


def _grouped(leaves) -> list[dict]:
    """(second-level id, "top › second", leaf) in code order → [{"label", "leaves"}]."""
    groups: dict[int, dict] = {}
    for parent_id, label, leaf in leaves:
        groups.setdefault(parent_id, {"label": label, "leaves": []})["leaves"].append(leaf)
    return list(groups.values())


def category_leaves() -> list[dict]:
    """Active leaves grouped under "top › second", for the intake and dispatch pickers (one query)."""
    return _grouped((leaf.parent_id, f"{leaf.parent.parent.name} › {leaf.parent.name}", leaf)
                    for leaf in _active_leaves().select_related("parent", "parent__parent"))


class LeafOption(NamedTuple):
    code: str
    name: str


def category_filter_groups() -> list[dict]:
    """category_leaves() for a filter's options: only each leaf's code and name, read as tuples
    (one query, no model instances: a third of the time for the 240 leaves of the catalogue)."""
    rows = _active_leaves().values_list("parent_id", "parent__parent__name", "parent__name", "code", "name")
    return _grouped((parent_id, f"{top} › {second}", LeafOption(code, name))
                    for parent_id, top, second, code, name in rows)


CATEGORY_SEARCH_LIMIT = 12


def category_search(text: str, limit: int = CATEGORY_SEARCH_LIMIT) -> list[Category]:
    """Active leaves whose name, parents' names, keywords or pinyin initials match."""
    q = " ".join((text or "").split())[:40]
    if not q:
        return []
    match = (Q(name__icontains=q) | Q(parent__name__icontains=q) | Q(parent__parent__name__icontains=q)
             | Q(keywords__icontains=q) | Q(code__startswith=q))
    if q.isascii() and q.isalpha():
        match |= Q(pinyin_initials__startswith=q.lower())
    return list(Category.objects.filter(match, level=3, is_active=True)
                .select_related("parent", "parent__parent").order_by("code")[:limit])


def request_for_detail(number: str):
    """The request with what its detail page shows, or None when it is outside the scope."""
    return (ServiceRequest.objects.filter(number=number)
            .select_related("area", "street", "district", "category", "category__parent",
                            "category__parent__parent", "lead_org", "received_by", "master", "requester")
            .prefetch_related(
                Prefetch("assignments", queryset=Assignment.objects.select_related("organisation", "assigned_by")
                         .order_by("-role", "assigned_at", "id")),
                Prefetch("events", queryset=RequestEvent.objects.select_related("actor", "organisation")
                         .order_by("at", "id")),
                Prefetch("extensions", queryset=Extension.objects.select_related("organisation", "requested_by",
                                                                                  "decided_by")),
                "attachments",
            ).first())


def dispatch_targets(request: ServiceRequest) -> list[Organisation]:
    """Who a request can be dispatched to: the district's departments and the Party
    committees of the communities of the request's street.

    Read without the caller's scope on purpose: the street hub dispatches to
    district departments whose area (the district) lies above its own grant.  Only
    names and kinds are shown; nothing else of those organisations is read.
    """
    street_code = request.street.code
    return list(
        Organisation.objects.unscoped()
        .filter(is_active=True)
        .filter(Q(kind=OrgKind.DEPARTMENT, area__code__startswith=request.district.code)
                | Q(kind=OrgKind.PARTY_COMMITTEE, area__code__startswith=street_code,
                    area__level=AreaLevel.COMMUNITY)
                | Q(kind=OrgKind.WORKING_COMMITTEE, area_id=request.street_id))
        .select_related("area").order_by("kind", "area__code", "name")
    )


def bulk_dispatch_targets(user) -> list[Organisation]:
    """Targets for a bulk dispatch: the departments of the districts and the community
    committees of the streets the user dispatches for (unscoped for the same reason)."""
    prefixes = scope_for_user(user).prefixes()
    if not prefixes:
        return []
    districts = {p[:6] for p in prefixes}
    area_q = Q()
    for prefix in prefixes:
        area_q |= Q(area__code__startswith=prefix)
    dept_q = Q()
    for district in districts:
        dept_q |= Q(area__code__startswith=district)
    return list(
        Organisation.objects.unscoped()
        .filter(is_active=True)
        .filter(Q(dept_q, kind=OrgKind.DEPARTMENT)
                | Q(area_q, kind=OrgKind.PARTY_COMMITTEE, area__level=AreaLevel.COMMUNITY))
        .select_related("area").order_by("kind", "area__code", "name")
    )


def my_pending_assignments(user, requests) -> dict[int, Assignment]:
    """The user's organisations' pending assignments on the given requests, by request id."""
    org_ids = scope_for_user(user).organisation_ids
    if not org_ids:
        return {}
    rows = Assignment.objects.filter(request__in=requests, organisation_id__in=org_ids,
                                     status=AssignmentStatus.PENDING).select_related("organisation")
    return {a.request_id: a for a in rows}
