"""Cleaning one cell of a legacy customer list: `clean_value(kind, raw, context)` turns what a
spreadsheet holds (text, numbers, dates, the odd float phone number) into the value a field stores,
or raises CleanError with a short reason that names the offending value.

`kind` is the ImportField kind (crm/imports/fields.py). An empty cell, or one of the usual "nothing
here" markers (-, /, 无, N/A, NULL …), is None for every kind: whether a field is required is the
import's business, not the cleaner's. An import cleans every cell of up to 100,000 rows, so each
cleaner takes a few microseconds in the common case: module-level regexes, the plain forms first.
"""
import datetime
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.imports.fields import heading_key
from crm.lib.text import (
    PhoneError,
    clean_text,
    fold_text,
    is_mainland_mobile,
    normalise_phone,
    phone_digits,
    split_extension,
    with_extension,
)
from crm.models import CustomerKind, CustomerStatus, Tier

AMBIGUOUS = object()  # a lookup word that names more than one entry
TAG_MAX_LENGTH = 30
SHOWN_LENGTH = 40
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2100, 12, 31)
MAX_AMOUNT = Decimal(10) ** 12  # DecimalField(max_digits=14, decimal_places=2)

_EMPTY_MARKERS = frozenset({"", "-", "—", "--", "——", "/", "无", "n/a", "null"})


class CleanError(ValueError):
    """A cell that cannot be imported. `reason` is the translated reason in the active language
    (like ValidationError, the message is formatted when read, so a task can store the parts)."""

    def __init__(self, message, **params):
        super().__init__(message, params)
        self.message = message
        self.params = params

    @property
    def reason(self):
        text = str(self.message)
        return text % self.params if self.params else text

    def __str__(self):
        return self.reason


class CleanWarning(CleanError):
    """A cell its row can do without: an optional date nobody can read or outside the years we take.
    The staging keeps the row without the cell and notes the reason on it (crm.services.imports.cleaning)."""


class UnknownChoice(CleanWarning):
    """A picklist word the list does not have (or names more than one entry): the importer decides per
    value whether it is added to the list, read as an entry there is, or left empty."""


class UnknownOwner(CleanError):
    """The owner names no user; the import decides whether the customer goes to the pool instead."""


@dataclass
class CleanContext:
    tier_map: dict  # word_key(word) -> "A"/"B"/"C"
    industries: dict  # word_key(label, English label or code) -> Choice id (or AMBIGUOUS)
    sources: dict  # the same for sources
    owners: dict  # word_key(username or display name), E.164 or 11-digit mobile -> user id (or AMBIGUOUS)
    today: datetime.date | None = None  # for 今天/昨天/明天; the local date when None


# Lookup words ---------------------------------------------------------------------------------------------

# The same normalisation as column headings: width-, case-, space- and punctuation-blind. Cached,
# because a column holds the same few words over and over.
word_key = functools.lru_cache(maxsize=8192)(heading_key)


def _words(mapping):
    """{word_key(word): value} from {value: (word, ...)}."""
    return {word_key(word): value for value, words in mapping.items() for word in words}


_TIER_WORDS = {
    Tier.A.value: ("A", "A类", "A级", "A类客户", "A级客户", "重点", "重点客户", "战略客户", "VIP", "大客户", "key",
                   "A (key)", "A 重点", "hot"),
    Tier.B.value: ("B", "B类", "B级", "B类客户", "B级客户", "普通", "普通客户", "一般", "一般客户", "regular",
                   "B (regular)", "B 普通", "warm"),
    Tier.C.value: ("C", "C类", "C级", "C类客户", "C级客户", "非优先", "低", "潜在小客户", "low priority", "low",
                   "C (low priority)", "C 非优先", "cold"),
}
_STATUSES = _words({
    CustomerStatus.PROSPECT.value: ("潜在", "潜在客户", "新客户", "prospect", "new"),
    CustomerStatus.FOLLOWING.value: ("跟进中", "跟进", "意向", "意向客户", "接洽中", "following", "following up",
                                     "in progress", "working"),
    CustomerStatus.WON.value: ("已成交", "成交", "成交客户", "签约", "已签约", "老客户", "won", "customer",
                               "closed won"),
    CustomerStatus.LOST.value: ("流失", "已流失", "流失客户", "丢失", "lost", "closed lost", "churned"),
})
_KINDS = _words({
    CustomerKind.COMPANY.value: ("企业", "公司", "企业客户", "company", "business", "organization", "organisation"),
    CustomerKind.PERSON.value: ("个人", "个体", "个体户", "个人客户", "person", "individual"),
    CustomerKind.GOVERNMENT.value: ("政府", "政府机构", "政府机关", "机关", "事业单位", "学校", "医院", "government",
                                    "government body",
                                    "public"),
})


