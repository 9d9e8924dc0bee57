"""Two units claiming the same need at once: exactly one succeeds (issue 6 acceptance)."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import NeedStatus
from zhouxin.cobuild.models import Claim

from .helpers import need, resource, unit_with_liaison


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "claims cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_units_claiming_one_need_at_once_exactly_one_wins(personas):
    posted = need(personas)
    unit_b, liaison_b = unit_with_liaison(personas, "东城区第二医院", "community_a2", "liaison_b")
    contenders = [(personas.unit_liaison, resource(personas)),
                  (liaison_b, resource(personas, owner=unit_b, actor=liaison_b))]
    barrier = threading.Barrier(len(contenders))
    outcomes: list[str] = []

    def claim(actor, offered):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)  # both transactions are open before either claims
                services.claim_create(actor=actor, need=posted, resource=offered)
                time.sleep(0.3)  # hold the row so the other claim runs into it before commit
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim, args=pair) for pair in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["won", "该需求已被其他单位认领或不再接受认领。"]
    assert Claim.objects.unscoped().filter(need=posted).count() == 1
    posted.refresh_from_db()
    assert posted.status == NeedStatus.CLAIMED
