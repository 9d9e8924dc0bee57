"""Yearly assessments of community workers (年度考核): one grade per worker and year.

Rules and where they come from:
* the street hub grades the workers of its street ("workforce.assess" on the worker's community);
* the grade is one of the city's grade set, rule "workforce.assessment" (policy.py) in force on
  31 December of the assessed year; the engine (payrules) knows 优秀 / 合格 / 基本合格 / 不合格;
* quota per street: 优秀 at most `excellent_max_percent` % of the street's workers on the roster
  that year (hired by 31 December, not left before 1 January), rounded down; a change that
  would raise the number of 优秀 beyond it is refused (one that lowers it is always allowed);
* a grade may be changed until the promotion run of the following year (effective 1 January,
  built on this year's grade) is confirmed for an area holding the worker; then it is final;
* `assess_batch` saves the whole page or nothing.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit, policy
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.choices import AreaLevel

from . import payrules
from .choices import RunStatus
from .facts import city_of
from .models import Assessment, PromotionRun, Worker
from .policy import ASSESSMENT_KEY

NOTE_MAX = 300
FIRST_YEAR = 2000


def assessment_rule(area, year: int) -> dict:
    """The "workforce.assessment" rule of the area's city in force on 31 December of `year`."""
    city = city_of(area)
    return policy.get(ASSESSMENT_KEY, city=city.pk if city is not None else None, on=dt.date(year, 12, 31))


def street_of(area):
    """The street an area lies in (itself for a street; the area itself above street level)."""
    node = area
    while node is not None and node.level not in (AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY):
        node = node.parent
    return node if node is not None and node.level == AreaLevel.STREET else area


def roster_in_year(area, year: int):
    """Workers of `area` on the roster at some time in `year` (the quota's base)."""
    return Worker.objects.unscoped().filter(
        community__code__startswith=area.code, hire_date__lte=dt.date(year, 12, 31),
    ).filter(Q(left_on__isnull=True) | Q(left_on__gte=dt.date(year, 1, 1)))


def quota(street, year: int) -> dict:
    """The street's 优秀 quota for `year`: roster size, percent, how many allowed and given."""
    rule = assessment_rule(street, year)
    roster = roster_in_year(street, year).count()
    percent = int(rule["excellent_max_percent"])
    given = Assessment.objects.unscoped().filter(
        year=year, grade=payrules.EXCELLENT, worker__community__code__startswith=street.code).count()
    return {"street": street, "roster": roster, "percent": percent, "allowed": roster * percent // 100,
            "given": given}


def is_final(worker, year: int) -> bool:
    """True when a confirmed promotion run effective 1 January of year+1 covers the worker."""
    code = worker.community.code
    prefixes = [code[:n] for n in range(2, len(code) + 1)]
    return PromotionRun.objects.unscoped().filter(
        year=year + 1, status=RunStatus.CONFIRMED, area__code__in=prefixes).exists()


