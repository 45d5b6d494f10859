"""Document numbers for quotes and contracts, from the pattern admins set (DocumentNumbering)."""
import re

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import audited

from ..models import DocumentNumbering, NumberCounter
from .deals import _require_configure

_TOKEN = re.compile(r"\{(yyyy|yy|mm|dd|seq(?::(\d))?)\}")


def numbering_pattern_check(pattern):
    """Raise ValidationError unless `pattern` has exactly one {seq} or {seq:N} and no unknown {…}."""
    pattern = pattern.strip()
    if not pattern:
        raise ValidationError({"pattern": _("Enter a pattern.")})
    leftover = _TOKEN.sub("", pattern)
    if "{" in leftover or "}" in leftover:
        raise ValidationError({"pattern": _("Use only {yyyy}, {yy}, {mm}, {dd} and {seq} or {seq:N} in braces.")})
    if sum(1 for m in _TOKEN.finditer(pattern) if m.group(1).startswith("seq")) != 1:
        raise ValidationError({"pattern": _("The pattern needs one {seq} (or {seq:4} for four digits).")})
    return pattern


def numbering_save(*, by, kind, pattern):
    _require_configure(by)
    pattern = numbering_pattern_check(pattern)
    with audited(by, "numbering_save"):
        numbering, _created = DocumentNumbering.objects.update_or_create(kind=kind, defaults={"pattern": pattern})
    return numbering


def _fill_date(pattern, day):
    values = {"yyyy": f"{day:%Y}", "yy": f"{day:%y}", "mm": f"{day:%m}", "dd": f"{day:%d}"}
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), pattern)


def format_number(pattern, day, seq):
    """The number `pattern` gives on `day` for sequence `seq`. With seq=None, the counter's prefix: the
    pattern with its date filled in and the {seq} token left as it is (numbers are counted per prefix)."""
    prefix = _fill_date(pattern, day)
    if seq is None:
        return prefix
    match = next((m for m in _TOKEN.finditer(prefix) if m.group(1).startswith("seq")), None)
    if match is None:
        return prefix
    return prefix[:match.start()] + f"{seq:0{int(match.group(2) or 1)}d}" + prefix[match.end():]


def next_number(kind, model, *, day=None):
    """The next free number for a new document of `kind` (stored in `model`.number). One upsert takes
    the counter, so concurrent callers never share a number; numbers already taken (after the pattern
    changed) are skipped. Call inside the transaction that saves the document."""
    numbering = DocumentNumbering.objects.filter(kind=kind).first()
    pattern = numbering.pattern if numbering else DocumentNumbering.DEFAULTS[kind]
    day = day or timezone.localdate()
    prefix = format_number(pattern, day, None)
    table = NumberCounter._meta.db_table
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" (kind, prefix, last) VALUES (%s, %s, 1) '
                f'ON CONFLICT (kind, prefix) DO UPDATE SET last = "{table}".last + 1 RETURNING last',
                [kind, prefix])
            seq = cursor.fetchone()[0]
        number = format_number(pattern, day, seq)
        if not model.objects.filter(number=number).exists():
            return number
