"""Importing a legacy customer list, in sets: every row is read and cleaned in Python once, COPYed
into ImportRow, and from there the preview, the commit and the undo are a handful of SQL statements
per batch, never one per row.

    import_upload    the file is kept, its sheets listed, the header found and the columns mapped
    import_configure the user's sheet, header and mapping (optionally saved under a name)
    import_preview   (worker) read, clean, stage, find duplicates: a verdict for every row
    import_commit    (worker) write the batch in one transaction, by the chosen duplicate policy
    import_undo      (worker) remove what the batch created, restore what it changed
"""
import contextlib
import datetime
import decimal
import hashlib
import io
import json
import logging
import os

import orjson
import psycopg
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.access import editable, user_access
from accounts.capabilities import Capability
from accounts.models import User

from ..imports import layout
from ..imports.clean import (
    CleanError,
    ColumnCleaner,
    UnknownOwner,
    context_from_lists,
    word_key,
)
from ..imports.fields import BY_KEY, CONTACT, heading_key
from ..imports.read import ImportFileError, open_workbook
from ..lib.audit import (
    audited,
    delete_recorded,
    flush_deferred_checks,
    insert_recorded,
    record_inserts,
    trigger_ignored,
    triggers_skipped,
)
from ..lib.forked import ChildFailed, can_fork, in_child, parent_gone, run_forked
from ..lib.queue import enqueue_on_commit
from ..lib.text import name_key, search_text
from ..models import (
    Choice,
    Contact,
    Customer,
    CustomerSearch,
    CustomerStatus,
    ImportBatch,
    ImportMapping,
    ImportPolicy,
    ImportRecord,
    ImportRow,
)

__all__ = [
    "ImportFileError", "import_cancel", "import_commit", "import_configure", "import_files_expire",
    "import_mapping_save", "import_preview", "import_reopen", "import_request_commit", "import_request_preview",
    "import_request_undo", "import_search_fill", "import_undo", "import_upload", "progress_of",
]

logger = logging.getLogger(__name__)
Status = ImportBatch.Status
Verdict = ImportRow.Verdict

PREVIEW_ROWS = 20
# Rows staged per COPY (and per progress step); the processes of a large check take turns by chunk.
STAGE_CHUNK = 10_000
_STAGE_COLUMNS = ("batch_id", "row_number", "verdict", "reason", "first_row", "name_key", "mobile", "email",
                  "match_on", "data", "original", "new_id")
# Customer fields an import may write (the contact's are written to its primary contact).
CUSTOMER_FIELDS = (
    "name", "kind", "industry", "tier", "source", "status", "tags", "phone", "mobile", "email", "website",
    "province", "city", "district", "address", "notes", "created_at", "last_followup_at", "next_followup_at",
    "deal_date", "deal_amount",
)
# How each field is cast from the staged JSON in SQL.
SQL_TYPES = {
    "industry": "bigint", "source": "bigint", "deal_amount": "numeric", "deal_date": "date",
    "created_at": "date", "last_followup_at": "date", "next_followup_at": "date",
}
DATE_TIMES = ("created_at", "last_followup_at", "next_followup_at")


def _require_importer(user):
    if not user_access(user).has(Capability.IMPORT_DATA):
        raise PermissionDenied


def _limits():
    return settings.CRM_IMPORT_MAX_BYTES, settings.CRM_IMPORT_MAX_ROWS


# Upload and configuration --------------------------------------------------------------------------


def import_upload(*, by, path, file_name, book=None):
    """A new batch for the file at `path`: kept under media, hashed, its sheets listed, the first
    sheet with a recognisable header chosen and its columns mapped. ImportFileError (nothing kept)
    for a file that is not a spreadsheet, is unsafe or is too large. `book`: the file already open
    (open_workbook), left open for the check to read again without parsing it again (a script)."""
    _require_importer(by)
    max_bytes, _max_rows = _limits()
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ImportFileError(_("The file is %(size)s MB; the limit is %(limit)s MB.") % {
            "size": round(size / 2**20, 1), "limit": round(max_bytes / 2**20)})
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    opened = contextlib.nullcontext(book) if book else open_workbook(path, filename=file_name, max_bytes=max_bytes)
    with opened as book:
        sheet_names = list(book.sheet_names)
        file_format = book.format
        sheet, header_row, headings, mapping = _best_sheet(book)
        estimate = book.row_count(sheet) if sheet else None
    batch = ImportBatch(
        counts={"rows_estimate": estimate} if estimate else {},
        created_by=by, file_name=os.path.basename(file_name)[:255], file_sha256=digest.hexdigest(), file_size=size,
        file_format=file_format, sheet_names=sheet_names, sheet=sheet, header_row=header_row, headings=headings,
        mapping={str(k): v for k, v in mapping.items()},
    )
    with open(path, "rb") as handle:
        batch.file.save(f"{digest.hexdigest()[:16]}{os.path.splitext(file_name)[1].lower()[:6]}", File(handle),
                        save=False)
    batch.save()
    return batch


def _first_rows(book, sheet, count=40):
    rows = []
    for row in book.rows(sheet):
        rows.append(row)
        if len(rows) >= count:
            break
    return rows


def _header_of(rows):
    """(header row index, headings as text, automatic mapping) of the first rows of a sheet."""
    index = layout.find_header(rows)
    if index is None:
        return None, [], {}
    headings = ["" if cell is None else str(cell).strip() for cell in rows[index]]
    return index, headings, layout.auto_mapping(rows[index])


def _best_sheet(book):
    """The first sheet whose header maps a customer name; else the first sheet."""
    first = None
    for name in book.sheet_names:
        found = (name, *_header_of(_first_rows(book, name)))
        first = first or found
        if "name" in found[3].values():
            return found
    return first or ("", None, [], {})


