"""Two approved plans on one fund, together more than its balance, disbursed at the same moment
from two threads (issue 9 acceptance): exactly one is paid, the other is refused as an
overdraft, the fund never goes below zero and the ledger's chain still holds."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from zhouxin.funds import ledger, plans
from zhouxin.funds.choices import EntryKind, PlanStatus
from zhouxin.funds.models import Fund, LedgerEntry, SpendingPlan

from .helpers_funds import make_fund

D = Decimal


def _two_approved_plans(personas):
    """A fund of ¥100,000.00 and two approved plans of ¥70,000.00 and ¥40,000.00 on it."""
    fund = make_fund(personas, sources={"city": D("50000.00"), "district": D("50000.00")})
    approved = []
    for title, amount in (("楼院环境整治", "70000.00"), ("为老服务设施", "40000.00")):
        plan = plans.plan_propose(actor=personas.community_staff, fund=fund, title=title, purpose="测试",
                                  category="社区环境整治", amount=D(amount))
        # The threshold is crossed, so both went through 四议; recorded here in order.
        for step, figures in (("party_proposal", (7, 7, 7)), ("joint_discussion", (11, 10, 9)),
                              ("members_review", (30, 20, 16)), ("residents_decision", (50, 26, 14))):
            due, present, votes = figures
            plans.deliberation_record(actor=personas.community_staff, plan=plan, step=step,
                                      held_on=timezone.localdate(), due=due, present=present, votes_for=votes)
        plans.plan_submit(actor=personas.community_staff, plan=plan)
        plans.plan_review(actor=personas.street_hub, plan=plan, approve=True, note="同意")
        approved.append(plan)
    return fund, approved


def _race(personas, contenders, *, hold: bool):
    """Disburse each plan in full from its own thread (its own database connection), released
    together by a barrier.  With `hold`, each thread opens its transaction first and keeps it
    open a moment after paying, so the two transactions overlap (PostgreSQL)."""
    barrier = threading.Barrier(len(contenders))
    outcomes: dict[int, str] = {}

    def pay(plan):
        try:
            fresh = SpendingPlan.objects.unscoped().get(pk=plan.pk)
            if hold:
                with transaction.atomic():
                    barrier.wait(timeout=10)  # both transactions are open before either pays
                    plans.plan_disburse(actor=personas.street_hub, plan=fresh, amount=fresh.amount, payee="某公司")
                    time.sleep(0.3)  # keep the fund row locked so the other runs into it
            else:
                barrier.wait(timeout=10)
                plans.plan_disburse(actor=personas.street_hub, plan=fresh, amount=fresh.amount, payee="某公司")
            outcomes[plan.pk] = "paid"
        except ValidationError as exc:
            outcomes[plan.pk] = " ".join(exc.messages)
        except BaseException as exc:  # pragma: no cover - shown in the assertion
            outcomes[plan.pk] = f"error: {exc!r}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(plan,)) for plan in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _assert_exactly_one_paid(fund, contenders, outcomes):
    results = sorted(outcomes.values(), key=lambda text: text != "paid")
    assert len(results) == 2 and results[0] == "paid", outcomes
    assert "不得透支" in results[1], outcomes
    winner = next(p for p in contenders if outcomes[p.pk] == "paid")
    loser = next(p for p in contenders if outcomes[p.pk] != "paid")
    fund = Fund.objects.unscoped().get(pk=fund.pk)
    assert fund.balance == D("100000.00") - winner.amount
    assert fund.balance >= 0
    assert not LedgerEntry.objects.unscoped().filter(fund=fund, balance__lt=0).exists()
    paid = LedgerEntry.objects.unscoped().filter(fund=fund, kind=EntryKind.DISBURSEMENT)
    assert list(paid.values_list("plan_id", "amount")) == [(winner.pk, -winner.amount)]
    winner, loser = (SpendingPlan.objects.unscoped().get(pk=p.pk) for p in (winner, loser))
    assert (winner.status, winner.disbursed) == (PlanStatus.DISBURSED, winner.amount)
    assert (loser.status, loser.disbursed) == (PlanStatus.APPROVED, D("0.00"))
    assert ledger.verify() == []


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "open transactions cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_disbursements_overspending_a_fund_at_once_exactly_one_is_paid(personas, round_):
    fund, contenders = _two_approved_plans(personas)
    outcomes = _race(personas, contenders, hold=True)
    _assert_exactly_one_paid(fund, contenders, outcomes)


@pytest.mark.django_db(transaction=True)
def test_two_disbursements_released_together_exactly_one_is_paid(personas):
    """The same race on any database: released together, each in its own transaction (on SQLite
    the second waits for the database lock and then sees the first one's balance)."""
    fund, contenders = _two_approved_plans(personas)
    outcomes = _race(personas, contenders, hold=False)
    _assert_exactly_one_paid(fund, contenders, outcomes)
