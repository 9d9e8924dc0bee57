"""双报到 completion figures of work units (DESIGN §3 volunteers: "unit completion rate
(members registered and served / members), flagged below *default* 95 %").

For a unit and a year:
* members: its Party members (orgs.Person is_party_member, work_unit = the unit);
* registered: with a confirmed registration valid on the reference day (today for the current
  year, 31 December for a past one); an expired or ended registration does not count;
* served: registered and with verified hours > 0 in the year (hours.minutes_by_person);
* rate = served / members; flagged below `unit_threshold_percent` of the rule volunteers.service
  in force on the reference day.  Each member's hours are compared with `yearly_minimum_hours`.

A whole street's (or district's) units take a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from zhouxin.core import policy
from zhouxin.orgs.models import Area, Organisation, Person

from . import hours
from .choices import LIVE_REGISTRATION_STATUSES, RegistrationStatus
from .identity import city_of
from .models import MemberRegistration
from .policy import REGISTRATION_KEY, SERVICE_KEY
from .registration import MemberState, first_by, is_overdue, state_of


@dataclass
class UnitFigures:
    unit: Organisation
    members: int = 0
    registered: int = 0
    served: int = 0
    rate: Decimal | None = None  # percent, one decimal; None without members
    flagged: bool = False


@dataclass
class MemberFigures:
    person: Person
    state: str
    registration: MemberRegistration | None
    minutes: int
    overdue: bool
    meets_minimum: bool

    @property
    def hours(self) -> Decimal:
        return hours.to_hours(self.minutes)

    @property
    def state_label(self) -> str:
        return MemberState(self.state).label


@dataclass
class Completion:
    year: int
    reference_day: dt.date
    threshold: Decimal
    minimum_hours: Decimal
    deadline: dt.date
    units: list[UnitFigures] = field(default_factory=list)

    @property
    def totals(self) -> UnitFigures:
        total = UnitFigures(unit=None, members=sum(u.members for u in self.units),
                            registered=sum(u.registered for u in self.units),
                            served=sum(u.served for u in self.units))
        total.rate = rate(total.served, total.members)
        total.flagged = total.rate is not None and total.rate < self.threshold
        return total

    @property
    def flagged_count(self) -> int:
        return sum(1 for u in self.units if u.flagged)


def rate(served: int, members: int) -> Decimal | None:
    if not members:
        return None
    return (Decimal(served) * 100 / Decimal(members)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def reference_day(year: int, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return min(today, dt.date(year, 12, 31))


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    return (timezone.make_aware(dt.datetime(year, 1, 1)), timezone.make_aware(dt.datetime(year + 1, 1, 1)))


def _rules(area: Area | None, ref: dt.date) -> tuple[dict, dict]:
    city = city_of(area) if area is not None else None
    return policy.get(SERVICE_KEY, city=city, on=ref), policy.get(REGISTRATION_KEY, city=city, on=ref)


def _counted_registrations(person_filter: dict, ref: dt.date) -> set[int]:
    """Members with a confirmed registration valid on `ref` (made by then)."""
    day_end = timezone.make_aware(dt.datetime.combine(ref + dt.timedelta(days=1), dt.time.min))
    return set(MemberRegistration.objects.unscoped().filter(
        status=RegistrationStatus.CONFIRMED, valid_until__gte=ref, registered_at__lt=day_end,
        **{f"person__{k}": v for k, v in person_filter.items()}).values_list("person_id", flat=True))


def area_completion(area: Area, year: int, *, today: dt.date | None = None) -> Completion:
    """Completion of every unit sitting in `area` (a street, community or district) that has
    Party members, in a fixed number of queries."""
    ref = reference_day(year, today)
    service, registration_rule = _rules(area, ref)
    result = Completion(year=year, reference_day=ref,
                        threshold=Decimal(str(service["unit_threshold_percent"])),
                        minimum_hours=Decimal(str(service["yearly_minimum_hours"])),
                        deadline=first_by(registration_rule, year))
    members_filter = {"is_party_member": True, "work_unit__area__code__startswith": area.code,
                      "work_unit__is_active": True}
    members = list(Person.objects.unscoped().filter(**members_filter).values_list("id", "work_unit_id"))
    if not members:
        return result
    registered = _counted_registrations(members_filter, ref)
    start, end = year_bounds(year)
    minutes = hours.minutes_by_person([pid for pid, _unit in members], start, end)
    by_unit: dict[int, list[int]] = defaultdict(list)
    for pid, unit_id in members:
        by_unit[unit_id].append(pid)
    units = Organisation.objects.unscoped().filter(pk__in=by_unit).select_related("area").order_by("area__code",
                                                                                                   "name")
    for unit in units:
        ids = by_unit[unit.pk]
        figures = UnitFigures(unit=unit, members=len(ids), registered=sum(1 for p in ids if p in registered),
                              served=sum(1 for p in ids if p in registered and minutes.get(p, 0) > 0))
        figures.rate = rate(figures.served, figures.members)
        figures.flagged = figures.rate is not None and figures.rate < result.threshold
        result.units.append(figures)
    return result


def unit_completion(unit: Organisation, year: int, *, today: dt.date | None = None) -> tuple[Completion,
                                                                                              list[MemberFigures]]:
    """One unit's figures and its members, each with their registration state, the year's
    verified hours against the yearly minimum, and whether they are overdue."""
    ref = reference_day(year, today)
    service, registration_rule = _rules(unit.area, ref)
    result = Completion(year=year, reference_day=ref,
                        threshold=Decimal(str(service["unit_threshold_percent"])),
                        minimum_hours=Decimal(str(service["yearly_minimum_hours"])),
                        deadline=first_by(registration_rule, year))
    people = list(Person.objects.unscoped().filter(is_party_member=True, work_unit=unit)
                  .select_related("home_area").order_by("name", "id"))
    live = {reg.person_id: reg for reg in MemberRegistration.objects.unscoped().filter(
        person__in=[p.pk for p in people], status__in=LIVE_REGISTRATION_STATUSES).select_related("community")}
    start, end = year_bounds(year)
    minutes = hours.minutes_by_person([p.pk for p in people], start, end)
    counted = _counted_registrations({"work_unit": unit, "is_party_member": True}, ref) if people else set()
    rows = []
    figures = UnitFigures(unit=unit, members=len(people))
    for person in people:
        reg = live.get(person.pk)
        state = state_of(reg, ref)
        spent = minutes.get(person.pk, 0)
        rows.append(MemberFigures(person=person, state=state, registration=reg, minutes=spent,
                                  overdue=is_overdue(state, ref, result.deadline),
                                  meets_minimum=hours.to_hours(spent) >= result.minimum_hours))
        if person.pk in counted:
            figures.registered += 1
            if spent > 0:
                figures.served += 1
    figures.rate = rate(figures.served, figures.members)
    figures.flagged = figures.rate is not None and figures.rate < result.threshold
    result.units.append(figures)
    return result, rows
