"""Queueing Celery work from services: only once the surrounding transaction has committed,
so a worker never sees a row that is not there yet, and a rolled-back write queues nothing."""
from django.db import transaction


def enqueue_on_commit(task, **kwargs):
    """Send `task` with keyword arguments (ids and plain values only) after commit."""
    transaction.on_commit(lambda: task.apply_async(kwargs=kwargs))