def import_configure(*, batch, by, sheet=None, header_row=None, mapping=None, tier_words=None, mapping_name=""):
    """Set what the preview reads: another sheet (its header found again unless given), the heading
    row, the mapping {column index: field key} and extra tier words. A saved mapping (`mapping_name`)
    maps columns by their heading text."""
    _require_batch_editable(batch, by)
    if sheet is not None and sheet != batch.sheet:
        if sheet not in batch.sheet_names:
            raise ValidationError(_("The file has no sheet called “%(sheet)s”.") % {"sheet": sheet})
        with open_workbook(batch.file.path, filename=batch.file_name) as book:
            rows = _first_rows(book, sheet)
        batch.sheet = sheet
        batch.header_row, batch.headings, auto = _header_of(rows)
        batch.mapping = {str(k): v for k, v in auto.items()}
    if header_row is not None and header_row != batch.header_row:
        with open_workbook(batch.file.path, filename=batch.file_name) as book:
            rows = _first_rows(book, batch.sheet, count=max(header_row + 1, 40))
        if header_row >= len(rows):
            raise ValidationError(_("The sheet has no row %(n)d.") % {"n": header_row + 1})
        batch.header_row = header_row
        batch.headings = ["" if c is None else str(c).strip() for c in rows[header_row]]
        batch.mapping = {str(k): v for k, v in layout.auto_mapping(rows[header_row]).items()}
    if mapping_name:
        saved = ImportMapping.objects.filter(name=mapping_name).first()
        if saved is None:
            raise ValidationError(_("There is no saved mapping called “%(name)s”.") % {"name": mapping_name})
        batch.mapping = {str(i): saved.columns[heading_key(h)] for i, h in enumerate(batch.headings)
                         if heading_key(h) in saved.columns}
        batch.tier_words = {**saved.tier_words, **batch.tier_words}
        batch.mapping_name = saved.name
    if mapping is not None:
        batch.mapping = _valid_mapping(mapping, len(batch.headings))
    if tier_words is not None:
        batch.tier_words = tier_words
    batch.status = Status.UPLOADED
    batch.save()
    return batch


def _valid_mapping(mapping, width):
    """{column index: field key} with known fields, each used once, in range; else ValidationError."""
    cleaned, used = {}, {}
    for column, key in mapping.items():
        if not key:
            continue
        if key not in BY_KEY:
            raise ValidationError(_("Unknown field “%(field)s”.") % {"field": key})
        column = int(column)
        if not 0 <= column < max(width, 1):
            raise ValidationError(_("The sheet has no column %(n)d.") % {"n": column + 1})
        if key in used:
            raise ValidationError(_("“%(field)s” is mapped to two columns.") % {"field": BY_KEY[key].label})
        used[key] = column
        cleaned[str(column)] = key
    if "name" not in used:
        raise ValidationError(_("Map a column to “%(field)s”: a customer needs a name.") % {
            "field": BY_KEY["name"].label})
    return cleaned


def import_mapping_save(*, batch, by, name):
    """Save the batch's mapping under `name` (by heading text), replacing one of that name."""
    _require_importer(by)
    columns = {heading_key(batch.headings[int(i)]): key for i, key in batch.mapping.items()
               if int(i) < len(batch.headings) and heading_key(batch.headings[int(i)])}
    with audited(by, "import_mapping_save"):
        saved, _created = ImportMapping.objects.update_or_create(
            name=name, defaults={"columns": columns, "tier_words": batch.tier_words, "created_by": by})
        batch.mapping_name = saved.name
        batch.save(update_fields=["mapping_name"])
    return saved


def _require_batch_editable(batch, by):
    _require_importer(by)
    if batch.status not in (Status.UPLOADED, Status.PREVIEWED, Status.FAILED):
        raise ValidationError(_("This import can no longer be changed."))


# Preview: read, clean, stage, match ----------------------------------------------------------------


def _clean_context(batch):
    industries = Choice.objects.filter(kind=Choice.Kind.INDUSTRY).values_list("pk", "code", "label", "label_en")
    sources = Choice.objects.filter(kind=Choice.Kind.SOURCE).values_list("pk", "code", "label", "label_en")
    users = User.objects.filter(is_active=True).values_list("pk", "username", "mobile", "display_name")
    context = context_from_lists(industries=industries, sources=sources, users=users,
                                 today=timezone.localdate())
    for word, tier in (batch.tier_words or {}).items():
        context.tier_map[word_key(word)] = tier
    return context


def _max_lengths():
    lengths = {}
    for key, field in BY_KEY.items():
        model = Contact if field.target == CONTACT else Customer
        name = key.removeprefix("contact_") if field.target == CONTACT else key
        try:
            lengths[key] = getattr(model._meta.get_field(name), "max_length", None)
        except FieldDoesNotExist:  # a field of the catalogue that the model stores elsewhere
            lengths[key] = None
    return lengths


def _as_json(value):
    if isinstance(value, (datetime.date, decimal.Decimal)):
        return str(value)
    return value


