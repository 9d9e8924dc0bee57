"""Images attached to a request, checked by their CONTENT, never by name or declared type.

Only JPEG, PNG and WebP are accepted.  The format is recognised from the magic
bytes and the pixel size is read from the image header (JPEG SOFn segment, PNG
IHDR chunk, WebP VP8/VP8L/VP8X chunk) without decoding pixels, so no imaging
library is needed and a file that merely claims to be an image (a renamed
script, an HTML page, an SVG, a truncated upload, a "decompression bomb" header) is
refused, and so is a real image that also carries HTML or script (a polyglot).  Limits: at most MAX_IMAGES files of at most MAX_BYTES each, every side
between 1 and MAX_SIDE pixels and at most MAX_PIXELS pixels.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import struct
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

MAX_IMAGES = 9
MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 16_384
MAX_PIXELS = 80_000_000

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
EXTENSIONS = {JPEG: "jpg", PNG: "png", WEBP: "webp"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers that carry the frame size (not DHT C4, JPG C8, DAC CC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


# Markup that makes a file a polyglot (an image that is also an HTML page or a PHP script):
# refused wherever it sits, in a comment segment or after the end of the image.  Only long,
# distinctive byte strings, so that compressed pixel data (random-looking bytes) does not
# match by chance: "<html>" has odds of about 1 in 500,000 per 5 MB photo, "<script " far
# less; real metadata is "<?xpacket" and "<x:xmpmeta".  An SVG never gets here (not a
# JPEG, PNG or WebP).
_ACTIVE_CONTENT = re.compile(rb"<(?:script|html|body|iframe|object|embed)[\s>/]|<\?php\s|javascript:",
                             re.IGNORECASE)


class ImageError(ValueError):
    """Not an acceptable image; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class CheckedImage:
    original_name: str
    content_type: str
    data: bytes
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    end = len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise ImageError("marker expected")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        if pos + 2 > end:
            break
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2:
            raise ImageError("bad segment length")
        if marker in _SOF_MARKERS:
            if pos + 7 > end:
                break
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return width, height
        pos += length
    raise ImageError("no frame header")


