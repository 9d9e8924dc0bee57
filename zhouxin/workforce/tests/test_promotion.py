"""晋级: the yearly run computes each worker's grade before and after 1 January with the engine."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.workforce import assessments, promotion
from zhouxin.workforce.choices import RunStatus
from zhouxin.workforce.models import PromotionResult, PromotionRun

from .promotion_helpers import make_worker


def _results(run):
    with scopes_disabled():
        return {r.worker.person.name: (r.grade_before, r.grade_after)
                for r in PromotionResult.objects.unscoped().filter(run=run).select_related("worker__person")}


def test_three_counted_years_and_a_pass_promote_from_january(personas):
    # Default rule: 其他 posts start at grade 1 (range 1–12), 大专 gives no credit, one grade up per
    # 3 years (3 × 365 = 1095 days) with a passing year (优秀 or 合格).  Hired 2021-01-01:
    # 2021 (365 days) + 2022 (365) = 730 days on 31 Dec 2023 is not counted yet → grade 1;
    # with 2023 (365) the clock reaches 1095 and 2023 is 合格 → grade 2 from 1 January 2024.
    make_worker(personas, "孙合格", grades={2021: "合格", 2022: "合格", 2023: "合格"})
    # A 不合格 year does not count: 2021 + 2023 = 730 days by the end of 2023 → still grade 1.
    make_worker(personas, "周延迟", grades={2021: "合格", 2022: "不合格", 2023: "合格"})
    # Hired in 2022 (365 + 365 = 730 days by the end of 2023): not yet due.
    make_worker(personas, "吴新人", hired=dt.date(2022, 1, 1), grades={2022: "合格", 2023: "合格"})
    run = promotion.promotion_run(actor=personas.street_hub, area=personas.areas["street_a"], year=2024)
    assert run.status == RunStatus.DRAFT and run.workers == 3 and run.promoted == 1
    assert _results(run) == {"孙合格": (1, 2), "周延迟": (1, 1), "吴新人": (1, 1)}
    with scopes_disabled():
        lines = PromotionResult.objects.unscoped().get(run=run, worker__person__name="孙合格").explanation
        delayed = PromotionResult.objects.unscoped().get(run=run, worker__person__name="周延迟").explanation
    assert "2023 年考核合格，工作年限满 3 年：2024-01-01 起晋升 1 级。" in lines
    assert "2022 年考核不合格：该年不计入工作年限。" in delayed


def test_a_failed_year_delays_the_promotion_by_a_year(personas):
    # 2021 合格, 2022 不合格 (not counted), 2023 合格, 2024 合格: 365 + 365 + 366 (2024 is a leap year)
    # = 1096 ≥ 1095 days by the end of 2024 → grade 2 from 1 January 2025, a year after the others.
    make_worker(personas, "周延迟", grades={2021: "合格", 2022: "不合格", 2023: "合格", 2024: "合格"})
    run = promotion.promotion_run(actor=personas.street_hub, area=personas.areas["street_a"], year=2025)
    assert _results(run) == {"周延迟": (1, 2)}


def test_a_rerun_replaces_the_draft_and_confirm_freezes_it(personas):
    worker = make_worker(personas, "郑复核", grades={2021: "合格", 2022: "合格"})
    hub, street = personas.street_hub, personas.areas["street_a"]
    first = promotion.promotion_run(actor=hub, area=street, year=2024)
    assert _results(first) == {"郑复核": (1, 1)}  # 2023 not assessed yet: the promotion waits
    assessments.assess(actor=hub, worker=worker, year=2023, grade="合格")
    # The draft is stale: confirming it is refused until it is run again.
    with pytest.raises(ValidationError, match="请重新试算后再确认"):
        promotion.promotion_confirm(actor=hub, run=first)
    second = promotion.promotion_run(actor=hub, area=street, year=2024)
    with scopes_disabled():
        assert second.pk == first.pk and PromotionRun.objects.unscoped().count() == 1
    assert _results(second) == {"郑复核": (1, 2)}
    promotion.promotion_confirm(actor=hub, run=second)
    second.refresh_from_db()
    assert second.status == RunStatus.CONFIRMED
    with pytest.raises(ValidationError, match="已确认"):
        promotion.promotion_run(actor=hub, area=street, year=2024)
    with pytest.raises(ValidationError, match="已确认"):
        promotion.promotion_confirm(actor=hub, run=second)
    # The 2023 assessment is now final.
    with pytest.raises(ValidationError, match="2024 年晋级已确认"):
        assessments.assess(actor=hub, worker=worker, year=2023, grade="优秀")
    with scopes_disabled():
        actions = list(AuditEntry.objects.filter(action__startswith="workforce.promotion.")
                       .order_by("id").values_list("action", flat=True))
    assert actions == ["workforce.promotion.run", "workforce.promotion.run", "workforce.promotion.confirm"]


def test_community_staff_and_other_streets_cannot_run_it(personas, client_for):
    make_worker(personas, "冯在岗")
    for persona in ("community_staff", "community_staff_b", "outsider"):
        with pytest.raises(PermissionDenied):
            promotion.promotion_run(actor=personas.users[persona], area=personas.areas["street_a"], year=2024)
    staff = client_for("community_staff")
    assert staff.post(reverse("workforce:promotion_run"), {"year": 2024}).status_code == 403
    assert staff.get(reverse("workforce:promotion")).status_code == 403
    with scopes_disabled():
        assert not PromotionRun.objects.unscoped().exists()


def test_the_pages_run_list_explain_and_confirm(personas, client_for):
    make_worker(personas, "孙合格", grades={2021: "合格", 2022: "合格", 2023: "合格"})
    hub = client_for("street_hub")
    page = hub.post(reverse("workforce:promotion_run"), {"year": 2024}, follow=True).content.decode()
    assert "已试算 2024 年晋级：1 人，其中晋级 1 人。" in page
    assert "孙合格" in page and "1 → 2" in page and "查看说明" in page
    with scopes_disabled():
        run = PromotionRun.objects.unscoped().get()
        result = PromotionResult.objects.unscoped().get()
    detail = hub.get(reverse("workforce:promotion_result", args=[result.pk])).content.decode()
    assert "2023 年考核合格，工作年限满 3 年：2024-01-01 起晋升 1 级。" in detail
    page = hub.post(reverse("workforce:promotion_confirm", args=[run.pk]), follow=True).content.decode()
    assert "2024 年晋级已确认。" in page and "重新试算" not in page
    # The district admin sees the street's result; another street's hub-less staff do not.
    assert client_for("district_admin").get(reverse("workforce:promotion_result", args=[result.pk])).status_code == 200
