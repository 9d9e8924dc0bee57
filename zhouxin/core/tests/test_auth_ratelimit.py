"""Sign-in per client address: after 30 failed steps in 10 minutes from one address, that address
gets a 429 page in Chinese with Retry-After (password step and code step each), while django-axes
still locks a single account after 5 failures.  Successful sign-ins do not count."""

from __future__ import annotations

import math
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhouxin.core import ratelimit
from zhouxin.core.views.auth import IP_FAILURE_LIMIT, IP_FAILURE_WINDOW
from zhouxin.testing.personas import PASSWORD

LOGIN = reverse("core:login")
VERIFY = reverse("core:verify_totp")
HOME = reverse("core:home")
NETWORK = re.compile(r"您所在的网络登录失败次数过多，为保护账号安全，请 (\d+) 分钟后再试。")
WRONG = "用户名或密码错误。"

pytestmark = pytest.mark.django_db


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip)


def login(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def text(response) -> str:
    return response.content.decode()


def says_wait(response) -> bool:
    """The page names the minutes Retry-After gives (rounded up)."""
    found = NETWORK.search(text(response))
    wait = int(response["Retry-After"])
    return bool(found) and 1 <= wait <= IP_FAILURE_WINDOW and int(found.group(1)) == math.ceil(wait / 60)


def test_password_spraying_from_one_address_is_stopped(personas):
    assert IP_FAILURE_LIMIT == 30 and IP_FAILURE_WINDOW == 600
    client = from_ip("203.0.113.7")
    # Three wrong passwords on each of ten accounts: below axes's 5 per account, 30 for the address.
    for n in range(30):
        response = login(client, f"staff{n % 10}", f"guess-{n}")
        assert response.status_code == 200 and WRONG in text(response), n
    refused = login(client, "street_hub")  # even the right password, from this address
    assert refused.status_code == 429
    assert says_wait(refused) and WRONG not in text(refused)
    assert 'value="street_hub"' in text(refused)  # the form keeps the username
    assert SESSION_KEY not in client.session

    # Another address is not affected, and the account itself is not locked.
    other = from_ip("198.51.100.20")
    response = login(other, "street_hub")
    assert response.status_code == 302 and response["Location"] == VERIFY


def test_the_account_lockout_still_comes_first_for_one_account(personas):
    client = from_ip("203.0.113.8")
    for n in range(5):
        assert login(client, "member", f"wrong-{n}").status_code == 200
    locked = login(client, "member")
    assert locked.status_code == 429 and "账号已锁定 15 分钟" in text(locked) and not NETWORK.search(text(locked))


def test_successful_sign_ins_do_not_count(personas):
    client = from_ip("203.0.113.9")
    for _ in range(IP_FAILURE_LIMIT + 5):
        response = login(client, "member")
        assert response.status_code == 302 and response["Location"] == HOME
        client.post(reverse("core:logout"))
    assert ratelimit.hits("login.password.ip", "203.0.113.9", window_seconds=IP_FAILURE_WINDOW) == 0


def test_wrong_codes_from_one_address_are_stopped_too(personas):
    ip = "203.0.113.10"
    client = from_ip(ip)
    assert login(client, "street_hub").status_code == 302
    wrong = client.post(VERIFY, {"token": "000000" if personas.totp("street_hub") != "000000" else "111111"})
    assert wrong.status_code == 200 and "验证码错误" in text(wrong)
    assert ratelimit.hits("login.code.ip", ip, window_seconds=IP_FAILURE_WINDOW) == 1
    # As if 29 more wrong codes had come from this address (over many pending sign-ins).
    for _ in range(IP_FAILURE_LIMIT - 1):
        ratelimit.allow("login.code.ip", ip, limit=IP_FAILURE_LIMIT, window_seconds=IP_FAILURE_WINDOW)
    refused = client.post(VERIFY, {"token": personas.totp("street_hub")})  # even the right code
    assert refused.status_code == 429 and says_wait(refused)
    assert SESSION_KEY not in client.session
    # The password step of this address is a separate budget; another address verifies normally.
    other = from_ip("198.51.100.21")
    assert login(other, "street_hub").status_code == 302
    # django-otp's own (per device) wait after the wrong code above has passed.
    TOTPDevice.objects.filter(pk=personas.devices["street_hub"].pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None)
    done = other.post(VERIFY, {"token": personas.totp("street_hub")})
    assert done.status_code == 302 and done["Location"] == HOME
