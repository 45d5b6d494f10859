"""Cleaning the cells of a legacy customer list (crm.imports.clean): every kind's accepted forms and
its errors. No database: the ctx is built from plain lists."""
import datetime
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation

from crm.imports import clean
from crm.imports.clean import (
    AMBIGUOUS,
    CleanError,
    UnknownOwner,
    clean_value,
    context_from_lists,
    default_tier_map,
    word_key,
)
from crm.imports.fields import FIELDS
from crm.lib.text import PhoneError, normalise_phone

INDUSTRIES = [(1, "it", "信息技术", "Information technology"), (2, "manufacturing", "制造业", "Manufacturing"),
              (3, "retail", "零售", "")]
SOURCES = [(11, "website", "官网", "Website"), (12, "trade-show", "展会", "Trade show")]
USERS = [
    (21, "zhangwei", "+8613812345678", "张伟"),
    (22, "wangfang", "13900001111", "张伟"),  # two users called 张伟
    (23, "lina", None, "李娜"),
    (24, "liuyang", "", "zhangwei"),  # a display name that is someone else's username
]
TODAY = datetime.date(2024, 5, 20)


@pytest.fixture(autouse=True)
def in_english():
    """The reasons are asserted in English (the msgids); the Chinese is the catalogue's business."""
    with translation.override("en"):
        yield


@pytest.fixture
def ctx():
    return context_from_lists(industries=INDUSTRIES, sources=SOURCES, users=USERS, today=TODAY)


def cleaned(kind, raw, ctx, **kwargs):
    return clean_value(kind, raw, ctx, **kwargs)


def reason_of(kind, raw, ctx, **kwargs):
    with pytest.raises(CleanError) as info:
        clean_value(kind, raw, ctx, **kwargs)
    assert str(info.value) == info.value.reason
    return info.value.reason


# Empty cells ------------------------------------------------------------------------------------------------

KINDS = sorted({field.kind for field in FIELDS})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "-", "—", "--", "——", "/", "无", "N/A", "n/a", "NULL",
                                 "null", " - ", "Ｎ/Ａ", float("nan")])
def test_it_treats_empty_markers_as_empty_for_every_kind(ctx, kind, raw):
    assert cleaned(kind, raw, ctx) is None


def test_it_cleans_every_kind_the_field_catalogue_names(ctx):
    assert set(KINDS) <= set(clean._CLEANERS)


def test_it_refuses_an_unknown_kind(ctx):
    with pytest.raises(ValueError, match="unknown import field kind"):
        clean_value("colour", "red", ctx)


# Text -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, raw, expected", [
    ("name", "  北京华信科技有限公司 ", "北京华信科技有限公司"),
    ("name", "ＡＢＣ　贸易  (上海)", "ＡＢＣ 贸易 (上海)"),  # stored as written; the name key folds widths
    ("name", "中国矿业大学（北京）", "中国矿业大学（北京）"),
    ("name", "\ufeff北京\u200b华信\x07", "北京华信"),
    ("text", "需回访；（下周）！", "需回访；（下周）！"),
    ("name", 360, "360"),
    ("name", 360.0, "360"),
    ("text", "浦东新区\n张江路 88 号", "浦东新区 张江路 88 号"),
    ("text", datetime.date(2021, 3, 5), "2021-03-05"),
    ("url", " https://huaxin.example/ ", "https://huaxin.example/"),
    ("url", "www.huaxin.example", "www.huaxin.example"),
    ("url", "ｗｗｗ．ｈｕａｘｉｎ．ｅｘａｍｐｌｅ", "www.huaxin.example"),
])
def test_it_cleans_text(ctx, kind, raw, expected):
    assert cleaned(kind, raw, ctx, max_length=200) == expected


@pytest.mark.parametrize("kind", ["name", "text", "url"])
def test_it_refuses_text_longer_than_the_field(ctx, kind):
    assert cleaned(kind, "x" * 30, ctx, max_length=30) == "x" * 30
    reason = reason_of(kind, "x" * 31, ctx, max_length=30)
    assert "longer than 30 characters" in reason


