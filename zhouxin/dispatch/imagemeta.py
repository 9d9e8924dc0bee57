"""Removing metadata (EXIF, XMP, IPTC, text chunks) from JPEG, PNG and WebP images.

A photo from a phone carries where and when it was taken (EXIF GPS), the device and
often the owner's name: personal data the handling of a request does not need (PIPL
art. 6, minimum necessary).  The portal strips it before intake, and a resident's
deletion request strips it from the photos already stored.

Only container-level blocks are removed; the pixel data is copied byte for byte, so
nothing is decoded or re-encoded and no imaging library is needed.  Kept: JPEG APP0
(JFIF), APP2 (ICC colour profile), APP14 (Adobe colour transform), every table and the
scan; PNG critical and colour chunks; WebP image, alpha, animation and ICC chunks.
The result is checked again with attachments.sniff(); when that fails (an odd file the
checks accepted), `strip()` returns None and the caller decides.
"""

from __future__ import annotations

import struct

from .attachments import (
    _PNG_SIGNATURE,
    _STANDALONE,
    JPEG,
    PDF,
    PNG,
    WEBP,
    CheckedDocument,
    ImageError,
    check_document,
    sniff,
)

# JPEG application segments that carry metadata: APP1 (Exif, XMP), APP3–APP13 (incl. IPTC
# in APP13), APP15, and comments (COM).
_JPEG_DROP = frozenset({0xE1, *range(0xE3, 0xEE), 0xEF, 0xFE})
_PNG_DROP = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})
_WEBP_DROP = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _jpeg(data: bytes) -> bytes:
    out = bytearray(data[:2])  # SOI
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise ImageError("marker expected")
        start = pos
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            raise ImageError("truncated")
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            out += data[start:pos]
            continue
        if marker in (0xD9, 0xDA):  # end of image, or start of scan: the rest is image data
            out += data[start:]
            return bytes(out)
        if pos + 2 > end:
            raise ImageError("truncated")
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2 or pos + length > end:
            raise ImageError("bad segment length")
        if marker not in _JPEG_DROP:
            out += data[start:pos + length]
        pos += length
    raise ImageError("no scan")


def _png(data: bytes) -> bytes:
    out = bytearray(_PNG_SIGNATURE)
    pos, end = len(_PNG_SIGNATURE), len(data)
    while pos + 8 <= end:
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        stop = pos + 12 + length
        if stop > end:
            raise ImageError("truncated chunk")
        if kind not in _PNG_DROP:
            out += data[pos:stop]
        pos = stop
        if kind == b"IEND":
            return bytes(out)
    raise ImageError("no IEND")


def _webp(data: bytes) -> bytes:
    body = bytearray()
    pos, end = 12, len(data)
    while pos + 8 <= end:
        kind = data[pos:pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4:pos + 8])
        stop = pos + 8 + length + (length & 1)
        if pos + 8 + length > end:
            raise ImageError("truncated chunk")
        chunk = bytearray(data[pos:min(stop, end)])
        if len(chunk) < 8 + length + (length & 1):
            chunk += b"\x00"  # a missing pad byte
        if kind == b"VP8X" and length >= 1:
            chunk[8] &= ~(_VP8X_EXIF | _VP8X_XMP) & 0xFF
        if kind not in _WEBP_DROP:
            body += chunk
        pos = stop
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + bytes(body)


def strip(data: bytes, content_type: str) -> bytes | None:
    """`data` without its metadata blocks, or None when it cannot be done safely."""
    try:
        if content_type == JPEG:
            cleaned = _jpeg(data)
        elif content_type == PNG:
            cleaned = _png(data)
        elif content_type == WEBP:
            cleaned = _webp(data)
        else:
            return None
        kind, width, height = sniff(cleaned)
        if kind != content_type or (width, height) != sniff(data)[1:]:
            return None
    except (ImageError, struct.error, IndexError):
        return None
    return cleaned


def clean_document(upload, *, limit: int, missing: str, default_name: str) -> CheckedDocument:
    """A photo or PDF accepted by attachments.check_document() (judged by content), ready to
    store: a photo loses its metadata (no GPS position or device in evidence, vouchers or
    agreements).  A ValidationError on "upload" says why a file is refused."""
    checked = check_document(upload, limit=limit, missing=missing, default_name=default_name)
    if checked.content_type == PDF:
        return checked
    data = strip(checked.data, checked.content_type) or checked.data
    return CheckedDocument(original_name=checked.original_name, content_type=checked.content_type, data=data)