def _png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise ImageError("no IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 30:
        raise ImageError("too short")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > len(data) + 1 or riff_size < 22:  # allow a one-byte pad
        raise ImageError("truncated")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageError("bad VP8 start code")
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ImageError("bad VP8L signature")
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise ImageError("unknown WebP chunk")


def sniff(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) read from the content; ImageError when it is not a
    JPEG, PNG or WebP image with a sane header."""
    if data[:3] == b"\xff\xd8\xff":
        kind, (width, height) = JPEG, _jpeg_size(data)
    elif data[:8] == _PNG_SIGNATURE:
        kind, (width, height) = PNG, _png_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, (width, height) = WEBP, _webp_size(data)
    else:
        raise ImageError("not an accepted image format")
    return kind, width, height


def _read(item, limit: int) -> tuple[str, bytes | None]:
    """(name, bytes) of an upload: a Django UploadedFile/File, or a (name, bytes) pair.
    None as content when it is larger than `limit` (read no further than that)."""
    if isinstance(item, tuple | list) and len(item) == 2:
        name, content = item
        content = bytes(content)
        return str(name or ""), (content if len(content) <= limit else None)
    name = os.path.basename(str(getattr(item, "name", "") or ""))
    size = getattr(item, "size", None)
    if size is not None and size > limit:
        return name, None
    if hasattr(item, "seek"):
        with contextlib.suppress(OSError, ValueError):
            item.seek(0)
    content = item.read(limit + 1)
    if len(content) > limit:
        return name, None
    return name, content


def check_images(images) -> tuple[list[CheckedImage], list[str]]:
    """Check every upload; returns the accepted images and the error messages (Chinese,
    numbered by position).  Any error means the caller must store nothing."""
    items = list(images or ())
    if len(items) > MAX_IMAGES:
        return [], [_("最多只能上传 %(n)d 张图片，您选择了 %(m)d 张。") % {"n": MAX_IMAGES, "m": len(items)}]
    accepted: list[CheckedImage] = []
    errors: list[str] = []
    for index, item in enumerate(items, start=1):
        try:
            name, data = _read(item, MAX_BYTES)
        except (OSError, ValueError, TypeError):
            errors.append(_("第 %(n)d 张图片无法读取。") % {"n": index})
            continue
        label = name or _("第 %(n)d 张图片") % {"n": index}
        if data is None:
            errors.append(_("图片“%(name)s”超过 5 MB，请压缩后再上传。") % {"name": label})
            continue
        if not data:
            errors.append(_("图片“%(name)s”是空文件。") % {"name": label})
            continue
        try:
            kind, width, height = sniff(data)
        except (ImageError, struct.error, IndexError):
            errors.append(_("“%(name)s”不是 JPEG、PNG 或 WebP 图片（按文件内容判断）。") % {"name": label})
            continue
        if _ACTIVE_CONTENT.search(data):
            errors.append(_("“%(name)s”中夹带了网页或脚本代码，不能作为图片上传。") % {"name": label})
            continue
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
            errors.append(_("图片“%(name)s”的尺寸 %(w)d×%(h)d 无效或过大。") % {"name": label, "w": width, "h": height})
            continue
        accepted.append(CheckedImage(original_name=name[:200] or f"image-{index}.{EXTENSIONS[kind]}",
                                     content_type=kind, data=data, width=width, height=height))
    return accepted, errors


def store(request, image: CheckedImage):
    """Save one checked image as an Attachment of `request`, under a random file name."""
    from .models import Attachment

    return Attachment.objects.create(
        request=request,
        file=ContentFile(image.data, name=f"{uuid.uuid4().hex}.{image.extension}"),
        original_name=image.original_name,
        content_type=image.content_type,
        size=image.size,
        sha256=image.sha256,
    )


# --- Documents: a photo or a PDF (co-building evidence and signed agreements, …) -------------

PDF = "application/pdf"
DOCUMENT_EXTENSIONS = {**EXTENSIONS, PDF: "pdf"}
# PDF features that run something or carry other files: never accepted in an upload.
_PDF_ACTIVE = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")


@dataclass(frozen=True)
class CheckedDocument:
    original_name: str
    content_type: str
    data: bytes

    @property
    def extension(self) -> str:
        return DOCUMENT_EXTENSIONS[self.content_type]


def check_document(upload, *, limit: int, missing: str, default_name: str) -> CheckedDocument:
    """A photo (JPEG, PNG, WebP) or a PDF, judged by its content, never by its name or declared
    type: a PDF must be complete (``%%EOF``) and carry no scripts, actions or embedded files; an
    image must have sane dimensions; neither may smuggle web page or script code (polyglots).
    Raises a ValidationError on "upload" saying why not, in Chinese."""
    def refuse(message):
        raise ValidationError({"upload": [message]})

    if upload is None:
        refuse(missing)
    try:
        name, data = _read(upload, limit)
    except (OSError, ValueError, TypeError):
        refuse(_("文件无法读取，请重新选择。"))
    label = name or _("所选文件")
    if data is None:
        refuse(_("“%(name)s”超过 %(mb)d MB，请压缩后再上传。") % {"name": label, "mb": limit // (1024 * 1024)})
    if not data:
        refuse(_("“%(name)s”是空文件。") % {"name": label})
    if data[:5] == b"%PDF-":
        kind = PDF
        if b"%%EOF" not in data[-1024:]:
            refuse(_("“%(name)s”不是完整的 PDF 文件，请重新扫描或导出后上传。") % {"name": label})
        if any(marker in data for marker in _PDF_ACTIVE):
            refuse(_("“%(name)s”中含有脚本、动作或嵌入文件，不能上传。") % {"name": label})
    else:
        try:
            kind, width, height = sniff(data)
        except (ImageError, struct.error, IndexError):
            refuse(_("“%(name)s”不是 PDF 文件或 JPEG、PNG、WebP 图片（按文件内容判断）。") % {"name": label})
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
            refuse(_("图片“%(name)s”的尺寸 %(w)d×%(h)d 无效或过大。") % {"name": label, "w": width, "h": height})
    if _ACTIVE_CONTENT.search(data):
        refuse(_("“%(name)s”中夹带了网页或脚本代码，不能上传。") % {"name": label})
    return CheckedDocument(original_name=name[:200] or f"{default_name}.{DOCUMENT_EXTENSIONS[kind]}",
                           content_type=kind, data=data)
