"""The optional resident account: sign-in by phone and a one-time code, kept apart from
staff authentication; 我的诉求 lists the requests whose contact phone is the account's
phone (any channel) and those submitted while signed in, each opening without a second code."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.portal import sms
from zhouxin.portal.models import AccountRequest, ResidentAccount, SignInCode
from zhouxin.portal.session import RESIDENT_KEY

from .helpers import (
    OTHER_PHONE,
    PHONE,
    ask_signin_code,
    last_code,
    make_request,
    portal_requests,
    signed_in,
    submit,
)

pytestmark = pytest.mark.django_db


def test_first_sign_in_opens_an_account_with_the_notice_accepted(personas):
    client = Client()
    page = client.get(reverse("portal:signin")).content.decode()
    assert "居民账号个人信息处理告知" in page and "2026-11" in page
    response = ask_signin_code(client)
    assert response.status_code == 302 and response.url == reverse("portal:signin_code")
    assert len(sms.outbox) == 1 and sms.outbox[0].phone == PHONE and "登录居民服务的验证码" in sms.outbox[0].text
    assert not ResidentAccount.objects.exists()  # opened only when the code is proven
    assert not SignInCode.objects.filter(code_hash__contains=last_code()).exists()  # stored hashed
    assert "139****5678" in client.get(reverse("portal:signin_code")).content.decode()
    response = client.post(reverse("portal:signin_code"), {"code": last_code()})
    assert response.status_code == 302 and response.url == reverse("portal:me")
    account = ResidentAccount.objects.get()
    assert account.phone == PHONE and account.phone_index == blind_index("phone", PHONE)
    assert account.consent_version == "2026-11"
    opened = AuditEntry.objects.get(action="portal.account.opened")
    assert opened.after == {"policy": "portal.account", "version": "2026-11"}
    assert PHONE not in opened.object_repr and PHONE not in str(opened.after)


def test_signing_in_again_uses_the_same_account(personas):
    signed_in()
    signed_in()
    assert ResidentAccount.objects.count() == 1
    assert AuditEntry.objects.filter(action="portal.account.signed_in").count() == 1


@pytest.mark.parametrize("change, message", [
    ({"phone": "12345"}, "请填写 11 位手机号。"),
    ({"consent": ""}, "请阅读并勾选同意居民账号个人信息处理告知。"),
    ({"consent_version": "2020-01"}, "居民账号个人信息处理告知已更新"),
])
def test_sign_in_errors_are_explained_and_send_nothing(personas, change, message):
    response = ask_signin_code(Client(), **change)
    assert response.status_code == 422 and message in response.content.decode()
    assert sms.outbox == [] and not SignInCode.objects.exists()


def test_a_wrong_code_does_not_sign_in(personas):
    client = Client()
    ask_signin_code(client)
    good = last_code()
    wrong = "000000" if good != "000000" else "111111"
    response = client.post(reverse("portal:signin_code"), {"code": wrong})
    assert response.status_code == 422 and "验证码不正确，还可以再试 4 次。" in response.content.decode()
    assert not ResidentAccount.objects.exists()
    assert client.get(reverse("portal:me")).url == reverse("portal:signin")


def test_a_code_sent_to_another_phone_does_not_open_this_one(personas):
    stranger = Client()
    ask_signin_code(Client(), PHONE)  # the owner asks for a code
    code = last_code()
    ask_signin_code(stranger, OTHER_PHONE)
    response = stranger.post(reverse("portal:signin_code"), {"code": code})
    if code != last_code():
        assert response.status_code == 422
    assert not ResidentAccount.objects.filter(phone_index=blind_index("phone", PHONE)).exists()


def test_the_code_page_without_a_pending_sign_in_sends_back(personas):
    assert Client().get(reverse("portal:signin_code")).url == reverse("portal:signin")


def test_a_resident_session_is_not_a_staff_login(personas):
    client = signed_in()
    assert SESSION_KEY not in client.session and RESIDENT_KEY in client.session
    response = client.get(reverse("core:home"))
    assert response.status_code == 302 and "login" in response.url  # the staff workbench is out of reach


def test_my_requests_are_those_with_my_phone_from_any_channel(personas):
    mine = make_request(personas, title="楼道灯不亮")
    by_hotline = make_request(personas, title="小区门口积水", channel="hotline")
    other = make_request(personas, phone=OTHER_PHONE, title="邻居装修噪音", name="李先生")
    client = signed_in()
    page = client.get(reverse("portal:me")).content.decode()
    assert mine.number in page and "楼道灯不亮" in page and by_hotline.number in page
    assert other.number not in page and "邻居装修噪音" not in page and "李先生" not in page
    assert "139****5678" in page and PHONE not in page
    # each opens without a second code; another resident's does not
    status = client.get(reverse("portal:status", args=[mine.number]))
    assert status.status_code == 200 and "楼道灯不亮" in status.content.decode()
    assert client.get(reverse("portal:status", args=[other.number])).url == reverse("portal:track")
    assert sms.outbox[-1].text.startswith("【轴心】您登录")  # no tracking code was needed


def test_a_signed_in_resident_rates_their_own_request(personas, dispatch_world):
    from zhouxin.dispatch import services

    r = make_request(personas, category=dispatch_world.categories["040102"])
    clerk = personas.community_staff
    services.request_accept(actor=clerk, request=r)
    services.request_contact(actor=clerk, request=r, note="电话联系")
    services.request_reply(actor=clerk, request=r, reply="已清理。")
    client = signed_in()
    response = client.post(reverse("portal:rate", args=[r.number]), {"resolution": "resolved", "satisfaction": "satisfied"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == "closed"
    assert AuditEntry.objects.filter(action="portal.rating.submitted", object_id=str(r.pk)).exists()


def test_a_request_submitted_while_signed_in_is_tied_to_the_account(personas):
    client = signed_in()
    form = client.get(reverse("portal:submit")).content.decode()
    assert f'value="{PHONE}"' in form and "您已登录（139****5678）" in form
    assert submit(client, personas, contact_phone=OTHER_PHONE, title="替老人反映").status_code == 302
    r = portal_requests().get()
    assert AccountRequest.objects.filter(account__phone_index=blind_index("phone", PHONE), request=r).exists()
    assert r.number in client.get(reverse("portal:me")).content.decode()  # listed despite another phone
    assert client.get(reverse("portal:status", args=[r.number])).status_code == 200
    # the person whose phone it is sees it too; an unrelated resident does not
    assert r.number in signed_in(OTHER_PHONE).get(reverse("portal:me")).content.decode()
    assert r.number not in signed_in("13600009999").get(reverse("portal:me")).content.decode()


def test_sign_out_ends_the_resident_session(personas):
    mine = make_request(personas)
    client = signed_in()
    response = client.post(reverse("portal:signout"))
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert client.get(reverse("portal:me")).url == reverse("portal:signin")
    assert client.get(reverse("portal:status", args=[mine.number])).url == reverse("portal:track")


def test_an_idle_resident_session_times_out(personas, settings):
    client = signed_in()
    session = client.session
    state = session[RESIDENT_KEY]
    session[RESIDENT_KEY] = {**state, "seen": time.time() - settings.SESSION_IDLE_TIMEOUT.total_seconds() - 5}
    session.save()
    assert client.get(reverse("portal:me")).url == reverse("portal:signin")


def test_staff_signed_in_get_nothing_of_the_resident_pages(personas, client_for):
    mine = make_request(personas)
    for name in ("community_staff", "district_admin", "resident"):
        staff = client_for(name)
        assert staff.get(reverse("portal:me")).url == reverse("portal:signin")
        assert staff.get(reverse("portal:me_export")).url == reverse("portal:signin")
        assert staff.get(reverse("portal:status", args=[mine.number])).url == reverse("portal:track")


def test_my_requests_page_costs_the_same_queries_for_two_or_eight_requests(personas):
    client = signed_in()
    for i in range(2):
        make_request(personas, title=f"问题{i}")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("portal:me")).status_code == 200
    for i in range(6):
        make_request(personas, title=f"更多问题{i}")
    with CaptureQueriesContext(connection) as many:
        body = client.get(reverse("portal:me")).content.decode()
    assert body.count("zx-portal__request-title") == 8
    assert len(many) == len(few)
