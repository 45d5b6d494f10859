"""Normalising what people type: widths and spaces, company-name keys for duplicate checks, phone
numbers (phonenumbers, region CN) and the one search text a customer is found by.

Every customer save and every imported row goes through `search_text`, so the slow libraries have
exact fast paths: pinyin is looked up per segmented word through a cache, and mainland mobile
numbers skip phonenumbers altogether (they are taken by their form, 1[3-9] + 9 digits). crm/tests/test_text.py proves the
results identical to the plain library calls."""
import functools
import re
import unicodedata

import phonenumbers
from django.utils.translation import gettext
from pypinyin import lazy_pinyin
from pypinyin.constants import PHRASES_DICT, RE_HANS
from pypinyin.seg.mmseg import seg as _mmseg

DEFAULT_REGION = "CN"
NAME_KEY_LENGTH = 200  # the name_key columns; NFKC can lengthen a name (㈱ is "(株)")

_SPACES = re.compile(r"\s+")  # every Unicode space: the full-width one, no-break, thin, tabs, line breaks
# Control characters that are not spaces, and the invisible ones spreadsheets and web pages leave in
# text (zero-width space, word joiner, byte-order mark, direction marks): dropped from stored text.
_INVISIBLE = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u200b\u200e\u200f\u2060\ufeff]")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# The scripts written without spaces between words (Han, kana) and Hangul: in a name key a space or
# punctuation next to one of them is no word boundary.
_CJK_CHARS = ("\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
              "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f")
