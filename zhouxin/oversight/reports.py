"""Monthly, quarterly and yearly reports of an area (DESIGN §3 oversight: "Reports (monthly,
quarterly, yearly; xlsx and PDF) generated from the data with no manual entry; the platform counts
the fields it filled so nobody had to"; §4 "long work runs as a task with a progress bar").

1. `report_create(actor=, area=, period=)`: a district, street or community in the actor's
   "oversight.report" scope and a period key ("2026-10", "2026-Q3", "2026") that has begun; the
   current period is reported "to date" and the files say so.  It stores a PENDING Report in the
   requester's language and enqueues the task (tasks_reports.generate_report) on commit.
2. `report_generate(report_id)`: run by the task worker.  It claims the report (PENDING →
   RUNNING) and goes step by step, writing `steps_done` / `stage` after each step in a short
   write of its own, so the page's progress bar moves:
     1. the area's headline: every registered indicator (core.indicators) for the period, the
        previous period and the same period last year (for a yearly report those two are one);
     2. the children: every indicator for each street of a district, each community of a street
        (a community's report has only its own figures);
     3. the star ratings of the period in the area (Rating rows, if any) and the rectifications
        still open at the period's end;
     4. the key problems of the area: new and closed in the period, open and overdue at its end;
     5. the xlsx (sheets 概况, 下级对比, 说明 — the last lists every figure with its source
        indicator and the link to the records behind it);
     6. the PDF (core.pdf: embedded Chinese fonts).
   Every figure of the report is counted: `fields_total` figures, `fields_filled` of them
   computed by the platform (not None), the rest had no data; none is typed by hand, and both
   files say so.  Any failure ends in FAILED with a message the page shows.

Nothing here imports another domain: the figures come from the indicator registry and this
app's own models.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit, indicators
from zhouxin.core.choices import AREA_ROLES, AuditResult
from zhouxin.core.db_router import replica_reads
from zhouxin.core.indicators import MONTH, PERCENT, QUARTER, YEAR, Indicator, Period, Value
from zhouxin.core.pdf import Document
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user, scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .choices import FlagStatus, ReportStatus
from .models import KeyProblem, Rating, Rectification, Report

logger = logging.getLogger("zhouxin.oversight.reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
REPORT_LEVELS = (AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)
CHILD_LEVEL = {AreaLevel.DISTRICT: AreaLevel.STREET, AreaLevel.STREET: AreaLevel.COMMUNITY}
STEPS_TOTAL = 6
FINISHED = (ReportStatus.SUCCEEDED, ReportStatus.FAILED)
# Indicator columns per table in the PDF's children comparison (A4 portrait).
PDF_COLUMNS = 5
# A report asked for again while the same one waits or runs is that report, unless it has waited
# this long (a worker that died must not block the report for ever).
STALE_AFTER = dt.timedelta(minutes=15)
# Overdue key problems listed by name in the files (all are counted).
MAX_PROBLEMS_LISTED = 50
NUMBER_FORMATS = {
    indicators.PERCENT: "0.0%",
    indicators.COUNT: "#,##0",
    indicators.HOURS: "#,##0.0",
    indicators.YUAN: "#,##0.00",
    indicators.DAYS: "#,##0",
}
HUNDRED = Decimal(100)
ONE_DECIMAL = Decimal("0.1")
DASH = indicators.DASH


# --- Who reaches what ---------------------------------------------------------------------------

def report_prefixes(user) -> tuple[str, ...]:
    """Area code prefixes where `user` may generate and read reports ("oversight.report")."""
    return scope_for_user(user).prefixes(AREA_ROLES & roles_for("oversight.report"))


def _under(prefixes: Iterable[str], field_name: str) -> Q:
    parts = [Q(**{f"{field_name}__startswith": p}) for p in prefixes]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def report_areas(user):
    """The active districts, streets and communities `user` may report on, by code."""
    return (Area.objects.unscoped().filter(_under(report_prefixes(user), "code"), level__in=REPORT_LEVELS,
                                           is_active=True)
            .select_related("parent").order_by("code"))


def reports_for(user):
    """The reports of the areas `user` may report on, newest first (whoever generated them)."""
    return (Report.objects.restrict(user).filter(_under(report_prefixes(user), "area__code"))
            .order_by("-created_at", "-id"))


# --- Periods and titles --------------------------------------------------------------------------

def check_period(period: str | Period, *, today: dt.date | None = None) -> Period:
    """The period of a key ("2026-10", "2026-Q3", "2026"); a future period is refused, the current
    one is allowed (reported to date).  ValidationError on the field "period" otherwise."""
    if not isinstance(period, Period):
        try:
            period = Period.parse(period)
        except ValidationError as exc:
            raise ValidationError({"period": exc.messages}) from None
    today = today or timezone.localdate()
    if period.start > today:
        raise ValidationError({"period": _("“%(period)s”尚未开始，不能生成报表；本期报表可生成截至今日的数据。")
                                         % {"period": period.label}})
    return period


def same_period_last_year(period: Period) -> Period:
    start = period.start
    return Period.of(period.kind, start.replace(year=start.year - 1))


def report_title(area: Area, period: Period) -> str:
    """"东城区2026年10月基层治理月报", "…2026年第3季度基层治理季报", "…2026年基层治理年报"."""
    values = {"area": area.name, "period": period.label}
    if period.kind == MONTH:
        return _("%(area)s%(period)s基层治理月报") % values
    if period.kind == QUARTER:
        return _("%(area)s%(period)s基层治理季报") % values
    return _("%(area)s%(period)s基层治理年报") % values


def title_of(report: Report) -> str:
    """The report's title in the active language (its period key was checked when it was made)."""
    try:
        return report_title(report.area, Period.parse(report.period))
    except ValidationError:
        return f"{report.area.name} {report.period}"


