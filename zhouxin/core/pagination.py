"""A paginator whose count stops at a cap, for lists over tables that grow with the city.

Django's Paginator counts the whole list exactly (`SELECT COUNT(*)` over the scope), which reads
every row of it: 1.5–1.8 s for the queue's "全部" tab of a district or the city, where the page
itself takes 5 ms (docs/performance.md, issue 12).  Like the big trackers, the lists here count at
most `cap` + 1 rows, in one bounded query (`SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`), and
when there are more say "10,000 条以上" and offer the pages of the first `cap` rows only; a narrower
filter finds the rest.  Below the cap everything is exactly as with Django's Paginator.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

DEFAULT_CAP = 10_000


def capped_count(object_list, cap: int) -> tuple[int, bool]:
    """(count, capped): the number of objects but at most `cap`, and whether there are more.

    A queryset is counted with one query reading at most cap + 1 rows; its ordering is dropped
    first (the count does not depend on it, and a sorted subquery would read every row to sort
    them).  Anything else is counted with len()."""
    if not isinstance(object_list, QuerySet):
        return len(object_list), False
    qs = object_list
    if qs.query.is_sliced:  # already bounded: count it as it is
        return qs.count(), False
    if not qs.query.distinct_fields:  # DISTINCT ON needs its ordering
        qs = qs.order_by()
    found = qs[:cap + 1].count()
    return min(found, cap), found > cap


class CappedPaginator(Paginator):
    """A Paginator whose `count` is at most `cap`; `capped` tells whether more rows exist.

    When capped, the pages are those of the first `cap` rows (num_pages = ceil(cap / per_page));
    get_page() of a later page gives the last of them, as it does for any page out of range.

    `count_parts`: disjoint querysets whose union is the list, counted one by one (capped) instead
    of the list itself, when each part can use an index and the whole cannot (the work queue of a
    user with both an area and an organisation grant: dispatch.selectors.queue_count_parts)."""

    cap = DEFAULT_CAP

    def __init__(self, object_list, per_page, *args, count_parts=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_parts = count_parts

    @cached_property
    def _capped_count(self) -> tuple[int, bool]:
        if self.count_parts is None:
            return capped_count(self.object_list, self.cap)
        total = 0
        for part in self.count_parts:
            found, more = capped_count(part, self.cap - total)
            total += found
            if more:
                return self.cap, True
        return total, False

    @cached_property
    def count(self) -> int:
        return self._capped_count[0]

    @property
    def capped(self) -> bool:
        return self._capped_count[1]