def default_tier_map():
    """{word_key(word): tier} for the tier words legacy lists use (A类, 重点客户, VIP, 普通, 非优先 …)."""
    return _words(_TIER_WORDS)


def _lookup_table(*classes):
    """One {key: id} from classes of (key, id) pairs, later classes winning. Within a class a key
    that names two ids maps to AMBIGUOUS."""
    table = {}
    for pairs in classes:
        found = {}
        for key, pk in pairs:
            if key:
                found[key] = pk if found.get(key, pk) == pk else AMBIGUOUS
        table.update(found)
    return table


def _choice_table(entries):
    entries = list(entries)
    return _lookup_table(
        ((word_key(code or ""), pk) for pk, code, _label, _label_en in entries),
        ((word_key(label_en or ""), pk) for pk, _code, _label, label_en in entries),
        ((word_key(label or ""), pk) for pk, _code, label, _label_en in entries),
    )


def _mobile_keys(pk, mobile):
    try:
        e164 = normalise_phone(mobile)
    except PhoneError:
        return []
    return [(e164, pk), (phone_digits(e164), pk)] if e164 else []


def _owner_table(users):
    """Usernames win over mobiles, mobiles over display names."""
    users = list(users)
    return _lookup_table(
        ((word_key(display_name or ""), pk) for pk, _username, _mobile, display_name in users),
        (pair for pk, _username, mobile, _display_name in users for pair in _mobile_keys(pk, mobile)),
        ((word_key(username or ""), pk) for pk, username, _mobile, _display_name in users),
    )


def context_from_lists(*, industries, sources, users, tier_map=None, today=None):
    """A CleanContext from plain lists: industries and sources as (id, code, label, label_en), users
    as (id, username, mobile, display_name). `tier_map` ({word: tier}) adds to the default words."""
    tiers = default_tier_map()
    tiers.update({word_key(word): tier for word, tier in (tier_map or {}).items()})
    return CleanContext(tier_map=tiers, industries=_choice_table(industries), sources=_choice_table(sources),
                        owners=_owner_table(users), today=today)


# The entry point ------------------------------------------------------------------------------------------