def fields_statement(total: int, filled: int) -> str:
    return (_("本报表共 %(total)d 项数据，平台根据业务记录自动填写 %(filled)d 项，无数据 %(empty)d 项，人工填写 0 项。")
            % {"total": total, "filled": filled, "empty": total - filled})


def _language(code: str) -> str:
    """One of settings.LANGUAGES for a request's language code ("zh-cn" → "zh-hans", "en-us" → "en")."""
    codes = [c for c, _label in settings.LANGUAGES]
    code = (code or "").strip().lower()
    if code in codes:
        return code
    base = code.split("-")[0]
    for known in codes:
        if known.split("-")[0] == base and base:
            return known
    return settings.LANGUAGE_CODE


def _date(day: dt.date) -> str:
    return _("%(year)d年%(month)d月%(day)d日") % {"year": day.year, "month": day.month, "day": day.day}


# --- Requesting a report -------------------------------------------------------------------------

@transaction.atomic
def report_create(*, actor, area: Area, period: str | Period, language: str = "") -> Report:
    """Ask for the report of `area` and `period` (a key or a Period) in `language` (the requester's
    interface language).  The area must be an active district, street or community the actor may
    report on ("oversight.report"); the period must have begun.  The report is generated by the
    task once this transaction commits; asking again while the same report is still being
    generated (for less than STALE_AFTER) gives that report instead of a second one."""
    ensure_can(actor, "oversight.report", area.code)
    if area.level not in REPORT_LEVELS or not area.is_active:
        raise ValidationError({"area": _("报表只能按区、街道或社区生成，请重新选择区域。")})
    chosen = check_period(period)
    language = _language(language)
    waiting = (Report.objects.unscoped()
               .filter(area=area, period=chosen.key, language=language,
                       status__in=(ReportStatus.PENDING, ReportStatus.RUNNING),
                       created_at__gte=timezone.now() - STALE_AFTER)
               .defer("xlsx", "pdf").order_by("-created_at").first())
    if waiting is not None:
        return waiting
    with translation.override(language):
        stage = _("排队中，等待后台生成…")
    report = Report.objects.unscoped().create(
        area=area, period=chosen.key, period_kind=chosen.kind, language=language, status=ReportStatus.PENDING,
        steps_total=STEPS_TOTAL, steps_done=0, stage=stage, created_by=actor)
    audit.record(actor=actor, action="oversight.report.requested", obj=report,
                 after={"area": area.code, "period": chosen.key, "language": language})
    report_id = report.pk

    def enqueue():
        from .tasks_reports import generate_report

        generate_report.enqueue(report_id=report_id)

    transaction.on_commit(enqueue)
    return report


def is_to_date(report: Report) -> bool:
    """The report's period had not ended when it was asked for (its figures run to that day)."""
    try:
        period = Period.parse(report.period)
    except ValidationError:
        return False
    return period.end >= timezone.localtime(report.created_at).date()


# --- What a report holds -------------------------------------------------------------------------

