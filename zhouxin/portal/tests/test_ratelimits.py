"""Rate limits of the portal (zhouxin.core.ratelimit): per network AND per phone or account,
on submissions, text messages, code checks and sign-in; a 429 page with Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.portal import services, sms
from zhouxin.portal.models import SignInCode

from .helpers import PHONE, ask_code, ask_signin_code, make_request, portal_requests, signed_in, submit

pytestmark = pytest.mark.django_db


def assert_429(response, text):
    assert response.status_code == 429
    assert text in response.content.decode()
    assert int(response["Retry-After"]) > 0


def test_the_sixth_submission_from_one_network_gets_429_and_creates_nothing(personas):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for n in range(5):
        assert submit(client, personas, contact_phone=f"1391234567{n}").status_code == 302
    response = submit(client, personas, contact_phone="13912345679")
    assert_429(response, "同一网络 10 分钟内最多提交 5 件诉求")
    assert int(response["Retry-After"]) <= 600
    assert portal_requests().count() == 5
    assert AuditEntry.objects.filter(action="portal.consent.accepted").count() == 5
    assert submit(Client(REMOTE_ADDR="10.0.0.8"), personas).status_code == 302  # another network


def test_invalid_submissions_count_against_the_network_too(personas):
    client = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(5):
        assert submit(client, personas, title="").status_code == 422
    assert_429(submit(client, personas), "提交过于频繁")
    assert not ServiceRequest.objects.unscoped().exists()


def test_one_phone_cannot_submit_more_than_ten_an_hour_from_any_network(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.submit.phone", (2, 3600))
    assert submit(Client(REMOTE_ADDR="10.1.0.1"), personas).status_code == 302
    assert submit(Client(REMOTE_ADDR="10.1.0.2"), personas).status_code == 302
    assert_429(submit(Client(REMOTE_ADDR="10.1.0.3"), personas), "同一手机号 1 小时内最多提交")
    assert portal_requests().count() == 2
    assert submit(Client(REMOTE_ADDR="10.1.0.3"), personas, contact_phone="13700002222").status_code == 302


def test_a_signed_in_account_is_limited_whatever_the_contact_phone(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.submit.account", (1, 3600))
    client = signed_in()
    assert submit(client, personas).status_code == 302
    response = submit(client, personas, contact_phone="13700002222")
    assert_429(response, "同一账号 1 小时内最多提交")
    assert portal_requests().count() == 1


def test_code_sends_are_limited_per_phone_across_requests_and_networks(personas):
    numbers = [make_request(personas, title=f"问题{i}").number for i in range(4)]
    for i, number in enumerate(numbers[:3]):
        assert ask_code(Client(REMOTE_ADDR=f"10.2.0.{i}"), number).status_code == 302
    response = ask_code(Client(REMOTE_ADDR="10.2.0.9"), numbers[3])
    assert_429(response, "获取验证码过于频繁")
    assert len(sms.outbox) == 3 and all(m.phone == PHONE for m in sms.outbox)


def test_code_sends_are_limited_per_request_number(personas):
    mine = make_request(personas)
    client = Client()
    for _ in range(3):
        assert ask_code(client, mine.number).status_code == 302
    assert_429(ask_code(client, mine.number), "获取验证码过于频繁")
    assert len(sms.outbox) == 3


def test_code_sends_are_limited_per_network(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.sms.ip", (2, 600))
    client = Client(REMOTE_ADDR="10.3.0.1")
    assert ask_code(client, "DC0000000001", phone="13700000001").status_code == 302
    assert ask_code(client, "DC0000000002", phone="13700000002").status_code == 302
    assert_429(ask_code(client, "DC0000000003", phone="13700000003"), "获取验证码过于频繁")


def test_sign_in_codes_share_the_per_phone_text_limit(personas):
    mine = make_request(personas)
    ask_code(Client(REMOTE_ADDR="10.4.0.1"), mine.number)
    ask_signin_code(Client(REMOTE_ADDR="10.4.0.2"))
    ask_signin_code(Client(REMOTE_ADDR="10.4.0.3"))
    response = ask_signin_code(Client(REMOTE_ADDR="10.4.0.4"))
    assert_429(response, "获取验证码过于频繁")
    assert len(sms.outbox) == 3
    assert SignInCode.objects.count() == 2


def test_code_checks_are_limited_per_network(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.verify.ip", (3, 600))
    mine = make_request(personas)
    client = Client(REMOTE_ADDR="10.5.0.1")
    ask_code(client, mine.number)
    for _ in range(3):
        assert client.post(reverse("portal:verify"), {"code": "000000"}).status_code == 422
    assert_429(client.post(reverse("portal:verify"), {"code": "000000"}), "尝试过于频繁")


def test_sign_in_checks_are_limited_per_phone_across_networks(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.verify.key", (2, 600))
    clients = [Client(REMOTE_ADDR=f"10.6.0.{i}") for i in range(3)]
    for client in clients:
        ask_signin_code(client)
    assert clients[0].post(reverse("portal:signin_code"), {"code": "000000"}).status_code == 422
    assert clients[1].post(reverse("portal:signin_code"), {"code": "000000"}).status_code == 422
    # A third network guessing at the same phone's code is stopped before the check.
    assert_429(clients[2].post(reverse("portal:signin_code"), {"code": "000000"}), "尝试过于频繁")


def test_suggestions_are_limited_per_network(personas, monkeypatch):
    monkeypatch.setitem(services.LIMITS, "portal.suggest.ip", (1, 600))
    client = Client(REMOTE_ADDR="10.7.0.1")
    assert client.post(reverse("portal:suggest"), {"title": "楼道灯不亮"}).status_code == 200
    assert client.post(reverse("portal:suggest"), {"title": "楼道灯不亮"}).status_code == 429
