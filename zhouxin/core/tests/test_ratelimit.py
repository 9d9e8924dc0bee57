"""Rate limits: a fixed window per bucket and key, shared by every process through the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from zhouxin.core import ratelimit
from zhouxin.core.models import RateLimitWindow

T0 = dt.datetime(2026, 11, 26, 9, 0, 5, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    now = {"t": T0}
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: now["t"])
    return now


@pytest.mark.django_db
def test_the_hit_over_the_limit_is_refused_with_the_time_to_wait(clock):
    for _ in range(3):
        ratelimit.enforce("portal.submit", "10.0.0.1", limit=3, window_seconds=600)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.enforce("portal.submit", "10.0.0.1", limit=3, window_seconds=600,
                          message="提交过于频繁")
    assert refused.value.message == "提交过于频繁"
    # The window started at 09:00:00; 5 s have passed of its 600.
    assert refused.value.retry_after == 595


@pytest.mark.django_db
def test_keys_and_buckets_count_apart(clock):
    assert ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    assert not ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    assert ratelimit.allow("login", "bob", limit=1, window_seconds=60)
    assert ratelimit.allow("api.write", "alice", limit=1, window_seconds=60)
    assert ratelimit.hits("login", "alice", window_seconds=60) == 2


@pytest.mark.django_db
def test_a_new_window_starts_afresh_and_reset_forgets(clock):
    assert ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    assert not ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    clock["t"] = T0 + dt.timedelta(seconds=60)
    assert ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    assert not ratelimit.allow("login", "alice", limit=1, window_seconds=60)
    ratelimit.reset("login", "alice")
    assert ratelimit.allow("login", "alice", limit=1, window_seconds=60)


@pytest.mark.django_db
def test_default_message_is_chinese_and_names_the_minutes(clock):
    for _ in range(2):
        try:
            ratelimit.enforce("x", "k", limit=1, window_seconds=600)
        except ratelimit.RateLimited as refused:
            assert refused.message == "操作过于频繁，请 10 分钟后再试。"


@pytest.mark.django_db
def test_keys_are_stored_as_digests_only(clock):
    ratelimit.allow("login", "13800138000", limit=5, window_seconds=60)
    assert not RateLimitWindow.objects.filter(key__contains="13800138000").exists()


@pytest.mark.django_db
def test_housekeeping_deletes_finished_windows_only(clock):
    ratelimit.allow("a", "old", limit=5, window_seconds=60)
    clock["t"] = T0 + dt.timedelta(minutes=5)
    ratelimit.allow("a", "new", limit=5, window_seconds=60)
    call_command("housekeeping", "--now", clock["t"].isoformat())
    assert RateLimitWindow.objects.count() == 1
    assert ratelimit.hits("a", "new", window_seconds=60) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_undercount():
    """Eight threads (own connections) hit the same key 10 times each: exactly 80 counted,
    so no process can slip past a limit by racing another."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs concurrent writers (PostgreSQL)")
    barrier = threading.Barrier(8)
    allowed = []

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                allowed.append(ratelimit.allow("race", "k", limit=50, window_seconds=3600))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ratelimit.hits("race", "k", window_seconds=3600) == 80
    assert allowed.count(True) == 50
