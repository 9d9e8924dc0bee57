"""Photos on submission: several at once, checked by content (the dispatch intake), and
stored without the metadata a phone puts in them (EXIF GPS, comments, text chunks)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from zhouxin.dispatch import attachments
from zhouxin.dispatch.models import Attachment, ServiceRequest

from .helpers import GPS, form_data, jpeg, png, portal_requests

pytestmark = pytest.mark.django_db


def post(personas, photos):
    return Client().post(reverse("portal:submit"), {**form_data(personas), "photos": photos})


def test_the_form_takes_several_photos_of_the_accepted_types(personas):
    page = Client().get(reverse("portal:submit")).content.decode()
    assert 'type="file"' in page and "multiple" in page and 'accept="image/jpeg,image/png,image/webp"' in page
    response = post(personas, [SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg"),
                               SimpleUploadedFile("b.png", png(), "image/png")])
    assert response.status_code == 302
    stored = Attachment.objects.filter(request=portal_requests().get()).order_by("pk")
    assert [(a.original_name, a.content_type) for a in stored] == [("a.jpg", "image/jpeg"), ("b.png", "image/png")]


def test_a_text_file_named_jpg_is_refused_with_a_clear_message_and_nothing_is_created(personas):
    fake = SimpleUploadedFile("现场照片.jpg", "这不是图片，是一段文字。".encode(), "image/jpeg")
    response = post(personas, [SimpleUploadedFile("ok.png", png(), "image/png"), fake])
    assert response.status_code == 422
    body = response.content.decode()
    assert "“现场照片.jpg”不是 JPEG、PNG 或 WebP 图片（按文件内容判断）。" in body
    assert 'href="#id_photos"' in body  # the message leads to the photo field
    assert not ServiceRequest.objects.unscoped().exists()
    assert not Attachment.objects.exists()


def test_a_photo_over_five_megabytes_is_refused(personas):
    big = jpeg() + b"\x00" * (attachments.MAX_BYTES + 1)
    response = post(personas, [SimpleUploadedFile("big.jpg", big, "image/jpeg")])
    assert response.status_code == 422 and "超过 5 MB" in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists()


def test_exif_and_comments_are_removed_from_a_jpeg_before_it_is_stored(personas):
    original = jpeg()
    assert GPS in original
    assert post(personas, [SimpleUploadedFile("gps.jpg", original, "image/jpeg")]).status_code == 302
    attachment = Attachment.objects.get()
    with attachment.file.open("rb") as handle:
        stored = handle.read()
    assert GPS not in stored and b"Exif" not in stored and b"13912345678" not in stored
    assert attachments.sniff(stored) == ("image/jpeg", 4, 3)  # still the same picture
    assert stored.endswith(b"\x12\x34\xff\x00\x56\x78\xff\xd9")  # the scan is copied as it was
    assert attachment.size == len(stored) and attachment.sha256 == attachments.CheckedImage(
        "x", "image/jpeg", stored, 4, 3).sha256


def test_text_chunks_are_removed_from_a_png(personas):
    original = png(b"text")
    assert GPS in original
    assert post(personas, [SimpleUploadedFile("gps.png", original, "image/png")]).status_code == 302
    with Attachment.objects.get().file.open("rb") as handle:
        stored = handle.read()
    assert GPS not in stored and b"tEXt" not in stored
    assert attachments.sniff(stored) == ("image/png", 1, 1)
