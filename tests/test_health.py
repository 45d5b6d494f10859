"""/healthz: PostgreSQL, Redis, and the workers' heartbeat (beat sends it, a worker writes it); 503
when one is down. Public, never cached, answered in milliseconds with one query and one Redis GET."""
import datetime
import time
import uuid

import pytest
from django.test import override_settings
from django.utils import timezone

from crm.health import heartbeat_key, heartbeat_write, redis_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_heartbeat(settings):
    """A heartbeat key of this test's own (another test's stamp cannot leak in)."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"health-{uuid.uuid4().hex[:8]}"}}
    yield heartbeat_key()
    redis_client().delete(heartbeat_key())


def test_it_is_healthy_in_milliseconds_with_a_fresh_heartbeat(client, own_heartbeat, django_assert_num_queries):
    heartbeat_write(timezone.now() - datetime.timedelta(seconds=20))
    started = time.perf_counter()
    with django_assert_num_queries(1):  # SELECT 1; Redis is one GET
        response = client.get("/healthz")
    elapsed = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["worker"] == {"ok": True, "heartbeat_age": pytest.approx(20, abs=5)}
    assert elapsed < 0.5  # it waited out a 1.5 s broadcast ping on every hit before
    assert "no-store" in response["Cache-Control"]


def test_it_answers_503_when_the_heartbeat_is_stale(client, own_heartbeat, settings, django_assert_num_queries):
    heartbeat_write(timezone.now() - datetime.timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE + 30))
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["heartbeat_age"] > settings.HEALTH_HEARTBEAT_MAX_AGE
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert "no-store" in response["Cache-Control"]


def test_it_answers_503_before_any_heartbeat(client, own_heartbeat):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "error": "NoHeartbeat"}


def test_it_answers_503_when_redis_is_down(client, own_heartbeat):
    heartbeat_write()
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        started = time.perf_counter()
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False
    assert time.perf_counter() - started < 1.5


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_when_the_database_is_down(client, own_heartbeat):
    from django.db import connection

    heartbeat_write()
    real = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = 1
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["ok"] is False
    assert response.json()["checks"]["worker"]["ok"] is True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_running_the_heartbeat_makes_it_healthy(client, celery_worker_process):
    from crm.tasks import worker_heartbeat

    redis_client().delete(heartbeat_key())
    assert client.get("/healthz").status_code == 503
    worker_heartbeat.apply_async(queue=celery_worker_process["queue"])  # what beat sends every 30 s
    deadline = time.monotonic() + 30
    while redis_client().get(heartbeat_key()) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["worker"]["heartbeat_age"] < 30