def _check_year(worker, year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": [_("请填写正确的考核年度。")]}) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year:
        raise ValidationError({"year": [_("考核年度必须在 %(first)s 年到今年之间。") % {"first": FIRST_YEAR}]})
    if worker.hire_date.year > year:
        raise ValidationError({"year": [_("%(name)s %(year)s 年尚未入职，不能评定该年度考核。") % {
            "name": worker.person.name, "year": year}]})
    if worker.left_on is not None and worker.left_on.year < year:
        raise ValidationError({"year": [_("%(name)s 在 %(year)s 年之前已离岗，不能评定该年度考核。") % {
            "name": worker.person.name, "year": year}]})
    return year


def _check_grade(worker, year: int, grade: str) -> None:
    grades = assessment_rule(worker.community, year)["grades"]
    if grade not in grades:
        raise ValidationError({"grade": [_("%(name)s 的考核等次须为%(grades)s之一。") % {
            "name": worker.person.name, "grades": "、".join(payrules.label(g) for g in grades)}]})
    if is_final(worker, year):
        raise ValidationError({"grade": [_("%(next)s 年晋级已确认，%(name)s %(year)s 年度的考核结果不能再更改。") % {
            "next": year + 1, "name": worker.person.name, "year": year}]})


def _check_quotas(streets, year: int, before: dict) -> None:
    """Refuse when a street's 优秀 count went up and is now above its quota."""
    for street in streets:
        q = quota(street, year)
        if q["given"] > q["allowed"] and q["given"] > before[street.pk]:
            raise ValidationError({"grade": [_(
                "%(street)s %(year)s 年度优秀等次最多 %(allowed)s 人（在册 %(roster)s 人的 %(percent)s%%，向下取整），"
                "本次保存后将有 %(given)s 人，请调整后再保存。") % {
                    "street": street.name, "year": year, "allowed": q["allowed"], "roster": q["roster"],
                    "percent": q["percent"], "given": q["given"]}]})


def _write(actor, worker, year: int, grade: str, note: str):
    """Create or change the assessment; the audit entry's arguments, or None when nothing changed."""
    existing = Assessment.objects.unscoped().filter(worker=worker, year=year).first()
    now = timezone.now()
    if existing is None:
        assessment = Assessment.objects.unscoped().create(
            worker=worker, year=year, grade=grade, note=note, decided_by=actor, decided_at=now)
        before = None
    else:
        if existing.grade == grade and existing.note == note:
            return None
        before = {"grade": existing.grade, "note": existing.note}
        existing.grade, existing.note, existing.decided_by, existing.decided_at = grade, note, actor, now
        existing.save(update_fields=["grade", "note", "decided_by", "decided_at"])
        assessment = existing
    return {"action": "workforce.assessment.set", "obj": assessment, "before": before,
            "after": {"worker": worker.pk, "year": year, "grade": grade, "note": note}}


@transaction.atomic
def assess(*, actor, worker, year, grade: str, note: str = "") -> Assessment:
    """Give (or change) one worker's grade for `year`, within the street's quota."""
    ensure_can(actor, "workforce.assess", worker.community.code)
    year = _check_year(worker, year)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": [_("说明不能超过 %(n)s 字。") % {"n": NOTE_MAX}]})
    _check_grade(worker, year, grade)
    street = street_of(worker.community)
    before = {street.pk: quota(street, year)["given"]}
    entry = _write(actor, worker, year, grade, note)
    _check_quotas([street], year, before)
    if entry is not None:
        audit.record(actor=actor, **entry)
    return Assessment.objects.unscoped().get(worker=worker, year=year)


@transaction.atomic
def assess_batch(*, actor, area, year, grades: dict) -> int:
    """Save the grades of many workers of `area` for `year` (worker id → grade; an empty grade
    leaves the worker as is), all or nothing, each street within its quota.  Returns how many
    assessments were created or changed."""
    ensure_can(actor, "workforce.assess", area.code)
    chosen = {int(pk): g for pk, g in grades.items() if g}
    workers = {w.pk: w for w in Worker.objects.unscoped().select_related("person", "community")
               .filter(pk__in=chosen, community__code__startswith=area.code)}
    if set(chosen) - set(workers):
        raise ValidationError({"grade": [_("所选人员不都属于%(area)s。") % {"area": area.name}]})
    if not chosen:
        raise ValidationError({"grade": [_("请至少为一名社区工作者选择考核等次。")]})
    streets = {}
    checked_year = None
    for pk, grade in chosen.items():
        worker = workers[pk]
        ensure_can(actor, "workforce.assess", worker.community.code)
        checked_year = _check_year(worker, year)
        _check_grade(worker, checked_year, grade)
        street = street_of(worker.community)
        streets.setdefault(street.pk, street)
    before = {pk: quota(street, checked_year)["given"] for pk, street in streets.items()}
    entries = [e for pk in sorted(chosen) if (e := _write(actor, workers[pk], checked_year, chosen[pk],
                                                           _existing_note(workers[pk], checked_year)))]
    _check_quotas(streets.values(), checked_year, before)
    if entries:
        audit.record_many(actor=actor, entries=entries)
    return len(entries)


def _existing_note(worker, year: int) -> str:
    """The batch page has no note: keep the one given with the single assessment, if any."""
    return Assessment.objects.unscoped().filter(worker=worker, year=year).values_list("note", flat=True).first() or ""
