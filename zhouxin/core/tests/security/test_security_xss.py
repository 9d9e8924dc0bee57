"""Stored XSS: markup written straight into every text field of every Zhouxin row (conftest's
shared crawl) never comes back unescaped, on any page any persona reaches; API answers are JSON
(or Open311's XML), never HTML; and nothing a client can reach answers 500."""

from __future__ import annotations

import pytest

from .crawl import LONG_PAYLOAD, RAW_MARKUP, SHORT_PAYLOAD, unescaped

pytestmark = pytest.mark.django_db

API_TYPES = ("application/json", "text/xml", "application/vnd.oai.openapi")


def test_the_payloads_are_in_the_data_the_pages_show(crawled):
    """Guard against a crawl that tests nothing: the payloads reached the main models and, escaped,
    the pages."""
    for label, field in (("orgs.Area", "name"), ("orgs.Person", "name"), ("orgs.Organisation", "name"),
                         ("dispatch.ServiceRequest", "title"), ("dispatch.ServiceRequest", "description"),
                         ("dispatch.Whistle", "title"), ("core.User", "full_name"), ("api.ApiToken", "name"),
                         ("dispatch.Category", "name"), ("core.ImportJob", "filename")):
        assert field in crawled.written.get(label, []), (label, crawled.written.get(label))
    long_escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
    shown = {page.name for page in crawled.pages if page.is_html and long_escaped in page.body}
    assert {"dispatch:request_detail", "dispatch:queue", "dispatch:whistle_detail", "orgs:org_detail",
            "core:audit_list", "core:audit_detail", "api:token_list"} <= shown, shown
    # Short fields (names of areas, people, users) too: more than the signed-in user's name.
    short_escaped = "&lt;svg onload=alert(1)&gt;"
    shown = {page.name for page in crawled.pages if page.is_html and page.body.count(short_escaped) > 1}
    assert {"orgs:tree", "orgs:person_detail", "orgs:person_list", "core:user_list"} <= shown, shown


def test_no_page_shows_a_payload_unescaped(crawled):
    leaks = [f"{page.persona} GET {page.url} ({page.status}): {found}"
             for page in crawled.pages
             if not page.content_type.startswith(API_TYPES) and (found := unescaped(page.body))]
    assert not leaks, "\n".join(leaks)


def test_api_answers_are_json_never_html(crawled):
    wrong = [f"{page.persona} GET {page.url} ({page.status}): {page.content_type}"
             for page in crawled.pages
             if page.url.startswith("/api/v1/") and not page.content_type.startswith("application/json")]
    wrong += [f"{page.persona} GET {page.url}: {page.content_type}" for page in crawled.pages
              if page.url.startswith("/open311/") and not page.content_type.startswith(("application/json",
                                                                                        "text/xml"))]
    assert not wrong, "\n".join(wrong)
    # Open311's XML is built by ElementTree, which escapes; the payload stays text there too.
    xml = [page for page in crawled.pages if page.content_type.startswith("text/xml")]
    assert all(not unescaped(page.body) for page in xml)


def test_nothing_the_crawl_sent_got_a_500(crawled):
    errors = [f"{page.persona} GET {page.url}: {page.status}" for page in crawled.pages if page.status >= 500]
    assert not errors, "\n".join(errors)


def test_the_payload_constants_hold_the_markup_they_look_for():
    assert all(m in LONG_PAYLOAD for m in RAW_MARKUP[:2]) and RAW_MARKUP[2] in SHORT_PAYLOAD
