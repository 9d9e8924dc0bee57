"""The report task run by django-tasks-db's own worker, as in production: the page polls the
progress partial while the report is queued, the worker generates it, the page offers the files."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from zhouxin.oversight.choices import ReportStatus
from zhouxin.oversight.models import Report

from .helpers_reports import RATE, install_fake_indicators, last_month

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    """Process every queued task with django-tasks-db's own worker, then return (batch mode)."""
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
           max_tasks=None, worker_id="pytest-worker", excluded_queue_names=[]).run()


def test_district_admin_asks_for_the_monthly_report_and_downloads_it(monkeypatch, personas, client_for):
    install_fake_indicators(monkeypatch, personas)
    client = client_for("district_admin")
    response = client.post(reverse("oversight:report_create"), {"area": "110101", "period": last_month().key})
    assert response.status_code == 302
    report = Report.objects.unscoped().get()
    assert DBTaskResult.objects.count() == 1  # enqueued once the report was committed
    status_url = reverse("oversight:report_status", args=[report.pk])
    waiting = client.get(status_url)
    assert waiting.status_code == 200 and "排队中" in waiting.content.decode()

    run_worker()

    report.refresh_from_db()
    assert report.status == ReportStatus.SUCCEEDED, report.error
    assert report.steps_done == report.steps_total and report.percent == 100
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    done = client.get(status_url)
    assert done.status_code == 286 and "人工填写 0 项" in done.content.decode()
    xlsx = client.get(reverse("oversight:report_xlsx", args=[report.pk]))
    book = load_workbook(io.BytesIO(xlsx.content))
    rate = next(row for row in book["概况"].iter_rows(values_only=True) if row[0] == RATE)
    assert rate[3] == 0.75  # 东城区's figure of the month
    pdf = client.get(reverse("oversight:report_pdf", args=[report.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
