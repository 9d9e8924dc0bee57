import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from zhouxin.cobuild import dashboard
from zhouxin.cobuild.choices import ProjectStatus
from zhouxin.cobuild.models import Claim, Milestone, Need, Project, Rating, Resource, ServiceRecord
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.portal.models import ResidentAccount


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_demo_cobuild_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_cobuild")


def _counts() -> dict:
    with scopes_disabled():
        return {model.__name__: model.objects.unscoped().count() if hasattr(model.objects, "unscoped")
                else model.objects.count()
                for model in (Need, Resource, Claim, Project, Milestone, ServiceRecord, Rating, User, Grant,
                              ResidentAccount, AuditEntry)}


def test_demo_cobuild_loads_once_and_fills_the_dashboard(personas, settings, monkeypatch, client_for):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (多福巷, 银闸) and 景山街道 (吉祥), one hospital.
    call_command("load_demo_cobuild")
    first = _counts()
    call_command("load_demo_cobuild")
    assert _counts() == first
    assert first["Need"] == 9 and first["Project"] >= 1 and first["ServiceRecord"] >= 1
    with scopes_disabled():
        # The hospital's resources are registered by its liaison (the persona), not by a new account.
        assert set(Resource.objects.values_list("created_by__username", flat=True)) == {"unit_liaison"}
        # Backdated to the year the stories happened: nothing is dated in the future.
        latest = max(Need.objects.values_list("created_at", flat=True))
        assert latest <= timezone.now()
        started = Project.objects.exclude(status=ProjectStatus.PLANNED)
        assert all(p.records.exists() for p in started.exclude(status=ProjectStatus.CANCELLED))
        for project in Project.objects.filter(status=ProjectStatus.COMPLETED):
            assert not project.milestones.filter(done_on__isnull=True).exists()
            assert project.need.status == "met" and project.completed_at is not None
    board = dashboard.build(dashboard.dashboard_scope(personas.district_admin),
                            timezone.localdate().year)
    assert board.needs_posted + board.projects > 0
    page = client_for("district_admin").get(reverse("cobuild:dashboard")).content.decode()
    assert "cobuild-dashboard-data" in page and "北京市东城区第一人民医院" in page

