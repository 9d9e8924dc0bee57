"""API lists count up to a cap (issue 12): past it `count` is the cap and `count_capped` is true, and
`next` still leads through every row; below it the count is exact as before."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhouxin.api.pagination import Pagination

pytestmark = pytest.mark.django_db
URL = "/api/v1/requests/"


@pytest.fixture
def eight(new_request):
    return [new_request(title=f"楼道诉求{i}") for i in range(8)]


def _walk(api, url):
    numbers, pages = [], []
    while url:
        body = api.get(url).json()
        pages.append(body)
        numbers += [r["number"] for r in body["results"]]
        url = body["next"]
    return numbers, pages


def test_below_the_cap_the_count_is_exact_and_not_capped(eight, token_client):
    body = token_client("district_admin").get(f"{URL}?limit=3").json()
    assert body["count"] == 8 and body["count_capped"] is False
    assert len(body["results"]) == 3 and "offset=3" in body["next"]


def test_past_the_cap_the_count_says_so_and_next_reaches_every_row(eight, token_client, monkeypatch):
    monkeypatch.setattr(Pagination, "cap", 5)
    api = token_client("district_admin")
    with CaptureQueriesContext(connection) as queries:
        first = api.get(f"{URL}?limit=3").json()
    assert first["count"] == 5 and first["count_capped"] is True
    totals = [q["sql"] for q in queries if "COUNT(*)" in q["sql"].upper() and "SERVICEREQUEST" in q["sql"].upper()]
    assert len(totals) == 1 and re.search(r"\bLIMIT 6\b", totals[0].upper()), totals

    numbers, pages = _walk(api, f"http://testserver{URL}?limit=3")
    assert numbers == [sr.number for sr in reversed(eight)]  # newest first, all eight, none twice
    assert [len(p["results"]) for p in pages] == [3, 3, 2]
    assert all(p["count"] == 5 and p["count_capped"] for p in pages)
    assert pages[-1]["next"] is None and "offset=3" in pages[-1]["previous"]

    exact = api.get(f"{URL}?offset=5&limit=3").json()  # a page ending on the last row: no next
    assert len(exact["results"]) == 3 and exact["next"] is None
    assert api.get(f"{URL}?offset=50").json()["results"] == []


def test_the_schema_documents_count_capped():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedRequestList"]["properties"]
    assert page["count_capped"]["type"] == "boolean" and list(page)[:2] == ["count", "count_capped"]
