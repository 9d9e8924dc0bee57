"""街乡吹哨、部门报到: the street blows a whistle, the summoned departments report, the street rates them.

The rules (DESIGN §3 "dispatch", issue 3 item 7):

* Only the street hub blows a whistle (permission "dispatch.whistle" on the street), on a
  request of its street or on a local problem, and summons one or more departments
  (organisations of kind 职能部门 in the street's district).
* Each summons has its own report deadline from the policy "dispatch.whistle": 30 minutes for
  an urgent whistle, 24 hours otherwise, in calendar time (a department must come at once,
  weekends included).  A report after the deadline is kept and counted as late; the sweep
  flags a summons that is still unreported at its deadline, once.
* Only a handler of the summoned department (a department_handler grant tied to that
  organisation, reaching the street) reports (报到), with a note.
* 事不完、人不撤: the whistle is solved only when every summoned department has reported.
* 一哨一考核: the street rates each department's response 1–5 once it has reported; the
  ratings and the punctuality feed the department evaluation (`department_whistle_scores`).

Every write takes the acting user explicitly, runs in one transaction, audits in it and claims
its state change with a conditional UPDATE, so two people acting at once cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit
from zhouxin.core import policy as policy_store
from zhouxin.core.choices import Role
from zhouxin.core.models import Grant
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.choices import AreaLevel, OrgKind
from zhouxin.orgs.models import Area, Organisation

from . import numbering
from .choices import EventAction, Status, Urgency, WhistleStatus
from .models import ServiceRequest, Summons, Whistle

TITLE_MAX = Whistle._meta.get_field("title").max_length
TEXT_MAX = 2000
RATING_NOTE_MAX = Summons._meta.get_field("rating_note").max_length
NUMBER_PREFIX = "CS"  # 吹哨
# A whistle on a request that is finished or folded into another makes no sense.
NOT_WHISTLABLE = frozenset({Status.CLOSED, Status.MERGED, Status.INVALID})


# --- helpers ------------------------------------------------------------------------

def _text(value, *, label: str, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError(_("请填写%(label)s。") % {"label": label})
    if len(text) > max_length:
        raise ValidationError(_("%(label)s不能超过 %(n)d 个字。") % {"label": label, "n": max_length})
    return text


def _ancestor(area: Area, level: str) -> Area | None:
    node = area
    while node is not None and node.level != level:
        node = node.parent
    return node


def district_of(street: Area) -> Area:
    district = _ancestor(street, AreaLevel.DISTRICT)
    if district is None:
        raise ValidationError(_("该街道不属于任何区，不能吹哨。"))
    return district


def report_deadline(*, urgency: str, opened_at: dt.datetime, city=None) -> dt.datetime:
    """Policy "dispatch.whistle": urgent → urgent_report_minutes, otherwise normal_report_hours;
    calendar time, because a summoned department comes whatever the day."""
    rule = policy_store.get("dispatch.whistle", city=city, on=timezone.localdate(opened_at))
    if urgency == Urgency.URGENT:
        return opened_at + dt.timedelta(minutes=int(rule["urgent_report_minutes"]))
    return opened_at + dt.timedelta(hours=int(rule["normal_report_hours"]))


def summonable_departments(district: Area):
    """The departments a street of `district` may summon: active 职能部门 sitting in the district.

    Read without the caller's scope on purpose: a street hub's grants reach its own street,
    while the departments it summons sit at district level; the list holds only names of
    public bodies of the same district.
    """
    return (Organisation.objects.unscoped()
            .filter(kind=OrgKind.DEPARTMENT, is_active=True, area__code__startswith=district.code)
            .order_by("name", "pk"))


def reporting_departments(user) -> frozenset[int]:
    """Ids of the organisations the user reports for: its active department_handler grants."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_zhouxin_reporting_departments", None)
    if cached is None:
        cached = frozenset(
            Grant.objects.filter(user=user, active=True, role=Role.DEPARTMENT_HANDLER, organisation__isnull=False)
            .values_list("organisation_id", flat=True))
        user._zhouxin_reporting_departments = cached
    return cached


