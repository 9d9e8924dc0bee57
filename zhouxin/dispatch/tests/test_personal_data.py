"""The requester's personal data in dispatch: correcting the contact (PIPL art. 46), deleting
it while keeping the request (art. 47 with art. 13(1)(3)), photo metadata removal, and the
public community figures that must carry nothing personal."""

from __future__ import annotations

import json
import struct

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile

from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import attachments, imagemeta, public, rollups, services
from zhouxin.dispatch.choices import EventAction, Status
from zhouxin.dispatch.models import Attachment, RequestEvent, Rollup
from zhouxin.dispatch.services import PIPL_RETENTION_NOTE, TransitionError

pytestmark = pytest.mark.django_db

GPS = b"GPSLatitude 39.9139 N"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(exif=True) -> bytes:
    return b"".join([
        b"\xff\xd8", segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        segment(0xE1, b"Exif\x00\x00" + GPS) if exif else b"", segment(0xE2, b"ICC_PROFILE\x00\x01\x01"),
        segment(0xED, b"Photoshop 3.0\x00IPTC " + GPS) if exif else b"",
        segment(0xC0, b"\x08" + struct.pack(">HH", 30, 40) + b"\x01\x01\x11\x00"),
        segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"), b"\xab\xcd\xff\x00\xef\xff\xd9"])


def webp(exif=True) -> bytes:
    def chunk(kind, data):
        return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    flags = 0x08 | 0x04 if exif else 0
    vp8x = chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (39).to_bytes(3, "little") + (29).to_bytes(3, "little"))
    body = vp8x + chunk(b"VP8L", b"\x2f" + b"\x00" * 9)
    if exif:
        body += chunk(b"EXIF", b"MM\x00*" + GPS) + chunk(b"XMP ", b"<x:xmpmeta>" + GPS + b"</x:xmpmeta>!")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def intake(personas, **kwargs):
    values = {"kind": "complaint", "channel": "portal", "title": "楼道堆放杂物", "description": "楼道堆满纸箱。",
              "contact_name": "吴桂兰", "contact_phone": "13812345678", "address": "3号楼2单元",
              "latitude": "39.913900", "longitude": "116.397200"}
    values.update(kwargs)
    with scopes_disabled():
        return services.request_intake(actor=None, area=personas.areas["community_a"], **values)


# --- photo metadata -------------------------------------------------------------------

def test_jpeg_metadata_goes_and_the_picture_stays():
    cleaned = imagemeta.strip(jpeg(), attachments.JPEG)
    assert GPS not in cleaned and b"Exif" not in cleaned and b"Photoshop" not in cleaned
    assert b"ICC_PROFILE" in cleaned and b"JFIF" in cleaned  # colour information is kept
    assert cleaned.endswith(b"\xab\xcd\xff\x00\xef\xff\xd9")
    assert attachments.sniff(cleaned) == (attachments.JPEG, 40, 30)
    assert imagemeta.strip(jpeg(exif=False), attachments.JPEG) == jpeg(exif=False)


def test_webp_metadata_chunks_and_flags_go():
    original = webp()
    cleaned = imagemeta.strip(original, attachments.WEBP)
    assert GPS not in cleaned and b"EXIF" not in cleaned and b"XMP " not in cleaned
    assert cleaned[20] & 0x0C == 0  # VP8X no longer announces EXIF or XMP
    assert struct.unpack("<I", cleaned[4:8])[0] == len(cleaned) - 8
    assert attachments.sniff(cleaned) == (attachments.WEBP, 40, 30)


@pytest.mark.parametrize("data, kind", [
    (b"\xff\xd8\xff\xe1\x00\x40Exif", attachments.JPEG),  # truncated segment
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", attachments.PNG),  # no IEND
    (b"plain text", "text/plain"),
])
def test_what_cannot_be_stripped_safely_is_reported_as_none(data, kind):
    assert imagemeta.strip(data, kind) is None


# --- correction -----------------------------------------------------------------------

def test_the_system_corrects_the_contact_with_masked_records(personas):
    r = intake(personas)
    with scopes_disabled():
        changed = services.request_contact_correct(actor=None, request=r, contact_name="吴桂芳",
                                                   contact_phone="135 0000 1111", on_behalf_of="portal:1")
    assert changed
    r.refresh_from_db()
    assert (r.contact_name, r.contact_phone, r.contact_phone_index) == (
        "吴桂芳", "13500001111", blind_index("phone", "13500001111"))
    event = RequestEvent.objects.get(request=r, action=EventAction.CONTACT_CORRECTED)
    assert event.from_status == event.to_status == r.status
    entry = AuditEntry.objects.get(action="dispatch.request.contact_corrected")
    assert entry.before == {"contact_name": "吴**", "contact_phone": "138****5678"}
    assert entry.after == {"contact_name": "吴**", "contact_phone": "135****1111", "by": "portal:1"}
    with scopes_disabled():  # the same again changes nothing and records nothing
        assert not services.request_contact_correct(actor=None, request=r, contact_name="吴桂芳",
                                                    contact_phone="13500001111")
    assert RequestEvent.objects.filter(request=r, action=EventAction.CONTACT_CORRECTED).count() == 1


def test_correction_is_refused_outside_the_system_scope_and_for_staff_without_the_right(personas):
    r = intake(personas)
    with pytest.raises(PermissionDenied):
        services.request_contact_correct(actor=None, request=r, contact_name="甲", contact_phone="13500001111")
    with pytest.raises(PermissionDenied):
        services.request_contact_correct(actor=personas.outsider, request=r, contact_name="甲",
                                         contact_phone="13500001111")
    r.refresh_from_db()
    assert r.contact_name == "吴桂兰"


@pytest.mark.parametrize("name, phone, field", [("", "13500001111", "contact_name"), ("甲", "123", "contact_phone"),
                                                ("甲", "", "contact_phone"), ("甲" * 65, "13500001111", "contact_name")])
def test_bad_corrections_are_explained(personas, name, phone, field):
    r = intake(personas)
    with scopes_disabled(), pytest.raises(ValidationError) as caught:
        services.request_contact_correct(actor=None, request=r, contact_name=name, contact_phone=phone)
    assert field in caught.value.message_dict
    r.refresh_from_db()
    assert r.contact_phone == "13812345678"


def test_a_finished_request_cannot_be_corrected(personas):
    r = intake(personas)
    with scopes_disabled():
        services.request_invalidate(actor=None, request=r, reason="重复提交")
        with pytest.raises(TransitionError, match="不能再更正联系方式"):
            services.request_contact_correct(actor=None, request=r, contact_name="甲", contact_phone="13500001111")


# --- deletion -------------------------------------------------------------------------

def test_anonymising_clears_the_personal_fields_and_keeps_the_request(personas):
    r = intake(personas)
    stored = attachments.store(r, attachments.check_images([("p.jpg", jpeg())])[0][0])
    old_name = stored.file.name
    month = rollups.month_of(r.received_at)
    before = Rollup.objects.unscoped().get(month=month, area=personas.areas["community_a"]).received
    with scopes_disabled():
        assert services.request_anonymise(actor=None, request=r, on_behalf_of="portal:7")
    r.refresh_from_db()
    assert r.anonymised_at is not None and r.status in (Status.RECEIVED, Status.DISPATCHED)
    assert (r.contact_name, r.contact_phone, r.contact_phone_index, r.address) == ("", "", "", "")
    assert r.latitude is None and r.longitude is None and r.requester_id is None
    assert r.title == "楼道堆放杂物" and r.description == "楼道堆满纸箱。"
    stored.refresh_from_db()
    with stored.file.open("rb") as handle:
        data = handle.read()
    assert GPS not in data and stored.size == len(data) and stored.file.name != old_name
    event = RequestEvent.objects.get(request=r, action=EventAction.ANONYMISED)
    assert event.note == PIPL_RETENTION_NOTE and event.data["photos_stripped"] == 1
    entry = AuditEntry.objects.get(action="dispatch.request.anonymised")
    assert entry.after["note"] == PIPL_RETENTION_NOTE and entry.after["by"] == "portal:7"
    recorded = json.dumps([entry.before, entry.after, event.data], ensure_ascii=False)
    assert "吴桂兰" not in recorded and "13812345678" not in recorded and "3号楼" not in recorded
    assert Rollup.objects.unscoped().get(month=month, area=personas.areas["community_a"]).received == before
    with scopes_disabled():  # a second time does nothing
        assert not services.request_anonymise(actor=None, request=r)
    assert RequestEvent.objects.filter(request=r, action=EventAction.ANONYMISED).count() == 1


def test_anonymising_needs_the_system_or_the_dispatch_right(personas):
    r = intake(personas)
    with pytest.raises(PermissionDenied):
        services.request_anonymise(actor=None, request=r)
    with pytest.raises(PermissionDenied):
        services.request_anonymise(actor=personas.community_staff, request=r)
    r.refresh_from_db()
    assert r.anonymised_at is None and r.contact_phone == "13812345678"


def test_an_unreadable_photo_does_not_stop_the_deletion(personas):
    r = intake(personas)
    Attachment.objects.create(request=r, file=ContentFile(b"", name="gone.jpg"), original_name="gone.jpg",
                              content_type=attachments.JPEG, size=0, sha256="0" * 64)
    Attachment.objects.filter(request=r).update(file="dispatch/missing.jpg")
    with scopes_disabled():
        assert services.request_anonymise(actor=None, request=r)
    r.refresh_from_db()
    assert r.contact_phone == ""


# --- public figures -------------------------------------------------------------------

def test_community_figures_are_counts_and_rates_from_the_rollups(personas, dispatch_world):
    clerk = personas.community_staff
    for i in range(5):
        r = intake(personas, title=f"问题{i}", category=dispatch_world.categories["040102"])
        services.request_accept(actor=clerk, request=r)
        services.request_contact(actor=clerk, request=r, note="电话联系")
    figures = public.community_figures(personas.areas["community_a"])
    assert len(figures["months"]) == 12 and figures["months"][-1]["received"] == 5
    assert figures["received"] == 5 and figures["response"] == "100.0%"
    assert figures["resolution"] == "—" and figures["satisfaction"] == "—"  # no callbacks yet
    assert figures["categories"] == [{"name": "物业管理", "total": 5}]
    assert "问题" not in json.dumps(figures, default=str, ensure_ascii=False)
    assert public.community_figures(personas.areas["street_a"]) is None


def test_a_rate_of_fewer_than_five_is_not_published(personas, dispatch_world):
    clerk = personas.community_staff
    for i in range(4):
        r = intake(personas, title=f"问题{i}", category=dispatch_world.categories["040102"])
        services.request_accept(actor=clerk, request=r)
        services.request_contact(actor=clerk, request=r, note="电话联系")
    assert public.community_figures(personas.areas["community_a"])["response"] == "—"
