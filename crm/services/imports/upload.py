"""Upload: the file is kept, its sheets listed, the header found and the columns mapped by their
headings and first values."""
import contextlib
import hashlib
import os

from django.core.files import File
from django.utils import timezone
from django.utils.translation import gettext as _

from ...imports import guess, layout
from ...imports.clean import context_from_lists
from ...imports.read import ImportFileError, open_workbook
from ...models import ImportBatch
from .cleaning import active_users
from .common import _limits, _require_importer


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
    digest = _sha256_of(path)
    opened = contextlib.nullcontext(book) if book else open_workbook(path, filename=file_name, max_bytes=max_bytes)
    with opened as book:
        sheet_names = list(book.sheet_names)
        file_format = book.format
        sheet, header_row, headings, guesses = _best_sheet(book, guess_context())
        estimate = book.row_count(sheet) if sheet else None
    batch = ImportBatch(
        counts={"rows_estimate": estimate} if estimate else {},
        created_by=by, file_name=os.path.basename(file_name)[:255], file_sha256=digest, file_size=size,
        file_format=file_format, sheet_names=sheet_names, sheet=sheet, header_row=header_row, headings=headings,
        **mapping_fields(guesses),
    )
    with open(path, "rb") as handle:
        batch.file.save(f"{digest[:16]}{os.path.splitext(file_name)[1].lower()[:6]}", File(handle),
                        save=False)
    batch.save()
    return batch


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _first_rows(book, sheet, count=layout.HEADER_SCAN + guess.SAMPLE_ROWS):
    rows = []
    for row in book.rows(sheet):
        rows.append(row)
        if len(rows) >= count:
            break
    return rows


def guess_context():
    """What the guess checks owner columns against: the active users (no picklists needed)."""
    return context_from_lists(industries=(), sources=(), users=active_users(), today=timezone.localdate())


def mapping_fields(guesses):
    """The batch's mapping and guesses from guess.guess_mapping's {column: (field, confidence)}."""
    return {"mapping": {str(i): field for i, (field, _c) in guesses.items()},
            "guesses": {str(i): [field, confidence] for i, (field, confidence) in guesses.items()}}


def _header_of(rows, context, header_row=None):
    """(header row index, headings as text, guessed {column: (field, confidence)}) of the first rows
    of a sheet, the heading row found unless given. Columns that hold values beyond the last heading
    get an empty heading, so the page lists them too."""
    index = layout.find_header(rows) if header_row is None else header_row
    if index is None:
        return None, [], {}
    samples = guess.sample_rows(rows, index)
    width = max([len(rows[index]), *(_last_filled(row) for row in samples)])
    header = list(rows[index]) + [None] * (width - len(rows[index]))
    headings = ["" if cell is None else str(cell).strip() for cell in header]
    return index, headings, guess.guess_mapping(header, samples, context)


def _last_filled(row):
    """1 + the index of the row's last non-empty cell (0 for an empty row)."""
    for index in range(len(row) - 1, -1, -1):
        cell = row[index]
        if cell is not None and not (isinstance(cell, str) and not cell.strip()):
            return index + 1
    return 0


def _best_sheet(book, context):
    """The first sheet whose header maps a customer name; else the first sheet."""
    first = None
    for name in book.sheet_names:
        found = (name, *_header_of(_first_rows(book, name), context))
        first = first or found
        if any(field == "name" for field, _confidence in found[3].values()):
            return found
    return first or ("", None, [], {})