def can_report(user, summons: Summons, street_code: str) -> bool:
    """A handler of the summoned department whose grant reaches the whistle's street."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if summons.department_id not in reporting_departments(user):
        return False
    codes = Grant.objects.filter(user=user, active=True, role=Role.DEPARTMENT_HANDLER,
                                 organisation_id=summons.department_id).values_list("area__code", flat=True)
    return any(street_code.startswith(code) for code in codes)


def is_late(summons: Summons) -> bool:
    return summons.reported_at is not None and summons.reported_at > summons.report_due_at


def whistle_number(district: Area, opened_at: dt.datetime) -> str:
    """哨号: CS + district code + local yyMMdd + the day's sequence, e.g. CS110101261126007.

    The sequence comes from the shared daily counter (numbering.next_value, one atomic upsert),
    so two streets of a district blowing at the same moment never draw the same number."""
    day = timezone.localtime(opened_at).date()
    sequence = numbering.next_value(f"W{district.code}", day)
    return f"{NUMBER_PREFIX}{district.code}{day:%y%m%d}{sequence:03d}"


def _whistled_event(*, actor, request: ServiceRequest, whistle: Whistle, departments: list[Organisation]):
    """The request's timeline shows the whistle.  Written through the lifecycle's event helper,
    which folds it into the roll-ups in this transaction like every other RequestEvent (a
    "whistled" event moves no counter) and tells listeners after commit."""
    from .services import _event

    return _event(request, actor=actor, action=EventAction.WHISTLED, from_status=request.status,
                  to_status=request.status, organisation_id=request.lead_org_id, note=whistle.title,
                  data={"whistle": whistle.number, "departments": [d.pk for d in departments]},
                  at=whistle.opened_at)


def _lock_message_reported(summons: Summons) -> str:
    return _("%(department)s已于 %(at)s 报到，不能重复报到。") % {
        "department": summons.department.name,
        "at": timezone.localtime(summons.reported_at).strftime("%Y-%m-%d %H:%M"),
    }


# --- services -----------------------------------------------------------------------

@transaction.atomic
def whistle_open(*, actor, street: Area, title: str, description: str, departments: Iterable[Organisation],
                 urgency: str = Urgency.NORMAL, request: ServiceRequest | None = None) -> Whistle:
    """Blow a whistle (吹哨) on a request of the street or on a local problem, summoning departments.

    Each summoned department gets a report deadline from policy "dispatch.whistle".  A whistle
    on a request shows on the request's timeline (event "whistled").
    """
    if street is None or street.level != AreaLevel.STREET:
        raise ValidationError(_("只有街道可以吹哨。"))
    ensure_can(actor, "dispatch.whistle", street.code)
    title = _text(title, label=_("问题"), max_length=TITLE_MAX)
    description = _text(description, label=_("情况说明"), max_length=TEXT_MAX)
    if urgency not in Urgency.values:
        raise ValidationError(_("紧急程度只能是“一般”或“紧急”。"))
    district = district_of(street)

    chosen: dict[int, Organisation] = {}
    for department in departments or ():
        chosen.setdefault(department.pk, department)
    if not chosen:
        raise ValidationError(_("请至少召集一个职能部门。"))
    allowed = set(summonable_departments(district).filter(pk__in=list(chosen)).values_list("pk", flat=True))
    refused = [d.name for pk, d in chosen.items() if pk not in allowed]
    if refused:
        raise ValidationError(_("只能召集本区在用的职能部门，以下单位不能召集：%(names)s。")
                              % {"names": pgettext("列表分隔", "、").join(refused)})
    departments = sorted(chosen.values(), key=lambda d: (d.name, d.pk))

    if request is not None:
        if request.street_id != street.pk:
            raise ValidationError(_("工单 %(number)s 不属于本街道，不能就它吹哨。") % {"number": request.number})
        if request.status in NOT_WHISTLABLE:
            raise ValidationError(_("工单 %(number)s 已%(status)s，不能再吹哨。")
                                  % {"number": request.number, "status": request.get_status_display()})

    opened_at = timezone.now()
    due = report_deadline(urgency=urgency, opened_at=opened_at, city=_ancestor(district, AreaLevel.CITY))
    # The number is drawn last: the counter row stays locked until this transaction ends.
    whistle = Whistle(number=whistle_number(district, opened_at), district=district, street=street,
                      request=request, title=title, description=description, urgency=urgency,
                      status=WhistleStatus.OPEN, opened_by=actor, opened_at=opened_at)
    whistle.save(force_insert=True)
    Summons.objects.bulk_create(
        [Summons(whistle=whistle, department=d, report_due_at=due) for d in departments])
    if request is not None:
        _whistled_event(actor=actor, request=request, whistle=whistle, departments=departments)
    audit.record(actor=actor, action="dispatch.whistle.opened", obj=whistle, after={
        "number": whistle.number, "street": street.code, "urgency": urgency,
        "request": request.number if request is not None else None,
        "departments": [d.pk for d in departments], "report_due_at": due,
    })
    return whistle


@transaction.atomic
def summons_report(*, actor, summons: Summons, note: str) -> Summons:
    """报到: a handler of the summoned department reports with a note; after the deadline the
    report is still taken and counted as late.  Only the first report counts."""
    whistle = summons.whistle
    if not can_report(actor, summons, whistle.street.code):
        raise PermissionDenied(_("只有被召集部门的承办人才能报到。"))
    note = _text(note, label=_("报到情况"), max_length=TEXT_MAX)
    now = timezone.now()
    # Conditions on the summons row itself, no join: PostgreSQL re-checks them on the row a
    # concurrent report just committed (a join would turn the UPDATE into "id IN (subquery)",
    # evaluated once, and both reports would pass).  An unreported summons always belongs to an
    # open whistle, since a whistle is solved only when every summons has reported.
    claimed = (Summons.objects.filter(pk=summons.pk, reported_at__isnull=True)
               .update(reported_at=now, reported_by=actor, report_note=note))
    if claimed != 1:
        raise ValidationError(_lock_message_reported(
            Summons.objects.select_related("department").get(pk=summons.pk)))
    summons.reported_at, summons.reported_by, summons.report_note = now, actor, note
    late = now > summons.report_due_at
    audit.record(actor=actor, action="dispatch.summons.reported", obj=summons,
                 object_repr=f"{whistle.number} {summons.department.name}",
                 after={"whistle": whistle.number, "department": summons.department_id, "reported_at": now,
                        "report_due_at": summons.report_due_at, "late": late, "note": note})
    return summons


@transaction.atomic
def summons_rate(*, actor, summons: Summons, rating, note: str = "") -> Summons:
    """一哨一考核: the street rates a department's response 1–5, once, after it has reported."""
    whistle = summons.whistle
    ensure_can(actor, "dispatch.whistle", whistle.street.code)
    try:
        if isinstance(rating, bool):
            raise ValueError
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("评价只能是 1 到 5 分。")) from None
    if not 1 <= value <= 5:
        raise ValidationError(_("评价只能是 1 到 5 分。"))
    note = _text(note, label=_("评价说明"), max_length=RATING_NOTE_MAX, required=False)
    claimed = (Summons.objects.filter(pk=summons.pk, reported_at__isnull=False, rating__isnull=True)
               .update(rating=value, rating_note=note, rated_by=actor))
    if claimed != 1:
        current = Summons.objects.select_related("department").get(pk=summons.pk)
        if current.reported_at is None:
            raise ValidationError(_("%(department)s尚未报到，报到后才能评价。")
                                  % {"department": current.department.name})
        raise ValidationError(_("%(department)s的响应已评为 %(rating)d 分，不能重复评价。")
                              % {"department": current.department.name, "rating": current.rating})
    summons.rating, summons.rating_note, summons.rated_by = value, note, actor
    audit.record(actor=actor, action="dispatch.summons.rated", obj=summons,
                 object_repr=f"{whistle.number} {summons.department.name}",
                 after={"whistle": whistle.number, "department": summons.department_id, "rating": value,
                        "note": note})
    return summons


