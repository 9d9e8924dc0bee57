"""Background tasks of oversight (django-tasks, database backend; worker: `manage.py db_worker`).

Thin wrappers: the work lives in ratings.py.
"""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from zhouxin.core.scoping import scopes_disabled


@task()
def rate_district(district_code: str, period: str, actor_id: int | None = None) -> dict:
    """Rate one district's communities and streets for one period (started from the ratings page)."""
    from zhouxin.core.models import User
    from zhouxin.orgs.models import Area

    from . import ratings

    with scopes_disabled():
        actor = User.objects.get(pk=actor_id) if actor_id is not None else None
        district = Area.objects.unscoped().get(code=district_code)
        return ratings.rate(district, period, actor=actor).as_dict()


@task()
def recompute_ratings(since: str) -> dict:
    """Re-rate every rated period whose last day is on or after `since` (a new rating rule)."""
    from . import ratings

    with scopes_disabled():
        results = ratings.recompute_from(dt.date.fromisoformat(since))
    return {"since": since, "runs": [r.as_dict() for r in results]}
