"""API authentication: `Authorization: Token <key>` for integrations, or the staff session
(signed in and, where the role needs it, TOTP-verified)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from .models import ApiToken
from .services import key_digest

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_for_key(key: str) -> ApiToken | None:
    """The live token a key belongs to (not revoked, its user active), its use noted; else None.
    Shared by the REST API's Token header and Open311's `api_key` parameter."""
    token = ApiToken.objects.select_related("user").filter(key_digest=key_digest(key)).first()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("令牌格式应为“Token <密钥>”。"))
        try:
            key = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("令牌无效。")) from None
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效或已被吊销。"))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser session of staff; a role that needs a second factor must have verified it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if user.needs_two_factor and not user.is_verified():
            return None
        return result
