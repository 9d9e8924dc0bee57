"""Shared pieces of the Open311 tests: api keys for personas, requests made through the
services, and a reader that turns either format's answer into the same comparable shape."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from django.test import Client

from zhouxin.api.services import api_token_create
from zhouxin.dispatch import services

BASE = "/open311/v2"
# Elements whose children form a list in GeoReport v2's XML (the roots of list payloads too).
XML_LISTS = {"services", "service_requests", "errors", "endpoints", "formats", "attributes", "values"}


def api_key(personas, persona: str) -> str:
    """The key of a new integration token acting as the persona (issued by the system admin)."""
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users[persona],
                                   name=f"Open311 {persona}")
    return key


def intake(personas, *, area="community_a", actor="community_staff", category=None, title="楼道堆放杂物",
           kind="complaint", phone="13812345678", contact_name="王秀英", **extra):
    return services.request_intake(
        actor=personas.users[actor], kind=kind, channel="hotline", area=personas.areas[area], title=title,
        description=f"{title}：3号楼2单元，影响通行。", contact_phone=phone, contact_name=contact_name,
        category=category, **extra)


def post(client: Client, fmt: str = "json", *, headers: dict | None = None, **data):
    return client.post(f"{BASE}/requests.{fmt}", data, headers=headers or {})


def _from_xml(element: ET.Element):
    if element.tag in XML_LISTS:
        return [_from_xml(child) for child in element]
    if len(element):
        return {child.tag: _from_xml(child) for child in element}
    return element.text or ""


def from_xml(body: bytes):
    """An XML answer as nested dicts/lists of text (empty elements as "")."""
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return _from_xml(ET.fromstring(body))


def as_text(value):
    """A JSON answer written the way XML carries it: every scalar as its text."""
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value


def assert_same_in_both_formats(client: Client, url: str, method: str = "get", data=None, headers=None) -> list | dict:
    """GET (or POST) the .json and .xml forms of `url` ("…/services" without the format) and
    check that both carry the same data and status.  Returns the JSON."""
    answers = {}
    for fmt in ("json", "xml"):
        response = getattr(client, method)(f"{url}.{fmt}", data or {}, headers=headers or {})
        content_type = "application/json" if fmt == "json" else "text/xml"
        assert response["Content-Type"] == f"{content_type}; charset=utf-8"
        answers[fmt] = response
    assert answers["json"].status_code == answers["xml"].status_code
    data_json = json.loads(answers["json"].content.decode("utf-8"))
    assert as_text(data_json) == from_xml(answers["xml"].content)
    return data_json
