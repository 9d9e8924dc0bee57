"""Writes of the API app: creating and revoking integration tokens (system admin, audited)."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can

from .models import ApiToken

NAME_MAX = 100


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor, user, name: str) -> tuple[ApiToken, str]:
    """A new token acting as `user`. Returns the token and its key; the key is never stored."""
    ensure_can(actor, "api.token.manage")
    name = " ".join(str(name or "").split())
    errors: dict[str, list] = {}
    if not name:
        errors.setdefault("name", []).append(_("请填写接入系统名称。"))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(_("接入系统名称不能超过 %(n)d 个字。") % {"n": NAME_MAX})
    if user is None or not getattr(user, "pk", None) or not user.is_active:
        errors.setdefault("user", []).append(_("令牌代表的用户必须是启用中的用户。"))
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
    ensure_can(actor, "api.token.manage")
    if token.revoked_at is not None:
        raise ValidationError(_("该令牌已被吊销。"))
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=now)
    token.revoked_at = now
    audit.record(actor=actor, action="api.token.revoked", obj=token,
                 before={"revoked_at": None}, after={"revoked_at": now.isoformat()})
    return token
