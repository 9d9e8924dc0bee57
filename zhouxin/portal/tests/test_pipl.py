"""A signed-in resident's rights under the 个人信息保护法: export their own data, correct
their contact on open requests, delete their personal data (the requests are kept, with
the legal basis noted).  Always only their own: another resident's request is present in
every test and must stay untouched and unseen."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.dispatch import rollups, services
from zhouxin.dispatch.choices import EventAction
from zhouxin.dispatch.models import Attachment, RequestEvent, Rollup, ServiceRequest
from zhouxin.dispatch.services import PIPL_RETENTION_NOTE
from zhouxin.portal import sms
from zhouxin.portal.models import AccountRequest, ResidentAccount, SignInCode, TrackingCode

from .helpers import (
    GPS,
    OTHER_PHONE,
    PHONE,
    ask_code,
    form_data,
    jpeg,
    make_request,
    portal_requests,
    signed_in,
)

pytestmark = pytest.mark.django_db

THEIRS = {"title": "隔壁装修噪音扰民", "name": "李先生", "phone": OTHER_PHONE, "address": "5号楼1单元101"}


@pytest.fixture
def theirs(personas):
    return make_request(personas, phone=THEIRS["phone"], title=THEIRS["title"], name=THEIRS["name"],
                        address=THEIRS["address"])


def replied(personas, dispatch_world, **kwargs):
    r = make_request(personas, category=dispatch_world.categories["040102"], **kwargs)
    clerk = personas.community_staff
    services.request_accept(actor=clerk, request=r)
    services.request_contact(actor=clerk, request=r, note="电话联系")
    services.request_reply(actor=clerk, request=r, reply="已联系物业清理楼道杂物。")
    r.refresh_from_db()
    return r


# --- export ---------------------------------------------------------------------------

def test_export_holds_my_data_only(personas, dispatch_world, theirs):
    client = signed_in()
    assert client.post(reverse("portal:submit"), {
        **form_data(personas, title="楼道灯不亮"),
        "photos": [SimpleUploadedFile("灯.jpg", jpeg(), "image/jpeg")]}).status_code == 302
    submitted = portal_requests().get(title="楼道灯不亮")
    rated = replied(personas, dispatch_world, title="垃圾清运不及时")
    client.post(reverse("portal:rate", args=[rated.number]), {"resolution": "partly", "satisfaction": "basic"})

    response = client.get(reverse("portal:me_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="zhouxin-my-data-')
    assert "no-store" in response.get("Cache-Control", "") or "no-cache" in response.get("Cache-Control", "")
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["account"]["phone"] == PHONE and data["account"]["notice_version"] == "2026-11"
    numbers = {r["number"] for r in data["requests"]}
    assert numbers == {submitted.number, rated.number}
    mine = next(r for r in data["requests"] if r["number"] == submitted.number)
    assert mine["contact_name"] == "王女士" and mine["contact_phone"] == PHONE and mine["address"] == "3号楼2单元"
    assert mine["photos"][0]["name"] == "灯.jpg" and mine["progress"][0]["step"] == "诉求已受理"
    assert {"policy": "portal.consent", "version": "2026-11", "request": submitted.number} == {
        k: v for k, v in data["consents"][0].items() if k != "at"}
    assert any(c["policy"] == "portal.account" for c in data["consents"])
    assert [(r["request"], r["resolution"], r["satisfaction"]) for r in data["ratings"]] == [
        (rated.number, "partly", "basic")]
    # nothing of the other resident, nothing of the staff
    for text in (theirs.number, THEIRS["title"], THEIRS["name"], THEIRS["phone"], THEIRS["address"],
                 personas.community_staff.full_name, "电话联系"):
        assert text not in raw
    exported = AuditEntry.objects.get(action="portal.account.exported")
    assert exported.after == {"requests": 2} and PHONE not in exported.object_repr


def test_another_resident_exports_only_theirs(personas, theirs):
    make_request(personas, title="我的诉求")
    raw = signed_in(OTHER_PHONE).get(reverse("portal:me_export")).content.decode()
    data = json.loads(raw)
    assert [r["number"] for r in data["requests"]] == [theirs.number]
    assert "我的诉求" not in raw and PHONE not in raw


# --- correction -----------------------------------------------------------------------

def test_correcting_the_contact_of_an_open_request(personas, theirs):
    mine = make_request(personas)
    ask_code(Client(), mine.number)  # a code was sent to the old phone
    client = signed_in()
    page = client.get(reverse("portal:status", args=[mine.number])).content.decode()
    assert reverse("portal:me_correct", args=[mine.number]) in page
    response = client.post(reverse("portal:me_correct", args=[mine.number]),
                           {"contact_name": "王芳", "contact_phone": "13500001111"})
    assert response.status_code == 302 and response.url == reverse("portal:status", args=[mine.number])
    mine.refresh_from_db()
    assert (mine.contact_name, mine.contact_phone) == ("王芳", "13500001111")
    assert mine.contact_phone_index == blind_index("phone", "13500001111")
    event = RequestEvent.objects.get(request=mine, action=EventAction.CONTACT_CORRECTED)
    assert event.data["before"] == {"contact_name": "王**", "contact_phone": "139****5678"}
    assert event.data["after"] == {"contact_name": "王*", "contact_phone": "135****1111"}
    entry = AuditEntry.objects.get(action="dispatch.request.contact_corrected")
    assert "13500001111" not in json.dumps(entry.after) and "王芳" not in json.dumps(entry.after)
    assert entry.after["by"].startswith("portal.residentaccount:")
    assert not TrackingCode.objects.filter(request=mine, used_at__isnull=True).exists()  # the old code is spent
    # still in my list (tied to the account), and the resident's timeline says so
    assert mine.number in client.get(reverse("portal:me")).content.decode()
    assert "联系方式已更正" in client.get(reverse("portal:status", args=[mine.number])).content.decode()
    theirs.refresh_from_db()
    assert theirs.contact_name == THEIRS["name"] and theirs.contact_phone == THEIRS["phone"]


def test_correction_errors_change_nothing(personas):
    mine = make_request(personas)
    client = signed_in()
    response = client.post(reverse("portal:me_correct", args=[mine.number]),
                           {"contact_name": "", "contact_phone": "123"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "请填写联系人姓名。" in body and "请填写 11 位手机号" in body
    mine.refresh_from_db()
    assert (mine.contact_name, mine.contact_phone) == ("王女士", PHONE)
    assert not RequestEvent.objects.filter(action=EventAction.CONTACT_CORRECTED).exists()


def test_a_closed_request_cannot_be_corrected(personas, dispatch_world):
    r = replied(personas, dispatch_world)
    services.request_callback(actor=personas.street_hub, request=r, resolution="resolved", satisfaction="satisfied")
    client = signed_in()
    assert "更正联系方式" not in client.get(reverse("portal:status", args=[r.number])).content.decode()
    response = client.post(reverse("portal:me_correct", args=[r.number]),
                           {"contact_name": "王芳", "contact_phone": "13500001111"})
    assert response.status_code == 422 and "不能再更正联系方式" in response.content.decode()
    r.refresh_from_db()
    assert r.contact_phone == PHONE


def test_another_residents_request_cannot_be_corrected(personas, theirs):
    client = signed_in()
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("portal:me_correct", args=[theirs.number]),
                                           {"contact_name": "冒名", "contact_phone": "13500001111"})
        assert response.status_code == 404
        assert THEIRS["name"] not in response.content.decode() and THEIRS["title"] not in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.contact_name == THEIRS["name"] and theirs.contact_phone == THEIRS["phone"]


# --- deletion -------------------------------------------------------------------------

def test_delete_needs_a_confirmation(personas):
    mine = make_request(personas)
    client = signed_in()
    page = client.get(reverse("portal:me_delete")).content.decode()
    assert "您的 1 件诉求中的联系人" in page and "第十三条第一款第三项" in page
    response = client.post(reverse("portal:me_delete"), {})
    assert response.status_code == 422 and "请勾选确认后再删除。" in response.content.decode()
    assert ResidentAccount.objects.exists()
    mine.refresh_from_db()
    assert mine.contact_phone == PHONE and mine.anonymised_at is None


def test_delete_anonymises_my_requests_keeps_them_and_removes_the_account(personas, dispatch_world, theirs):
    client = signed_in()
    client.post(reverse("portal:submit"), {**form_data(personas, title="楼道灯不亮"),
                                           "photos": [SimpleUploadedFile("灯.jpg", jpeg(), "image/jpeg")]})
    submitted = portal_requests().get(title="楼道灯不亮")
    # The portal stripped the photo at intake; one that came in by another channel still has its GPS.
    attachment = Attachment.objects.get(request=submitted)
    attachment.file.save("with-gps.jpg", ContentFile(jpeg()), save=False)
    attachment.save(update_fields=["file"])
    closed = replied(personas, dispatch_world, title="垃圾清运不及时")
    services.request_callback(actor=personas.street_hub, request=closed, resolution="resolved",
                              satisfaction="satisfied")
    month = rollups.month_of(closed.received_at)
    before = Rollup.objects.unscoped().get(month=month, area=personas.areas["community_a"])

    response = client.post(reverse("portal:me_delete"), {"confirm": "on"})
    assert response.status_code == 200
    assert "2 件诉求中的个人信息已删除" in response.content.decode()
    assert not ResidentAccount.objects.exists() and not AccountRequest.objects.exists()
    assert not SignInCode.objects.exists()
    for r in (submitted, closed):
        r.refresh_from_db()
        assert r.anonymised_at is not None
        assert (r.contact_name, r.contact_phone, r.contact_phone_index, r.address) == ("", "", "", "")
        assert r.title in ("楼道灯不亮", "垃圾清运不及时")  # the request itself is kept
        event = RequestEvent.objects.get(request=r, action=EventAction.ANONYMISED)
        assert event.note == PIPL_RETENTION_NOTE == (
            "个人信息已按居民申请删除，诉求记录依据《个人信息保护法》第十三条第一款第三项（履行法定职责）保留")
        assert event.data["legal_basis"] == "PIPL art. 13(1)(3)"
    assert closed.status == "closed"
    with Attachment.objects.get(request=submitted).file.open("rb") as handle:
        assert GPS not in handle.read()
    # the record of the deletion keeps none of the deleted values
    trail = json.dumps([e.after for e in AuditEntry.objects.filter(
        action__in=["dispatch.request.anonymised", "portal.account.deleted"])], ensure_ascii=False)
    assert AuditEntry.objects.filter(action="dispatch.request.anonymised").count() == 2
    assert "王女士" not in trail and PHONE not in trail and "3号楼" not in trail
    # the three rates are untouched
    after = Rollup.objects.unscoped().get(month=month, area=personas.areas["community_a"])
    assert (after.received, after.closed, after.callbacks) == (before.received, before.closed, before.callbacks)
    # signed out, and the old phone finds nothing any more
    assert client.get(reverse("portal:me")).url == reverse("portal:signin")
    sms.outbox.clear()
    ask_code(Client(), closed.number)
    assert sms.outbox == []
    # the other resident's request is untouched
    theirs.refresh_from_db()
    assert theirs.anonymised_at is None and theirs.contact_name == THEIRS["name"]
    assert theirs.contact_phone == THEIRS["phone"] and theirs.address == THEIRS["address"]


def test_after_deletion_signing_in_again_opens_an_empty_account(personas):
    make_request(personas)
    client = signed_in()
    client.post(reverse("portal:me_delete"), {"confirm": "on"})
    page = signed_in().get(reverse("portal:me")).content.decode()
    assert "还没有联系电话为本手机号的诉求。" in page
    assert ServiceRequest.objects.unscoped().count() == 1
