"""Generated documents: the co-building agreement (PDF read back with pypdf), its signed copy,
and the units' yearly reports (PDF and xlsx read back)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from zhouxin.cobuild import agreements, reports, services
from zhouxin.cobuild.choices import NeedCategory
from zhouxin.cobuild.models import Milestone, Project, Rating, ServiceRecord
from zhouxin.core.models import AuditEntry
from zhouxin.core.pdf import Document, rmb_upper
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.models import ResidentAccount

from .helpers import need, resource, unit_with_liaison

YEAR = timezone.localdate().year
UNIT = "北京市东城区第一人民医院"
HOST = "中共多福巷社区委员会"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _project(personas, *, title="多福巷助老餐桌", need_title="为社区高龄独居老人提供午餐配送", area="community_a",
             budget="8000", quantity=30, res=None, owner=None, liaison=None, confirmer="street_hub"):
    with scopes_disabled():
        wanted = need(personas, title=need_title, area=area, beneficiaries="80岁以上独居老人", beneficiary_count=30,
                      actor={"community_a": "community_staff", "community_b": "community_staff_b"}[area])
        res = res or resource(personas, capacity=60)
        claim = services.claim_create(actor=liaison or personas.unit_liaison, need=wanted, resource=res,
                                      quantity=quantity)
        services.claim_confirm(actor=personas.users[confirmer], claim=claim)
        project = services.project_create_from_claim(
            actor=personas.users[confirmer], claim=claim, title=title, budget=budget,
            starts_on=dt.date(YEAR, 1, 15), ends_on=dt.date(YEAR, 12, 20))
        Project.objects.filter(pk=project.pk).update(summary="每天中午由医院职工食堂配送午餐到老人家中。")
        project.refresh_from_db()
    return project


def _text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def _files(settings, folder: str) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / folder
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def png(width=64, height=48, tail=b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 68 + tail


def _scan() -> bytes:
    """A stand-in for a scanned signed agreement: a real PDF."""
    doc = Document(title="扫描件", creation_date=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    doc.paragraph("各方已签字盖章。")
    return doc.output()


# --- The PDF builder -------------------------------------------------------------------------------

def test_rmb_upper_writes_amounts_as_on_contracts():
    assert rmb_upper(Decimal("8000")) == "捌仟元整"
    assert rmb_upper(Decimal("10005.50")) == "壹万零伍元伍角整"
    assert rmb_upper(Decimal("200300")) == "贰拾万零叁佰元整"
    assert rmb_upper(Decimal("1.01")) == "壹元零壹分"
    assert rmb_upper(Decimal("0")) == "零元整"


def test_builder_wraps_chinese_and_latin_and_numbers_every_page():
    doc = Document(title="测试文件 Test 2026", creation_date=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC))
    doc.heading("一、很长的段落")
    doc.paragraph("社区共建" * 200)
    doc.table(["序号", "内容"], [[str(i), f"第{i}行：助餐配送 No.{i}"] for i in range(1, 60)])
    data = doc.output()
    reader, text = _text(data)
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, start=1):
        assert f"第 {number} 页 / 共 {pages} 页" in page.extract_text()
    flat = text.replace("\n", "")
    assert "测试文件 Test 2026" in text and ("社区共建" * 200) in flat.replace("\u3000", "")
    assert "第59行：助餐配送 No.59" in text
    # Every line stays within the page: wrapping by character, not by (absent) spaces.
    assert all(len(line) < 60 for line in text.splitlines())
    assert reader.metadata.title == "测试文件 Test 2026" and reader.metadata.author == "轴心"


# --- The agreement ------------------------------------------------------------------------------------

def test_issued_agreement_reads_back_with_parties_clauses_embedded_fonts_and_footer(personas):
    project = _project(personas)
    with scopes_disabled():
        Milestone.objects.create(project=project, title="完成老人需求摸底", due_on=dt.date(YEAR, 2, 1))
        Milestone.objects.create(project=project, title="开始每日配送", due_on=dt.date(YEAR, 3, 1))
        agreements.agreement_issue(actor=personas.community_staff, project=project)
        project.refresh_from_db()
    data = _stored(project.agreement_file)
    assert project.agreement_number == f"东华门街道共建〔{YEAR}〕第0001号"
    assert hashlib.sha256(data).hexdigest() == project.agreement_sha256 and project.agreement_issued_at
    reader, text = _text(data)
    flat = text.replace("\n", "")
    for expected in ("区域化党建共建协议", project.agreement_number, f"甲方： {HOST}", f"乙方： {UNIT}",
                     "多福巷助老餐桌", "一、共建内容", "二、各方职责", "三、经费与资源", "四、期限", "五、评价与公开",
                     "六、其他", "人民币捌仟元整（￥8,000.00元）", "单位职工食堂助老餐", "30 份", "完成老人需求摸底",
                     f"{YEAR}-03-01", "每天中午由医院职工食堂配送午餐到老人家中。", "本协议一式2份",
                     f"甲方：{HOST}", f"乙方：{UNIT}", "（盖章）", "代表（签字）："):
        assert expected in flat, expected
    pages = len(reader.pages)
    assert f"第 {pages} 页 / 共 {pages} 页" in reader.pages[-1].extract_text()
    assert reader.metadata.title == "区域化党建共建协议" and reader.metadata.author == "轴心"
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            embedded.add(str(font["/BaseFont"]).split("+", 1)[-1])
    assert "DroidSansFallback" in embedded
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="cobuild.agreement.issued").get()
    assert entry.after["number"] == project.agreement_number and entry.after["sha256"] == project.agreement_sha256


def test_same_data_gives_the_same_bytes(personas):
    project = _project(personas)
    at = dt.datetime(YEAR, 6, 1, 10, 0, tzinfo=dt.UTC)
    with scopes_disabled():
        first = agreements.agreement_pdf(project, number="东华门街道共建〔2026〕第0009号", issued_at=at)
        second = agreements.agreement_pdf(project, number="东华门街道共建〔2026〕第0009号", issued_at=at)
        later = agreements.agreement_pdf(project, number="东华门街道共建〔2026〕第0009号",
                                         issued_at=at + dt.timedelta(days=1))
    assert first == second and first != later


def test_reissue_keeps_the_number_numbers_run_per_street_and_signed_copy_stops_reissue(
        personas, settings, django_capture_on_commit_callbacks):
    first = _project(personas)
    second = _project(personas, title="多福巷义诊", need_title="社区老人义诊")
    with scopes_disabled():
        unit_b, liaison_b = unit_with_liaison(personas, "景山医院", "community_b", "jingshan_liaison")
        res_b = resource(personas, owner=unit_b, actor=liaison_b, title="景山医院义诊")
        third = _project(personas, title="吉祥社区义诊", need_title="吉祥社区义诊", area="community_b", res=res_b,
                         liaison=liaison_b, confirmer="community_staff_b")
        staff = personas.community_staff
        agreements.agreement_issue(actor=staff, project=first)
        number, digest = first.agreement_number, first.agreement_sha256
        agreements.agreement_issue(actor=personas.street_hub, project=second)
        agreements.agreement_issue(actor=personas.community_staff_b, project=third)
        Project.objects.filter(pk=first.pk).update(budget=Decimal("9500"))
        first.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            agreements.agreement_issue(actor=staff, project=first)
    assert first.agreement_number == number == f"东华门街道共建〔{YEAR}〕第0001号"
    assert second.agreement_number == f"东华门街道共建〔{YEAR}〕第0002号"
    assert third.agreement_number == f"景山街道共建〔{YEAR}〕第0001号"
    assert first.agreement_sha256 != digest
    assert "玖仟伍佰元整" in _text(_stored(first.agreement_file))[1]
    assert len(_files(settings, "cobuild/agreements")) == 3  # the superseded PDF is removed
    with scopes_disabled():
        agreements.signed_copy_upload(actor=staff, project=first,
                                      upload=SimpleUploadedFile("签署版.pdf", _scan(), "application/pdf"))
        first.refresh_from_db()
        issued = (first.agreement_number, first.agreement_sha256, first.agreement_file.name)
        with pytest.raises(ValidationError) as refused:
            agreements.agreement_issue(actor=staff, project=first)
        first.refresh_from_db()
    assert "已上传各方签署的协议文本，协议不能再重新生成。" in refused.value.messages
    assert (first.agreement_number, first.agreement_sha256, first.agreement_file.name) == issued
    assert first.signed_copy_sha256 == hashlib.sha256(_scan()).hexdigest()
    assert first.signed_uploaded_by == staff and first.signed_uploaded_at


def test_only_staff_of_the_area_issue(personas):
    project = _project(personas)
    with scopes_disabled():
        for name in ("unit_liaison", "community_staff_b", "district_admin"):
            with pytest.raises(PermissionDenied):
                agreements.agreement_issue(actor=personas.users[name], project=project)
        project.refresh_from_db()
    assert not project.agreement_number and not project.agreement_file


@pytest.mark.parametrize(("name", "content", "message"), [
    ("协议.pdf", "这是一个改了扩展名的文本文件。".encode(), "不是 PDF 文件或 JPEG、PNG、WebP 图片（按文件内容判断）"),
    ("协议.png", png(tail=b"<script>alert(1)</script>"), "夹带了网页或脚本代码"),
    ("协议.pdf", b"%PDF-1.7\n<html><body>hi</body></html>\n%%EOF\n", "夹带了网页或脚本代码"),
    ("协议.pdf", b"%PDF-1.7\n1 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n%%EOF\n", "含有脚本"),
    ("协议.pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n", "不是完整的 PDF 文件"),
    ("空.pdf", b"", "是空文件"),
])
def test_signed_copy_is_judged_by_content_and_nothing_is_stored(personas, settings, name, content, message):
    project = _project(personas)
    with scopes_disabled():
        agreements.agreement_issue(actor=personas.community_staff, project=project)
        with pytest.raises(ValidationError) as refused:
            agreements.signed_copy_upload(actor=personas.community_staff, project=project,
                                          upload=SimpleUploadedFile(name, content, "application/pdf"))
        project.refresh_from_db()
    assert any(message in m for m in refused.value.messages), refused.value.messages
    assert not project.signed_copy and not project.signed_copy_sha256 and not project.signed_uploaded_at
    assert _files(settings, "cobuild/signed") == []


def test_signed_copy_needs_an_issued_agreement_and_at_most_10_mb(personas, settings):
    project = _project(personas)
    staff = personas.community_staff
    with scopes_disabled():
        with pytest.raises(ValidationError) as refused:
            agreements.signed_copy_upload(actor=staff, project=project,
                                          upload=SimpleUploadedFile("a.pdf", _scan(), "application/pdf"))
        assert "请先生成共建协议，再上传签署文本。" in refused.value.messages
        agreements.agreement_issue(actor=staff, project=project)
        big = _scan()[:-6] + b" " * (10 * 1024 * 1024) + b"%%EOF\n"
        with pytest.raises(ValidationError) as refused:
            agreements.signed_copy_upload(actor=staff, project=project,
                                          upload=SimpleUploadedFile("大.pdf", big, "application/pdf"))
        assert any("超过 10 MB" in m for m in refused.value.messages)
        agreements.signed_copy_upload(actor=staff, project=project,
                                      upload=SimpleUploadedFile("照片.png", png(), "image/png"))
        project.refresh_from_db()
    assert project.signed_copy.name.endswith(".png") and agreements.signed_content_type(project) == "image/png"
    assert len(_files(settings, "cobuild/signed")) == 1


# --- Pages -------------------------------------------------------------------------------------------

def test_issue_download_and_upload_through_the_project_page(personas, client_for):
    project = _project(personas)
    url = reverse("cobuild:project_detail", args=[project.pk])
    staff = client_for("community_staff")
    page = staff.get(url).content.decode()
    assert "生成共建协议" in page and reverse("cobuild:agreement_download", args=[project.pk]) not in page
    page = staff.post(reverse("cobuild:agreement_issue", args=[project.pk]), follow=True).content.decode()
    assert "共建协议已生成。" in page and f"东华门街道共建〔{YEAR}〕第0001号" in page and "重新生成协议" in page
    page = staff.post(reverse("cobuild:agreement_issue", args=[project.pk]), follow=True).content.decode()
    assert "共建协议已重新生成，编号不变。" in page

    # The unit's liaison downloads the agreement, but may neither issue nor upload.
    liaison = client_for("unit_liaison")
    page = liaison.get(url).content.decode()
    assert "下载共建协议（PDF）" in page and "重新生成协议" not in page and "上传签署文本" not in page
    response = liaison.get(reverse("cobuild:agreement_download", args=[project.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "%E5%85%B1%E5%BB%BA%E5%8D%8F%E8%AE%AE" in response["Content-Disposition"]  # 共建协议
    body = b"".join(response.streaming_content)
    with scopes_disabled():
        project.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == project.agreement_sha256
    assert liaison.post(reverse("cobuild:agreement_issue", args=[project.pk])).status_code == 403

    # A text file renamed .pdf is refused with the reason, and nothing changes.
    fake = SimpleUploadedFile("签署版.pdf", "只是文本".encode(), "application/pdf")
    page = staff.post(reverse("cobuild:signed_upload", args=[project.pk]), {"upload": fake},
                      follow=True).content.decode()
    assert "不是 PDF 文件或 JPEG、PNG、WebP 图片（按文件内容判断）" in page
    assert reverse("cobuild:signed_download", args=[project.pk]) not in page
    assert liaison.get(reverse("cobuild:signed_download", args=[project.pk])).status_code == 404
    scan = SimpleUploadedFile("签署版.pdf", _scan(), "application/pdf")
    page = staff.post(reverse("cobuild:signed_upload", args=[project.pk]), {"upload": scan},
                      follow=True).content.decode()
    assert "签署文本已上传，协议不能再重新生成。" in page and "已签署" in page and "重新生成协议" not in page
    response = liaison.get(reverse("cobuild:signed_download", args=[project.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == _scan()
    assert response["X-Content-Type-Options"] == "nosniff"
    page = staff.post(reverse("cobuild:agreement_issue", args=[project.pk]), follow=True).content.decode()
    assert "已上传各方签署的协议文本，协议不能再重新生成。" in page
    assert client_for("community_staff_b").get(reverse("cobuild:agreement_download", args=[project.pk])) \
        .status_code == 404


# --- Yearly unit reports ----------------------------------------------------------------------------

def _account(n: int) -> ResidentAccount:
    now = timezone.now()
    return ResidentAccount.objects.create(phone=f"1990000{n:04d}", phone_index=f"docs-index-{n}",
                                          consent_version="test", created_at=now, last_signed_in_at=now)


@pytest.fixture
def report_world(personas):
    """The hospital: two projects in 多福巷 this year (one with its need met), service records this
    year and one of last year, three ratings; a pending claim; and a project of the same hospital in
    景山街道's 吉祥社区 that 多福巷 staff must not count."""
    hub = personas.street_hub
    canteen = resource(personas, capacity=100)
    meals = _project(personas, res=canteen, quantity=30, budget="8000")
    clinic = _project(personas, res=canteen, quantity=10, title="多福巷义诊", need_title="社区老人义诊",
                      budget="1500.50")
    with scopes_disabled():
        services.need_close(actor=personas.community_staff, need=meals.need, met=True)
        pending = need(personas, title="待确认的助浴需求", category=NeedCategory.ELDERLY_CARE)
        services.claim_create(actor=personas.unit_liaison, need=pending, resource=canteen, quantity=5)
        far = resource(personas, title="医院义诊队", capacity=20, radius="district")
        faraway = _project(personas, res=far, quantity=5, title="吉祥社区义诊", need_title="吉祥社区老人义诊",
                           area="community_b", confirmer="community_staff_b", budget="300")
        rows = [
            (meals, dt.date(YEAR, 2, 3), 30, 4, "6.5"),
            (meals, dt.date(YEAR, 3, 3), 28, 3, "4.0"),
            (clinic, dt.date(YEAR, 4, 9), 55, 6, "12.5"),
            (meals, dt.date(YEAR - 1, 12, 30), 99, 9, "9.0"),  # last year: not counted
            (faraway, dt.date(YEAR, 5, 1), 500, 50, "100.0"),  # another street
        ]
        for project, held_on, beneficiaries, volunteers, hours in rows:
            ServiceRecord.objects.create(project=project, held_on=held_on, title="助餐服务", beneficiary_group="高龄老人",
                                         beneficiaries=beneficiaries, volunteers=volunteers,
                                         volunteer_hours=Decimal(hours), created_by=hub)
        for n, (project, stars) in enumerate([(meals, 5), (meals, 4), (clinic, 3)]):
            Rating.objects.create(project=project, account=_account(n), stars=stars)
    return {"meals": meals, "clinic": clinic, "faraway": faraway, "rows": rows}