def clean_value(kind, raw, context, *, max_length=None):
    """None for an empty cell; the cleaned value; or raise CleanError(reason)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw or (len(raw) <= 4 and _is_empty_marker(raw)):
            return None
    elif isinstance(raw, float) and raw != raw:  # NaN, as pandas gives an empty cell
        return None
    try:
        cleaner = _CLEANERS[kind]
    except KeyError:
        raise ValueError(f"unknown import field kind: {kind!r}") from None
    return cleaner(raw, context, max_length)


class ColumnCleaner:
    """`clean_value` for one column of a sheet, remembering what each value it has seen came to.

    A legacy list repeats the same few words down a column (tiers, types, industries, owners,
    provinces, dates), so most cells are a dictionary lookup. A column of mostly different values
    (names, phones, addresses) stops remembering after `probe` cells, so memory stays flat.
    `convert` is applied to a cleaned value before it is remembered (say, a date to its ISO text).
    """

    __slots__ = ("kind", "context", "max_length", "convert", "memo", "probe", "hits", "misses")

    def __init__(self, kind, context, *, max_length=None, convert=None, probe=2000):
        if kind not in _CLEANERS:
            raise ValueError(f"unknown import field kind: {kind!r}")
        self.kind, self.context, self.max_length, self.convert = kind, context, max_length, convert
        # Tags are lists (mutable), and a column of names is all different: neither is remembered.
        self.memo = None if kind in ("tags", "name") else {}
        self.probe, self.hits, self.misses = probe, 0, 0

    def __call__(self, raw):
        memo = self.memo
        if memo is None:
            return self._clean(raw)
        # 1, 1.0 and True are equal keys; their cleaned values need not be.
        key = raw if raw.__class__ is str else (raw.__class__, raw)
        try:
            found = memo[key]
        except KeyError:
            pass
        except TypeError:  # an unhashable cell value
            return self._clean(raw)
        else:
            self.hits += 1
            if found.__class__ is _Refused:
                raise found.error_class(found.message, **found.params)
            return found
        self.misses += 1
        if self.misses == self.probe and self.hits < self.misses:
            self.memo = None  # mostly different values: stop remembering
        try:
            value = self._clean(raw)
        except CleanError as exc:
            memo[key] = _Refused(exc.__class__, exc.message, exc.params)
            raise
        memo[key] = value
        return value

    def _clean(self, raw):
        value = clean_value(self.kind, raw, self.context, max_length=self.max_length)
        return self.convert(value) if self.convert and value is not None else value


@dataclass(frozen=True, slots=True)
class _Refused:
    error_class: type
    message: object
    params: dict


def _is_empty_marker(text):
    return text in _EMPTY_MARKERS or unicodedata.normalize("NFKC", text).strip().lower() in _EMPTY_MARKERS


def _shown(value):
    """The value as a reason quotes it: one line, at most ~40 characters."""
    text = clean_text(value)
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH - 1] + "…"


def _is_number(raw):
    return isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool)


def _as_text(raw):
    """A cell as one clean line, in the writer's own characters (full-width brackets stay): a whole
    number from a number cell without ".0", a date as ISO."""
    if isinstance(raw, str):
        return clean_text(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat() if raw.time() == datetime.time() else raw.isoformat(" ")
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    return clean_text(raw)


def _as_folded(raw):
    """`_as_text` with full-width letters, digits and punctuation made half-width: for the cells that
    are read (emails, dates, amounts, tags, web addresses), never for text stored as written."""
    return fold_text(_as_text(raw))


def _check_length(text, max_length):
    if max_length is not None and len(text) > max_length:
        raise CleanError(_("“%(value)s” is longer than %(limit)s characters."), value=_shown(text), limit=max_length)
    return text


# Text -----------------------------------------------------------------------------------------------------

def _clean_text(raw, context, max_length):
    return _check_length(_as_text(raw), max_length) or None


def _clean_url(raw, context, max_length):
    return _check_length(_as_folded(raw), max_length) or None


# Phones ---------------------------------------------------------------------------------------------------

# phonenumbers' own CN fixed-line pattern. A number written "0" + area code + local number that matches
# it is what phonenumbers makes "+86" + the rest (the trunk 0 is the only prefix it strips here);
# crm/tests/test_import_clean.py compares the two. Saves ~20 µs per landline.
_CN_FIXED_LINE = re.compile(phonenumbers.PhoneMetadata.metadata_for_region("CN").fixed_line.national_number_pattern)
_LANDLINE_PUNCTUATION = str.maketrans("", "", " -()")
_SCIENTIFIC = re.compile(r"([0-9])\.([0-9]+)[eE]\+?([0-9]{1,2})")
# "021-62345678-123": a short last group after a landline is its extension.
_TRAILING_GROUP = re.compile(r"[\s-]+([0-9]{1,5})$")
_PHONE_LIST = re.compile(r"\s*[,;/、|，；｜／]\s*")  # either width: the raw cell is not NFKC'd yet
_MOST_SPACED_PARTS = 12  # a cell of more words than this is not a few numbers written with spaces


class PhoneList(tuple):
    """The numbers one cell holds, in the order written ("13812345678/021-62345678" → two), each as
    E.164. The row's cleaner (crm.services.imports.cleaning) gives each number a field or the notes."""

    __slots__ = ()


