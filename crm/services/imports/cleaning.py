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
    PhoneList,
    UnknownChoice,
    UnknownOwner,
    context_from_lists,
    word_key,
)
from ...imports.fields import BY_KEY, CONTACT
from ...lib.text import display_phone, is_mainland_mobile, search_text
from ...models import Choice, Contact, Customer

# How much of a cell the import keeps when it cannot store it: a picklist word, any other raw value.
UNKNOWN_LENGTH = 60
RAW_LENGTH = 1000


def active_users():
    """(id, username, mobile, display name) of the active users: whom an owner cell may name."""
    return User.objects.filter(is_active=True).values_list("pk", "username", "mobile", "display_name")


def _clean_context(batch):
    industries = Choice.objects.filter(kind=Choice.Kind.INDUSTRY).values_list("pk", "code", "label", "label_en")
    sources = Choice.objects.filter(kind=Choice.Kind.SOURCE).values_list("pk", "code", "label", "label_en")
    context = context_from_lists(industries=industries, sources=sources, users=active_users(),
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
        listed = []  # (field, PhoneList) of the cells that hold several numbers
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
            if value.__class__ is PhoneList:
                listed.append((key, value))
                continue
            if value is not None and value != [] and value != "":
                data[key] = value
        if listed or "mobile" in data or "phone" in data:
            _place_phones(data, listed)
        if "name" not in data and not problems:
            problems.append(_("The customer name is empty."))
        if warnings:
            data["warnings"] = warnings
        return data, " ".join(problems), " ".join(notes)


def _place_phones(data, listed):
    """Give every number of the row a field, dropping none. `listed` holds (field, PhoneList) of the
    cells that hold several numbers ("13812345678/021-62345678"), in column order.

    - Such a cell gives its own field the first number of that field's kind (a mainland mobile for
      手机 and 联系人手机; a landline, 400/800 or foreign number for 电话), else its first number.
    - A number stays in the column the user put it in, unless it is of the other kind and the other
      field is empty: a mobile in 电话 moves to an empty 手机, a landline in 手机 to an empty 电话
      (both misplaced: they swap). So a list with one 电话 column of mobiles still finds its
      customers' mobiles (duplicates are matched by mobile).
    - The other numbers of a customer's cell fill the customer's empty 手机 (a mobile) or 电话 (any
      other number); then a mobile fills the mobile of the row's named contact if it has none.
    - Whatever is left becomes a line of the customer's notes, "其他电话：…" (`other_phones`, which
      the commit adds to the notes). A row that turns out to be an existing customer writes no
      contact, so its line (`other_phones_existing`) also names the number given to the contact.
    """
    rest = []
    for key, numbers in listed:
        wants_mobile = key != "phone"
        first = next((n for n in numbers if is_mainland_mobile(n) == wants_mobile), numbers[0])
        if key in data:  # two columns of one field: the first column's value stays
            first = None
        else:
            data[key] = first
        rest.extend((key, number) for number in numbers if number != first)
    _move_misplaced(data)
    left, to_contact = [], None
    for key, number in rest:
        mobile = is_mainland_mobile(number)
        field = "mobile" if mobile else "phone"
        if key != "contact_mobile" and field not in data:
            data[field] = number
        elif mobile and "contact_name" in data and "contact_mobile" not in data:
            data["contact_mobile"] = to_contact = number
        else:
            left.append(number)
    if left:
        data["other_phones"] = _other_phones(left)
    if to_contact:  # an existing customer's contacts are not written: its notes take the number
        data["other_phones_existing"] = _other_phones([to_contact, *left])


def _other_phones(numbers):
    return _("Other phones: %(numbers)s") % {"numbers": " / ".join(display_phone(number) for number in numbers)}


def _move_misplaced(data):
    """A mobile in 电话 to an empty 手机, a landline in 手机 to an empty 电话; both misplaced: swapped."""
    mobile, phone = data.get("mobile"), data.get("phone")
    mobile_misplaced = mobile is not None and not is_mainland_mobile(mobile)
    phone_misplaced = phone is not None and is_mainland_mobile(phone)
    if mobile_misplaced and (phone is None or phone_misplaced):
        data["phone"] = mobile
        if phone is None:
            del data["mobile"]
    if phone_misplaced and (mobile is None or mobile_misplaced):
        data["mobile"] = phone
        if mobile is None:
            del data["phone"]


def _search_text_of(data):
    return search_text(
        data.get("name", ""),
        phones=[data.get("phone"), data.get("mobile"), data.get("contact_mobile")],
        emails=[data.get("email"), data.get("contact_email")],
        contact_names=[data.get("contact_name")] if data.get("contact_name") else (),
    )
