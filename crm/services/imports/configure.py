"""Configure: the sheet, the heading row, the mapping of columns to fields and the tier words the
check reads; mappings saved under a name; back from a checked batch to its columns."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ...imports import guess
from ...imports.fields import BY_KEY, heading_key
from ...imports.read import open_workbook
from ...lib.audit import audited
from ...models import ImportBatch, ImportMapping
from .common import Status, _require_batch_editable, _require_importer
from .upload import _first_rows, _header_of, guess_context, mapping_fields
from .values import merged_choices


def import_configure(*, batch, by, sheet=None, header_row=None, mapping=None, tier_words=None, mapping_name=""):
    """Set what the preview reads: another sheet (its header found again unless given), the heading
    row, the mapping {column index: field key} and extra tier words. A saved mapping (`mapping_name`)
    maps columns by their heading text."""
    _require_batch_editable(batch, by)
    if sheet is not None and sheet != batch.sheet:
        _choose_sheet(batch, sheet)
    if header_row is not None and header_row != batch.header_row:
        _choose_header_row(batch, header_row)
    if mapping_name:
        _apply_saved_mapping(batch, mapping_name)
    if mapping is not None:
        batch.mapping = _valid_mapping(mapping, len(batch.headings))
    if tier_words is not None:
        batch.tier_words = tier_words
    batch.status = Status.UPLOADED
    batch.save()
    return batch


def _choose_sheet(batch, sheet):
    """Another sheet of the file, its header found again and its columns mapped."""
    if sheet not in batch.sheet_names:
        raise ValidationError(_("The file has no sheet called “%(sheet)s”.") % {"sheet": sheet})
    with open_workbook(batch.file.path, filename=batch.file_name) as book:
        rows = _first_rows(book, sheet)
    batch.sheet = sheet
    batch.header_row, batch.headings, guesses = _header_of(rows, guess_context())
    _set_mapping_fields(batch, guesses)


def _choose_header_row(batch, header_row):
    """Another heading row (0-based) of the batch's sheet, its columns mapped again."""
    with open_workbook(batch.file.path, filename=batch.file_name) as book:
        rows = _first_rows(book, batch.sheet, count=header_row + 1 + guess.SAMPLE_ROWS)
    if header_row >= len(rows):
        raise ValidationError(_("The sheet has no row %(n)d.") % {"n": header_row + 1})
    batch.header_row, batch.headings, guesses = _header_of(rows, guess_context(), header_row=header_row)
    _set_mapping_fields(batch, guesses)


def _set_mapping_fields(batch, guesses):
    for name, value in mapping_fields(guesses).items():
        setattr(batch, name, value)


def _apply_saved_mapping(batch, mapping_name):
    """The mapping saved as `mapping_name`, by heading text, and its tier words under the batch's own."""
    saved = ImportMapping.objects.filter(name=mapping_name).first()
    if saved is None:
        raise ValidationError(_("There is no saved mapping called “%(name)s”.") % {"name": mapping_name})
    batch.mapping = {str(i): saved.columns[heading_key(h)] for i, h in enumerate(batch.headings)
                     if heading_key(h) in saved.columns}
    batch.tier_words = {**saved.tier_words, **batch.tier_words}
    batch.value_choices = merged_choices(saved.value_choices, batch.value_choices)
    batch.mapping_name = saved.name


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
            name=name, defaults={"columns": columns, "tier_words": batch.tier_words,
                                 "value_choices": batch.value_choices or {}, "created_by": by})
        batch.mapping_name = saved.name
        batch.save(update_fields=["mapping_name"])
    return saved


def import_reopen(*, batch, by):
    """Back from a checked batch to its sheet and mapping (say, after adding a missing picklist
    value), to check the rows again; nothing has been written yet."""
    _require_batch_editable(batch, by)
    if batch.status != Status.PREVIEWED:
        raise ValidationError(_("Only a checked import can go back to its columns."))
    ImportBatch.objects.filter(pk=batch.pk, status=Status.PREVIEWED).update(status=Status.UPLOADED)