def _clean_phone(raw, context, max_length):
    """E.164 (a landline's extension kept as ";ext=801"), a PhoneList when the cell holds several
    numbers, or CleanError. The plain forms never reach phonenumbers: "0…"/"(0…)" landlines match its
    fixed-line pattern here, mainland mobiles are taken by their form in normalise_phone."""
    if isinstance(raw, float):
        text = str(int(raw)) if raw.is_integer() else repr(raw)
    else:
        text = raw if isinstance(raw, str) else str(raw)
    if text[:1] in "0(":
        landline = _plain_landline(fold_text(text))
        if landline:
            return landline
    if _PHONE_LIST.search(text):
        # Before the whole cell: phonenumbers would keep "a;b" as a with extension b.
        found = _listed_phones(fold_text(text))
        if found:
            return found
    try:
        return normalise_phone(text)
    except PhoneError:
        text = fold_text(text)
    try:
        return _clean_odd_phone(text)
    except CleanError:
        found = _spaced_phones(text)
        if not found:
            raise
        return PhoneList(found) if len(found) > 1 else found[0]


def _plain_landline(text):
    """E.164 for "021-62345678", "(0571) 8888 6666" and the like, or None (normalise_phone decides)."""
    compact = text.translate(_LANDLINE_PUNCTUATION)
    if (compact[:1] == "0" and compact[1:2] != "0" and compact.isascii() and compact.isdigit()
            and _CN_FIXED_LINE.fullmatch(compact, 1)):
        return "+86" + compact[1:]
    return None


def _single_phone(text, *, trailing_group=True):
    """E.164 of `text` as one number, or None."""
    if text[:1] in "0(":
        landline = _plain_landline(text)
        if landline:
            return landline
    try:
        return normalise_phone(text) or None
    except PhoneError:
        pass
    try:
        return _clean_odd_phone(text, trailing_group=trailing_group)
    except CleanError:
        return None


def _listed_phones(text):
    """A PhoneList of the numbers in a cell that separates them with / , ; 、 or | (each part may be
    several numbers written with spaces), its one number if the parts repeat it, or None when a part
    is no number (then the cell is read as one number: "021-62345678;123" has an extension)."""
    numbers = []
    for part in _PHONE_LIST.split(text):
        if not part:
            continue
        one = _single_phone(part)
        found = [one] if one else _spaced_phones(part)
        if not found:
            return None
        numbers.extend(found)
    numbers = list(dict.fromkeys(numbers))
    if len(numbers) > 1:
        return PhoneList(numbers)
    return numbers[0] if numbers else None


def _spaced_phones(text):
    """The numbers of a cell that separates them with spaces only ("13812345678 021 6234 5678"): from
    the left, the longest run of words that is one number, then the next. None unless every word
    belongs to a number. Never the trailing-group extension here: "021-62345678 138 1234 5678" is two
    numbers, not 021-62345678 extension 138."""
    words = text.split()
    if not 1 < len(words) <= _MOST_SPACED_PARTS:
        return None
    numbers, start = [], 0
    while start < len(words):
        for end in range(len(words), start, -1):
            one = _single_phone(" ".join(words[start:end]), trailing_group=False)
            if one:
                numbers.append(one)
                start = end
                break
        else:
            return None
    return list(dict.fromkeys(numbers))


def _clean_odd_phone(text, *, trailing_group=True):
    """The rare forms: scientific notation, a landline's extension written "-123" or " 123"."""
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        return _phone_from_scientific(text, scientific)
    trailing = _TRAILING_GROUP.search(text) if trailing_group else None
    if trailing:
        main = _phone_or_none(text[:trailing.start()])
        if main and not _is_mobile(main):
            try:
                return with_extension(main, trailing[1], text)
            except PhoneError:
                pass
    return _invalid_phone(text)


def _phone_from_scientific(text, match):
    """Excel shows long numbers as 1.3812345678E+10; all eleven digits must still be there."""
    digits, exponent = match[1] + match[2], int(match[3])
    if len(digits) <= exponent:
        raise CleanError(_("“%(value)s” lost digits in the spreadsheet (scientific notation); format the column "
                           "as text and export again."), value=_shown(text))
    if digits[exponent + 1:].strip("0"):
        return _invalid_phone(text)
    return _phone_or_none(digits[:exponent + 1]) or _invalid_phone(text)


def _phone_or_none(text):
    try:
        return normalise_phone(text) or None
    except PhoneError:
        return None


def _is_mobile(e164):
    """A mainland mobile by its form, or a number phonenumbers knows as a mobile (+852 9…)."""
    if is_mainland_mobile(e164):
        return True
    number = phonenumbers.parse(split_extension(e164)[0], None)
    return phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE


def _invalid_phone(text):
    raise CleanError(_("“%(value)s” is not a valid phone number."), value=_shown(text))


