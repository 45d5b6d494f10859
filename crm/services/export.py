"""Customer-list exports to .xlsx: exactly the rows of a filtered list that the user may see.

Small exports are written in the request; larger ones are written by a Celery worker, which loads the
export's user and applies the same list selector, and so the same access layer, to the stored query.
Cells are streamed (openpyxl write-only, a server-side cursor, no query per row), and text that a
spreadsheet could take for a formula is written as text.
"""
import logging
import secrets
import tempfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts.access import user_access
from accounts.capabilities import Capability

from .. import selectors
from ..lib.queue import enqueue_on_commit
from ..lib.text import display_phone
from ..lib.timezones import user_zone
from ..lib.xlsx import header_cell, safe_cell
from ..models import (
    Choice,
    Customer,
    CustomerKind,
    CustomerStatus,
    DealStatus,
    Export,
    Tier,
)
from ..tasks import export_run

__all__ = ["ExportStarted", "export_files_expire", "export_filename", "export_params", "export_start", "export_write",
           "local_time", "user_zone"]

logger = logging.getLogger(__name__)

CHUNK = 2000
DEFAULT_SYNC_LIMIT = 5000
# Query-string keys of the list page that choose a page, not rows: an export takes every page.
PAGING_KEYS = ("page", "cursor", "after", "before")

# The columns, by Customer field: the header is the field's translated name.
COLUMNS = (
    "name", "kind", "tier", "status", "industry", "source", "tags", "phone", "mobile", "email", "website",
    "province", "city", "district", "address", "owner", "team", "last_followup_at", "next_followup_at",
    "deal_status", "deal_date", "deal_amount", "created_at", "notes",
)
# What one row reads: plain columns and the names of the related rows, in one query (no query per row).
VALUES = (
    "name", "kind", "tier", "status", "industry__label", "industry__label_en", "source__label",
    "source__label_en", "tags", "phone", "mobile", "email", "website", "province", "city", "district",
    "address", "owner__display_name", "owner__first_name", "owner__last_name", "owner__username",
    "team__name", "last_followup_at", "next_followup_at", "deal_status", "deal_date", "deal_amount", "created_at", "notes",
)
WIDTHS = {"name": 32, "tags": 20, "email": 26, "website": 24, "address": 36, "notes": 48,
          "last_followup_at": 18, "next_followup_at": 18, "created_at": 18}


@dataclass
class ExportStarted:
    """What `export_start` did: wrote the file now (`file`, open at its start, and `filename`),
    or queued `export` for a worker."""

    export: Export | None = None
    file: IO | None = None
    filename: str = ""
    rows: int = 0


def sync_limit():
    return getattr(settings, "CRM_EXPORT_SYNC_LIMIT", DEFAULT_SYNC_LIMIT)


def _rows_for(user, params):
    """The customers of the list that `params` (the list page's query string) describes, as `user`
    may see them: access-scoped, filtered and sorted by the list's own selector."""
    list_queryset = getattr(selectors, "customer_list_queryset", None)
    if list_queryset is not None:
        rows = list_queryset(user, params)
        if isinstance(rows, tuple):  # (filterset, queryset): sort the way the list page shows it
            filterset, rows = rows
            if filterset.errors:  # never the whole list in place of the one asked for
                raise ValidationError(_("These filters are not valid; correct them on the list, then export."))
            ordering = getattr(filterset, "ordering", None)
            if ordering is not None:
                rows = rows.order_by(*ordering.order_by())
        return rows
    # Until the list filters land: every live customer the user may see (the integrator removes this).
    return selectors.customers_visible_to(user)


def export_params(params):
    """The list's query string without its paging keys."""
    query = params.copy()
    for key in PAGING_KEYS:
        query.pop(key, None)
    return query


def export_filename(user, when=None):
    """客户_20261124.xlsx: the list's name in the active language and the day in the user's zone."""
    day = timezone.localtime(when or timezone.now(), user_zone(user))
    return f"{_('Customers')}_{day:%Y%m%d}.xlsx"


def export_start(*, user, params):
    """Export the customer list `params` describes. Up to CRM_EXPORT_SYNC_LIMIT rows (counted with a
    capped count, never a full COUNT) are written now; more are queued for a worker as an Export row.
    Raises PermissionDenied without the export capability, ValidationError for an over-long query."""
    if not user_access(user).has(Capability.EXPORT_DATA):
        raise PermissionDenied
    params = export_params(params)
    rows = _rows_for(user, params)
    limit = sync_limit()
    count = rows.order_by().values("pk")[: limit + 1].count()
    if count <= limit:
        # Handed open to the caller: the view's FileResponse streams and then closes it.
        file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
        try:
            _write_workbook(file, rows, zone=user_zone(user))
        except BaseException:
            file.close()
            raise
        file.seek(0)
        return ExportStarted(file=file, filename=export_filename(user), rows=count)
    query = params.urlencode()
    if len(query) > Export._meta.get_field("query").max_length:
        raise ValidationError(_("These filters are too long to export in the background. Please narrow them down."))
    with transaction.atomic():
        export = Export.objects.create(user=user, query=query, total=count)
        enqueue_on_commit(export_run, export_id=export.pk)
    return ExportStarted(export=export, rows=count)


