"""Cells an import cannot store as they are: picklist words the lists do not have, which the importer
adds to the list, reads as an entry there is, or leaves empty (one choice per word, kept with the batch
and its saved mapping); and every other cell left out of its row, kept as the file had it beside the
customer (ImportRawValue, the customer page's "导入原始值"). All of it in a few statements per batch."""
import re

import orjson
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from ...imports.fields import BY_KEY
from ...models import Choice, CustomerKind, CustomerStatus, ImportRawValue, ImportRecord, ImportRow, Tier

ADD, EMPTY = "add", "empty"
# The picklist fields whose unknown words can be added to their list; the others are fixed lists.
ADDABLE = {"industry": Choice.Kind.INDUSTRY, "source": Choice.Kind.SOURCE}
# What each fixed list's words may be read as.
FIXED = {"tier": Tier, "status": CustomerStatus, "kind": CustomerKind}
# Words per field the check lists (a legacy list has a few dozen; a column of free text would have
# thousands, which nobody decides one by one: those beyond are left empty with their raw value kept).
MAX_WORDS = 200


def unknown_values(batch):
    """{field: [[word, rows], ...]} of the words the batch's rows name that their picklist lacks, most
    used first; rows that are errors do not count. One query."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT u.key, u.value, count(*) FROM {ImportRow._meta.db_table} r,
                jsonb_each_text(r.data->'unknown') u
            WHERE r.batch_id = %s AND r.flagged AND r.verdict <> 'error' AND r.data ? 'unknown'
            GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2""", [batch.pk])
        found = {}
        for field, word, rows in cursor.fetchall():
            words = found.setdefault(field, [])
            if len(words) < MAX_WORDS:
                words.append([word, rows])
    return found


def merged_choices(base, over):
    """{field: {word: choice}}: `base`'s choices with `over`'s on top, word by word."""
    merged = {field: dict(words) for field, words in (base or {}).items()}
    for field, words in (over or {}).items():
        merged.setdefault(field, {}).update(words)
    return merged


def default_choice(field):
    """Unknown industries and sources are added to their list; a fixed list's words are left empty."""
    return ADD if field in ADDABLE else EMPTY


def options_of(field):
    """[(value, label)] a word of `field` may be read as, after "add" (where it can be) and "empty"."""
    options = []
    if field in ADDABLE:
        options.append((ADD, _("Add it to the list")))
    options.append((EMPTY, _("Leave the field empty")))
    if field in ADDABLE:
        entries = Choice.objects.filter(kind=ADDABLE[field], active=True).order_by("order", "pk")
        options += [(str(c.pk), _("Read as “%(entry)s”") % {"entry": c}) for c in entries]
    else:
        options += [(value, _("Read as “%(entry)s”") % {"entry": label}) for value, label in FIXED[field].choices]
    return options


def checked_choices(value_choices, unknown):
    """The importer's choices ({field: {word: choice}}) for the batch's `unknown` words, each one a
    known option (else the field's default); words the batch does not have are dropped."""
    cleaned = {}
    for field, words in unknown.items():
        if field not in ADDABLE and field not in FIXED:
            continue
        allowed = {value for value, _label in options_of(field)}
        given = (value_choices or {}).get(field) or {}
        cleaned[field] = {word: given[word] if given.get(word) in allowed else default_choice(field)
                          for word, _rows in words}
    return cleaned


def resolve_unknown_values(cursor, batch, by):
    """(in the commit) Carry out the batch's choices: add the words to be added to their list (an entry
    of that label there already is taken instead), then give every staged row that names a word read
    as an entry that entry, a statement per field. Returns how many entries were added."""
    unknown = unknown_values(batch)
    if not unknown:
        return 0
    choices = checked_choices(batch.value_choices, unknown)
    added = _add_entries(choices)
    for field, decided in choices.items():
        words, values = [], []
        for word, choice in decided.items():
            if choice == EMPTY:
                continue
            value = added[(field, word)] if choice == ADD else (int(choice) if field in ADDABLE else choice)
            words.append(word)
            values.append(orjson.dumps(value).decode())
        if words:  # a statement per field: an UPDATE changes each row once, whatever it joins
            cursor.execute(f"""
                UPDATE {ImportRow._meta.db_table} r SET data = jsonb_set(r.data, ARRAY[%s], v.value::jsonb)
                FROM unnest(%s::text[], %s::text[]) AS v(word, value)
                WHERE r.batch_id = %s AND r.flagged AND r.data->'unknown'->>%s = v.word AND NOT r.data ? %s""",
                [field, words, values, batch.pk, field, field])
    return sum(1 for (_field, _word), created in added.items() if created)


