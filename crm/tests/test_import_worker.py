"""An import committed on real worker processes: the worker is killed in the middle of the commit
transaction, the task is delivered again to a new worker, and the data is what one clean commit
leaves. Also the preview through a worker, and a second delivery of a finished commit."""
import os
import signal
import time
import uuid

import pytest

from conftest import start_worker, stop_workers, wait_for, worker_env
from crm.celery import app
from crm.models import Contact, Customer, ImportBatch, ImportRecord
from crm.services import imports
from crm.tests.test_imports import sheet_file

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 300



def status_of(batch):
    return ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk)


def test_a_worker_killed_mid_commit_leaves_one_clean_import(it_importer, tmp_path, settings, picklists):
    settings.MEDIA_ROOT = tmp_path / "media"
    queue = f"crm-test-{uuid.uuid4().hex[:8]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    common = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "CELERY_VISIBILITY_TIMEOUT": "2",
              "CELERY_UNACKED_RESTORE_INTERVAL": "1"}
    log = open(tmp_path / "worker.log", "w+")
    workers = []
    try:
        rows = [[f"测试客户{i:04d}有限公司", "", f"1381234{i:04d}", "", "", "", "", f"联系人{i}", ""]
                for i in range(ROWS)]
        path = sheet_file(tmp_path, rows)
        batch = imports.import_upload(by=it_importer, path=path, file_name="客户.xlsx")
        # The check runs in two processes inside the worker (forked from it), as a large file's would.
        workers.append(start_worker(queue, worker_env(queue, CRM_IMPORT_PROCESSES="2", CRM_IMPORT_PROCESSES_FROM="100",
                                                      **common), log))
        imports.import_request_preview(batch=batch, by=it_importer)
        assert wait_for(lambda: status_of(batch) == ImportBatch.Status.PREVIEWED), status_of(batch)
        batch.refresh_from_db()
        assert batch.counts["new"] == ROWS
        log.seek(0)
        assert f"import {batch.pk}: cleaning the rows in 2 processes" in log.read()

        # The next worker pauses inside the commit transaction, after the customers are written.
        workers[0].terminate()
        workers[0].wait(timeout=20)
        workers.append(start_worker(queue, worker_env(queue, CRM_IMPORT_COMMIT_PAUSE="60", **common), log))
        batch.refresh_from_db()
        imports.import_request_commit(batch=batch, by=it_importer, policy="skip", unknown_owner="pool")
        assert wait_for(lambda: imports.progress_of(batch) >= ROWS), "the commit never wrote the customers"
        os.killpg(workers[1].pid, signal.SIGKILL)
        workers[1].wait(timeout=20)
        # Nothing of the dead transaction is left, and the batch still waits.
        assert wait_for(lambda: not Customer.objects.exists(), timeout=10)
        assert status_of(batch) == ImportBatch.Status.COMMITTING

        # A new worker gets the task again (the broker's visibility timeout) and finishes it.
        workers.append(start_worker(queue, worker_env(queue, **common), log))
        assert wait_for(lambda: status_of(batch) == ImportBatch.Status.DONE, timeout=90), status_of(batch)
        assert Customer.objects.count() == ROWS
        assert Customer.objects.values("name").distinct().count() == ROWS
        assert Contact.objects.count() == ROWS
        assert ImportRecord.objects.filter(batch=batch).count() == ROWS

        # The same commit delivered once more changes nothing.
        from crm import tasks

        tasks.import_commit.apply_async(kwargs={"batch_id": batch.pk, "by_id": it_importer.pk})
        time.sleep(3)
        assert Customer.objects.count() == ROWS and ImportRecord.objects.count() == ROWS
    finally:
        app.conf.task_default_queue = previous_queue
        stop_workers(workers, log)