def export_write(*, export_id):
    """Write a queued export as its user (their access, language and time zone). Safe to run twice:
    a finished or failed export is left alone; a queued or interrupted one is written from scratch,
    and of two runs that overlap only the first to finish is kept. Marks the export FAILED on error."""
    export = Export.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status in (Export.Status.DONE, Export.Status.FAILED):
        return
    user = export.user
    # As the user saw the list: their language, and their zone for date filters such as "today".
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE), timezone.override(user_zone(user)):
        try:
            if not user.is_active or not user_access(user).has(Capability.EXPORT_DATA):
                raise PermissionDenied
            _write_export(export, user)
        except PermissionDenied:
            _fail(export, _("You may no longer export customer data."))
        except Exception as exc:  # any failure must reach the user, not leave the export RUNNING
            logger.exception("Customer export %s failed", export.pk)
            _fail(export, _("The export failed (%(reason)s). Please try again.") % {"reason": type(exc).__name__})


def _write_export(export, user):
    rows = _rows_for(user, QueryDict(export.query))
    # A worker may count exactly: it happens once per export, not on every page.
    total = rows.order_by().count()
    Export.objects.filter(pk=export.pk).update(status=Export.Status.RUNNING, done=0, total=total, error="")

    def progress(done):
        Export.objects.filter(pk=export.pk).update(done=done)

    with tempfile.TemporaryFile(suffix=".xlsx") as file:
        written = _write_workbook(file, rows, zone=user_zone(user), progress=progress)
        file.seek(0)
        with transaction.atomic():
            current = Export.objects.select_for_update().get(pk=export.pk)
            if current.status in (Export.Status.DONE, Export.Status.FAILED):
                return  # another run finished first; keep its file
            current.file.save(f"customers-{current.pk}-{secrets.token_hex(8)}.xlsx", File(file), save=False)
            current.status, current.done, current.total = Export.Status.DONE, written, written
            current.finished_at = timezone.now()
            current.save(update_fields=["file", "status", "done", "total", "finished_at"])


def _fail(export, message):
    Export.objects.filter(pk=export.pk).exclude(status=Export.Status.DONE).update(
        status=Export.Status.FAILED, error=str(message)[:300], finished_at=timezone.now())


def _write_workbook(file, rows, *, zone, progress=None):
    """Stream `rows` into an .xlsx written to `file`; returns the number of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = WIDTHS.get(column, 14)
    sheet.append([_header_cell(sheet, column) for column in COLUMNS])
    labels = _labels()
    written = 0
    for row in rows.values_list(*VALUES, named=True).iterator(chunk_size=CHUNK):
        sheet.append([safe_cell(sheet, value) for value in _values(row, labels, zone)])
        written += 1
        if progress and written % CHUNK == 0:
            progress(written)
    workbook.save(file)
    return written


def _header_cell(sheet, column):
    return header_cell(sheet, capfirst(Customer._meta.get_field(column).verbose_name))


def _labels():
    """The display labels used for every row, read once: tier labels (admins edit them) and choices."""
    english = (translation.get_language() or "").startswith("en")
    tiers = {code: label for code, label in Tier.choices}
    for code, label, label_en in Choice.objects.filter(kind=Choice.Kind.TIER).values_list("code", "label", "label_en"):
        tiers[code] = (label_en or label) if english else label
    return {
        "english": english,
        "tier": {code: str(label) for code, label in tiers.items()},
        "kind": {code: str(label) for code, label in CustomerKind.choices},
        "status": {code: str(label) for code, label in CustomerStatus.choices},
        "deal_status": {code: str(label) for code, label in DealStatus.choices},
    }


def _values(row, labels, zone):
    """One customer's cells, in the order of COLUMNS."""
    english = labels["english"]
    owner = ""
    if row.owner__username:
        full_name = f"{row.owner__first_name} {row.owner__last_name}".strip()
        owner = row.owner__display_name or full_name or row.owner__username
    return [
        row.name,
        labels["kind"].get(row.kind, row.kind),
        labels["tier"].get(row.tier, row.tier),
        labels["status"].get(row.status, row.status),
        (row.industry__label_en or row.industry__label) if english else row.industry__label,
        (row.source__label_en or row.source__label) if english else row.source__label,
        ", ".join(row.tags or ()),
        display_phone(row.phone),
        display_phone(row.mobile),
        row.email,
        row.website,
        row.province,
        row.city,
        row.district,
        row.address,
        owner,
        row.team__name,
        local_time(row.last_followup_at, zone),
        local_time(row.next_followup_at, zone),
        labels["deal_status"].get(row.deal_status, row.deal_status),
        row.deal_date,
        row.deal_amount,
        local_time(row.created_at, zone),
        row.notes,
    ]


def local_time(value, zone):
    """An aware time as the naive wall-clock time of the user's zone (Excel has no time zones)."""
    return timezone.localtime(value, zone).replace(tzinfo=None) if value else None


def export_files_expire(*, now=None, keep_days=None):
    """(beat, daily) Exports older than `keep_days` are deleted with their files: a spreadsheet of
    customer data should not wait on the server for ever. Returns how many. Safe to run twice."""
    import datetime

    keep_days = settings.CRM_EXPORT_KEEP_DAYS if keep_days is None else keep_days
    cutoff = (now or timezone.now()) - datetime.timedelta(days=keep_days)
    old = Export.objects.filter(created_at__lt=cutoff).exclude(status__in=[Export.Status.QUEUED, Export.Status.RUNNING])
    for export in old.exclude(file="").only("pk", "file"):
        export.file.delete(save=False)  # one file per export: storage has no set-based delete
    count, _deleted = old.delete()
    return count
