"""Background tasks of dispatch (django-tasks, database backend; worker: `manage.py db_worker`).

Thin wrappers: the work lives in services.py.  django-tasks has no periodic schedule,
so the sweep also runs as a loop process (`manage.py sla_sweep --loop 60`, started by
scripts/serve.sh); the task is for an on-demand sweep from a page or another service.
"""

from django_tasks import task

from zhouxin.core.scoping import scopes_disabled

from . import services


@task()
def sweep_sla() -> dict:
    """Warn requests at 80 % of their time and escalate overdue ones to the street hub, each once."""
    with scopes_disabled():
        result = services.sla_sweep()
    return {"warned": len(result.warned), "contact_overdue": len(result.contact_overdue),
            "escalated": len(result.escalated)}