def test_it_shortens_a_long_value_in_the_reason(ctx):
    reason = reason_of("text", "长" * 300, ctx, max_length=200)
    assert "“" + "长" * 39 + "…”" in reason


# Phones -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("86 13812345678", "+8613812345678"),
    ("0086 13812345678", "+8613812345678"),
    ("008613812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("(+86) 138-1234-5678", "+8613812345678"),
    ("１３８１２３４５６７８", "+8613812345678"),
    (13812345678.0, "+8613812345678"),
    (13812345678, "+8613812345678"),
    (Decimal("13812345678"), "+8613812345678"),
    ("13812345678.0", "+8613812345678"),
    ("1.3812345678E10", "+8613812345678"),
    ("1.3812345678E+10", "+8613812345678"),
    ("1.38123456780e10", "+8613812345678"),
    ("021-62345678", "+862162345678"),
    ("(010)87654321", "+861087654321"),
    ("(010) 8765-4321", "+861087654321"),
    ("0571 8888 6666", "+8657188886666"),
    ("0571-88886666", "+8657188886666"),
    ("021-62345678-123", "+862162345678;ext=123"),
    ("021-62345678 123", "+862162345678;ext=123"),
    ("021-62345678转123", "+862162345678;ext=123"),
    ("021-62345678 转 8001", "+862162345678;ext=8001"),
    ("021-62345678分机123", "+862162345678;ext=123"),
    ("021-62345678 ext. 12", "+862162345678;ext=12"),
    ("021 6234 5678 x12", "+862162345678;ext=12"),
    ("+86 21 6234 5678", "+862162345678"),
    ("+1 415 555 2671", "+14155552671"),
    ("021-62345678;123", "+862162345678;ext=123"),  # one number and an extension, not two numbers
    # Mobiles by their form: phonenumbers calls these unallocated.
    ("14012345678", "+8614012345678"),
    ("+86 174.1234.5678", "+8617412345678"),
    ("0086-160-1234-5678", "+8616012345678"),
    ("86 138.1234.5678", "+8613812345678"),
    # Landlines the way lists write them.
    ("021-6234 5678", "+862162345678"),
    ("(0571)88886666-12", "+8657188886666;ext=12"),
    ("021-6234 5678 转 801", "+862162345678;ext=801"),
    ("0755 8888 6666", "+8675588886666"),
    ("0991-1234567", "+869911234567"),
    ("400-810-8888", "+864008108888"),
    ("800-820-8820", "+868008208820"),
    ("+852 2123 4567", "+85221234567"),
    ("+853 2888 1234", "+85328881234"),
    ("+886 2 2345 6789", "+886223456789"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+81 3-1234-5678", "+81312345678"),
    ("13812345678/13812345678", "+8613812345678"),  # one number written twice
])
def test_it_cleans_phones(ctx, raw, expected):
    assert cleaned("phone", raw, ctx) == expected


@pytest.mark.parametrize("raw, says", [
    ("12345", "“12345” is not a valid phone number."),
    ("abc", "“abc” is not a valid phone number."),
    ("12012345678", "is not a valid phone number"),
    ("1381234567x", "is not a valid phone number"),
    ("021-1234", "is not a valid phone number"),
    ("13812345678/abc", "“13812345678/abc” is not a valid phone number."),
    ("1381234567", "is not a valid phone number"),
    ("62345678", "is not a valid phone number"),
    ("13812345678 1", "is not a valid phone number"),  # a mobile has no extension
    (1.5, "is not a valid phone number"),
    (True, "is not a valid phone number"),
    ("1.38123E+10", "lost digits in the spreadsheet"),
    ("1.3812345678E10.5", "is not a valid phone number"),
])
def test_it_refuses_what_is_not_one_phone(ctx, raw, says):
    assert says in reason_of("phone", raw, ctx)


