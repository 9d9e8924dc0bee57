"""The demo of reviews, demonstration sites and cases: written through the services, realistic,
and written once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import resolve, reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import demo_reviews
from zhouxin.oversight.choices import CaseStatus, ReviewGrade, ReviewStatus, SiteStatus
from zhouxin.oversight.models import CaseStudy, DemoSite, ReviewScore, SecretaryReview


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _counts() -> dict:
    with scopes_disabled():
        counts = {m.__name__: m.objects.unscoped().count()
                  for m in (SecretaryReview, ReviewScore, DemoSite, CaseStudy)}
    counts.update(users=User.objects.count(), audit=AuditEntry.objects.count())
    return counts


def test_demo_reviews_sites_and_cases(personas, client_for):
    added = demo_reviews.load(personas.areas["dongcheng"])
    assert added == {"reviews": 2, "scores": 3, "sites": 2, "cases": 4}
    last_year = timezone.localdate().year - 1
    with scopes_disabled():
        community = SecretaryReview.objects.get(area=personas.areas["community_a"], year=last_year)
        street = SecretaryReview.objects.get(area=personas.areas["street_a"], year=last_year)
        site_rows = list(DemoSite.objects.order_by("year"))
        cases = {c.title: c for c in CaseStudy.objects.all()}
    # (92 + 88.5 + 90) / 3 = 90.17 → 好
    assert community.status == ReviewStatus.FINAL and community.score == Decimal("90.17")
    assert community.grade == ReviewGrade.GOOD and len(community.report) > 200 and community.figures
    assert street.status == ReviewStatus.SUBMITTED and not ReviewScore.objects.unscoped().filter(review=street).exists()
    assert [s.status for s in site_rows] == [SiteStatus.APPROVED, SiteStatus.NOMINATED]
    assert sorted(c.status for c in cases.values()) == sorted([CaseStatus.PUBLISHED] * 3 + [CaseStatus.DRAFT])
    parking = cases["议事厅里解难题：胡同停车“一位难求”的协商解法"]
    assert parking.site == site_rows[0] and "停车治理" in parking.tags and parking.evidence
    for case in cases.values():
        assert case.tags and all(resolve(e["url"].split("?")[0]) for e in case.evidence)
    # the demo's district admin is asked to score the street secretary
    page = client_for("district_admin").get(reverse("oversight:review_list")).content.decode()
    assert "待您评分" in page and "已定等次" in page
    # the library is shared: 景山街道's staff read the published cases of 东华门街道
    library = client_for("community_staff_b").get(reverse("oversight:case_list")).content.decode()
    assert "在职党员“双报到”认领微心愿" in library and "党群服务中心错时延时开放" not in library

    before = _counts()
    assert demo_reviews.load(personas.areas["dongcheng"]) == {"reviews": 0, "scores": 0, "sites": 0, "cases": 0}
    assert _counts() == before


def test_a_district_without_logins_gets_nothing(personas):
    assert demo_reviews.load(personas.areas["xicheng"]) == {"reviews": 0, "scores": 0, "sites": 0, "cases": 0}
    assert not SecretaryReview.objects.unscoped().exists()


def test_every_page_renders_with_the_demo(personas, client_for):
    demo_reviews.load(personas.areas["dongcheng"])
    with scopes_disabled():
        review_ids = list(SecretaryReview.objects.values_list("pk", flat=True))
        site_ids = list(DemoSite.objects.values_list("pk", flat=True))
        case_ids = list(CaseStudy.objects.filter(area__code__startswith=personas.areas["street_a"].code)
                        .values_list("pk", flat=True))
    pages = [reverse("oversight:review_list"), reverse("oversight:site_list"), reverse("oversight:case_list"),
             reverse("oversight:case_create"), f"{reverse('oversight:case_list')}?q=停车&status=published",
             *[reverse("oversight:review_detail", args=[pk]) for pk in review_ids],
             *[reverse("oversight:site_detail", args=[pk]) for pk in site_ids],
             *[reverse("oversight:case_detail", args=[pk]) for pk in case_ids]]
    for name in ("district_admin", "street_hub"):
        client = client_for(name)
        for url in pages:
            assert client.get(url).status_code == 200, (name, url)
    hub = client_for("street_hub")
    assert hub.get(reverse("oversight:review_create")).status_code == 200
    assert hub.get(reverse("oversight:site_nominate")).status_code == 200
    staff = client_for("community_staff")
    with scopes_disabled():
        street_review = SecretaryReview.objects.get(area=personas.areas["street_a"])
        draft = CaseStudy.objects.get(status=CaseStatus.DRAFT)
    assert hub.get(reverse("oversight:review_report", args=[street_review.pk])).status_code == 200  # frozen: read only
    assert hub.get(reverse("oversight:case_edit", args=[draft.pk])).status_code == 200
    assert staff.get(reverse("oversight:site_nominate")).status_code == 200
