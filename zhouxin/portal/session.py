"""The resident's sign-in, kept apart from staff authentication.

A signed-in resident is a session key ("portal_resident") naming a ResidentAccount, set
only after a one-time code to the account's phone was proven.  It is never a Django
User login: request.user stays anonymous (or stays the staff member who happens to use
the same browser), no grant or scope comes with it, and staff sign-in gives no access
to the resident pages.  Idle and absolute timeouts mirror the staff ones.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.shortcuts import redirect

from .models import ResidentAccount

RESIDENT_KEY = "portal_resident"
SIGNIN_KEY = "portal_signin"
# What this session proved by tracking codes, per request number (views.verify).
VERIFIED_KEY = "portal_verified"


def _limits() -> tuple[float, float]:
    return settings.SESSION_IDLE_TIMEOUT.total_seconds(), settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()


def sign_in(request, account: ResidentAccount) -> None:
    """Start the resident session (a fresh session key: no fixation)."""
    request.session.pop(SIGNIN_KEY, None)
    request.session.cycle_key()
    now = time.time()
    request.session[RESIDENT_KEY] = {"id": account.pk, "since": now, "seen": now}
    request._portal_account = account


def sign_out(request) -> None:
    """End the resident session and what it proved; a staff login in the same browser stays."""
    for key in (RESIDENT_KEY, SIGNIN_KEY, VERIFIED_KEY, "portal_receipt", "portal_pending", "portal_pending_match"):
        request.session.pop(key, None)
    request.session.cycle_key()
    request._portal_account = None


def current_account(request) -> ResidentAccount | None:
    """The signed-in account, or None (never signed in, timed out, or the account is gone)."""
    if not hasattr(request, "_portal_account"):
        request._portal_account = _load(request)
    return request._portal_account


def _load(request) -> ResidentAccount | None:
    state = request.session.get(RESIDENT_KEY)
    if not isinstance(state, dict) or not isinstance(state.get("id"), int):
        return None
    now = time.time()
    idle, absolute = _limits()
    if now - float(state.get("seen", 0)) > idle or now - float(state.get("since", 0)) > absolute:
        request.session.pop(RESIDENT_KEY, None)
        return None
    account = ResidentAccount.objects.filter(pk=state["id"]).first()
    if account is None:
        request.session.pop(RESIDENT_KEY, None)
        return None
    if now - float(state.get("seen", 0)) > 60:  # keep session writes cheap
        request.session[RESIDENT_KEY] = {**state, "seen": now}
    return account


def resident_required(view):
    """Only for a signed-in resident; anyone else (anonymous or staff) goes to the sign-in page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        account = current_account(request)
        if account is None:
            return redirect("portal:signin")
        return view(request, account, *args, **kwargs)

    return wrapped
