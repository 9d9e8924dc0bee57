"""Sign-in: password (counted by django-axes), then TOTP for every staff role.

A correct password for a staff account does not sign anyone in: the pending
user is kept in the session for a few minutes and must pass the second factor
(or enrol one) first.  Members and residents sign in with the password alone.
Failed steps are also counted per client address (IP_FAILURE_LIMIT): over the limit, the
address gets a 429 page with Retry-After whatever account it tries.
"""

from __future__ import annotations

import math
import time
from base64 import b32encode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .. import policy, ratelimit, services
from ..decorators import staff_view
from ..forms_auth import LoginForm, PasswordChangeForm, TokenForm
from ..models import User

PENDING = "zx_pending_login"
PENDING_SECONDS = 5 * 60  # time allowed between the password and the second factor
PENDING_MAX_FAILURES = 5  # wrong codes before the password must be entered again
# Failed sign-in steps per client address: axes locks one account after 5 failures, this stops
# one address from trying a few passwords on each of many accounts (password spraying).  Only
# failures count, so a street office behind one NAT address is never stopped by its own
# successful sign-ins; the password step and the code step have a budget each.
IP_FAILURE_LIMIT = 30
IP_FAILURE_WINDOW = 10 * 60


def failed_message() -> str:
    """One message for a wrong password and for an unknown user."""
    return _("用户名或密码错误。连续输错 %(limit)d 次，账号将被锁定 %(minutes)d 分钟。") % {
        "limit": settings.AXES_FAILURE_LIMIT, "minutes": _cooloff_minutes()}


def lockout_message() -> str:
    return _("登录失败次数过多，账号已锁定 %(minutes)d 分钟，请稍后再试。") % {"minutes": _cooloff_minutes()}


