"""Rate limits shared by every entry point (portal, API, Open311, sign-in).

A limit is a fixed window: at most `limit` hits per `window_seconds` for one key in one
bucket ("portal.submit" × an IP address, "api.write" × a token, "login" × an account).
Counters live in the database (see RateLimitWindow for why), so they hold across
processes and hosts.  Callers decide what a refusal looks like (a 429 page, a structured
API error, an Open311 error array) and use `RateLimited.retry_after` for Retry-After.

    from zhouxin.core import ratelimit
    ratelimit.enforce("portal.submit", ip, limit=5, window_seconds=600,
                      message=_("提交过于频繁……"))   # raises RateLimited
    if not ratelimit.allow("login.ip", ip, limit=30, window_seconds=600): ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import RateLimitWindow


class RateLimited(Exception):
    """Too many attempts; `message` says so in the user's language, `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def client_ip(request) -> str:
    """The client's address as the web server saw it.  Behind a proxy, the deployment sets
    REMOTE_ADDR from the trusted proxy's header (gunicorn --forwarded-allow-ips); we never
    trust X-Forwarded-For ourselves, or anyone could pick a fresh address per attempt."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _digest(bucket: str, key: str) -> str:
    return hashlib.sha256(f"{bucket}\x1f{key}".encode()).hexdigest()


def _window(now: dt.datetime, window_seconds: int) -> dt.datetime:
    epoch = int(now.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % window_seconds, tz=dt.UTC)


def _count(bucket: str, key: str, window_seconds: int, *, increment: bool) -> tuple[int, dt.datetime]:
    now = timezone.now()
    start = _window(now, window_seconds)
    digest = _digest(bucket, key)
    rows = RateLimitWindow.objects.filter(key=digest, window_start=start)
    if not increment:
        current = rows.values_list("count", flat=True).first() or 0
        return current, start
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateLimitWindow.objects.create(key=digest, window_start=start, count=1,
                                                   expires_at=start + dt.timedelta(seconds=window_seconds))
            except IntegrityError:  # another worker created the window first
                rows.update(count=F("count") + 1)
        current = rows.values_list("count", flat=True).first() or 1
    return current, start


def hits(bucket: str, key: str, *, window_seconds: int) -> int:
    """How many hits `key` has in the current window (without counting one)."""
    return _count(bucket, key, window_seconds, increment=False)[0]


def allow(bucket: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit; False when it goes over `limit` in the current window."""
    count, _start = _count(bucket, key, window_seconds, increment=True)
    return count <= limit


def enforce(bucket: str, key: str, *, limit: int, window_seconds: int, message: str | None = None) -> None:
    """Count one hit; raise RateLimited when it goes over `limit` in the current window."""
    count, start = _count(bucket, key, window_seconds, increment=True)
    if count > limit:
        remaining = (start + dt.timedelta(seconds=window_seconds) - timezone.now()).total_seconds()
        retry_after = max(1, math.ceil(remaining))
        raise RateLimited(message or default_message(retry_after), retry_after)


def default_message(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return _("操作过于频繁，请 %(minutes)d 分钟后再试。") % {"minutes": minutes}


def reset(bucket: str, key: str) -> None:
    """Forget `key`'s hits in `bucket` (e.g. after a successful sign-in)."""
    RateLimitWindow.objects.filter(key=_digest(bucket, key)).delete()


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Delete finished windows; run by `manage.py housekeeping`."""
    deleted, _rows = RateLimitWindow.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
