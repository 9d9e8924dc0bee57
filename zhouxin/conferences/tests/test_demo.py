import pytest
from django.core.management import CommandError, call_command

from zhouxin.core.scoping import scopes_disabled

from ..choices import ActionStatus, MeetingKind, MeetingStatus
from ..models import ActionItem, Escalation, JointConference, Meeting


def test_demo_conferences_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_conferences")


def test_demo_conferences_load_once(personas, settings, monkeypatch):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (110101001) and 多福巷社区 (110101001001).
    call_command("load_demo_conferences")
    call_command("load_demo_conferences")
    with scopes_disabled():
        assert sorted(JointConference.objects.values_list("name", flat=True)) == ["东华门街道大工委", "多福巷社区大党委"]
        plenaries = Meeting.objects.filter(kind=MeetingKind.PLENARY)
        assert plenaries.count() == 2 and all(m.status == MeetingStatus.APPROVED for m in plenaries)
        statuses = sorted(ActionItem.objects.values_list("status", flat=True))
        assert ActionStatus.DONE in statuses and ActionStatus.OVERDUE in statuses
        assert Escalation.objects.count() == statuses.count(ActionStatus.OVERDUE)
        topic = Meeting.objects.get(kind=MeetingKind.TOPIC)
        assert topic.agenda_items.count() == 2