@pytest.mark.parametrize("raw, expected", [
    ("13812345678/13912345678", ("+8613812345678", "+8613912345678")),
    ("13812345678；13912345678", ("+8613812345678", "+8613912345678")),
    ("13812345678;13912345678", ("+8613812345678", "+8613912345678")),
    ("13812345678, 13912345678", ("+8613812345678", "+8613912345678")),
    ("13812345678、021-62345678", ("+8613812345678", "+862162345678")),
    ("13812345678/021-6234 5678 转 801", ("+8613812345678", "+862162345678;ext=801")),
    ("13812345678 13912345678", ("+8613812345678", "+8613912345678")),
    ("138 1234 5678 021 6234 5678", ("+8613812345678", "+862162345678")),
    ("021-62345678 138 1234 5678", ("+862162345678", "+8613812345678")),  # not extension 138
    ("400-810-8888 / +1 415 555 2671", ("+864008108888", "+14155552671")),
    ("13812345678 / 14012345678, 0571-88886666", ("+8613812345678", "+8614012345678", "+8657188886666")),
])
def test_it_splits_a_cell_of_several_numbers(ctx, raw, expected):
    found = cleaned("phone", raw, ctx)
    assert isinstance(found, clean.PhoneList)
    assert found == expected


def test_it_gives_landlines_exactly_what_normalise_phone_gives(ctx):
    """The landline shortcut against phonenumbers itself, over area codes valid or not."""
    rng = random.Random(7)
    forms = ["0{a}{n}", "0{a}-{n}", "(0{a}){n}", "(0{a}) {n}", "0{a} {n}", "0({a}){n}", "0{a}--{n}", "-0{a}{n}"]
    for _ in range(3000):
        area = str(rng.choice([10, 20, 21, 22, 23, 24, 25, 27, 28, 29, 30, 99, rng.randint(300, 999),
                               rng.randint(300, 999)]))
        local = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8)))
        raw = rng.choice(forms).format(a=area, n=local)
        try:
            expected = normalise_phone(raw)
        except PhoneError:
            expected = None
        shortcut = clean._plain_landline(raw)
        assert shortcut in (None, expected), raw
        if expected:
            assert cleaned("phone", raw, ctx) == expected, raw


# Emails -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("sales@huaxin.example", "sales@huaxin.example"),
    ("  Sales@HuaXin.Example ", "sales@huaxin.example"),
    ("li.lei+crm@mail.huaxin-tech.com.cn", "li.lei+crm@mail.huaxin-tech.com.cn"),
    ("ｓａｌｅｓ＠ｈｕａｘｉｎ.ｃｎ", "sales@huaxin.cn"),
    ("mailto:sales@huaxin.cn", "sales@huaxin.cn"),
    ("张三 <Zhang.San@Huaxin.cn>", "zhang.san@huaxin.cn"),
    ("sales@huaxin.cn;", "sales@huaxin.cn"),
    ("o'brien@example.ie", "o'brien@example.ie"),
    ("user@localhost", "user@localhost"),
])
def test_it_cleans_emails(ctx, raw, expected):
    assert cleaned("email", raw, ctx) == expected


@pytest.mark.parametrize("raw, says", [
    ("not-an-email", "“not-an-email” is not a valid email address."),
    ("sales@", "is not a valid email address"),
    ("@huaxin.cn", "is not a valid email address"),
    ("sales..team@huaxin.cn", "is not a valid email address"),
    ("sales@huaxin..cn", "is not a valid email address"),
    ("sales@-huaxin.cn", "is not a valid email address"),
    ("a@b.cn; c@d.cn", "holds more than one email address"),
    ("a@b.cn,c@d.cn", "holds more than one email address"),
    ("a@b.cn c@d.cn", "holds more than one email address"),
    ("a@b.cn，c@d.cn", "holds more than one email address"),
])
def test_it_refuses_what_is_not_one_email(ctx, raw, says):
    assert says in reason_of("email", raw, ctx)


def test_it_refuses_an_email_longer_than_the_field(ctx):
    assert "longer than 20 characters" in reason_of("email", "somebody@huaxin.example", ctx, max_length=20)


def test_it_takes_the_email_shortcut_only_for_what_django_accepts():
    rng = random.Random(11)
    alphabet = "abz09._-+%@'!#"
    for _ in range(5000):
        address = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 14))) + rng.choice(
            ["", ".cn", ".com", "-.cn", ".c", "@x.cn"])
        if clean._PLAIN_EMAIL.fullmatch(address):
            try:
                validate_email(address)
            except ValidationError:
                pytest.fail(f"the shortcut accepts {address!r}, Django does not")


