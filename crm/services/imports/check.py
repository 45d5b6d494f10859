"""The check (the preview): every row read, cleaned and COPYed into ImportRow a chunk at a time,
matched against the customers there are and the file's earlier rows, and its verdict counted; a
large sheet is cleaned by several forked processes, each taking every n-th chunk."""
import contextlib
import logging

import orjson
import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ...imports import layout
from ...imports.read import ImportFileError, open_workbook
from ...lib.forked import ChildFailed, can_fork, in_child, parent_gone, run_forked
from ...lib.queue import enqueue_on_commit
from ...lib.text import name_key
from ...models import Customer, ImportBatch, ImportRow
from .cleaning import _Cleaner, _search_text_of, _shown
from .common import Status, Verdict, _limits, _progress, _require_batch_editable
from .configure import _valid_mapping
from .matching import _fold_in_file_duplicates, _mark_in_file, _match_existing, _match_rows, _refuse_owners_outside
from .report import _preview_sample, _write_error_report
from .values import rows_with_warnings, unknown_values

logger = logging.getLogger(__name__)

# Rows staged per COPY (and per progress step); the processes of a large check take turns by chunk.
STAGE_CHUNK = 10_000
_STAGE_COLUMNS = ("batch_id", "row_number", "verdict", "reason", "first_row", "name_key", "mobile", "email",
                  "match_on", "data", "original", "flagged", "new_id")


def import_request_preview(*, batch, by):
    """Queue the preview of a configured batch."""
    from ... import tasks

    _require_batch_editable(batch, by)
    import_require_checkable(batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.PREVIEWING, error="")
    _progress(batch, 0)
    enqueue_on_commit(tasks.import_preview, batch_id=batch.pk)


def import_require_checkable(batch):
    """ValidationError, before any row is read, for a batch whose sheet has no heading row or whose
    mapping gives no column to the customer's name: what the browser and the command line refuse."""
    if batch.header_row is None or not batch.mapping:
        raise ValidationError(_("No heading row was found: choose the row that holds the column names."))
    _valid_mapping(batch.mapping, len(batch.headings))


def import_preview(batch_id, *, book=None):
    """(worker) Read every row of the batch's sheet, clean it and stage it in ImportRow with its verdict:
    new, duplicate of an existing customer, duplicate of an earlier row, or error. Safe to run again:
    the batch's staged rows are replaced. `book`: the batch's file as import_upload had it open (a
    script that does both in one process). Returns the batch."""
    batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
    if batch.status not in (Status.UPLOADED, Status.PREVIEWING, Status.PREVIEWED, Status.FAILED):
        return batch
    with translation.override(_language_of(batch.created_by)):
        return _preview(batch, book=book)


def _language_of(user):
    """The importer's language for reasons and the error report (a worker has no request)."""
    return getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE


def _preview(batch, *, book=None):
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.PREVIEWING, error="")
    try:
        counts = _stage_rows(batch, book=book)
    except (ImportFileError, ValidationError, OSError, ChildFailed) as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(status=Status.FAILED, error=_failure_message(batch, exc))
        return ImportBatch.objects.get(pk=batch.pk)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.PREVIEWING:  # cancelled while the rows were read
            return batch
        if batch.created_by is not None:
            counts["owners_refused"] = _refuse_owners_outside(batch, batch.created_by)
        counts.update(_match_existing(batch, preview=True))
        counts["warnings"] = rows_with_warnings(batch)
        counts["unknown_values"] = unknown_values(batch)
        batch.counts = counts
        batch.preview = _preview_sample(batch)
        batch.status = Status.PREVIEWED
        batch.previewed_at = timezone.now()
        batch.save()
    return batch


