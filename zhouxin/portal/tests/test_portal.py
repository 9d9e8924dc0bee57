"""The resident portal as a resident uses it: submit, receipt, tracking with a one-time
code, the reply and the rating that feeds the callback."""

from __future__ import annotations

import datetime as dt
import re
import struct
import uuid
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rollups, services
from zhouxin.dispatch.choices import Channel, Status
from zhouxin.dispatch.models import Attachment, RequestEvent, Rollup, ServiceRequest
from zhouxin.portal import sms
from zhouxin.portal.models import TrackingCode

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def form_data(personas, **extra):
    data = {
        "kind": "complaint", "title": "楼道堆放杂物", "description": "3号楼2单元楼道长期堆放纸箱，影响通行。",
        "category": "", "area": personas.areas["community_a"].code, "address": "3号楼2单元",
        "contact_name": "王女士", "contact_phone": PHONE, "consent": "on", "truthful": "on",
        "consent_version": "2026-11", "idempotency_key": uuid.uuid4().hex,
    }
    data.update(extra)
    return data


def submit(client, personas, **extra):
    return client.post(reverse("portal:submit"), form_data(personas, **extra))


def portal_requests():
    return ServiceRequest.objects.unscoped().filter(channel=Channel.PORTAL)


# --- submit --------------------------------------------------------------------------

def test_home_and_form_are_public_and_show_no_staff_navigation(personas):
    client = Client()
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200 and "我要反映" in home.content.decode()
    page = client.get(reverse("portal:submit")).content.decode()
    assert "多福巷社区" in page and "西交民巷社区" in page  # the public picker, despite the empty scope
    grids = client.get(reverse("portal:grids"), {"area": personas.areas["community_a"].code}).content.decode()
    assert "多福巷社区第一网格" in grids  # the grids of the chosen community, loaded by htmx
    assert "工作台" not in page and "退出登录" not in page
    assert "2026-11" in page  # the consent version shown and carried


def test_valid_submission_goes_through_intake_and_shows_the_receipt(personas, dispatch_world):
    client = Client()
    cat = dispatch_world.categories["040102"]
    response = client.post(reverse("portal:submit"), {
        **form_data(personas, category=str(cat.pk)), "photos": [SimpleUploadedFile("p.png", png(), "image/png")]})
    assert response.status_code == 302 and response.url == reverse("portal:receipt")
    r = portal_requests().get()
    assert r.channel == "portal" and r.received_by is None and r.category == cat
    assert r.contact_phone == PHONE and r.contact_name == "王女士" and r.area == personas.areas["community_a"]
    assert r.status == Status.DISPATCHED  # routed like any other channel
    assert Attachment.objects.filter(request=r).count() == 1
    consent = AuditEntry.objects.get(action="portal.consent.accepted")
    assert consent.after["version"] == "2026-11" and consent.object_id == str(r.pk)
    receipt = client.get(reverse("portal:receipt")).content.decode()
    assert r.number in receipt


def test_receipt_without_a_submission_sends_to_the_form(personas):
    response = Client().get(reverse("portal:receipt"))
    assert response.status_code == 302 and response.url == reverse("portal:submit")


@pytest.mark.parametrize("change, message", [
    ({"title": ""}, "请填写标题。"),
    ({"area": ""}, "请选择问题发生的社区或网格。"),
    ({"area": "110102001001999"}, "请从列表中选择社区或网格。"),
    ({"contact_phone": "12345"}, "请填写 11 位手机号"),
    ({"consent": ""}, "请阅读并勾选同意个人信息处理告知"),
    ({"consent_version": "2025-01"}, "个人信息处理告知已更新"),
    ({"kind": "nonsense"}, "请选择诉求类型。"),
    ({"idempotency_key": "x"}, "页面已失效"),
])
def test_invalid_submission_explains_in_chinese_and_creates_nothing(personas, change, message):
    response = submit(Client(), personas, **change)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists()
    assert not AuditEntry.objects.filter(action="portal.consent.accepted").exists()


def test_a_photo_that_is_not_an_image_is_refused_by_content(personas):
    response = Client().post(reverse("portal:submit"), {
        **form_data(personas), "photos": [SimpleUploadedFile("fake.jpg", b"MZ not a picture", "image/jpeg")]})
    assert response.status_code == 422
    assert "不是 JPEG、PNG 或 WebP 图片" in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists()


def test_ten_photos_are_refused(personas):
    photos = [SimpleUploadedFile(f"p{i}.png", png(), "image/png") for i in range(10)]
    response = Client().post(reverse("portal:submit"), {**form_data(personas), "photos": photos})
    assert response.status_code == 422 and "最多上传 9 张图片" in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists()


def test_double_submit_with_the_same_key_creates_one_request(personas):
    client = Client()
    data = form_data(personas)
    first = client.post(reverse("portal:submit"), data)
    second = client.post(reverse("portal:submit"), data)
    assert first.status_code == second.status_code == 302
    assert portal_requests().count() == 1
    assert AuditEntry.objects.filter(action="portal.consent.accepted").count() == 1
    assert portal_requests().get().number in client.get(reverse("portal:receipt")).content.decode()


