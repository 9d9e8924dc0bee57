"""A resident unit's yearly co-building report (共建年报), computed from the data (DESIGN §3 cobuild:
"Each unit gets a yearly co-building report generated from the data"), as PDF and xlsx.

What a year's report counts, for one unit (an orgs.Organisation: a claim's unit, a resource's
owner, a project's party):
* resources: the unit's resources available during the year (registered before its end, and
  their availability overlapping it); "registered" counts those registered in the year; the use
  of each is the quantity of its claims confirmed in the year;
* claims: made in the year (by the unit or asking the unit), and confirmed in the year (still
  confirmed: a claim withdrawn when its project was cancelled no longer counts);
* needs met: needs the unit's confirmed claims were on, marked met (已满足) in the year;
* projects: the projects the unit is a party to that were created, under way (their dates
  overlap the year) or completed in the year, or have a service record in the year; their
  budgets, statuses, dates and residents' ratings (all ratings of the project);
* service records of those projects held in the year, summed: beneficiaries, volunteers
  (volunteer turn-outs, 人次) and volunteer hours.

Scoped like every read: a unit's liaison gets all of the unit's data; staff get what lies in
their area (the projects, claims and resources they may see), and the document says which
area it covers.  The list of units: staff see the units with resources located in, or claims on
needs of, their area; liaisons see their own units.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit
from zhouxin.core.choices import AREA_ROLES
from zhouxin.core.pdf import Document
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user

from . import selectors
from .choices import CONFIRMED_CLAIM_STATUSES, NeedStatus, ProjectStatus
from .models import Rating, ServiceRecord
from .services import liaison_units

FIRST_YEAR = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROJECT_HEADERS = (gettext_lazy("项目名称"), gettext_lazy("实施区域"), gettext_lazy("状态"), gettext_lazy("预算（元）"), gettext_lazy("开始日期"), gettext_lazy("结束日期"),
                   gettext_lazy("完成日期"), gettext_lazy("居民评价数"), gettext_lazy("居民评价均分"), gettext_lazy("服务次数"), gettext_lazy("受益人次"), gettext_lazy("志愿者人次"),
                   gettext_lazy("志愿服务时长（小时）"))
RECORD_HEADERS = (gettext_lazy("服务日期"), gettext_lazy("项目名称"), gettext_lazy("服务内容"), gettext_lazy("服务对象"), gettext_lazy("受益人次"), gettext_lazy("参与志愿者人数"),
                  gettext_lazy("志愿服务时长（小时）"))
RESOURCE_HEADERS = (gettext_lazy("资源名称"), gettext_lazy("资源类型"), gettext_lazy("可提供数量"), gettext_lazy("数量单位"), gettext_lazy("本年度确认承诺数量"),
                    gettext_lazy("登记日期"))


def _area_prefixes(user) -> tuple[str, ...]:
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for("cobuild.view"))


def report_units_for(user):
    """The units whose report the user may open: for staff, units with a resource located in,
    or a claim on a need of, their area; for a liaison, their own units."""
    from zhouxin.orgs.models import Organisation

    parts = []
    for prefix in _area_prefixes(user):
        parts.append(Q(cobuild_resources__area_code__startswith=prefix))
        parts.append(Q(cobuild_claims__need__area__code__startswith=prefix))
    own = list(liaison_units(user).values_list("pk", flat=True))
    if own:
        parts.append(Q(pk__in=own))
    if not parts:
        return Organisation.objects.unscoped().none()
    ids = Organisation.objects.unscoped().filter(reduce(or_, parts)).values("pk")
    return Organisation.objects.unscoped().filter(pk__in=ids, is_active=True).select_related("area").order_by("name")


def years_for(today: dt.date | None = None, count: int = 5) -> list[int]:
    year = (today or timezone.localdate()).year
    return list(range(year, year - count, -1))


def valid_year(year: int) -> bool:
    return FIRST_YEAR <= year <= timezone.localdate().year + 1


@dataclass
class ProjectRow:
    title: str
    area: str
    status: str
    budget: Decimal
    starts_on: dt.date | None
    ends_on: dt.date | None
    completed_on: dt.date | None
    rating_count: int
    rating_average: Decimal | None
    records: int
    beneficiaries: int
    volunteers: int
    hours: Decimal


@dataclass
class UnitReport:
    unit_name: str
    year: int
    scope: str
    generated_at: dt.datetime
    resources_registered: int = 0
    resources_available: int = 0
    claims_made: int = 0
    claims_confirmed: int = 0
    needs_met: int = 0
    projects: list[ProjectRow] = field(default_factory=list)
    resources: list[tuple] = field(default_factory=list)
    records: list[tuple] = field(default_factory=list)
    rating_count: int = 0
    rating_average: Decimal | None = None

    @property
    def projects_completed(self) -> int:
        return sum(1 for p in self.projects if p.status == ProjectStatus.COMPLETED.label)

    @property
    def budget(self) -> Decimal:
        return sum((p.budget for p in self.projects), Decimal("0.00"))

    @property
    def beneficiaries(self) -> int:
        return sum(r[4] for r in self.records)

    @property
    def volunteers(self) -> int:
        return sum(r[5] for r in self.records)

    @property
    def hours(self) -> Decimal:
        return sum((r[6] for r in self.records), Decimal("0.0"))

    def summary(self) -> list[tuple[str, object, str]]:
        """(label, value, value as printed) of every figure."""
        average = self.rating_average
        return [
            (_("本年度新登记资源（项）"), self.resources_registered, str(self.resources_registered)),
            (_("本年度可用资源（项）"), self.resources_available, str(self.resources_available)),
            (_("发起认领（次）"), self.claims_made, str(self.claims_made)),
            (_("确认认领（次）"), self.claims_confirmed, str(self.claims_confirmed)),
            (_("满足社区需求（个）"), self.needs_met, str(self.needs_met)),
            (_("参与共建项目（个）"), len(self.projects), str(len(self.projects))),
            (_("其中已完成（个）"), self.projects_completed, str(self.projects_completed)),
            (_("项目预算合计（元）"), self.budget, f"{self.budget:,.2f}"),
            (_("居民评价（条）"), self.rating_count, str(self.rating_count)),
            (_("居民评价均分"), average, f"{average:.2f}" if average is not None else "—"),
            (_("服务次数"), len(self.records), str(len(self.records))),
            (_("受益人次"), self.beneficiaries, str(self.beneficiaries)),
            (_("志愿者人次"), self.volunteers, str(self.volunteers)),
            (_("志愿服务时长（小时）"), self.hours, f"{self.hours:.1f}"),
        ]


def _bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _scope_label(user, unit) -> str:
    from zhouxin.orgs.models import Area

    if liaison_units(user).filter(pk=unit.pk).exists():
        return _("本单位全部共建数据")
    names = list(Area.objects.unscoped().filter(code__in=_area_prefixes(user)).order_by("code")
                 .values_list("name", flat=True))
    return _("%(areas)s范围内的共建数据") % {"areas": "、".join(names) or "—"}


def unit_report(user, unit, year: int, *, generated_at: dt.datetime | None = None) -> UnitReport:
    """The year's figures of `unit`, limited to what `user` may see."""
    start, end = _bounds(year)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    report = UnitReport(unit_name=unit.name, year=year, scope=_scope_label(user, unit),
                        generated_at=generated_at or timezone.now())

    claims = selectors.claims_for(user).filter(unit=unit)
    report.claims_made = claims.filter(created_at__gte=start, created_at__lt=end).count()
    confirmed = claims.filter(status__in=CONFIRMED_CLAIM_STATUSES, decided_at__gte=start, decided_at__lt=end)
    report.claims_confirmed = confirmed.count()
    report.needs_met = (claims.filter(status__in=CONFIRMED_CLAIM_STATUSES, need__status=NeedStatus.MET,
                                      need__updated_at__gte=start, need__updated_at__lt=end)
                        .values("need_id").distinct().count())

    resources = (selectors.resources_for(user).filter(owner=unit, created_at__lt=end, available_from__lte=last)
                 .filter(Q(available_until__isnull=True) | Q(available_until__gte=first))
                 .order_by("created_at", "id"))
    used = dict(confirmed.values("resource_id").annotate(total=Sum("quantity")).values_list("resource_id", "total"))
    for resource in resources:
        report.resources.append((resource.title, resource.get_kind_display(), resource.capacity,
                                 resource.capacity_unit, used.get(resource.pk, 0),
                                 timezone.localtime(resource.created_at).date()))
    report.resources_available = len(report.resources)
    report.resources_registered = sum(1 for r in report.resources if r[5] >= first)

    projects = (selectors.projects_for(user).filter(parties=unit)
                .filter(Q(created_at__gte=start, created_at__lt=end) | Q(completed_at__gte=start, completed_at__lt=end)
                        | Q(records__held_on__gte=first, records__held_on__lte=last)
                        | (Q(created_at__lt=end) & (Q(starts_on__isnull=True) | Q(starts_on__lte=last))
                           & (Q(ends_on__gte=first) | Q(ends_on__isnull=True,
                                                       status__in=[ProjectStatus.PLANNED, ProjectStatus.RUNNING]))))
                .distinct())
    projects = list(projects.select_related("area").order_by("starts_on", "created_at", "id"))
    ids = [p.pk for p in projects]
    records = list(ServiceRecord.objects.filter(project_id__in=ids, held_on__gte=first, held_on__lte=last)
                   .select_related("project").order_by("held_on", "id"))
    ratings = {row["project_id"]: row for row in Rating.objects.filter(project_id__in=ids)
               .values("project_id").annotate(n=Count("id"), avg=Avg("stars"))}
    per_project: dict[int, list] = {}
    for record in records:
        per_project.setdefault(record.project_id, []).append(record)
        report.records.append((record.held_on, record.project.title, record.title, record.beneficiary_group,
                               record.beneficiaries, record.volunteers, record.volunteer_hours))
    for project in projects:
        rating = ratings.get(project.pk)
        mine = per_project.get(project.pk, [])
        report.projects.append(ProjectRow(
            title=project.title, area=project.area.name, status=project.get_status_display(), budget=project.budget,
            starts_on=project.starts_on, ends_on=project.ends_on,
            completed_on=timezone.localtime(project.completed_at).date() if project.completed_at else None,
            rating_count=rating["n"] if rating else 0,
            rating_average=Decimal(str(rating["avg"])).quantize(Decimal("0.01")) if rating else None,
            records=len(mine), beneficiaries=sum(r.beneficiaries for r in mine),
            volunteers=sum(r.volunteers for r in mine),
            hours=sum((r.volunteer_hours for r in mine), Decimal("0.0"))))
    count = sum(p.rating_count for p in report.projects)
    if count:
        stars = sum(Decimal(str(ratings[p.pk]["avg"])) * ratings[p.pk]["n"] for p in projects if p.pk in ratings)
        report.rating_count = count
        report.rating_average = (stars / count).quantize(Decimal("0.01"))
    return report