@dataclass
class Figure:
    """One figure of the report, and where it comes from."""

    section: str
    area: Area
    item: str
    value: Value
    unit: str
    source: str        # the indicator's name, or the records it counts
    source_title: str
    link: str | None
    description: str = ""

    @property
    def filled(self) -> bool:
        return self.value is not None

    @property
    def shown(self) -> str:
        return indicators.format_value(self.value, self.unit)


@dataclass
class HeadlineRow:
    indicator: Indicator
    value: Value
    previous: Value
    last_year: Value
    link: str | None

    @property
    def change(self) -> Value:
        return _difference(self.value, self.previous)

    @property
    def change_last_year(self) -> Value:
        return _difference(self.value, self.last_year)


@dataclass
class ReportData:
    report: Report
    area: Area
    period: Period
    generated_at: dt.datetime
    title: str = ""
    indicators: list[Indicator] = field(default_factory=list)
    headline: list[HeadlineRow] = field(default_factory=list)
    children: list[tuple[Area, dict[str, Value]]] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    rectifications: list[Rectification] = field(default_factory=list)
    problems: list[tuple[str, int, str | None]] = field(default_factory=list)
    overdue_problems: list[KeyProblem] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    # The period's bounds: the last day counted is the day the report was asked for while the
    # period runs ("to date").
    @property
    def last_day(self) -> dt.date:
        return min(self.period.end, timezone.localtime(self.generated_at).date())

    @property
    def to_date(self) -> bool:
        return self.period.end >= timezone.localtime(self.generated_at).date()

    @property
    def previous(self) -> Period:
        return self.period.previous()

    @property
    def last_year(self) -> Period | None:
        """The same period a year earlier; None for a yearly report (it is the previous period)."""
        return None if self.period.kind == YEAR else same_period_last_year(self.period)

    @property
    def start_at(self) -> dt.datetime:
        return _start_of(self.period.start)

    @property
    def cutoff(self) -> dt.datetime:
        """The end (exclusive) of what the report counts: the period's end, or the request time."""
        return min(_start_of(self.period.end + dt.timedelta(days=1)), self.generated_at)

    @property
    def child_level(self) -> str | None:
        return CHILD_LEVEL.get(self.area.level)

    @property
    def fields_total(self) -> int:
        return len(self.figures)

    @property
    def fields_filled(self) -> int:
        return sum(1 for f in self.figures if f.filled)

    @property
    def statement(self) -> str:
        return fields_statement(self.fields_total, self.fields_filled)

    @property
    def span(self) -> str:
        """"2026年10月1日至2026年10月31日", to date: "…至2026年10月15日（截至报表生成之日，本期尚未结束）"."""
        text = _("%(start)s至%(end)s") % {"start": _date(self.period.start), "end": _date(self.last_day)}
        if self.to_date:
            text += _("（截至报表生成之日，本期尚未结束）")
        return text

    @property
    def subtitle(self) -> str:
        return _("统计期：%(span)s") % {"span": self.span}


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _difference(value: Value, other: Value) -> Value:
    if value is None or other is None:
        return None
    return Decimal(value) - Decimal(other)


def format_change(delta: Value, unit: str) -> str:
    """"+2.3个百分点" for rates, "+12" / "-3.5" for the rest, "—" without a comparison."""
    if delta is None:
        return DASH
    delta = Decimal(delta)
    sign = "+" if delta > 0 else ("-" if delta < 0 else "")
    if unit == PERCENT:
        points = (abs(delta) * HUNDRED).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
        return _("%(sign)s%(points)s个百分点") % {"sign": sign, "points": points}
    return sign + indicators.format_value(abs(delta), unit)


def _heading_of(indicator: Indicator) -> str:
    title = str(indicator.title)
    if indicator.unit == PERCENT:
        return title
    return _("%(title)s（%(unit)s）") % {"title": title, "unit": indicator.unit_label}


def _safe_reverse(name: str, query: str = "") -> str | None:
    try:
        url = reverse(name)
    except NoReverseMatch:  # that part of oversight is not installed
        return None
    return f"{url}?{query}" if query else url


# --- The steps ------------------------------------------------------------------------------------

