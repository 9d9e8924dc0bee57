"""Rate limits of the REST API (zhouxin.core.ratelimit's fixed windows).

Two keys per call: the client's IP address, counted before authentication (so a flood of bad
tokens is limited too), and the caller — the token, or the signed-in staff account —
counted after it.  Writes (POST) have tighter limits than reads.  A refusal is a 429 with the
structured error body and Retry-After (exceptions.py turns DRF's Throttled into both).

The numbers are operational, not city policy: settings.API_RATE_LIMITS may override them
(same shape as DEFAULT_LIMITS: kind → key → (limit, window seconds)).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, Throttled

from zhouxin.core import ratelimit

from .models import ApiToken

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_LIMITS: dict[str, dict[str, tuple[int, int]]] = {
    "write": {"client": (120, 60), "ip": (240, 60)},
    "read": {"client": (1200, 60), "ip": (2400, 60)},
}


class RateLimitExceeded(Throttled):
    """DRF's Throttled (429, code "throttled", `wait` → Retry-After) with our own message:
    the parent would append an English "Expected available in … seconds."."""

    def __init__(self, *, wait: int, detail: str):
        APIException.__init__(self, detail, self.default_code)
        self.wait = wait


def _limits(kind: str) -> dict[str, tuple[int, int]]:
    configured = getattr(settings, "API_RATE_LIMITS", None) or DEFAULT_LIMITS
    return configured.get(kind, DEFAULT_LIMITS[kind])


def _kind(request) -> str:
    return "write" if request.method in WRITE_METHODS else "read"


def _message(kind: str, who: str, limit: int, window: int, retry_after: int) -> str:
    values = {"n": limit, "s": window, "wait": retry_after}
    if kind == "write" and who == "ip":
        text = _("接口写操作过于频繁：同一地址每 %(s)d 秒最多 %(n)d 次，请 %(wait)d 秒后再试。")
    elif kind == "write":
        text = _("接口写操作过于频繁：每个令牌或账号每 %(s)d 秒最多 %(n)d 次，请 %(wait)d 秒后再试。")
    elif who == "ip":
        text = _("接口查询过于频繁：同一地址每 %(s)d 秒最多 %(n)d 次，请 %(wait)d 秒后再试。")
    else:
        text = _("接口查询过于频繁：每个令牌或账号每 %(s)d 秒最多 %(n)d 次，请 %(wait)d 秒后再试。")
    return text % values


def _enforce(kind: str, who: str, key: str) -> None:
    limit, window = _limits(kind)[who]
    try:
        ratelimit.enforce(f"api.{kind}.{who}", key, limit=limit, window_seconds=window)
    except ratelimit.RateLimited as refused:
        raise RateLimitExceeded(wait=refused.retry_after,
                                detail=_message(kind, who, limit, window, refused.retry_after)) from None


def check_ip(request) -> None:
    """Before authentication: the caller's address."""
    _enforce(_kind(request), "ip", ratelimit.client_ip(request))


def check_client(request) -> None:
    """After authentication: the token, or the signed-in account."""
    if isinstance(request.auth, ApiToken):
        key = f"token:{request.auth.pk}"
    elif request.user is not None and request.user.is_authenticated:
        key = f"user:{request.user.pk}"
    else:
        return
    _enforce(_kind(request), "client", key)