# Emails ---------------------------------------------------------------------------------------------------

# A strict subset of what validate_email accepts (dot-atom user, LDH labels, a letter TLD): the usual
# address needs no more; anything else goes to validate_email.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_NAMED_EMAIL = re.compile(r".*<([^<>]*)>")  # 张三 <zhang@example.com>
_EMAIL_SEPARATORS = re.compile(r"[\s,;]+")


def _clean_email(raw, context, max_length):
    text = _as_folded(raw).lower()
    if _PLAIN_EMAIL.fullmatch(text):
        return _check_length(text, max_length)
    named = _NAMED_EMAIL.fullmatch(text)
    if named:
        text = named[1].strip()
    text = text.removeprefix("mailto:")
    parts = [part for part in _EMAIL_SEPARATORS.split(text) if part]
    if len(parts) > 1:
        raise CleanError(_("“%(value)s” holds more than one email address; keep one."), value=_shown(text))
    text = parts[0] if parts else ""
    try:
        validate_email(text)
    except ValidationError:
        raise CleanError(_("“%(value)s” is not a valid email address."), value=_shown(text)) from None
    return _check_length(text, max_length)


# Dates ----------------------------------------------------------------------------------------------------

_TIME = r"(?:(?:\s+|T)[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:\s*(?:Z|[+-][0-9]{2}:?[0-9]{2}|[ap]m))?)?"
_DATE_SEPARATED = re.compile(r"([0-9]{4})([-/.])([0-9]{1,2})\2([0-9]{1,2})" + _TIME, re.IGNORECASE)
_DATE_CHINESE = re.compile(r"([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?" + _TIME, re.IGNORECASE)
_DATE_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_SERIAL_TEXT = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "today": 0, "昨天": -1, "昨日": -1, "yesterday": -1, "明天": 1,
                  "明日": 1, "tomorrow": 1}
# Excel's 1900 date system: serial 1 is 1900-01-01, and it counts a 29 February 1900 that never was (60).
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_EXCEL_LAST_SERIAL = (LAST_DATE - _EXCEL_EPOCH).days


def _clean_date(raw, context, max_length):
    if isinstance(raw, datetime.datetime):
        return _in_range(raw.date(), raw)
    if isinstance(raw, datetime.date):
        return _in_range(raw, raw)
    if _is_number(raw):
        return _date_from_number(raw, raw)
    text = _as_folded(raw)
    match = _DATE_SEPARATED.fullmatch(text)
    if match:
        return _date(text, match[1], match[3], match[4])
    match = _DATE_CHINESE.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if match:
        return _date(text, *match.groups()[:3])
    if _SERIAL_TEXT.fullmatch(text):
        return _date_from_number(float(text), text)
    offset = _RELATIVE_DAYS.get(text.lower())
    if offset is not None:
        return (context.today or timezone.localdate()) + datetime.timedelta(days=offset)
    return _invalid_date(raw)


def _date(raw, year, month, day):
    try:
        value = datetime.date(int(year), int(month), int(day))
    except ValueError:
        return _invalid_date(raw)
    return _in_range(value, raw)


def _date_from_number(number, raw):
    """An Excel serial (44260 → 2021-03-05), or a yyyymmdd number (20210305)."""
    try:
        number = float(number)
    except (ValueError, OverflowError):  # Decimal("sNaN") will not even become a float
        return _invalid_date(raw)
    if not math.isfinite(number):
        return _invalid_date(raw)
    if number == int(number) and 19000101 <= number <= 21001231:
        whole = int(number)
        return _date(raw, whole // 10000, whole // 100 % 100, whole % 100)
    serial = int(number)
    if not 1 <= serial <= _EXCEL_LAST_SERIAL or serial == 60:
        return _invalid_date(raw)
    return _EXCEL_EPOCH + datetime.timedelta(days=serial if serial > 60 else serial + 1)


def _in_range(value, raw):
    if not FIRST_DATE <= value <= LAST_DATE:
        raise CleanWarning(_("“%(value)s” is outside the years 1900–2100."), value=_shown(raw))
    return value


def _invalid_date(raw):
    raise CleanWarning(_("“%(value)s” is not a valid date."), value=_shown(raw))


# Amounts --------------------------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"([+-]?)\s*(?:¥|rmb|cny|人民币)?\s*([+-]?)\s*"  # a sign before or after the currency
    r"((?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+)"  # 1,234.50 / 1234.5 / .5
    r"\s*(万|亿|千|w|k)?\s*(?:元|块|rmb|cny|人民币)?",
    re.IGNORECASE)
