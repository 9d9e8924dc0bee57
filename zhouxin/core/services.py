"""Account services: users, grants, passwords, TOTP devices and lockouts.

Every write goes through one of these functions in one transaction, with an
audit entry in the same transaction.  Administrative services check the
actor's permission; the sign-in services (TOTP verification and enrolment,
changing one's own password) act for the user on their own account.
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit, policy
from .choices import ADMIN_ROLES, AuditResult, Role
from .models import Grant, User, UserSession
from .permissions import ensure_can

# Roles whose grant is tied to an organisation as well as to a node of the tree.
ORGANISATION_ROLES = frozenset({Role.DEPARTMENT_HANDLER, Role.UNIT_LIAISON})

USER_FIELDS = ["username", "full_name", "is_active"]
GRANT_FIELDS = ["user", "role", "area", "organisation", "active"]


# --- sessions ---------------------------------------------------------------

def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _end_sessions(user: User, *, keep: str | None = None) -> int:
    """Delete the user's sessions from the session store (all but `keep`)."""
    store = _session_store()
    rows = UserSession.objects.filter(user=user)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)


@transaction.atomic
def user_session_rekey(*, user: User, old_key: str | None, new_key: str) -> None:
    """Follow a session whose key was cycled (password change keeps the user signed in)."""
    if old_key:
        UserSession.objects.filter(user=user, session_key=old_key).delete()
    UserSession.objects.get_or_create(session_key=new_key, defaults={"user": user})


# --- users -----------------------------------------------------------------

def _apply_password(user: User, password: str) -> None:
    """Set a new password and keep the last N hashes (policy core.password "history")."""
    keep = int(policy.get("core.password")["history"])
    history = [user.password, *(user.password_history or [])] if user.password else list(user.password_history or [])
    user.set_password(password)
    user.password_history = [h for h in history if h and not h.startswith("!")][:keep]
    user.password_changed_at = timezone.now()


