"""Funds reports (DESIGN §3 funds, issue 9 item 5): the street overview (经费看板) and the fund
execution report per community (经费执行情况, xlsx), computed from the funds, their ledgers and
plans.

Who sees what: the areas of the caller's "funds.view" grants (a street hub their street, community
staff their community, the district administrator the district, narrowed to one street on
request).

Figures of one year's funds (both kinds):
* budget (预算) and allocated (拨入: the allocation entries); spent (已支出) = money out net of
  refunds = allocated − balance; balance (余额); committed (在途计划占用) = what open plans may still
  draw (amount − disbursed); execution rate = spent / budget;
* spending by category: the disbursements and refunds of the year's funds by the category their
  plan was filed under (entries without a plan under "未关联计划");
* monthly spending: the same entries by the month they were recorded in the calendar year.
Every figure comes from a fixed number of aggregate queries, whatever the number of funds.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit
from zhouxin.core.db_router import replica_reads
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import funds
from .choices import EntryKind, FundSourceKind
from .models import Fund, LedgerEntry, SpendingPlan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEARS_BACK = 4
ZERO = Decimal("0.00")
SPENDING = (EntryKind.DISBURSEMENT, EntryKind.REFUND)
SOURCES = funds.SOURCE_ORDER
SOURCE_HEADERS = {FundSourceKind.CITY: gettext_lazy("市级财政（元）"), FundSourceKind.DISTRICT: gettext_lazy("区级财政（元）"),
                  FundSourceKind.STREET: gettext_lazy("街道财政（元）"), FundSourceKind.OTHER: gettext_lazy("其他来源（元）")}
FUND_HEADERS = (gettext_lazy("街道"), gettext_lazy("社区"), gettext_lazy("年度"), gettext_lazy("经费类型"),
                gettext_lazy("年度预算（元）"), *(SOURCE_HEADERS[s] for s in SOURCES),
                gettext_lazy("分担比例"), gettext_lazy("已拨入（元）"), gettext_lazy("已支出（元）"), gettext_lazy("余额（元）"),
                gettext_lazy("在途计划占用（元）"), gettext_lazy("执行率（%）"), gettext_lazy("支出计划（个）"))
CATEGORY_HEADERS = (gettext_lazy("街道"), gettext_lazy("社区"), gettext_lazy("经费类型"), gettext_lazy("支出类别"),
                    gettext_lazy("支出金额（元）"))
PLAN_HEADERS = (gettext_lazy("街道"), gettext_lazy("社区"), gettext_lazy("经费类型"), gettext_lazy("计划编号"),
                gettext_lazy("项目名称"), gettext_lazy("支出类别"), gettext_lazy("计划金额（元）"),
                gettext_lazy("已拨付（元）"), gettext_lazy("状态"), gettext_lazy("备案号"), gettext_lazy("提出日期"))


def _money(value) -> Decimal:
    return funds.money(value or 0)


# --- Scope ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportScope:
    prefixes: tuple[str, ...] = ()
    label: str = ""
    streets: tuple[tuple[str, str], ...] = ()  # the street filter's choices (code, name)
    street: str = ""  # the chosen street, "" for all

    @property
    def empty(self) -> bool:
        return not self.prefixes

    def q(self, path: str) -> Q:
        return funds._under(self.prefixes, path)


def report_scope(user, *, street: str = "") -> ReportScope:
    """The caller's funds areas; `street` narrows a district-wide view to one of its streets (a
    street outside the caller's areas is ignored)."""
    prefixes = funds.area_prefixes(user, "funds.view")
    if not prefixes:
        return ReportScope()
    wide = [p for p in prefixes if len(p) <= 6]
    streets: tuple[tuple[str, str], ...] = ()
    if wide:
        streets = tuple(Area.objects.unscoped().filter(funds._under(wide, "code"), level=AreaLevel.STREET,
                                                       is_active=True).order_by("code").values_list("code", "name"))
    chosen = street if street in {code for code, _name in streets} else ""
    if chosen:
        prefixes = (chosen,)
    names = dict(Area.objects.unscoped().filter(code__in=prefixes).values_list("code", "name"))
    return ReportScope(prefixes=tuple(prefixes), label="、".join(names.get(p, p) for p in prefixes),
                       streets=streets, street=chosen)


