"""Demonstration-site and case-library pages: nominating without typing what the platform knows,
the criteria with their figures and links, the district's decision, writing a case with files,
the library's tag filter and search, and files served only to those who may read the case."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import sites
from zhouxin.oversight.choices import CaseStatus, SiteKind, SiteStatus
from zhouxin.oversight.models import CaseFile, CaseStudy, DemoSite

from .test_sites import BODY, PDF_BYTES, SATISFACTION, YEAR, install_figures, nominate, png, restore, write


@pytest.fixture
def figures():
    values, saved = install_figures()
    yield values
    restore(saved)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_nomination_page_asks_only_what_the_platform_cannot_know(personas, figures, client_for):
    client = client_for("community_staff")
    page = client.get(reverse("oversight:site_nominate")).content.decode()
    assert "以下条件由平台根据业务记录自动核验，无需填报" in page
    assert 'name="evidence_centre"' in page and 'name="evidence_rating"' not in page
    assert 'name="evidence_satisfaction"' not in page and "银闸社区" not in page
    figures.values[SATISFACTION][personas.areas["community_a"].pk] = Decimal("0.96")
    response = client.post(reverse("oversight:site_nominate"), {
        "area": personas.areas["community_a"].code, "kind": SiteKind.COMMUNITY, "year": YEAR,
        "title": "多福巷社区示范点", "reason": "议事协商机制健全", "evidence_centre": "中心 480 平方米",
        "evidence_satisfaction": "100%"})
    with scopes_disabled():
        site = DemoSite.objects.get()
    assert response.status_code == 302
    satisfaction = next(c for c in site.criteria if c["key"] == "satisfaction")
    assert satisfaction["figure"] == "96.0%" and satisfaction["evidence"] == ""
    detail = client.get(reverse("oversight:site_detail", args=[site.pk])).content.decode()
    assert "96.0%" in detail and "（平台自动生成）" in detail and "中心 480 平方米" in detail
    assert f'href="/dispatch/rankings/?area={personas.areas["community_a"].code}&amp;period={YEAR}">查看明细' in detail
    assert reverse("oversight:site_decide", args=[site.pk]) not in detail


def test_nominating_another_streets_community_is_not_found(personas, figures, client_for):
    response = client_for("street_hub").post(reverse("oversight:site_nominate"), {
        "area": personas.areas["community_b"].code, "kind": SiteKind.COMMUNITY, "year": YEAR, "title": "x",
        "reason": "y"})
    assert response.status_code == 404
    bad = client_for("street_hub").post(reverse("oversight:site_nominate"), {
        "area": personas.areas["community_a"].code, "kind": SiteKind.STREET, "year": YEAR, "title": "x", "reason": "y"})
    assert bad.status_code == 422 and "须推荐街道" in bad.content.decode()
    assert not DemoSite.objects.unscoped().exists()


def test_the_district_decides_and_revokes_on_the_page(personas, figures, client_for):
    figures.values[SATISFACTION][personas.areas["community_a"].pk] = Decimal("0.50")
    site = nominate(personas)
    district = client_for("district_admin")
    url = reverse("oversight:site_detail", args=[site.pk])
    assert reverse("oversight:site_decide", args=[site.pk]) in district.get(url).content.decode()
    refused = district.post(reverse("oversight:site_decide", args=[site.pk]), {"d-decision": "approve", "d-note": ""})
    assert refused.status_code == 422 and "命名须在审定意见中说明理由" in refused.content.decode()
    assert client_for("street_hub").post(reverse("oversight:site_decide", args=[site.pk]),
                                         {"d-decision": "approve", "d-note": "好"}).status_code == 403
    district.post(reverse("oversight:site_decide", args=[site.pk]), {"d-decision": "approve", "d-note": "做法突出"})
    with scopes_disabled():
        assert DemoSite.objects.get(pk=site.pk).status == SiteStatus.APPROVED
    district.post(reverse("oversight:site_revoke", args=[site.pk]), {"r-reason": "发生安全责任事故"})
    page = district.get(url).content.decode()
    assert "撤销：发生安全责任事故" in page and "已撤销" in page


def test_site_list_shows_only_sites_in_scope_and_the_library(personas, figures, client_for):
    nominate(personas, title="多福巷示范")
    with scopes_disabled():
        nominate(personas, "community_b", actor=personas.community_staff_b, title="吉祥示范")
        published = write(personas, "community_b", actor=personas.community_staff_b, title="吉祥社区好做法")
        sites.case_publish(actor=personas.district_admin, case=published)
    page = client_for("community_staff").get(reverse("oversight:site_list")).content.decode()
    assert "多福巷示范" in page and "吉祥示范" not in page
    assert "吉祥社区好做法" in page and reverse("oversight:case_list") in page


def test_write_a_case_with_files_and_read_them(personas, client_for):
    client = client_for("community_staff")
    plans = reverse("funds:plan_list")
    response = client.post(reverse("oversight:case_create"), {
        "area": personas.areas["community_a"].code, "title": "胡同停车协商", "summary": "三周化解停车矛盾",
        "body": BODY + "<script>alert(1)</script>", "tags": "停车治理、协商议事", "evidence": f"支出计划 | {plans}",
        "upload": [SimpleUploadedFile("现场.png", png()), SimpleUploadedFile("纪要.pdf", PDF_BYTES)]})
    assert response.status_code == 302
    with scopes_disabled():
        case = CaseStudy.objects.get()
    files = list(CaseFile.objects.unscoped().filter(case=case).order_by("id"))
    detail = client.get(reverse("oversight:case_detail", args=[case.pk])).content.decode()
    assert "<strong>三周</strong>" in detail and "alert(1)" not in detail
    assert f'<a href="{plans}">支出计划</a>' in detail
    assert reverse("oversight:case_file", args=[case.pk, files[0].pk]) in detail
    image = client.get(reverse("oversight:case_file", args=[case.pk, files[0].pk]))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff" and "sandbox" in image["Content-Security-Policy"]
    assert b"".join(image.streaming_content).startswith(b"\x89PNG")
    pdf = client.get(reverse("oversight:case_file", args=[case.pk, files[1].pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf["Content-Disposition"].startswith("attachment")
    # a draft: another street's staff find neither the case nor its files
    other = client_for("community_staff_b")
    assert other.get(reverse("oversight:case_detail", args=[case.pk])).status_code == 404
    assert other.get(reverse("oversight:case_file", args=[case.pk, files[0].pk])).status_code == 404


def test_bad_case_input_is_shown_in_the_form(personas, client_for):
    response = client_for("community_staff").post(reverse("oversight:case_create"), {
        "area": personas.areas["community_a"].code, "title": "标题", "summary": "摘要", "body": BODY,
        "tags": "、".join(f"标签{i}" for i in range(9)), "evidence": "外站 | https://evil.example.com/",
        "upload": [SimpleUploadedFile("x.jpg", b"<script>alert(1)</script>")]})
    body = response.content.decode()
    assert response.status_code == 422
    assert "标签最多 8 个" in body and "不是本平台的页面地址" in body
    assert not CaseStudy.objects.unscoped().exists()


def test_library_filters_by_tag_and_searches_title_summary_and_tags(personas, client_for):
    with scopes_disabled():
        a = write(personas, title="胡同停车协商", summary="楼门长议事", tags="停车治理、协商议事")
        b = write(personas, "community_b", actor=personas.community_staff_b, title="微心愿认领",
                  summary="在职党员认领", tags="双报到、为老服务")
        c = write(personas, title="还在起草", summary="草稿", tags="停车治理")
        for case in (a, b):
            sites.case_publish(actor=personas.district_admin, case=case)
    client = client_for("community_staff_b")   # another street: reads the published ones, not 多福巷's draft
    url = reverse("oversight:case_list")
    everything = client.get(url).content.decode()
    assert "胡同停车协商" in everything and "微心愿认领" in everything and "还在起草" not in everything
    by_tag = client.get(url, {"tag": "停车治理"}).content.decode()
    assert "胡同停车协商" in by_tag and "微心愿认领" not in by_tag
    assert "微心愿认领" in client.get(url, {"q": "为老"}).content.decode()       # a tag
    assert "微心愿认领" in client.get(url, {"q": "在职党员"}).content.decode()   # the summary
    found = client.get(url, {"q": "胡同"}).content.decode()
    assert "胡同停车协商" in found and "微心愿认领" not in found
    assert "没有符合条件的案例" in client.get(url, {"q": "不存在的词"}).content.decode()
    own = client_for("community_staff").get(url, {"tag": "停车治理"}).content.decode()
    assert "还在起草" in own and c.status == CaseStatus.DRAFT


def test_published_case_is_read_but_not_edited_by_other_streets(personas, client_for):
    with scopes_disabled():
        case = write(personas, "community_b", actor=personas.community_staff_b, title="吉祥经验")
        sites.case_publish(actor=personas.district_admin, case=case)
    client = client_for("community_staff")
    page = client.get(reverse("oversight:case_detail", args=[case.pk])).content.decode()
    assert "吉祥经验" in page and reverse("oversight:case_edit", args=[case.pk]) not in page
    assert client.get(reverse("oversight:case_edit", args=[case.pk])).status_code == 403
    assert client.post(reverse("oversight:case_withdraw", args=[case.pk])).status_code == 403
    own = client_for("community_staff_b")
    assert "已入库的案例须先撤回再修改" in own.get(reverse("oversight:case_edit", args=[case.pk])).content.decode()
    refused = own.post(reverse("oversight:case_edit", args=[case.pk]), {"title": "改", "summary": "改", "body": BODY})
    assert refused.status_code == 422
    district = client_for("district_admin")
    district.post(reverse("oversight:case_withdraw", args=[case.pk]), {"note": "需更新数据"})
    assert client.get(reverse("oversight:case_detail", args=[case.pk])).status_code == 404


def test_publish_through_the_page(personas, client_for):
    case = write(personas)
    detail = reverse("oversight:case_detail", args=[case.pk])
    assert reverse("oversight:case_publish", args=[case.pk]) not in client_for("community_staff").get(detail).content.decode()
    assert client_for("community_staff").post(reverse("oversight:case_publish", args=[case.pk])).status_code == 403
    hub = client_for("street_hub")
    assert reverse("oversight:case_publish", args=[case.pk]) in hub.get(detail).content.decode()
    hub.post(reverse("oversight:case_publish", args=[case.pk]))
    with scopes_disabled():
        assert CaseStudy.objects.get(pk=case.pk).status == CaseStatus.PUBLISHED


def test_library_query_count_does_not_grow_with_cases(personas, client_for):
    client = client_for("community_staff")

    def count() -> int:
        client.get(reverse("oversight:case_list"))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("oversight:case_list"), {"q": "停车"}).status_code == 200
        return len(ctx.captured_queries)

    sites.case_publish(actor=personas.street_hub, case=write(personas, title="停车一"))
    one = count()
    for i in range(6):
        sites.case_publish(actor=personas.street_hub, case=write(personas, title=f"停车{i + 2}"))
    assert count() == one


def test_edit_a_draft_replacing_a_file(personas, client_for, django_capture_on_commit_callbacks):
    case = write(personas, files=[SimpleUploadedFile("旧照片.png", png())], tags="停车治理")
    old = CaseFile.objects.unscoped().get(case=case)
    client = client_for("community_staff")
    url = reverse("oversight:case_edit", args=[case.pk])
    form = client.get(url).content.decode()
    assert 'name="remove_files"' in form and "旧照片.png" in form and "停车治理" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"title": "胡同停车协商（修订）", "summary": "摘要", "body": BODY, "tags": "停车治理、共治",
                                     "remove_files": [old.pk], "upload": [SimpleUploadedFile("新纪要.pdf", PDF_BYTES)]})
    assert response.status_code == 302
    with scopes_disabled():
        stored = CaseStudy.objects.get(pk=case.pk)
    assert stored.title == "胡同停车协商（修订）" and stored.tags == ["停车治理", "共治"]
    assert list(CaseFile.objects.unscoped().filter(case=case).values_list("name", flat=True)) == ["新纪要.pdf"]
    assert client.get(reverse("oversight:case_file", args=[case.pk, old.pk])).status_code == 404
