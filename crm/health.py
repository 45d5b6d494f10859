"""Liveness of the parts the app needs: PostgreSQL, Redis, and beat with at least one Celery worker.

Cheap enough for a load balancer to ask every few seconds: one `SELECT 1`, and one Redis GET of the
stamp that the `worker_heartbeat` task writes. Beat sends that task every 30 s and a worker runs it,
so a fresh stamp says both live; a stamp older than HEALTH_HEARTBEAT_MAX_AGE (or none) says one of
them is down. Nothing waits for a broadcast reply.
"""
import datetime
import functools

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone


def heartbeat_key():
    """The stamp's Redis key, under the install's cache prefix (several installs may share a Redis)."""
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'crm')}:worker:heartbeat"


@functools.lru_cache(maxsize=4)
def _client(url):
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def redis_client():
    """A client of REDIS_URL with short time-outs, its connections kept between requests."""
    return _client(settings.REDIS_URL)


def heartbeat_write(now=None):
    """(worker) Stamp the time; kept ten minutes, long after it counts as stale."""
    redis_client().set(heartbeat_key(), (now or timezone.now()).isoformat(), ex=600)


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def run_checks(now=None):
    """Each part's state; a failing one reports its error class, never raising. Redis's answer
    is the heartbeat's stamp: no Redis, no word from the workers either."""
    results = {}
    try:
        results["database"] = check_database()
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        results["database"] = {"ok": False, "error": exc.__class__.__name__}
    try:
        stamp = redis_client().get(heartbeat_key())
    except Exception as exc:  # noqa: BLE001
        results["redis"] = {"ok": False, "error": exc.__class__.__name__}
        results["worker"] = {"ok": False, "error": "RedisUnavailable"}
        return results
    results["redis"] = {"ok": True}
    results["worker"] = _heartbeat_state(stamp, now or timezone.now())
    return results


def _heartbeat_state(stamp, now):
    if stamp is None:
        return {"ok": False, "error": "NoHeartbeat"}
    try:
        age = (now - datetime.datetime.fromisoformat(stamp.decode())).total_seconds()
    except ValueError:
        return {"ok": False, "error": "NoHeartbeat"}
    age = max(age, 0.0)  # a worker's clock a little ahead of this one's
    return {"ok": age <= settings.HEALTH_HEARTBEAT_MAX_AGE, "heartbeat_age": round(age, 1)}
