"""Workers for the assessment and promotion tests (made with the ORM on new people)."""

import datetime as dt

from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.workforce.models import Assessment, PostHolding, Worker


def make_worker(personas, name, area="community_a", hired=dt.date(2021, 1, 1), post=("其他", "网格员"),
                grades=None, **extra):
    """A worker in a post since `hired`; `grades` year → grade are recorded by the street hub."""
    with scopes_disabled():
        person = Person.objects.unscoped().create(name=name, home_area=personas.areas[area])
        worker = Worker.objects.unscoped().create(person=person, community=personas.areas[area], hire_date=hired,
                                                  **extra)
        PostHolding.objects.unscoped().create(worker=worker, post_type=post[0], title=post[1], started_on=hired)
        for year, grade in (grades or {}).items():
            Assessment.objects.unscoped().create(worker=worker, year=year, grade=grade,
                                                 decided_by=personas.users["street_hub"], decided_at=timezone.now())
    return worker
