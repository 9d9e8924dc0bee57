"""Account services: users, passwords, deactivation, grants and 三员分立."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from zhouxin.core import services
from zhouxin.core.choices import Role
from zhouxin.core.models import AuditEntry, Grant, User, UserSession
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.testing.personas import PASSWORD

GOOD = ["Mima-Yi-2026!a", "Mima-Er-2026!b", "Mima-San-2026!c", "Mima-Si-2026!d", "Mima-Wu-2026!e",
        "Mima-Liu-2026!f"]


def audited(action, **filters):
    return AuditEntry.objects.filter(action=action, **filters)


# --- users -------------------------------------------------------------------

def test_user_create(personas):
    user = services.user_create(actor=personas.system_admin, username="li_ming", full_name="李明",
                                password=GOOD[0])
    assert user.pk and user.check_password(GOOD[0]) and user.full_name == "李明"
    assert user.password_changed_at is not None
    entry = audited("core.user.create", actor=personas.system_admin).get()
    assert entry.object_id == str(user.pk) and entry.after["username"] == "li_ming"


def test_user_create_without_password_cannot_sign_in(personas):
    user = services.user_create(actor=personas.system_admin, username="no_pw", full_name="无密码")
    assert not user.has_usable_password()


def test_user_create_refuses_duplicates_weak_passwords_and_non_admins(personas):
    with pytest.raises(ValidationError) as duplicate:
        services.user_create(actor=personas.system_admin, username="Street_Hub", full_name="重名", password=GOOD[0])
    assert "已被使用" in str(duplicate.value)
    with pytest.raises(ValidationError) as weak:
        services.user_create(actor=personas.system_admin, username="weak", full_name="弱", password="abc12345")
    assert "密码至少需要 10 位。" in weak.value.messages
    for actor in ("street_hub", "district_admin", "security_admin", "audit_admin"):
        with pytest.raises(PermissionDenied):
            services.user_create(actor=personas.users[actor], username=f"by_{actor}", full_name="x",
                                 password=GOOD[0])
    assert not User.objects.filter(username__in=["weak", "by_street_hub"]).exists()


def test_password_history_keeps_the_last_five(personas):
    user = personas.resident
    for password in GOOD[:5]:
        services.user_set_password(actor=user, user=user, password=password)
    user.refresh_from_db()
    assert user.check_password(GOOD[4])
    assert len(user.password_history) == 5
    # The history holds the previous passwords, newest first.
    assert check_password(GOOD[3], user.password_history[0])
    assert check_password(PASSWORD, user.password_history[4])
    for reused in (GOOD[4], GOOD[1], GOOD[0]):
        with pytest.raises(ValidationError) as error:
            services.user_set_password(actor=user, user=user, password=reused)
        assert "新密码不能与最近 5 次使用过的密码相同。" in error.value.messages
    # The oldest one (the persona's first password) has dropped out of the window.
    services.user_set_password(actor=user, user=user, password=GOOD[5])
    services.user_set_password(actor=user, user=user, password=PASSWORD)
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and len(user.password_history) == 5
    assert audited("core.user.password_change", actor=user).count() == 7


def test_admin_sets_a_password_and_ends_the_users_sessions(personas, client_for):
    client = client_for("member")
    services.user_set_password(actor=personas.system_admin, user=personas.member, password=GOOD[0])
    assert client.get(reverse("core:home")).status_code == 302
    assert not UserSession.objects.filter(user=personas.member).exists()
    assert audited("core.user.password_set", actor=personas.system_admin).exists()
    with pytest.raises(PermissionDenied):
        services.user_set_password(actor=personas.street_hub, user=personas.member, password=GOOD[1])


def test_deactivation_ends_every_session(personas, client_for):
    home = reverse("core:home")
    first, second = client_for("street_hub"), client_for("street_hub")
    keys = [first.session.session_key, second.session.session_key]
    assert first.get(home).status_code == 200 and second.get(home).status_code == 200
    assert Session.objects.filter(session_key__in=keys).count() == 2

    services.user_deactivate(actor=personas.system_admin, user=personas.street_hub)

    assert not User.objects.get(pk=personas.street_hub.pk).is_active
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not UserSession.objects.filter(user=personas.street_hub).exists()
    for client in (first, second):
        response = client.get(home)
        assert response.status_code == 302 and response["Location"].startswith(reverse("core:login"))
    entry = audited("core.user.deactivate", actor=personas.system_admin).get()
    assert entry.before["is_active"] is True and entry.after == {**entry.before, "is_active": False,
                                                                "sessions_ended": 2}
    # Other users' sessions are untouched.
    other = client_for("community_staff")
    assert other.get(home).status_code == 200


def test_deactivation_rules(personas):
    with pytest.raises(ValidationError) as own:
        services.user_deactivate(actor=personas.system_admin, user=personas.system_admin)
    assert "不能停用自己的账号。" in own.value.messages
    with pytest.raises(PermissionDenied):
        services.user_deactivate(actor=personas.security_admin, user=personas.member)
    assert User.objects.get(pk=personas.member.pk).is_active


def test_reactivate(personas):
    services.user_deactivate(actor=personas.system_admin, user=personas.member)
    services.user_reactivate(actor=personas.system_admin, user=personas.member)
    assert User.objects.get(pk=personas.member.pk).is_active
    assert audited("core.user.reactivate").exists()


# --- grants ----------------------------------------------------------------

@pytest.fixture
def newcomer(db):
    return User.objects.create_user(username="newcomer", password=PASSWORD, full_name="新同志")


def test_grant_add_and_revoke(personas, newcomer):
    grant = services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.COMMUNITY_STAFF,
                               area=personas.areas["community_b"],
                               organisation=personas.orgs["community_b_committee"])
    assert grant.active and grant.granted_by == personas.system_admin
    newcomer = User.objects.get(pk=newcomer.pk)
    assert newcomer.role_set() == {Role.COMMUNITY_STAFF} and newcomer.needs_two_factor
    entry = audited("core.grant.add", actor=personas.system_admin).get()
    assert entry.after["role"] == "community_staff" and entry.after["area"] == personas.areas["community_b"].pk

    with pytest.raises(ValidationError) as twice:
        services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.COMMUNITY_STAFF,
                           area=personas.areas["community_b"])
    assert "该用户在此节点上已有这个角色。" in twice.value.messages

    grant_id = grant.pk
    services.grant_revoke(actor=personas.system_admin, grant=grant)
    assert not Grant.objects.filter(user=newcomer).exists()
    revoked = audited("core.grant.revoke").get()
    assert revoked.before["role"] == "community_staff" and revoked.object_id == str(grant_id)


def test_a_suspended_grant_is_restored(personas, newcomer):
    suspended = Grant.objects.create(user=newcomer, role=Role.GRID_WORKER, area=personas.areas["grid_a"],
                                     active=False)
    restored = services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.GRID_WORKER,
                                  area=personas.areas["grid_a"])
    assert restored.pk == suspended.pk and Grant.objects.get(pk=suspended.pk).active


@pytest.mark.parametrize("holder, wanted, held_label, wanted_label", [
    ("security_admin", Role.SYSTEM_ADMIN, "安全管理员", "系统管理员"),
    ("audit_admin", Role.SECURITY_ADMIN, "安全审计员", "安全管理员"),
])
def test_the_three_admin_roles_exclude_each_other(personas, holder, wanted, held_label, wanted_label):
    with pytest.raises(ValidationError) as refused:
        services.grant_add(actor=personas.system_admin, user=personas.users[holder], role=wanted,
                           area=personas.areas["city"])
    message = refused.value.messages[0]
    assert message.startswith("三员分立：") and held_label in message and wanted_label in message
    assert set(Grant.objects.filter(user=personas.users[holder]).values_list("role", flat=True)) == {holder}


def test_an_admin_role_is_held_once(personas, newcomer):
    services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.AUDIT_ADMIN,
                       area=personas.areas["city"])
    with pytest.raises(ValidationError) as refused:
        services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.AUDIT_ADMIN,
                           area=personas.areas["dongcheng"])
    assert "已担任安全审计员" in refused.value.messages[0]


def test_database_constraint_is_the_backstop(personas):
    with pytest.raises(IntegrityError), transaction.atomic():
        Grant.objects.create(user=personas.security_admin, role=Role.AUDIT_ADMIN, area=personas.areas["city"])
    assert Grant.objects.filter(user=personas.security_admin).count() == 1


def test_service_turns_a_constraint_violation_into_a_message(personas, monkeypatch):
    # Two administrators granting at the same moment both pass the check; the
    # database refuses the second insert and the service reports it clearly.
    monkeypatch.setattr(services, "_admin_role_conflict", lambda *args: None)
    with pytest.raises(ValidationError) as refused:
        services.grant_add(actor=personas.system_admin, user=personas.security_admin, role=Role.AUDIT_ADMIN,
                           area=personas.areas["city"])
    assert refused.value.messages == ["三员分立：一个账号只能担任系统管理员、安全管理员、安全审计员中的一个。"]
    assert Grant.objects.filter(user=personas.security_admin).count() == 1
    assert not audited("core.grant.add").exists()
    # The transaction is still usable after the refused insert.
    assert User.objects.filter(pk=personas.security_admin.pk).exists()


def test_a_system_admin_cannot_grant_themselves(personas):
    with pytest.raises(ValidationError) as refused:
        services.grant_add(actor=personas.system_admin, user=personas.system_admin, role=Role.DISTRICT_ADMIN,
                           area=personas.areas["dongcheng"])
    assert "系统管理员不能给自己授权或撤销自己的角色。" in refused.value.messages
    own = personas.system_admin.grants.get()
    with pytest.raises(ValidationError):
        services.grant_revoke(actor=personas.system_admin, grant=own)
    assert Grant.objects.filter(pk=own.pk).exists()


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HANDLER, Role.UNIT_LIAISON])
def test_department_and_unit_roles_need_an_organisation(personas, newcomer, role):
    with pytest.raises(ValidationError) as refused:
        services.grant_add(actor=personas.system_admin, user=newcomer, role=role,
                           area=personas.areas["dongcheng"])
    assert "必须指定所属组织" in refused.value.message_dict["organisation"][0]
    grant = services.grant_add(actor=personas.system_admin, user=newcomer, role=role,
                               area=personas.areas["dongcheng"], organisation=personas.orgs["department"])
    assert grant.organisation == personas.orgs["department"]


def test_only_system_admins_grant_and_only_in_their_area(personas, newcomer):
    for actor in ("security_admin", "audit_admin", "district_admin", "street_hub"):
        with pytest.raises(PermissionDenied):
            services.grant_add(actor=personas.users[actor], user=newcomer, role=Role.RESIDENT,
                               area=personas.areas["community_a"])
        with pytest.raises(PermissionDenied):
            services.grant_revoke(actor=personas.users[actor], grant=personas.member.grants.get())
    tianjin = Area.objects.unscoped().create(code="1201", name="天津市", level=AreaLevel.CITY)
    with pytest.raises(ValidationError) as outside:
        services.grant_add(actor=personas.system_admin, user=newcomer, role=Role.RESIDENT, area=tianjin)
    assert "天津市 不在其中" in outside.value.messages[0]
    assert not Grant.objects.filter(user=newcomer).exists()


def test_unknown_role_is_refused(personas, newcomer):
    with pytest.raises(ValidationError):
        services.grant_add(actor=personas.system_admin, user=newcomer, role="emperor",
                           area=personas.areas["city"])


# --- lockouts ------------------------------------------------------------------

def test_lockout_clear_needs_the_security_admin(personas):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(username="street_hub", ip_address="127.0.0.1", user_agent="x",
                                 failures_since_start=5, get_data="", post_data="", http_accept="x",
                                 path_info="/accounts/login/")
    with pytest.raises(PermissionDenied):
        services.lockout_clear(actor=personas.system_admin, username="street_hub")
    assert services.lockout_clear(actor=personas.security_admin, username="street_hub") == 1
    assert not AccessAttempt.objects.exists()
    assert audited("core.auth.lockout_clear", actor=personas.security_admin).exists()
