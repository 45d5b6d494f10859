"""Safe parsing of what users type and what query strings carry: the one place that decides which
numbers, dates and ids the application accepts, so that nothing a request holds reaches PostgreSQL or
date arithmetic out of range.

- ids are ASCII digits only (``str.isdigit()`` says yes to "²" and "١٢", which ``int()`` refuses)
  within PostgreSQL's bigint;
- integers stay within PostgreSQL's integer unless the field says otherwise;
- decimals are finite and fit their column (max_digits, decimal_places);
- dates and moments lie between FIRST_DATE and LAST_DATE, far enough inside Python's and PostgreSQL's
  calendars that "+1 day", "the month's last day" or "the next quarter" never overflow;
- text holds no character PostgreSQL cannot store (NUL).

Query parameters that are present but wrong raise ``BadInput`` (a ``BadRequest``: the friendly 400
page), never a silent fallback to something the user did not ask for. Form fields say what is wrong
as a form error. The platform imports no business app."""
import datetime
import decimal
import re

import django_filters
from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.core.validators import DecimalValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL integer
BIGINT_MAX = 2**63 - 1  # PostgreSQL bigint (and every id)
SMALLINT_MAX = 2**15 - 1
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2999, 12, 31)
LONGEST_ID = len(str(BIGINT_MAX))

# Characters no PostgreSQL text column can hold: NUL, and lone surrogates (not UTF-8 at all).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ASCII_ID = re.compile(r"[0-9]{1,19}")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,20}")


class BadInput(BadRequest):
    """A request parameter that cannot mean anything: answered 400 with `message` on the friendly page."""

    def __init__(self, message=None):
        super().__init__(message or gettext("A value in the address is not valid."))
        self.message = message


def storable(text):
    """True when PostgreSQL can store `text` (no NUL byte, no lone surrogate)."""
    return not (isinstance(text, str) and UNSTORABLE.search(text))


def date_range_message():
    return gettext("Enter a date between %(first)s and %(last)s.") % {
        "first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()}


# Plain parsers: None when the text is not a valid value -------------------------------------------

def parse_id(value):
    """A record id from text: ASCII digits only, 1 .. bigint; else None."""
    if not isinstance(value, str) or not _ASCII_ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= BIGINT_MAX else None


def parse_int(value, *, minimum=INT_MIN, maximum=INT_MAX):
    """An integer from text (ASCII digits, an optional sign) within [minimum, maximum]; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if minimum <= number <= maximum else None


def in_date_range(day):
    return FIRST_DATE <= day <= LAST_DATE


def parse_date(value):
    """An ISO date (2026-02-28) within FIRST_DATE..LAST_DATE; else None."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value if in_date_range(value) else None
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if in_date_range(day) else None


def parse_month(value):
    """The first day of the month `2026-02` names, within the date range; else None."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
        return None
    return parse_date(value + "-01")


def parse_decimal(value, *, max_digits=None, decimal_places=None):
    """A finite Decimal from text ("1,234.50" too) that fits max_digits/decimal_places; else None."""
    if isinstance(value, decimal.Decimal):
        number = value
    else:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return None
        text = str(value).replace(",", "").strip()
        if not text.isascii() or len(text) > 100:
            return None
        try:
            number = decimal.Decimal(text)
        except (decimal.InvalidOperation, ValueError):
            return None
    if not number.is_finite():
        return None
    if max_digits is not None or decimal_places is not None:
        try:
            DecimalValidator(max_digits, decimal_places)(number)
        except ValidationError:
            return None
    return number


# Query parameters: None when absent or empty, BadInput when present and wrong ---------------------

def _present(params, name):
    value = params.get(name)
    return None if value in (None, "") else value


def query_id(params, name):
    """The id ?name= holds, None without one; BadInput for anything that is not an id."""
    value = _present(params, name)
    if value is None:
        return None
    number = parse_id(value)
    if number is None:
        raise BadInput(gettext("“%(name)s” in the address is not a valid number.") % {"name": name})
    return number


def query_int(params, name, *, minimum=INT_MIN, maximum=INT_MAX):
    value = _present(params, name)
    if value is None:
        return None
    number = parse_int(value, minimum=minimum, maximum=maximum)
    if number is None:
        raise BadInput(gettext("“%(name)s” in the address is not a valid number.") % {"name": name})
    return number


def _query_dated(params, name, parse, message):
    value = _present(params, name)
    if value is None:
        return None
    parsed = parse(value)
    if parsed is None:
        raise BadInput(message % {"name": name} + " " + date_range_message())
    return parsed


def query_date(params, name):
    """The date ?name= holds (ISO), None without one; BadInput for a date that is not one or lies
    outside FIRST_DATE..LAST_DATE."""
    return _query_dated(params, name, parse_date, gettext("“%(name)s” in the address is not a valid date."))


def query_month(params, name):
    """The month ?name= holds (YYYY-MM), as its first day; None without one; BadInput otherwise."""
    return _query_dated(params, name, parse_month, gettext("“%(name)s” in the address is not a valid month."))


# Form fields -------------------------------------------------------------------------------------

_FULL_WIDTH = str.maketrans("０１２３４５６７８９－＋．，", "0123456789-+.,")


class IntegerField(forms.IntegerField):
    """An integer within PostgreSQL's integer unless given tighter (or bigint) bounds; ASCII digits
    only, the full-width digits of a Chinese input method read as such (int() would also take "١٢")."""

    def __init__(self, *, min_value=None, max_value=None, **kwargs):
        super().__init__(min_value=INT_MIN if min_value is None else min_value,
                         max_value=INT_MAX if max_value is None else max_value, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.translate(_FULL_WIDTH)  # a Chinese input method's １２ is 12
            if not value.isascii() or len(value) > 100:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class IdField(IntegerField):
    """A record id (1 .. bigint)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)


