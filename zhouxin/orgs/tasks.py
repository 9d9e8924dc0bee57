"""Background tasks of the orgs app (django-tasks, database backend; worker: `manage.py db_worker`).

Thin wrappers: the work lives in imports.py.
"""

from django_tasks import task

from . import imports


@task()
def run_import_job(job_id: int, language: str = "") -> str:
    """Validate and import one uploaded spreadsheet, all rows or none; returns the job's final status."""
    return imports.import_job_execute(job_id, language)