@transaction.atomic
def whistle_solve(*, actor, whistle: Whistle, solution: str) -> Whistle:
    """Close the whistle with its solution.  事不完、人不撤: refused while any summoned
    department has not reported."""
    ensure_can(actor, "dispatch.whistle", whistle.street.code)
    solution = _text(solution, label=_("解决情况"), max_length=TEXT_MAX)
    missing = list(Summons.objects.filter(whistle_id=whistle.pk, reported_at__isnull=True)
                   .order_by("department__name").values_list("department__name", flat=True))
    if missing:
        raise ValidationError(_("事不完、人不撤：%(names)s尚未报到，所有被召集部门报到后才能办结。")
                              % {"names": pgettext("列表分隔", "、").join(missing)})
    now = timezone.now()
    # The claim is on the whistle row alone (see summons_report); reports only ever add, so the
    # check above cannot be undone meanwhile.
    claimed = (Whistle.objects.unscoped().filter(pk=whistle.pk, status=WhistleStatus.OPEN)
               .update(status=WhistleStatus.SOLVED, solved_at=now, solution=solution))
    if claimed != 1:
        raise ValidationError(_("该吹哨已解决，不能重复办结。"))
    before = {"status": whistle.status}
    whistle.status, whistle.solved_at, whistle.solution = WhistleStatus.SOLVED, now, solution
    audit.record(actor=actor, action="dispatch.whistle.solved", obj=whistle, before=before,
                 after={"status": WhistleStatus.SOLVED, "solved_at": now, "solution": solution})
    return whistle


# --- the sweep ----------------------------------------------------------------------

@dataclass(frozen=True)
class WhistleSweepResult:
    flagged: int
    summons_ids: tuple[int, ...]


