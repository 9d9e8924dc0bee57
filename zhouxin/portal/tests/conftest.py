import pytest


@pytest.fixture(autouse=True)
def _portal_isolation(settings):
    """Texts go to the in-memory outbox; rate-limit counters start from zero in each test."""
    from django.core.cache import cache

    from zhouxin.portal import sms

    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    sms.outbox.clear()
    cache.clear()
    yield
    sms.outbox.clear()
    cache.clear()
