import pytest
from django.core.management import CommandError, call_command

from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing.choices import NoticeStatus
from zhouxin.publishing.models import Notice, PublishedPage


def test_demo_notices_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_notices")


def test_demo_notices_are_published_once(personas, settings, monkeypatch):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 多福巷 (110101001001) and 东华门街道 (110101001).
    call_command("load_demo_notices")
    call_command("load_demo_notices")
    with scopes_disabled():
        notices = list(Notice.objects.all())
    assert len(notices) == 3  # 110101002002 does not exist among the personas
    assert all(n.status == NoticeStatus.PUBLISHED and n.content_hash for n in notices)
    assert PublishedPage.objects.count() == 3