def whistle_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> WhistleSweepResult:
    """Flag every summons of an open whistle that is unreported at its deadline, exactly once.

    Each flag is a conditional UPDATE (overdue_at IS NULL → now) in its own transaction with
    its audit entry, so two sweepers running at once (or the SLA sweep loop and
    `manage.py whistle_sweep`) never flag one summons twice.  The flag turns the summons red
    on the whistle board and in the department's list; the audit entry is the notice.
    """
    now = now or timezone.now()
    candidates = list(
        Summons.objects.filter(reported_at__isnull=True, overdue_at__isnull=True, report_due_at__lte=now,
                               whistle__status=WhistleStatus.OPEN)
        .order_by("report_due_at", "pk").values_list("pk", flat=True)[:batch])
    flagged: list[int] = []
    for pk in candidates:
        with transaction.atomic():
            claimed = Summons.objects.filter(pk=pk, reported_at__isnull=True, overdue_at__isnull=True).update(
                overdue_at=now)
            if claimed != 1:
                continue  # reported meanwhile, or another sweeper flagged it
            summons = Summons.objects.select_related("whistle", "department").get(pk=pk)
            audit.record(actor=None, action="dispatch.summons.overdue", obj=summons,
                         object_repr=f"{summons.whistle.number} {summons.department.name}",
                         after={"whistle": summons.whistle.number, "department": summons.department_id,
                                "report_due_at": summons.report_due_at, "flagged_at": now})
            flagged.append(pk)
    return WhistleSweepResult(flagged=len(flagged), summons_ids=tuple(flagged))


# --- department evaluation ----------------------------------------------------------

@dataclass(frozen=True)
class DepartmentWhistleScore:
    """One department's whistle record for a month (一哨一考核), for the department evaluation.

    summonses: how often whistles opened in the month summoned it; each summons is exactly one
    of reported_in_time, late (reported after its deadline), overdue (not reported, deadline
    passed) or pending (not reported, deadline still ahead).  rated / average_rating: the
    streets' 1–5 ratings (average None while there is none).
    """

    department: Organisation
    summonses: int
    reported_in_time: int
    late: int
    overdue: int
    pending: int
    rated: int
    average_rating: Decimal | None

    @property
    def due(self) -> int:
        """Summonses whose deadline has come (reported, or unreported past the deadline)."""
        return self.summonses - self.pending

    @property
    def in_time_rate(self) -> Decimal | None:
        """Share of the due summonses reported on time, 0–100 with one decimal (None: none due yet)."""
        if not self.due:
            return None
        return (Decimal(100 * self.reported_in_time) / self.due).quantize(Decimal("0.1"), ROUND_HALF_UP)


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The month containing `month`, as aware local datetimes [start, end)."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (dt.datetime.combine(first, dt.time.min, tzinfo=tz), dt.datetime.combine(following, dt.time.min, tzinfo=tz))


def department_whistle_scores(*, district: Area, month: dt.date, street: Area | None = None,
                              departments: Iterable[int] | None = None,
                              now: dt.datetime | None = None) -> list[DepartmentWhistleScore]:
    """Rows per department summoned by whistles opened in `district` during `month` (local time):
    (department, summonses, reported in time, late, overdue, pending, rated, average rating),
    with `now` (default: the current time) deciding whether an unreported summons is overdue.

    For the department evaluation (helper "rates" may show these rows beside the three rates).
    `street` limits to one street's whistles; `departments` (ids) to those departments.  The
    caller decides what its user may see: this selector reads no scope.  One aggregate query
    plus one for the department names, whatever the number of rows.  Sorted by average rating
    (unrated last), then the on-time share, then name.
    """
    start, end = month_bounds(month)
    now = now or timezone.now()
    summonses = Summons.objects.filter(whistle__district=district, whistle__opened_at__gte=start,
                                       whistle__opened_at__lt=end)
    if street is not None:
        summonses = summonses.filter(whistle__street=street)
    if departments is not None:
        summonses = summonses.filter(department_id__in=list(departments))
    counted = (summonses.values("department_id").order_by("department_id").annotate(
        total=Count("id"),
        in_time=Count("id", filter=Q(reported_at__isnull=False, reported_at__lte=F("report_due_at"))),
        late=Count("id", filter=Q(reported_at__gt=F("report_due_at"))),
        overdue=Count("id", filter=Q(reported_at__isnull=True, report_due_at__lte=now)),
        pending=Count("id", filter=Q(reported_at__isnull=True, report_due_at__gt=now)),
        rated=Count("rating"),
        rating_sum=Sum("rating"),
    ))
    rows = list(counted)
    names = Organisation.objects.unscoped().in_bulk([r["department_id"] for r in rows])
    scores = []
    for r in rows:
        average = None
        if r["rated"]:
            average = (Decimal(r["rating_sum"]) / r["rated"]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        scores.append(DepartmentWhistleScore(
            department=names[r["department_id"]], summonses=r["total"], reported_in_time=r["in_time"],
            late=r["late"], overdue=r["overdue"], pending=r["pending"], rated=r["rated"], average_rating=average))
    scores.sort(key=lambda s: (s.average_rating is None, -(s.average_rating or 0), -(s.in_time_rate or 0),
                               s.department.name))
    return scores