def _shown(value):
    """A raw cell as the error report and the preview show it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
    return str(value)


class _Cleaner:
    """Turns one data row into (data, reason) with the batch's mapping and context; each column has
    its own ColumnCleaner, which remembers the values the column repeats."""

    def __init__(self, batch):
        context = _clean_context(batch)
        lengths = _max_lengths()
        headings = batch.headings
        self.columns = []
        for i, key in sorted((int(i), key) for i, key in batch.mapping.items()):
            field = BY_KEY[key]
            heading = (headings[i] if i < len(headings) else "") or field.label
            cleaner = ColumnCleaner(field.kind, context, max_length=lengths.get(key), convert=_as_json)
            self.columns.append((i, key, heading, cleaner))

    def __call__(self, row):
        data, problems = {}, []
        width = len(row)
        for index, key, heading, cleaner in self.columns:
            if index >= width:
                continue
            raw = row[index]
            if raw is None:
                continue
            try:
                value = cleaner(raw)
            except UnknownOwner:
                data["owner_unknown"] = _shown(raw)[:100]
                continue
            except CleanError as exc:
                problems.append(f"{heading}: {exc}")
                continue
            if value is not None and value != [] and value != "":
                data[key] = value
        if "name" not in data and not problems:
            problems.append(_("The customer name is empty."))
        return data, " ".join(problems)


def _search_text_of(data):
    return search_text(
        data.get("name", ""),
        phones=[data.get("phone"), data.get("mobile"), data.get("contact_mobile")],
        emails=[data.get("email"), data.get("contact_email")],
        contact_names=[data.get("contact_name")] if data.get("contact_name") else (),
    )


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
        if isinstance(exc, ValidationError):
            message = " ".join(exc.messages)
        elif isinstance(exc, ChildFailed):
            logger.error("import %s: a checking process failed: %s", batch.pk, exc)
            message = _("The check stopped before it finished (one of its processes ended). Please check again.")
        elif isinstance(exc, OSError):
            message = _("The uploaded file could not be read again. Please upload it once more.")
        else:
            message = str(exc)
        ImportBatch.objects.filter(pk=batch.pk).update(status=Status.FAILED, error=message)
        return ImportBatch.objects.get(pk=batch.pk)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.PREVIEWING:  # cancelled while the rows were read
            return batch
        if batch.created_by is not None:
            counts["owners_refused"] = _refuse_owners_outside(batch, batch.created_by)
        counts.update(_match_existing(batch, preview=True))
        batch.counts = counts
        batch.preview = _preview_sample(batch)
        batch.status = Status.PREVIEWED
        batch.previewed_at = timezone.now()
        batch.save()
    return batch


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
    else:
        results = [_stage_share(batch, 0, 1, book=book)]
    _return_freed_memory()  # the parsed sheet's, before the repeats of all processes are compared
    counts = {key: sum(result["counts"][key] for result in results) for key in results[0]["counts"]}
    _max_bytes, max_rows = _limits()
    if counts["data"] > max_rows:
        raise ValidationError(_("The sheet has more than %(n)s data rows, the limit for one import.") % {
            "n": f"{max_rows:,}"})
    counts["new"] = sum(result["new"] for result in results)
    counts["error"] = sum(result["error"] for result in results)
    keys = sorted(key for result in results for key in result["keys"])

    def in_file():
        found = _mark_in_file(batch, keys)
        _fold_in_file_duplicates(batch)
        return found

    def error_report():
        with translation.override(language):
            _write_error_report(batch)

    # The error rows are final once staged: their report is written while the repeats are folded,
    # in two processes where a process may fork.
    language = translation.get_language()
    if shares > 1 and can_fork():
        counts["in_file"], _written = run_forked(in_file, error_report)
    else:
        counts["in_file"] = in_file()
        error_report()
    counts["new"] -= counts["in_file"]
    return counts


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
    as new, existing or error, from `book` if given (else the batch's file opened here). Returns {"counts": layout counts of those rows, "new": n, "error": n,
    "keys": [(row number, name key, mobile, email) of each row that is not an error]}."""
    _max_bytes, max_rows = _limits()
    cleaner = _Cleaner(batch)
    header = None
    counts = {"title": 0, "blank": 0, "header": 0, "section": 0, "total": 0, "data": 0}
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
                raise ValidationError(_("The sheet has more than %(n)s data rows, the limit for one import.") % {
                    "n": f"{max_rows:,}"})
            data, reason = cleaner(row)
            number = index + 1
            if reason:
                verdict, key, mobile, email = Verdict.ERROR, "", "", ""
                # The row as it was in the file is kept for the error report only.
                original = _json([_shown(v) for v in row])
            else:
                verdict, key, mobile, email = Verdict.NEW, name_key(data["name"]), data.get("mobile", ""), \
                    data.get("email", "")
                data["search_text"] = _search_text_of(data)
                original = "[]"
                found["keys"].append((number, key, mobile, email))
            found[verdict] += 1
            chunk.append([batch.pk, number, verdict, reason, None, key, mobile, email, "", _json(data), original,
                          None])
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


