"""A large check cleaned by two processes (crm.lib.forked) stages exactly what one process stages: the
same verdicts, reasons, first rows (across the processes' chunks), values and counts; and the fork
helper itself: results in order, a child's exception raised here, a child that dies reported."""
import os
import threading

import pytest

from crm.lib import forked
from crm.models import ImportBatch, ImportRow
from crm.services.imports import check, commit, upload
from crm.tests.import_files import big_legacy_xlsx

ROWS = 640
CHUNK = 50  # small chunks, so two processes take turns many times over a small sheet


@pytest.fixture
def alone():
    """A check forks only from a process with one thread (crm.lib.forked.can_fork): a thread an earlier
    test of this worker left behind is given time to end, and named if it does not."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join(timeout=10)
    assert threading.active_count() == 1, threading.enumerate()


def report_rows(batch):
    from openpyxl import load_workbook

    batch.refresh_from_db()
    book = load_workbook(batch.error_report.path, read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    return rows


def staged(batch):
    """Everything a check stages for the batch, but the reserved ids (they differ from run to run)."""
    fields = ["row_number", "verdict", "reason", "first_row", "name_key", "mobile", "email", "match_id", "match_on",
              "data", "original"]
    return list(ImportRow.objects.filter(batch=batch).order_by("row_number").values_list(*fields))


@pytest.mark.django_db(transaction=True)
def test_two_processes_stage_what_one_stages(alone, it_importer, tmp_path, settings, monkeypatch, picklists):
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(check, "STAGE_CHUNK", CHUNK)
    settings.CRM_IMPORT_PROCESSES_FROM = 2 * CHUNK
    described = big_legacy_xlsx(tmp_path / "legacy.xlsx", rows=ROWS, seed=7)
    batch = upload.import_upload(by=it_importer, path=tmp_path / "legacy.xlsx", file_name="legacy.xlsx")
    assert batch.counts["rows_estimate"] >= 2 * CHUNK

    settings.CRM_IMPORT_PROCESSES = 1
    batch = check.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    one_counts, one_rows, one_report = batch.counts, staged(batch), report_rows(batch)
    one_ids = set(ImportRow.objects.filter(batch=batch, verdict="new").values_list("new_id", flat=True))

    calls = []
    real_run_forked = check.run_forked

    def counted(*functions):
        calls.append(len(functions))
        return real_run_forked(*functions)

    monkeypatch.setattr(check, "run_forked", counted)
    settings.CRM_IMPORT_PROCESSES = 2
    batch = check.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.PREVIEWED, batch.error
    assert calls == [2, 2]  # the rows' chunks, then the repeats folded beside the error report written
    assert batch.counts == one_counts
    assert staged(batch) == one_rows
    assert report_rows(batch) == one_report and len(one_report) == 1 + one_counts["error"]
    assert one_counts["warnings"] > 0  # the legacy list's bad cells: rows imported with a note

    # The counts add up, repeats were found across the two processes' chunks, and every new row has
    # its own reserved customer id (fresh ones: the first check's ids are not reused).
    counts = batch.counts
    assert counts["data"] == ROWS == described["data_rows"]
    assert counts["new"] + counts["in_file"] + counts["error"] + counts.get("existing", 0) == ROWS
    repeats = ImportRow.objects.filter(batch=batch, verdict="in_file")
    assert repeats.count() == counts["in_file"] > 0
    assert any((row.row_number - 1) // CHUNK != (row.first_row - 1) // CHUNK for row in repeats)
    assert not repeats.exclude(new_id=None).exists()
    ids = list(ImportRow.objects.filter(batch=batch, verdict="new").values_list("new_id", flat=True))
    assert None not in ids and len(set(ids)) == len(ids) == counts["new"]
    assert not set(ids) & one_ids

    # What the two processes staged commits like any check.
    batch.status = ImportBatch.Status.COMMITTING
    batch.save()
    batch = commit.import_commit(batch.pk, by_id=it_importer.pk)
    assert batch.status == ImportBatch.Status.DONE
    assert batch.counts["created"] == counts["new"]


def test_run_forked_returns_each_result_in_order_from_its_own_process():
    here = os.getpid()
    results = forked.run_forked(os.getpid, os.getpid, lambda: "three")
    assert results[0] == here
    assert results[1] != here and results[1] > 0
    assert results[2] == "three"


def test_run_forked_raises_a_childs_exception_here_after_all_have_finished(tmp_path):
    done = tmp_path / "done"

    def fails():
        raise ValueError("第二个进程失败")

    def finishes():
        done.write_text("yes")
        return 1

    with pytest.raises(ValueError, match="第二个进程失败"):
        forked.run_forked(lambda: 0, fails, finishes)
    assert done.read_text() == "yes"


def test_run_forked_reports_a_child_that_dies_without_an_answer():
    with pytest.raises(forked.ChildFailed, match="without an answer"):
        forked.run_forked(lambda: 0, lambda: os._exit(3))


@pytest.mark.django_db
def test_run_forked_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError, match="outside a transaction"):
        forked.run_forked(lambda: 0, lambda: 1)


@pytest.mark.django_db(transaction=True)
def test_a_check_whose_helper_process_dies_fails_with_a_reason(alone, it_importer, tmp_path, settings, monkeypatch,
                                                                picklists):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CRM_IMPORT_PROCESSES, settings.CRM_IMPORT_PROCESSES_FROM = 2, 2 * CHUNK
    it_importer.preferred_language = "en"  # the reason is written in the importer's language
    it_importer.save()
    monkeypatch.setattr(check, "STAGE_CHUNK", CHUNK)
    big_legacy_xlsx(tmp_path / "legacy.xlsx", rows=300, seed=3)
    batch = upload.import_upload(by=it_importer, path=tmp_path / "legacy.xlsx", file_name="legacy.xlsx")
    real_stage_share = check._stage_share

    def dies_in_the_child(batch, share, shares, **kwargs):
        if share == 1:
            os._exit(9)  # as if the kernel killed it
        return real_stage_share(batch, share, shares, **kwargs)

    monkeypatch.setattr(check, "_stage_share", dies_in_the_child)
    batch = check.import_preview(batch.pk)
    assert batch.status == ImportBatch.Status.FAILED
    assert "Please check again" in batch.error
