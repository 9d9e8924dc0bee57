"""Changing a rating weight creates a new policy version and re-rates from its effective date on;
earlier ratings stay exactly as they were (issue 11 acceptance).  The task runs in django-tasks-db's
own worker after the policy change commits."""

from __future__ import annotations

import pytest
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.oversight import ratings
from zhouxin.oversight.models import Rating, Rectification
from zhouxin.oversight.policy import RATING_KEY

from .helpers_ratings import DUOFU, JIXIANG, YINZHA, D, fake_board, last_month, this_month, today

pytestmark = pytest.mark.django_db(transaction=True)

RECOMPUTE = "zhouxin.oversight.tasks.recompute_ratings"
FIELDS = ("area_id", "period", "period_kind", "period_start", "period_end", "community_type", "score", "stars",
          "components", "rank", "rank_of", "peer_rank", "peer_count", "policy_version_id", "weights", "computed_at")


@pytest.fixture
def board():
    yield from fake_board()


def run_worker() -> None:
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
           max_tasks=None, worker_id="pytest-worker", excluded_queue_names=[]).run()


def snapshot(period) -> list[dict]:
    return list(Rating.objects.unscoped().filter(period=period.key).order_by("area_id").values(*FIELDS))


def test_a_new_weight_rerates_from_its_effective_date_and_leaves_earlier_ratings_unchanged(personas, board):
    board.set("dispatch.composite", {DUOFU: D("0.9"), YINZHA: D("0.6"), JIXIANG: D("0.7")})
    board.set("volunteers.hours", {DUOFU: 10, YINZHA: 40, JIXIANG: 20})
    board.set("workforce.secretary_vacancy_days", {JIXIANG: 95})
    district, admin = personas.areas["dongcheng"], personas.district_admin
    ratings.rate(district, last_month(), actor=admin)
    ratings.rate(district, this_month(), actor=admin)
    earlier = snapshot(last_month())
    earlier_flags = list(Rectification.objects.unscoped().filter(period=last_month().key).values())
    duofu_now = Rating.objects.unscoped().get(area__code=DUOFU, period=this_month().key)
    # defaults: (90 × 0.40 + 25 × 0.15) ÷ 0.55
    assert duofu_now.score == D("72.27") and duofu_now.policy_version is None

    version = policy.policy_set(actor=admin, key=RATING_KEY, value={"w_volunteers_hours": "0.45"},
                                effective_from=today(), city=personas.areas["city"], note="加大志愿服务权重")
    queued = DBTaskResult.objects.filter(task_path=RECOMPUTE)
    assert queued.count() == 1 and queued.get().args_kwargs["kwargs"] == {"since": today().isoformat()}
    run_worker()
    assert queued.get().status == "SUCCESSFUL"

    current = {r.area.code: r for r in Rating.objects.unscoped().filter(period=this_month().key).select_related("area")}
    assert all(r.policy_version_id == version.pk for r in current.values())
    assert current[DUOFU].weights["volunteers.hours"] == "0.45"
    assert current[DUOFU].score == D("55.59")        # (90 × 0.40 + 25 × 0.45) ÷ 0.85
    assert current[YINZHA].score == D("81.18")       # (60 × 0.40 + 100 × 0.45) ÷ 0.85
    assert current[YINZHA].rank == 1 and current[DUOFU].rank == 3

    assert snapshot(last_month()) == earlier         # byte for byte: score, weights, version, components, time
    assert list(Rectification.objects.unscoped().filter(period=last_month().key).values()) == earlier_flags
    runs = AuditEntry.objects.filter(action="oversight.rating.run").order_by("id")
    assert runs.count() == 3 and runs.last().actor_id is None and runs.last().after["period"] == this_month().key


def test_a_change_effective_later_leaves_the_current_period_to_its_own_rule(personas, board):
    """A version taking effect after this month's last day re-rates nothing rated so far."""
    import datetime as dt

    board.set("dispatch.composite", {DUOFU: D("0.9")})
    district = personas.areas["dongcheng"]
    ratings.rate(district, this_month())
    before = snapshot(this_month())
    policy.policy_set(actor=personas.district_admin, key=RATING_KEY, value={"w_dispatch_composite": "0.9"},
                      effective_from=this_month().end + dt.timedelta(days=1), city=personas.areas["city"])
    run_worker()
    assert snapshot(this_month()) == before