@transaction.atomic
def user_create(*, actor: User, username: str, full_name: str, password: str | None = None) -> User:
    """Create a login.  With no password the account cannot sign in until one is set."""
    ensure_can(actor, "core.user.manage")
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": _("请填写用户名。")})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名“%(name)s”已被使用。") % {"name": username}})
    user = User(username=username, full_name=(full_name or "").strip())
    if password:
        validate_password(password, user)
        _apply_password(user, password)
    else:
        user.set_unusable_password()
    user.save()
    audit.record(actor=actor, action="core.user.create", obj=user, after=audit.snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def user_set_password(*, actor: User, user: User, password: str, keep_session: str | None = None) -> User:
    """Set a password that passes the policy (等保 level 3) and is not one of the last N.

    The user changes their own password, or a system administrator sets it.
    Every other session of the user ends (`keep_session`: the one to keep).
    """
    if actor.pk != user.pk:
        ensure_can(actor, "core.user.manage")
    validate_password(password, user)
    _apply_password(user, password)
    user.save(update_fields=["password", "password_history", "password_changed_at"])
    ended = _end_sessions(user, keep=keep_session)
    action = "core.user.password_change" if actor.pk == user.pk else "core.user.password_set"
    audit.record(actor=actor, action=action, obj=user, after={"sessions_ended": ended})
    return user


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """Disable a login and end every session it has, at once."""
    ensure_can(actor, "core.user.manage")
    if actor.pk == user.pk:
        raise ValidationError(_("不能停用自己的账号。"))
    before = audit.snapshot(user, USER_FIELDS)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    ended = _end_sessions(user)
    audit.record(actor=actor, action="core.user.deactivate", obj=user, before=before,
                 after={**audit.snapshot(user, USER_FIELDS), "sessions_ended": ended})
    return user


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    ensure_can(actor, "core.user.manage")
    before = audit.snapshot(user, USER_FIELDS)
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    audit.record(actor=actor, action="core.user.reactivate", obj=user, before=before,
                 after=audit.snapshot(user, USER_FIELDS))
    return user


# --- grants ----------------------------------------------------------------

def _admin_areas(actor: User) -> list[str]:
    return list(Grant.objects.filter(user=actor, role=Role.SYSTEM_ADMIN, active=True)
                .values_list("area__code", flat=True))


def _check_grant_target(actor: User, user: User, area) -> None:
    if actor.pk == user.pk:
        raise ValidationError(_("系统管理员不能给自己授权或撤销自己的角色。"))
    if not any(area.code.startswith(code) for code in _admin_areas(actor)):
        raise ValidationError(_("只能在您管理的区域范围内授权，%(area)s 不在其中。") % {"area": area.name})


def _admin_role_conflict(user: User, role: str, area) -> str | None:
    """三员分立: the message when `user` already holds one of the three admin roles.

    The database constraint counts suspended grants too, so this check does as well
    (except the very grant being restored).
    """
    if role not in ADMIN_ROLES:
        return None
    existing = (Grant.objects.filter(user=user, role__in=sorted(ADMIN_ROLES))
                .exclude(role=role, area=area).order_by("id").first())
    if existing is None:
        return None
    held = Role(existing.role).label
    wanted = Role(role).label
    if existing.role == role:
        return _("三员分立：%(user)s 已担任%(held)s，同一账号只能授予一次该角色。") % {
            "user": user.display_name, "held": held}
    return _("三员分立：%(user)s 已担任%(held)s，不能再担任%(wanted)s。"
             "系统管理员、安全管理员、安全审计员必须由不同账号担任。") % {
        "user": user.display_name, "held": held, "wanted": wanted}


@transaction.atomic
def grant_add(*, actor: User, user: User, role: str, area, organisation=None) -> Grant:
    """Grant `role` on `area` (reaching its subtree).

    Rules: only a system administrator grants, within their own area, never to
    themselves; the three administrator roles are mutually exclusive (三员分立,
    also a database constraint); department handlers and unit liaisons are tied
    to their organisation.
    """
    ensure_can(actor, "core.grant.manage")
    if role not in Role.values:
        raise ValidationError({"role": _("未知的角色。")})
    _check_grant_target(actor, user, area)
    if role in ORGANISATION_ROLES and organisation is None:
        raise ValidationError({"organisation": _("%(role)s 必须指定所属组织。") % {"role": Role(role).label}})
    conflict = _admin_role_conflict(user, role, area)
    if conflict:
        raise ValidationError(conflict)
    existing = Grant.objects.filter(user=user, role=role, area=area).first()
    if existing is not None and existing.active:
        raise ValidationError(_("该用户在此节点上已有这个角色。"))
    try:
        with transaction.atomic():
            if existing is not None:  # a suspended grant comes back
                before = audit.snapshot(existing, GRANT_FIELDS)
                existing.active = True
                existing.organisation = organisation
                existing.granted_by = actor
                existing.save(update_fields=["active", "organisation", "granted_by"])
                grant = existing
            else:
                before = None
                grant = Grant.objects.create(user=user, role=role, area=area, organisation=organisation,
                                             granted_by=actor)
    except IntegrityError:
        # The constraint is the backstop for two administrators granting at the same moment.
        if role in ADMIN_ROLES:
            raise ValidationError(_("三员分立：一个账号只能担任系统管理员、安全管理员、安全审计员中的一个。")) from None
        raise ValidationError(_("该用户在此节点上已有这个角色。")) from None
    audit.record(actor=actor, action="core.grant.add", obj=grant, object_repr=_grant_repr(grant),
                 before=before, after=audit.snapshot(grant, GRANT_FIELDS))
    return grant


@transaction.atomic
def grant_revoke(*, actor: User, grant: Grant) -> None:
    """Remove a grant.  The audit entry keeps what it was."""
    ensure_can(actor, "core.grant.manage")
    _check_grant_target(actor, grant.user, grant.area)
    before = audit.snapshot(grant, GRANT_FIELDS)
    label = _grant_repr(grant)
    pk = grant.pk
    grant.delete()
    audit.record(actor=actor, action="core.grant.revoke", object_type="core.grant", object_id=pk,
                 object_repr=label, before=before)


def _grant_repr(grant: Grant) -> str:
    return f"{grant.user.username} · {grant.role} @ {grant.area.code}"


# --- second factor ---------------------------------------------------------

@transaction.atomic
def totp_verify(*, user: User, token: str):
    """Check a TOTP code against the user's confirmed device.

    django-otp refuses a code whose time step is not later than the last one
    accepted (last_t), so a code cannot be used twice, and throttles repeated
    failures.  Returns the device, or None (the failure is audited).
    """
    from django_otp import verify_token
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("id").first()
    verified = verify_token(user, device.persistent_id, token) if device is not None else None
    if verified is None:
        audit.record(actor=user, action="core.auth.totp_failed", obj=user, object_repr=user.username,
                     result=AuditResult.DENIED)
    return verified


@transaction.atomic
def totp_enrol(*, user: User, key_hex: str, token: str):
    """Confirm a new TOTP device once the user types a code it produced.

    The accepted time step is stored as last_t, so the enrolment code cannot be
    used again to sign in.  Returns the device, or None (audited as a failure).
    """
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice(user=user, name=_("身份验证器"), key=key_hex, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()  # one instant for verify() and t()
    try:
        code = int(token)
    except (TypeError, ValueError):
        code = None
    if code is None or not totp.verify(code, device.tolerance):
        audit.record(actor=user, action="core.auth.totp_enrol_failed", obj=user, object_repr=user.username,
                     result=AuditResult.DENIED)
        return None
    if TOTPDevice.objects.devices_for_user(user, confirmed=True).exists():
        raise ValidationError(_("该账号已绑定身份验证器。"))
    device.last_t = totp.t()
    device.drift = totp.drift
    device.save()
    audit.record(actor=user, action="core.auth.totp_enrolled", obj=user, object_repr=user.username,
                 after={"device": device.persistent_id})
    return device


# --- lockouts (django-axes) --------------------------------------------------

@transaction.atomic
def lockout_clear(*, actor: User, username: str) -> int:
    """Unlock a username locked after repeated failed logins (安全管理员)."""
    from axes.utils import reset

    ensure_can(actor, "core.security.manage")
    count = reset(username=username)
    audit.record(actor=actor, action="core.auth.lockout_clear", object_type="core.user", object_repr=username,
                 after={"attempts_removed": count})
    return count
