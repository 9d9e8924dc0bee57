"""One payload, two formats (GeoReport v2 "Format Support"): JSON, and XML built with
xml.etree from the very same Python data, so the two answers cannot disagree.

Payloads are plain dicts and lists of str, int, float, bool and None.  In XML a list is an
element whose children are named by ITEM_TAGS (<endpoints><endpoint>…), None is an empty
element, booleans are "true"/"false" and numbers are written as JSON writes them.  Both
formats are UTF-8; the XML starts with the declaration the spec asks for.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# What discovery announces (the spec's MIME names, without the charset).
MIME_TYPES = ("text/xml", "application/json")
# The format of answers to a URL whose format is not one of FORMATS (XML is the spec's required one).
FALLBACK_FORMAT = "xml"

# Root element of each payload kind, and the element of each item when the payload is a list.
ROOTS = {
    "discovery": ("discovery", None),
    "services": ("services", "service"),
    "service_definition": ("service_definition", None),
    "service_requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}
# Elements of list members, by the list's element name.
ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}

# Characters XML 1.0 cannot carry at all (a stored text from another channel might hold one).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def xml_text(value) -> str:
    """How a scalar is written in XML (and how the JSON value reads when compared as text)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return json.dumps(value)
    return _XML_ILLEGAL.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = xml_text(value)


def to_xml(kind: str, payload) -> bytes:
    root_tag, item_tag = ROOTS[kind]
    root = ET.Element(root_tag)
    if item_tag is None:
        _fill(root, payload)
    else:
        for item in payload:
            _fill(ET.SubElement(root, item_tag), item)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode("utf-8")


def to_json(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def respond(kind: str, payload, fmt: str, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    if fmt not in FORMATS:
        fmt = FALLBACK_FORMAT
    body = to_json(payload) if fmt == "json" else to_xml(kind, payload)
    response = HttpResponse(body, status=status, content_type=FORMATS[fmt])
    for name, value in (headers or {}).items():
        response[name] = value
    return response
