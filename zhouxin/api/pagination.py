"""Limit/offset pagination of the API lists, with the count capped as on the staff list pages.

`count` is exact up to CAP rows (10,000).  Past that, counting every request of a district or the
city took seconds (docs/performance.md, issue 12), so the count stops: the response says
`"count": 10000, "count_capped": true` ("10,000 or more"), and `next` is still given while rows
follow, found by reading one row more than the page; walking `next` reaches every row as before.
"""

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from zhouxin.core.pagination import DEFAULT_CAP, capped_count


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200
    cap = DEFAULT_CAP

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self.get_limit(request)
        if self.limit is None:
            return None
        self.offset = self.get_offset(request)
        self.count, self.count_capped = capped_count(queryset, self.cap)
        self.has_more = False
        if self.count > self.limit and self.template is not None:
            self.display_page_controls = True
        if not self.count_capped:
            if self.count == 0 or self.offset > self.count:
                return []
            return list(queryset[self.offset:self.offset + self.limit])
        rows = list(queryset[self.offset:self.offset + self.limit + 1])
        self.has_more = len(rows) > self.limit
        return rows[:self.limit]

    def get_next_link(self):
        if not self.count_capped:
            return super().get_next_link()
        if not self.has_more:
            return None
        url = replace_query_param(self.request.build_absolute_uri(), self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_paginated_response(self, data):
        return Response({
            "count": self.count,
            "count_capped": self.count_capped,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        body["properties"]["count"]["description"] = (
            f"结果总数；超过 {self.cap} 条时不再细数，为 {self.cap}，同时 count_capped 为 true")
        body["properties"] = {
            "count": body["properties"]["count"],
            "count_capped": {"type": "boolean", "example": False,
                             "description": f"true 表示结果多于 {self.cap} 条，count 只是下限；"
                                            "翻页请沿 next 链接，直到 next 为空"},
            **{k: v for k, v in body["properties"].items() if k != "count"},
        }
        return body
