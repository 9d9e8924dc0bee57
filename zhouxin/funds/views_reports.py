"""Funds report pages: the street overview (经费报表 / 经费看板) with its ECharts charts, and the
fund execution report as xlsx.

The figures come from reports.py; the page draws them with ECharts (static/zhouxin/funds-dashboard.js
reads the JSON data island, no inline script) and repeats every chart's numbers in a table for
screen readers and for printing.  Only the areas of the caller's "funds.view" grants are counted.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from zhouxin.core.decorators import staff_view

from . import reports


@staff_view("funds.view")
@require_GET
def dashboard(request):
    year = reports.chosen_year(request.GET.get("year"))
    scope = reports.report_scope(request.user, street=request.GET.get("street", ""))
    board = reports.overview(scope, year)
    return render(request, "funds/reports/dashboard.html", {
        "board": board, "scope": scope, "year": year, "years": reports.years_for(), "data": board.chart_data()})


@staff_view("funds.view")
@require_GET
def execution_xlsx(request):
    year = reports.chosen_year(request.GET.get("year"))
    data, filename = reports.execution_export(actor=request.user, year=year, street=request.GET.get("street", ""))
    response = HttpResponse(data, content_type=reports.XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
