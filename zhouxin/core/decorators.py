"""View guards: signed in, second factor verified for staff, and a permission if named."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .permissions import can


def staff_view(permission: str | None = None):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if user.needs_two_factor and not user.is_verified():
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if permission is not None and not can(user, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
