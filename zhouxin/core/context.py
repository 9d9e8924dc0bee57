"""Per-request context (IP, request id) for audit records, set by RequestContextMiddleware."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str = ""


_EMPTY = RequestContext()
_ctx: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("zhouxin_request", default=None)


def current() -> RequestContext:
    return _ctx.get() or _EMPTY


def set_current(ctx: RequestContext):
    return _ctx.set(ctx)


def reset(token) -> None:
    _ctx.reset(token)