def years_for(today: dt.date | None = None) -> list[int]:
    year = (today or timezone.localdate()).year
    return list(range(year + 1, year - YEARS_BACK - 1, -1))


def chosen_year(raw) -> int:
    this_year = timezone.localdate().year
    try:
        year = int(raw or "")
    except ValueError:
        return this_year
    return year if year in years_for() else this_year


# --- Figures -------------------------------------------------------------------------------------

@dataclass
class FundRow:
    fund: Fund
    street: str
    community: str
    sources: dict[str, Decimal]
    ratio: str
    budget: Decimal
    allocated: Decimal
    spent: Decimal
    balance: Decimal
    committed: Decimal
    plans: int
    categories: list[tuple[str, Decimal]] = field(default_factory=list)

    @property
    def rate(self) -> Decimal | None:
        return funds.execution_rate(self.spent, self.budget)


@dataclass
class CommunityRow:
    code: str
    name: str
    street: str
    funds: int = 0
    budget: Decimal = ZERO
    spent: Decimal = ZERO
    balance: Decimal = ZERO
    committed: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        return funds.execution_rate(self.spent, self.budget)


@dataclass
class Overview:
    year: int
    scope: ReportScope
    communities: list[CommunityRow] = field(default_factory=list)
    funds: list[FundRow] = field(default_factory=list)
    categories: list[dict] = field(default_factory=list)
    months: list[dict] = field(default_factory=list)
    plans: list[SpendingPlan] = field(default_factory=list)  # with_plans only (the xlsx)

    @property
    def budget(self) -> Decimal:
        return sum((c.budget for c in self.communities), ZERO)

    @property
    def spent(self) -> Decimal:
        return sum((c.spent for c in self.communities), ZERO)

    @property
    def balance(self) -> Decimal:
        return sum((c.balance for c in self.communities), ZERO)

    @property
    def committed(self) -> Decimal:
        return sum((c.committed for c in self.communities), ZERO)

    @property
    def rate(self) -> Decimal | None:
        return funds.execution_rate(self.spent, self.budget)

    @property
    def without_fund(self) -> int:
        return sum(1 for c in self.communities if not c.funds)

    def chart_data(self) -> dict:
        """The numbers the charts draw (json_script): plain lists, labels translated here."""
        return {
            "labels": {"budget": _("年度预算"), "spent": _("已支出"), "yuan": _("元"), "categories": _("支出类别"),
                       "monthly": _("当月支出")},
            "communities": [c.name for c in self.communities],
            "budget": [float(c.budget) for c in self.communities],
            "spent": [float(c.spent) for c in self.communities],
            "categories": [{"name": c["label"], "value": float(c["spent"])} for c in self.categories if c["spent"]],
            "months": [m["label"] for m in self.months],
            "monthly": [float(m["spent"]) for m in self.months],
        }


def _bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (timezone.make_aware(dt.datetime(year, 1, 1), tz), timezone.make_aware(dt.datetime(year + 1, 1, 1), tz))