# Dates ------------------------------------------------------------------------------------------------------

MARCH_5 = datetime.date(2021, 3, 5)


@pytest.mark.parametrize("raw", [
    MARCH_5, datetime.datetime(2021, 3, 5, 14, 30), 44260, 44260.6, Decimal("44260"), "44260", "44260.25", 20210305,
    20210305.0, "2021/3/5", "2021-03-05", "2021-3-5", "2021年3月5日", "2021 年 3 月 5 日", "2021年03月05号", "20210305",
    "2021.03.05", "2021.3.5", "2021-3-5 14:30", "2021/03/05 14:30:00", "2021-03-05T14:30:00", "2021-03-05 14:30:00.123",
    "2021-03-05T14:30:00+08:00", "2021-03-05 2:30 PM", "２０２１／３／５", "2021年3月5日 14:30",
])
def test_it_reads_dates(ctx, raw):
    assert cleaned("date", raw, ctx) == MARCH_5


@pytest.mark.parametrize("raw, expected", [
    (1, datetime.date(1900, 1, 1)), (59, datetime.date(1900, 2, 28)), (61, datetime.date(1900, 3, 1)),
    (36526, datetime.date(2000, 1, 1)), (73415, datetime.date(2100, 12, 31)), ("2100-12-31", datetime.date(2100, 12, 31)),
    ("1900-01-01", datetime.date(1900, 1, 1)), ("2024-02-29", datetime.date(2024, 2, 29)),
    ("今天", TODAY), ("昨天", TODAY - datetime.timedelta(days=1)), ("明天", TODAY + datetime.timedelta(days=1)),
    ("Today", TODAY),
])
def test_it_reads_excel_serials_the_edges_and_relative_days(ctx, raw, expected):
    assert cleaned("date", raw, ctx) == expected


@pytest.mark.parametrize("raw, says", [
    ("2021-02-30", "“2021-02-30” is not a valid date."),
    ("2023-02-29", "is not a valid date"),
    ("2021-13-01", "is not a valid date"),
    ("20211305", "is not a valid date"),
    ("garbage", "is not a valid date"),
    ("2021-03", "is not a valid date"),
    ("3月5日", "is not a valid date"),
    ("21-03-05", "is not a valid date"),
    ("2021/03-05", "is not a valid date"),
    ("2021", "is not a valid date"),
    (60, "is not a valid date"),  # Excel's 29 February 1900 never was
    (0, "is not a valid date"),
    (-5, "is not a valid date"),
    (73416, "is not a valid date"),
    (float("inf"), "is not a valid date"),
    (True, "is not a valid date"),
    (datetime.time(14, 30), "is not a valid date"),
    ("1899-12-31", "is outside the years 1900–2100"),
    ("2101-01-01", "is outside the years 1900–2100"),
    (datetime.date(1850, 1, 1), "is outside the years 1900–2100"),
    (datetime.datetime(2200, 1, 1), "is outside the years 1900–2100"),
])
def test_it_refuses_impossible_dates(ctx, raw, says):
    assert says in reason_of("date", raw, ctx)


def test_it_takes_today_from_the_local_date_without_a_context_date():
    ctx = context_from_lists(industries=[], sources=[], users=[])
    from django.utils import timezone

    assert clean_value("date", "今天", ctx) == timezone.localdate()


# Amounts ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("1,234.50", "1234.50"), ("1234.5", "1234.50"), ("¥12,000", "12000.00"), ("￥12,000.00", "12000.00"),
    ("12000元", "12000.00"), ("12,000 元", "12000.00"), ("1.2万", "12000.00"), ("3亿", "300000000.00"),
    ("1.5万元", "15000.00"), ("5千", "5000.00"), ("2.5w", "25000.00"), ("8K", "8000.00"), ("RMB 5,000", "5000.00"),
    ("5000 CNY", "5000.00"), ("人民币5000元", "5000.00"), (".5", "0.50"), ("0.005", "0.01"), ("-1,000", "-1000.00"),
    ("-¥1,000", "-1000.00"), ("¥-1,000", "-1000.00"), ("１２，０００", "12000.00"),
    (1234.5, "1234.50"), (0.1 + 0.2, "0.30"), (12000, "12000.00"), (Decimal("99.999"), "100.00"),
    ("999999999999.99", "999999999999.99"),
])
def test_it_reads_amounts(ctx, raw, expected):
    amount = cleaned("amount", raw, ctx)
    assert isinstance(amount, Decimal)
    assert amount == Decimal(expected) and amount.as_tuple().exponent == -2