_UNITS = {None: 1, "千": 1000, "k": 1000, "万": 10000, "w": 10000, "亿": 100000000}
_CENT = Decimal("0.01")


def _clean_amount(raw, context, max_length):
    if isinstance(raw, Decimal):
        amount = raw
    elif _is_number(raw):
        amount = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    else:
        amount = _amount_from_text(_as_folded(raw))
    if not amount.is_finite():
        return _invalid_amount(raw)
    if abs(amount) >= MAX_AMOUNT:
        raise CleanError(_("“%(value)s” is too large an amount."), value=_shown(raw))
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _amount_from_text(text):
    """1,234.50 / ¥12,000 / 12000元 / 1.5万元 / 3亿 as a Decimal."""
    match = _AMOUNT.fullmatch(text)
    if not match or (match[1] and match[2]):
        return _invalid_amount(text)
    amount = Decimal(match[3].replace(",", "")) * _UNITS[match[4] and match[4].lower()]
    return -amount if "-" in (match[1], match[2]) else amount


def _invalid_amount(raw):
    raise CleanError(_("“%(value)s” is not an amount."), value=_shown(raw))


# Picklists, words and people ------------------------------------------------------------------------------

def _key_of(raw):
    return word_key(_as_text(raw))


def _clean_tier(raw, context, max_length):
    return _choice(context.tier_map, raw, _("“%(value)s” is not a known tier."))


def _clean_status(raw, context, max_length):
    return _choice(_STATUSES, raw, _("“%(value)s” is not a known status."))


def _clean_kind(raw, context, max_length):
    return _choice(_KINDS, raw, _("“%(value)s” is not a known customer type."))


def _choice(table, raw, unknown):
    """The value `table` holds for the word in `raw`, else CleanError(`unknown`) naming it."""
    pk = table.get(_key_of(raw))
    if pk is None:
        raise UnknownChoice(unknown, value=_shown(raw))
    if pk is AMBIGUOUS:
        raise UnknownChoice(_("“%(value)s” matches more than one picklist entry."), value=_shown(raw))
    return pk


def _clean_industry(raw, context, max_length):
    return _choice(context.industries, raw, _("“%(value)s” is not in the industry picklist."))


def _clean_source(raw, context, max_length):
    return _choice(context.sources, raw, _("“%(value)s” is not in the source picklist."))


def _clean_owner(raw, context, max_length):
    text = _as_text(raw)
    pk = context.owners.get(word_key(text))
    if pk is None and sum(c.isdigit() for c in text) >= 7:
        pk = context.owners.get(_phone_or_none(text))
    if pk is AMBIGUOUS:
        raise CleanError(_("More than one user is called “%(value)s”."), value=_shown(text))
    if pk is None:
        raise UnknownOwner(_("There is no user “%(value)s”."), value=_shown(text))
    return pk


# Tags -----------------------------------------------------------------------------------------------------

_TAG_SEPARATORS = re.compile(r"[,;、/|\s]+")  # after NFKC: ，→, ；→; ／→/ ｜→|


def _clean_tags(raw, context, max_length):
    tags = list(dict.fromkeys(tag for tag in _TAG_SEPARATORS.split(_as_folded(raw)) if tag))
    for tag in tags:
        if len(tag) > TAG_MAX_LENGTH:
            raise CleanError(_("The tag “%(value)s” is longer than %(limit)s characters."), value=_shown(tag),
                             limit=TAG_MAX_LENGTH)
    return tags or None


_CLEANERS = {
    "name": _clean_text,
    "text": _clean_text,
    "url": _clean_url,
    "phone": _clean_phone,
    "email": _clean_email,
    "date": _clean_date,
    "amount": _clean_amount,
    "tier": _clean_tier,
    "status": _clean_status,
    "kind": _clean_kind,
    "industry": _clean_industry,
    "source": _clean_source,
    "owner": _clean_owner,
    "tags": _clean_tags,
}
