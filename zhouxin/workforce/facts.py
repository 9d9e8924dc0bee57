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


WORKER_FIELDS = ("pk", "hire_date", "education", "has_diploma", "has_degree", "certificate", "entry_grade",
                 "early_promotions_used")


def facts_for(workers) -> list[payrules.WorkerFacts]:
    """Facts of every worker of the queryset `workers` (already scoped by the caller), in 3
    queries of plain rows: no model instances, so a payroll of 10,000 workers reads in well
    under a second.  Each fact's `key` is the worker's id."""
    rows = list(workers.values_list(*WORKER_FIELDS))
    ids = [row[0] for row in rows]
    chosen = workers.order_by().values("pk")  # a subquery, not 10,000 parameters
    posts: dict[int, list] = {pk: [] for pk in ids}
    for worker_id, post_type, title, start, end in (
            PostHolding.objects.unscoped().filter(worker_id__in=chosen).order_by("started_on", "id")
            .values_list("worker_id", "post_type", "title", "started_on", "ended_on").iterator(chunk_size=5000)):
        posts[worker_id].append(payrules.PostHolding(post_type=post_type, title=title, start=start, end=end))
    grades: dict[int, dict] = {pk: {} for pk in ids}
    for worker_id, year, grade in (Assessment.objects.unscoped().filter(worker_id__in=chosen)
                                   .values_list("worker_id", "year", "grade").iterator(chunk_size=5000)):
        grades[worker_id][year] = grade
    return [payrules.WorkerFacts(
        hire_date=hire_date, posts=posts[pk], education=education, has_diploma=has_diploma, has_degree=has_degree,
        certificates=(certificate,) if certificate else (), assessments=grades[pk], entry_grade=entry_grade,
        early_promotions_used=early_used, key=pk,
    ) for pk, hire_date, education, has_diploma, has_degree, certificate, entry_grade, early_used in rows]


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
