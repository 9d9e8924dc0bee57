"""Uploads: typed by content, size-capped, stored outside the web root, served only by a view
that checks the caller's scope, with headers that stop a browser from running what it gets.

Every form that takes files: staff intake and the resident portal (images, dispatch/attachments.py),
organisation and people imports (xlsx, orgs/imports.py: tested in orgs/tests/test_views_transfer.py).
The API and Open311 take no files (JSON and form fields only)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse

from zhouxin.dispatch import attachments
from zhouxin.dispatch.models import Attachment, ServiceRequest
from zhouxin.portal.tests.helpers import form_data as portal_form_data
from zhouxin.portal.tests.helpers import jpeg

pytestmark = pytest.mark.django_db
KEY = "0123456789abcdef0123456789abcdef"
NOT_AN_IMAGE = "不是 JPEG、PNG 或 WebP 图片（按文件内容判断）"
POLYGLOT = "夹带了网页或脚本代码，不能作为图片上传"

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
       b"<script>fetch('/api/v1/requests/')</script></svg>")
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PHP = b"<?php system($_GET['c']); ?>"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def png(width=64, height=48) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00\x00\x00\x00" + b"\x00" * 64


def intake(client, personas, images):
    data = {"idempotency_key": KEY, "channel": "hotline", "kind": "complaint",
            "area": personas.areas["community_a"].code, "title": "夜间施工噪音扰民",
            "description": "小区东侧工地每天夜里十一点以后还在施工，噪音很大，影响休息。",
            "category": "", "urgency": "normal", "address": "多福巷 8 号", "contact_name": "王先生",
            "contact_phone": "13912345678", "images": images}
    return client.post(reverse("dispatch:intake"), data)


BAD_FILES = {
    "svg": (SimpleUploadedFile, "现场.svg", SVG, "image/svg+xml", NOT_AN_IMAGE),
    "html": (SimpleUploadedFile, "现场.html", HTML, "text/html", NOT_AN_IMAGE),
    "html named jpg": (SimpleUploadedFile, "现场.jpg", HTML, "image/jpeg", NOT_AN_IMAGE),
    # A JPEG header, then the page: not a picture at all.
    "jpeg header + html": (SimpleUploadedFile, "现场.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + HTML, "image/jpeg",
                           NOT_AN_IMAGE),
    # A complete, valid JPEG with a page after its end: a polyglot.
    "jpeg + html polyglot": (SimpleUploadedFile, "现场.jpg", jpeg(exif=False) + HTML, "image/jpeg", POLYGLOT),
    # The same page hidden in the JPEG's comment segment.
    "jpeg comment polyglot": (SimpleUploadedFile, "现场.jpg",
                              jpeg(exif=False).replace(b"\xff\xdb", b"\xff\xfe" + struct.pack(">H", len(HTML) + 2)
                                                       + HTML + b"\xff\xdb", 1), "image/jpeg", POLYGLOT),
    "php named jpg": (SimpleUploadedFile, "shell.php.jpg", PHP, "image/jpeg", NOT_AN_IMAGE),
    "php after a png": (SimpleUploadedFile, "现场.png", png() + b"\n" + PHP, "image/png", POLYGLOT),
    "oversized": (SimpleUploadedFile, "大图.jpg", jpeg(exif=False) + b"\x00" * attachments.MAX_BYTES, "image/jpeg",
                  "超过 5 MB"),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_staff_intake_refuses_what_is_not_a_plain_image(personas, dispatch_world, client_for, case):
    factory, name, content, declared, message = BAD_FILES[case]
    response = intake(client_for("community_staff"), personas, [factory(name, content, declared)])
    body = response.content.decode()
    assert response.status_code == 422 and message in body, body[-2000:]
    assert not ServiceRequest.objects.unscoped().exists() and not Attachment.objects.exists()
    assert not [f for f in Path(settings.MEDIA_ROOT).rglob("*") if f.is_file()]  # no file left behind


@pytest.mark.parametrize("case", ["svg", "jpeg + html polyglot", "php named jpg", "php after a png"])
def test_the_portal_refuses_them_too(personas, dispatch_world, case):
    factory, name, content, declared, message = BAD_FILES[case]
    response = Client().post(reverse("portal:submit"), {**portal_form_data(personas),
                                                        "photos": [factory(name, content, declared)]})
    assert response.status_code == 422 and message in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists() and not Attachment.objects.exists()


def test_a_plain_photo_still_passes(personas, dispatch_world, client_for):
    response = intake(client_for("community_staff"), personas,
                      [SimpleUploadedFile("现场.jpg", jpeg(), "image/jpeg"), SimpleUploadedFile("b.png", png())])
    assert response.status_code == 302
    assert Attachment.objects.count() == 2


def test_a_request_body_no_form_could_take_is_refused_before_it_is_read(personas, client_for, settings):
    settings.UPLOAD_REQUEST_MAX_BYTES = 1024 * 1024
    client = client_for("community_staff")
    big = SimpleUploadedFile("a.jpg", jpeg(exif=False) + b"\x00" * (1024 * 1024), "image/jpeg")
    response = client.post(reverse("dispatch:intake"), {"images": [big]})
    assert response.status_code == 413
    assert "上传的内容超过 1 MB，没有被接收" in response.content.decode()
    api = client.post("/api/v1/requests/", b"x" * (1024 * 1024 + 1), content_type="application/json")
    assert api.status_code == 413 and api.json()["errors"][0]["code"] == "request_too_large"
    assert not ServiceRequest.objects.unscoped().exists()


def test_the_request_cap_leaves_room_for_nine_full_size_images():
    assert settings.UPLOAD_REQUEST_MAX_BYTES > attachments.MAX_IMAGES * attachments.MAX_BYTES
    # Form fields beside the files are capped by Django itself.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.UPLOAD_REQUEST_MAX_BYTES


# --- where the files live and how they go out ---------------------------------------------------

def _stored(personas, client_for) -> tuple[Attachment, str]:
    client = client_for("community_staff")
    assert intake(client, personas, [SimpleUploadedFile("现场 1.png", png())]).status_code == 302
    attachment = Attachment.objects.get()
    return attachment, reverse("dispatch:attachment", args=[attachment.request.number, attachment.pk])


def test_media_is_outside_the_web_root_and_no_url_serves_it(personas, dispatch_world, client_for):
    attachment, _url = _stored(personas, client_for)
    media = Path(settings.MEDIA_ROOT).resolve()
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to(media) and stored.read_bytes().startswith(b"\x89PNG")
    # The real settings: var/media, not under the static root or a static source directory.
    from zhouxin import settings as project

    assert not Path(project.MEDIA_ROOT).resolve().is_relative_to(Path(project.STATIC_ROOT).resolve())
    assert not any(Path(project.MEDIA_ROOT).resolve().is_relative_to(Path(d).resolve())
                   for d in project.STATICFILES_DIRS)
    assert not getattr(project, "MEDIA_URL", "")  # Django's default: no media URL
    from django.views.static import serve

    from zhouxin.testing.faults_probe import _patterns

    assert all(pattern.callback is not serve for pattern, _name in _patterns(get_resolver()))
    assert not getattr(project, "WHITENOISE_ROOT", None)
    client = client_for("community_staff")  # may see the attachment, but not by a file URL
    name = attachment.file.name
    for guess in (f"/media/{name}", f"/{name}", f"/static/{name}", f"/static/../var/media/{name}",
                  f"/static/%2e%2e/var/media/{name}"):
        response = client.get(guess)
        assert response.status_code == 404, guess


def test_an_attachment_goes_out_only_through_the_scoped_view_with_safe_headers(personas, dispatch_world,
                                                                             client_for):
    _attachment, url = _stored(personas, client_for)
    served = client_for("community_staff").get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["Content-Disposition"] == "inline; filename*=utf-8''%E7%8E%B0%E5%9C%BA%201.png"
    assert served["X-Content-Type-Options"] == "nosniff"
    policy = served["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert "private" in served["Cache-Control"]
    for outsider in ("community_staff_b", "outsider", "department_handler"):
        response = client_for(outsider).get(url)
        assert response.status_code in (403, 404) and b"PNG" not in response.content, outsider
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