class DecimalField(forms.DecimalField):
    """A finite decimal that fits its column: max_digits 14 and 2 places (money) unless given."""

    def __init__(self, *, max_digits=14, decimal_places=2, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def to_python(self, value):
        if isinstance(value, str) and len(value.strip()) > 100:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def _check_day(day):
    if day is not None and not in_date_range(day):
        raise ValidationError(date_range_message(), code="date_range")


class DateField(forms.DateField):
    """A date within FIRST_DATE..LAST_DATE."""

    def to_python(self, value):
        day = super().to_python(value)
        _check_day(day)
        return day


class DateTimeField(forms.DateTimeField):
    """A moment whose (local) date lies within FIRST_DATE..LAST_DATE: checked before the time zone is
    applied, so 0001-01-01T00:00 in Shanghai never becomes a UTC moment before year 1."""

    def to_python(self, value):
        try:
            moment = super().to_python(value)
        except (OverflowError, ValueError):
            raise ValidationError(date_range_message(), code="date_range") from None
        if moment is not None:
            _check_day(moment.date())  # the date as typed, in the current time zone
        return moment


class DateRangeField(django_filters.fields.DateRangeField):
    """django-filter's from–to dates, each within FIRST_DATE..LAST_DATE."""

    def __init__(self, *args, **kwargs):
        django_filters.fields.RangeField.__init__(self, (DateField(), DateField()), *args, **kwargs)


class IdFilter(django_filters.Filter):
    """A filter on a record id (IdField)."""

    field_class = IdField


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class DateFromToRangeFilter(django_filters.DateFromToRangeFilter):
    field_class = DateRangeField


_MODEL_FIELDS = (
    (models.DateTimeField, DateTimeField),
    (models.DateField, DateField),
)


def formfield_callback(model_field, **kwargs):
    """For a ModelForm (``formfield_callback = inputs.formfield_callback``): dates and moments of the
    model within the date range. Integers and decimals of a model already carry their column's bounds."""
    for model_class, form_class in _MODEL_FIELDS:
        if isinstance(model_field, model_class) and not model_field.choices:
            kwargs.setdefault("form_class", form_class)
            break
    return model_field.formfield(**kwargs)


def reject_unstorable(value):
    """A validator for fields that clean text into something else (a list of tags): no NUL."""
    texts = value if isinstance(value, (list, tuple)) else [value]
    if any(not storable(str(text)) for text in texts):
        raise ValidationError(_("Null characters are not allowed."), code="null_characters_not_allowed")


# The request as a whole ---------------------------------------------------------------------------

def _unstorable_request(request):
    """True when the path, a query parameter, a posted field (names included) or an uploaded file's
    name holds a character PostgreSQL cannot store."""
    if not storable(request.path):
        return True
    sources = [request.GET]
    if request.method == "POST":
        sources.append(request.POST)
    for params in sources:
        for key, values in params.lists():
            if not storable(key) or any(not storable(value) for value in values):
                return True
    if request.method == "POST":
        return any(not storable(upload.name or "") for upload in request.FILES.values())
    return False


def bad_request(request, exception=None):
    """The friendly 400 page, in the site's layout and the user's language (Django's handler400, and
    what the middleware answers). Only a BadInput's message is shown: it is written for the user."""
    from django.shortcuts import render

    message = getattr(exception, "message", None) if isinstance(exception, BadInput) else None
    return render(request, "400.html", {"message": message}, status=400)


class UnstorableInputMiddleware:
    """400 for a request that carries a NUL byte (or a lone surrogate) in its path, query string or
    form data: no view ever hands one to the database. Sits after the language and time-zone
    middleware, so the page speaks the user's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refused = _unstorable_request(request)
        except BadRequest:
            raise  # too many fields, a malformed upload: Django's own 400
        if refused:
            return bad_request(request, BadInput(gettext(
                "The request holds a character that cannot be stored (a NUL byte). Remove it and try again.")))
        return self.get_response(request)
