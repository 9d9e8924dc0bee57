"""Generated reports: asking for one (scope, periods), the figures and how many the platform
filled, the xlsx and the PDF (Chinese text extracted and rendered), progress and failure."""

from __future__ import annotations

import datetime as dt
import io
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook
from pypdf import PdfReader

from zhouxin.core.indicators import QUARTER, YEAR, Period
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import reports
from zhouxin.oversight.choices import ReportStatus
from zhouxin.oversight.models import Report

from .helpers_reports import (
    BROKEN,
    HOURS,
    RATE,
    at,
    generate,
    install_fake_indicators,
    last_month,
    make_report,
    problem,
    rating,
    rectification,
    this_month,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(monkeypatch, personas):
    return install_fake_indicators(monkeypatch, personas)


def title_of_last_month(area="东华门街道") -> str:
    month = last_month()
    return f"{area}{month.start.year}年{month.start.month}月基层治理月报"


def workbook(report: Report):
    return load_workbook(io.BytesIO(bytes(report.xlsx)))


def pdf_text(report: Report) -> str:
    reader = PdfReader(io.BytesIO(bytes(report.pdf)))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def row_of(sheet, first: str) -> list:
    for row in sheet.iter_rows(values_only=True):
        if row and row[0] == first:
            return list(row)
    raise AssertionError(f"no row {first!r} in sheet {sheet.title}")


# --- Asking for a report -------------------------------------------------------------------------

def test_create_stores_a_pending_report_audits_it_and_enqueues_the_task_on_commit(
        personas, fake, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        report = make_report(personas)
        assert not DBTaskResult.objects.exists()  # nothing is queued before the report is committed
    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(personas, persona="district_admin", area="dongcheng")
    assert DBTaskResult.objects.count() == 1
    assert DBTaskResult.objects.get().args_kwargs["kwargs"] == {"report_id": report.pk}
    assert (report.status, report.period, report.period_kind, report.steps_total) == (
        ReportStatus.PENDING, last_month().key, "month", reports.STEPS_TOTAL)
    entry = AuditEntry.objects.get(action="oversight.report.requested", object_id=str(report.pk))
    assert entry.actor == personas.district_admin and entry.after == {
        "area": "110101", "period": last_month().key, "language": "zh-hans"}


def test_asking_twice_while_it_is_generated_gives_the_same_report(personas, fake):
    first = make_report(personas)
    assert make_report(personas).pk == first.pk
    generate(first)
    second = make_report(personas)
    assert second.pk != first.pk  # a finished report can be generated again
    # One left waiting by a worker that died does not block the report for ever.
    Report.objects.unscoped().filter(pk=second.pk).update(created_at=second.created_at - reports.STALE_AFTER)
    assert make_report(personas).pk not in (first.pk, second.pk)


@pytest.mark.parametrize(("key", "message"), [
    ("2026-13", "统计期格式不正确"),
    ("下个月", "统计期格式不正确"),
    ("1999", "统计期应在 2000 年到 2099 年之间"),
])
def test_bad_period_keys_are_refused_with_a_message(personas, key, message):
    with pytest.raises(ValidationError) as caught:
        make_report(personas, period=key)
    assert message in " ".join(caught.value.message_dict["period"])
    assert not Report.objects.unscoped().exists()


def test_a_future_period_is_refused_and_the_current_one_is_allowed(personas):
    future = this_month()
    future = Period.of(future.kind, future.end + dt.timedelta(days=1))
    with pytest.raises(ValidationError) as caught:
        make_report(personas, period=future.key)
    assert "尚未开始" in caught.value.message_dict["period"][0]
    next_year = Period.of(YEAR, future.end.replace(year=future.end.year + 1))
    with pytest.raises(ValidationError):
        make_report(personas, period=next_year.key)
    report = make_report(personas, period=this_month().key)
    assert report.status == ReportStatus.PENDING and reports.is_to_date(report)


def test_only_districts_streets_and_communities_in_the_actors_scope(personas):
    with pytest.raises(PermissionDenied):
        make_report(personas, persona="community_staff", area="street_a")
    with pytest.raises(PermissionDenied):
        make_report(personas, persona="street_hub", area="community_b")
    with pytest.raises(PermissionDenied):
        make_report(personas, persona="grid_worker", area="grid_a")
    with pytest.raises(ValidationError) as caught:
        make_report(personas, persona="community_staff", area="grid_a")
    assert "只能按区、街道或社区" in caught.value.message_dict["area"][0]
    with scopes_disabled():
        areas = [a.code for a in reports.report_areas(personas.street_hub)]
    assert areas == ["110101001", "110101001001", "110101001002"]


# --- The figures and how many the platform filled --------------------------------------------------

def test_street_report_counts_every_figure_and_those_the_platform_filled(personas, fake):
    report = generate(make_report(personas))
    assert report.status == ReportStatus.SUCCEEDED, report.error
    # 9 headline (3 indicators × this month, last month, a year ago: 4 known), 6 for the two
    # communities (3 known), 1 count of rectifications, 4 counts of key problems.
    assert (report.fields_total, report.fields_filled) == (20, 12)
    statement = "本报表共 20 项数据，平台根据业务记录自动填写 12 项，无数据 8 项，人工填写 0 项。"
    assert statement.replace(" ", "") in pdf_text(report)
    notes = workbook(report)["说明"]
    assert notes["A1"].value == statement
    assert AuditEntry.objects.filter(action="oversight.report.generated", object_id=str(report.pk)).exists()


def test_a_rating_of_the_period_adds_a_figure_and_a_rating_without_score_counts_as_no_data(personas, fake):
    rating(personas, "community_a", last_month(), score="86.50", stars=4)
    rating(personas, "community_a2", last_month(), score=None, stars=0, rank=2)
    rating(personas, "community_b", last_month(), score="99", stars=5)  # another street's: not in it
    report = generate(make_report(personas))
    assert (report.fields_total, report.fields_filled) == (22, 13)
    summary = workbook(report)["概况"]
    assert row_of(summary, "多福巷社区")[2:4] == [4, 86.5]
    assert "吉祥社区" not in [row[0] for row in summary.iter_rows(values_only=True)]
    text = pdf_text(report)
    assert "4星" in text and "86.50" in text


def test_community_report_has_its_own_figures_and_no_children(personas, fake):
    report = generate(make_report(personas, persona="community_staff", area="community_a"))
    assert report.status == ReportStatus.SUCCEEDED
    # 9 headline figures, of which only this month's rate and hours are known, + 5 counts.
    assert (report.fields_total, report.fields_filled) == (14, 7)
    book = workbook(report)
    assert book["下级对比"]["A1"].value == "社区为最小统计单元，本报表不含下级对比。"
    assert row_of(book["概况"], RATE)[3] == 0.875
    assert "社区为最小统计单元" in pdf_text(report)


def test_district_report_compares_its_streets(personas, fake):
    report = generate(make_report(personas, persona="district_admin", area="dongcheng"))
    children = workbook(report)["下级对比"]
    rows = list(children.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["东华门街道", "景山街道"]  # not 西城区's street
    assert rows[1][2:4] == (0.8, 120.5) and rows[2][2:4] == (0.6, None)


def test_yearly_report_compares_with_the_previous_year_once(personas, fake):
    year = Period.of(YEAR, last_month().start)
    if year.start.year == this_month().start.year:
        year = year.previous()
    report = generate(make_report(personas, period=year.key))
    summary = workbook(report)["概况"]
    heads = row_of(summary, "指标")
    assert heads[3] == year.label and heads[4].startswith("上年") and heads[5] == "增减" and len(
        [h for h in heads if h]) == 6
    # 3 indicators × (this year, last year) + 6 children + 5 counts.
    assert report.fields_total == 6 + 6 + 5
    assert f"东华门街道{year.start.year}年基层治理年报" in pdf_text(report)


def test_quarterly_report_title(personas, fake):
    quarter = Period.of(QUARTER, this_month().start).previous()
    report = generate(make_report(personas, period=quarter.key))
    number = (quarter.start.month - 1) // 3 + 1
    assert f"东华门街道{quarter.start.year}年第{number}季度基层治理季报" in pdf_text(report)


def test_key_problems_rectifications_of_the_period(personas, fake):
    month = last_month()
    middle = month.start + dt.timedelta(days=10)
    before = month.start - dt.timedelta(days=20)
    problem(personas, "community_a", "背街小巷停车难", created=at(middle), deadline=middle + dt.timedelta(days=5))
    problem(personas, "community_a2", "老旧小区加装电梯", created=at(before), deadline=month.end,
            closed=at(middle))
    problem(personas, "street_a", "菜市场周边占道经营", created=at(before), deadline=month.end + dt.timedelta(days=60))
    problem(personas, "community_b", "景山片区积水", created=at(middle), deadline=middle)  # another street
    problem(personas, "community_a", "下月才提出的问题", created=at(month.end + dt.timedelta(days=2)),
            deadline=month.end)
    rectification(personas, "community_a", month, flagged=at(middle), text="群众满意率低于底线")
    rectification(personas, "community_a2", month.previous(), flagged=at(before), closed=at(middle))
    rectification(personas, "community_b", month, flagged=at(middle))
    report = generate(make_report(personas))
    summary = workbook(report)["概况"]
    counts = {label: row_of(summary, label)[1] for label in ("本期新增问题", "本期销号问题", "期末未销号问题", "其中逾期未销号",
                                                             "期末待整改")}
    assert counts == {"本期新增问题": 1, "本期销号问题": 1, "期末未销号问题": 2, "其中逾期未销号": 1, "期末待整改": 1}
    assert row_of(summary, "背街小巷停车难")[1] == "多福巷社区"  # listed as overdue
    text = pdf_text(report)
    assert "背街小巷停车难" in text and "群众满意率低于底线" in text and "景山片区积水" not in text


# --- The xlsx ------------------------------------------------------------------------------------

def test_xlsx_figures_equal_the_indicator_values_with_sources_and_links(personas, fake):
    report = generate(make_report(personas))
    book = workbook(report)
    assert book.sheetnames == ["概况", "下级对比", "说明"]
    summary = book["概况"]
    assert summary["A1"].value == title_of_last_month()
    rate = row_of(summary, RATE)
    assert rate[3:8] == [0.8, 0.7, pytest.approx(0.1), None, None]
    assert summary.cell(row=[r[0] for r in summary.iter_rows(values_only=True)].index(RATE) + 1,
                        column=4).number_format == "0.0%"
    hours = row_of(summary, HOURS)
    assert hours[3:8] == [120.5, None, None, 100, 20.5]
    assert row_of(summary, BROKEN)[3:8] == [None] * 5
    children = book["下级对比"]
    assert [c.value for c in children[1]] == ["下级区域", "区划代码", RATE, f"{HOURS}（小时）", f"{BROKEN}（个）"]
    assert row_of(children, "多福巷社区")[1:5] == ["110101001001", 0.875, 80, None]
    assert row_of(children, "银闸社区")[1:5] == ["110101001002", None, 40.5, None]
    notes = list(book["说明"].iter_rows(min_row=5, values_only=True))
    assert len(notes) == report.fields_total
    month = last_month()
    rows = {(r[2], r[6], r[3]): r for r in notes}
    duofu = rows[("多福巷社区", "test.rate", RATE)]
    assert duofu[4] == "87.5%" and duofu[5] == RATE and duofu[8] == f"/records/110101001001/{month.key}/"
    assert duofu[7] == "满意的评价 ÷ 全部评价"
    overdue = rows[("东华门街道", "oversight.key_problem", "其中逾期未销号")]
    assert overdue[4] == "0" and overdue[5] == "重点难点问题台账" and "超过完成时限" in overdue[7]
    assert rows[("银闸社区", "test.rate", RATE)][4] == "无数据"
    assert sum(1 for r in notes if r[4] == "无数据") == 8


# --- The PDF ---------------------------------------------------------------------------------------

def test_pdf_renders_chinese_text_that_can_be_extracted_and_drawn(personas, fake, caplog):
    import pypdfium2 as pdfium

    with caplog.at_level(logging.WARNING, logger="fpdf"):
        report = generate(make_report(personas))
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    data = bytes(report.pdf)
    assert data.startswith(b"%PDF")
    text = pdf_text(report)
    assert title_of_last_month() in text
    assert "多福巷社区" in text and "银闸社区" in text and "87.5%" in text
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        image = page.render(scale=1.5).to_pil().convert("L")
        png = io.BytesIO()
        image.save(png, format="PNG")
        assert png.getvalue().startswith(b"\x89PNG")
        width, height = image.size
        # The title sits in the top ~15 % of the page: its characters are ink, not an empty band.
        title_band = image.crop((0, 0, width, int(height * 0.15)))
        dark = sum(title_band.histogram()[:128])
        assert dark > 1500
        assert "基层治理月报" in page.get_textpage().get_text_range()
    finally:
        document.close()


def test_same_report_data_gives_the_same_pdf_bytes(personas, fake):
    report = generate(make_report(personas))
    again = reports.report_data(report)
    again.title = reports.report_title(report.area, Period.parse(report.period))
    assert reports.build_pdf(again) == bytes(report.pdf)


def test_current_period_is_reported_to_date_and_says_so(personas, fake):
    report = generate(make_report(personas, period=this_month().key))
    assert report.status == ReportStatus.SUCCEEDED
    assert "截至报表生成之日，本期尚未结束" in pdf_text(report)
    assert "本期尚未结束" in row_of(workbook(report)["概况"], "统计期")[1]


# --- Progress, language and failure ----------------------------------------------------------------

def test_progress_is_written_step_by_step_where_the_page_can_see_it(monkeypatch, personas):
    seen = []

    def probe(name, areas, period):
        if name != "test.rate" or period.key != last_month().key:
            return
        row = Report.objects.unscoped().values("status", "steps_done", "stage").get()
        seen.append((len(areas), row["status"], row["steps_done"], row["stage"], translation.get_language()))

    install_fake_indicators(monkeypatch, personas, probe=probe)
    report = make_report(personas, language="en")
    assert report.language == "en"
    report = generate(report)
    # The headline (one area) while no step is done, the children (two areas) after the first.
    assert [s[:3] for s in seen] == [(1, "running", 0), (2, "running", 1)]
    assert {s[4] for s in seen} == {"en"}  # the task speaks the requester's language
    with translation.override("en"):
        assert seen[0][3] == translation.gettext("正在计算本区域的各项指标…")
        assert seen[1][3] == translation.gettext("正在计算下级街道（社区）的指标…")
    assert report.steps_done == report.steps_total == reports.STEPS_TOTAL and report.percent == 100


def test_a_failure_ends_in_failed_with_a_message(monkeypatch, personas, fake):
    def explode(data):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "build_pdf", explode)
    report = generate(make_report(personas))
    assert report.status == ReportStatus.FAILED
    assert "内部错误" in report.error and not report.pdf and report.finished_at
    assert AuditEntry.objects.filter(action="oversight.report.failed", result="failed").exists()


def test_a_requester_who_lost_the_permission_gets_no_report(personas, fake):
    report = make_report(personas)
    personas.street_hub.grants.update(active=False)
    report = generate(report)  # the task reads the requester's grants afresh
    assert report.status == ReportStatus.FAILED and "权限" in report.error


def test_a_report_is_generated_once(personas, fake):
    report = make_report(personas)
    assert reports.report_generate(report.pk) == ReportStatus.SUCCEEDED
    assert reports.report_generate(report.pk) == ReportStatus.SUCCEEDED  # the second run finds it done
    assert AuditEntry.objects.filter(action="oversight.report.generated").count() == 1


def test_change_is_shown_in_points_for_rates():
    from zhouxin.core import indicators

    assert reports.format_change(Decimal("0.1"), indicators.PERCENT) == "+10.0个百分点"
    assert reports.format_change(Decimal("-20.5"), indicators.HOURS) == "-20.5"
    assert reports.format_change(None, indicators.COUNT) == "—"
