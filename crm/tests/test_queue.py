"""The transactional outbox (crm/queue.py): a task is recorded with the rows it works on, sent after the
commit, kept when the broker does not answer and sent once by the sweep; the user is told it waits.
Real PostgreSQL and Redis; the broker that does not answer is a closed loopback port."""
import datetime
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from crm.lib.queue import enqueue_on_commit, queued_task_send, queued_tasks_send
from crm.models import Export, QueuedTask
from crm.tasks import ping
from crm.tests.broker import broker_at, free_port, queue_length
from crm.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    """The test Redis as the broker, on a queue of this test's own (nothing consumes it)."""
    queue = f"crm-test-outbox-{uuid.uuid4().hex[:8]}"
    with broker_at(settings.CELERY_BROKER_URL, queue):
        yield {"url": settings.CELERY_BROKER_URL, "queue": queue}
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)


@pytest.fixture
def broker_down(broker):
    """The same queue, on a port where nothing listens."""
    with broker_at(f"redis://127.0.0.1:{free_port()}/0", broker["queue"]):
        yield broker


def sent(broker):
    return queue_length(broker["url"], broker["queue"])


def test_it_records_the_task_in_the_callers_transaction_and_sends_it_after_the_commit(
        broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_on_commit(ping)
            task = QueuedTask.objects.get()
            assert task.name == "crm.tasks.ping" and task.sent_at is None
            assert sent(broker) == 0  # nothing leaves before the commit
    task.refresh_from_db()
    assert task.sent_at is not None and task.attempts == 0
    assert sent(broker) == 1


def test_a_rolled_back_write_queues_nothing(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            enqueue_on_commit(ping)
            raise RuntimeError
    assert not QueuedTask.objects.exists()
    assert sent(broker) == 0


def test_a_task_the_broker_does_not_take_waits_and_the_sweep_sends_it_once(
        broker_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(ping)
    task = QueuedTask.objects.get()
    assert task.sent_at is None and task.attempts == 1 and "Connection refused" in task.last_error
    assert queued_tasks_send() == 0  # still down: it keeps waiting
    task.refresh_from_db()
    assert task.sent_at is None and task.attempts == 2

    with broker_at(broker_down["url"], broker_down["queue"]):  # the broker is back
        assert queued_tasks_send() == 1
        assert queued_tasks_send() == 0  # a second sweep sends nothing again
        assert queued_task_send(task.pk)  # nor does a late send after the commit
    task.refresh_from_db()
    assert task.sent_at is not None
    assert sent(broker_down) == 1


@pytest.mark.django_db(transaction=True)
def test_a_row_being_sent_elsewhere_is_skipped_not_sent_twice(broker):
    first, second = (QueuedTask.objects.create(name="crm.tasks.ping") for _ in range(2))
    locked, release = threading.Event(), threading.Event()

    def another_sender():  # holds `first` as a sweep or a commit's send in another process would
        try:
            with transaction.atomic():
                QueuedTask.objects.select_for_update().get(pk=first.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=another_sender)
    thread.start()
    try:
        assert locked.wait(10)
        assert queued_tasks_send() == 1  # `second` only
        assert queued_task_send(first.pk)  # skipped, not waited for
        assert sent(broker) == 1
    finally:
        release.set()
        thread.join()
    assert QueuedTask.objects.get(pk=second.pk).sent_at is not None
    assert QueuedTask.objects.get(pk=first.pk).sent_at is None
    assert queued_tasks_send() == 1
    assert sent(broker) == 2


def test_the_sweep_forgets_tasks_sent_more_than_a_week_ago(broker):
    now = timezone.now()
    old = QueuedTask.objects.create(name="crm.tasks.ping", sent_at=now - datetime.timedelta(days=8))
    recent = QueuedTask.objects.create(name="crm.tasks.ping", sent_at=now - datetime.timedelta(days=6))
    assert queued_tasks_send(now=now) == 0
    assert list(QueuedTask.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old.pk != recent.pk


# Real commits: the send runs inside the request, as it does in production.
@pytest.mark.django_db(transaction=True)
def test_an_export_queued_while_the_broker_is_down_answers_with_the_message(
        broker_down, settings, client_for, director, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory.create_batch(2, owner=director)
    client = client_for(director)
    response = client.get(reverse("crm:customer_export"))
    export = Export.objects.get()
    assert response.status_code == 302 and response.url == reverse("crm:export_status", args=[export.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert "后台服务恢复后自动开始" in page.content.decode()
    assert export.status == Export.Status.QUEUED
    task = QueuedTask.objects.get()
    assert (task.name, task.kwargs, task.sent_at) == ("crm.tasks.export_run", {"export_id": export.pk}, None)


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_tasks_were_sent_says_nothing_of_the_kind(broker, settings, client_for, director, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.CRM_EXPORT_SYNC_LIMIT = 1
    CustomerFactory.create_batch(2, owner=director)
    client = client_for(director)
    response = client.get(reverse("crm:customer_export"))
    assert "后台服务恢复后自动开始" not in client.get(response.url).content.decode()
    assert QueuedTask.objects.get().sent_at is not None
