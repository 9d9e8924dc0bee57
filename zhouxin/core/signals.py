"""Account events: audit of logins, and session tracking so deactivation can end sessions."""

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import audit
from .choices import AuditResult
from .middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT

logger = logging.getLogger("zhouxin.audit")


@receiver(user_logged_in)
def on_logged_in(sender, request, user, **kwargs):
    from django.utils import timezone

    from .models import UserSession

    try:
        with transaction.atomic():
            if request is not None and hasattr(request, "session"):
                now = timezone.now().timestamp()
                request.session[SESSION_LOGIN_AT] = now
                request.session[SESSION_SEEN_AT] = now
                if not request.session.session_key:
                    request.session.save()
                UserSession.objects.get_or_create(session_key=request.session.session_key,
                                                  defaults={"user": user})
            audit.record(actor=user, action="core.auth.login", obj=user, object_repr=user.username)
    except audit.AuditUnavailable:
        # No sign-in without its audit entry: login() has already put the user in the
        # session, so empty it again before the refusal (zhouxin.core.faults) is answered.
        if request is not None and hasattr(request, "session"):
            from django.contrib.auth.models import AnonymousUser

            request.session.flush()
            request.user = AnonymousUser()
        raise


@receiver(user_logged_out)
def on_logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    from .models import UserSession

    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    try:
        with transaction.atomic():  # a savepoint: the failed INSERT must not doom a caller's transaction
            audit.record(actor=user, action="core.auth.logout", obj=user, object_repr=user.username)
    except audit.AuditUnavailable:
        # Ending a session only takes power away: it is never refused, also not when the
        # audit log cannot be written (the idle timeout logs people out from a middleware).
        logger.error("logout of %s could not be audited; the session is ended anyway", user.pk)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit.record(actor=None, action="core.auth.login_failed", object_type="core.user", object_repr=username,
                 result=AuditResult.DENIED)


@receiver([post_save, post_delete], sender="core.PolicyVersion")
def on_policy_version_changed(sender, **kwargs):
    """Any write of a rule version (the service, a fixture, a shell) clears the policy cache."""
    from . import policy

    policy.invalidate()
