"""Normalising what people type: widths and spaces, company-name keys for duplicate checks, phone
numbers (phonenumbers, region CN) and the one search text a customer is found by."""
import re
import unicodedata

import phonenumbers
from pypinyin import lazy_pinyin

DEFAULT_REGION = "CN"

_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Punctuation and symbols of both widths, dropped from name keys.
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
# Longest first, so 有限责任公司 is not cut to 有限责任 by 公司.
_COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司",
                     "coltd", "colimited", "limited", "ltd", "inc", "corp")


def clean_text(value):
    """Full-width ASCII to half-width, any run of spaces (the full-width space too) to one, trimmed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    return _SPACES.sub(" ", value).strip()


def name_key(name):
    """The form two names share when they are likely the same company: width-, case-, space- and
    punctuation-blind, and without the legal-form suffix (有限公司, 有限责任公司, Ltd …)."""
    key = _PUNCT.sub("", clean_text(name).lower())
    for suffix in _COMPANY_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


class PhoneError(ValueError):
    pass


def normalise_phone(value, region=DEFAULT_REGION):
    """A phone as E.164 ("+8613812345678", "+862162345678"), or "" for an empty value.
    Accepts +86/86/0086 prefixes, spaces, dashes, brackets, full-width digits, and numbers that a
    spreadsheet turned into floats ("13812345678.0"). Raises PhoneError for anything else."""
    raw = clean_text(value)
    if not raw:
        return ""
    if re.fullmatch(r"\d+\.0+", raw):
        raw = raw.split(".")[0]
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164):
    """How a stored number is shown: national format at home ("138 1234 5678", "021 6234 5678"),
    international abroad."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(e164):
    """The digits people type for a stored number: national ones with the trunk 0 ("02162345678")."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def pinyin_forms(text):
    """(full pinyin, initials) of the Chinese in `text`, lower case without spaces:
    北京华信 → ("beijinghuaxin", "bjhx"). Non-Chinese characters are kept as they are."""
    syllables = [s.lower() for s in lazy_pinyin(text, errors=lambda chars: list(chars)) if s.strip()]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return re.sub(r"\W", "", full), re.sub(r"\W", "", initials)


def cjk_bigrams(text):
    """Every two-character run of Chinese in `text`, as separate words ("北京华信" → 北京 京华 华信),
    so a two-character search has whole words to match in the trigram index."""
    words = []
    for run in _CJK.findall(text):
        words.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words


def search_text(name, *, phones=(), emails=(), contact_names=()):
    """The lower-case text a customer is found by (see `search_term_sql`)."""
    name = clean_text(name).lower()
    full, initials = pinyin_forms(name)
    parts = [name, name.replace(" ", ""), full, initials, *cjk_bigrams(name)]
    for contact in contact_names:
        contact = clean_text(contact).lower()
        if contact:
            parts.append(contact)
            parts.extend(cjk_bigrams(contact))
    parts.extend(phone_digits(p) for p in phones if p)
    parts.extend(clean_text(e).lower() for e in emails if e)
    # Padded with spaces so that the first and last words have word boundaries too.
    return " " + " ".join(dict.fromkeys(p for p in parts if p)) + " "


def search_pattern(term):
    """The LIKE pattern for a search term, or None for an empty one. Three characters or more match
    anywhere; shorter terms match the start of a word (two Chinese characters match a stored
    two-character word), which the trigram index can answer without reading every row."""
    term = clean_text(term).lower()
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
