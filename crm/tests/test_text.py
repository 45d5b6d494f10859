"""crm.lib.text: widths, name keys, phones, pinyin and the search text; and proof that the fast paths
(cached per-word pinyin, the mainland-mobile shortcut) give exactly what the plain library calls gave
(phones: what the rule written plainly gives, mainland mobiles being taken by their form)."""
import random
import re
import unicodedata

import phonenumbers
import pytest
from django.utils import translation
from pypinyin import lazy_pinyin

from crm.lib import text
from crm.lib.text import (
    PhoneError,
    clean_text,
    display_phone,
    fold_text,
    name_key,
    normalise_phone,
    phone_digits,
    pinyin_forms,
    search_text,
)

# The reference: crm/text.py before the fast paths, verbatim ------------------------------------------------

_REF_SPACES = re.compile(r"\s+")
_REF_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def ref_clean_text(value):
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    return _REF_SPACES.sub(" ", value).strip()


def ref_normalise_phone(value, region="CN"):
    """The rule written plainly: a mainland mobile by its form (1[3-9] + 9 digits after an optional
    +86/0086/86 and any spaces, dashes, dots, brackets), else a number phonenumbers calls valid, a
    landline's extension (转/分机/ext/x/#, or phonenumbers' own) kept as ";ext="."""
    raw = ref_clean_text(value)
    if not raw:
        return ""
    if re.fullmatch(r"\d+\.0+", raw):
        raw = raw.split(".")[0]
    mobile = re.fullmatch(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})", re.sub(r"[ \-.()]", "", raw))
    if mobile and mobile[1].isascii():
        return "+86" + mobile[1]
    written = re.search(r"\s*(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6})$", raw, re.IGNORECASE)
    if written:
        main, extension = ref_normalise_phone(raw[:written.start()], region), written[1]
    else:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise PhoneError(raw) from exc
        extension, number.extension = number.extension, None
        if not phonenumbers.is_valid_number(number):
            raise PhoneError(raw)
        main = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if not extension:
            return main
    if not extension.isdigit() or re.fullmatch(r"\+861[3-9][0-9]{9}", main) or ";" in main:
        raise PhoneError(raw)
    return f"{main};ext={extension}"


def ref_phone_digits(e164):
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return re.sub(r"\D", "", national)


def ref_pinyin_forms(text):
    syllables = [s.lower() for s in lazy_pinyin(text, errors=lambda chars: list(chars)) if s.strip()]
    full = "".join(syllables)
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum())
    return re.sub(r"\W", "", full), re.sub(r"\W", "", initials)


def ref_cjk_bigrams(text):
    words = []
    for run in _REF_CJK.findall(text):
        words.extend(run[i:i + 2] for i in range(len(run) - 1))
    return words


def ref_search_text(name, *, phones=(), emails=(), contact_names=()):
    name = ref_clean_text(name).lower()
    full, initials = ref_pinyin_forms(name)
    parts = [name, name.replace(" ", ""), full, initials, *ref_cjk_bigrams(name)]
    for contact in contact_names:
        contact = ref_clean_text(contact).lower()
        if contact:
            parts.append(contact)
            if _REF_CJK.search(contact):  # a Chinese contact name is found by its pinyin too
                parts.extend(ref_pinyin_forms(contact))
            parts.extend(ref_cjk_bigrams(contact))
    parts.extend(ref_phone_digits(p) for p in phones if p)
    parts.extend(ref_clean_text(e).lower() for e in emails if e)
    return " " + " ".join(dict.fromkeys(p for p in parts if p)) + " "


def outcome(function, value):
    """The result, or the exception type and its text (so that a changed PhoneError shows too)."""
    try:
        return function(value)
    except Exception as exc:  # noqa: BLE001 - any difference counts
        return type(exc).__name__, str(exc)


# Generated inputs ---------------------------------------------------------------------------------------

CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "重庆", "武汉", "西安", "长沙", "厦门",
          "青岛", "大连", "沈阳", "哈尔滨", "郑州", "济南", "合肥", "乌鲁木齐", "呼和浩特", "石家庄", "银川"]
