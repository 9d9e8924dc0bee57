"""SQL injection and filter abuse: every list page of the staff UI and every list endpoint of the
API, sent search, filter and ordering parameters full of SQL and odd characters, answers without
a 500 and never shows more than the caller's own unfiltered list.

The list pages are found, not listed: every URL pattern without arguments that shows the
community staff persona an HTML page with a GET form; its parameters are the form's fields plus
the usual q / ordering / sort.  The API's list endpoints and their query parameters come from the
OpenAPI schema."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.urls import NoReverseMatch, reverse
from rest_framework.test import APIClient

from .crawl import CONTACT_PHONES, build_world, client_for, name_of, parse, url_names

pytestmark = pytest.mark.django_db

PAYLOADS = ("' OR 1=1 --", "1; DROP TABLE orgs_area; --", "name)--", "%' OR '1'='1", "\x00", "-id,password",
            "__class__", "測試\u202e😀", "1e309", "' UNION SELECT username, password FROM core_user --")
EXTRA_PARAMS = ("q", "ordering", "sort", "order", "page", "limit", "offset")
PERSONA = "community_staff"  # 多福巷社区 only: anything of 吉祥社区 or 西城区 is a widening
HREF = re.compile(r'href="(/[^"#?]*)')


def _hidden(world) -> list[str]:
    """Text of objects outside the persona's scope; no list may show them whatever it is sent."""
    people = world.personas.people
    return [world.requests["community_b"].title, world.requests["community_x"].title,
            world.requests["community_b"].number, world.requests["community_x"].number,
            people["resident_b"].name, people["resident_x"].name, CONTACT_PHONES["community_b"]]


def _detail_links(body: str) -> int:
    """How many objects a page lists: distinct links to views that take an argument."""
    links = set()
    for path in HREF.findall(body):
        name = name_of(path)
        pattern = url_names().get(name or "")
        if pattern is not None and pattern.pattern.regex.groups:
            links.add(path)
    return len(links)


def _list_pages(client) -> dict[str, tuple[str, list[str]]]:
    pages = {}
    for name in sorted(url_names()):
        if not name.startswith(("core:", "orgs:", "dispatch:")) and name.split(":")[0] in {"api", "open311", "portal"}:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        parsed = parse(response.content.decode())
        params = [p for action, fields in parsed.get_forms if action in ("", url) for p in fields]
        if params:
            pages[url] = (response.content.decode(), sorted(set(params) | set(EXTRA_PARAMS)))
    return pages


def test_list_pages_survive_injected_search_filters_and_ordering(personas):
    world = build_world(personas)
    client = client_for(world, PERSONA)
    client.raise_request_exception = False
    hidden = _hidden(world)
    pages = _list_pages(client)
    assert {"/orgs/people/", "/dispatch/", "/orgs/organisations/"} <= set(pages), sorted(pages)
    failures = []
    for url, (baseline, params) in pages.items():
        allowed = _detail_links(baseline)
        queries = [{param: PAYLOADS[i % len(PAYLOADS)]} for i, param in enumerate(params)]
        queries += [dict.fromkeys(params, payload) for payload in PAYLOADS]
        for query in queries:
            full = f"{url}?{urlencode(query)}"
            response = client.get(full)
            body = response.content.decode(errors="replace")
            shown = _detail_links(body) if response.status_code == 200 else 0
            leaked = [text for text in hidden if text in body]
            if response.status_code >= 500 or shown > allowed or leaked:
                failures.append(f"GET {full}: {response.status_code}, {shown} objects > {allowed}, leaked={leaked}")
    assert not failures, "\n".join(failures)


def test_api_lists_survive_injected_search_filters_and_ordering(personas):
    from zhouxin.api.services import api_token_create

    world = build_world(personas)
    schema = client_for(world, PERSONA).get(reverse("api:schema") + "?format=json").json()
    _token, key = api_token_create(actor=personas.users["system_admin"], user=personas.users[PERSONA], name="注入测试")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api.raise_request_exception = False
    hidden = _hidden(world)
    lists = {path: [p["name"] for p in op["get"].get("parameters", []) if p.get("in") == "query"]
             for path, op in schema["paths"].items() if "get" in op and "{" not in path}
    assert {"/api/v1/requests/", "/api/v1/areas/", "/api/v1/organisations/"} <= set(lists)
    failures = []
    for path, params in lists.items():
        params = sorted(set(params) | set(EXTRA_PARAMS) | {"search", "status", "area"})
        baseline = api.get(path)
        assert baseline.status_code == 200, path
        allowed = baseline.json()["count"]
        queries = [{param: PAYLOADS[i % len(PAYLOADS)]} for i, param in enumerate(params)]
        queries += [dict.fromkeys(params, payload) for payload in PAYLOADS]
        for query in queries:
            response = api.get(path, query)
            body = response.content.decode(errors="replace")
            count = response.json().get("count", 0) if response.status_code == 200 else 0
            leaked = [text for text in hidden if text in body]
            if (response.status_code >= 500 or count > allowed or leaked
                    or not response["Content-Type"].startswith("application/json")):
                failures.append(f"GET {path}?{urlencode(query)}: {response.status_code}, {count} > {allowed}, "
                                f"leaked={leaked}")
    assert not failures, "\n".join(failures)


def test_a_nul_character_gets_a_400_with_a_message_not_a_500(personas, client_for):
    """PostgreSQL refuses NUL in text: found by the tests above (orgs search answered 500 on
    PostgreSQL, and matched everything on SQLite).  Any path or query string with one is refused."""
    client = client_for("community_staff")
    for url in ("/orgs/search/?q=%00", "/dispatch/requests/%00/", "/admin/users/?q=a%00b", "/orgs/people/?x%00=1"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "空字符" in response.content.decode(), url
    api = client.get("/api/v1/requests/?search=%00")
    assert api.status_code == 400 and api["Content-Type"].startswith("application/json")
    assert "空字符" in api.json()["errors"][0]["message"]
    assert client.get("/orgs/search/?q=%E5%A4%9A").status_code == 200
