from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from . import context
from .scoping import EMPTY_SCOPE, activate, scope_for_user

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives every request an id (or keeps a sane X-Request-ID) and its client IP, for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.set_current(context.RequestContext(ip=client_ip(request), request_id=request_id))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def client_ip(request) -> str | None:
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class NulCharacterMiddleware:
    """A NUL character in the path or the query string gets a 400 with a message, not a 500:
    PostgreSQL text cannot hold NUL, and many views put a GET parameter straight into a lookup
    (search boxes, codes, numbers).  Form and DRF fields refuse NUL in bodies by themselves;
    Open311 answers its own spec-shaped errors (api/open311/params.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/open311/") and (
                "\x00" in request.path
                or any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())):
            message = _("请求中含有不允许的字符（空字符），请检查后重试。")
            if request.path.startswith("/api/"):
                return JsonResponse({"errors": [{"code": "invalid", "field": None, "message": message}]}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


SESSION_LOGIN_AT = "zx_login_at"
SESSION_SEEN_AT = "zx_seen_at"


class SessionTimeoutMiddleware:
    """Idle timeout (default 30 minutes) and absolute timeout (default 12 hours)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = timezone.now().timestamp()
            login_at = request.session.get(SESSION_LOGIN_AT, now)
            seen_at = request.session.get(SESSION_SEEN_AT, now)
            idle = now - seen_at > settings.SESSION_IDLE_TIMEOUT.total_seconds()
            expired = now - login_at > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if idle or expired:
                logout(request)
                messages.info(request, _("登录已超时，请重新登录。"))
                login_url = redirect(settings.LOGIN_URL)["Location"]
                if request.headers.get("HX-Request"):
                    # The browser follows a 302 inside the XHR without telling htmx; a
                    # plain response with HX-Redirect makes htmx load the login page.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login_url
                    return response
                return redirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
            request.session.setdefault(SESSION_LOGIN_AT, now)
            # Write the "last seen" mark at most once a minute to keep session writes cheap.
            if now - seen_at > 60 or SESSION_SEEN_AT not in request.session:
                request.session[SESSION_SEEN_AT] = now
        return self.get_response(request)


class ScopeMiddleware:
    """Activates the signed-in user's scope for the whole request (anonymous: nothing)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        scope = scope_for_user(user) if user is not None and user.is_authenticated else EMPTY_SCOPE
        with activate(scope):
            return self.get_response(request)


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (nothing from another host, no inline script or style) and
    the other browser-side defences, on every response: it sits right under Django's
    SecurityMiddleware (nosniff, Referrer-Policy), above WhiteNoise and the session timeout, so
    static files, redirects and refusals made before the view carry the headers too.

    img-src allows data: for Bootstrap's and Swagger UI's inline SVG icons (in their CSS).
    A view that sets its own policy keeps it (attachments are served with a sandbox)."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    PERMISSIONS = "camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.POLICY)
        response.setdefault("Permissions-Policy", self.PERMISSIONS)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.setdefault("Referrer-Policy", settings.SECURE_REFERRER_POLICY or "same-origin")
        response.setdefault("X-Content-Type-Options", "nosniff")
        if not getattr(response, "xframe_options_exempt", False):
            response.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response