def collect_headline(data: ReportData) -> None:
    """Step 1: every registered indicator for the area in the period, the previous period and the
    same period last year."""
    data.indicators = indicators.indicators()
    area, period = data.area, data.period
    names = [i.name for i in data.indicators]
    now = indicators.compute_many(names, [area], period)
    before = indicators.compute_many(names, [area], data.previous)
    year_ago = indicators.compute_many(names, [area], data.last_year) if data.last_year else {}
    section = _("主要指标")
    for indicator in data.indicators:
        name = indicator.name
        row = HeadlineRow(indicator=indicator, value=now[name].get(area.pk), previous=before[name].get(area.pk),
                          last_year=year_ago[name].get(area.pk) if data.last_year else None,
                          link=indicators.link(name, area, period))
        data.headline.append(row)
        columns = [(pgettext("report column", "本期"), row.value, period, row.link),
                   (_("上期") if data.last_year else _("上年"), row.previous, data.previous,
                    indicators.link(name, area, data.previous))]
        if data.last_year:
            columns.append((_("上年同期"), row.last_year, data.last_year, indicators.link(name, area, data.last_year)))
        for column, value, when, link in columns:
            data.figures.append(Figure(
                section=section, area=area, item=_("%(title)s（%(column)s %(period)s）") % {
                    "title": indicator.title, "column": column, "period": when.label}, value=value,
                unit=indicator.unit, source=name, source_title=str(indicator.title), link=link,
                description=str(indicator.description or "")))


def collect_children(data: ReportData) -> None:
    """Step 2: every indicator for each street of a district or community of a street."""
    level = data.child_level
    if level is None:
        return
    children = list(Area.objects.unscoped().filter(parent=data.area, level=level, is_active=True).order_by("code"))
    if not children:
        return
    names = [i.name for i in data.indicators]
    values = indicators.compute_many(names, children, data.period)
    section = _("下级对比")
    for child in children:
        row = {name: values[name].get(child.pk) for name in names}
        data.children.append((child, row))
        for indicator in data.indicators:
            data.figures.append(Figure(
                section=section, area=child, item=str(indicator.title), value=row[indicator.name],
                unit=indicator.unit, source=indicator.name, source_title=str(indicator.title),
                link=indicators.link(indicator.name, child, data.period), description=str(indicator.description or "")))


def collect_ratings(data: ReportData) -> None:
    """Step 3: the star ratings of the period in the area, and the rectifications open at its end
    (flagged before the cutoff and not closed by then)."""
    area = data.area
    data.ratings = list(Rating.objects.unscoped().filter(period=data.period.key, area__code__startswith=area.code)
                        .select_related("area").order_by("area__level", "rank", "area__code"))
    rating_link = _safe_reverse("oversight:rating_list", f"period={data.period.key}")
    for rating in data.ratings:
        data.figures.append(Figure(
            section=_("星级评定"), area=rating.area, item=_("星级评定得分"), value=rating.score,
            unit=indicators.COUNT, source="oversight.rating", source_title=_("星级评定（加权指标）"), link=rating_link,
            description=_("按评定时有效的星级评定规则，对各项指标加权计算的得分")))
    cutoff = data.cutoff
    data.rectifications = list(
        Rectification.objects.unscoped()
        .filter(area__code__startswith=area.code, flagged_at__lt=cutoff)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff))
        .exclude(status=FlagStatus.CLOSED, closed_at__isnull=True)
        .select_related("area").order_by("area__code", "period"))
    data.figures.append(Figure(
        section=_("整改"), area=area, item=_("期末待整改的街道（社区）数"), value=len(data.rectifications),
        unit=indicators.COUNT, source="oversight.rectification", source_title=_("整改记录"), link=rating_link,
        description=_("统计期结束前列入整改、到期末尚未整改完成的街道（社区）")))