def overview(scope: ReportScope, year: int, *, with_plans: bool = False) -> Overview:
    """The year's funds figures of the scope's communities (every active community of the scope,
    those without a fund too, so the street sees which have none)."""
    board = Overview(year=year, scope=scope)
    board.months = [{"month": m, "label": _("%(m)d月") % {"m": m}, "spent": ZERO} for m in range(1, 13)]
    if scope.empty:
        return board
    communities = list(Area.objects.unscoped().filter(scope.q("code"), level=AreaLevel.COMMUNITY, is_active=True)
                       .select_related("parent").order_by("code"))
    by_code = {a.code: CommunityRow(a.code, a.name, a.parent.name if a.parent_id else "") for a in communities}
    year_funds = Fund.objects.unscoped().filter(scope.q("community__code"), year=year)
    rows = list(funds.with_figures(year_funds).select_related("community__parent").prefetch_related("sources")
                .order_by("community__code", "kind"))
    plan_counts = dict(SpendingPlan.objects.unscoped().filter(fund__in=year_funds.values("pk")).order_by()
                       .values("fund").annotate(n=Count("pk")).values_list("fund", "n"))
    spending = LedgerEntry.objects.unscoped().filter(fund__in=year_funds.values("pk"), kind__in=SPENDING)
    per_fund_category: dict[int, dict[str, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    unplanned = _("未关联计划")
    for fund_id, label, total in (spending.order_by().values("fund", "plan__category_label")
                                  .annotate(total=Sum("amount")).values_list("fund", "plan__category_label", "total")):
        name = label or unplanned
        out = -_money(total)
        per_fund_category.setdefault(fund_id, {})[name] = per_fund_category.get(fund_id, {}).get(name, ZERO) + out
        totals[name] = totals.get(name, ZERO) + out
    board.categories = sorted(({"label": k, "spent": v} for k, v in totals.items()),
                              key=lambda c: (-c["spent"], c["label"]))
    start, end = _bounds(year)
    for month, total in (spending.filter(recorded_at__gte=start, recorded_at__lt=end)
                         .annotate(m=ExtractMonth("recorded_at")).order_by().values("m")
                         .annotate(total=Sum("amount")).values_list("m", "total")):
        board.months[month - 1]["spent"] = -_money(total)
    for fund in rows:
        community = fund.community
        row = FundRow(
            fund=fund, street=community.parent.name if community.parent_id else "", community=community.name,
            sources={s.source: _money(s.amount) for s in fund.sources.all()}, ratio=funds.fund_ratio(fund),
            budget=_money(fund.budget), allocated=_money(fund.allocated), spent=_money(fund.spent),
            balance=_money(fund.balance), committed=_money(fund.committed), plans=plan_counts.get(fund.pk, 0),
            categories=sorted(per_fund_category.get(fund.pk, {}).items(), key=lambda c: (-c[1], c[0])))
        board.funds.append(row)
        target = by_code.get(community.code)
        if target is None:  # a fund of a community since closed: still counted, under its own name
            target = by_code[community.code] = CommunityRow(community.code, community.name, row.street)
        target.funds += 1
        target.budget += row.budget
        target.spent += row.spent
        target.balance += row.balance
        target.committed += row.committed
    board.communities = sorted(by_code.values(), key=lambda c: c.code)
    if with_plans:
        board.plans = list(SpendingPlan.objects.unscoped().filter(fund__in=year_funds.values("pk"))
                           .select_related("community__parent", "fund")
                           .order_by("community__code", "fund__kind", "proposed_at", "id"))
    return board


# --- The xlsx ------------------------------------------------------------------------------------

def execution_xlsx(board: Overview, *, generated_at: dt.datetime | None = None) -> bytes:
    """The fund execution report: one row per fund (budget, sources, ratio, allocated, spent,
    balance, committed, execution rate, plans), its spending by category, and its plans with
    their status."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    money_format = "#,##0.00"
    wb = Workbook()
    sheet = wb.active
    sheet.title = _("经费执行")
    sheet.append([_("%(year)s年度社区经费执行情况") % {"year": board.year}])
    sheet.append([_("统计范围"), board.scope.label or "—"])
    generated = timezone.localtime(generated_at or timezone.now())
    sheet.append([_("生成时间"), generated.strftime("%Y-%m-%d %H:%M")])
    sheet.append([])
    header_row = sheet.max_row + 1
    sheet.append([str(h) for h in FUND_HEADERS])
    for row in board.funds:
        rate = row.rate
        sheet.append([row.street, row.community, row.fund.year, row.fund.get_kind_display(), row.budget,
                      *(row.sources.get(s.value) for s in SOURCES), row.ratio, row.allocated, row.spent,
                      row.balance, row.committed, float(rate) if rate is not None else None, row.plans])
    total_rate = board.rate
    fund_budget = sum((r.budget for r in board.funds), ZERO)
    sheet.append([_("合计"), "", "", "", fund_budget,
                  *(sum((r.sources.get(s.value, ZERO) for r in board.funds), ZERO) for s in SOURCES), "",
                  sum((r.allocated for r in board.funds), ZERO), sum((r.spent for r in board.funds), ZERO),
                  sum((r.balance for r in board.funds), ZERO), sum((r.committed for r in board.funds), ZERO),
                  float(total_rate) if total_rate is not None else None, sum(r.plans for r in board.funds)])
    for cell in sheet[1] + sheet[header_row] + sheet[sheet.max_row]:
        cell.font = bold
    money_columns = {5, 6, 7, 8, 9, 11, 12, 13, 14}
    for line in sheet.iter_rows(min_row=header_row + 1):
        for cell in line:
            if cell.column in money_columns and cell.value is not None:
                cell.number_format = money_format
            elif cell.column == 15 and cell.value is not None:
                cell.number_format = "0.0"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)

    categories = wb.create_sheet(_("支出类别"))
    categories.append([str(h) for h in CATEGORY_HEADERS])
    for row in board.funds:
        for label, amount in row.categories:
            categories.append([row.street, row.community, row.fund.get_kind_display(), label, amount])
    plans = wb.create_sheet(_("支出计划"))
    plans.append([str(h) for h in PLAN_HEADERS])
    for plan in board.plans:
        community = plan.community
        plans.append([community.parent.name if community.parent_id else "", community.name,
                      plan.fund.get_kind_display(), plan.number, plan.title, plan.category_label or plan.category,
                      _money(plan.amount), _money(plan.disbursed), plan.get_status_display(), plan.filing_number,
                      timezone.localtime(plan.proposed_at).date()])
    for extra, money_cols in ((categories, {5}), (plans, {7, 8})):
        for cell in extra[1]:
            cell.font = bold
        extra.freeze_panes = "A2"
        for line in extra.iter_rows(min_row=2):
            for cell in line:
                if cell.column in money_cols:
                    cell.number_format = money_format
                elif isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    for ws, widths in ((sheet, (14, 16, 8, 18, 16, 14, 14, 14, 14, 12, 16, 16, 16, 18, 12, 12)),
                       (categories, (14, 16, 18, 18, 16)),
                       (plans, (14, 16, 18, 18, 28, 16, 16, 16, 14, 16, 12))):
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
    wb.properties.creator = "轴心"
    wb.properties.title = _("%(year)s年度社区经费执行情况") % {"year": board.year}
    stamp = generated.replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def execution_export(*, actor, year: int, street: str = "") -> tuple[bytes, str]:
    """The execution report of the caller's areas as (bytes, file name), audited like every export.

    The figures are read from the read replica when there is one (outside a transaction, see
    zhouxin/core/db_router.py); the caller's areas and the audit entry use the primary."""
    scope = report_scope(actor, street=street)
    with replica_reads():
        board = overview(scope, year, with_plans=True)
        data = execution_xlsx(board)
    with transaction.atomic():
        _audit_export(actor, year, scope, board)
    name = _("%(areas)s%(year)s年度社区经费执行情况.xlsx") % {"areas": scope.label.replace("、", "_")[:40],
                                                        "year": year}
    return data, name


def _audit_export(actor, year: int, scope: ReportScope, board: Overview) -> None:
    audit.record(actor=actor, action="funds.report.exported", object_type="funds.report",
                 object_repr=_("%(year)s年度社区经费执行情况") % {"year": year},
                 after={"year": year, "areas": list(scope.prefixes), "funds": len(board.funds),
                        "plans": len(board.plans)})