def _cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the same page whether or not the account exists.

    Axes marks the request that records the fifth failure as locked as well; that
    attempt still gets the ordinary "wrong password" answer, and every attempt
    from then on (the sixth, right password or wrong) gets the lockout message
    until the cool-off has passed.
    """
    if original_response is not None and getattr(request, "axes_failures_since_start", None) is not None:
        return original_response
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = LoginForm(initial={"username": str(username)[:150]})
    return render(request, "core/auth/login.html",
                  {"form": form, "next": _next_url(request), "lockout": lockout_message()}, status=429)


def _ip_refusal(request, bucket: str) -> ratelimit.RateLimited | None:
    """The refusal when this address has used up its failed attempts in the current window."""
    ip = ratelimit.client_ip(request)
    if ratelimit.hits(bucket, ip, window_seconds=IP_FAILURE_WINDOW) < IP_FAILURE_LIMIT:
        return None
    try:  # over the limit: count this attempt too and learn how long the window still runs
        ratelimit.enforce(bucket, ip, limit=IP_FAILURE_LIMIT, window_seconds=IP_FAILURE_WINDOW)
    except ratelimit.RateLimited as refused:
        refused.message = _("您所在的网络登录失败次数过多，为保护账号安全，请 %(minutes)d 分钟后再试。") % {
            "minutes": max(1, math.ceil(refused.retry_after / 60))}
        return refused
    return None  # the window turned over in between


def _count_ip_failure(request, bucket: str) -> None:
    ratelimit.allow(bucket, ratelimit.client_ip(request), limit=IP_FAILURE_LIMIT, window_seconds=IP_FAILURE_WINDOW)


def _too_many(response, refused: ratelimit.RateLimited):
    response.status_code = 429
    response["Retry-After"] = str(refused.retry_after)
    return response


def _signed_in(user) -> bool:
    return user.is_authenticated and (not user.needs_two_factor or user.is_verified())


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = _next_url(request)
    if _signed_in(request.user):
        return redirect(next_url)
    if request.method == "GET" and request.session.pop(PENDING, None) is not None:
        request.session.modified = True
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (refused := _ip_refusal(request, "login.password.ip")):
        form = LoginForm(initial={"username": request.POST.get("username", "")[:150]})
        return _too_many(render(request, "core/auth/login.html",
                                {"form": form, "next": next_url, "lockout": refused.message}), refused)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request=request, username=form.cleaned_data["username"],
                            password=form.cleaned_data["password"])
        if user is None:
            _count_ip_failure(request, "login.password.ip")
            form.add_error(None, failed_message())
        elif user.needs_two_factor:
            request.session[PENDING] = {
                "user": user.pk, "backend": user.backend, "next": next_url,
                "until": time.time() + PENDING_SECONDS, "failures": 0,
            }
            if _device(user) is None:
                return redirect("core:enrol_totp")
            return redirect("core:verify_totp")
        else:
            with transaction.atomic():  # last_login, axes, session, audit: all or none (faults.py)
                auth_login(request, user)
            _warn_old_password(request, user)
            return redirect(next_url)
    return render(request, "core/auth/login.html", {"form": form, "next": next_url})


def _device(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()


def _pending_user(request):
    """The user who gave a correct password and has not yet passed TOTP, or None."""
    pending = request.session.get(PENDING)
    if not pending:
        messages.info(request, _("请先输入用户名和密码。"))
        return None, None
    if pending.get("until", 0) < time.time():
        del request.session[PENDING]
        messages.info(request, _("验证已超时，请重新输入用户名和密码。"))
        return None, None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        del request.session[PENDING]
        messages.info(request, _("请先输入用户名和密码。"))
        return None, None
    return pending, user


def _count_failure(request, pending) -> bool:
    """Count a wrong code; True when the password must be entered again."""
    pending["failures"] = int(pending.get("failures", 0)) + 1
    if pending["failures"] >= PENDING_MAX_FAILURES:
        del request.session[PENDING]
        messages.error(request, _("验证码错误次数过多，请重新输入用户名和密码。"))
        return True
    request.session[PENDING] = pending
    return False


def _complete(request, user, pending, device):
    del request.session[PENDING]
    with transaction.atomic():  # last_login, axes, session, audit: all or none (faults.py)
        auth_login(request, user, backend=pending["backend"])
        otp_login(request, device)
    _warn_old_password(request, user)
    return redirect(pending.get("next") or reverse(settings.LOGIN_REDIRECT_URL))


def _warn_old_password(request, user) -> None:
    max_age = int(policy.get("core.password")["max_age_days"])
    if user.password_changed_at and (timezone.now() - user.password_changed_at).days >= max_age:
        messages.warning(request, _("您的密码已超过 %(days)d 天未修改，请尽快修改密码。") % {"days": max_age})


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def verify_totp(request):
    pending, user = _pending_user(request)
    if user is None:
        return redirect("core:login")
    device = _device(user)
    if device is None:
        return redirect("core:enrol_totp")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and (refused := _ip_refusal(request, "login.code.ip")):
        messages.error(request, refused.message)
        return _too_many(render(request, "core/auth/verify.html", {"form": TokenForm(), "pending_user": user}),
                         refused)
    if request.method == "POST" and form.is_valid():
        allowed, info = device.verify_is_allowed()
        if not allowed:
            wait = math.ceil(((info or {}).get("locked_until", timezone.now()) - timezone.now()).total_seconds())
            form.add_error("token", _("验证码错误次数较多，请 %(seconds)d 秒后再试。") % {"seconds": max(wait, 1)})
        else:
            verified = services.totp_verify(user=user, token=form.cleaned_data["token"])
            if verified is not None:
                return _complete(request, user, pending, verified)
            _count_ip_failure(request, "login.code.ip")
            if _count_failure(request, pending):
                return redirect("core:login")
            form.add_error("token", _("验证码错误或已使用过，请输入身份验证器上当前显示的验证码。"))
    return render(request, "core/auth/verify.html", {"form": form, "pending_user": user})


@sensitive_post_parameters("token")
@never_cache
@require_http_methods(["GET", "POST"])
def enrol_totp(request):
    pending, user = _pending_user(request)
    if user is None:
        return redirect("core:login")
    if _device(user) is not None:
        return redirect("core:verify_totp")
    key = pending.get("totp_key")
    if not key:
        key = random_hex(20)
        pending["totp_key"] = key
        request.session[PENDING] = pending
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = services.totp_enrol(user=user, key_hex=key, token=form.cleaned_data["token"])
        if device is not None:
            messages.success(request, _("身份验证器已绑定，今后登录请输入其上显示的验证码。"))
            return _complete(request, user, pending, device)
        if _count_failure(request, pending):
            return redirect("core:login")
        form.add_error("token", _("验证码不正确，请确认手机时间准确后，输入身份验证器上当前显示的验证码。"))
    unsaved = TOTPDevice(user=user, key=key)
    qr_svg = segno.make(unsaved.config_url, error="m").svg_inline(
        scale=4, border=2, svgclass="zx-qr", lineclass=None, title=_("身份验证器二维码"))
    secret = b32encode(unsaved.bin_key).decode()
    return render(request, "core/auth/enrol.html", {
        "form": form, "pending_user": user, "qr_svg": qr_svg,
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)],
    })


@require_POST
def logout_view(request):
    auth_logout(request)
    messages.success(request, _("您已安全退出。"))
    return redirect("core:login")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@staff_view()
def password_change(request):
    user = User.objects.get(pk=request.user.pk)
    form = PasswordChangeForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        old_key = request.session.session_key
        services.user_set_password(actor=user, user=user, password=form.cleaned_data["new_password1"],
                                   keep_session=old_key)
        update_session_auth_hash(request, user)
        services.user_session_rekey(user=user, old_key=old_key, new_key=request.session.session_key)
        messages.success(request, _("密码已修改。"))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "core/auth/password_change.html", {"form": form})
