"""Sign-in: password with lockout, TOTP for staff (verification, reuse, enrolment),
logout, password change and the session timeouts."""

from __future__ import annotations

import re
import time
from base64 import b32decode
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core.choices import Role
from zhouxin.core.middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT
from zhouxin.core.models import AuditEntry, Grant, User, UserSession
from zhouxin.core.views.auth import PENDING
from zhouxin.testing.personas import PASSWORD

LOGIN = reverse("core:login")
VERIFY = reverse("core:verify_totp")
ENROL = reverse("core:enrol_totp")
HOME = reverse("core:home")

WRONG = "用户名或密码错误。连续输错 5 次，账号将被锁定 15 分钟。"
LOCKED = "登录失败次数过多，账号已锁定 15 分钟，请稍后再试。"


def password_step(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def text(response) -> str:
    return response.content.decode()


def signed_in_as(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def wait_out_throttle(device: TOTPDevice) -> None:
    """django-otp doubles the wait after each wrong code; let that time pass."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1))


# --- password step -----------------------------------------------------------

def test_login_page_has_the_fields_the_browser_test_uses(db):
    response = Client().get(LOGIN)
    assert response.status_code == 200
    body = text(response)
    assert 'name="username"' in body and 'name="password"' in body
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in body and "style=" not in body


def test_member_signs_in_with_password_only(personas):
    client = Client()
    response = password_step(client, "member")
    assert response.status_code == 302 and response["Location"] == HOME
    assert signed_in_as(client) == personas.member.pk
    assert client.get(HOME).status_code == 200
    assert AuditEntry.objects.filter(action="core.auth.login", actor=personas.member).exists()
    assert UserSession.objects.filter(user=personas.member, session_key=client.session.session_key).exists()


def test_login_follows_a_local_next_but_not_another_host(personas):
    client = Client()
    response = client.post(f"{LOGIN}?next=/orgs/", {"username": "resident", "password": PASSWORD})
    assert response["Location"] == "/orgs/"
    client = Client()
    response = client.post(f"{LOGIN}?next=https://evil.example/", {"username": "resident", "password": PASSWORD})
    assert response["Location"] == HOME


def test_wrong_password_and_unknown_user_get_the_same_answer(personas):
    wrong = password_step(Client(), "street_hub", "not-the-password")
    unknown = password_step(Client(), "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in text(wrong) and WRONG in text(unknown)
    def normalised(response, username):  # CSRF tokens differ per client
        return re.sub(r"[A-Za-z0-9]{64}", "", text(response)).replace(username, "X")

    assert normalised(wrong, "street_hub") == normalised(unknown, "nobody-here")
    failed = AuditEntry.objects.filter(action="core.auth.login_failed")
    assert set(failed.values_list("object_repr", flat=True)) == {"street_hub", "nobody-here"}


def test_blank_fields_are_refused_with_a_message(db):
    response = Client().post(LOGIN, {"username": "", "password": ""})
    assert "请输入用户名。" in text(response) and "请输入密码。" in text(response)


@pytest.mark.parametrize("username", ["street_hub", "member", "nobody-here"])
def test_sixth_attempt_is_locked_for_fifteen_minutes(personas, username):
    client = Client()
    for attempt in range(1, 6):
        response = password_step(client, username, f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert WRONG in text(response) and LOCKED not in text(response), attempt
    # The sixth attempt is refused, and so is the right password, for 15 minutes.
    sixth = password_step(client, username, "wrong-6")
    assert sixth.status_code == 429 and LOCKED in text(sixth) and WRONG not in text(sixth)
    right = password_step(client, username, PASSWORD)
    assert right.status_code == 429 and LOCKED in text(right)
    assert signed_in_as(client) is None
    # From another browser (other User-Agent) too: the lock is on the account.
    other = password_step(Client(HTTP_USER_AGENT="Other/1.0"), username, PASSWORD)
    assert other.status_code == 429 and LOCKED in text(other)
    # Refused attempts do not extend the lock: it runs from the fifth failure.
    assert sum(AccessAttempt.objects.filter(username=username).values_list("failures_since_start", flat=True)) == 5

    # 14 minutes later: still locked.
    AccessAttempt.objects.filter(username=username).update(
        attempt_time=timezone.now() - timedelta(minutes=14, seconds=50))
    assert password_step(Client(), username, PASSWORD).status_code == 429
    # 15 minutes after the fifth failure the lock is over.
    AccessAttempt.objects.filter(username=username).update(
        attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    after = password_step(Client(), username, PASSWORD)
    assert LOCKED not in text(after)
    if username == "nobody-here":
        assert WRONG in text(after)
    else:
        assert after.status_code == 302


def test_lockout_page_is_identical_for_existing_and_unknown_accounts(personas):
    pages = []
    for username in ("street_hub", "nobody-here"):
        client = Client()
        for attempt in range(6):
            response = password_step(client, username, f"wrong-{attempt}")
        body = re.sub(r"[A-Za-z0-9]{64}", "", text(response))  # CSRF tokens differ per client
        pages.append(body.replace(username, "X"))
    assert pages[0] == pages[1]


def test_success_before_the_limit_resets_the_count(personas):
    client = Client()
    for attempt in range(4):
        password_step(client, "resident", f"wrong-{attempt}")
    assert password_step(client, "resident").status_code == 302
    client.post(reverse("core:logout"))
    for attempt in range(4):
        assert WRONG in text(password_step(client, "resident", f"again-{attempt}"))
    assert password_step(client, "resident").status_code == 302


# --- second factor -------------------------------------------------------------

def test_staff_password_alone_does_not_sign_in(personas):
    client = Client()
    response = password_step(client, "street_hub")
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert signed_in_as(client) is None
    assert client.get(HOME).status_code == 302
    page = client.get(VERIFY)
    assert page.status_code == 200 and 'name="token"' in text(page)


def test_staff_signs_in_with_the_current_code(personas):
    client = Client()
    password_step(client, "street_hub")
    response = client.post(VERIFY, {"token": personas.totp("street_hub")})
    assert response.status_code == 302 and response["Location"] == HOME
    assert signed_in_as(client) == personas.street_hub.pk
    assert client.session[DEVICE_ID_SESSION_KEY] == personas.devices["street_hub"].persistent_id
    assert PENDING not in client.session
    assert client.get(HOME).status_code == 200


def test_next_survives_the_second_factor(personas):
    client = Client()
    client.post(f"{LOGIN}?next=/orgs/", {"username": "street_hub", "password": PASSWORD})
    response = client.post(VERIFY, {"token": personas.totp("street_hub")})
    assert response["Location"] == "/orgs/"


def test_missing_and_malformed_codes_are_refused(personas):
    client = Client()
    password_step(client, "community_staff")
    missing = client.post(VERIFY, {})
    assert "请输入身份验证器上显示的 6 位验证码。" in text(missing)
    malformed = client.post(VERIFY, {"token": "12ab"})
    assert "验证码为 6 位数字。" in text(malformed)
    assert signed_in_as(client) is None


def test_wrong_code_is_refused_and_audited(personas):
    client = Client()
    password_step(client, "community_staff")
    good = personas.totp("community_staff")
    wrong = f"{(int(good) + 500000) % 1000000:06d}"
    response = client.post(VERIFY, {"token": wrong})
    assert "验证码错误或已使用过" in text(response)
    assert signed_in_as(client) is None
    assert AuditEntry.objects.filter(action="core.auth.totp_failed", actor=personas.community_staff,
                                     result="denied").exists()
    # django-otp makes the next try wait; right away even the good code waits.
    throttled = client.post(VERIFY, {"token": good})
    assert "秒后再试" in text(throttled) and signed_in_as(client) is None
    wait_out_throttle(personas.devices["community_staff"])
    assert client.post(VERIFY, {"token": good}).status_code == 302
    assert signed_in_as(client) == personas.community_staff.pk


def test_a_code_cannot_be_used_twice(personas):
    code = personas.totp("grid_worker")
    first = Client()
    password_step(first, "grid_worker")
    assert first.post(VERIFY, {"token": code}).status_code == 302
    second = Client()
    password_step(second, "grid_worker")
    response = second.post(VERIFY, {"token": code})
    assert response.status_code == 200 and "验证码错误或已使用过" in text(response)
    assert signed_in_as(second) is None
    assert TOTPDevice.objects.get(pk=personas.devices["grid_worker"].pk).last_t >= 0


def test_too_many_wrong_codes_send_back_to_the_password(personas):
    client = Client()
    password_step(client, "district_admin")
    device = personas.devices["district_admin"]
    for attempt in range(4):
        wait_out_throttle(device)
        response = client.post(VERIFY, {"token": f"00000{attempt}"})
        assert response.status_code == 200
    wait_out_throttle(device)
    response = client.post(VERIFY, {"token": "000009"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert client.get(VERIFY)["Location"] == LOGIN
    assert "验证码错误次数过多" in text(client.get(LOGIN))


def test_verify_and_enrol_without_a_password_step_redirect_to_login(db):
    client = Client()
    for url in (VERIFY, ENROL):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == LOGIN
        assert client.post(url, {"token": "123456"})["Location"] == LOGIN
    assert "请先输入用户名和密码。" in text(client.get(LOGIN))


def test_pending_password_step_expires(personas):
    client = Client()
    password_step(client, "street_hub")
    session = client.session
    session[PENDING] = {**session[PENDING], "until": time.time() - 1}
    session.save()
    response = client.post(VERIFY, {"token": personas.totp("street_hub")})
    assert response["Location"] == LOGIN
    assert signed_in_as(client) is None
    assert "验证已超时" in text(client.get(LOGIN))


def test_deactivated_between_the_steps_cannot_finish(personas):
    client = Client()
    password_step(client, "street_hub")
    User.objects.filter(pk=personas.street_hub.pk).update(is_active=False)
    assert client.post(VERIFY, {"token": personas.totp("street_hub")})["Location"] == LOGIN
    assert signed_in_as(client) is None


# --- enrolment -----------------------------------------------------------------

def _new_staff(personas, username="new_hub") -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name="新街道干部")
    Grant.objects.create(user=user, role=Role.STREET_HUB, area=personas.areas["street_b"])
    return user


def _secret_from(page) -> bytes:
    groups = re.search(r'aria-label="密钥">(.*?)</p>', page, re.S).group(1)
    secret = "".join(re.findall(r"<span[^>]*>([A-Z2-7]+)</span>", groups))
    return b32decode(secret)


def test_staff_without_a_device_enrols_by_qr_code(personas):
    user = _new_staff(personas)
    client = Client()
    response = password_step(client, "new_hub")
    assert response["Location"] == ENROL
    assert client.get(VERIFY)["Location"] == ENROL
    page = client.get(ENROL)
    body = text(page)
    assert page.status_code == 200 and 'name="token"' in body
    svg = re.search(r"<svg.*?</svg>", body, re.S).group(0)
    assert "<path" in svg and "style" not in svg and "<script" not in svg
    key = _secret_from(body)
    assert len(key) == 20
    # Reloading keeps the same secret (the phone may already have scanned it).
    assert _secret_from(text(client.get(ENROL))) == key

    totp = TOTP(key)
    wrong = f"{(totp.token() + 1) % 1000000:06d}"
    refused = client.post(ENROL, {"token": wrong})
    assert "验证码不正确" in text(refused)
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="core.auth.totp_enrol_failed", actor=user).exists()

    code = f"{totp.token():06d}"
    done = client.post(ENROL, {"token": code})
    assert done.status_code == 302 and done["Location"] == HOME
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and device.key == key.hex()
    assert signed_in_as(client) == user.pk and client.get(HOME).status_code == 200
    assert AuditEntry.objects.filter(action="core.auth.totp_enrolled", actor=user).exists()

    # The enrolment code cannot be used again to sign in, and enrolment is closed now.
    again = Client()
    assert password_step(again, "new_hub")["Location"] == VERIFY
    assert again.get(ENROL)["Location"] == VERIFY
    assert "验证码错误或已使用过" in text(again.post(VERIFY, {"token": code}))


def test_members_are_never_asked_to_enrol(personas):
    client = Client()
    assert password_step(client, "unit_liaison")["Location"] == HOME
    assert not TOTPDevice.objects.filter(user=personas.unit_liaison).exists()


# --- logout --------------------------------------------------------------------

def test_logout_needs_post_and_ends_the_session(personas, client_for):
    client = client_for("street_hub")
    key = client.session.session_key
    assert client.get(reverse("core:logout")).status_code == 405
    response = client.post(reverse("core:logout"))
    assert response["Location"] == LOGIN
    assert client.get(HOME).status_code == 302
    assert not UserSession.objects.filter(session_key=key).exists()
    assert AuditEntry.objects.filter(action="core.auth.logout", actor=personas.street_hub).exists()
    assert "您已安全退出。" in text(client.get(LOGIN))


# --- password change -------------------------------------------------------------

NEW_PASSWORD = "Gaibian-Mima-2026#"


def test_password_change_applies_policy_and_history(personas, client_for):
    client = client_for("community_staff")
    other = client_for("community_staff")  # the same person on another device
    url = reverse("core:password_change")
    assert client.get(url).status_code == 200

    wrong_old = client.post(url, {"old_password": "nope", "new_password1": NEW_PASSWORD,
                                  "new_password2": NEW_PASSWORD})
    assert "当前密码不正确。" in text(wrong_old)
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "abcdefgh", "new_password2": "abcdefgh"})
    assert "密码至少需要 10 位。" in text(weak)
    same = client.post(url, {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "新密码不能与最近 5 次使用过的密码相同。" in text(same)
    mismatch = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                 "new_password2": NEW_PASSWORD + "x"})
    assert "两次输入的新密码不一致。" in text(mismatch)
    user = User.objects.get(pk=personas.community_staff.pk)
    assert user.check_password(PASSWORD) and user.password_changed_at is None

    done = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                             "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user.password_changed_at is not None
    assert check_password(PASSWORD, user.password_history[0])
    # This browser stays signed in; the other device is signed out.
    assert client.get(HOME).status_code == 200
    assert other.get(HOME).status_code == 302
    assert UserSession.objects.filter(user=user, session_key=client.session.session_key).exists()
    assert AuditEntry.objects.filter(action="core.user.password_change", actor=user).exists()
    # Changing back to the old password is refused (history).
    back = client.post(url, {"old_password": NEW_PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert "新密码不能与最近 5 次使用过的密码相同。" in text(back)


def test_password_change_needs_sign_in(db):
    response = Client().get(reverse("core:password_change"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# --- session timeouts --------------------------------------------------------------

def _age_session(client, *, login_ago=None, seen_ago=None):
    session = client.session
    now = timezone.now().timestamp()
    if login_ago is not None:
        session[SESSION_LOGIN_AT] = now - login_ago.total_seconds()
    if seen_ago is not None:
        session[SESSION_SEEN_AT] = now - seen_ago.total_seconds()
    session.save()


def test_idle_timeout_after_thirty_minutes(personas, client_for):
    client = client_for("street_hub")
    _age_session(client, seen_ago=timedelta(minutes=29))
    assert client.get(HOME).status_code == 200
    _age_session(client, seen_ago=timedelta(minutes=30, seconds=5))
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next=%2F"
    assert client.get(HOME).status_code == 302
    assert "登录已超时，请重新登录。" in text(client.get(LOGIN))
    assert AuditEntry.objects.filter(action="core.auth.logout", actor=personas.street_hub).exists()


def test_activity_keeps_the_session_alive(personas, client_for):
    client = client_for("street_hub")
    _age_session(client, seen_ago=timedelta(minutes=20))
    assert client.get(HOME).status_code == 200
    # The visit moved the "last seen" mark: twenty more minutes are still within the limit.
    seen = client.session[SESSION_SEEN_AT]
    assert timezone.now().timestamp() - seen < 5


def test_absolute_timeout_after_twelve_hours(personas, client_for):
    client = client_for("resident")
    _age_session(client, login_ago=timedelta(hours=11, minutes=59), seen_ago=timedelta(minutes=1))
    assert client.get(HOME).status_code == 200
    _age_session(client, login_ago=timedelta(hours=12, seconds=5), seen_ago=timedelta(seconds=10))
    assert client.get(HOME).status_code == 302
    assert signed_in_as(client) is None


def test_timeout_on_an_htmx_request_redirects_the_page(personas, client_for):
    client = client_for("street_hub")
    _age_session(client, seen_ago=timedelta(hours=1))
    response = client.get(HOME, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == LOGIN


def test_an_old_password_is_flagged_at_sign_in(personas):
    User.objects.filter(pk=personas.member.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    client = Client()
    response = password_step(client, "member")
    assert "您的密码已超过 90 天未修改，请尽快修改密码。" in text(client.get(response["Location"]))
    User.objects.filter(pk=personas.resident.pk).update(password_changed_at=timezone.now() - timedelta(days=10))
    fresh = Client()
    assert "请尽快修改密码" not in text(fresh.get(password_step(fresh, "resident")["Location"]))