def _mark_in_file(batch, keys):
    """Rows (number, name key, mobile, email), in file order, that share the name key, mobile or email
    of an earlier row are the same customer as that row (or as the row that one joined): marked
    in_file with it as their first row. Returns how many."""
    seen = {0: {}, 1: {}, 2: {}}
    numbers, firsts, reasons = [], [], []
    for number, *values in keys:
        first = next((seen[i][v] for i, v in enumerate(values) if v and v in seen[i]), None)
        for i, v in enumerate(values):
            if v:
                seen[i].setdefault(v, first or number)
        if first:
            numbers.append(number)
            firsts.append(first)
            reasons.append(_("Same customer as row %(n)d of the file.") % {"n": first})
    if numbers:
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE {ImportRow._meta.db_table} r SET verdict = 'in_file', first_row = v.first_row,
                    reason = v.reason, new_id = NULL, match_id = NULL, match_on = '', data = r.data - 'search_text'
                FROM unnest(%s::int[], %s::int[], %s::text[]) AS v(row_number, first_row, reason)
                WHERE r.batch_id = %s AND r.row_number = v.row_number""", [numbers, firsts, reasons, batch.pk])
    return len(numbers)


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


def _progress(batch, done, *, add=False):
    """Rows done so far (or `add` more done), kept outside the running transaction so the progress
    bar sees it; the processes that check one batch add to the same count."""
    from django.core.cache import cache

    key = f"crm:import:{batch.pk}:progress"
    if add:
        try:
            cache.incr(key, done)
            return
        except ValueError:  # expired meanwhile
            pass
    cache.set(key, done, 3600)


def progress_of(batch):
    from django.core.cache import cache

    return cache.get(f"crm:import:{batch.pk}:progress", 0)


def _fold_in_file_duplicates(batch):
    """A later row of the same customer fills what its first row left empty (the first row wins
    where both have a value); the first row's search text is then made again."""
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {table} p SET data = d.merged || p.data
            FROM (
                SELECT first_row, jsonb_object_agg(key, value) AS merged FROM (
                    SELECT r.first_row, e.key, e.value FROM {table} r, jsonb_each(r.data) e
                    WHERE r.batch_id = %s AND r.verdict = 'in_file' AND e.key <> 'search_text'
                    ORDER BY r.row_number DESC
                ) s GROUP BY first_row
            ) d
            WHERE p.batch_id = %s AND p.row_number = d.first_row
            RETURNING p.id, p.data""", [batch.pk, batch.pk])
        folded = cursor.fetchall()
    if folded:
        pks, texts = [], []
        for pk, data in folded:
            data = json.loads(data) if isinstance(data, str) else data
            pks.append(pk)
            texts.append(_search_text_of(data))
        with connection.cursor() as cursor:
            cursor.execute(f"""
                UPDATE {table} p SET data = p.data || jsonb_build_object('search_text', v.search_text),
                    mobile = COALESCE(p.data->>'mobile', ''), email = COALESCE(p.data->>'email', '')
                FROM unnest(%s::bigint[], %s::text[]) AS v(id, search_text) WHERE p.id = v.id""", [pks, texts])


def _match_existing(batch, *, preview):
    """Mark the batch's new rows that are customers already (same name key, mobile or email, in that
    order; the oldest customer of several), and second rows that match the same customer as an
    earlier one. The check has matched its rows chunk by chunk as it staged them (`preview`); the
    commit matches them all again, against the customers as they are now. Returns
    {"new": n, "existing": n, "in_file": n, "error": n} of the rows now."""
    table = ImportRow._meta.db_table
    with connection.cursor() as cursor:
        if not preview:
            cursor.execute(f"UPDATE {table} SET verdict = 'new', match_id = NULL, match_on = '' "
                           "WHERE batch_id = %s AND verdict = 'existing'", [batch.pk])
            _match_rows(cursor, batch)
        # Two rows of the file that match one customer: the later one joins the earlier.
        cursor.execute(f"""
            UPDATE {table} r SET verdict = 'in_file', first_row = f.first_row
            FROM (
                SELECT id, min(row_number) OVER (PARTITION BY match_id) AS first_row, row_number
                FROM {table} WHERE batch_id = %s AND verdict = 'existing'
            ) f
            WHERE r.id = f.id AND f.row_number > f.first_row""", [batch.pk])
        cursor.execute(f"SELECT verdict, count(*) FROM {table} WHERE batch_id = %s GROUP BY verdict", [batch.pk])
        found = dict(cursor.fetchall())
    return {"new": found.get("new", 0), "existing": found.get("existing", 0), "in_file": found.get("in_file", 0),
            "error": found.get("error", 0)}


def _match_rows(cursor, batch, rows=None):
    """The new rows of the batch (or of its rows numbered rows[0]..rows[1]) that are customers already
    become 'existing', with the customer they match."""
    table, customers = ImportRow._meta.db_table, Customer._meta.db_table
    within, params = "", []
    if rows:
        within, params = "AND r2.row_number BETWEEN %s AND %s", list(rows)
    for column, how in (("name_key", "name"), ("mobile", "mobile"), ("email", "email")):
        cursor.execute(f"""
            UPDATE {table} r SET verdict = 'existing', match_id = m.id, match_on = %s
            FROM (
                SELECT DISTINCT ON (r2.id) r2.id AS row_id, c.id FROM {table} r2
                JOIN {customers} c ON c.{column} = r2.{column}
                WHERE r2.batch_id = %s {within} AND r2.verdict = 'new' AND r2.{column} <> '' AND c.{column} <> ''
                  AND c.archived_at IS NULL AND c.merged_into_id IS NULL
                ORDER BY r2.id, c.id
            ) m
            WHERE r.id = m.row_id""", [how, batch.pk, *params])


def _preview_sample(batch):
    """The first rows as they will be stored: [{"row", "verdict", "reason", "values": {field: shown}}]."""
    sample = []
    for row in ImportRow.objects.filter(batch=batch).order_by("row_number")[:PREVIEW_ROWS]:
        values = {k: v for k, v in row.data.items() if k != "search_text"}
        sample.append({"row": row.row_number, "verdict": row.verdict, "reason": row.reason,
                       "match": row.match_id, "values": values})
    return sample


def _write_error_report(batch):
    """An .xlsx of the rows that cannot be imported: 错误原因, the row number, then the row as it was."""
    from openpyxl import Workbook

    from ..lib.xlsx import safe_cell as _cell

    rows = ImportRow.objects.filter(batch=batch, verdict=Verdict.ERROR).order_by("row_number")
    if not rows.exists():
        if batch.error_report:
            batch.error_report.delete(save=False)
            ImportBatch.objects.filter(pk=batch.pk).update(error_report="")
        return
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Errors"))
    sheet.append([_cell(sheet, v) for v in [_("Error reason"), _("Row"), *batch.headings]])
    for row in rows.values_list("reason", "row_number", "original").iterator(chunk_size=2000):
        reason, number, original = row
        sheet.append([_cell(sheet, v) for v in [reason, number, *original]])
    buffer = io.BytesIO()
    book.save(buffer)
    stem = os.path.splitext(batch.file_name)[0][:80]
    batch.error_report.save(f"{batch.pk}-{stem}-errors.xlsx", ContentFile(buffer.getvalue()), save=False)
    ImportBatch.objects.filter(pk=batch.pk).update(error_report=batch.error_report.name)


# Commit -----------------------------------------------------------------------------------------------


def import_commit(batch_id, *, by_id):
    """(worker) Write the previewed batch in one transaction: new customers (with their primary
    contact), existing ones by the batch's duplicate policy, a record of each for undo, the audit
    trail with the batch id. Run twice, or again after a worker died mid-way, it leaves what one
    clean run leaves: the batch row is locked and a finished batch is not written again."""
    from django.core.cache import cache

    by = User.objects.get(pk=by_id)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
            if batch.status not in (Status.PREVIEWED, Status.COMMITTING):
                return batch
            if batch.cancel_requested:
                raise ImportCancelled
            with audited(by, "customer_import", import_batch=batch.pk):
                counts = _commit_rows(batch, by)
            _stop_if_cancelled(batch)
            batch.counts = {**batch.counts, **counts}
            batch.status = Status.DONE
            batch.committed_at = timezone.now()
            batch.save(update_fields=["counts", "status", "committed_at"])
    except ImportCancelled:
        ImportBatch.objects.filter(pk=batch_id).update(status=Status.CANCELLED, cancel_requested=False)
        cache.delete(_cancel_key(batch_id))
        return ImportBatch.objects.get(pk=batch_id)
    return batch


def _search_texts_pending(cursor):
    """New search texts of this transaction wait in the trigram index's pending list, where searches
    already find them, instead of being merged into the index again and again during a large write
    (with the default 4 MB list that cost a quarter of a millisecond per customer); the caller sees
    that a worker merges them in one pass after the commit."""
    cursor.execute("SET LOCAL gin_pending_list_limit = '1GB'")


def _merge_search_index_later(cursor):
    """_search_texts_pending, with the merge queued for after the commit."""
    from ..tasks import customers_search_index_merge

    _search_texts_pending(cursor)
    enqueue_on_commit(customers_search_index_merge)


def import_search_fill(batch_id):
    """(worker, after an import's commit) The search rows (CustomerSearch) of the customers the batch
    created, which the commit wrote without them so as not to update the trigram index row by row
    inside its transaction; then the index's pending entries merged. Until this has run (seconds
    after the commit) the new customers are listed and filtered but not yet found by a search.
    Safe to run twice, and after an undo: a row already there (a customer edited meanwhile, whose
    own save wrote it) is left alone, and a customer that no longer exists gets none."""
    from .customers import customers_search_copy, customers_search_index_merge

    with transaction.atomic(), connection.cursor() as cursor:
        _search_texts_pending(cursor)
        filled = customers_search_copy(
            cursor, f"c.id IN (SELECT new_id FROM {ImportRow._meta.db_table} WHERE batch_id = %s AND verdict = 'new')",
            [batch_id])
    customers_search_index_merge()
    return filled


def _refuse_owners_outside(batch, by):
    """Take off the batch's rows the owners `by` may not give customers to (anyone outside their
    assignable users, `crm.selectors.pool.assignable_users`, as for an assignment by hand): such a row
    is imported as one without a known owner (the batch's choice: the pool or its default owner),
    keeps the name it gave under "owner_refused" and says why. The check runs it for the uploader,
    the commit again for whoever imports. One statement; returns how many rows."""
    from ..selectors.pool import assignable_users

    allowed_sql, allowed_params = assignable_users(by).order_by().values("pk").query.sql_with_params()
    note = _("The owner is not one of the people you may give customers to: "
             "the row is imported as one without a known owner.")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {ImportRow._meta.db_table} r
            SET data = (r.data - 'owner') || jsonb_build_object('owner_refused',
                    COALESCE(NULLIF(u.display_name, ''), u.username)),
                reason = CASE WHEN r.reason = '' THEN %s ELSE r.reason || ' ' || %s END
            FROM {User._meta.db_table} u
            WHERE r.batch_id = %s AND r.verdict IN ('new', 'existing') AND r.data ? 'owner'
              AND u.id = (r.data->>'owner')::bigint AND u.id NOT IN ({allowed_sql})""",
            [note, note, batch.pk, *allowed_params])
        return cursor.rowcount


