"""The yearly promotion run of community workers (晋级), effective 1 January of `year`.

Rules and where they come from:
* the run is pay work: it needs "workforce.payroll" on the area (district admin, street hub),
  the permission that also runs the payroll built on these grades; community staff only read
  their roster and cannot run or confirm it;
* for every active worker of the area the engine (payrules.grade_on, the city's pay rule of each
  day through facts.rule_for) gives the grade on 31 December of year-1 and on 1 January of
  `year`; the result keeps the engine's explanation of 1 January;
* the run is a draft until confirmed; running again replaces the draft (same run, new results);
* confirming recomputes first and refuses when anything changed since the draft (an
  assessment or a post), so what is confirmed is what was shown; only one confirmed run per
  area and year.  After confirmation the assessments of year-1 are final (assessments.py).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.models import Area

from . import payrules
from .choices import RunStatus, WorkerStatus
from .facts import facts_of, rule_for, with_facts
from .models import PromotionResult, PromotionRun, Worker

PERMISSION = "workforce.payroll"
FIRST_YEAR = 2001


def _year(year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": [_("请填写正确的生效年度。")]}) from None
    if not FIRST_YEAR <= year <= timezone.localdate().year + 1:
        raise ValidationError({"year": [_("生效年度必须在 %(first)s 年到明年之间。") % {"first": FIRST_YEAR}]})
    return year


def compute(area, year: int) -> list[tuple[Worker, payrules.GradeResult, payrules.GradeResult]]:
    """Each active worker of `area` with the engine's grade on 31 December of year-1 and on
    1 January of `year` (one rulebook shared by the whole run)."""
    book = payrules.Rulebook(rule_for(area))
    workers = with_facts(Worker.objects.unscoped().filter(
        community__code__startswith=area.code, status=WorkerStatus.ACTIVE))
    eve, new_year = dt.date(year - 1, 12, 31), dt.date(year, 1, 1)
    out = []
    for worker in workers.order_by("community__code", "person__name", "id"):
        facts = facts_of(worker)
        out.append((worker, payrules.grade_on(facts, book, eve), payrules.grade_on(facts, book, new_year)))
    return out


def _rows(computed) -> list[dict]:
    return [{"worker": w.pk, "grade_before": before.grade, "grade_after": after.grade,
             "explanation": list(after.explanation)} for w, before, after in computed]


def _promoted(rows) -> int:
    return sum(1 for r in rows if r["grade_before"] is not None and r["grade_after"] is not None
               and r["grade_after"] > r["grade_before"])


@transaction.atomic
def promotion_run(*, actor, area, year) -> PromotionRun:
    """Compute (or compute again) the draft promotion run of `area` effective 1 January of `year`."""
    ensure_can(actor, PERMISSION, area.code)
    year = _year(year)
    Area.objects.unscoped().select_for_update().get(pk=area.pk)  # one run of an area at a time
    runs = PromotionRun.objects.unscoped().filter(area=area, year=year)
    if runs.filter(status=RunStatus.CONFIRMED).exists():
        raise ValidationError({"year": [_("%(area)s %(year)s 年晋级已确认，不能重新试算。") % {
            "area": area.name, "year": year}]})
    rows = _rows(compute(area, year))
    run = runs.filter(status=RunStatus.DRAFT).first()
    before = None
    now = timezone.now()
    if run is None:
        run = PromotionRun.objects.unscoped().create(
            area=area, year=year, workers=len(rows), promoted=_promoted(rows), run_by=actor, run_at=now)
    else:
        before = {"workers": run.workers, "promoted": run.promoted, "run_at": run.run_at.isoformat()}
        PromotionResult.objects.unscoped().filter(run=run).delete()
        run.workers, run.promoted, run.run_by, run.run_at = len(rows), _promoted(rows), actor, now
        run.save(update_fields=["workers", "promoted", "run_by", "run_at"])
    PromotionResult.objects.unscoped().bulk_create(
        PromotionResult(run=run, worker_id=r["worker"], grade_before=r["grade_before"],
                        grade_after=r["grade_after"], explanation=r["explanation"]) for r in rows)
    audit.record(actor=actor, action="workforce.promotion.run", obj=run, before=before,
                 after={"area": area.code, "year": year, "workers": run.workers, "promoted": run.promoted,
                        "replaced": before is not None})
    return run


@transaction.atomic
def promotion_confirm(*, actor, run: PromotionRun) -> PromotionRun:
    """Confirm a draft run: its results become the grades of record from 1 January."""
    ensure_can(actor, PERMISSION, run.area.code)
    Area.objects.unscoped().select_for_update().get(pk=run.area_id)
    run = PromotionRun.objects.unscoped().select_related("area").get(pk=run.pk)
    if run.status != RunStatus.DRAFT:
        raise ValidationError(_("该晋级批次已确认。"))
    if PromotionRun.objects.unscoped().filter(area=run.area, year=run.year, status=RunStatus.CONFIRMED).exists():
        raise ValidationError(_("%(area)s %(year)s 年已有确认的晋级批次。") % {"area": run.area.name, "year": run.year})
    stored = sorted(PromotionResult.objects.unscoped().filter(run=run).values_list(
        "worker_id", "grade_before", "grade_after"))
    current = sorted((r["worker"], r["grade_before"], r["grade_after"]) for r in _rows(compute(run.area, run.year)))
    if stored != current:
        raise ValidationError(_("试算之后人员、任职或考核结果有变化，请重新试算后再确认。"))
    claimed = PromotionRun.objects.unscoped().filter(pk=run.pk, status=RunStatus.DRAFT).update(
        status=RunStatus.CONFIRMED)
    if claimed != 1:
        raise ValidationError(_("该晋级批次已确认。"))
    run.status = RunStatus.CONFIRMED
    audit.record(actor=actor, action="workforce.promotion.confirm", obj=run, before={"status": RunStatus.DRAFT},
                 after={"status": RunStatus.CONFIRMED, "area": run.area.code, "year": run.year,
                        "workers": run.workers, "promoted": run.promoted})
    return run