def collect_problems(data: ReportData) -> None:
    """Step 4: the key problems of the area (重点难点问题): raised and closed (销号) in the period,
    open at its end, and of those the overdue ones (deadline passed before the period's end;
    to date: before today)."""
    area = data.area
    start, cutoff = data.start_at, data.cutoff
    base = KeyProblem.objects.unscoped().filter(area__code__startswith=area.code)
    open_at_end = base.filter(created_at__lt=cutoff).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff))
    # A deadline on the last day of a finished period has passed at its end; to date, today's has not yet.
    overdue_before = data.last_day if data.to_date else data.last_day + dt.timedelta(days=1)
    overdue = open_at_end.filter(deadline__lt=overdue_before)
    counts = [
        (_("本期新增问题"), base.filter(created_at__gte=start, created_at__lt=cutoff).count()),
        (_("本期销号问题"), base.filter(closed_at__gte=start, closed_at__lt=cutoff).count()),
        (_("期末未销号问题"), open_at_end.count()),
        (_("其中逾期未销号"), overdue.count()),
    ]
    link = _safe_reverse("oversight:problem_list", f"area={area.code}")
    section = _("重点难点问题")
    for (label, value), description in zip(counts, (
            _("统计期内提出的问题"), _("统计期内销号的问题"), _("统计期结束时尚未销号的问题"),
            _("统计期结束时尚未销号、已超过完成时限的问题")), strict=True):
        data.problems.append((label, value, link))
        data.figures.append(Figure(section=section, area=area, item=label, value=value, unit=indicators.COUNT,
                                   source="oversight.key_problem", source_title=_("重点难点问题台账"), link=link,
                                   description=description))
    data.overdue_problems = list(overdue.select_related("area").order_by("deadline", "id")[:MAX_PROBLEMS_LISTED])


# --- The files -------------------------------------------------------------------------------------

def _stars(rating: Rating) -> str:
    return _("%(n)d星") % {"n": rating.stars}


def _rating_rank(rating: Rating) -> str:
    if rating.rank is None:
        return DASH
    return f"{rating.rank} / {rating.rank_of}"


def _reasons(rectification: Rectification) -> str:
    texts = [str(r.get("text") or r.get("reason") or "") for r in (rectification.reasons or []) if isinstance(r, dict)]
    return pgettext("列表分隔", "；").join(t for t in texts if t) or DASH


def _area_label(area: Area) -> str:
    if area.parent_id and area.level == AreaLevel.COMMUNITY and area.parent is not None:
        return _("%(name)s（%(parent)s）") % {"name": area.name, "parent": area.parent.name}
    return area.name


