"""Demonstration sites and the case library (issue 11 item 4), services: nomination by the area,
criteria the platform answers itself (the latest star rating, the year's satisfaction rate, the
secretary post) at their exact lines, the district's decision and revocation; cases with
sanitised bodies, normalised tags, evidence links to this site only, files judged by content,
publishing one level up, and who reads what."""

from __future__ import annotations

import struct
import zlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import indicators
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import sites
from zhouxin.oversight.choices import CaseStatus, SiteKind, SiteStatus
from zhouxin.oversight.models import CaseFile, CaseStudy, DemoSite, Rating

D = Decimal
YEAR = timezone.localdate().year
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SATISFACTION = "dispatch.satisfaction_rate"
VACANCY = "workforce.secretary_vacancy_days"
BODY = "<p>楼门长牵头成立议事会，<strong>三周</strong>解决停车难。</p>"


def png(*, author: str = "") -> bytes:
    """A 2×2 PNG, with a tEXt chunk naming the author when asked (metadata to be stripped)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    text = chunk(b"tEXt", b"Author\x00" + author.encode()) if author else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) + text
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Figures:
    """Test values of the satisfaction rate and the vacancy days, {area id: value}."""

    def __init__(self):
        self.values = {SATISFACTION: {}, VACANCY: {}}

    def compute(self, name):
        return lambda areas, period: {a.pk: self.values[name][a.pk] for a in areas if a.pk in self.values[name]}


def install_figures():
    """Stand-ins for the two domain indicators; returns (Figures, the registrations to restore)."""
    saved = {name: indicators.get(name) if indicators.exists(name) else None for name in (SATISFACTION, VACANCY)}
    figures = Figures()
    indicators.register(SATISFACTION, title="满意率", unit=indicators.PERCENT, domain="接诉即办",
                        compute=figures.compute(SATISFACTION),
                        link=lambda area, period: f"/dispatch/rankings/?area={area.code}&period={period.key}")
    indicators.register(VACANCY, title="书记岗位空缺天数", unit=indicators.DAYS, domain="社区工作者",
                        compute=figures.compute(VACANCY), link=None, higher_is_better=False)
    return figures, saved


def restore(saved) -> None:
    for name, old in saved.items():
        indicators.unregister(name)
        if old is not None:
            indicators.register(name, title=old.title, unit=old.unit, domain=old.domain, compute=old.compute,
                                link=old.link, higher_is_better=old.higher_is_better, description=old.description,
                                order=old.order)


@pytest.fixture
def figures():
    values, saved = install_figures()
    yield values
    restore(saved)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def rate(personas, area_key="community_a", *, stars=4, period="2000-Q1"):
    area = personas.areas[area_key]
    p = indicators.Period.parse(period)
    with scopes_disabled():
        return Rating.objects.unscoped().create(
            area=area, district=personas.areas["dongcheng"], period=p.key, period_kind=p.kind, period_start=p.start,
            period_end=p.end, stars=stars, score=D("85"), computed_at=timezone.now())


def nominate(personas, area_key="community_a", *, actor=None, kind=SiteKind.COMMUNITY, year=YEAR, **extra):
    return sites.site_nominate(actor=actor or personas.community_staff, area=personas.areas[area_key], kind=kind,
                               year=year, title=extra.pop("title", "多福巷社区“小巷管家”示范点"),
                               reason=extra.pop("reason", "接诉即办响应快，居民议事机制健全。"), **extra)


def criterion(site, key) -> dict:
    return next(c for c in site.criteria if c["key"] == key)


# --- Criteria ------------------------------------------------------------------------------------

def test_the_platform_answers_what_it_knows_with_figures_and_links(personas, figures):
    area = personas.areas["community_a"]
    rate(personas, stars=2, period=f"{YEAR - 1}-Q3")
    rate(personas, stars=4, period=f"{YEAR - 1}-Q4")   # the latest one counts
    figures.values[SATISFACTION][area.pk] = D("0.92")
    figures.values[VACANCY][area.pk] = 0
    site = nominate(personas, evidence={"centre": "中心面积 480 平方米，周末开放。", "rating": "忽略"})
    rating = criterion(site, "rating")
    assert rating["auto"] and rating["met"] is True and "4 星" in rating["figure"] and f"{YEAR - 1}年第4季度" in rating["figure"]
    assert rating["link"] == reverse("oversight:rating_detail", args=[area.code, f"{YEAR - 1}-Q4"])
    satisfaction = criterion(site, "satisfaction")
    assert satisfaction == {"key": "satisfaction", "text": "群众满意率不低于 90%", "auto": True, "met": True,
                            "figure": "92.0%", "link": f"/dispatch/rankings/?area={area.code}&period={YEAR}",
                            "evidence": ""}
    assert criterion(site, "secretary")["met"] is True and criterion(site, "secretary")["figure"] == "0"
    centre = criterion(site, "centre")
    assert not centre["auto"] and centre["met"] is None and centre["evidence"] == "中心面积 480 平方米，周末开放。"
    assert [c["key"] for c in site.criteria] == [c.key for c in sites.CRITERIA]


@pytest.mark.parametrize(("satisfaction", "met"), [(D("0.90"), True), (D("0.8999"), False)])
def test_satisfaction_line_is_reached_at_exactly_90_percent(personas, figures, satisfaction, met):
    figures.values[SATISFACTION][personas.areas["community_a"].pk] = satisfaction
    assert criterion(nominate(personas), "satisfaction")["met"] is met


@pytest.mark.parametrize(("days", "met"), [(0, True), (1, False)])
def test_the_secretary_post_must_be_held(personas, figures, days, met):
    figures.values[VACANCY][personas.areas["community_a"].pk] = days
    assert criterion(nominate(personas), "secretary")["met"] is met


@pytest.mark.parametrize(("stars", "met"), [(3, True), (2, False)])
def test_three_stars_or_more(personas, figures, stars, met):
    rate(personas, stars=stars, period=f"{YEAR}-01")
    assert criterion(nominate(personas), "rating")["met"] is met


def test_no_figure_means_no_verdict(personas, figures):
    site = nominate(personas)
    assert criterion(site, "rating") == {"key": "rating", "text": "星级评定三星以上", "auto": True, "met": None,
                                         "figure": "暂无星级评定", "link": None, "evidence": ""}
    assert criterion(site, "satisfaction")["met"] is None and criterion(site, "satisfaction")["figure"] == "—"


def test_a_later_years_rating_does_not_count_for_an_earlier_nomination(personas, figures):
    rate(personas, stars=5, period=f"{YEAR}-01")
    assert criterion(nominate(personas, year=YEAR - 1), "rating")["met"] is None


# --- Nomination ----------------------------------------------------------------------------------

def test_the_street_nominates_its_street_and_communities(personas, figures):
    assert nominate(personas, "street_a", actor=personas.street_hub, kind=SiteKind.STREET).area.level == "street"
    assert nominate(personas, "community_a2", actor=personas.street_hub).nominated_by == personas.street_hub
    entry = AuditEntry.objects.filter(action="oversight.site.nominated").order_by("-id").first()
    assert entry.after["area"] == "110101001002"


@pytest.mark.parametrize(("actor", "area_key"), [
    ("community_staff", "community_a2"),   # another community of the same street
    ("community_staff", "street_a"),
    ("street_hub", "community_b"),
    ("district_admin", "community_a"),     # the district decides; it does not nominate
    ("outsider", "community_a"),
])
def test_nomination_only_for_ones_own_area(personas, figures, actor, area_key):
    kind = SiteKind.STREET if area_key.startswith("street") else SiteKind.COMMUNITY
    with pytest.raises(PermissionDenied):
        nominate(personas, area_key, actor=personas.users[actor], kind=kind)
    assert not DemoSite.objects.unscoped().exists()


def test_nomination_input_is_checked(personas, figures):
    with pytest.raises(ValidationError) as level:
        nominate(personas, kind=SiteKind.STREET)
    assert "“示范街道”须推荐街道" in str(level.value)
    with pytest.raises(ValidationError) as unit:
        nominate(personas, kind=SiteKind.UNIT)
    assert "须选择单位" in str(unit.value)
    with pytest.raises(ValidationError) as elsewhere:
        nominate(personas, kind=SiteKind.UNIT, organisation=personas.orgs["community_b_committee"])
    assert "所选单位不在多福巷社区" in str(elsewhere.value)
    with pytest.raises(ValidationError):
        nominate(personas, year=YEAR + 1)
    with pytest.raises(ValidationError):
        nominate(personas, title=" ", reason="")
    unit_site = nominate(personas, kind=SiteKind.UNIT, organisation=personas.orgs["unit"], title="第一人民医院党支部")
    assert unit_site.organisation == personas.orgs["unit"]
    nominate(personas)
    with pytest.raises(ValidationError) as twice:
        nominate(personas)
    assert "已推荐" in str(twice.value)
    assert DemoSite.objects.unscoped().count() == 2


# --- Decision ------------------------------------------------------------------------------------

def test_the_district_approves_and_the_figures_are_taken_again(personas, figures):
    area = personas.areas["community_a"]
    figures.values[SATISFACTION][area.pk] = D("0.85")
    site = nominate(personas, evidence={"practice": "议事厅做法已在三个社区推广。"})
    assert criterion(site, "satisfaction")["met"] is False
    figures.values[SATISFACTION][area.pk] = D("0.95")
    with pytest.raises(PermissionDenied):
        sites.site_decide(actor=personas.street_hub, site=site, approve=True)
    sites.site_decide(actor=personas.district_admin, site=site, approve=True)
    assert site.status == SiteStatus.APPROVED and site.decided_by == personas.district_admin
    assert criterion(site, "satisfaction")["met"] is True and criterion(site, "satisfaction")["figure"] == "95.0%"
    assert criterion(site, "practice")["evidence"] == "议事厅做法已在三个社区推广。"
    with pytest.raises(ValidationError):
        sites.site_decide(actor=personas.district_admin, site=site, approve=False, note="重复审定")


def test_a_missed_criterion_needs_a_note_to_approve_and_a_rejection_always_does(personas, figures):
    figures.values[SATISFACTION][personas.areas["community_a"].pk] = D("0.70")
    site = nominate(personas)
    with pytest.raises(ValidationError) as missed:
        sites.site_decide(actor=personas.district_admin, site=site, approve=True)
    assert "群众满意率不低于 90%" in str(missed.value)
    with pytest.raises(ValidationError):
        sites.site_decide(actor=personas.district_admin, site=site, approve=False, note="")
    with scopes_disabled():
        assert DemoSite.objects.get(pk=site.pk).status == SiteStatus.NOMINATED
    sites.site_decide(actor=personas.district_admin, site=site, approve=True, note="满意率因集中整治暂时下降，做法突出，予以命名。")
    assert site.status == SiteStatus.APPROVED
    entry = AuditEntry.objects.get(action="oversight.site.approved")
    assert entry.after["missed"] == ["群众满意率不低于 90%"]


def test_revoke_an_approved_site_with_a_reason(personas, figures):
    site = nominate(personas)
    with pytest.raises(ValidationError):
        sites.site_revoke(actor=personas.district_admin, site=site, reason="未命名")
    sites.site_decide(actor=personas.district_admin, site=site, approve=True, note="同意")
    with pytest.raises(ValidationError):
        sites.site_revoke(actor=personas.district_admin, site=site, reason="")
    with pytest.raises(PermissionDenied):
        sites.site_revoke(actor=personas.street_hub, site=site, reason="越权")
    sites.site_revoke(actor=personas.district_admin, site=site, reason="发生重大安全责任事故")
    assert site.status == SiteStatus.REVOKED and site.decision_note == "撤销：发生重大安全责任事故"


# --- Cases: input ----------------------------------------------------------------------------------

def write(personas, area_key="community_a", *, actor=None, **fields):
    data = {"title": "议事厅解决停车难", "summary": "楼门长牵头议事，三周化解停车矛盾。", "body": BODY,
            "tags": "协商议事，停车治理", "evidence": "", **fields}
    return sites.case_create(actor=actor or personas.community_staff, area=personas.areas[area_key], **data)


def test_tags_are_normalised_and_limited():
    assert sites.parse_tags("社区治理，接诉即办、老旧小区; ＡＢＣ ,  #停车 ,社区治理\n  老旧  小区 ") == [
        "社区治理", "接诉即办", "老旧小区", "ABC", "停车", "老旧 小区"]
    assert sites.parse_tags("") == []
    with pytest.raises(ValidationError) as many:
        sites.parse_tags("、".join(f"标签{i}" for i in range(9)))
    assert "最多 8 个" in str(many.value)
    assert len(sites.parse_tags("、".join(f"标签{i}" for i in range(8)))) == 8
    with pytest.raises(ValidationError):
        sites.parse_tags("一个特别特别特别特别特别长的标签名称超过十六字")


def test_evidence_links_only_to_pages_of_this_site(db):
    plans = reverse("funds:plan_list")
    assert sites.parse_evidence(f"加装电梯支出计划 | {plans}\n{plans}?status=filed\n 台账  {plans} ") == [
        {"title": "加装电梯支出计划", "url": plans}, {"title": f"{plans}?status=filed", "url": f"{plans}?status=filed"},
        {"title": "台账", "url": plans}]
    for bad in ("https://evil.example.com/x", "//evil.example.com/x", "/\\evil.example.com", "javascript:alert(1)",
                "funds/plans/", "/no/such/page/", "http://testserver/funds/plans/"):
        with pytest.raises(ValidationError) as refused:
            sites.parse_evidence(f"坏链接 | {bad}")
        assert "不是本平台的页面地址" in str(refused.value), bad
    with pytest.raises(ValidationError):
        sites.parse_evidence("\n".join(f"{i} | {plans}" for i in range(sites.MAX_LINKS + 1)))


def test_the_body_is_sanitised(personas):
    case = write(personas, body='<p style="display:none" onclick="x()">好做法</p><script>alert(1)</script>'
                                '<a href="javascript:alert(1)">链接</a><a href="https://gamble.example.com">博彩</a>')
    assert "<script" not in case.body and "style=" not in case.body and "onclick" not in case.body
    assert "javascript:" not in case.body and "<p>好做法</p>" in case.body
    assert 'rel="noopener noreferrer nofollow"' in case.body
    with pytest.raises(ValidationError) as empty:
        write(personas, body="<script>alert(1)</script>")
    assert "请填写正文" in str(empty.value)


def test_files_are_judged_by_content_and_photos_lose_their_metadata(personas):
    photo = SimpleUploadedFile("现场.png", png(author="张三 13800001234"), content_type="image/png")
    scan = SimpleUploadedFile("会议纪要.pdf", PDF_BYTES, content_type="application/pdf")
    case = write(personas, files=[photo, scan])
    stored = list(CaseFile.objects.unscoped().filter(case=case).order_by("id"))
    assert [(f.name, f.content_type) for f in stored] == [("现场.png", "image/png"), ("会议纪要.pdf", "application/pdf")]
    data = stored[0].file.read()
    assert b"13800001234" not in data and data.startswith(b"\x89PNG")
    fake = SimpleUploadedFile("photo.jpg", b"<html><script>alert(1)</script></html>", content_type="image/jpeg")
    with pytest.raises(ValidationError) as refused:
        write(personas, title="另一篇", files=[fake])
    assert "按文件内容判断" in str(refused.value)
    assert CaseStudy.objects.unscoped().count() == 1


def test_a_case_links_only_to_a_site_its_author_can_see(personas, figures):
    with scopes_disabled():
        other = sites.site_nominate(actor=personas.community_staff_b, area=personas.areas["community_b"],
                                    kind=SiteKind.COMMUNITY, year=YEAR, title="吉祥社区示范点", reason="理由")
    with pytest.raises(ValidationError) as hidden:
        write(personas, site=other)
    assert "请选择您能看到的示范点" in str(hidden.value)
    own = nominate(personas)
    assert write(personas, site=own).site == own


# --- Cases: publishing and reading ---------------------------------------------------------------------

def test_publishing_is_one_level_up_and_a_published_case_is_withdrawn_before_editing(personas):
    case = write(personas)
    with pytest.raises(PermissionDenied):
        sites.case_publish(actor=personas.community_staff, case=case)
    sites.case_publish(actor=personas.street_hub, case=case)
    assert case.status == CaseStatus.PUBLISHED and case.published_by == personas.street_hub
    with pytest.raises(ValidationError) as locked:
        sites.case_update(actor=personas.community_staff, case=case, title="改", summary="改", body=BODY)
    assert "先撤回" in str(locked.value)
    with pytest.raises(PermissionDenied):
        sites.case_withdraw(actor=personas.community_staff, case=case)
    sites.case_withdraw(actor=personas.street_hub, case=case, note="数据需更新")
    sites.case_update(actor=personas.community_staff, case=case, title="议事厅解决停车难（修订）", summary="摘要",
                      body=BODY, tags="停车治理")
    assert case.status == CaseStatus.WITHDRAWN and case.tags == ["停车治理"]
    sites.case_publish(actor=personas.district_admin, case=case)
    assert case.status == CaseStatus.PUBLISHED


def test_a_streets_own_case_is_published_by_the_district(personas):
    case = write(personas, "street_a", actor=personas.street_hub)
    with pytest.raises(PermissionDenied):
        sites.case_publish(actor=personas.street_hub, case=case)
    sites.case_publish(actor=personas.district_admin, case=case)
    district_case = write(personas, "dongcheng", actor=personas.district_admin, title="全区经验")
    sites.case_publish(actor=personas.district_admin, case=district_case)


def test_published_cases_are_read_across_the_district_drafts_only_in_their_area(personas):
    with scopes_disabled():
        published = write(personas, "community_b", actor=personas.community_staff_b, title="吉祥社区微心愿")
        sites.case_publish(actor=personas.district_admin, case=published)
        draft = write(personas, "community_b", actor=personas.community_staff_b, title="吉祥社区草稿")

    def visible(name):
        return set(sites.cases_visible_to(personas.users[name]).values_list("title", flat=True))

    assert visible("community_staff") == {"吉祥社区微心愿"}
    assert visible("street_hub") == {"吉祥社区微心愿"}
    assert visible("community_staff_b") == {"吉祥社区微心愿", "吉祥社区草稿"}
    assert visible("district_admin") == {"吉祥社区微心愿", "吉祥社区草稿"}
    assert visible("outsider") == set()
    assert visible("grid_worker") == set()
    sites.case_withdraw(actor=personas.district_admin, case=published)
    assert visible("community_staff") == set()
    assert draft.status == CaseStatus.DRAFT


def test_editing_adds_and_removes_files(personas, django_capture_on_commit_callbacks):
    case = write(personas, files=[SimpleUploadedFile("a.pdf", PDF_BYTES)])
    first = CaseFile.objects.unscoped().get(case=case)
    path = first.file.name
    with django_capture_on_commit_callbacks(execute=True):
        sites.case_update(actor=personas.community_staff, case=case, title=case.title, summary=case.summary,
                          body=BODY, files=[SimpleUploadedFile("b.png", png())], remove_files=[first])
    assert list(CaseFile.objects.unscoped().filter(case=case).values_list("name", flat=True)) == ["b.png"]
    assert not first.file.storage.exists(path)
    with pytest.raises(PermissionDenied):
        sites.case_update(actor=personas.community_staff_b, case=case, title="x", summary="x", body=BODY)