def _owner_sql(batch):
    """SQL of the owner id of a staged row `r`: its own owner, else (unknown or no owner column) the
    chosen owner when the batch says so, else none (the customer goes to a pool)."""
    default = batch.default_owner_id if batch.unknown_owner == ImportBatch.UnknownOwner.DEFAULT else None
    if default:
        return f"COALESCE((r.data->>'owner')::bigint, {int(default)})"
    return "(r.data->>'owner')::bigint"


def _value_sql(field):
    cast = SQL_TYPES.get(field)
    if field == "tags":
        return "ARRAY(SELECT jsonb_array_elements_text(r.data->'tags'))::varchar(30)[]"
    if field in DATE_TIMES:
        return f"((r.data->>'{field}')::date::timestamp AT TIME ZONE %s)"
    if cast:
        return f"(r.data->>'{field}')::{cast}"
    return f"(r.data->>'{field}')"


def _commit_rows(batch, by):
    rows, customers, contacts = ImportRow._meta.db_table, Customer._meta.db_table, Contact._meta.db_table
    records = ImportRecord._meta.db_table
    zone = settings.TIME_ZONE
    _progress(batch, 0)
    found = _match_existing(batch, preview=False)
    from .pool import pool_for_team

    fallback_pool = batch.pool or pool_for_team(batch.team)
    _refuse_owners_outside(batch, by)  # the importer's scope now, which may differ from the uploader's
    owner = _owner_sql(batch)
    with connection.cursor() as cursor:
        from ..tasks import import_search_fill as search_fill_task

        enqueue_on_commit(search_fill_task, batch_id=batch.pk)
        # The new rows' customer ids were reserved when they were checked; a row that has become new
        # since (its match was deleted meanwhile) gets one now.
        cursor.execute(f"UPDATE {rows} SET new_id = nextval(pg_get_serial_sequence(%s, 'id')) "
                       "WHERE batch_id = %s AND verdict = 'new' AND new_id IS NULL", [customers, batch.pk])
        _stop_if_cancelled(batch)
        params = []
        values = []
        for field in CUSTOMER_FIELDS:
            if field in ("created_at",):
                continue
            sql = _value_sql(field)
            if field in DATE_TIMES:
                params.append(zone)
            defaults = {"kind": "'company'", "tier": "'B'", "status": f"'{CustomerStatus.PROSPECT}'",
                        "tags": "'{}'::varchar(30)[]"}
            if field in defaults:
                sql = f"COALESCE({sql}, {defaults[field]})"
            elif field not in SQL_TYPES and field not in DATE_TIMES:
                sql = f"COALESCE({sql}, '')"
            values.append(sql)
        field_columns = [f"{f}_id" if f in ("industry", "source") else f for f in CUSTOMER_FIELDS if f != "created_at"]
        # The audit events of the new customers and contacts are written by the same statements, from
        # the rows they insert (insert_recorded), not by a trigger per row; so is the record of each
        # new customer for undo.
        # Nor is the search row written per customer: import_search_fill writes them after the commit.
        with trigger_ignored(Customer, Contact), triggers_skipped("crm.Customer:search_copy_insert"):
            created = insert_recorded(Customer, f"""
                INSERT INTO {customers} (id, {", ".join(field_columns)}, owner_id, team_id, pool_id, created_by_id,
                    claimed_at, deal_status, locked, name_key, search_text, version, created_at, updated_at)
                SELECT r.new_id, {", ".join(values)}, o.id,
                    COALESCE(o.team_id, %s::bigint), CASE WHEN o.id IS NULL THEN %s::bigint END, %s,
                    CASE WHEN o.id IS NOT NULL THEN now() END,
                    CASE WHEN r.data->>'status' = 'won' OR r.data ? 'deal_date' THEN 'won' ELSE 'none' END,
                    false, r.name_key, r.data->>'search_text', 1,
                    COALESCE(((r.data->>'created_at')::date::timestamp AT TIME ZONE %s), now()), now()
                FROM {rows} r LEFT JOIN {User._meta.db_table} o ON o.id = {owner} AND o.is_active
                WHERE r.batch_id = %s AND r.verdict = 'new'""",
                [*params, batch.team_id, getattr(fallback_pool, "pk", None), by.pk, zone, batch.pk], cursor,
                also=[(f"INSERT INTO {records} (batch_id, customer_id, action, before, version) "
                       "SELECT %s, id, 'created', NULL, 1 FROM written", [batch.pk])])
            insert_recorded(Contact, f"""
                INSERT INTO {contacts} (customer_id, name, title, mobile, phone, email, wechat, is_primary, notes,
                    created_at, updated_at)
                SELECT r.new_id,
                    COALESCE(r.data->>'contact_name', r.data->>'contact_mobile', r.data->>'contact_email'),
                    COALESCE(r.data->>'contact_title', ''), COALESCE(r.data->>'contact_mobile', ''), '',
                    COALESCE(r.data->>'contact_email', ''), COALESCE(r.data->>'contact_wechat', ''), true, '', now(), now()
                FROM {rows} r
                WHERE r.batch_id = %s AND r.verdict = 'new'
                  AND (r.data ? 'contact_name' OR r.data ? 'contact_mobile' OR r.data ? 'contact_email')""",
                [batch.pk], cursor)
        _progress(batch, created)
        if settings.CRM_IMPORT_COMMIT_PAUSE:  # the crash test kills the worker here
            import time

            time.sleep(settings.CRM_IMPORT_COMMIT_PAUSE)
        _stop_if_cancelled(batch)
        flush_deferred_checks(cursor)  # the updates below fire row triggers
        updated = _update_existing(cursor, batch, by, owner, existing=found["existing"])
    return {"created": created, "updated": updated, "skipped": found["existing"] - updated,
            "merged_in_file": found["in_file"], "errors": found["error"]}


