"""Writes of the API app: creating and revoking integration tokens (system admin, audited,
limited to the accounts of the administrator's own area: see selectors.py), and creating
requests through the API safely under retries (Idempotency-Key)."""

from __future__ import annotations

import hashlib
import json
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can
from zhouxin.dispatch import services as dispatch_services
from zhouxin.dispatch.models import ServiceRequest

from . import selectors
from .models import ApiToken, IdempotencyRecord

NAME_MAX = 100


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor, user, name: str) -> tuple[ApiToken, str]:
    """A new token acting as `user`. Returns the token and its key; the key is never stored.

    Only for an active staff account whose every grant lies in the administrator's area."""
    ensure_can(actor, "api.token.manage")
    name = " ".join(str(name or "").split())
    errors: dict[str, list] = {}
    if not name:
        errors.setdefault("name", []).append(_("请填写接入系统名称。"))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(_("接入系统名称不能超过 %(n)d 个字。") % {"n": NAME_MAX})
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        errors.setdefault("user", []).append(_("令牌代表的用户必须是启用中的用户。"))
    elif not selectors.may_manage_user(actor, user):
        errors.setdefault("user", []).append(
            _("只能为您管理的区域内的工作人员账号创建令牌，该账号不在其中。"))
    if errors:
        raise ValidationError(errors)
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name, user=user, key_digest=key_digest(key), prefix=key[:8],
                                    created_by=actor)
    audit.record(actor=actor, action="api.token.created", obj=token,
                 after={"name": name, "user": user.pk, "prefix": token.prefix})
    return token, key


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke at once: the next call with the key gets 401.  Only tokens of the accounts
    in the administrator's area."""
    ensure_can(actor, "api.token.manage")
    if not selectors.may_manage_user(actor, token.user):
        raise PermissionDenied(_("该令牌不在您管理的区域范围内。"))
    if token.revoked_at is not None:
        raise ValidationError(_("该令牌已被吊销。"))
    now = timezone.now()
    if not ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
        raise ValidationError(_("该令牌已被吊销。"))  # revoked meanwhile by someone else
    token.revoked_at = now
    audit.record(actor=actor, action="api.token.revoked", obj=token,
                 before={"revoked_at": None}, after={"revoked_at": now.isoformat()})
    return token


class IdempotencyKeyReused(ValidationError):
    """The Idempotency-Key was already used with a different body (→ 422)."""


def body_digest(data: dict) -> str:
    """A digest of a request body's validated content (defaults filled in, key order ignored)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def _reused() -> IdempotencyKeyReused:
    return IdempotencyKeyReused({"idempotency_key": [ValidationError(
        _("该幂等键已用于内容不同的另一次提交。重试时请原样重发第一次的内容；提交新的诉求请换一个新的幂等键。"),
        code="idempotency_key_reused")]})


@transaction.atomic
def api_request_create(*, actor, body: dict, idempotency_key: str | None, **intake) -> tuple[ServiceRequest, bool]:
    """POST /api/v1/requests/: dispatch's request_intake, made safe to retry.

    With an Idempotency-Key, the first call creates the request and remembers a digest of its
    body; a retry with the same key and body returns that request (replayed=True, → 200); the
    same key with a different body is refused (IdempotencyKeyReused, → 422) and changes
    nothing.  Two concurrent first calls: request_intake's unique index lets one create, the
    other reads the winner's request, and the body check then applies to it as to a retry.
    """
    key = str(idempotency_key or "").strip()
    if not key or len(key) > dispatch_services.IDEMPOTENCY_KEY_MAX:
        # No key: an ordinary creation; a key too long: request_intake says so (422).
        created = dispatch_services.request_intake(actor=actor, idempotency_key=idempotency_key or None, **intake)
        return created, False
    key_digest_ = dispatch_services.idempotency_digest(actor, key)
    digest = body_digest(body)
    remembered = IdempotencyRecord.objects.filter(key_digest=key_digest_).first()
    if remembered is not None:
        if remembered.body_digest != digest:
            raise _reused()
        return ServiceRequest.objects.unscoped().get(pk=remembered.request_id), True
    existed = ServiceRequest.objects.unscoped().filter(idempotency_key=key_digest_).exists()
    created = dispatch_services.request_intake(actor=actor, idempotency_key=key, **intake)
    record, made = IdempotencyRecord.objects.get_or_create(
        key_digest=key_digest_, defaults={"body_digest": digest, "request": created})
    if record.body_digest != digest:
        raise _reused()
    return created, existed or not made
