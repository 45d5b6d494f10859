"""Nothing is lost while the broker is down: with a real Redis stopped, a customer export and an import
started through the pages answer 2xx and say the work starts when the background service is back; the
tasks wait in the outbox; with Redis and a real worker back, the sweep sends them and each runs once.

The Redis is this test's own (crm/tests/broker.py), broker and cache alike, as one Redis serves both in
production; the machine's shared Redis is never stopped."""
import re
import uuid

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from conftest import start_worker, stop_workers, worker_env
from crm.lib.queue import queued_tasks_send
from crm.models import Customer, Export, ImportBatch, ImportRecord, QueuedTask
from crm.tests.broker import OwnRedis, broker_at
from crm.tests.factories import CustomerFactory
from crm.tests.test_import_views import mapping_post, upload
from crm.tests.test_import_worker import wait_for
from crm.tests.test_imports import sheet_file

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WAITS = "后台服务恢复后自动开始"  # "…starts when the background service is back"
ROWS = 40


@pytest.fixture
def own_redis(tmp_path, settings):
    """A Redis of the test's own, as this process's broker, cache and health check."""
    server = OwnRedis(tmp_path)
    server.start()
    queue = f"crm-test-outage-{uuid.uuid4().hex[:8]}"
    # The Celery app reads its configuration from the settings once, at its first use: repoint it
    # before the settings change, or a process whose first use is this test keeps this Redis's address
    # (broker and result backend) for every later test.
    with broker_at(server.url, queue):
        settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
        yield server, queue
    server.stop()


def received(log, task_id):
    """How many times the worker log shows the task with this id arriving."""
    log.seek(0)
    return len(re.findall(rf"Task [\w.]+\[{task_id}\] received", log.read()))


def test_an_export_and_an_import_started_while_redis_is_down_each_run_once_when_it_is_back(
        own_redis, settings, tmp_path, client_for, it_importer, picklists):
    server, queue = own_redis
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CRM_EXPORT_SYNC_LIMIT = 2
    CustomerFactory.create_batch(5, owner=it_importer)
    env = worker_env(queue, MEDIA_ROOT=str(settings.MEDIA_ROOT))
    log = open(tmp_path / "worker.log", "w+")
    workers = []
    client = client_for(it_importer)
    try:
        server.stop()  # Redis is down
        assert client.get("/healthz").status_code == 503

        # The export and the import's check, started through the pages.
        response = client.get(reverse("crm:customer_export"), follow=True)
        assert response.status_code == 200 and WAITS in response.content.decode()
        export = Export.objects.get()
        path = sheet_file(tmp_path, [[f"断网测试{i:03d}有限公司", "", f"1391234{i:04d}", "", "", "", "", "", ""]
                                     for i in range(ROWS)])
        assert upload(client, path).status_code == 302
        batch = ImportBatch.objects.get()
        response = client.post(reverse("crm:import_configure", args=[batch.pk]), mapping_post(batch, check="1"),
                               follow=True)
        assert response.status_code == 200 and WAITS in response.content.decode()
        waiting = {task.name: task for task in QueuedTask.objects.filter(sent_at__isnull=True)}
        assert set(waiting) == {"crm.tasks.export_run", "crm.tasks.import_preview"}
        assert waiting["crm.tasks.export_run"].kwargs == {"export_id": export.pk}
        assert waiting["crm.tasks.import_preview"].kwargs == {"batch_id": batch.pk}

        # Redis and a worker are back; beat's sweep sends what waits.
        server.start()
        workers.append(start_worker(queue, env, log))
        assert queued_tasks_send() == 2
        assert wait_for(lambda: Export.objects.get().status == Export.Status.DONE)
        assert wait_for(lambda: ImportBatch.objects.get().status == ImportBatch.Status.PREVIEWED)

        # Down again while the import is committed.
        stop_workers(workers, log)
        workers.clear()
        log = open(tmp_path / "worker.log", "a+")
        server.stop()
        response = client.post(reverse("crm:import_commit", args=[batch.pk]),
                               {"policy": "skip", "unknown_owner": "pool"}, follow=True)
        assert response.status_code == 200 and WAITS in response.content.decode()
        commit = QueuedTask.objects.get(name="crm.tasks.import_commit", sent_at__isnull=True)
        assert ImportBatch.objects.get().status == ImportBatch.Status.COMMITTING

        server.start()
        workers.append(start_worker(queue, env, log))
        assert queued_tasks_send() == 1
        assert wait_for(lambda: ImportBatch.objects.get().status == ImportBatch.Status.DONE)

        # Each ran exactly once, and nothing is left to send.
        assert queued_tasks_send() == 0
        assert not QueuedTask.objects.filter(sent_at__isnull=True).exists()
        for task in (*waiting.values(), commit):
            assert received(log, task.task_id) == 1, task.name
        assert Customer.objects.filter(name__startswith="断网测试").count() == ROWS
        assert ImportRecord.objects.filter(batch=batch).count() == ROWS
        export.refresh_from_db()
        with export.file.open("rb") as handle:
            rows = list(load_workbook(handle, read_only=True).active.iter_rows(values_only=True))
        assert len(rows) == 1 + 5  # the heading and the five customers
    finally:
        stop_workers(workers, log)