def _update_existing(cursor, batch, by, owner, *, existing):
    """The rows that are customers already (`existing` of them), by the policy: skip them, fill the
    customers' empty fields, or overwrite with the file's non-empty values. A customer the importer
    may not change is skipped. Returns how many were updated."""
    rows, customers, records = ImportRow._meta.db_table, Customer._meta.db_table, ImportRecord._meta.db_table
    if batch.policy == ImportPolicy.SKIP or not existing:
        return 0
    writable_sql, writable_params = editable(by, Customer.objects.all()).values("pk").query.sql_with_params()
    mapped = [key for key in batch.mapping.values() if key in CUSTOMER_FIELDS and key != "created_at"]
    if "owner" in batch.mapping.values():
        mapped += ["owner", "team"]
    columns = [f"{f}_id" if f in ("industry", "source", "owner", "team") else f for f in mapped]
    before = ", ".join(f"'{c}', c.{c}" for c in columns)
    cursor.execute(f"""
        INSERT INTO {records} (batch_id, customer_id, action, before, version)
        SELECT r.batch_id, c.id, 'updated', jsonb_build_object({before}), c.version + 1
        FROM {rows} r JOIN {customers} c ON c.id = r.match_id
        WHERE r.batch_id = %s AND r.verdict = 'existing' AND c.id IN ({writable_sql})""",
        [batch.pk, *writable_params])
    updated = cursor.rowcount
    assignments, params = [], []
    for field, column in zip(mapped, columns, strict=True):
        if field == "owner":
            new = f"(SELECT u.id FROM {User._meta.db_table} u WHERE u.id = {owner} AND u.is_active)"
        elif field == "team":
            new = f"(SELECT u.team_id FROM {User._meta.db_table} u WHERE u.id = {owner} AND u.is_active)"
        else:
            new = _value_sql(field)
        if field in DATE_TIMES:
            params.append(settings.TIME_ZONE)
        if field == "tags":
            new = f"(SELECT array_agg(DISTINCT t) FROM unnest(c.tags || {new}) t)"
            assignments.append(f"{column} = COALESCE({new}, c.{column})")
            continue
        empty = f"(c.{column} IS NULL OR c.{column}::text = '')"
        if batch.policy == ImportPolicy.FILL:
            assignments.append(f"{column} = CASE WHEN {empty} THEN COALESCE({new}, c.{column}) ELSE c.{column} END")
        else:
            assignments.append(f"{column} = COALESCE({new}, c.{column})")
    # One snapshot event per changed customer, written in one statement after the update (as the
    # per-row update trigger would, which is skipped here).
    changed = f"SELECT customer_id FROM {records} WHERE batch_id = %s AND action = 'updated'"
    with trigger_ignored(Customer, operation="update"):
        cursor.execute(f"""
        UPDATE {customers} c SET {", ".join(assignments)}, version = c.version + 1, updated_at = now()
        FROM {rows} r
        WHERE r.batch_id = %s AND r.verdict = 'existing' AND c.id = r.match_id
          AND c.id IN ({changed})""", [*params, batch.pk, batch.pk])
    # Only customers whose values changed get an event (a fill that found nothing empty changes none).
    after = before.replace("c.", "c2.")
    really_changed = (f"SELECT rec.customer_id FROM {records} rec JOIN {customers} c2 ON c2.id = rec.customer_id "
                      f"WHERE rec.batch_id = %s AND rec.action = 'updated' AND rec.before <> jsonb_build_object({after})")
    record_inserts(Customer, f"id IN ({really_changed})", [batch.pk], cursor, label="update")
    _search_texts_pending(cursor)  # merged by the search-row task the commit queued
    cursor.execute(f"SELECT customer_id FROM {records} WHERE batch_id = %s AND action = 'updated'", [batch.pk])
    from .customers import customers_refresh_search

    customers_refresh_search([pk for (pk,) in cursor.fetchall()])
    return updated