_KEY_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits (CJK ones too)
_SPACE_BY_CJK = re.compile(f" (?=[{_CJK_CHARS}])|(?<=[{_CJK_CHARS}]) ")
# Dropped inside a word: "McDonald's" is "McDonalds".
_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`]")
# A dot between single letters joins them: "J.P. Morgan" and "JP Morgan", "U.S." and "US".
_INITIALS_DOT = re.compile(r"\b([^\W\d_])\.(?=[^\W\d_]\b)")
# Legal forms a name key leaves out, longest first (有限责任公司 is not cut to 有限责任 by 公司).
# Chinese ones at the end of the key; Latin ones as whole words, after a space or a CJK character.
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")
_LATIN_SUFFIXES = ("co ltd", "co limited", "corporation", "company", "limited", "ltd", "inc", "corp")
_LATIN_SUFFIX = re.compile(rf"(?:^|(?<=[{_CJK_CHARS}])| )(?:{'|'.join(re.escape(s) for s in _LATIN_SUFFIXES)})$")


def clean_text(value):
    """Text as it is stored: the user's own characters (full-width brackets, punctuation and letters
    stay as written), trimmed, with any run of spaces (the full-width space, tabs, line breaks, other
    Unicode spaces) made one plain space, and control and invisible characters dropped."""
    if value is None:
        return ""
    value = str(value)
    if not value.isprintable():  # any space but " ", control or invisible character
        value = _INVISIBLE.sub("", value)
    return _SPACES.sub(" ", value).strip()


def fold_text(value):
    """`clean_text` after NFKC: full-width letters, digits and punctuation as their half-width
    forms. For keys, lookups and parsing (phones, emails, dates, amounts), never for stored text."""
    if value is None:
        return ""
    return clean_text(unicodedata.normalize("NFKC", str(value)))


def name_key(name):
    """The form two names share when they are likely the same company: width- and case-blind,
    without punctuation, and without the legal-form suffix (有限公司, 有限责任公司, Co. Ltd., Inc. …).
    Spaces and punctuation next to a CJK character are dropped ("中国 矿业 大学（北京）" and
    "中国矿业大学(北京)" are one key); between two Latin or digit words they leave one space, so
    "First Bank" and "FirstBank" stay two customers while "ABC Co., Ltd." and "ABC Co Ltd" are one."""
    key = fold_text(name).lower()
    if not key.isalnum():
        key = _INITIALS_DOT.sub(r"\1", _APOSTROPHES.sub("", key))
        key = _SPACE_BY_CJK.sub("", " ".join(_KEY_WORD.findall(key)))
    return _without_legal_form(key)[:NAME_KEY_LENGTH]


def _without_legal_form(key):
    for suffix in _COMPANY_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    suffix = _LATIN_SUFFIX.search(key)
    if suffix and suffix.start() > 0:
        return key[: suffix.start()]
    return key


class PhoneError(ValueError):
    pass


# A mainland mobile is judged by its form, not by phonenumbers' allocation tables: 11 digits 13x–19x.
# New ranges open every year (phonenumbers calls 140…, 174… "unallocated" today), and a CRM must take
# the number a customer gives. None of them starts with what CN strips as a carrier or trunk prefix.
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_E164_MAINLAND_MOBILE = re.compile(r"\+861[3-9][0-9]{9}")
_MOBILE_SEPARATORS = str.maketrans("", "", " -.()")
_FLOAT_DIGITS = re.compile(r"\d+\.0+")
# Mainland fixed lines are written nationally with the trunk 0 before the area code ("021 6234 5678").
_CN_FIXED = re.compile(phonenumbers.PhoneMetadata.metadata_for_region("CN").fixed_line.national_number_pattern)
_NOT_DIGIT = re.compile(r"\D")
# An extension written after a number: 转801, 分机 801, ext. 801, x801, #801 (after NFKC).
EXTENSION = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", re.IGNORECASE)
# How a stored number keeps its extension: RFC 3966's parameter, which phonenumbers and tel: links read.
_STORED_EXTENSION = ";ext="


def _mainland_mobile(raw):
    """The 11 digits of `raw` if it is a well-formed mainland mobile ("13812345678",
    "+86 138-1234-5678", "0086 138.1234.5678", "86…", "(+86)…"), else None (phonenumbers decides)."""
    compact = raw.translate(_MOBILE_SEPARATORS)
    if compact.startswith("+86"):
        compact = compact[3:]
    elif len(compact) == 15 and compact.startswith("0086"):
        compact = compact[4:]
    elif len(compact) == 13 and compact.startswith("86"):
        compact = compact[2:]
    if len(compact) == 11 and compact.isascii() and MAINLAND_MOBILE.fullmatch(compact):
        return compact
    return None


def is_mainland_mobile(e164):
    """Whether a stored number is a mainland mobile (by its form: +86 1[3-9] and nine digits)."""
    return bool(e164) and _E164_MAINLAND_MOBILE.fullmatch(e164) is not None


def normalise_phone(value, region=DEFAULT_REGION):
    """A phone as E.164 ("+8613812345678", "+862162345678"), or "" for an empty value.
    Accepts +86/86/0086 prefixes, spaces, dashes, dots, brackets, full-width digits, and numbers that
    a spreadsheet turned into floats ("13812345678.0"). A mainland mobile is taken by its form
    (1[3-9] + 9 digits), whatever phonenumbers' tables say; any other number must be valid to
    phonenumbers. A landline's extension ("021-6234 5678 转 801", "… ext. 801") is kept as
    "+862162345678;ext=801"; a mobile has none. Raises PhoneError for anything else."""
    raw = fold_text(value)
    if not raw:
        return ""
    if _FLOAT_DIGITS.fullmatch(raw):
        raw = raw.split(".")[0]
    if region == "CN":
        mobile = _mainland_mobile(raw)
        if mobile:
            return "+86" + mobile
    extension = EXTENSION.search(raw)
    if extension:
        main = normalise_phone(raw[:extension.start()], region)
        return with_extension(main, extension[1], raw)
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(raw) from exc
    extension, number.extension = number.extension, None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(raw)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return with_extension(e164, extension, raw) if extension else e164


def with_extension(main, extension, raw=""):
    """`main` (E.164) with `extension` as stored ("+862162345678;ext=801"). A mobile has no extension:
    PhoneError naming `raw`."""
    if not main or not extension.isdigit() or is_mainland_mobile(main) or _STORED_EXTENSION in main:
        raise PhoneError(raw or main)
    return f"{main}{_STORED_EXTENSION}{extension}"


def split_extension(e164):
    """(main number, extension or "") of a stored number."""
    main, _sep, extension = e164.partition(_STORED_EXTENSION)
    return main, extension


def display_phone(e164):
    """How a stored number is shown: national format at home ("138 1234 5678", "021 6234 5678 转 801"),
    international abroad. A mainland mobile phonenumbers does not know is still grouped 3-4-4."""
    if not e164:
        return ""
    main, extension = split_extension(e164)
    if is_mainland_mobile(main):
        shown = f"{main[3:6]} {main[6:10]} {main[10:]}"
    else:
        try:
            number = phonenumbers.parse(main, None)
        except phonenumbers.NumberParseException:
            return e164
        kind = (phonenumbers.PhoneNumberFormat.NATIONAL if number.country_code == 86
                else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        shown = phonenumbers.format_number(number, kind)
    if extension:
        shown = gettext("%(number)s ext. %(extension)s") % {"number": shown, "extension": extension}
    return shown


def phone_digits(e164):
    """The digits people type for a stored number: national ones with the trunk 0 ("02162345678"),
    without an extension."""
    if not e164:
        return ""
    if e164.__class__ is str and _STORED_EXTENSION in e164:
        e164 = split_extension(e164)[0]
    if e164.__class__ is str and e164.startswith("+86") and e164[3:].isdigit():
        if _E164_MAINLAND_MOBILE.fullmatch(e164):
            return e164[3:]
        if _CN_FIXED.fullmatch(e164, 3):
            return "0" + e164[3:]
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return _NOT_DIGIT.sub("", e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return _NOT_DIGIT.sub("", national)


# pypinyin's own "has pinyin" character class, as runs: lazy_pinyin splits text the same way.
_HANS_RUN = re.compile("(" + RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$") + "+)")
_NOT_WORD = re.compile(r"\W")


def _keep_chars(chars):
    return list(chars)


@functools.lru_cache(maxsize=200_000)
def _word_pinyin(word):
    """The pinyin of one segmented word; the same few thousand words make up most names."""
    return tuple(lazy_pinyin(word, errors=_keep_chars))


# Every prefix of a word in pypinyin's phrase dictionary: mmseg's own table, read directly.
_PREFIXES = getattr(getattr(_mmseg, "_prefix_set", None), "_set", None) or _mmseg._prefix_set
_SUFFIX_PINYIN = {}  # a short run of Chinese -> its syllables: the endings names share (科技有限公司)
_SUFFIX_LONGEST = 8
_SUFFIX_ENTRIES = 20_000


def _first_words(run):
    """The words pypinyin's mmseg (strict mode, as lazy_pinyin uses it) cuts first from `run`: its
    longest prefix that is a phrase, else its first character; or every character, when all of
    `run` is the start of some phrase but none of its prefixes is one."""
    phrase = ""
    for end in range(1, len(run) + 1):
        word = run[:end]
        if word not in _PREFIXES:
            return (phrase or run[0],)
        if word in PHRASES_DICT:
            phrase = word
    return (phrase,) if phrase else tuple(run)


def _run_syllables(run):
    """The syllables of one run of Chinese, cut word by word as mmseg cuts it. Where the cut reaches
    a short ending seen before, the ending's syllables are reused."""
    words, rest, tail = [], run, ()
    while rest:
        known = _SUFFIX_PINYIN.get(rest)
        if known is not None:
            tail = known
            break
        cut = _first_words(rest)
        words.append((rest, cut))
        rest = rest[sum(map(len, cut)):]
    for suffix, cut in reversed(words):
        for word in reversed(cut):
            tail = _word_pinyin(word) + tail
        if len(suffix) <= _SUFFIX_LONGEST and len(_SUFFIX_PINYIN) < _SUFFIX_ENTRIES:
            _SUFFIX_PINYIN[suffix] = tail
    return tail


def _pinyin_syllables(text):
    """What `lazy_pinyin(text, errors=_keep_chars)` returns, from the same pieces: runs of Chinese
    cut by pypinyin's segmenter (mmseg) and converted per word, every other character as itself."""
    if not isinstance(text, str):
        return lazy_pinyin(text, errors=_keep_chars)
    syllables = []
    for index, part in enumerate(_HANS_RUN.split(text)):
        if index % 2:
            syllables.extend(_run_syllables(part))
        else:
            syllables.extend(part)
    return syllables


def pinyin_forms(text):
    """(full pinyin, initials) of the Chinese in `text`, lower case without spaces:
    北京华信 → ("beijinghuaxin", "bjhx"). Non-Chinese characters are kept as they are."""
    syllables = [s.lower() for s in _pinyin_syllables(text) if s.strip()]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return _NOT_WORD.sub("", full), _NOT_WORD.sub("", initials)


def cjk_bigrams(text):
    """Every two-character run of Chinese in `text`, as separate words ("北京华信" → 北京 京华 华信),
    so a two-character search has whole words to match in the trigram index."""
    words = []
    for run in _CJK.findall(text):
        words.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words


@functools.lru_cache(maxsize=8192)
def _contact_words(contact):
    """A contact's name in a search text: as written (folded), its pinyin and its two-character words.
    Remembered: a list of 100,000 customers names a few thousand people (王芳, 李伟 …) over and over."""
    contact = fold_text(contact).lower()
    if not contact:
        return ()
    return (contact, *(pinyin_forms(contact) if _CJK.search(contact) else ()), *cjk_bigrams(contact))


def search_text(name, *, phones=(), emails=(), contact_names=()):
    """The lower-case text a customer is found by (see `search_term_sql`)."""
    name = fold_text(name).lower()
    full, initials = pinyin_forms(name)
    parts = [name, name.replace(" ", ""), full, initials, *cjk_bigrams(name)]
    for contact in contact_names:
        if contact:
            parts.extend(_contact_words(contact))
    parts.extend(phone_digits(p) for p in phones if p)
    parts.extend(fold_text(e).lower() for e in emails if e)
    # Padded with spaces so that the first and last words have word boundaries too.
    return " " + " ".join(dict.fromkeys(p for p in parts if p)) + " "


def search_pattern(term):
    """The LIKE pattern for a search term, or None for an empty one. Three characters or more match
    anywhere; shorter terms match the start of a word (two Chinese characters match a stored
    two-character word), which the trigram index can answer without reading every row."""
    term = fold_text(term).lower()
    if not term:
        return None
    compact = term.replace(" ", "")
    digits = re.sub(r"[\s\-()+]", "", term)
    if digits.isdigit():
        compact = digits
        if compact.startswith("86") and len(compact) == 13:
            compact = compact[2:]
    escaped = compact.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(compact) >= 3:
        return f"%{escaped}%"
    if _CJK.fullmatch(compact) and len(compact) == 2:
        return f"% {escaped} %"
    return f"% {escaped}%"