@pytest.mark.parametrize("raw, says", [
    ("abc", "“abc” is not an amount."),
    ("1,2", "is not an amount"),  # a decimal comma, or a typo: not guessed
    ("12,0000", "is not an amount"),
    ("1.2.3", "is not an amount"),
    ("$500", "is not an amount"),
    ("500美元", "is not an amount"),
    ("--5", "is not an amount"),
    ("-¥-5", "is not an amount"),
    ("五千", "is not an amount"),
    ("1万2", "is not an amount"),
    (float("inf"), "is not an amount"),
    (Decimal("NaN"), "is not an amount"),
    (True, "is not an amount"),
    ("1000000000000", "is too large an amount"),
    ("1万亿", "is not an amount"),
    ("20000亿", "is too large an amount"),
    (1e15, "is too large an amount"),
])
def test_it_refuses_what_is_not_an_amount(ctx, raw, says):
    assert says in reason_of("amount", raw, ctx)


# Tier, status, customer type ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("A", "A"), ("a", "A"), ("Ａ", "A"), ("A类", "A"), ("A级", "A"), ("A 类", "A"), ("重点", "A"), ("重点客户", "A"),
    ("战略客户", "A"), ("VIP", "A"), ("vip", "A"), ("大客户", "A"), ("key", "A"), ("A (key)", "A"), ("A 重点", "A"),
    ("B", "B"), ("B类", "B"), ("普通", "B"), ("普通客户", "B"), ("一般", "B"), ("一般客户", "B"), ("Regular", "B"),
    ("C", "C"), ("C类", "C"), ("C级", "C"), ("非优先", "C"), ("低", "C"), ("潜在小客户", "C"), ("low priority", "C"),
    ("Low-Priority", "C"), ("C (low priority)", "C"),
])
def test_it_reads_tiers(ctx, raw, expected):
    assert cleaned("tier", raw, ctx) == expected


def test_it_reads_tier_words_the_caller_adds():
    ctx = context_from_lists(industries=[], sources=[], users=[], tier_map={"金牌客户": "A", "Bronze": "C"})
    assert clean_value("tier", "金牌 客户", ctx) == "A"
    assert clean_value("tier", "bronze", ctx) == "C"
    assert clean_value("tier", "普通", ctx) == "B"
    ctx.tier_map[word_key("银牌")] = "B"
    assert clean_value("tier", "银牌", ctx) == "B"


def test_it_builds_the_default_tier_map_from_normalised_words():
    tiers = default_tier_map()
    assert tiers["a类"] == "A" and tiers["lowpriority"] == "C" and tiers["普通客户"] == "B"
    assert set(tiers.values()) == {"A", "B", "C"}


@pytest.mark.parametrize("kind, raw, says", [
    ("tier", "金牌", "“金牌” is not a known tier."),
    ("tier", "D", "“D” is not a known tier."),
    ("tier", 1, "“1” is not a known tier."),
    ("status", "考虑中", "“考虑中” is not a known status."),
    ("kind", "外星人", "“外星人” is not a known customer type."),
])
def test_it_names_the_unknown_word(ctx, kind, raw, says):
    assert reason_of(kind, raw, ctx) == says


@pytest.mark.parametrize("raw, expected", [
    ("潜在", "prospect"), ("潜在客户", "prospect"), ("新客户", "prospect"), ("Prospect", "prospect"), ("new", "prospect"),
    ("跟进中", "following"), ("跟进", "following"), ("意向", "following"), ("接洽中", "following"),
    ("following", "following"), ("In Progress", "following"), ("working", "following"), ("Following up", "following"),
    ("已成交", "won"), ("成交", "won"), ("签约", "won"), ("老客户", "won"), ("won", "won"), ("Customer", "won"),
    ("Closed Won", "won"), ("closed-won", "won"),
    ("流失", "lost"), ("已流失", "lost"), ("丢失", "lost"), ("lost", "lost"), ("Closed Lost", "lost"),
    ("churned", "lost"),
])
def test_it_reads_statuses(ctx, raw, expected):
    assert cleaned("status", raw, ctx) == expected


