"""Platform tasks of the core. Tasks take ids and are safe to run twice."""
from celery import shared_task
from django.utils import timezone

from .health import WORKER_HEARTBEAT_KEY, redis_client


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat():
    """Beat runs this every 30 s; /healthz reads the stamp to tell that beat and a worker live."""
    redis_client().set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), ex=600)


@shared_task(name="crm.tasks.ping")
def ping():
    """Answers 'pong' from a worker: used by the health check and the worker tests."""
    return "pong"
