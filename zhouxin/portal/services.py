"""Portal services: submission by an anonymous resident, one-time tracking codes, the
resident's own rating.  Every write of the dispatch domain goes through its services, as
the system (actor=None inside scopes_disabled()): a portal visitor has no account and no
scope, and what they may do is decided here (a valid code for that request), not by grants."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core import policy as policy_store
from zhouxin.core.crypto import blind_index
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services as dispatch
from zhouxin.dispatch.choices import Channel, Status
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.validators import normalise_phone

from .models import TrackingCode

CODE_VALIDITY = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CONSENT_POLICY = "portal.consent"


class CodeError(ValidationError):
    """A code that cannot be accepted; the message says why, in Chinese."""


# ---------------------------------------------------------------------------
# Rate limits (Django's cache: a fixed window per key)
# ---------------------------------------------------------------------------

def hit(bucket: str, key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one attempt in `bucket` for `key`; False when the limit of the window is exceeded."""
    name = "portal:rl:" + hashlib.sha256(f"{bucket}\x1f{key}".encode()).hexdigest()
    cache.add(name, 0, timeout=window_seconds)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window_seconds)
        count = 1
    return count <= limit


# ---------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------

def consent() -> dict:
    return policy_store.get(CONSENT_POLICY)


def submit(*, idempotency_key: str, consent_version: str, **fields) -> ServiceRequest:
    """A resident's request from the portal: the dispatch intake with channel "portal", as
    the system, plus an audit record of the consent version accepted.  The key is namespaced
    to the portal; a retry with the same key returns the first request."""
    key = f"portal:{idempotency_key}"
    digest = dispatch.idempotency_digest(None, key)
    with scopes_disabled(), transaction.atomic():
        existed = ServiceRequest.objects.unscoped().filter(idempotency_key=digest).exists()
        request = dispatch.request_intake(actor=None, channel=Channel.PORTAL, idempotency_key=key, **fields)
        if not existed:
            audit.record(actor=None, action="portal.consent.accepted", obj=request,
                         after={"policy": CONSENT_POLICY, "version": consent_version,
                                "purpose": "personal_data_processing"})
    return request


# ---------------------------------------------------------------------------
# Tracking codes
# ---------------------------------------------------------------------------

def _digest(code_id_salt: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{code_id_salt}\x1f{code}".encode(), hashlib.sha256).hexdigest()


def find_request(number: str, phone: str) -> ServiceRequest | None:
    """The request with this number whose contact phone is `phone`, else None."""
    number = str(number or "").strip()
    phone = normalise_phone(str(phone or "").strip())
    if not number or not phone or len(number) > 20:
        return None
    return (ServiceRequest.objects.unscoped()
            .filter(number=number, contact_phone_index=blind_index("phone", phone)).first())


@transaction.atomic
def code_send(*, request: ServiceRequest) -> None:
    """Issue a new 6-digit code for `request` (earlier ones stop working) and text it to the
    request's contact phone."""
    now = timezone.now()
    TrackingCode.objects.filter(request=request, used_at__isnull=True).update(used_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    salt = f"{request.pk}:{now.isoformat()}"
    TrackingCode.objects.create(request=request, code_hash=_digest(salt, code), created_at=now,
                                expires_at=now + CODE_VALIDITY)
    audit.record(actor=None, action="portal.code.sent", obj=request, after={"valid_minutes": 10})
    phone, number = request.contact_phone, request.number
    text = _("【轴心】您查询诉求 %(number)s 的验证码是 %(code)s，10 分钟内有效。如非本人操作，请忽略。") % {
        "number": number, "code": code}
    from . import sms

    transaction.on_commit(lambda: sms.send(phone, text))


def code_check(*, request: ServiceRequest | None, code: str) -> None:
    """Accept `code` for `request` or raise CodeError (wrong, expired, too many attempts).
    A correct code is used up; a wrong one counts as an attempt (committed before the error)."""
    if request is None:
        raise CodeError(_("验证码不正确，请核对短信后重新输入。"))
    problem = _check(request, str(code or "").strip())
    if problem:
        raise CodeError(problem)


@transaction.atomic
def _check(request: ServiceRequest, code: str) -> str:
    current = (TrackingCode.objects.select_for_update().filter(request=request, used_at__isnull=True)
               .order_by("-created_at").first())
    if current is None:
        return _("验证码已失效，请重新获取。")
    now = timezone.now()
    if current.expires_at <= now:
        return _("验证码已过期（有效期 10 分钟），请重新获取。")
    if current.attempts >= CODE_ATTEMPTS:
        return _("验证码输错次数过多，请重新获取。")
    salt = f"{request.pk}:{current.created_at.isoformat()}"
    if len(code) == 6 and code.isdigit() and hmac.compare_digest(_digest(salt, code), current.code_hash):
        TrackingCode.objects.filter(pk=current.pk).update(used_at=now)
        audit.record(actor=None, action="portal.code.accepted", obj=request)
        return ""
    attempts = current.attempts + 1
    TrackingCode.objects.filter(pk=current.pk).update(attempts=attempts)
    if attempts >= CODE_ATTEMPTS:
        return _("验证码输错次数过多，请重新获取。")
    return _("验证码不正确，还可以再试 %(n)d 次。") % {"n": CODE_ATTEMPTS - attempts}


# ---------------------------------------------------------------------------
# The resident's rating → the callback
# ---------------------------------------------------------------------------

def can_rate(request: ServiceRequest) -> bool:
    return request.status == Status.REPLIED and request.callback_at is None


def rate(*, request: ServiceRequest, resolution: str, satisfaction: str) -> ServiceRequest:
    """The requester's own answer counts as the callback (回访): satisfied closes the request;
    unsatisfied or not resolved leaves it for the street supervisor, exactly as the staff
    callback does.  The system acts (actor=None inside scopes_disabled())."""
    with scopes_disabled():
        return dispatch.request_callback(actor=None, request=request, resolution=resolution,
                                         satisfaction=satisfaction, note=_("居民通过居民网站评价"))
