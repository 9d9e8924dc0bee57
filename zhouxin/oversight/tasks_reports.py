"""Background task of the reports part (django-tasks, database backend; worker: `manage.py db_worker`).

A thin wrapper: the work lives in reports.py.
"""

from django_tasks import task

from . import reports


@task()
def generate_report(report_id: int) -> str:
    """Generate one report's figures, xlsx and PDF, moving its progress bar; returns its final status."""
    return reports.report_generate(report_id)