def _add_entries(choices):
    """{(field, word): entry id} of the words to be added, an entry of the same label reused."""
    wanted = [(field, word) for field, decided in choices.items() for word, choice in decided.items()
              if choice == ADD and field in ADDABLE]
    if not wanted:
        return {}
    result = {}
    for field in {field for field, _word in wanted}:
        kind = ADDABLE[field]
        labels = [word for f, word in wanted if f == field]
        existing = dict(Choice.objects.filter(kind=kind, label__in=labels).values_list("label", "pk"))
        codes = set(Choice.objects.filter(kind=kind).values_list("code", flat=True))
        new = []
        for label in labels:
            if label in existing:
                result[(field, label)] = existing[label]
                continue
            code = _code_for(label, codes)
            codes.add(code)
            new.append(Choice(kind=kind, code=code, label=label, order=900))
        for entry in Choice.objects.bulk_create(new):  # recorded by the history triggers, in the commit's audit
            result[(field, entry.label)] = entry.pk
    return result


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _code_for(label, taken):
    """A slug for a new entry: the label's pinyin ("医疗器械" → "yi-liao-qi-xie"), unique in its list."""
    base = _NOT_SLUG.sub("-", "-".join(lazy_pinyin(label)).lower()).strip("-")[:34] or "entry"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def field_headings(batch):
    """{field key: the heading of the column mapped to it (the field's label for a column without one)}."""
    return {key: (batch.headings[int(i)] if int(i) < len(batch.headings) else "") or str(BY_KEY[key].label)
            for i, key in batch.mapping.items() if key in BY_KEY}


def record_raw_values(cursor, batch):
    """(in the commit, after the customers are written) Each cell the batch's written rows left out,
    beside its customer: the cells the check could not store, and the picklist words left empty. A
    new row's customer is its new one, an existing row's the customer it updated (a skipped customer is
    not touched). One statement. Returns how many."""
    headings = field_headings(batch)
    left_empty = _("“%(value)s” is not in the list; left empty.")
    rows, records, raw = ImportRow._meta.db_table, ImportRecord._meta.db_table, ImportRawValue._meta.db_table
    cursor.execute(f"""
        WITH written AS (
            SELECT r.row_number, r.data, COALESCE(r.new_id, rec.customer_id) AS customer_id
            FROM {rows} r LEFT JOIN {records} rec
                ON rec.batch_id = r.batch_id AND rec.customer_id = r.match_id AND rec.action = 'updated'
            WHERE r.batch_id = %(batch)s AND r.flagged AND (r.data ? 'warnings' OR r.data ? 'unknown')
              AND (r.verdict = 'new' OR (r.verdict = 'existing' AND rec.customer_id IS NOT NULL))
        )
        INSERT INTO {raw} (batch_id, customer_id, row_number, field, heading, raw, reason)
        SELECT %(batch)s, w.customer_id, w.row_number, c->>1, left(c->>0, 200), c->>2, c->>3
        FROM written w, jsonb_array_elements(w.data->'warnings') c
        WHERE w.data ? 'warnings'
        UNION ALL
        SELECT %(batch)s, w.customer_id, w.row_number, u.key, left(h.heading, 200), u.value,
            replace(%(left_empty)s, '%%(value)s', u.value)
        FROM written w, jsonb_each_text(w.data->'unknown') u
            JOIN jsonb_each_text(%(headings)s::jsonb) h(key, heading) ON h.key = u.key
        WHERE w.data ? 'unknown' AND NOT w.data ? u.key""",
        {"batch": batch.pk, "headings": orjson.dumps(headings).decode(), "left_empty": left_empty})
    return cursor.rowcount


def rows_with_warnings(batch, *, written=False):
    """How many of the batch's rows (not errors) have a cell left out; `written`: after the commit, how
    many of the rows it wrote (those with raw values kept)."""
    if written:
        return ImportRawValue.objects.filter(batch=batch).values("row_number").distinct().count()
    return (ImportRow.objects.filter(batch=batch, flagged=True, data__has_key="warnings")
            .exclude(verdict=ImportRow.Verdict.ERROR).count())