@pytest.mark.parametrize("raw, expected", [
    ("企业", "company"), ("公司", "company"), ("Company", "company"), ("business", "company"),
    ("organization", "company"), ("个人", "person"), ("个体", "person"), ("Person", "person"),
    ("individual", "person"), ("政府", "government"), ("政府机构", "government"), ("事业单位", "government"),
    ("学校", "government"), ("医院", "government"), ("Government", "government"), ("public", "government"),
])
def test_it_reads_customer_types(ctx, raw, expected):
    assert cleaned("kind", raw, ctx) == expected


# Picklists ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, raw, expected", [
    ("industry", "信息技术", 1), ("industry", " 信息 技术 ", 1), ("industry", "Information Technology", 1),
    ("industry", "information-technology", 1), ("industry", "IT", 1), ("industry", "制造业", 2),
    ("industry", "MANUFACTURING", 2), ("industry", "零售", 3), ("industry", "retail", 3),
    ("source", "官网", 11), ("source", "website", 11), ("source", "Trade show", 12), ("source", "trade-show", 12),
    ("source", "展会", 12),
])
def test_it_finds_picklist_entries_by_label_or_code(ctx, kind, raw, expected):
    assert cleaned(kind, raw, ctx) == expected


@pytest.mark.parametrize("kind, raw, says", [
    ("industry", "农业", "“农业” is not in the industry picklist."),
    ("industry", "官网", "“官网” is not in the industry picklist."),
    ("source", "信息技术", "“信息技术” is not in the source picklist."),
])
def test_it_names_what_is_not_in_the_picklist(ctx, kind, raw, says):
    assert reason_of(kind, raw, ctx) == says


def test_it_refuses_a_label_two_entries_share():
    ctx = context_from_lists(industries=[(1, "a", "服务", "Services"), (2, "b", "服务", "Service")], sources=[],
                                 users=[])
    assert ctx.industries[word_key("服务")] is AMBIGUOUS
    assert "matches more than one picklist entry" in reason_of("industry", "服务", ctx)
    assert clean_value("industry", "Service", ctx) == 2


# Owners -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("zhangwei", 21), ("ZhangWei", 21), (" zhangwei ", 21), ("wangfang", 22), ("李娜", 23), ("李 娜", 23),
    ("13812345678", 21), (13812345678, 21), (13812345678.0, 21), ("+86 138-1234-5678", 21), ("8613812345678", 21),
    ("+8613900001111", 22), ("139 0000 1111", 22), ("lina", 23),
])
def test_it_finds_owners_by_username_mobile_or_display_name(ctx, raw, expected):
    assert cleaned("owner", raw, ctx) == expected


def test_it_prefers_a_username_over_a_display_name(ctx):
    assert cleaned("owner", "zhangwei", ctx) == 21  # liuyang's display name is "zhangwei" too


def test_it_refuses_a_display_name_two_users_share(ctx):
    assert ctx.owners[word_key("张伟")] is AMBIGUOUS
    assert reason_of("owner", "张伟", ctx) == "More than one user is called “张伟”."


@pytest.mark.parametrize("raw", ["nobody", "13700000000", "王五"])
def test_it_tells_an_unknown_owner_apart(ctx, raw):
    with pytest.raises(UnknownOwner) as info:
        clean_value("owner", raw, ctx)
    assert info.value.reason == f"There is no user “{raw}”."
    assert isinstance(info.value, CleanError)


def test_it_skips_users_without_a_usable_mobile():
    ctx = context_from_lists(industries=[], sources=[], users=[(1, "a", "12345", ""), (2, "b", None, None)])
    assert set(ctx.owners.values()) == {1, 2}


