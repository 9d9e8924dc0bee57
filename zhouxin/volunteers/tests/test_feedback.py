"""Feedback to work units (反馈到单位): the members' figures, the yearly letters and quarterly cards
(PDF read back with pypdf and rendered with pypdfium2), the unit's xlsx, the service and the
staff pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from zhouxin.core.models import AuditEntry
from zhouxin.core.pdf import FONT_PATH, LATIN_FONT_PATH
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.volunteers import feedback
from zhouxin.volunteers.choices import (
    ActivityCategory,
    ActivityStatus,
    FeedbackKind,
    PointSource,
    RegistrationStatus,
    SignUpStatus,
    WishStatus,
)
from zhouxin.volunteers.models import Activity, FeedbackBatch, MemberRegistration, PointEntry, SignUp, Wish

THIS_YEAR = timezone.localdate().year
LAST_YEAR = THIS_YEAR - 1
UNIT = "北京市东城区第一人民医院"
MEMBER = "周海燕"
OTHER = "钱卫东"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def at(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


# --- Builders (ORM: the other parts' services are written in parallel) ---------------------------

def activity(personas, title, starts_at, ends_at, *, community="community_a"):
    with scopes_disabled():
        return Activity.objects.unscoped().create(
            community=personas.areas[community], title=title, category=ActivityCategory.ELDERLY, place="社区活动室",
            starts_at=starts_at, ends_at=ends_at, slots=10, status=ActivityStatus.FINISHED, qr_key="k" * 32,
            organiser=personas.community_staff)


def attend(act, person, checked_in=None, checked_out=None, status=SignUpStatus.COMPLETED):
    checked_in = checked_in or act.starts_at
    checked_out = checked_out or act.ends_at
    with scopes_disabled():
        return SignUp.objects.unscoped().create(
            activity=act, person=person, status=status, checked_in_at=checked_in, checked_out_at=checked_out,
            minutes=int((checked_out - checked_in).total_seconds() // 60), verified_at=checked_out)


def register(personas, person, *, community="community_a", registered_at=None, valid_until=None,
             status=RegistrationStatus.CONFIRMED):
    with scopes_disabled():
        return MemberRegistration.objects.unscoped().create(
            person=person, community=personas.areas[community], work_unit=personas.orgs["unit"], status=status,
            registered_at=registered_at or at(LAST_YEAR, 3, 1, 9), valid_until=valid_until or dt.date(THIS_YEAR, 12, 31))


def wish(personas, person, title, completed_at, number):
    with scopes_disabled():
        return Wish.objects.unscoped().create(
            number=number, community=personas.areas["community_a"], title=title, beneficiary="独居老人",
            value=Decimal("80.00"), status=WishStatus.COMPLETED, ordered_at=completed_at - dt.timedelta(days=5),
            taken_by_person=person, taken_at=completed_at - dt.timedelta(days=3), completed_at=completed_at)


def points(person, value, on, source_id):
    with scopes_disabled():
        return PointEntry.objects.unscoped().create(person=person, source=PointSource.HOURS, source_id=source_id,
                                                    points=Decimal(value), earned_on=on, rule_version="default")


def colleague(personas, name=OTHER, phone="13900002222", id_number="110101199002020011"):
    """A second Party member of the hospital, living in 多福巷社区, never registered."""
    from zhouxin.core.crypto import blind_index

    with scopes_disabled():
        return Person.objects.unscoped().create(
            name=name, home_area=personas.areas["community_a"], phone=phone, phone_index=blind_index("phone", phone),
            id_number=id_number, id_number_index=blind_index("id_number", id_number), is_party_member=True,
            party_branch=personas.orgs["unit_branch"], work_unit=personas.orgs["unit"])


@pytest.fixture
def year_of_service(personas):
    """Last year: 周海燕 registered and served at two overlapping activities (09:00–11:00 and
    10:00–12:00: 3 hours, not 4) and one more of 2 hours, completed a wish and earned points;
    钱卫东 of the same unit never registered but served 60 hours (still not 合格)."""
    member = personas.people["member_a"]
    register(personas, member)
    morning = activity(personas, "重阳节敬老助餐", at(LAST_YEAR, 10, 11, 9), at(LAST_YEAR, 10, 11, 11))
    overlap = activity(personas, "独居老人上门探访", at(LAST_YEAR, 10, 11, 10), at(LAST_YEAR, 10, 11, 12))
    cleanup = activity(personas, "胡同环境整治", at(LAST_YEAR, 5, 20, 14), at(LAST_YEAR, 5, 20, 16))
    for act in (morning, overlap, cleanup):
        attend(act, member)
    wish(personas, member, "为独居老人修理收音机", at(LAST_YEAR, 8, 2, 15), "XY2025000001")
    points(member, "5", dt.date(LAST_YEAR, 5, 20), 1)
    points(member, "3.5", dt.date(LAST_YEAR, 10, 11), 2)
    other = colleague(personas)
    long_day = activity(personas, "社区防汛值守", at(LAST_YEAR, 7, 1, 0), at(LAST_YEAR, 7, 3, 12))
    attend(long_day, other)
    return member, other


def _pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def _generate(personas, kind=FeedbackKind.YEARLY_LETTER, period=str(LAST_YEAR), actor="community_staff"):
    with scopes_disabled():
        return feedback.batch_generate(actor=personas.users[actor], unit=personas.orgs["unit"], kind=kind,
                                       period=period)


# --- Figures ---------------------------------------------------------------------------------------

def test_member_figures_merge_overlaps_and_list_activities_wishes_points(personas, year_of_service):
    member, other = year_of_service
    with scopes_disabled():
        board = feedback.unit_feedback(personas.orgs["unit"], feedback.Period(LAST_YEAR))
    by_name = {m.name: m for m in board.members}
    mine = by_name[MEMBER]
    # 09–11 and 10–12 merge to 09–12 (3 h), plus 2 h in May: 5 hours, never 6.
    assert mine.minutes == 300 and mine.hours == Decimal("5.0")
    assert [title for _d, title, _c in mine.activities] == ["胡同环境整治", "重阳节敬老助餐", "独居老人上门探访"]
    assert mine.wishes[0][1] == "为独居老人修理收音机"
    assert mine.points == Decimal("8.5")
    assert mine.registered and mine.community == "多福巷社区" and mine.valid_until == dt.date(THIS_YEAR, 12, 31)
    assert mine.signer == "中共多福巷社区委员会" and mine.branch == "东城区第一人民医院党支部"
    # 5 hours against the default yearly minimum of 50: registered, so 基本合格.
    assert mine.yearly_minimum == Decimal("50") and not mine.minimum_met and mine.suggestion == "基本合格"
    assert by_name[OTHER].hours == Decimal("60.0") and by_name[OTHER].minimum_met


def test_a_member_who_has_not_registered_is_never_rated_pass_or_above(personas, year_of_service):
    _member, other = year_of_service
    with scopes_disabled():
        board = feedback.unit_feedback(personas.orgs["unit"], feedback.Period(LAST_YEAR))
        unregistered = next(m for m in board.members if m.name == OTHER)
        assert not unregistered.registered and unregistered.registration_status == "未报到"
        assert unregistered.grade == "" and unregistered.suggestion == "未报到，不能评为合格及以上"
        # A registration still waiting for the community does not count either.
        register(personas, other, status=RegistrationStatus.PENDING)
        again = next(m for m in feedback.unit_feedback(personas.orgs["unit"], feedback.Period(LAST_YEAR)).members
                     if m.name == OTHER)
    assert again.registration_status == "未报到（报到待社区确认）"
    assert again.suggestion == "未报到，不能评为合格及以上"
    for minutes in (0, 60 * 50, 60 * 1000):
        grade, suggestion = feedback.assess(registered=False, year_minutes=minutes, target_hours=Decimal("50"))
        assert grade == "" and "合格" not in suggestion.replace("不能评为合格及以上", "")


def test_assessment_of_registered_members_follows_hours_against_the_minimum():
    target = Decimal("50")
    assert feedback.assess(registered=True, year_minutes=75 * 60, target_hours=target)[0] == "优秀"
    assert feedback.assess(registered=True, year_minutes=75 * 60 - 1, target_hours=target)[0] == "合格"
    assert feedback.assess(registered=True, year_minutes=50 * 60, target_hours=target)[0] == "合格"
    assert feedback.assess(registered=True, year_minutes=50 * 60 - 1, target_hours=target)[0] == "基本合格"
    assert feedback.assess(registered=True, year_minutes=0, target_hours=Decimal("0"))[0] == "合格"


def test_a_lapsed_or_later_registration_does_not_count_for_the_period(personas):
    member = personas.people["member_a"]
    register(personas, member, registered_at=at(THIS_YEAR, 2, 1, 9), valid_until=dt.date(THIS_YEAR, 5, 31))
    with scopes_disabled():
        q1 = feedback.members_feedback([member], feedback.Period(THIS_YEAR, 1))[0]
        q3 = feedback.members_feedback([member], feedback.Period(THIS_YEAR, 3))[0]
        before = feedback.members_feedback([member], feedback.Period(LAST_YEAR, 4))[0]
    assert q1.registered and q1.valid_until == dt.date(THIS_YEAR, 5, 31)
    assert not q3.registered and q3.suggestion == "未报到，不能评为合格及以上"
    assert not before.registered


def test_quarter_boundaries_split_hours_activities_wishes_and_points(personas):
    member = personas.people["member_a"]
    register(personas, member, registered_at=at(THIS_YEAR, 1, 5, 9))
    # 22:00 on 30 June to 02:00 on 1 July (Asia/Shanghai): two hours in each quarter.
    night = activity(personas, "夏夜平安巡逻", at(THIS_YEAR, 6, 30, 22), at(THIS_YEAR, 7, 1, 2))
    attend(night, member)
    early = activity(personas, "七一主题党日服务", at(THIS_YEAR, 7, 1, 8), at(THIS_YEAR, 7, 1, 10))
    attend(early, member)
    wish(personas, member, "六月心愿", at(THIS_YEAR, 6, 30, 23, 59), "XY0001")
    wish(personas, member, "七月心愿", at(THIS_YEAR, 7, 1, 0, 0), "XY0002")
    points(member, "2", dt.date(THIS_YEAR, 6, 30), 1)
    points(member, "4", dt.date(THIS_YEAR, 7, 1), 2)
    with scopes_disabled():
        q2 = feedback.members_feedback([member], feedback.parse_period(f"{THIS_YEAR}Q2"))[0]
        q3 = feedback.members_feedback([member], feedback.parse_period(f"{THIS_YEAR}q3"))[0]
    assert (q2.hours, q3.hours) == (Decimal("2.0"), Decimal("4.0"))
    assert [a[1] for a in q2.activities] == ["夏夜平安巡逻"] and [a[1] for a in q3.activities] == ["七一主题党日服务"]
    assert [w[1] for w in q2.wishes] == ["六月心愿"] and [w[1] for w in q3.wishes] == ["七月心愿"]
    assert (q2.points, q3.points) == (Decimal("2"), Decimal("4"))
    # The year to date at the end of Q3 counts Q2's hours too; the Q3 target is 3/4 of 50 hours.
    assert q3.year_hours == Decimal("6.0") and q3.target == Decimal("37.5")
    period = feedback.Period(THIS_YEAR, 4)
    assert (period.first_day, period.last_day) == (dt.date(THIS_YEAR, 10, 1), dt.date(THIS_YEAR, 12, 31))
    assert period.label == f"{THIS_YEAR}年第四季度" and period.kind == FeedbackKind.QUARTERLY_CARD


@pytest.mark.parametrize("raw", ["", "2026Q5", "26Q1", "2026-Q1", "1999", str(THIS_YEAR + 1), f"{THIS_YEAR + 1}Q1"])
def test_bad_or_future_periods_are_refused(raw):
    with pytest.raises(ValidationError) as caught:
        feedback.parse_period(raw)
    assert "period" in caught.value.message_dict


# --- The yearly letter ------------------------------------------------------------------------------

def test_yearly_letter_names_the_member_hours_activities_and_suggestion(personas, year_of_service):
    batch = _generate(personas)
    data = _stored(batch.pdf)
    assert hashlib.sha256(data).hexdigest() == batch.pdf_sha256
    reader, text = _pdf_text(data)
    pages = [page.extract_text().replace("\n", "") for page in reader.pages]
    assert len(pages) == 2  # one letter per member
    mine = next(p for p in pages if MEMBER in p)
    assert "东城区第一人民医院党支部：" in mine
    assert f"贵单位在职党员{MEMBER}同志已于" in mine and "到多福巷社区报到" in mine
    assert f"{LAST_YEAR}年度，该同志经社区核定的志愿服务时长为5.0小时" in mine
    assert "年度最低要求50.0小时，未达到" in mine
    for title in ("重阳节敬老助餐", "独居老人上门探访", "胡同环境整治", "为独居老人修理收音机"):
        assert title in mine
    assert "参加社区志愿服务活动3次" in mine and "积分8.5分" in mine
    assert "社区党组织的评价建议为：基本合格" in mine
    assert "此致" in mine and "敬礼！" in mine and "中共多福巷社区委员会（盖章）" in mine
    theirs = next(p for p in pages if OTHER in p)
    assert "本年度未到居住社区报到" in theirs and "评价建议为：未报到，不能评为合格及以上" in theirs
    assert "60.0小时" in theirs
    assert reader.metadata.title == "在职党员到社区报到服务情况反馈函"


def _cmaps() -> list[set[int]]:
    from fontTools.ttLib import TTFont

    out = []
    for path in (FONT_PATH, LATIN_FONT_PATH):
        font = TTFont(str(path), lazy=True)
        out.append(set(font.getBestCmap()))
        font.close()
    return out


def test_letter_renders_to_png_without_missing_glyphs(personas, year_of_service, caplog):
    import pypdfium2 as pdfium

    with caplog.at_level(logging.WARNING, logger="fpdf"):
        batch = _generate(personas)
    assert not [r for r in caplog.records if "missing" in r.getMessage()]
    data = _stored(batch.pdf)
    document = pdfium.PdfDocument(data)
    try:
        assert len(document) == 2
        for index in range(len(document)):
            page = document[index]
            image = page.render(scale=1.5).to_pil().convert("L")
            png = io.BytesIO()
            image.save(png, format="PNG")
            assert png.getvalue().startswith(b"\x89PNG")
            # Ink on the page: the letter is drawn, not a blank sheet.
            dark = sum(image.histogram()[:128])
            assert dark > 2000
            text = page.get_textpage().get_text_range()
            assert "评价建议" in text
    finally:
        document.close()
    # Every character printed is in one of the embedded fonts (no tofu boxes).
    cmaps = _cmaps()
    _reader, text = _pdf_text(data)
    missing = {ch for ch in text if not ch.isspace() and not any(ord(ch) in cmap for cmap in cmaps)}
    assert not missing


# --- The quarterly card and the xlsx ------------------------------------------------------------------

def test_quarterly_cards_one_page_per_member(personas):
    member = personas.people["member_a"]
    register(personas, member, registered_at=at(THIS_YEAR, 1, 5, 9))
    attend(activity(personas, "社区义诊", at(THIS_YEAR, 8, 8, 9), at(THIS_YEAR, 8, 8, 12)), member)
    colleague(personas)
    batch = _generate(personas, kind=FeedbackKind.QUARTERLY_CARD, period=f"{THIS_YEAR}Q3")
    reader, _text = _pdf_text(_stored(batch.pdf))
    # Labels and values are separate cells: compare without the spaces extraction puts between them.
    pages = [page.extract_text().replace("\n", "").replace(" ", "") for page in reader.pages]
    assert len(pages) == 2
    mine = next(p for p in pages if MEMBER in p)
    assert f"{THIS_YEAR}年第三季度在职党员社区服务卡" in mine
    assert "本季度服务时长：3.0小时" in mine and "社区义诊" in mine and "已报到：多福巷社区" in mine
    assert "年度最低要求50.0小时，未达到" in mine
    assert "未报到，不能评为合格及以上" in next(p for p in pages if OTHER in p)


def test_unit_xlsx_flags_the_unregistered_member_and_sums_up(personas, year_of_service):
    batch = _generate(personas)
    book = load_workbook(io.BytesIO(_stored(batch.xlsx)))
    sheet = book["党员"]
    header = [c.value for c in sheet[1]]
    flag = header.index("未报到（不能评为合格及以上）")
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[OTHER][flag] == "是" and rows[OTHER][header.index("社区评价建议")] == "未报到，不能评为合格及以上"
    assert rows[MEMBER][flag] in (None, "")
    assert rows[MEMBER][header.index("报到社区")] == "多福巷社区"
    assert Decimal(str(rows[MEMBER][header.index("本期服务时长（小时）")])) == Decimal("5.0")
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True)}
    assert summary["单位"] == UNIT and summary["党员人数"] == 2
    assert summary["已报到"] == 1 and summary["未报到"] == 1
    # Registered and served: 周海燕 only (钱卫东 served but never registered).
    assert Decimal(str(summary["完成率（%）"])) == Decimal("50.0") and summary["低于警戒线"] == "是"


# --- The service ----------------------------------------------------------------------------------

def test_batch_generate_stores_files_audits_and_keeps_history(personas, year_of_service):
    first = _generate(personas)
    second = _generate(personas, actor="unit_liaison")
    assert (first.members, first.unregistered) == (2, 1)
    assert first.pdf.name != second.pdf.name and first.pdf.name.endswith(".pdf")
    with scopes_disabled():
        history = list(feedback.batches_for(personas.community_staff).filter(unit=personas.orgs["unit"]))
        entries = list(AuditEntry.objects.filter(action="volunteers.feedback.generated").order_by("id"))
    assert [b.pk for b in history] == [second.pk, first.pk]  # newest first, both kept
    assert len(entries) == 2 and entries[0].after["pdf_sha256"] == first.pdf_sha256
    assert entries[0].after["period"] == str(LAST_YEAR) and entries[0].after["unregistered"] == 1


def test_batch_generate_refuses_outsiders_and_mismatched_kinds(personas, year_of_service):
    for name in ("community_staff_b", "outsider", "grid_worker", "member"):
        with pytest.raises(PermissionDenied):
            _generate(personas, actor=name)
    with pytest.raises(ValidationError) as caught:
        _generate(personas, kind=FeedbackKind.YEARLY_LETTER, period=f"{THIS_YEAR}Q1")
    assert "period" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        _generate(personas, kind="poster")
    assert "kind" in caught.value.message_dict
    with scopes_disabled():
        assert not FeedbackBatch.objects.unscoped().exists()
        assert not AuditEntry.objects.filter(action="volunteers.feedback.generated").exists()


def test_staff_of_a_members_community_reach_the_unit(personas):
    member = personas.people["member_a"]
    with scopes_disabled():
        assert not feedback.units_for(personas.community_staff_b).exists()
        register(personas, member, community="community_b")
        assert list(feedback.units_for(personas.community_staff_b)) == [personas.orgs["unit"]]
        assert list(feedback.units_for(personas.unit_liaison)) == [personas.orgs["unit"]]
        assert not feedback.units_for(personas.outsider).exists()


# --- The pages ------------------------------------------------------------------------------------

def test_unit_list_generate_and_download_as_community_staff(personas, client_for, year_of_service):
    client = client_for("community_staff")
    page = client.get(reverse("volunteers:feedback_units"), {"period": str(LAST_YEAR)})
    assert page.status_code == 200
    body = page.content.decode()
    assert UNIT in body and f"生成{LAST_YEAR}年度反馈函" in body
    unit = personas.orgs["unit"]
    response = client.post(reverse("volunteers:feedback_generate", args=[unit.pk]),
                           {"period": str(LAST_YEAR), "kind": FeedbackKind.YEARLY_LETTER})
    assert response.status_code == 302 and response.url.endswith(f"?period={LAST_YEAR}")
    with scopes_disabled():
        batch = FeedbackBatch.objects.unscoped().get()
    detail = client.get(response.url).content.decode()
    assert "已生成" in detail and OTHER in detail and "未报到，不能评为合格及以上" in detail
    assert reverse("volunteers:feedback_pdf", args=[batch.pk]) in detail
    pdf = client.get(reverse("volunteers:feedback_pdf", args=[batch.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["X-Content-Type-Options"] == "nosniff"
    disposition = pdf["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert "%E5%B9%B4%E5%BA%A6%E5%8F%8D%E9%A6%88%E5%87%BD" in disposition  # 年度反馈函, percent-encoded
    assert b"".join(pdf.streaming_content) == _stored(batch.pdf)
    xlsx = client.get(reverse("volunteers:feedback_xlsx", args=[batch.pk]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == feedback.XLSX
    assert xlsx["X-Content-Type-Options"] == "nosniff"


def test_bad_generate_post_changes_nothing_and_says_why(personas, client_for):
    client = client_for("unit_liaison")
    unit = personas.orgs["unit"]
    response = client.post(reverse("volunteers:feedback_generate", args=[unit.pk]),
                           {"period": f"{THIS_YEAR + 1}", "kind": FeedbackKind.YEARLY_LETTER}, follow=True)
    assert response.status_code == 200 and "只能为已经开始的期间生成反馈" in response.content.decode()
    with scopes_disabled():
        assert not FeedbackBatch.objects.unscoped().exists()


def test_liaison_sees_their_members_table(personas, client_for, year_of_service):
    client = client_for("unit_liaison")
    page = client.get(reverse("volunteers:feedback_unit", args=[personas.orgs["unit"].pk]),
                      {"period": str(LAST_YEAR)})
    body = page.content.decode()
    assert page.status_code == 200 and MEMBER in body and OTHER in body
    assert "多福巷社区" in body and "基本合格" in body and "低于警戒线" in body
    # A bad period falls back to the default one rather than failing.
    assert client.get(reverse("volunteers:feedback_unit", args=[personas.orgs["unit"].pk]),
                      {"period": "x"}).status_code == 200


def test_unit_page_queries_do_not_grow_with_members(personas, client_for, year_of_service):
    client = client_for("community_staff")
    url = reverse("volunteers:feedback_unit", args=[personas.orgs["unit"].pk]) + f"?period={LAST_YEAR}"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(4):
        person = colleague(personas, name=f"党员{index}", phone=f"1390000300{index}", id_number=f"11010119900303001{index}")
        attend(activity(personas, f"活动{index}", at(LAST_YEAR, 9, 1 + index, 9), at(LAST_YEAR, 9, 1 + index, 10)), person)
    with CaptureQueriesContext(connection) as many:
        assert "党员3" in client.get(url).content.decode()
    assert len(many) == len(few)


def test_community_dashboard_figures(personas, client_for, year_of_service):
    client = client_for("street_hub")
    page = client.get(reverse("volunteers:community_dashboard"), {"year": str(LAST_YEAR)})
    assert page.status_code == 200
    with scopes_disabled():
        rows = {r.name: r for r in feedback.community_dashboard(feedback.communities_for(personas.street_hub),
                                                                LAST_YEAR)}
    assert set(rows) == {"多福巷社区", "银闸社区"}
    duofu = rows["多福巷社区"]
    # 周海燕 5 h (overlap merged) + 钱卫东 60 h; four activities held; one wish; one member registered.
    assert duofu.hours == Decimal("65.0") and duofu.volunteers == 2
    assert (duofu.activities_held, duofu.wishes_completed, duofu.members_registered) == (4, 1, 1)
    body = page.content.decode()
    assert "多福巷社区" in body and "65.0" in body
    other = client_for("community_staff_b").get(reverse("volunteers:community_dashboard"), {"year": str(LAST_YEAR)})
    assert "多福巷社区" not in other.content.decode() and "吉祥社区" in other.content.decode()
