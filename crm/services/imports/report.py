"""What an import leaves to read: the sample of rows the check shows, the error report of the rows
that cannot be imported, and the tidying of files and staged rows of imports finished long ago."""
import datetime
import io
import os

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ...models import ImportBatch, ImportRow
from .common import Status, Verdict
from .values import field_headings

PREVIEW_ROWS = 20


def _preview_sample(batch):
    """The first rows as they will be stored: [{"row", "verdict", "reason", "values": {field: shown}}]."""
    sample = []
    for row in ImportRow.objects.filter(batch=batch).order_by("row_number")[:PREVIEW_ROWS]:
        values = {k: v for k, v in row.data.items() if k != "search_text"}
        sample.append({"row": row.row_number, "verdict": row.verdict, "reason": row.reason,
                       "match": row.match_id, "values": values})
    return sample


def _write_error_report(batch):
    """An .xlsx of what the check found wrong: a sheet of the rows that cannot be imported (错误原因, the
    row number, then the row as it was) and a sheet of the cells left empty in rows that are imported
    (row, column, the value as it was, why), picklist words no list has among them."""
    from openpyxl import Workbook

    from ...lib.xlsx import safe_cell as _cell

    rows = ImportRow.objects.filter(batch=batch, verdict=Verdict.ERROR).order_by("row_number")
    warned = (ImportRow.objects.filter(batch=batch, flagged=True).exclude(verdict=Verdict.ERROR)
              .filter(Q(data__has_key="warnings") | Q(data__has_key="unknown")).order_by("row_number"))
    if not rows.exists() and not warned.exists():
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
    sheet = book.create_sheet(_("Warnings"))
    sheet.append([_cell(sheet, v) for v in [_("Row"), _("Column"), _("Value in the file"), _("Why it was left empty")]])
    headings = field_headings(batch)
    not_listed = _("Not in the list yet: added, read as an entry or left empty as chosen at import.")
    for number, data in warned.values_list("row_number", "data").iterator(chunk_size=2000):
        for heading, _key, raw, why in data.get("warnings", ()):
            sheet.append([_cell(sheet, v) for v in [number, heading, raw, why]])
        for key, word in (data.get("unknown") or {}).items():
            sheet.append([_cell(sheet, v) for v in [number, headings.get(key, key), word, not_listed]])
    buffer = io.BytesIO()
    book.save(buffer)
    stem = os.path.splitext(batch.file_name)[0][:80]
    batch.error_report.save(f"{batch.pk}-{stem}-errors.xlsx", ContentFile(buffer.getvalue()), save=False)
    ImportBatch.objects.filter(pk=batch.pk).update(error_report=batch.error_report.name)


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