# --- Output -----------------------------------------------------------------------------------

def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def report_pdf(report: UnitReport) -> bytes:
    title = _("%(year)d年度区域化党建共建报告") % {"year": report.year}
    doc = Document(title=title, subtitle=report.unit_name, creation_date=report.generated_at,
                   subject=f"{report.unit_name} {title}", keywords=(_("共建年报"), report.unit_name),
                   footer_note=f"{report.unit_name} · {report.year}")
    doc.key_values([(_("单位"), report.unit_name), (_("年度"), f"{report.year}"), (_("统计范围"), report.scope),
                    (_("生成时间"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M"))])
    doc.paragraph(_("本报告由轴心平台根据资源登记、认领、项目和服务记录自动生成，无需人工填报。"), muted=True, size=9)
    doc.heading(_("一、年度概况"))
    doc.table([_("指标"), _("数值")], [(label, shown) for label, _value, shown in report.summary()],
              col_widths=(3, 2), align=("L", "R"))
    doc.heading(_("二、资源登记与使用"))
    if report.resources:
        doc.table([_("资源名称"), _("类型"), _("可提供"), _("本年度确认承诺"), _("登记日期")],
                  [(r[0], r[1], f"{r[2]} {r[3]}", f"{r[4]} {r[3]}", _d(r[5])) for r in report.resources],
                  col_widths=(5, 2, 2, 2.5, 2.5), align=("L", "C", "R", "R", "C"))
    else:
        doc.paragraph(_("本年度无可用资源。"))
    doc.heading(_("三、共建项目"))
    if report.projects:
        doc.table([_("项目名称"), _("状态"), _("预算（元）"), _("起止日期"), _("评价"), _("受益人次"), _("志愿时长")],
                  [(p.title, p.status, f"{p.budget:,.2f}", f"{_d(p.starts_on)} ~ {_d(p.ends_on)}",
                    f"{p.rating_average} / {p.rating_count}" if p.rating_count else "—", p.beneficiaries,
                    f"{p.hours:.1f}") for p in report.projects],
                  col_widths=(4.5, 1.5, 2, 3.5, 1.5, 1.5, 1.5), align=("L", "C", "R", "C", "C", "R", "R"))
    else:
        doc.paragraph(_("本年度没有参与的共建项目。"))
    doc.heading(_("四、服务记录"))
    if report.records:
        doc.table([_("服务日期"), _("项目"), _("服务内容"), _("服务对象"), _("受益人次"), _("志愿者"), _("时长")],
                  [(_d(r[0]), r[1], r[2], r[3] or "—", r[4], r[5], f"{r[6]:.1f}") for r in report.records],
                  col_widths=(2, 3.5, 3.5, 2, 1.5, 1.5, 1.5), align=("C", "L", "L", "L", "R", "R", "R"))
    else:
        doc.paragraph(_("本年度没有服务记录。"))
    return doc.output()


def report_xlsx(report: UnitReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    wb = Workbook()
    summary = wb.active
    summary.title = _("汇总")
    summary.append([_("单位"), report.unit_name])
    summary.append([_("年度"), report.year])
    summary.append([_("统计范围"), report.scope])
    summary.append([])
    summary.append([_("指标"), _("数值")])
    for label, value, _shown in report.summary():
        summary.append([label, value])
    summary.append([])
    summary.append([str(h) for h in RESOURCE_HEADERS])
    for row in report.resources:
        summary.append(list(row))
    for row in (1, 2, 3, 5, 7 + len(report.summary())):
        for cell in summary[row]:
            cell.font = bold
    projects = wb.create_sheet(_("项目"))
    projects.append([str(h) for h in PROJECT_HEADERS])
    for p in report.projects:
        projects.append([p.title, p.area, p.status, p.budget, p.starts_on, p.ends_on, p.completed_on, p.rating_count,
                         p.rating_average, p.records, p.beneficiaries, p.volunteers, p.hours])
    records = wb.create_sheet(_("服务记录"))
    records.append([str(h) for h in RECORD_HEADERS])
    for row in report.records:
        records.append(list(row))
    for sheet, widths in ((summary, (26, 40, 10, 10, 18, 12)), (projects, (30, 14, 10, 14, 12, 12, 12, 10, 12, 10,
                                                                          10, 10, 18)),
                          (records, (12, 30, 30, 16, 10, 14, 18))):
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        if sheet is not summary:
            for cell in sheet[1]:
                cell.font = bold
            sheet.freeze_panes = "A2"
    for sheet in (projects, records):
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00" if cell.column_letter == "D" and sheet is projects else "0.0#"
    wb.properties.creator = "轴心"
    wb.properties.title = f"{report.unit_name} {report.year}"
    stamp = timezone.localtime(report.generated_at).replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@transaction.atomic
def report_export(*, actor, unit, year: int, fmt: str) -> tuple[bytes, str]:
    """The report as (bytes, file name), audited like every export."""
    report = unit_report(actor, unit, year)
    data = report_pdf(report) if fmt == "pdf" else report_xlsx(report)
    audit.record(actor=actor, action="cobuild.report.exported", obj=unit,
                 after={"year": year, "format": fmt, "projects": len(report.projects), "records": len(report.records)})
    return data, _("%(unit)s%(year)d年度共建报告.%(ext)s") % {"unit": unit.name, "year": year, "ext": fmt}
