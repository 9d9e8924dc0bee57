"""The work queue's "全部" tab at city scale (issue 12): the total is counted up to a cap in one bounded
query; past it the page says "N 条以上", asks for narrower filters and pages only through the first N."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.pagination import CappedPaginator
from zhouxin.dispatch import services
from zhouxin.dispatch.choices import AssignmentRole
from zhouxin.dispatch.models import Assignment

pytestmark = pytest.mark.django_db
ROWS = 25


@pytest.fixture
def requests_in_street(personas, dispatch_world):
    return [services.request_intake(actor=personas.users["street_hub"], area=personas.areas["community_a"],
                                    kind="complaint", channel="hotline", title=f"楼道堆放杂物{i:02d}",
                                    description="3号楼2单元楼道长期堆放纸箱杂物，影响通行。",
                                    contact_name="吴女士", contact_phone="13812345678")
            for i in range(ROWS)]


def _queue(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dispatch:queue"), {"tab": "all", "per_page": 10, **params})
    assert response.status_code == 200
    return response.content.decode(), [q["sql"] for q in queries]


def _rows(page: str) -> list[str]:
    return re.findall(r'data-zx-request="([^"]+)"', page)


def test_below_the_cap_the_exact_total_shows(requests_in_street, client_for):
    page, _ = _queue(client_for("street_hub"))
    assert "共 25 条 · 第 1 / 3 页" in page
    assert "条以上" not in page and "结果较多" not in page
    assert "page=3" in page


def test_past_the_cap_the_queue_says_more_and_pages_only_up_to_the_cap(requests_in_street, client_for,
                                                                      monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 12)
    client = client_for("street_hub")
    page, queries = _queue(client)
    assert "共 12 条以上 · 第 1 / 2 页" in page
    assert "结果较多，只列出前 12 条，请用筛选条件缩小范围。" in page
    newest = [sr.number for sr in reversed(requests_in_street)]
    assert _rows(page) == newest[:10]
    assert "page=2" in page and "page=3" not in page  # the pager offers the capped pages only

    # The total: COUNT(*) over the requests reading at most cap + 1 rows (the tab counts are
    # COUNT(id) FILTER (…) over the active requests, not the whole scope).  The street hub has an
    # area grant and an organisation: the street's requests are counted first, and they already
    # pass the cap, so the requests assigned to the committee elsewhere are not counted at all.
    totals = [sql for sql in queries if "COUNT(*)" in sql.upper() and "SERVICEREQUEST" in sql.upper()]
    assert len(totals) == 1 and re.search(r"\bLIMIT 13\b", totals[0].upper()), totals
    assert "ORDER BY" not in totals[0].upper() and " OR " not in totals[0].upper()

    beyond, _ = _queue(client, page=3)  # past the capped pages: the last of them
    assert "第 2 / 2 页" in beyond and _rows(beyond) == newest[10:12]
    assert "下一页" not in beyond


def test_a_narrower_filter_below_the_cap_shows_the_exact_total(requests_in_street, client_for, monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 12)
    page, _ = _queue(client_for("street_hub"), q="杂物0")
    assert "共 10 条" in page and "条以上" not in page and len(_rows(page)) == 10


def test_requests_assigned_elsewhere_are_counted_once_beside_the_area(requests_in_street, personas,
                                                                      dispatch_world, client_for):
    """The hub's committee co-handles a request of another street: the queue counts the street's
    requests and that one (two bounded counts, each by an index), and lists it too."""
    elsewhere = services.request_intake(
        actor=personas.users["district_admin"], area=personas.areas["community_b"], kind="complaint",
        channel="hotline", title="外街道的诉求", description="吉祥社区的诉求，东华门街道工委协办。")
    # Set up as a co-handling assignment (the dispatch service's own rules are tested elsewhere).
    Assignment.objects.create(request=elsewhere, organisation=personas.orgs["street_a_committee"],
                              role=AssignmentRole.CO, assigned_at=timezone.now())
    page, queries = _queue(client_for("street_hub"), per_page=50)
    assert "共 26 条" in page and "条以上" not in page
    assert elsewhere.number in _rows(page) and len(_rows(page)) == 26
    totals = [sql for sql in queries if "COUNT(*)" in sql.upper() and "SERVICEREQUEST" in sql.upper()]
    assert len(totals) == 2 and all(re.search(r"\bLIMIT \d+\b", sql.upper()) for sql in totals), totals