def test_submissions_are_rate_limited_per_ip(personas):
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(5):
        assert submit(client, personas).status_code == 302
    response = submit(client, personas)
    assert response.status_code == 429
    assert "提交过于频繁" in response.content.decode()
    assert portal_requests().count() == 5
    assert submit(Client(REMOTE_ADDR="10.0.0.8"), personas).status_code == 302  # another network


def test_suggestions_while_typing(personas, dispatch_world):
    response = Client().post(reverse("portal:suggest"), {"title": "楼道垃圾堆放", "description": "楼道卫生差，垃圾没人清扫"})
    assert response.status_code == 200
    assert "楼道卫生" in response.content.decode()
    assert Client().post(reverse("portal:suggest"), {"title": "", "description": ""}).content.decode().strip() == ""


# --- tracking ------------------------------------------------------------------------

def make_request(personas, phone=PHONE, title="楼道堆放杂物", category=None):
    with scopes_disabled():
        return services.request_intake(
            actor=None, kind="complaint", channel="portal", area=personas.areas["community_a"], title=title,
            description="3号楼2单元楼道长期堆放纸箱。", contact_name="王女士", contact_phone=phone, category=category)


def ask_code(client, number, phone=PHONE):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the text leaves after commit
        return client.post(reverse("portal:track"), {"number": number, "phone": phone})


def last_code() -> str:
    return re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)


def test_correct_code_shows_that_request_only(personas):
    mine = make_request(personas)
    other = make_request(personas, phone="13700001111", title="隔壁噪音扰民")
    client = Client()
    response = ask_code(client, mine.number)
    assert response.status_code == 302 and response.url == reverse("portal:verify")
    assert len(sms.outbox) == 1 and sms.outbox[0].phone == PHONE
    assert not TrackingCode.objects.filter(code_hash__contains=last_code()).exists()  # stored hashed
    response = client.post(reverse("portal:verify"), {"code": last_code()})
    assert response.status_code == 302 and response.url == reverse("portal:status", args=[mine.number])
    page = client.get(response.url).content.decode()
    assert mine.number in page and "楼道堆放杂物" in page and "诉求已受理" in page
    assert "隔壁噪音扰民" not in page and "13700001111" not in page
    assert client.get(reverse("portal:status", args=[other.number])).status_code == 302  # not verified for it


def test_a_wrong_phone_gets_no_code_and_the_same_answer(personas):
    mine = make_request(personas)
    client = Client()
    response = ask_code(client, mine.number, phone="13700009999")
    assert response.status_code == 302 and response.url == reverse("portal:verify")
    assert sms.outbox == []
    response = client.post(reverse("portal:verify"), {"code": "123456"})
    assert response.status_code == 422 and "验证码不正确" in response.content.decode()
    assert client.get(reverse("portal:status", args=[mine.number])).status_code == 302


def test_wrong_code_then_too_many_attempts(personas):
    mine = make_request(personas)
    client = Client()
    ask_code(client, mine.number)
    good = last_code()
    wrong = "000000" if good != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = client.post(reverse("portal:verify"), {"code": wrong})
        assert f"还可以再试 {left} 次" in response.content.decode()
    response = client.post(reverse("portal:verify"), {"code": wrong})
    assert "输错次数过多" in response.content.decode()
    response = client.post(reverse("portal:verify"), {"code": good})  # even the right code is now spent
    assert response.status_code == 422 and "输错次数过多" in response.content.decode()
    assert client.get(reverse("portal:status", args=[mine.number])).status_code == 302


def test_an_expired_code_is_refused(personas):
    mine = make_request(personas)
    client = Client()
    ask_code(client, mine.number)
    TrackingCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.post(reverse("portal:verify"), {"code": last_code()})
    assert response.status_code == 422 and "验证码已过期" in response.content.decode()


def test_a_new_code_replaces_the_old_one(personas):
    mine = make_request(personas)
    client = Client()
    ask_code(client, mine.number)
    old = last_code()
    ask_code(client, mine.number)
    new = last_code()
    if old != new:
        assert "验证码不正确" in client.post(reverse("portal:verify"), {"code": old}).content.decode()
    assert client.post(reverse("portal:verify"), {"code": new}).status_code == 302


def test_code_requests_are_rate_limited(personas):
    mine = make_request(personas)
    client = Client()
    for _ in range(3):
        assert ask_code(client, mine.number).status_code == 302
    response = ask_code(client, mine.number)
    assert response.status_code == 429 and "获取验证码过于频繁" in response.content.decode()
    assert len(sms.outbox) == 3


