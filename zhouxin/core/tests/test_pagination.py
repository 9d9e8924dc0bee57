"""The capped paginator (issue 12): a count of at most `cap` rows in one bounded query, the pages of
those rows only, and the staff lists over growing tables that say "N 条以上" when there are more."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhouxin.core import audit
from zhouxin.core.pagination import CappedPaginator
from zhouxin.core.scoping import scopes_disabled

pytestmark = pytest.mark.django_db


@pytest.fixture
def cap(monkeypatch):
    def set_cap(n: int) -> int:
        monkeypatch.setattr(CappedPaginator, "cap", n)
        return n

    return set_cap


def permissions():
    return Permission.objects.order_by("pk")  # a table every database here has, with hundreds of rows


def test_over_the_cap_the_count_stops_and_the_pages_end_at_the_cap(cap):
    cap(5)
    everything = list(permissions().values_list("pk", flat=True))
    assert len(everything) > 6
    paginator = CappedPaginator(permissions(), 2)
    assert paginator.count == 5 and paginator.capped
    assert paginator.num_pages == 3 and list(paginator.page_range) == [1, 2, 3]
    last = paginator.get_page(10)  # beyond the capped pages: the last of them, as for any page out of range
    assert last.number == 3 and not last.has_next()
    assert [p.pk for p in last.object_list] == everything[4:5]
    assert [p.pk for p in paginator.get_page(1).object_list] == everything[:2]


def test_the_count_is_one_query_reading_at_most_cap_plus_one_rows(cap):
    cap(5)
    paginator = CappedPaginator(permissions().select_related("content_type"), 2)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 5
        assert paginator.num_pages == 3 and paginator.capped
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "COUNT(" in sql and re.search(r"\bLIMIT 6\b", sql), sql
    assert "ORDER BY" not in sql and "JOIN" not in sql, sql  # no sort or join of the whole scope to count it


def test_below_and_at_the_cap_the_count_is_exact(cap):
    cap(5)
    ids = list(permissions().values_list("pk", flat=True)[:5])
    at_cap = CappedPaginator(permissions().filter(pk__in=ids), 2)
    assert at_cap.count == 5 and not at_cap.capped and at_cap.num_pages == 3
    below = CappedPaginator(permissions().filter(pk__in=ids[:3]), 2)
    assert below.count == 3 and not below.capped and below.num_pages == 2
    empty = CappedPaginator(permissions().none(), 2)
    assert empty.count == 0 and not empty.capped and empty.get_page(1).number == 1


def test_lists_and_sliced_querysets_are_counted_as_they_are(cap):
    cap(5)
    items = list(range(12))
    with CaptureQueriesContext(connection) as queries:
        paginator = CappedPaginator(items, 5)
        assert paginator.count == 12 and not paginator.capped and paginator.num_pages == 3
    assert len(queries) == 0
    sliced = CappedPaginator(permissions()[:8], 3)
    assert sliced.count == 8 and not sliced.capped


# --- the audit log, a staff list over a table that grows with every write -----------------------------

def _entries(personas, n):
    with scopes_disabled():
        for i in range(n):
            audit.record(actor=personas.system_admin, action="test.capped", object_type="test", object_id=i,
                         object_repr=f"分页样本{i:02d}")


def test_the_audit_log_says_more_than_the_cap_and_pages_only_up_to_it(personas, client_for, cap):
    _entries(personas, 14)
    client = client_for("audit_admin")
    url = "/admin/audit/"
    exact = client.get(url, {"action": "test.capped", "per_page": 10}).content.decode()
    assert "共 14 条 · 第 1 / 2 页" in exact and "条以上" not in exact and "结果较多" not in exact

    cap(12)
    first = client.get(url, {"action": "test.capped", "per_page": 10}).content.decode()
    assert "共 12 条以上 · 第 1 / 2 页" in first
    assert "结果较多，只列出前 12 条，请用筛选条件缩小范围。" in first
    assert len(re.findall(r"分页样本\d\d", first)) == 10
    assert "page=2" in first and "page=3" not in first
    beyond = client.get(url, {"action": "test.capped", "per_page": 10, "page": 3}).content.decode()
    assert "第 2 / 2 页" in beyond and len(re.findall(r"分页样本\d\d", beyond)) == 2
    assert "下一页" not in beyond


def test_the_volunteer_registrations_say_more_than_the_cap(personas, client_for, cap):
    from zhouxin.orgs.models import Person
    from zhouxin.volunteers.tests.test_feedback import register

    with scopes_disabled():
        for i in range(6):
            person = Person.objects.unscoped().create(name=f"分页样本{i:02d}", home_area=personas.areas["community_a"],
                                                      work_unit=personas.orgs["unit"], is_party_member=True,
                                                      party_branch=personas.orgs["unit_branch"])
            register(personas, person)
    cap(4)
    page = client_for("community_staff").get("/volunteers/registrations/").content.decode()
    assert "共 4 条以上" in page and len(re.findall(r"分页样本\d\d", page)) == 4