def _expected(rows, projects):
    mine = [r for r in rows if r[0] in projects and r[1].year == YEAR]
    return (sum(r[2] for r in mine), sum(r[3] for r in mine), sum((Decimal(r[4]) for r in mine), Decimal("0")),
            len(mine))


def test_report_figures_are_the_sums_of_the_records_within_the_readers_scope(personas, report_world):
    unit = personas.orgs["unit"]
    w = report_world
    with scopes_disabled():
        staff_view = reports.unit_report(personas.community_staff, unit, YEAR)
        own_view = reports.unit_report(personas.unit_liaison, unit, YEAR)
    beneficiaries, volunteers, hours, count = _expected(w["rows"], (w["meals"], w["clinic"]))
    assert (staff_view.beneficiaries, staff_view.volunteers, staff_view.hours, len(staff_view.records)) == \
        (beneficiaries, volunteers, hours, count) == (113, 13, Decimal("23.0"), 3)
    assert [p.title for p in staff_view.projects] == ["多福巷助老餐桌", "多福巷义诊"]
    assert staff_view.budget == Decimal("9500.50")
    assert staff_view.claims_made == 3 and staff_view.claims_confirmed == 2 and staff_view.needs_met == 1
    assert staff_view.rating_count == 3 and staff_view.rating_average == Decimal("4.00")
    assert staff_view.resources_registered == staff_view.resources_available == 2
    assert "多福巷社区" in staff_view.scope
    # The unit's liaison sees all of the unit's co-building, the other street's project included.
    beneficiaries, volunteers, hours, count = _expected(w["rows"], (w["meals"], w["clinic"], w["faraway"]))
    assert (own_view.beneficiaries, own_view.volunteers, own_view.hours, len(own_view.records)) == \
        (beneficiaries, volunteers, hours, count)
    assert len(own_view.projects) == 3 and own_view.budget == Decimal("9800.50") and own_view.claims_confirmed == 3
    assert own_view.scope == "本单位全部共建数据"
    meals = next(p for p in own_view.projects if p.title == "多福巷助老餐桌")
    assert (meals.records, meals.beneficiaries, meals.rating_count, meals.rating_average) == \
        (2, 58, 2, Decimal("4.50"))


