"""Uploaded files given back to the people who may see them.

MEDIA_ROOT is served by no URL: every stored file (vouchers, evidence, case files) goes out through a
scoped view that calls `stored_file()` after checking who asks.  Photos open in the page; PDFs, and
photos asked for with ?download=1, are downloaded.  The response cannot run anything (sandboxed CSP,
nosniff) and is cached only privately.
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.http import content_disposition_header

PDF = "application/pdf"


def stored_file(request, file, *, content_type: str, name: str) -> FileResponse:
    """The response for a FieldFile `file`; 404 when the file behind the row is gone."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    return file_response(handle, content_type, name, download=content_type == PDF or request.GET.get("download") == "1")


def file_response(handle, content_type: str, name: str, *, download: bool) -> FileResponse:
    """The response for an open file: inline or as a download, never executable."""
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(download, name)
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
