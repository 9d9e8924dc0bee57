"""Monthly payroll of community workers (月度工资): run, confirm, export.

* `payroll_run(actor=, area=, year=, month=)` computes every active worker's pay for the month
  in `area` (a district, street or community; "workforce.payroll" on it) with the pay engine
  (payrules.payroll) under the rule of the area's city, and keeps it as a draft run with one
  payslip per worker paid that month (a worker not in post on the 1st gets none).  A re-run of
  the same area and month replaces the draft (same run, new payslips); a confirmed month is
  refused, and so is a month already confirmed for an overlapping area (the street's run and a
  community's run of the same month would pay the same workers twice).
* `payroll_confirm(actor=, run=)` confirms a draft: from then on it is final and shown to the
  workers on "我的工资".
* `payroll_xlsx(run)` the run as a spreadsheet (工资表 + 明细); `payroll_export` is the audited
  download of it.

Total of the run == sum of the payslips' totals == sum of every line's amount, exactly
(Decimal, amounts kept as strings in the lines' JSON).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.db_router import replica_reads
from zhouxin.core.permissions import ensure_can
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import facts, payrules
from .choices import RunStatus, WorkerStatus
from .models import PayrollRun, Payslip, Worker

PAYROLL_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
FIRST_YEAR = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def latest_month(today: dt.date | None = None) -> tuple[int, int]:
    """The last month that may be run: next month (pay is often prepared before the month starts)."""
    today = today or timezone.localdate()
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def validate_month(year, month, today: dt.date | None = None) -> tuple[int, int]:
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError):
        raise ValidationError({"month": [_("请选择有效的年月。")]}) from None
    if not 1 <= month <= 12:
        raise ValidationError({"month": [_("月份应为 1 到 12。")]})
    if year < FIRST_YEAR:
        raise ValidationError({"month": [_("年份无效。")]})
    if (year, month) > latest_month(today):
        raise ValidationError({"month": [_("最多只能计算到下个月的工资。")]})
    return year, month


def workers_of(area: Area, year: int, month: int):
    """The workers of `area` who may be paid for the month: in service, or left on or after its 1st."""
    first = dt.date(year, month, 1)
    return Worker.objects.unscoped().filter(
        Q(status=WorkerStatus.ACTIVE) | Q(left_on__gte=first), community__code__startswith=area.code,
        hire_date__lte=first,
    ).order_by("community__code", "person__name", "id")


def _overlapping(area: Area, year: int, month: int):
    """Runs of the same month for `area`, its ancestors or its descendants."""
    prefixes = [area.code[:n] for n in range(1, len(area.code) + 1)]
    return PayrollRun.objects.unscoped().filter(
        Q(area__code__in=prefixes) | Q(area__code__startswith=area.code), year=year, month=month)


def _line(line: payrules.PayLine) -> dict:
    return {"label": str(line.label), "amount": str(line.amount), "explanation": str(line.explanation)}


def _snapshot(run: PayrollRun) -> dict:
    return {"area": run.area.code, "year": run.year, "month": run.month, "status": run.status,
            "workers": run.workers, "total": str(run.total)}


@transaction.atomic
def payroll_run(*, actor, area: Area, year, month) -> PayrollRun:
    """Compute (or recompute) the draft payroll of `area` for the month; see the module docstring."""
    if area is None or area.level not in PAYROLL_LEVELS or not area.is_active:
        raise ValidationError({"area": [_("工资只能按启用中的区、街道或社区计算。")]})
    year, month = validate_month(year, month)
    ensure_can(actor, "workforce.payroll", area.code)
    # One run per area and month at a time: the area row is the lock (no unique index on the runs).
    area = Area.objects.unscoped().select_for_update().get(pk=area.pk)
    existing = list(_overlapping(area, year, month).select_related("area"))
    if any(r.status == RunStatus.CONFIRMED and r.area_id == area.pk for r in existing):
        raise ValidationError({"month": [_("%(area)s %(year)d年%(month)d月的工资已确认，不能重新计算。") % {
            "area": area.name, "year": year, "month": month}]})
    if any(r.status == RunStatus.CONFIRMED for r in existing):
        raise ValidationError({"area": [_("该月已有包含这些工作者的上级或下级区域工资批次已确认，不能重复计算。")]})
    run = next((r for r in existing if r.area_id == area.pk), None)
    before = _snapshot(run) if run is not None else None

    slips = payrules.payroll(facts.facts_for(workers_of(area, year, month)), facts.rule_for(area), year, month)
    paid = [s for s in slips if s.grade.grade is not None]
    total = sum((s.total for s in paid), payrules.ZERO)

    now = timezone.now()
    if run is None:
        run = PayrollRun.objects.unscoped().create(area=area, year=year, month=month, status=RunStatus.DRAFT,
                                                   workers=len(paid), total=total, run_by=actor, run_at=now)
    else:
        Payslip.objects.unscoped().filter(run=run).delete()
        run.workers, run.total, run.run_by, run.run_at = len(paid), total, actor, now
        run.save(update_fields=["workers", "total", "run_by", "run_at"])
    Payslip.objects.unscoped().bulk_create([
        Payslip(run=run, worker_id=s.key, grade=s.grade.grade, post_title=s.grade.post_title[:40],
                total=s.total, lines=[_line(line) for line in s.lines],
                grade_explanation=[str(text) for text in s.grade.explanation])
        for s in paid
    ], batch_size=500)
    audit.record(actor=actor, action="workforce.payroll.run", obj=run, before=before, after=_snapshot(run))
    return run


@transaction.atomic
def payroll_confirm(*, actor, run: PayrollRun) -> PayrollRun:
    """Confirm a draft run (final: the workers see their payslips; no re-run)."""
    ensure_can(actor, "workforce.payroll", run.area.code)
    if _overlapping(run.area, run.year, run.month).filter(status=RunStatus.CONFIRMED).exclude(pk=run.pk).exists():
        raise ValidationError({"month": [_("该月已有包含这些工作者的工资批次已确认。")]})
    claimed = PayrollRun.objects.unscoped().filter(pk=run.pk, status=RunStatus.DRAFT).update(
        status=RunStatus.CONFIRMED)
    if claimed != 1:
        raise ValidationError({"month": [_("该工资批次已确认，不能重复确认。")]})
    before = _snapshot(run)
    run.status = RunStatus.CONFIRMED
    audit.record(actor=actor, action="workforce.payroll.confirmed", obj=run, before=before, after=_snapshot(run))
    return run


# --- Export ----------------------------------------------------------------------------------

def labels_of(payslips) -> list[str]:
    """Every line label of the payslips, in order of first appearance."""
    seen: dict[str, None] = {}
    for slip in payslips:
        for line in slip.lines:
            seen.setdefault(line["label"], None)
    return list(seen)


def run_payslips(run: PayrollRun):
    """Every payslip of the run (for those who may see the whole run), with worker, person and community."""
    return Payslip.objects.unscoped().filter(run=run).select_related(
        "worker__person", "worker__community").order_by("worker__community__code", "worker__person__name", "id")


def _plain(value):
    """A text cell that a spreadsheet would take for a formula stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def payroll_xlsx(run: PayrollRun) -> bytes:
    """The run as a workbook: 工资表 (a row per worker, a column per pay line, a totals row) and
    明细 (a row per line with its explanation, a totals row).  No phone or ID number."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    money_format = "#,##0.00"
    payslips = list(run_payslips(run))
    labels = labels_of(payslips)

    wb = Workbook()
    sheet = wb.active
    sheet.title = _("工资表")
    sheet.append([_("姓名"), _("所在社区"), _("计酬岗位"), _("等级"), *labels, _("应发合计（元）")])
    sums = {label: Decimal("0.00") for label in labels}
    for slip in payslips:
        amounts = {line["label"]: Decimal(line["amount"]) for line in slip.lines}
        for label, amount in amounts.items():
            sums[label] += amount
        sheet.append([_plain(slip.worker.person.name), _plain(slip.worker.community.name), _plain(slip.post_title),
                      slip.grade, *[amounts.get(label) for label in labels], slip.total])
    sheet.append([_("合计"), "", "", "", *[sums[label] for label in labels], run.total])
    for cell in sheet[1] + sheet[sheet.max_row]:
        cell.font = bold
    for row in sheet.iter_rows(min_row=2, min_col=5):
        for cell in row:
            cell.number_format = money_format
    for index, width in enumerate((12, 16, 16, 8, *[14] * len(labels), 16), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"

    detail = wb.create_sheet(_("明细"))
    detail.append([_("姓名"), _("所在社区"), _("项目"), _("金额（元）"), _("说明")])
    for slip in payslips:
        for line in slip.lines:
            detail.append([_plain(slip.worker.person.name), _plain(slip.worker.community.name), line["label"],
                           Decimal(line["amount"]), _plain(line["explanation"])])
    detail.append([_("合计"), "", "", run.total, ""])
    for cell in detail[1] + detail[detail.max_row]:
        cell.font = bold
    for (cell,) in detail.iter_rows(min_row=2, min_col=4, max_col=4):
        cell.number_format = money_format
    for index, width in enumerate((12, 16, 14, 14, 80), start=1):
        detail.column_dimensions[get_column_letter(index)].width = width
    detail.freeze_panes = "A2"

    title = _("%(area)s %(year)d年%(month)d月工资") % {"area": run.area.name, "year": run.year, "month": run.month}
    wb.properties.creator = "轴心"
    wb.properties.title = title
    stamp = timezone.localtime(run.run_at).replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def payroll_export(*, actor, run: PayrollRun) -> tuple[bytes, str]:
    """The run's workbook and its file name, audited like every export of personal data.

    A confirmed run no longer changes, so its payslips may be read from the read replica
    (zhouxin/core/db_router.py); a draft's are read from the primary, since it may have been
    recomputed a moment ago and the sheet must show that."""
    ensure_can(actor, "workforce.payroll", run.area.code)
    if run.status == RunStatus.DRAFT:
        data = payroll_xlsx(run)
    else:
        with replica_reads():
            data = payroll_xlsx(run)
    with transaction.atomic():
        audit.record(actor=actor, action="workforce.payroll.exported", obj=run,
                     after={"format": "xlsx", "workers": run.workers, "total": str(run.total)})
    return data, _("%(area)s%(year)d年%(month)02d月工资表.xlsx") % {
        "area": run.area.name, "year": run.year, "month": run.month}


# --- Reads -----------------------------------------------------------------------------------

def _prefixes(user, permission: str) -> tuple[str, ...]:
    from zhouxin.core.permissions import roles_for
    from zhouxin.core.scoping import scope_for_user

    return scope_for_user(user).prefixes(roles_for(permission))


def _under(field: str, prefixes) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(**{f"{field}__startswith": prefix})
    return q


def payslips_for(user):
    """Payslips of the workers the user's "workforce.view" grants reach (a community's staff: its own)."""
    return Payslip.objects.unscoped().filter(_under("worker__community__code", _prefixes(user, "workforce.view")))


def runs_for(user):
    """Runs of an area the user's "workforce.view" grants reach, and runs holding a payslip they may see
    (a street's run for the staff of one of its communities, who see only their community's part)."""
    prefixes = _prefixes(user, "workforce.view")
    return PayrollRun.objects.unscoped().filter(
        _under("area__code", prefixes) | Q(pk__in=payslips_for(user).values("run_id"))).select_related("area")


def my_payslips(user):
    """The signed-in user's own payslips of confirmed runs (their Worker is their Person's), nobody else's."""
    if user is None or not user.is_authenticated:
        return Payslip.objects.none()
    return Payslip.objects.unscoped().filter(worker__person__user=user, run__status=RunStatus.CONFIRMED) \
        .select_related("run__area", "worker__community").order_by("-run__year", "-run__month", "-run__id")