def import_reopen(*, batch, by):
    """Back from a checked batch to its sheet and mapping (say, after adding a missing picklist
    value), to check the rows again; nothing has been written yet."""
    _require_batch_editable(batch, by)
    if batch.status != Status.PREVIEWED:
        raise ValidationError(_("Only a checked import can go back to its columns."))
    ImportBatch.objects.filter(pk=batch.pk, status=Status.PREVIEWED).update(status=Status.UPLOADED)


# Queueing the worker's parts (on commit, with ids) ---------------------------------------------------


def import_request_preview(*, batch, by):
    """Queue the preview of a configured batch."""
    from .. import tasks

    _require_batch_editable(batch, by)
    if batch.header_row is None or not batch.mapping:
        raise ValidationError(_("No heading row was found: choose the row that holds the column names."))
    _valid_mapping(batch.mapping, len(batch.headings))
    ImportBatch.objects.filter(pk=batch.pk).update(status=Status.PREVIEWING, error="")
    _progress(batch, 0)
    enqueue_on_commit(tasks.import_preview, batch_id=batch.pk)


def import_request_commit(*, batch, by, policy, unknown_owner, default_owner=None, team=None, pool=None):
    """Record the importer's choices for a previewed batch and queue its commit."""
    from .. import tasks

    _require_importer(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.PREVIEWED:
            raise ValidationError(_("Only a checked import can be imported."))
        if unknown_owner == ImportBatch.UnknownOwner.DEFAULT and default_owner is None:
            raise ValidationError(_("Choose the owner for customers without a known owner."))
        _check_commit_choices(by, default_owner, team)
        batch.policy, batch.unknown_owner = policy, unknown_owner
        batch.default_owner, batch.team, batch.pool = default_owner, team, pool
        batch.status, batch.cancel_requested = Status.COMMITTING, False
        batch.save()
        from django.core.cache import cache

        cache.delete(_cancel_key(batch.pk))
        enqueue_on_commit(tasks.import_commit, batch_id=batch.pk, by_id=by.pk)
    _progress(batch, 0)
    return batch


def _check_commit_choices(by, default_owner, team):
    """The default owner must be one `by` may give customers to, the team of customers without an
    owner one within `by`'s scope (as for customers created or assigned by hand)."""
    from accounts.capabilities import Module
    from accounts.grants import teams_within_scope

    from ..selectors.pool import assignable_users

    if default_owner is not None and not assignable_users(by).filter(pk=default_owner.pk).exists():
        raise ValidationError({"default_owner": _("Choose someone you may give customers to.")})
    if team is not None and not teams_within_scope(by, Module.CUSTOMERS).filter(pk=team.pk).exists():
        raise ValidationError({"team": _("Choose a team within your own scope.")})


def import_request_undo(*, batch, by):
    """Queue the undo of a finished batch."""
    from .. import tasks

    _require_importer(by)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != Status.DONE:
            raise ValidationError(_("Only a finished import can be undone."))
        batch.status = Status.UNDOING
        batch.save(update_fields=["status"])
        enqueue_on_commit(tasks.import_undo, batch_id=batch.pk, by_id=by.pk)
    return batch


# Cancel and undo --------------------------------------------------------------------------------------


def import_cancel(*, batch, by):
    """Stop a batch: an upload, a check or a checked batch is dropped; a running commit is told to
    stop and rolls back as a whole at its next step (nothing is half written)."""
    _require_importer(by)
    current = ImportBatch.objects.values_list("status", flat=True).get(pk=batch.pk)
    if current == Status.COMMITTING:
        # The commit's transaction holds the batch row: the request goes through the cache.
        from django.core.cache import cache

        cache.set(_cancel_key(batch.pk), True, 3600)
        ImportBatch.objects.filter(pk=batch.pk, status=Status.COMMITTING).update(cancel_requested=True)
        return batch
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (Status.UPLOADED, Status.PREVIEWING, Status.PREVIEWED, Status.FAILED):
            raise ValidationError(_("This import has finished and cannot be cancelled; undo it instead."))
        batch.status = Status.CANCELLED
        batch.save(update_fields=["status"])
    return batch


class ImportCancelled(Exception):
    """The importer cancelled a running commit; its transaction is rolled back."""


def _cancel_key(batch_id):
    return f"crm:import:{batch_id}:cancel"


def _stop_if_cancelled(batch):
    """Between the steps of a commit: roll it back if the importer pressed cancel."""
    from django.core.cache import cache

    if cache.get(_cancel_key(batch.pk)):
        raise ImportCancelled


def import_undo(batch_id, *, by_id):
    """(worker) Remove the customers the batch created and restore the ones it changed, in one
    transaction. A customer edited since (its version moved on), or one that has gained follow-ups or
    other records, is left as it is and listed in `conflicts`. Safe to run twice."""
    by = User.objects.get(pk=by_id)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status not in (Status.DONE, Status.UNDOING):
            return batch
        with audited(by, "customer_import_undo", import_batch=batch.pk):
            conflicts = _undo_rows(batch)
        batch.status, batch.undone_at, batch.undone_by, batch.conflicts = Status.UNDONE, timezone.now(), by, conflicts
        batch.save(update_fields=["status", "undone_at", "undone_by", "conflicts"])
    return batch


def _blocking_relations():
    """(model, table, column) of every table that points at a customer and whose rows undo must not
    delete silently (follow-ups, merges, later areas' records). Contacts and pool events go with the
    customer; the audit trail stays, it is history."""
    import pghistory.models

    from ..models import PoolEvent

    ours = {Contact, ImportRow, ImportRecord, PoolEvent}
    found = []
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in ours or issubclass(model, pghistory.models.Event) or not relation.field.concrete:
            continue
        found.append((model, model._meta.db_table, relation.field.column))
    return found


def _undo_rows(batch):
    records, customers, contacts = ImportRecord._meta.db_table, Customer._meta.db_table, Contact._meta.db_table
    from ..models import PoolEvent

    conflicts = {}
    with connection.cursor() as cursor:
        _merge_search_index_later(cursor)
        cursor.execute(f"""
            SELECT rec.customer_id, c.name FROM {records} rec JOIN {customers} c ON c.id = rec.customer_id
            WHERE rec.batch_id = %s AND (c.version <> rec.version OR c.merged_into_id IS NOT NULL)""", [batch.pk])
        for pk, name in cursor.fetchall():
            conflicts[pk] = {"id": pk, "name": name, "why": "edited"}
        for _model, table, column in _blocking_relations():
            cursor.execute(f"""
                SELECT DISTINCT rec.customer_id, c.name FROM {records} rec
                JOIN {table} t ON t.{column} = rec.customer_id JOIN {customers} c ON c.id = rec.customer_id
                WHERE rec.batch_id = %s AND rec.action = 'created'""", [batch.pk])
            for pk, name in cursor.fetchall():
                conflicts.setdefault(pk, {"id": pk, "name": name, "why": "linked"})
        blocked = list(conflicts) or [0]
        cursor.execute(f"""
            CREATE TEMP TABLE import_undo_created ON COMMIT DROP AS
            SELECT customer_id AS id FROM {records}
            WHERE batch_id = %s AND action = 'created' AND customer_id <> ALL(%s)""", [batch.pk, blocked])
        # The removed contacts and customers leave their history events, written with each DELETE
        # (delete_recorded), not by a trigger per row.
        with trigger_ignored(Contact, operation="delete"):
            delete_recorded(Contact, f"DELETE FROM {contacts} WHERE customer_id IN (SELECT id FROM import_undo_created)",
                            [], cursor)
        cursor.execute(f"DELETE FROM {PoolEvent._meta.db_table} WHERE customer_id IN (SELECT id FROM import_undo_created)")
        # Their search rows in one statement, not by the copy trigger once per customer.
        cursor.execute(f"DELETE FROM {CustomerSearch._meta.db_table} "
                       "WHERE customer_id IN (SELECT id FROM import_undo_created)")
        with trigger_ignored(Customer, operation="delete"), triggers_skipped("crm.Customer:search_copy_delete"):
            delete_recorded(Customer, f"DELETE FROM {customers} WHERE id IN (SELECT id FROM import_undo_created)",
                            [], cursor)
        cursor.execute(f"""
            SELECT rec.customer_id, rec.before FROM {records} rec
            WHERE rec.batch_id = %s AND rec.action = 'updated' AND rec.customer_id <> ALL(%s)""", [batch.pk, blocked])
        restore = cursor.fetchall()
        flush_deferred_checks(cursor)  # the restore fires row triggers
        _restore(cursor, restore)
    return sorted(conflicts.values(), key=lambda c: c["id"])


def _restore(cursor, restore):
    """Put back the fields an import changed, grouped by the set of fields so each group is one UPDATE."""
    customers = Customer._meta.db_table
    groups = {}
    for pk, before in restore:
        before = json.loads(before) if isinstance(before, str) else before
        groups.setdefault(tuple(sorted(before)), []).append((pk, before))
    for columns, items in groups.items():
        if not columns:
            continue
        values = ", ".join(f"{column} = (v.earlier).{column}" for column in columns)
        # Each customer's earlier values are read into a record once (MATERIALIZED keeps the planner
        # from repeating the conversion for every column).
        cursor.execute(f"""
            WITH v AS MATERIALIZED (
                SELECT (x->>'id')::bigint AS id, jsonb_populate_record(NULL::{customers}, x->'before') AS earlier
                FROM jsonb_array_elements(%s::jsonb) x)
            UPDATE {customers} c SET {values}, version = c.version + 1, updated_at = now()
            FROM v WHERE c.id = v.id""", [json.dumps([{"id": pk, "before": before} for pk, before in items],
                                              ensure_ascii=False)])
    if restore:
        from .customers import customers_refresh_search

        customers_refresh_search([pk for pk, _before in restore])


def import_files_expire(*, now=None, keep_days=None):
    """(beat, daily) Uploaded files and staged rows of imports finished more than `keep_days` ago
    are removed; the batch, its counts, its error report and its undo records stay. Returns how many
    batches were tidied. Safe to run twice."""
    keep_days = settings.CRM_IMPORT_KEEP_DAYS if keep_days is None else keep_days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=keep_days)
    finished = (Status.DONE, Status.UNDONE, Status.CANCELLED, Status.FAILED)
    old = ImportBatch.objects.filter(status__in=finished, created_at__lt=cutoff)
    tidied = 0
    for batch in old.exclude(file="").only("pk", "file"):
        batch.file.delete(save=False)  # one file per batch: storage has no set-based delete
        tidied += 1
    old.exclude(file="").update(file="")
    ImportRow.objects.filter(batch__in=old).delete()
    return tidied