def test_report_pdf_and_xlsx_read_back(personas, client_for, report_world):
    unit = personas.orgs["unit"]
    liaison = client_for("unit_liaison")
    response = liaison.get(reverse("cobuild:unit_report_pdf", args=[unit.pk, YEAR]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff" and "filename*=utf-8''" in response["Content-Disposition"]
    reader, text = _text(b"".join(response.streaming_content))
    flat = text.replace("\n", "")
    for expected in (f"{YEAR}年度区域化党建共建报告", UNIT, "一、年度概况", "受益人次", "多福巷助老餐桌", "吉祥社区义诊",
                     "单位职工食堂助老餐", "本单位全部共建数据"):
        assert expected in flat, expected
    assert f"第 1 页 / 共 {len(reader.pages)} 页" in reader.pages[0].extract_text()

    from openpyxl import load_workbook

    response = client_for("community_staff").get(reverse("cobuild:unit_report_xlsx", args=[unit.pk, YEAR]))
    assert response.status_code == 200 and response["Content-Type"] == reports.XLSX
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheetnames == ["汇总", "项目", "服务记录"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row and row[0]}
    assert summary["单位"] == UNIT and summary["受益人次"] == 113 and summary["志愿者人次"] == 13
    assert Decimal(str(summary["志愿服务时长（小时）"])) == Decimal("23.0")
    assert summary["参与共建项目（个）"] == 2 and summary["满足社区需求（个）"] == 1
    projects = list(book["项目"].iter_rows(values_only=True))
    assert projects[0][:4] == ("项目名称", "实施区域", "状态", "预算（元）")
    assert sorted(row[0] for row in projects[1:]) == ["多福巷义诊", "多福巷助老餐桌"]  # not 吉祥社区义诊
    records = list(book["服务记录"].iter_rows(values_only=True))
    assert records[0] == ("服务日期", "项目名称", "服务内容", "服务对象", "受益人次", "参与志愿者人数", "志愿服务时长（小时）")
    assert sum(row[4] for row in records[1:]) == 113 and len(records) == 4
    assert sum(Decimal(str(row[6])) for row in records[1:]) == Decimal("23.0")
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="cobuild.report.exported").count() == 2


def test_report_list_shows_the_units_of_the_readers_scope(personas, client_for, report_world,
                                                          django_assert_max_num_queries):
    unit = personas.orgs["unit"]
    with scopes_disabled():
        other, other_liaison = unit_with_liaison(personas, "景山街道某公司", "community_b", "other_liaison")
        resource(personas, owner=other, actor=other_liaison, title="公司会议室", area=personas.areas["community_b"])
    url = reverse("cobuild:unit_reports")
    staff = client_for("community_staff")
    with django_assert_max_num_queries(20):
        page = staff.get(url).content.decode()
    assert UNIT in page and "景山街道某公司" not in page
    assert reverse("cobuild:unit_report_pdf", args=[unit.pk, YEAR]) in page
    page = staff.get(url, {"year": str(YEAR - 1)}).content.decode()
    assert reverse("cobuild:unit_report_xlsx", args=[unit.pk, YEAR - 1]) in page
    page = client_for("community_staff_b").get(url).content.decode()
    assert "景山街道某公司" in page
    assert client_for("community_staff_b").get(reverse("cobuild:unit_report_pdf", args=[unit.pk, YEAR])) \
        .status_code == 200  # the hospital has a claim on a 吉祥社区 need
    page = client_for("unit_liaison").get(url).content.decode()
    assert UNIT in page and "景山街道某公司" not in page
    assert client_for("unit_liaison").get(reverse("cobuild:unit_report_pdf", args=[other.pk, YEAR])).status_code == 404
    assert client_for("outsider").get(reverse("cobuild:unit_report_xlsx", args=[unit.pk, YEAR])).status_code == 404
    assert staff.get(reverse("cobuild:unit_report_pdf", args=[unit.pk, 1990])).status_code == 404
    home = staff.get(reverse("core:home")).content.decode()
    assert "共建年报" in home


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions); "
                           "the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_issuing_at_the_same_moment_never_shares_or_changes_a_number(personas):
    first = _project(personas)
    second = _project(personas, title="多福巷义诊", need_title="社区老人义诊")
    jobs = [(personas.community_staff, first), (personas.street_hub, first), (personas.street_hub, second)]
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def issue(actor, project):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                agreements.agreement_issue(actor=actor, project=Project.objects.unscoped().get(pk=project.pk))
                time.sleep(0.2)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with scopes_disabled():
        numbers = {Project.objects.get(pk=first.pk).agreement_number, Project.objects.get(pk=second.pk).agreement_number}
        issued = AuditEntry.objects.filter(action__startswith="cobuild.agreement.").values_list("after", flat=True)
    assert numbers == {f"东华门街道共建〔{YEAR}〕第0001号", f"东华门街道共建〔{YEAR}〕第0002号"}
    assert {entry["number"] for entry in issued} == numbers and len(issued) == 3
