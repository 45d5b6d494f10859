"""Upload: the file is kept, its sheets listed, the header found and the columns mapped."""
import contextlib
import hashlib
import os

from django.core.files import File
from django.utils.translation import gettext as _

from ...imports import layout
from ...imports.read import ImportFileError, open_workbook
from ...models import ImportBatch
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
        sheet, header_row, headings, mapping = _best_sheet(book)
        estimate = book.row_count(sheet) if sheet else None
    batch = ImportBatch(
        counts={"rows_estimate": estimate} if estimate else {},
        created_by=by, file_name=os.path.basename(file_name)[:255], file_sha256=digest, file_size=size,
        file_format=file_format, sheet_names=sheet_names, sheet=sheet, header_row=header_row, headings=headings,
        mapping={str(k): v for k, v in mapping.items()},
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
