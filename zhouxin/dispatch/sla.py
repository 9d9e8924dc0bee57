"""SLA clocks of 接诉即办: when a request must be contacted and resolved, and how it stands.

The rule (DESIGN §3 "dispatch"; the numbers live in the policy rule "dispatch.sla",
so a city changes them without a deploy):

* The catalogue's SLA class gives a clock in *calendar* time:
  emergency — contact 2 h, resolve 24 h; water, power, gas, heating (utilities) —
  contact 2 h, resolve 24 h; general — contact 24 h, resolve 7 days;
  complex — contact 24 h, resolve 15 days.
* The request's kind gives a clock in *working days* on the official holiday and
  adjusted-workday calendar (zhouxin.core.workdays): consult 2, help and
  suggestion 10, complaint and report 15 working days.
* The earlier resolve deadline applies; the contact deadline is never later than the
  resolve deadline.  A request without a category yet has only the kind's clock for
  resolving and the general class's contact time.
* Urgent requests are handled as the emergency class whatever their category.
* A working-day deadline that runs through a year the State Council has not yet
  published is computed on weekends plus fixed holidays and marked provisional
  (never an error).  Calendar-time deadlines are never provisional.

Lights (DESIGN: "yellow warning at 80 % of the time, red when due"): a running clock
is green until `warn_ratio` of the time from its start to the deadline has passed,
yellow from then, red once the deadline has passed.  Both the contact clock (until
the first contact; it starts at receipt) and the resolve clock (until the reply) run;
the worse one shows.  The resolve clock is the SLA sweep's clock: it starts at receipt
or at the latest reopening (督办重办 restarts it from then), and its yellow moment is
the stored `warn_due_at` the sweep warns at, so the light a page shows and the sweep's
warning agree (`resolve_clock_start`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import policy, workdays
from zhouxin.core.workdays import Deadline

from .choices import OPEN_STATUSES, RequestKind, SlaClass, SlaLight, Status, Urgency

POLICY_KEY = "dispatch.sla"
# An extension is counted in working days; more than this is a typing error, not a plan.
MAX_EXTENSION_DAYS = 60


@dataclass(frozen=True)
class Deadlines:
    contact: Deadline
    resolve: Deadline

    @property
    def provisional(self) -> bool:
        return self.contact.provisional or self.resolve.provisional


@dataclass(frozen=True)
class DeadlinePlan:
    """Deadlines with the reasoning behind them (shown by the deadline calculator)."""

    deadlines: Deadlines
    sla_class: str  # the class that applied ("" when only the kind's clock applied)
    class_resolve: Deadline | None  # the class's calendar-time resolve deadline
    kind_resolve: Deadline | None  # the kind's working-day resolve deadline
    kind_working_days: int | None
    resolve_basis: str  # "class" or "kind": which of the two applied

    @property
    def provisional(self) -> bool:
        return self.deadlines.provisional


def _aware(value: dt.datetime) -> dt.datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def _rule(city, on: dt.date) -> dict:
    return policy.get(POLICY_KEY, city=city, on=on)


def class_for(*, urgency: str, sla_class: str | None) -> str:
    """The SLA class that applies: urgent requests use the emergency class."""
    if urgency == Urgency.URGENT:
        return SlaClass.EMERGENCY
    return sla_class or ""


def _class_clock(rule: dict, sla_class: str) -> tuple[dt.timedelta, dt.timedelta]:
    """(contact, resolve) in calendar time for a class, from the policy rule."""
    contact = dt.timedelta(hours=int(rule[f"{sla_class}_contact_hours"]))
    if f"{sla_class}_resolve_hours" in rule:
        resolve = dt.timedelta(hours=int(rule[f"{sla_class}_resolve_hours"]))
    else:
        resolve = dt.timedelta(days=int(rule[f"{sla_class}_resolve_days"]))
    return contact, resolve


def plan_deadlines(*, kind: str, urgency: str = Urgency.NORMAL, sla_class: str | None = None,
                   received_at: dt.datetime, city=None) -> DeadlinePlan:
    """compute_deadlines with its reasoning; see the module docstring for the rule."""
    if kind not in RequestKind.values:
        raise ValidationError(_("诉求类型“%(v)s”无效。") % {"v": kind})
    if urgency not in Urgency.values:
        raise ValidationError(_("紧急程度“%(v)s”无效。") % {"v": urgency})
    if sla_class and sla_class not in SlaClass.values:
        raise ValidationError(_("时限类别“%(v)s”无效。") % {"v": sla_class})
    received_at = _aware(received_at)
    rule = _rule(city, timezone.localtime(received_at).date())
    applied = class_for(urgency=urgency, sla_class=sla_class)

    kind_days = int(rule[f"{kind}_working_days"])
    kind_resolve = workdays.add_working_days(received_at, kind_days)
    class_resolve = None
    if applied:
        contact_span, resolve_span = _class_clock(rule, applied)
        class_resolve = Deadline(received_at + resolve_span, False)
    else:
        contact_span, _unused = _class_clock(rule, SlaClass.GENERAL)

    if class_resolve is not None and class_resolve.at <= kind_resolve.at:
        resolve, basis = class_resolve, "class"
    else:
        resolve, basis = kind_resolve, "kind"
    contact_at = received_at + contact_span
    contact = Deadline(contact_at, False) if contact_at <= resolve.at else resolve
    return DeadlinePlan(
        deadlines=Deadlines(contact=contact, resolve=resolve), sla_class=applied, class_resolve=class_resolve,
        kind_resolve=kind_resolve, kind_working_days=kind_days, resolve_basis=basis,
    )


def compute_deadlines(*, kind: str, urgency: str = Urgency.NORMAL, sla_class: str | None = None,
                      received_at: dt.datetime, city=None) -> Deadlines:
    """The contact and resolve deadlines of a request received at `received_at`.

    The class's calendar clock and the kind's working-day clock are both computed and
    the earlier resolve deadline applies (policy "dispatch.sla" in force on the day
    of receipt for `city`, a city-level Area or its id, or the national rule when
    None).  Urgent requests use the emergency class.  Never raises for any date;
    a ValidationError only for an unknown kind, urgency or class.
    """
    return plan_deadlines(kind=kind, urgency=urgency, sla_class=sla_class, received_at=received_at,
                          city=city).deadlines


def request_city(request):
    """The city-level Area id of a request (its district's parent), for the city's policy."""
    if getattr(request, "district_id", None) is None:
        return None
    return request.district.parent_id


# --- Lights -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaProgress:
    light: str  # a SlaLight value
    clock: str  # "contact", "resolve" or "" when no clock runs
    due_at: dt.datetime | None
    elapsed_ratio: float | None  # share of the clock's time that has passed (≥ 1 when due)


def _ratio(start: dt.datetime, due: dt.datetime, at: dt.datetime) -> float:
    span = (due - start).total_seconds()
    if span <= 0:
        return 1.0
    return (at - start).total_seconds() / span


def _light_for(ratio: float, warn_ratio: float) -> str:
    if ratio >= 1:
        return SlaLight.RED
    if ratio >= warn_ratio:
        return SlaLight.YELLOW
    return SlaLight.GREEN


_SEVERITY = {SlaLight.GREEN: 0, SlaLight.YELLOW: 1, SlaLight.RED: 2}


def resolve_clock_start(request, warn_ratio: float) -> dt.datetime | None:
    """When the request's resolve clock started, as the sweep counts it: receipt, or the latest
    reopening.  Read without a query from the stored yellow moment, which the services keep at
    start + (resolve_due_at − start) × warn_ratio (intake, re-categorisation, reopening,
    extension); a request without it (or a ratio that cannot be inverted) uses receipt."""
    received, due, warn = request.received_at, request.resolve_due_at, getattr(request, "warn_due_at", None)
    if warn is None or due is None or not 0 < warn_ratio < 1 or warn > due:
        return received
    start = due - (due - warn) / (1 - warn_ratio)
    if received is not None and start < received:
        return received
    return start


def _resolve_light(request, start: dt.datetime, due: dt.datetime, now: dt.datetime, warn_ratio: float) -> str:
    """The resolve clock's light at the sweep's moments: yellow from the stored `warn_due_at`
    (what the sweep warns at), red from `resolve_due_at` (what it escalates at)."""
    warn = getattr(request, "warn_due_at", None)
    if warn is None:
        return _light_for(_ratio(start, due, now), warn_ratio)
    if now >= due:
        return SlaLight.RED
    return SlaLight.YELLOW if now >= warn else SlaLight.GREEN


def sla_progress(request, now: dt.datetime | None = None, *, warn_ratio: float | None = None) -> SlaProgress:
    """Where a request stands on its clocks (see the module docstring); the resolve clock runs
    from `resolve_clock_start` and turns yellow at the sweep's `warn_due_at`.

    A request that is waiting for its callback or closed shows how its answer stood:
    red when it was replied after the resolve deadline, green otherwise.  Held,
    merged and invalid requests run no clock.  `warn_ratio` may be passed by callers
    that compute many lights at once, to read the policy once.
    """
    now = now or timezone.now()
    received = request.received_at
    if warn_ratio is None:
        day = timezone.localtime(received).date() if received else timezone.localdate()
        warn_ratio = float(_rule(request_city(request), day)["warn_ratio"])
    status = request.status
    resolve_due = request.resolve_due_at
    start = resolve_clock_start(request, warn_ratio) if received is not None else None
    if status in OPEN_STATUSES and received is not None:
        candidates = []
        if resolve_due is not None:
            ratio = _ratio(start, resolve_due, now)
            light = _resolve_light(request, start, resolve_due, now, warn_ratio)
            candidates.append(SlaProgress(light, "resolve", resolve_due, ratio))
        if request.contacted_at is None and request.contact_due_at is not None:
            ratio = _ratio(received, request.contact_due_at, now)
            candidates.append(SlaProgress(_light_for(ratio, warn_ratio), "contact", request.contact_due_at, ratio))
        if not candidates:
            return SlaProgress(SlaLight.GREEN, "", None, None)
        # The worse light; on a tie the clock that is further along.
        return max(candidates, key=lambda p: (_SEVERITY[p.light], p.elapsed_ratio))
    if status in (Status.REPLIED, Status.CLOSED) and resolve_due is not None and received is not None:
        answered = request.replied_at or request.closed_at
        if answered is not None:
            ratio = _ratio(start, resolve_due, answered)
            light = SlaLight.RED if answered > resolve_due else SlaLight.GREEN
            return SlaProgress(light, "resolve", resolve_due, ratio)
    return SlaProgress(SlaLight.GREEN, "", None, None)


def sla_light(request, now: dt.datetime | None = None) -> str:
    """green / yellow (from warn_ratio, 80 % by default, of the time elapsed) / red (due)."""
    return SlaLight(sla_progress(request, now).light)


# --- Extensions -----------------------------------------------------------------------------


def extend_deadline(request, working_days: int) -> Deadline:
    """The resolve deadline after an extension (延期) of `working_days` working days.

    The extension is added to the *current* resolve deadline on the working-day
    calendar (an extension granted early does not shorten anything, one granted late
    does not reward the delay).  A request with no deadline yet extends from now.
    Provisional when the current deadline was, or the new one runs into an
    unpublished year.  ValidationError for a count that is not 1..MAX_EXTENSION_DAYS.
    """
    try:
        days = int(working_days)
    except (TypeError, ValueError):
        raise ValidationError(_("延长的工作日数必须是整数。")) from None
    if isinstance(working_days, bool) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(_("延长的工作日数应在 1 到 %(n)d 之间。") % {"n": MAX_EXTENSION_DAYS})
    base = request.resolve_due_at or timezone.now()
    extended = workdays.add_working_days(base, days)
    return Deadline(extended.at, extended.provisional or bool(request.deadline_provisional))


# --- What the calendar skipped --------------------------------------------------------------


@dataclass(frozen=True)
class CalendarNote:
    date: dt.date
    workday: bool
    name: str
    provisional: bool


def calendar_notes(start: dt.datetime, end: dt.datetime, *, limit_days: int = 400) -> list[CalendarNote]:
    """The days between two instants (by local date, both included) that are not an ordinary
    Monday–Friday working day: rest days skipped by a working-day clock (weekends and
    holidays, with the holiday's name) and adjusted working days (调休) on a weekend,
    which the clock counts.  At most `limit_days` days are looked at."""
    first = timezone.localtime(_aware(start)).date()
    last = timezone.localtime(_aware(end)).date()
    notes: list[CalendarNote] = []
    day = first
    while day <= last and (day - first).days < limit_days:
        info = workdays.is_workday(day)
        weekend = day.weekday() >= 5
        if not info.workday or weekend:
            notes.append(CalendarNote(day, info.workday, info.name, info.provisional))
        day += dt.timedelta(days=1)
    return notes