def build_xlsx(data: ReportData) -> bytes:
    """Sheets 概况 (headline, ratings, rectifications, key problems), 下级对比 (every indicator per
    street or community) and 说明 (every figure: its source indicator and the link to its records)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    wb = Workbook()
    sheet = wb.active
    sheet.title = _("概况")
    sheet.append([data.title])
    sheet["A1"].font = title_font
    generated = timezone.localtime(data.generated_at)
    for label, value in ((_("区域"), _area_label(data.area)), (_("统计期"), data.span),
                         (_("生成时间"), generated.strftime("%Y-%m-%d %H:%M")), (_("数据说明"), data.statement)):
        sheet.append([label, value])
        sheet.cell(row=sheet.max_row, column=1).font = bold
    sheet.append([])

    # Headline.
    if data.last_year:
        heads = [_("指标"), _("领域"), _("单位"), data.period.label, _("上期（%(p)s）") % {"p": data.previous.label},
                 _("环比增减"), _("上年同期（%(p)s）") % {"p": data.last_year.label}, _("同比增减")]
    else:
        heads = [_("指标"), _("领域"), _("单位"), data.period.label, _("上年（%(p)s）") % {"p": data.previous.label},
                 _("增减")]
    sheet.append([_("一、主要指标")])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    sheet.append(heads)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for row in data.headline:
        ind = row.indicator
        values = [row.value, row.previous, row.change]
        if data.last_year:
            values += [row.last_year, row.change_last_year]
        sheet.append([str(ind.title), str(ind.domain), ind.unit_label, *values])
        for cell in sheet[sheet.max_row][3:]:
            cell.number_format = NUMBER_FORMATS.get(ind.unit, "General")
    if not data.headline:
        sheet.append([_("平台尚未登记任何指标。")])
    sheet.append([])

    # Ratings and rectifications.
    sheet.append([_("二、星级评定与整改")])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    if data.ratings:
        sheet.append([_("街道（社区）"), _("区划代码"), _("星级"), _("得分"), _("区内排名"), _("社区类型")])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for rating in data.ratings:
            sheet.append([rating.area.name, rating.area.code, rating.stars, rating.score, _rating_rank(rating),
                          rating.community_type or DASH])
    else:
        sheet.append([_("本期尚未进行星级评定。")])
    sheet.append([_("期末待整改"), len(data.rectifications)])
    if data.rectifications:
        sheet.append([_("街道（社区）"), _("统计期"), _("原因"), _("状态")])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for item in data.rectifications:
            sheet.append([item.area.name, item.period, _reasons(item), item.get_status_display()])
    sheet.append([])

    # Key problems.
    sheet.append([_("三、重点难点问题")])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    for label, value, _link in data.problems:
        sheet.append([label, value])
    if data.overdue_problems:
        sheet.append([_("逾期未销号问题"), _("区域"), _("完成时限"), _("进度（%）"), _("包联领导")])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for problem in data.overdue_problems:
            sheet.append([problem.title, problem.area.name, problem.deadline, problem.progress, problem.owner])
            sheet.cell(row=sheet.max_row, column=3).number_format = "yyyy-mm-dd"
    for index, width in enumerate((28, 16, 12, 16, 18, 14, 20, 14), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet["B5"].alignment = Alignment(wrap_text=True, vertical="top")

    # Children.
    children = wb.create_sheet(_("下级对比"))
    if data.child_level is None:
        children.append([_("社区为最小统计单元，本报表不含下级对比。")])
    elif not data.children:
        children.append([_("本区域下没有启用的下级区域。")])
    else:
        children.append([_("下级区域"), _("区划代码"), *(_heading_of(i) for i in data.indicators)])
        for cell in children[1]:
            cell.font = bold
        for child, row in data.children:
            children.append([child.name, child.code, *(row[i.name] for i in data.indicators)])
            for offset, ind in enumerate(data.indicators, start=3):
                children.cell(row=children.max_row, column=offset).number_format = NUMBER_FORMATS.get(ind.unit,
                                                                                                       "General")
        children.freeze_panes = "C2"
        children.column_dimensions["A"].width = 18
        children.column_dimensions["B"].width = 16
        for offset in range(3, 3 + len(data.indicators)):
            children.column_dimensions[get_column_letter(offset)].width = 14

    # Where every figure comes from.
    notes = wb.create_sheet(_("说明"))
    notes.append([data.statement])
    notes.append([_("报表中的数据均由平台根据业务记录自动计算，没有人工填写的数据；“—”表示该项无数据。链接为平台内查看原始记录的页面地址。")])
    notes.append([])
    notes.append([_("序号"), _("部分"), _("区域"), _("数据项"), _("数值"), _("来源指标"), _("指标代码"), _("口径"),
                  _("记录链接")])
    for cell in notes[notes.max_row]:
        cell.font = bold
    for number, figure in enumerate(data.figures, start=1):
        notes.append([number, figure.section, figure.area.name, figure.item,
                      figure.shown if figure.filled else _("无数据"), figure.source_title, figure.source,
                      figure.description or DASH, figure.link or DASH])
    for index, width in enumerate((6, 14, 16, 34, 12, 18, 28, 36, 50), start=1):
        notes.column_dimensions[get_column_letter(index)].width = width
    notes.freeze_panes = "A5"

    wb.properties.creator = "轴心"
    wb.properties.title = data.title
    stamp = generated.replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i:i + size] for i in range(0, len(items), size)] or [items]


def build_pdf(data: ReportData) -> bytes:
    """The same report as a PDF (core.pdf.Document: the Chinese fonts are embedded)."""
    doc = Document(title=data.title, subtitle=data.subtitle, creation_date=data.report.created_at,
                   subject=data.title, keywords=(_("基层治理报表"), data.area.name, data.period.key),
                   footer_note=_("%(title)s · 平台自动生成") % {"title": data.title})
    generated = timezone.localtime(data.generated_at)
    pairs = [(_("区域"), _area_label(data.area)), (_("统计期"), data.span),
             (_("对比期"), (_("上期 %(prev)s，上年同期 %(year)s") % {"prev": data.previous.label,
                                                              "year": data.last_year.label})
              if data.last_year else _("上年 %(prev)s") % {"prev": data.previous.label}),
             (_("生成时间"), generated.strftime("%Y-%m-%d %H:%M")), (_("数据说明"), data.statement)]
    doc.key_values(pairs, label_width=28)

    doc.heading(_("一、主要指标"))
    if data.headline:
        if data.last_year:
            heads = [_("指标"), pgettext("report column", "本期"), _("上期"), _("环比"), _("上年同期"), _("同比")]
            rows = [(str(r.indicator.title), r.indicator.format(r.value), r.indicator.format(r.previous),
                     format_change(r.change, r.indicator.unit), r.indicator.format(r.last_year),
                     format_change(r.change_last_year, r.indicator.unit)) for r in data.headline]
            doc.table(heads, rows, col_widths=(3.2, 2, 2, 2.4, 2, 2.4), align=("L", "R", "R", "R", "R", "R"))
        else:
            heads = [_("指标"), pgettext("report column", "本年"), _("上年"), _("增减")]
            rows = [(str(r.indicator.title), r.indicator.format(r.value), r.indicator.format(r.previous),
                     format_change(r.change, r.indicator.unit)) for r in data.headline]
            doc.table(heads, rows, col_widths=(3.2, 2, 2, 2.4), align=("L", "R", "R", "R"))
        units = sorted({_heading_of(r.indicator) for r in data.headline if r.indicator.unit != PERCENT})
        if units:
            doc.paragraph(_("单位：%(units)s。") % {"units": pgettext("列表分隔", "、").join(units)}, muted=True, size=9,
                          indent=False)
    else:
        doc.paragraph(_("平台尚未登记任何指标。"))

    doc.heading(_("二、下级对比"))
    if data.child_level is None:
        doc.paragraph(_("社区为最小统计单元，本报表不含下级对比。"))
    elif not data.children:
        doc.paragraph(_("本区域下没有启用的下级区域。"))
    else:
        for group in _chunks(data.indicators, PDF_COLUMNS):
            heads = [_("下级区域"), *(_heading_of(i) for i in group)]
            rows = [(child.name, *(i.format(row[i.name]) for i in group)) for child, row in data.children]
            doc.table(heads, rows, col_widths=(3, *([2] * len(group))), align=("L", *("R" * len(group))))

    doc.heading(_("三、星级评定与整改"))
    if data.ratings:
        doc.table([_("街道（社区）"), _("星级"), _("得分"), _("区内排名")],
                  [(r.area.name, _stars(r), r.score if r.score is not None else DASH, _rating_rank(r))
                   for r in data.ratings], col_widths=(4, 2, 2, 2), align=("L", "C", "R", "C"))
    else:
        doc.paragraph(_("本期尚未进行星级评定。"))
    if data.rectifications:
        doc.paragraph(_("期末待整改的街道（社区）%(n)d 个：") % {"n": len(data.rectifications)}, indent=False)
        doc.table([_("街道（社区）"), _("统计期"), _("原因"), _("状态")],
                  [(r.area.name, r.period, _reasons(r), r.get_status_display()) for r in data.rectifications],
                  col_widths=(3, 1.6, 6, 1.6), align=("L", "C", "L", "C"))
    else:
        doc.paragraph(_("期末没有待整改的街道（社区）。"))

    doc.heading(_("四、重点难点问题"))
    doc.key_values([(label, value) for label, value, _link in data.problems], label_width=40)
    if data.overdue_problems:
        doc.table([_("逾期未销号问题"), _("区域"), _("完成时限"), _("进度")],
                  [(p.title, p.area.name, p.deadline.isoformat(), f"{p.progress}%") for p in data.overdue_problems],
                  col_widths=(6, 3, 2, 1.4), align=("L", "L", "C", "R"))

    doc.heading(_("五、数据说明"))
    doc.paragraph(data.statement)
    doc.paragraph(_("报表中的数据均由平台根据业务记录自动计算，没有人工填写的数据；“—”表示该项无数据。"
                    "每项数据的来源指标和原始记录链接见电子表格的“说明”工作表。"))
    doc.items([_("%(n)d. %(title)s（%(domain)s）：%(description)s") % {
        "n": number, "title": i.title, "domain": i.domain, "description": i.description or DASH}
        for number, i in enumerate(data.indicators, start=1)])
    return doc.output()


# --- The generator ---------------------------------------------------------------------------------

def _step(report_id: int, done: int, stage: str) -> None:
    # Autocommit: one short write, seen by the page's polling at once.
    Report.objects.unscoped().filter(pk=report_id, status=ReportStatus.RUNNING).update(
        steps_done=done, stage=stage[:120])


def _fail(report: Report, message: str) -> None:
    with transaction.atomic():
        Report.objects.unscoped().filter(pk=report.pk).update(
            status=ReportStatus.FAILED, error=message[:500], stage=_("生成失败"), finished_at=timezone.now())
        audit.record(actor=report.created_by, action="oversight.report.failed", obj=report, result=AuditResult.FAILED,
                     after={"area": report.area.code, "period": report.period, "error": message[:200]})


def report_generate(report_id: int) -> str:
    """Generate one report (called by the task worker); returns its final status."""
    claimed = Report.objects.unscoped().filter(pk=report_id, status=ReportStatus.PENDING).update(
        status=ReportStatus.RUNNING, steps_done=0, steps_total=STEPS_TOTAL)
    if claimed != 1:  # already taken by another worker, or gone
        return Report.objects.unscoped().filter(pk=report_id).values_list("status", flat=True).first() or ""
    report = Report.objects.unscoped().select_related("area__parent", "created_by").defer("xlsx", "pdf").get(pk=report_id)
    with translation.override(report.language or settings.LANGUAGE_CODE), scopes_disabled():
        try:
            return _generate(report)
        except Exception:
            logger.exception("report %s failed unexpectedly", report_id)
            _fail(report, _("生成报表时发生内部错误，报表未生成。请稍后重新生成或联系系统管理员。"))
            return ReportStatus.FAILED


def _generate(report: Report) -> str:
    user, area = report.created_by, report.area
    if not user.is_active or not can(user, "oversight.report", area.code):
        _fail(report, _("生成人已没有“%(area)s”的报表权限，报表未生成。") % {"area": area.name})
        return ReportStatus.FAILED
    try:
        period = Period.parse(report.period)
    except ValidationError as exc:
        _fail(report, " ".join(exc.messages))
        return ReportStatus.FAILED
    data = ReportData(report=report, area=area, period=period, generated_at=report.created_at)
    data.title = report_title(area, period)

    # The figures are read from the read replica when there is one (zhouxin/core/db_router.py);
    # the progress steps, the files and the audit entry are writes and go to the primary.
    with replica_reads():
        _step(report.pk, 0, _("正在计算本区域的各项指标…"))
        collect_headline(data)
        _step(report.pk, 1, _("正在计算下级街道（社区）的指标…"))
        collect_children(data)
        _step(report.pk, 2, _("正在汇总星级评定和整改情况…"))
        collect_ratings(data)
        _step(report.pk, 3, _("正在统计重点难点问题…"))
        collect_problems(data)
        _step(report.pk, 4, _("正在生成电子表格…"))
        xlsx = build_xlsx(data)
        _step(report.pk, 5, _("正在生成 PDF…"))
        pdf = build_pdf(data)

    with transaction.atomic():
        done = Report.objects.unscoped().filter(pk=report.pk, status=ReportStatus.RUNNING).update(
            status=ReportStatus.SUCCEEDED, steps_done=STEPS_TOTAL, steps_total=STEPS_TOTAL, stage=_("已生成"),
            fields_total=data.fields_total, fields_filled=data.fields_filled, xlsx=xlsx, pdf=pdf, error="",
            finished_at=timezone.now())
        if done != 1:
            return Report.objects.unscoped().filter(pk=report.pk).values_list("status", flat=True).first() or ""
        audit.record(actor=user, action="oversight.report.generated", obj=report,
                     after={"area": area.code, "period": period.key, "fields_total": data.fields_total,
                            "fields_filled": data.fields_filled, "xlsx_bytes": len(xlsx), "pdf_bytes": len(pdf)})
    return ReportStatus.SUCCEEDED


def report_data(report: Report) -> ReportData:
    """The figures of a report computed again, without the files (for tests and the shell)."""
    period = Period.parse(report.period)
    data = ReportData(report=report, area=report.area, period=period, generated_at=report.created_at)
    data.title = report_title(report.area, period)
    with scopes_disabled():
        for collect in (collect_headline, collect_children, collect_ratings, collect_problems):
            collect(data)
    return data


# --- Downloads ------------------------------------------------------------------------------------

def report_download(*, actor, report: Report, fmt: str) -> tuple[bytes, str, str]:
    """The stored file of a generated report as (bytes, file name, content type), audited like
    every export.  The file name is the report's title in its own language."""
    ensure_can(actor, "oversight.report", report.area.code)
    if report.status != ReportStatus.SUCCEEDED:
        raise ValidationError(_("报表尚未生成完成。"))
    stored = Report.objects.unscoped().filter(pk=report.pk).values_list(fmt, flat=True).first()
    if not stored:
        raise ValidationError(_("报表尚未生成完成。"))
    with translation.override(report.language or settings.LANGUAGE_CODE):
        filename = f"{title_of(report)}.{fmt}"
    audit.record(actor=actor, action="oversight.report.downloaded", obj=report,
                 after={"area": report.area.code, "period": report.period, "format": fmt})
    return bytes(stored), filename, XLSX if fmt == "xlsx" else PDF
