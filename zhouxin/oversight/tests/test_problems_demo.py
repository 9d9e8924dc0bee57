"""The demo responsibility lists, key problems and meetings of 东华门街道 and 景山街道: written
through the services, every story in place, and written once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import demo_problems, problems
from zhouxin.oversight.choices import ItemStatus, ProblemStatus
from zhouxin.oversight.models import (
    KeyProblem,
    ProblemEvidence,
    ProblemUpdate,
    Responsibility,
    ResponsibilityItem,
    TopicMeeting,
)

MODELS = (Responsibility, ResponsibilityItem, KeyProblem, ProblemUpdate, ProblemEvidence, TopicMeeting)


@pytest.fixture
def demo_on(personas, settings, monkeypatch, tmp_path):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (多福巷, 银闸) and 景山街道 (吉祥).
    return personas


def _counts() -> dict:
    with scopes_disabled():
        counts = {model.__name__: model.objects.unscoped().count() for model in MODELS}
    counts["audit"] = AuditEntry.objects.filter(action__startswith="oversight.").count()
    return counts


def test_the_demo_is_refused_without_the_demo(personas, settings):
    from zhouxin.orgs.demo import DemoUnavailable

    settings.DEMO_ENABLED = False
    with pytest.raises(DemoUnavailable):
        demo_problems.load(personas.areas["dongcheng"])
    assert not any(_counts().values())


def test_the_demo_tells_each_story_once(demo_on):
    personas = demo_on
    created = demo_problems.load(personas.areas["dongcheng"])
    counts = _counts()
    assert created["problems"] == counts["KeyProblem"] > 0
    assert created["meetings"] == counts["TopicMeeting"] > 0
    assert counts["audit"] > counts["KeyProblem"]   # written through the audited services

    with scopes_disabled():
        rows = list(KeyProblem.objects.unscoped().select_related("area", "closed_by"))
        streets = {p.area.code[:9] for p in rows}
        assert streets == {"110101001", "110101002"}
        assert {p.area.level for p in rows} == {"street", "community"}
        statuses = {p.status for p in rows}
        assert statuses == set(ProblemStatus.values)
        for problem in rows:
            assert problem.created_at.date() < timezone.localdate() or problem.status == ProblemStatus.OPEN
            if problem.status == ProblemStatus.CLOSED:
                # decided one level up, by someone else than who listed it, with evidence
                assert problems.deciders_reach(problem.closed_by, problem.area.code)
                assert problem.closed_by != problem.created_by
                assert ProblemEvidence.objects.unscoped().filter(problem=problem).exists()
                assert problem.closed_at.date() < timezone.localdate()
        assert any(problems.days_overdue(p) > 0 for p in rows)   # shown in red
        rejected = ProblemUpdate.objects.unscoped().filter(kind=problems.REOPENED)
        assert rejected.exists() and all(u.note for u in rejected)
        # Each problem's updates are in time order after it was listed.
        for problem in rows:
            times = list(ProblemUpdate.objects.unscoped().filter(problem=problem).order_by("id")
                         .values_list("at", flat=True))
            assert times == sorted(times) and all(t >= problem.created_at for t in times)
        assert {r.organisation.kind for r in Responsibility.objects.unscoped().select_related("organisation")} == {
            "working_committee", "party_committee"}
        due = ResponsibilityItem.objects.unscoped().filter(due__lt=timezone.localdate())
        assert all(i.status == ItemStatus.DONE and i.evidence for i in due)
        meeting = TopicMeeting.objects.unscoped().filter(kind="committee").first()
        assert meeting.problems.exists()
        assert all(p.created_at.date() <= meeting.held_on for p in meeting.problems.all())

    again = demo_problems.load(personas.areas["dongcheng"].code)
    assert not any(again.values())
    assert _counts() == counts