def _failure_message(batch, exc):
    """What the importer is told of a check that could not finish."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    if isinstance(exc, ChildFailed):
        logger.error("import %s: a checking process failed: %s", batch.pk, exc)
        return _("The check stopped before it finished (one of its processes ended). Please check again.")
    if isinstance(exc, OSError):
        return _("The uploaded file could not be read again. Please upload it once more.")
    return str(exc)


def _stage_rows(batch, *, book=None):
    """Read, classify and clean every row, COPY the data rows into ImportRow (a chunk at a time, each
    new row with a customer id reserved for it), mark the rows that repeat an earlier row of the file
    and fold them into it, and write the error report. A large sheet is cleaned by several processes,
    each taking every n-th chunk. Returns the layout counts and the in-file verdict counts."""
    if batch.header_row is None or not batch.mapping:
        raise ValidationError(_("No heading row was found: choose the row that holds the column names."))
    ImportRow.objects.filter(batch=batch).delete()
    _progress(batch, 0)
    shares = _stage_processes(batch)
    results = _stage_shares(batch, shares, book=book)
    _return_freed_memory()  # the parsed sheet's, before the repeats of all processes are compared
    counts = _added_up(results)
    keys = sorted(key for result in results for key in result["keys"])
    counts["in_file"] = _fold_repeats_and_report_errors(batch, keys, forked=shares > 1)
    counts["new"] -= counts["in_file"]
    return counts


def _stage_shares(batch, shares, *, book=None):
    """What _stage_share returns for each of the `shares` processes that clean the rows: forked
    processes when there are several, else this one."""
    if shares > 1:
        language = translation.get_language()
        opened = contextlib.nullcontext(book) if book else open_workbook(batch.file.path, filename=batch.file_name)
        with opened as book:
            # calamine parses the whole sheet into memory at once: parsed here, before the fork, the
            # processes share it. Other engines read as they go, so each process opens its own.
            shared = book if book.engine == "calamine" and book.row_count(batch.sheet) is not None else None

            def share(number):
                def run():
                    with translation.override(language):
                        return _stage_share(batch, number, shares, book=shared)
                return run

            logger.info("import %s: cleaning the rows in %d processes", batch.pk, shares)
            results = run_forked(*(share(number) for number in range(shares)))
        del shared, book
        return results
    return [_stage_share(batch, 0, 1, book=book)]


def _added_up(results):
    """The layout and verdict counts of all processes; the sheet's data rows within the limit."""
    counts = {key: sum(result["counts"][key] for result in results) for key in results[0]["counts"]}
    _max_bytes, max_rows = _limits()
    if counts["data"] > max_rows:
        raise _too_many_rows(max_rows)
    counts["new"] = sum(result["new"] for result in results)
    counts["error"] = sum(result["error"] for result in results)
    return counts


def _too_many_rows(max_rows):
    return ValidationError(_("The sheet has more than %(n)s data rows, the limit for one import.") % {
        "n": f"{max_rows:,}"})


def _fold_repeats_and_report_errors(batch, keys, *, forked):
    """Mark and fold the rows that repeat an earlier row (`keys`: their row number, name key, mobile
    and email, in file order) and write the error report. The error rows are final once staged:
    their report is written while the repeats are folded, in two processes where a check was
    `forked` and a process may fork. Returns how many rows repeat an earlier one."""

    def in_file():
        found = _mark_in_file(batch, keys)
        _fold_in_file_duplicates(batch)
        return found

    def error_report():
        with translation.override(language):
            _write_error_report(batch)

    language = translation.get_language()
    if forked and can_fork():
        found, _written = run_forked(in_file, error_report)
        return found
    found = in_file()
    error_report()
    return found


