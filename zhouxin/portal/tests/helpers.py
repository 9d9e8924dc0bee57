"""What the portal tests share: images built byte by byte, a valid submission, a request
made by intake, reading the last text message, and a resident signed in by phone + code."""

from __future__ import annotations

import re
import struct
import uuid
import zlib

from django.test import Client, TestCase
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import Channel
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.portal import sms

PHONE = "13912345678"
OTHER_PHONE = "13700001111"
GPS = b"GPSLatitude 39.9139 N GPSLongitude 116.3972 E"


def png(extra_chunks: bytes = b"") -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + (chunk(b"tEXt", b"Author\x00" + GPS) if extra_chunks == b"text" else extra_chunks)
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(*, exif: bool = True, width: int = 4, height: int = 3) -> bytes:
    """A JPEG's container: JFIF, optionally an EXIF block with GPS, a comment, the frame
    header, a scan with some entropy-coded bytes, the end.  Enough for every check here."""
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if exif:
        parts.append(_segment(0xE1, b"Exif\x00\x00MM\x00*" + GPS))
        parts.append(_segment(0xFE, b"shot by Wang Fang, 13912345678"))
    parts.append(_segment(0xDB, bytes(65)))
    parts.append(_segment(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00"))
    parts.append(_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"))
    parts.append(b"\x12\x34\xff\x00\x56\x78\xff\xd9")
    return b"".join(parts)


def form_data(personas, **extra):
    data = {
        "kind": "complaint", "title": "楼道堆放杂物", "description": "3号楼2单元楼道长期堆放纸箱，影响通行。",
        "category": "", "area": personas.areas["community_a"].code, "grid": "", "address": "3号楼2单元",
        "contact_name": "王女士", "contact_phone": PHONE, "consent": "on", "truthful": "on",
        "consent_version": "2026-11", "idempotency_key": uuid.uuid4().hex,
    }
    data.update(extra)
    return data


def submit(client, personas, **extra):
    return client.post(reverse("portal:submit"), form_data(personas, **extra))


def portal_requests():
    return ServiceRequest.objects.unscoped().filter(channel=Channel.PORTAL)


def make_request(personas, phone=PHONE, title="楼道堆放杂物", category=None, name="王女士", channel="portal",
                 area="community_a", address="3号楼2单元"):
    with scopes_disabled():
        return services.request_intake(
            actor=None, kind="complaint", channel=channel, area=personas.areas[area], title=title,
            description="3号楼2单元楼道长期堆放纸箱。", contact_name=name, contact_phone=phone, category=category,
            address=address)


def last_code() -> str:
    return re.search(r"验证码是 (\d{6})", sms.outbox[-1].text).group(1)


def ask_code(client, number, phone=PHONE):
    with TestCase.captureOnCommitCallbacks(execute=True):  # the text leaves after commit
        return client.post(reverse("portal:track"), {"number": number, "phone": phone})


def ask_signin_code(client, phone=PHONE, **extra):
    data = {"phone": phone, "consent": "on", "consent_version": "2026-11", **extra}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("portal:signin"), data)


def signed_in(phone=PHONE, client: Client | None = None) -> Client:
    """A browser session signed in to the resident account of `phone` (opened if new)."""
    client = client or Client()
    assert ask_signin_code(client, phone).status_code == 302
    response = client.post(reverse("portal:signin_code"), {"code": last_code()})
    assert response.status_code == 302 and response.url == reverse("portal:me"), response.content.decode()
    return client
