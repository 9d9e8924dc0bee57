"""From the roster (models) to the pay engine (payrules): a worker's facts and the pay rule of an area.

    facts_of(worker, assessments=None, posts=None)  one worker's payrules.WorkerFacts
    facts_for(workers)                               many workers' facts in 3 queries
    rule_for(area)                                   day → the "workforce.pay" rule of the area's city
"""

from __future__ import annotations

from django.db.models import Prefetch

from zhouxin.core import policy

from . import payrules
from .models import Assessment, PostHolding
from .policy import PAY_KEY


def _holding(post) -> payrules.PostHolding:
    return payrules.PostHolding(post_type=post.post_type, title=post.title, start=post.started_on, end=post.ended_on)


def facts_of(worker, assessments=None, posts=None) -> payrules.WorkerFacts:
    """The facts the pay engine needs about `worker`.  `assessments` and `posts` (model rows)
    default to the worker's own (prefetched ones are used when present)."""
    if posts is None:
        posts = worker.posts.all()
    if assessments is None:
        assessments = worker.assessments.all()
    return payrules.WorkerFacts(
        hire_date=worker.hire_date,
        posts=[_holding(p) for p in posts],
        education=worker.education,
        has_diploma=worker.has_diploma,
        has_degree=worker.has_degree,
        certificates=(worker.certificate,) if worker.certificate else (),
        assessments={a.year: a.grade for a in assessments},
        entry_grade=worker.entry_grade,
        early_promotions_used=worker.early_promotions_used,
        key=worker.pk,
    )


def with_facts(workers):
    """The queryset with what facts_of needs prefetched (posts and assessments: 2 more queries)."""
    return workers.select_related("person", "community").prefetch_related(
        Prefetch("posts", queryset=PostHolding.objects.unscoped().order_by("started_on", "id")),
        Prefetch("assessments", queryset=Assessment.objects.unscoped().order_by("year", "id")),
    )


def facts_for(workers) -> list[payrules.WorkerFacts]:
    """Facts of every worker of the queryset `workers` (already scoped by the caller), 3 queries."""
    return [facts_of(w) for w in with_facts(workers)]


def city_of(area):
    """The city-level ancestor of `area` (the pay rule is per city), or None."""
    from zhouxin.orgs.choices import AreaLevel

    node = area
    while node is not None and node.level != AreaLevel.CITY:
        node = node.parent
    return node


def rule_for(area):
    """A callable day → the "workforce.pay" rule in force that day for the city of `area`."""
    city = city_of(area)
    city_id = city.pk if city is not None else None
    return lambda day: policy.get(PAY_KEY, city=city_id, on=day)
