"""The co-building dashboard page (共建看板): the year's figures of the caller's areas or units.

The figures come from dashboard.py; the page draws them with ECharts (static/zhouxin/cobuild-dashboard.js
reads the JSON data island) and repeats every chart's numbers in a table for screen readers and
for printing.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from zhouxin.core.decorators import staff_view

from . import dashboard

YEARS_BACK = 4


def _year(raw: str | None, this_year: int) -> int:
    try:
        year = int(raw or "")
    except ValueError:
        return this_year
    return year if this_year - YEARS_BACK <= year <= this_year else this_year


@staff_view("cobuild.view")
def dashboard_view(request):
    this_year = timezone.localdate().year
    year = _year(request.GET.get("year"), this_year)
    scope = dashboard.dashboard_scope(request.user, street=request.GET.get("street", ""))
    board = dashboard.build(scope, year)
    return render(request, "cobuild/dashboard.html", {
        "board": board, "scope": scope, "year": year, "data": board.chart_data(),
        "years": list(range(this_year, this_year - YEARS_BACK - 1, -1))})