WORDS = ["华信", "科技", "信息", "网络", "软件", "贸易", "物流", "实业", "发展", "银行", "重工", "长城", "行长",
         "音乐", "快乐", "会计", "朝阳", "重庆火锅", "还款", "中国", "电子商务", "医疗器械", "教育咨询", "广告",
         "传媒", "建筑工程", "新能源", "汽车", "餐饮管理", "便利店", "和平", "了解", "数据", "智能", "单位",
         "乐器", "行业", "长大", "银行行长", "觉得", "都市", "曾经", "传奇", "朴素", "仇人", "区域", "〇", "兀"]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司", "集团", "分公司", "事务所", "中心", "研究院", "", ""]
OTHER = ["ABC", "IBM", "3M", "(", ")", "（", "）", "·", "-", " ", "  ", "\u3000", "&", "Co., Ltd.", "İstanbul",
         "ＡＢＣ", "１２３", "é", "ß", "Σ", "カタカナ", "한국", "😀", "_", "，", "。", "/", "\t", "\U00020000",
         "\uf900", "\ufa18", "\ue815", "𠮷野家", "ǅ", "½", "Ⅻ", "x", "07", "."]


def random_name(rng):
    pieces = [rng.choice(CITIES) if rng.random() < 0.7 else ""]
    pieces += [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    pieces += [rng.choice(OTHER) for _ in range(rng.choice([0, 0, 1, 2, 3]))]
    if rng.random() < 0.2:
        rng.shuffle(pieces)
    pieces.append(rng.choice(SUFFIXES))
    return "".join(pieces)


def random_mobile_digits(rng):
    """Eleven digits 130…–199…, valid or not, and now and then one digit more or less."""
    digits = f"1{rng.randint(30, 99)}{rng.randrange(10 ** 8):08d}"
    if rng.random() < 0.05:
        digits = digits[:-1] if rng.random() < 0.5 else digits + str(rng.randrange(10))
    return digits


def dressed(rng, digits):
    """A number as people and spreadsheets write it."""
    prefix = rng.choice(["", "", "+86", "+86 ", "86", "0086", "+86-", "(+86)", "+ 86", "0", "+860", "８６"])
    body = rng.choice([
        digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        digits + ".0", digits + "-", "-" + digits, digits.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f"{digits[:3]}\u3000{digits[3:]}", f"({digits[:3]}){digits[3:]}", digits + " 转12",
    ])
    return prefix + body


def random_phone(rng):
    kind = rng.random()
    if kind < 0.6:
        return dressed(rng, random_mobile_digits(rng))
    if kind < 0.85:
        area = rng.choice(["010", "021", "020", "0571", "0755", "0512", "0991", "0898", "123", "0"])
        local = str(rng.randrange(10 ** 6, 10 ** 9))
        return rng.choice([f"{area}-{local}", f"({area}){local}", f"{area} {local}", f"+86 {area[1:]} {local}",
                           f"{area}{local}", f"{area}-{local}-{rng.randint(1, 999)}"])
    return rng.choice(["", " ", "abc", "123", "+", "+86", "86", "+1 415 555 2671", "+44 20 7946 0958", "1" * 11,
                       "１３８", "13812345678/13912345678", "tel:13812345678", "1.3812345678E10", "+852 9123 4567",
                       "400-800-8888", "95588", "+8613812345678x12", str(rng.random())])


@pytest.fixture(scope="module")
def rng():
    return random.Random(20240305)


# The fast paths give what the libraries gave ------------------------------------------------------------

def test_it_gives_the_same_pinyin_as_plain_lazy_pinyin(rng):
    names = [random_name(rng) for _ in range(2500)]
    names += ["", " ", "a", "华", "ABC", "北京", *OTHER, *WORDS, *(w.lower() for w in OTHER)]
    for name in names:
        assert pinyin_forms(name) == ref_pinyin_forms(name), name
        assert pinyin_forms(name.lower()) == ref_pinyin_forms(name.lower()), name


def test_it_gives_the_same_phones_as_plain_phonenumbers(rng):
    values = [random_phone(rng) for _ in range(4000)]
    values += [13812345678, 13812345678.0, 8613812345678, None, 0]
    for value in values:
        normalised = outcome(normalise_phone, value)
        assert normalised == outcome(ref_normalise_phone, value), value
        if isinstance(normalised, str):
            assert phone_digits(normalised) == ref_phone_digits(normalised), value


def test_it_gives_the_same_digits_for_any_stored_text(rng):
    stored = [f"+86{random_mobile_digits(rng)}" for _ in range(2000)]
    stored += ["+862162345678", "+14155552671", "+86", "+8613812345678 ", "13812345678", "", "abc", "+86１３８12345678"]
    # Any ten or eleven digits after +86: fixed lines of every area code, service numbers (400/800/95…), junk.
    stored += [f"+86{rng.randint(10**9, 10**11 - 1)}" for _ in range(3000)]
    stored += ["+864001234567", "+868001234567", "+8695588", "+861012345678", "+8601012345678"]
    for value in stored:
        assert phone_digits(value) == ref_phone_digits(value), value


def test_it_gives_the_same_search_text(rng):
    for _ in range(500):
        phones = [outcome(normalise_phone, random_phone(rng)) for _ in range(rng.randint(0, 3))]
        phones = [p for p in phones if isinstance(p, str)]
        kwargs = {"phones": phones, "emails": [rng.choice(["", "Sales@Huaxin.Example", " a@b.cn "])],
                  "contact_names": [rng.choice(["", "王建国", "Li Lei", "欧阳 娜娜"])]}
        name = random_name(rng)
        assert search_text(name, **kwargs) == ref_search_text(name, **kwargs), (name, kwargs)


def test_it_keeps_the_pinyin_cache_bounded():
    assert text._word_pinyin.cache_info().maxsize == 200_000


# What the functions do ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (None, ""), ("  ＡＢＣ\u3000 公司  ", "ＡＢＣ 公司"), ("a\t\nb", "a b"), (123, "123"),
    ("中国矿业大学（北京）", "中国矿业大学（北京）"), ("华信，科技；“好”", "华信，科技；“好”"),
    ("\ufeff北京\u200b华信\x00\x07", "北京华信"), ("a\u00a0\u2003\u3000b", "a b"),
])
def test_it_cleans_text_keeping_what_was_written(value, expected):
    assert clean_text(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, ""), ("  ＡＢＣ\u3000 公司  ", "ABC 公司"), ("中国矿业大学（北京）", "中国矿业大学(北京)"), ("１２３", "123"),
])
def test_it_folds_text_for_keys(value, expected):
    assert fold_text(value) == expected


