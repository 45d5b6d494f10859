"""The deal list as .xlsx: exactly the rows of the filtered list that the user may see, streamed
(openpyxl write-only, a server-side cursor, no query per row), every text cell formula-safe."""
import tempfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from crm.lib.paging import capped_count
from crm.lib.timezones import user_zone
from crm.lib.xlsx import header_cell, safe_cell
from crm.services.export import export_params, local_time

from . import selectors
from .models import Opportunity

DEFAULT_LIMIT = 50_000
CHUNK = 2000

# (header: an Opportunity field's name or a label, the values() it reads, width)
COLUMNS = (
    ("name", ("name",), 30),
    ("customer", ("customer__name", "customer_visible"), 32),
    ("pipeline", ("pipeline__name",), 16),
    ("stage", ("stage__name",), 12),
    ("amount", ("amount",), 14),
    ("currency", ("currency",), 8),
    ("probability", ("probability",), 10),
    (None, (), 14),  # weighted amount, from amount and probability
    ("expected_close", ("expected_close",), 14),
    ("owner", ("owner__display_name", "owner__username"), 14),
    ("team", ("team__name",), 16),
    ("source", ("source__label",), 14),
    ("campaign", ("campaign__name",), 18),
    ("next_step", ("next_step",), 30),
    ("lost_reason", ("lost_reason__label",), 16),
    ("stage_entered_at", ("stage_entered_at",), 18),
    ("created_at", ("created_at",), 18),
    ("closed_at", ("closed_at",), 18),
)


def export_limit():
    return getattr(settings, "CRM_DEAL_EXPORT_LIMIT", DEFAULT_LIMIT)


def opportunities_xlsx(user, params):
    """(file open at its start, file name) of the deal list `params` describes, as `user` sees it.
    Raises ValidationError when the list is longer than the export limit (narrow the filters)."""
    filterset, deals = selectors.opportunity_list(user, export_params(params))
    if filterset.errors:  # never the whole list in place of the one asked for
        raise ValidationError(_("These filters are not valid; correct them on the list, then export."))
    limit = export_limit()
    if capped_count(deals, limit)[1]:
        raise ValidationError(_("More than %(limit)s deals match. Narrow the filters to export them.")
                              % {"limit": f"{limit:,}"})
    file = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - streamed, then closed by the response
    try:
        _write(file, deals, zone=user_zone(user))
    except BaseException:
        file.close()
        raise
    file.seek(0)
    day = timezone.localtime(timezone.now(), user_zone(user))
    return file, f"{_('Opportunities')}_{day:%Y%m%d}.xlsx"


def _write(file, deals, *, zone):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Opportunities"))
    sheet.freeze_panes = "A2"
    for index, (_field, _values, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.append([header_cell(sheet, _header(field)) for field, _values, _width in COLUMNS])
    fields = [name for _field, values, _width in COLUMNS for name in values]
    for row in deals.values_list(*fields, named=True).iterator(chunk_size=CHUNK):
        sheet.append([safe_cell(sheet, value) for value in _row(row, zone)])
    workbook.save(file)


def _header(field):
    if field is None:
        return _("Weighted amount")
    return capfirst(Opportunity._meta.get_field(field).verbose_name)


def _row(row, zone):
    return [
        row.name, row.customer__name if row.customer_visible else _("a record you cannot open"), row.pipeline__name, row.stage__name, row.amount, row.currency, row.probability,
        (row.amount * row.probability / 100).quantize(row.amount), row.expected_close,
        row.owner__display_name or row.owner__username or "", row.team__name or "", row.source__label or "",
        row.campaign__name or "", row.next_step, row.lost_reason__label or "",
        local_time(row.stage_entered_at, zone), local_time(row.created_at, zone), local_time(row.closed_at, zone),
    ]
