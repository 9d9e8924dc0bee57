"""Session fixation: a session id planted in the browser before sign-in (by a shared computer or
a cookie-setting neighbour) is worthless after it — staff (password + TOTP), members (password)
and residents (phone + code) each get a new session id, and the planted one signs no one in.
Lockout after five failures and the refusal of a reused TOTP code are in core/tests/test_auth.py."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from zhouxin.testing.personas import PASSWORD

from .crawl import resident_client

pytestmark = pytest.mark.django_db


def plant(client: Client) -> str:
    store = SessionStore()
    store["planted"] = True
    store.create()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = store.session_key
    return store.session_key


def session_key(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def attacker(planted: str) -> Client:
    other = Client()
    other.cookies[django_settings.SESSION_COOKIE_NAME] = planted
    return other


def test_staff_sign_in_with_totp_gets_a_new_session_id(personas):
    client = Client()
    planted = plant(client)
    assert client.post(reverse("core:login"), {"username": "street_hub", "password": PASSWORD}).status_code == 302
    response = client.post(reverse("core:verify_totp"), {"token": personas.totp("street_hub")})
    assert response.status_code == 302 and response["Location"] == reverse("core:home")
    assert session_key(client) != planted
    assert client.get(reverse("core:home")).status_code == 200
    assert attacker(planted).get(reverse("core:home")).status_code == 302  # sent to sign in


def test_member_password_sign_in_gets_a_new_session_id(personas):
    client = Client()
    planted = plant(client)
    assert client.post(reverse("core:login"), {"username": "member", "password": PASSWORD}).status_code == 302
    assert session_key(client) != planted
    assert attacker(planted).get(reverse("core:home")).status_code == 302


def test_resident_sign_in_gets_a_new_session_id(personas, settings):
    client = Client()
    planted = plant(client)
    resident_client(settings, client=client)
    assert session_key(client) != planted
    assert client.get(reverse("portal:me")).status_code == 200
    assert attacker(planted).get(reverse("portal:me")).status_code == 302
