import pytest


@pytest.fixture(autouse=True)
def _portal_isolation(settings, tmp_path):
    """Texts go to the in-memory outbox, uploaded files to a temporary directory.  Rate-limit
    counters live in the database (zhouxin.core.ratelimit): each test's transaction starts at zero."""
    from zhouxin.portal import sms

    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    sms.outbox.clear()
    yield
    sms.outbox.clear()
