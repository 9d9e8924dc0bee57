"""年度考核: the street hub grades its workers within the city's 优秀 quota, all or nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.workforce import assessments
from zhouxin.workforce.models import Assessment
from zhouxin.workforce.policy import ASSESSMENT_KEY

from .promotion_helpers import make_worker


def _grades(year=2025):
    with scopes_disabled():
        return dict(Assessment.objects.unscoped().filter(year=year).values_list("worker__person__name", "grade"))


def test_the_default_rule_is_the_engines_four_grades_and_twenty_percent(personas):
    rule = policy.get(ASSESSMENT_KEY, on=dt.date(2025, 12, 31))
    assert rule == {"grades": ["优秀", "合格", "基本合格", "不合格"], "excellent_max_percent": 20}
    with pytest.raises(ValidationError) as exc:
        policy.policy_set(actor=personas.district_admin, key=ASSESSMENT_KEY, value={"grades": ["优秀", "良好"]},
                          effective_from=dt.date(2027, 1, 1))
    assert "考核等次只能从优秀、合格、基本合格、不合格中选择" in str(exc.value)


def test_single_assessment_is_saved_audited_and_can_be_changed(personas):
    worker = make_worker(personas, "王小红")
    hub = personas.street_hub
    assessments.assess(actor=hub, worker=worker, year=2025, grade="合格", note="按时完成网格任务")
    assessments.assess(actor=hub, worker=worker, year=2025, grade="基本合格")
    assert _grades() == {"王小红": "基本合格"}
    with scopes_disabled():
        entries = list(AuditEntry.objects.filter(action="workforce.assessment.set").order_by("id"))
    assert len(entries) == 2 and entries[1].before["grade"] == "合格" and entries[1].after["grade"] == "基本合格"


def test_bad_input_is_refused_in_chinese_and_changes_nothing(personas):
    worker = make_worker(personas, "李明", hired=dt.date(2024, 3, 1))
    hub = personas.street_hub
    for year, grade, message in ((2025, "良好", "考核等次须为优秀、合格、基本合格、不合格之一"),
                                 (2023, "合格", "2023 年尚未入职"),
                                 (2030, "合格", "考核年度必须在")):
        with pytest.raises(ValidationError) as exc:
            assessments.assess(actor=hub, worker=worker, year=year, grade=grade)
        assert message in str(exc.value)
    assert _grades() == {}


def test_quota_refusal_names_how_many_are_allowed_and_saves_nothing(personas):
    # 东华门街道 has five workers on the roster: 20 % of 5 = 1 优秀 at most.
    workers = [make_worker(personas, f"工作者{i}") for i in range(5)]
    hub = personas.street_hub
    street = personas.areas["street_a"]
    page = {w.pk: "合格" for w in workers} | {workers[0].pk: "优秀", workers[1].pk: "优秀"}
    with pytest.raises(ValidationError) as exc:
        assessments.assess_batch(actor=hub, area=street, year=2025, grades=page)
    assert "东华门街道 2025 年度优秀等次最多 1 人" in str(exc.value) and "将有 2 人" in str(exc.value)
    assert _grades() == {}
    page[workers[1].pk] = "合格"
    assert assessments.assess_batch(actor=hub, area=street, year=2025, grades=page) == 5
    assert sorted(_grades().values()) == ["优秀", "合格", "合格", "合格", "合格"]
    # A single 优秀 beyond the quota is refused too; the grade stays as it was.
    with pytest.raises(ValidationError, match="最多 1 人"):
        assessments.assess(actor=hub, worker=workers[2], year=2025, grade="优秀")
    assert _grades()["工作者2"] == "合格"


def test_the_quota_is_per_street_and_follows_the_citys_rule(personas):
    # 吉祥社区 is in 景山街道: its workers do not count for 东华门街道's quota.
    for i in range(5):
        make_worker(personas, f"景山{i}", area="community_b")
    mine = [make_worker(personas, f"东华门{i}") for i in range(2)]
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key=ASSESSMENT_KEY, value={"excellent_max_percent": 50},
                          city=personas.areas["city"], effective_from=dt.date(2026, 12, 31))
    hub = personas.street_hub
    # 2025: 20 % of 2 = 0; 2026 (the rule in force on 31 December 2026): 50 % of 2 = 1.
    with pytest.raises(ValidationError, match="最多 0 人"):
        assessments.assess(actor=hub, worker=mine[0], year=2025, grade="优秀")
    assessments.assess(actor=hub, worker=mine[0], year=2026, grade="优秀")
    assert _grades(2026) == {"东华门0": "优秀"}


def test_only_the_street_hub_of_the_workers_street_may_assess(personas):
    worker = make_worker(personas, "赵强")
    for persona in ("community_staff", "district_admin", "community_staff_b"):
        with pytest.raises(PermissionDenied):
            assessments.assess(actor=personas.users[persona], worker=worker, year=2025, grade="合格")
    other = make_worker(personas, "钱多", area="community_b")
    with pytest.raises(PermissionDenied):
        assessments.assess(actor=personas.street_hub, worker=other, year=2025, grade="合格")
    # A batch naming a worker of another street is refused as a whole.
    with pytest.raises(ValidationError, match="所选人员不都属于东华门街道"):
        assessments.assess_batch(actor=personas.street_hub, area=personas.areas["street_a"], year=2025,
                                 grades={worker.pk: "合格", other.pk: "合格"})
    assert _grades() == {}


def test_the_page_shows_the_quota_and_saves_all_grades(personas, client_for):
    workers = [make_worker(personas, f"页面{i}") for i in range(5)]
    hub = client_for("street_hub")
    url = reverse("workforce:assessments")
    page = hub.get(url, {"year": 2025}).content.decode()
    assert "页面0" in page and "在册 5 人" in page and "最多 1 人" in page
    data = {"year": 2025, "area": personas.areas["street_a"].code} | {f"grade_{w.pk}": "优秀" for w in workers[:2]}
    page = hub.post(url, data, follow=True).content.decode()
    assert "最多 1 人" in page and _grades() == {}
    data[f"grade_{workers[1].pk}"] = "合格"
    page = hub.post(url, data, follow=True).content.decode()
    assert "已保存 2025 年度考核，2 人的等次有更新。" in page
    assert _grades() == {"页面0": "优秀", "页面1": "合格"}
    assert client_for("community_staff").get(url).status_code == 403