def _return_freed_memory():
    """Give the memory of the closed workbook (many small blocks, which glibc keeps) back to the system."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _stage_processes(batch):
    """How many processes clean the batch's rows: one for a sheet under CRM_IMPORT_PROCESSES_FROM
    rows, or inside a transaction (forked processes could not see it); else CRM_IMPORT_PROCESSES."""
    wanted = settings.CRM_IMPORT_PROCESSES
    counts = batch.counts or {}
    rows = counts.get("data") or counts.get("rows_estimate") or 0  # an earlier check's count, else the upload's
    if wanted <= 1 or rows < settings.CRM_IMPORT_PROCESSES_FROM or not can_fork():
        return 1
    return wanted


def _stage_share(batch, share, shares, *, book=None):
    """Stage the data rows of every `shares`-th chunk of the sheet's rows, starting at chunk `share`,
    as new, existing or error, from `book` if given (else the batch's file opened here). Returns
    {"counts": layout counts of those rows, "new": n, "error": n, "keys": [(row number, name key,
    mobile, email) of each row that is not an error]}."""
    _max_bytes, max_rows = _limits()
    cleaner = _Cleaner(batch)
    header = None
    counts = {"title": 0, "blank": 0, "header": 0, "hint": 0, "section": 0, "total": 0, "data": 0}
    mapping = {int(i): key for i, key in batch.mapping.items()}
    found = {"new": 0, "error": 0, "keys": []}
    chunk = []

    def flush():
        if parent_gone():
            raise ChildFailed("the import's main process has gone")
        _stage_chunk(cursor, batch, chunk)
        _progress(batch, len(chunk), add=True)
        chunk.clear()

    shared = book is not None
    opened = contextlib.nullcontext(book) if shared else open_workbook(batch.file.path, filename=batch.file_name)
    with connection.cursor() as cursor, opened as book, _without_waiting_for_the_disk(cursor):
        for index, row in enumerate(book.rows(batch.sheet)):
            if index <= batch.header_row:
                if index == batch.header_row:
                    header = row
                elif share == 0:
                    counts["title"] += 1
                continue
            if index // STAGE_CHUNK % shares != share:  # another process's rows
                if chunk:
                    flush()
                continue
            kind = layout.classify(row, header, mapping)
            if kind != layout.ROW_DATA:
                counts[kind] += 1
                continue
            counts["data"] += 1
            if counts["data"] > max_rows:
                raise _too_many_rows(max_rows)
            values, key = _staged_row(batch.pk, cleaner, row, index + 1)
            found[values[2]] += 1
            if key:
                found["keys"].append(key)
            chunk.append(values)
            if len(chunk) >= STAGE_CHUNK:
                flush()
        if chunk:
            flush()
    # This process's copy of the parsed sheet is no longer needed. A forked process ends now, which
    # frees it at once: taking a sheet of 100,000 rows apart cell by cell cost it 0.1-0.2 s.
    if shared and not in_child():
        book.close()
        _return_freed_memory()
    if header is None:
        raise ValidationError(_("The sheet ends before its heading row."))
    found["counts"] = counts
    return found


def _staged_row(batch_id, cleaner, row, number):
    """The ImportRow values (in _STAGE_COLUMNS order) of data row `number`, new or error, and the
    (row number, name key, mobile, email) by which its repeats are found (None for an error)."""
    data, reason, note = cleaner(row)
    if reason:
        # The row as it was in the file is kept for the error report only.
        original = _json([_shown(v) for v in row])
        return [batch_id, number, Verdict.ERROR, reason, None, "", "", "", "", _json(data), original, False, None], None
    key, mobile, email = name_key(data["name"]), data.get("mobile", ""), data.get("email", "")
    data["search_text"] = _search_text_of(data)
    flagged = "warnings" in data or "unknown" in data
    return ([batch_id, number, Verdict.NEW, note, None, key, mobile, email, "", _json(data), "[]", flagged, None],
            (number, key, mobile, email))


@contextlib.contextmanager
def _without_waiting_for_the_disk(cursor):
    """The staging statements commit without waiting for their WAL to reach the disk: staged rows
    can be checked again, and the check's last transaction, which marks the batch checked, does
    wait, and with it everything written before it."""
    cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        # Not in a failed transaction, whose rollback undoes the SET itself.
        if connection.connection.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            cursor.execute("RESET synchronous_commit")


def _stage_chunk(cursor, batch, chunk):
    """COPY staged rows (lists in _STAGE_COLUMNS order), after reserving a customer id for each new
    one, and match them against the customers there are."""
    if not chunk:
        return
    new = [values for values in chunk if values[2] == Verdict.NEW]
    if new:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                       [Customer._meta.db_table, len(new)])
        for values, (pk,) in zip(new, cursor.fetchall(), strict=True):
            values[-1] = pk
    with cursor.copy(f"COPY {ImportRow._meta.db_table} ({', '.join(_STAGE_COLUMNS)}) FROM STDIN") as copy:
        for values in chunk:
            copy.write_row(values)
    _match_rows(cursor, batch, (chunk[0][1], chunk[-1][1]))


def _json(value):
    return orjson.dumps(value).decode()
