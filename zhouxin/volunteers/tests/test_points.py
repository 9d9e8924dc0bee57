"""The points ledger follows the rule version in force on the day the service was done: a new
version applies from its date on, service before it keeps the old points, and each piece of
service is counted once.  Verified hours merge overlapping intervals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.scoping import scopes_disabled
from zhouxin.volunteers import hours, points
from zhouxin.volunteers.choices import PointSource
from zhouxin.volunteers.models import PointEntry
from zhouxin.volunteers.policy import POINTS_KEY


def test_points_follow_the_rule_version_in_force_on_the_day_of_service(personas):
    member = personas.people["member_a"]
    today = timezone.localdate()
    change = today + dt.timedelta(days=10)
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key=POINTS_KEY, effective_from=change,
                          value={"per_hour": 3, "per_wish": 10})
        policy.invalidate()
        before = points.award(person=member, source=PointSource.HOURS, source_id=1, on=today, quantity=Decimal("2.5"),
                              rule="per_hour")
        after = points.award(person=member, source=PointSource.HOURS, source_id=2, on=change, quantity=Decimal("2.5"),
                             rule="per_hour")
        wish = points.award(person=member, source=PointSource.WISH, source_id=7, on=change + dt.timedelta(days=1),
                            rule="per_wish")
        again = points.award(person=member, source=PointSource.HOURS, source_id=2, on=change, quantity=5,
                             rule="per_hour")
        assert (before.points, after.points, wish.points) == (Decimal("2.5"), Decimal("7.5"), Decimal("10.0"))
        assert before.rule_version == "default" and after.rule_version == f"national:{change.isoformat()}"
        assert again is None and PointEntry.objects.unscoped().filter(person=member).count() == 3
        assert points.total([member.pk]) == {member.pk: Decimal("20.0")}
        assert points.total([member.pk], start=change) == {member.pk: Decimal("17.5")}


def test_overlapping_intervals_are_counted_once():
    t = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    h = dt.timedelta(hours=1)
    assert hours.merged_minutes([(t, t + 2 * h), (t + h, t + 3 * h), (t + 5 * h, t + 6 * h)]) == 240
    assert hours.merged_minutes([(t, t + 3 * h), (t + h, t + 2 * h)]) == 180  # one inside another
    assert hours.merged_minutes([(t, t + h), (t + h, t + 2 * h)]) == 120  # touching, not overlapping
    assert hours.merged_minutes([]) == 0
    assert hours.to_hours(175) == Decimal("2.9")
