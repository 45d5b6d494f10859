"""Guessing each column's field from its heading and from its first values, with a confidence.

The heading proposes a field (layout's synonyms, best match first); the column's sample values (the
first data rows the upload reads anyway) must then fit it: an owner column must name users (their
username, display name or mobile), an amount column must hold amounts, a date column dates, a
phone, e-mail or website column mostly such values. A column whose values do not fit is left
unmapped ("not imported", with its values on the page) rather than guessed wrong: a revenue column
never becomes the owner. Pure: the caller passes the users in a CleanContext.
"""
from ..lib.text import is_mainland_mobile
from .clean import CleanError, UnknownOwner, clean_value
from .fields import BY_KEY
from .layout import CONTAINED, EXACT, PARTIAL, ROW_DATA, auto_mapping, classify, heading_match

HIGH, MEDIUM, LOW = "high", "medium", "low"
SAMPLE_ROWS = 50  # data rows looked at per column
SAMPLE_VALUES = 50  # distinct values checked per column

# The share of a column's distinct values that must fit its field's kind, else the column is not
# mapped. Owners repeat few names, some of people who have left: half. Amounts and dates: most.
# Phones, e-mails and websites come with notes and typos that the check reports: a few.
_MUST_FIT = {"owner": 0.5, "amount": 0.6, "date": 0.6, "phone": 0.3, "email": 0.3, "url": 0.3}
_FITS_WELL = 0.8  # at or above: the values do not lower the confidence
# Fewer values than this that do not fit leave an amount, date, phone, e-mail or website column
# mapped (at low confidence): one bad date is the check's to report, with its reason, not a reason
# to drop the column. An owner column must name users however few its values.
_MIN_EVIDENCE = 3


def sample_rows(rows, header_index, count=SAMPLE_ROWS):
    """The first `count` data rows below the heading row of `rows` (no titles, hints, sections,
    totals or repeated headings)."""
    header = rows[header_index]
    mapping = auto_mapping(header)
    found = []
    for row in rows[header_index + 1:]:
        if classify(row, header, mapping) == ROW_DATA:
            found.append(row)
            if len(found) >= count:
                break
    return found


def column_values(samples, index, limit=SAMPLE_VALUES):
    """The distinct non-empty values of column `index` in `samples`, in order."""
    seen = {}
    for row in samples:
        if index < len(row):
            cell = row[index]
            if cell is not None and not (isinstance(cell, str) and not cell.strip()):
                seen.setdefault(cell, None)
                if len(seen) >= limit:
                    break
    return list(seen)


def guess_mapping(header_cells, samples, context):
    """{column index: (field key, confidence)} for a heading row and the data rows below it.

    Headings are taken best match first (exact synonyms, then near ones, then headings containing
    one), each field once, the leftmost column winning a tie; a column is mapped only if enough of
    its values fit the field (`_MUST_FIT`), otherwise the field stays free for another column.
    Confidence: high for an exact synonym whose values fit well; one step lower for a near or
    partial heading, for values that fit only partly, and for a column with no values to look at;
    low for a column kept although its few values do not fit.
    A phone column of Chinese mobiles is the mobile when no column is called so.
    """
    matches = [heading_match(cell) for cell in header_cells]
    guesses, used = {}, set()
    for quality in (EXACT, PARTIAL, CONTAINED):
        for index, (field, how) in enumerate(matches):
            if not field or how != quality or field in used or index in guesses:
                continue
            values = column_values(samples, index)
            kind = BY_KEY[field].kind
            share, checked = _share_fitting(kind, values, context)
            if share is not None and share < _MUST_FIT[kind] and (kind == "owner" or checked >= _MIN_EVIDENCE):
                continue
            level = 2 if how == EXACT else 1
            if share is not None and share < _MUST_FIT[kind]:
                level = 0  # kept only because there were too few values to tell
            elif not values or (share is not None and share < _FITS_WELL):
                level -= 1
            guesses[index] = (field, (LOW, MEDIUM, HIGH)[max(level, 0)])
            used.add(field)
    if "mobile" not in used:
        for index, (field, confidence) in guesses.items():
            if field == "phone" and _mostly_mobiles(column_values(samples, index), context):
                guesses[index] = ("mobile", confidence)
                break
    return dict(sorted(guesses.items()))


def _share_fitting(kind, values, context):
    """(the share of `values` that clean as `kind` (owners: that name a user, or several), how many
    were checked); the share is None when the kind is not checked or there is nothing to check."""
    if kind not in _MUST_FIT:
        return None, 0
    fit = checked = 0
    for value in values:
        try:
            cleaned = clean_value(kind, value, context)
        except UnknownOwner:
            cleaned, ok = True, False
        except CleanError:
            cleaned, ok = True, kind == "owner"  # an owner's name that two users share is still a person
        else:
            ok = True
        if cleaned is None:  # "-", "无": no value
            continue
        checked += 1
        fit += ok
    return (fit / checked if checked else None), checked


def _mostly_mobiles(values, context):
    mobiles = total = 0
    for value in values:
        try:
            number = clean_value("phone", value, context)
        except CleanError:
            number = ""
        if number is not None:
            total += 1
            # A cell of several numbers (a PhoneList) counts by its first.
            mobiles += is_mainland_mobile(number[0] if isinstance(number, tuple) else number)
    return bool(total) and mobiles / total >= _FITS_WELL


__all__ = ["HIGH", "LOW", "MEDIUM", "column_values", "guess_mapping", "sample_rows"]
