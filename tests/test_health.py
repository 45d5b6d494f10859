"""/healthz reports PostgreSQL, Redis and worker liveness; 503 when one is down."""
import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_it_is_healthy_with_a_worker(client, celery_worker_process):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["worker"]["workers"] >= 1


def test_it_answers_503_when_no_worker_listens(client):
    # a Redis database no worker consumes: the broadcast ping gets no reply
    from django.conf import settings

    base = settings.REDIS_URL.rsplit("/", 1)[0]
    with override_settings(CELERY_BROKER_URL=f"{base}/13"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "workers": 0}


def test_it_answers_503_when_redis_is_down(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0", CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is False


def test_it_answers_503_when_the_database_is_down(client, settings):
    from django.db import connection

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
