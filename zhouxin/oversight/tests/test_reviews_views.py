"""Secretaries' review pages: the figures with their links and the "no need to fill in" notice,
the report page (no figure can be typed), scoring and finalising as the people who do it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from zhouxin.core import indicators
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import reviews
from zhouxin.oversight.choices import ReviewStatus
from zhouxin.oversight.models import ReviewScore, SecretaryReview

from .test_reviews import FAKE, LAST_YEAR, REPORT, install_fake, open_review, reviewer, submitted

NOTICE = "以下数据由平台根据业务记录自动生成，无需填报"


@pytest.fixture
def fake():
    yield install_fake()
    indicators.unregister(FAKE)


def reload(review) -> SecretaryReview:
    with scopes_disabled():
        return SecretaryReview.objects.get(pk=review.pk)


def test_review_page_shows_each_figure_with_its_link(personas, fake, client_for):
    fake.values[personas.areas["community_a"].pk] = 1234
    review = open_review(personas)
    page = client_for("community_staff").get(reverse("oversight:review_detail", args=[review.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert NOTICE in body
    assert "测试事项办结数" in body and "1,234" in body
    assert f'<a href="/fake/records/110101001001/{LAST_YEAR}/">查看明细</a>' in body
    assert reverse("oversight:review_report", args=[review.pk]) in body  # the secretary may write
    assert reverse("oversight:review_refresh", args=[review.pk]) in body


def test_list_shows_reviews_in_scope_and_what_awaits_my_score(personas, fake, client_for):
    submitted(personas)
    with scopes_disabled():
        open_review(personas, "community_b", actor=personas.district_admin, secretary="刘吉祥")
    hub = client_for("street_hub").get(reverse("oversight:review_list")).content.decode()
    assert "多福巷社区" in hub and "待您评分" in hub and "吉祥社区" not in hub
    staff = client_for("community_staff").get(reverse("oversight:review_list")).content.decode()
    assert "多福巷社区" in staff and "待您评分" not in staff
    district = client_for("district_admin").get(f"{reverse('oversight:review_list')}?status=draft").content.decode()
    assert "吉祥社区" in district and "多福巷社区" not in district


def test_open_a_review_through_the_page(personas, fake, client_for):
    client = client_for("street_hub")
    assert "多福巷社区" in client.get(reverse("oversight:review_create")).content.decode()
    response = client.post(reverse("oversight:review_create"),
                           {"area": personas.areas["community_a"].code, "year": LAST_YEAR, "secretary": "张丽华"})
    with scopes_disabled():
        review = SecretaryReview.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("oversight:review_detail", args=[review.pk])
    again = client.post(reverse("oversight:review_create"),
                        {"area": personas.areas["community_a"].code, "year": LAST_YEAR, "secretary": "张丽华"})
    assert again.status_code == 422 and "已有述职评议" in again.content.decode()
    own = client.post(reverse("oversight:review_create"),
                      {"area": personas.areas["street_a"].code, "year": LAST_YEAR, "secretary": "李淑珍"})
    assert own.status_code == 422 and "请选择您可以发起述职评议的街道或社区" in own.content.decode()
    other = client.post(reverse("oversight:review_create"),
                        {"area": personas.areas["community_b"].code, "year": LAST_YEAR, "secretary": "某"})
    assert other.status_code == 404
    assert SecretaryReview.objects.unscoped().count() == 1


def test_the_report_page_saves_and_submits_and_no_figure_can_be_typed(personas, fake, client_for):
    area = personas.areas["community_a"]
    fake.values[area.pk] = 7
    review = open_review(personas)
    client = client_for("community_staff")
    url = reverse("oversight:review_report", args=[review.pk])
    page = client.get(url).content.decode()
    assert NOTICE in page and 'name="report"' in page and f'name="{FAKE}"' not in page
    saved = client.post(url, {"report": REPORT, FAKE: "999", "figures": '[{"name": "x"}]'})
    assert saved.status_code == 302
    stored = reload(review)
    assert stored.report == REPORT and stored.status == ReviewStatus.DRAFT
    assert [f["value"] for f in stored.figures if f["name"] == FAKE] == ["7"]
    short = client.post(url, {"report": "太短", "and_submit": "1"})
    assert short.status_code == 422 and "至少" in short.content.decode()
    assert reload(review).status == ReviewStatus.DRAFT
    done = client.post(url, {"report": REPORT, "and_submit": "1"})
    assert done.status_code == 302 and reload(review).status == ReviewStatus.SUBMITTED
    after = client.get(reverse("oversight:review_detail", args=[review.pk])).content.decode()
    assert "已按述职时的业务记录冻结" in after and reverse("oversight:review_refresh", args=[review.pk]) not in after


def test_others_cannot_open_the_report_page(personas, fake, client_for):
    review = open_review(personas)
    assert client_for("street_hub").get(reverse("oversight:review_report", args=[review.pk])).status_code == 403
    assert client_for("community_staff_b").get(reverse("oversight:review_report", args=[review.pk])).status_code == 404


def test_refresh_button_after_submit_changes_nothing(personas, fake, client_for):
    area = personas.areas["community_a"]
    fake.values[area.pk] = 3
    review = submitted(personas)
    fake.values[area.pk] = 4
    response = client_for("street_hub").post(reverse("oversight:review_refresh", args=[review.pk]), follow=True)
    assert "冻结" in response.content.decode()
    assert [f["value"] for f in reload(review).figures if f["name"] == FAKE] == ["3"]


def test_score_and_finalise_through_the_page(personas, fake, client_for):
    review = submitted(personas)
    detail = reverse("oversight:review_detail", args=[review.pk])
    hub = client_for("street_hub")
    assert 'name="s-score"' in hub.get(detail).content.decode()
    bad = hub.post(reverse("oversight:review_score", args=[review.pk]), {"s-score": "101", "s-comment": ""})
    assert bad.status_code == 422 and "评分应在 0 到 100 之间" in bad.content.decode()
    ok = hub.post(reverse("oversight:review_score", args=[review.pk]), {"s-score": "91", "s-comment": "抓党建促治理有成效"})
    assert ok.status_code == 302
    assert client_for("community_staff").post(reverse("oversight:review_score", args=[review.pk]),
                                              {"s-score": "100"}).status_code == 403
    client_for("district_admin").post(reverse("oversight:review_score", args=[review.pk]), {"s-score": "89"})
    reviews.review_score(actor=reviewer(personas), review=review, score=Decimal("90"))
    # the secretary sees how many scored, not who gave what
    secretary_view = client_for("community_staff").get(detail).content.decode()
    assert "3 人（至少 3 人）" in secretary_view and "抓党建促治理有成效" not in secretary_view
    assert "抓党建促治理有成效" in hub.get(detail).content.decode()
    assert client_for("community_staff").post(reverse("oversight:review_finalise", args=[review.pk])).status_code == 403
    final = hub.post(reverse("oversight:review_finalise", args=[review.pk]), follow=True)
    assert "已确定等次：好（90.00 分）" in final.content.decode()
    stored = reload(review)
    assert stored.status == ReviewStatus.FINAL and stored.grade == "good"
    assert ReviewScore.objects.unscoped().count() == 3


def test_finalise_too_early_says_how_many_are_missing(personas, fake, client_for):
    review = submitted(personas)
    client = client_for("street_hub")
    client.post(reverse("oversight:review_score", args=[review.pk]), {"s-score": "80"})
    page = client.post(reverse("oversight:review_finalise", args=[review.pk]), follow=True).content.decode()
    assert "至少须有 3 位评议人评分才能确定等次，现有 1 位" in page
    assert reload(review).status == ReviewStatus.SUBMITTED


def test_list_query_count_does_not_grow_with_rows(personas, fake, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("street_hub")

    def count() -> int:
        client.get(reverse("oversight:review_list"))  # session and caches warm
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("oversight:review_list")).status_code == 200
        return len(ctx.captured_queries)

    open_review(personas, "community_a")
    one = count()
    for i in range(1, 6):
        open_review(personas, ("community_a", "community_a2")[i % 2], year=LAST_YEAR - i)
    assert count() == one