def test_track_form_errors_are_in_chinese(personas):
    response = Client().post(reverse("portal:track"), {"number": "", "phone": "abc"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "请填写诉求编号。" in body and "请填写 11 位手机号。" in body
    assert sms.outbox == []


# --- reply and rating ----------------------------------------------------------------

def replied(personas, dispatch_world):
    r = make_request(personas, category=dispatch_world.categories["040102"])
    clerk = personas.community_staff
    services.request_accept(actor=clerk, request=r)
    services.request_contact(actor=clerk, request=r, note="电话联系")
    services.request_reply(actor=clerk, request=r, reply="已联系物业清理楼道杂物。")
    r.refresh_from_db()
    return r


def verified_client(number):
    client = Client()
    ask_code(client, number)
    assert client.post(reverse("portal:verify"), {"code": last_code()}).status_code == 302
    return client


def community_rollup(personas, r):
    return Rollup.objects.unscoped().get(month=rollups.month_of(r.received_at), area=personas.areas["community_a"],
                                         organisation=None)


def test_unsatisfied_rating_feeds_the_callback_and_waits_for_supervision(personas, dispatch_world):
    r = replied(personas, dispatch_world)
    before = community_rollup(personas, r)
    client = verified_client(r.number)
    page = client.get(reverse("portal:status", args=[r.number])).content.decode()
    assert "已联系物业清理楼道杂物。" in page and "评价办理结果" in page
    response = client.post(reverse("portal:rate", args=[r.number]),
                           {"resolution": "not_resolved", "satisfaction": "unsatisfied"})
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == Status.REPLIED and r.callback_at is not None  # left to the street supervisor
    assert r.satisfaction == "unsatisfied" and r.resolution == "not_resolved"
    event = RequestEvent.objects.get(request=r, action="callback")
    assert event.actor is None and event.data["satisfaction"] == "unsatisfied"
    after = community_rollup(personas, r)
    assert after.callbacks == before.callbacks + 1 and after.evaluated == before.evaluated + 1
    assert after.satisfied == before.satisfied and after.closed == before.closed
    # the supervisor can now reopen it, as after a staff callback
    services.request_reopen(actor=personas.street_hub, request=r, reason="居民反映问题仍未解决")
    r.refresh_from_db()
    assert r.status == Status.REOPENED
    # and the resident cannot rate twice
    page = client.get(reverse("portal:status", args=[r.number])).content.decode()
    assert "提交评价" not in page


def test_satisfied_rating_closes_the_request(personas, dispatch_world):
    r = replied(personas, dispatch_world)
    before = community_rollup(personas, r)
    client = verified_client(r.number)
    client.post(reverse("portal:rate", args=[r.number]), {"resolution": "resolved", "satisfaction": "satisfied"})
    r.refresh_from_db()
    assert r.status == Status.CLOSED
    after = community_rollup(personas, r)
    assert after.satisfied == before.satisfied + 1 and after.closed == before.closed + 1
    assert "已办结" in client.get(reverse("portal:status", args=[r.number])).content.decode()


def test_rating_before_the_reply_is_refused(personas):
    r = make_request(personas)
    client = verified_client(r.number)
    response = client.post(reverse("portal:rate", args=[r.number]), {"resolution": "resolved", "satisfaction": "satisfied"})
    assert response.status_code == 422 and "该诉求目前不能评价" in response.content.decode()
    r.refresh_from_db()
    assert r.callback_at is None


def test_invalid_rating_changes_nothing(personas, dispatch_world):
    r = replied(personas, dispatch_world)
    client = verified_client(r.number)
    response = client.post(reverse("portal:rate", args=[r.number]), {"resolution": "", "satisfaction": "bogus"})
    assert response.status_code == 422
    assert "请选择问题是否解决。" in response.content.decode()
    r.refresh_from_db()
    assert r.status == Status.REPLIED and r.callback_at is None


def test_rating_without_a_verified_session_is_refused(personas, dispatch_world):
    r = replied(personas, dispatch_world)
    response = Client().post(reverse("portal:rate", args=[r.number]), {"resolution": "resolved", "satisfaction": "satisfied"})
    assert response.status_code == 302 and response.url == reverse("portal:track")
    r.refresh_from_db()
    assert r.callback_at is None


def test_a_stranger_with_the_number_cannot_use_the_requesters_code(personas):
    mine = make_request(personas)
    ask_code(Client(), mine.number)  # the requester asks for a code
    code = last_code()
    stranger = Client()
    ask_code(stranger, mine.number, phone="13700009999")  # knows the number, not the phone
    response = stranger.post(reverse("portal:verify"), {"code": code})
    assert response.status_code == 422 and "验证码不正确" in response.content.decode()
    assert stranger.get(reverse("portal:status", args=[mine.number])).status_code == 302


def test_errors_are_tied_to_their_fields_for_screen_readers(personas):
    body = submit(Client(), personas, contact_phone="12345").content.decode()
    field = re.search(r'<input[^>]*name="contact_phone"[^>]*>', body).group(0)
    assert 'aria-invalid="true"' in field and "id_contact_phone_error" in field
    assert 'id="id_contact_phone_error"' in body