@pytest.mark.parametrize("one, other", [
    ("中国 矿业 大学（北京）", "中国矿业大学(北京)"), ("中国矿业大学（北京）", "中国矿业大学 (北京)"),
    ("ABC Co., Ltd.", "ABC Co Ltd"), ("ABC Co., Ltd.", "abc co. ltd"), ("ABC Co.,Ltd", "ABC"),
    ("ＡＢＣ　Ｃｏ．，Ｌｔｄ．", "ABC Co Ltd"), ("IBM 中国", "IBM中国"), ("J.P. Morgan", "JP Morgan"),
    ("McDonald’s", "McDonalds"), ("北京华信 Co., Ltd.", "北京华信有限公司"), ("Acme Corporation", "ACME Inc."),
])
def test_it_gives_one_key_to_one_name_written_two_ways(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize("one, other", [
    ("First Bank", "FirstBank"), ("Premier Bank", "PremierBank"), ("Sun Rise Ltd", "Sunrise Ltd"),
    ("ABC 1", "ABC1"),
])
def test_it_keeps_the_word_boundaries_of_latin_names(one, other):
    assert name_key(one) != name_key(other)


@pytest.mark.parametrize("name, expected", [
    ("北京华信科技有限公司", "北京华信科技"), ("北京华信科技有限责任公司", "北京华信科技"), ("Acme Co., Ltd.", "acme"),
    ("公司", "公司"), ("ＡＣＭＥ　Inc", "acme"), ("First Bank", "first bank"), ("中国 矿业 大学（北京）", "中国矿业大学北京"),
    ("Ltd", "ltd"), ("Acme Ltd 有限公司", "acme ltd"), ("北京华信Ltd", "北京华信"), ("Ultd", "ultd"),
])
def test_it_keys_names_without_legal_form(name, expected):
    assert name_key(name) == expected


@pytest.mark.parametrize("value, expected", [
    ("13812345678", "+8613812345678"), ("+86 138-1234-5678", "+8613812345678"), ("0086 13812345678", "+8613812345678"),
    ("8613812345678", "+8613812345678"), ("１３８１２３４５６７８", "+8613812345678"), ("13812345678.0", "+8613812345678"),
    (13812345678, "+8613812345678"), ("021-62345678", "+862162345678"), ("(010)87654321", "+861087654321"),
    ("", ""), (None, ""),
    # Prefixes and separators of every kind, dots too.
    ("+86 138.1234.5678", "+8613812345678"), ("0086-138-1234-5678", "+8613812345678"), ("86 138 1234 5678", "+8613812345678"),
    ("(+86)138 1234 5678", "+8613812345678"), ("１３８－１２３４－５６７８", "+8613812345678"),
    # Mobiles phonenumbers calls unallocated (new ranges open every year): taken by their form.
    ("14012345678", "+8614012345678"), ("+86 174 1234 5678", "+8617412345678"), ("160.1234.5678", "+8616012345678"),
    # Landlines, 3- and 4-digit area codes, extensions kept.
    ("021-6234 5678", "+862162345678"), ("0571-88886666", "+8657188886666"), ("0755 8888 6666", "+8675588886666"),
    ("021-6234 5678 转 801", "+862162345678;ext=801"), ("0571-88886666分机12", "+8657188886666;ext=12"),
    ("021 6234 5678 ext. 8", "+862162345678;ext=8"), ("021-62345678 x12", "+862162345678;ext=12"),
    ("+86 21 6234 5678;ext=801", "+862162345678;ext=801"),
    # Service numbers, Hong Kong, Macau, Taiwan and abroad.
    ("400-810-8888", "+864008108888"), ("800-820-8820", "+868008208820"), ("+852 2123 4567", "+85221234567"),
    ("+853 2888 1234", "+85328881234"), ("+886 2 2345 6789", "+886223456789"), ("+1 415 555 2671", "+14155552671"),
    ("+44 20 7946 0958", "+442079460958"), ("+81 3-1234-5678", "+81312345678"),
])
def test_it_normalises_phones(value, expected):
    assert normalise_phone(value) == expected


@pytest.mark.parametrize("value", [
    "12345", "abc", "1381234567", "12012345678", "138123456789", "13812345678 转 12", "021-1234", "+86 21 1234",
])
def test_it_rejects_what_is_not_a_phone(value):
    with pytest.raises(PhoneError):
        normalise_phone(value)


@pytest.mark.parametrize("e164, expected", [
    ("+8613812345678", "13812345678"), ("+862162345678", "02162345678"), ("", ""), ("+1 x", "1"),
    ("+8614012345678", "14012345678"), ("+862162345678;ext=801", "02162345678"),
])
def test_it_gives_the_digits_people_type(e164, expected):
    assert phone_digits(e164) == expected


@pytest.mark.parametrize("e164, shown", [
    ("+8613812345678", "138 1234 5678"), ("+8614012345678", "140 1234 5678"), ("+862162345678", "021 6234 5678"),
    ("+862162345678;ext=801", "021 6234 5678 ext. 801"), ("+864008108888", "400 810 8888"),
    ("+85221234567", "+852 2123 4567"), ("+14155552671", "+1 415-555-2671"), ("", ""), ("junk", "junk"),
])
def test_it_shows_stored_numbers(e164, shown):
    with translation.override("en"):
        assert display_phone(e164) == shown


def test_it_shows_an_extension_in_the_users_language():
    with translation.override("zh-hans"):
        assert display_phone("+862162345678;ext=801") == "021 6234 5678 转 801"


def test_it_gives_pinyin_and_initials():
    assert pinyin_forms("北京华信") == ("beijinghuaxin", "bjhx")
    assert pinyin_forms("重庆银行行长 abc") == ("chongqingyinhanghangzhangabc", "cqyhhzabc")
    assert pinyin_forms("") == ("", "")


def test_it_builds_the_search_text():
    found = search_text("北京华信 科技", phones=["+8613812345678", "+862162345678"], emails=["Sales@Huaxin.Example"],
                        contact_names=["王建国", ""])
    assert found == (" 北京华信 科技 北京华信科技 beijinghuaxinkeji bjhxkj 北京 京华 华信 科技 王建国 wangjianguo wjg 王建 建国 "
                     "13812345678 02162345678 sales@huaxin.example ")
