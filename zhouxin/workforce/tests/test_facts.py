"""The roster rows become the pay engine's facts; the pay rule is the area's city's."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.workforce import payrules
from zhouxin.workforce.facts import city_of, facts_for, facts_of, rule_for
from zhouxin.workforce.models import Assessment, PostHolding, Worker


def _worker(personas, name, area="community_a", **extra):
    with scopes_disabled():
        person = Person.objects.unscoped().create(name=name, home_area=personas.areas[area])
        worker = Worker.objects.unscoped().create(person=person, community=personas.areas[area],
                                                  hire_date=dt.date(2018, 3, 1), **extra)
        PostHolding.objects.unscoped().create(worker=worker, post_type="副职", title="副主任",
                                              started_on=dt.date(2018, 3, 1), ended_on=dt.date(2021, 12, 31))
        PostHolding.objects.unscoped().create(worker=worker, post_type="正职", title="书记、主任",
                                              started_on=dt.date(2022, 1, 1))
        for year, grade in ((2022, "优秀"), (2023, "合格")):
            Assessment.objects.unscoped().create(worker=worker, year=year, grade=grade,
                                                 decided_by=personas.users["street_hub"], decided_at=timezone.now())
    return worker


def test_a_workers_rows_become_the_engines_facts(personas):
    worker = _worker(personas, "王晓燕", education="本科", certificate="社会工作师", entry_grade=9)
    with scopes_disabled():
        facts = facts_of(worker)
    assert facts.hire_date == dt.date(2018, 3, 1) and facts.key == worker.pk
    assert facts.posts == [payrules.PostHolding("副职", "副主任", dt.date(2018, 3, 1), dt.date(2021, 12, 31)),
                           payrules.PostHolding("正职", "书记、主任", dt.date(2022, 1, 1), None)]
    assert facts.assessments == {2022: "优秀", 2023: "合格"}
    assert facts.education == "本科" and facts.certificates == ("社会工作师",) and facts.entry_grade == 9
    bare = _worker(personas, "李强")
    with scopes_disabled():
        assert facts_of(bare, assessments=[], posts=[]).certificates == ()


def test_many_workers_facts_in_three_queries(personas):
    for i in range(4):
        _worker(personas, f"工作者{i}")
    with scopes_disabled(), CaptureQueriesContext(connection) as queries:
        facts = facts_for(Worker.objects.unscoped().all())
    assert len(facts) == 4 and len(queries) == 3
    assert all(len(f.posts) == 2 and len(f.assessments) == 2 for f in facts)


def test_the_rule_is_the_citys_and_grades_follow_it(personas):
    community = personas.areas["community_a"]
    assert city_of(community) == personas.areas["city"]
    worker = _worker(personas, "赵敏")
    with scopes_disabled():
        rule = rule_for(community)
        assert rule(dt.date(2024, 1, 1)) == policy.get("workforce.pay", city=personas.areas["city"],
                                                         on=dt.date(2024, 1, 1))
        result = payrules.grade_on(facts_of(worker), rule, dt.date(2024, 6, 1))
    assert result.grade is not None and result.post_type == "正职" and result.explanation
