import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.portal.models import ResidentAccount
from zhouxin.volunteers import hours
from zhouxin.volunteers.choices import SignUpStatus, WishStatus
from zhouxin.volunteers.models import (
    Activity,
    FeedbackBatch,
    MemberRegistration,
    PointEntry,
    SignUp,
    UnitRegistration,
    Wish,
)


def test_demo_volunteers_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_volunteers")


def _counts() -> dict:
    with scopes_disabled():
        return {model.__name__: model.objects.unscoped().count() if hasattr(model.objects, "unscoped")
                else model.objects.count()
                for model in (UnitRegistration, MemberRegistration, Activity, SignUp, Wish, PointEntry, FeedbackBatch,
                              Person, User, Grant, ResidentAccount, AuditEntry)}


@pytest.fixture
def loaded(personas, settings, monkeypatch):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (多福巷, 银闸) and 景山街道 (吉祥), one hospital.
    call_command("load_demo_volunteers")
    return personas


def test_demo_volunteers_loads_once(loaded):
    first = _counts()
    call_command("load_demo_volunteers")
    assert _counts() == first
    assert first["Activity"] == 20 and first["Wish"] >= 6 and first["FeedbackBatch"] >= 1
    now = timezone.now()
    with scopes_disabled():
        # Too few Party members with a work unit: the demo made some, with the reserved numbers.
        assert Person.objects.unscoped().filter(is_party_member=True, work_unit__isnull=False).count() >= 12
        # The past is in the past: verified hours by the organiser, no-shows, nothing stamped in the future.
        done = SignUp.objects.unscoped().filter(status=SignUpStatus.COMPLETED)
        assert done.exists() and not done.filter(checked_out_at__gt=now).exists()
        assert set(done.values_list("check_out_method", flat=True)) == {"organiser"}
        assert SignUp.objects.unscoped().filter(status=SignUpStatus.NO_SHOW).exists()
        assert not Wish.objects.unscoped().filter(ordered_at__gt=now).exists()
        assert not MemberRegistration.objects.unscoped().filter(registered_at__gt=now).exists()
        assert Activity.objects.unscoped().filter(starts_at__gt=now, status="published").exists()  # still open
        # Points come from the services: hours and wishes of members.
        assert set(PointEntry.objects.unscoped().values_list("source", flat=True)) >= {"hours", "wish"}
        # Two overlapping activities of one member are counted once.
        people = set(done.exclude(person=None).values_list("person_id", flat=True))
        merged = hours.minutes_by_person(people)
        summed = {p: sum(done.filter(person_id=p).values_list("minutes", flat=True)) for p in people}
        assert any(merged[p] < summed[p] for p in people)
        assert Wish.objects.unscoped().filter(status=WishStatus.THANKED, stars__isnull=False).exists()


def test_demo_volunteers_completion_flags_a_unit(loaded, client_for):
    page = client_for("street_hub").get(reverse("volunteers:completion")).content.decode()
    assert "低于警戒线" in page and "北京市东城区第一人民医院" in page


def test_demo_volunteers_wall_shows_open_wishes(loaded, client):
    with scopes_disabled():
        open_wish = Wish.objects.unscoped().filter(status=WishStatus.POSTED).first()
    assert open_wish is not None
    page = client.get(reverse("volunteers_public:wishes")).content.decode()
    assert open_wish.title in page
