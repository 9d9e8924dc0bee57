"""Background task that retrains the category suggestion model (django-tasks, database
backend; worker: `manage.py db_worker`).  Thin wrapper: the work lives in classify.py."""

from django_tasks import task

from . import classify


@task()
def retrain_classifier() -> dict:
    """Retrain on the dispatchers' confirmed categories and store a new model version;
    every process picks it up within a few seconds.  Returns what was done."""
    result = classify.train()
    classify.warm_up()
    return {"trained": result.trained, "version": result.version, "examples": result.examples,
            "classes": result.classes, "message": result.message}
