"""Cleaning one row of the sheet into the data an ImportRow stages, with the batch's mapping, its
tier words and the picklists, users and field lengths there are."""
import datetime
import decimal

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from ...imports.clean import (
    CleanError,
    ColumnCleaner,
    UnknownChoice,
    UnknownOwner,
    context_from_lists,
    word_key,
)
from ...imports.fields import BY_KEY, CONTACT
from ...lib.text import search_text
from ...models import Choice, Contact, Customer

# How much of a cell the import keeps when it cannot store it: a picklist word, any other raw value.
UNKNOWN_LENGTH = 60
RAW_LENGTH = 1000


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
        """(data, problems, notes). Only the name can make a row an error (`problems`): any other cell
        that cannot be stored is left out of the row, noted (`notes`, shown with the row) and kept as
        the file had it in data["warnings"] ([heading, field, raw, reason] each), which the commit puts
        beside the customer. A picklist word the list lacks goes to data["unknown"] ({field: word}),
        for the importer to add, map or leave empty; an owner nobody is called, to "owner_unknown"."""
        data, problems, notes, warnings = {}, [], [], []
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
            except UnknownChoice:
                data.setdefault("unknown", {})[key] = _shown(raw)[:UNKNOWN_LENGTH]
                continue
            except CleanError as exc:
                if key == "name":
                    problems.append(f"{heading}: {exc}")
                    continue
                notes.append(_("%(column)s left empty: %(why)s") % {"column": heading, "why": exc})
                warnings.append([heading[:200], key, _shown(raw)[:RAW_LENGTH], str(exc)])
                continue
            if value is not None and value != [] and value != "":
                data[key] = value
        if "name" not in data and not problems:
            problems.append(_("The customer name is empty."))
        if warnings:
            data["warnings"] = warnings
        return data, " ".join(problems), " ".join(notes)


def _search_text_of(data):
    return search_text(
        data.get("name", ""),
        phones=[data.get("phone"), data.get("mobile"), data.get("contact_mobile")],
        emails=[data.get("email"), data.get("contact_email")],
        contact_names=[data.get("contact_name")] if data.get("contact_name") else (),
    )