# Tags ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("VIP", ["VIP"]),
    ("VIP,续约", ["VIP", "续约"]),
    ("VIP，价格敏感；续约", ["VIP", "价格敏感", "续约"]),
    ("a;b、c/d|e", ["a", "b", "c", "d", "e"]),
    ("VIP  续约\n展会线索", ["VIP", "续约", "展会线索"]),
    ("VIP, VIP ,续约,", ["VIP", "续约"]),
    ("ＶＩＰ／续约", ["VIP", "续约"]),
    ("x" * 30, ["x" * 30]),
    (2024, ["2024"]),
])
def test_it_splits_tags(ctx, raw, expected):
    assert cleaned("tags", raw, ctx) == expected


def test_it_refuses_a_tag_longer_than_30_characters(ctx):
    reason = reason_of("tags", "VIP, " + "长" * 31, ctx)
    assert reason == "The tag “" + "长" * 31 + "” is longer than 30 characters."


def test_it_treats_separators_alone_as_no_tags(ctx):
    assert cleaned("tags", ",,;、", ctx) is None


# The error ----------------------------------------------------------------------------------------------------

def test_it_formats_the_reason_when_read():
    error = CleanError("“%(value)s” is odd.", value="x")
    assert error.reason == str(error) == "“x” is odd."
    assert CleanError("Plain.").reason == "Plain."
    assert isinstance(error, ValueError)


# A column's cleaner remembers repeated values ---------------------------------------------------------

COLUMN_SAMPLES = {
    "tier": ["A类", "重点客户", "b", "X级", None, "", "A类", "—", "战略客户", "X级"],
    "owner": ["zhangwei", "张伟", "没有这个人", "李娜", "13812345678", "zhangwei", "没有这个人"],
    "date": ["2021/3/5", 44260, 44260.0, datetime.datetime(2021, 3, 5), "2021年3月5日", "20210305", "2021-02-30",
             True, 1, 1.0, "2021/3/5"],
    "amount": ["¥12,000", "1.2万", 1, 1.0, True, "十万", "¥12,000", Decimal("3.5")],
    "phone": ["138 1234 5678", 13812345678.0, "021-62345678", "12345", "138 1234 5678"],
}


def outcome(function):
    try:
        return "ok", function()
    except UnknownOwner as exc:
        return "unknown owner", exc.reason
    except CleanError as exc:
        return "error", exc.reason


@pytest.mark.parametrize("kind", sorted(COLUMN_SAMPLES))
def test_a_column_cleaner_gives_what_clean_value_gives_the_first_time_and_every_time_after(kind, ctx):
    column = clean.ColumnCleaner(kind, ctx, max_length=20)
    for _round in range(3):
        for raw in COLUMN_SAMPLES[kind]:
            expected = outcome(lambda raw=raw: clean_value(kind, raw, ctx, max_length=20))
            assert outcome(lambda raw=raw: column(raw)) == expected, raw
    assert column.hits > 0


def test_a_column_cleaner_keeps_1_true_and_1_0_apart(ctx):
    column = clean.ColumnCleaner("date", ctx)
    serial_one = column(1)
    with pytest.raises(CleanError):
        column(True)
    assert column(1.0) == serial_one == datetime.date(1900, 1, 1)


def test_a_column_cleaner_converts_before_it_remembers(ctx):
    column = clean.ColumnCleaner("date", ctx, convert=lambda value: value.isoformat())
    assert column("2021/3/5") == column("2021/3/5") == "2021-03-05"
    assert column("") is None


def test_a_column_of_different_values_stops_being_remembered(ctx):
    column = clean.ColumnCleaner("phone", ctx, probe=50)
    numbers = [f"1381234{i:04d}" for i in range(200)]
    for number in numbers:
        assert column(number) == "+86" + number
    assert column.memo is None
    assert column(numbers[0]) == "+86" + numbers[0]


def test_names_and_tags_are_never_remembered(ctx):
    assert clean.ColumnCleaner("name", ctx).memo is None
    tags = clean.ColumnCleaner("tags", ctx)
    first = tags("重点, 华东")
    first.append("changed by the caller")
    assert tags("重点, 华东") == ["重点", "华东"]


def test_a_column_cleaner_refuses_an_unknown_kind(ctx):
    with pytest.raises(ValueError, match="unknown import field kind"):
        clean.ColumnCleaner("colour", ctx)
