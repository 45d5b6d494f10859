"""Liveness of the parts the app needs: PostgreSQL, Redis and at least one Celery worker."""
import redis
from django.conf import settings
from django.db import connection

WORKER_HEARTBEAT_KEY = "crm:worker:heartbeat"


def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=2)


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def check_redis():
    redis_client().ping()
    return {"ok": True}


def check_worker(timeout=1.5):
    from crm.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        replies = app.control.ping(timeout=timeout, connection=conn) or []
    return {"ok": bool(replies), "workers": len(replies)}


CHECKS = {"database": check_database, "redis": check_redis, "worker": check_worker}


def run_checks():
    """Each check's result; a failing check reports its error class, never raising."""
    results = {}
    for name, check in CHECKS.items():
        if name == "worker" and not results.get("redis", {}).get("ok"):
            # workers are reached through Redis: no broker, no worker to ask
            results[name] = {"ok": False, "error": "BrokerUnavailable"}
            continue
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure
            results[name] = {"ok": False, "error": exc.__class__.__name__}
    return results
