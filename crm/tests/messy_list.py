"""A hand-kept legacy customer list of the kind real companies bring: 2,750 data rows naming 2,400
customers, the repeats exact or written differently (spaces between characters, brackets of the other
width, 有限责任公司 for 有限公司, "ABC Co Ltd" for "ABC Co., Ltd."), a few bad mobiles, e-mails and dates,
mobiles phonenumbers calls unallocated, landlines in every usual form, amounts as "202.2万", sources
and industries that no picklist has yet, a hint row under the headings, blank rows, a subtotal and a
total, a few rows without a name. With it the truth: what each customer must hold after an automatic
import and which cells must be reported. The same for the same seed."""
import datetime
import random
from decimal import Decimal

from openpyxl import Workbook

from crm.lib.text import name_key

HEADINGS = ("客户名称", "客户来源", "所属行业", "客户级别", "手机", "联系电话", "邮箱", "建档日期", "销售收入",
            "所在城市", "备注")
# The automatic mapping a user would agree with, column by column.
MAPPING = {0: "name", 1: "source", 2: "industry", 3: "tier", 4: "mobile", 5: "phone", 6: "email", 7: "created_at",
           8: "deal_amount", 9: "city", 10: "notes"}
HINTS = ("必填", "选填", "选填", "A类/B类/C类", "选填", "选填", "选填", "格式：2021-01-01", "单位：元", "选填", "")

_CITIES = (("上海", "021"), ("北京", "010"), ("广州", "020"), ("天津", "022"), ("重庆", "023"), ("南京", "025"),
           ("武汉", "027"), ("成都", "028"), ("杭州", "0571"), ("深圳", "0755"), ("苏州", "0512"), ("郑州", "0371"))
_TRADES = ("华新", "东方", "明远", "博达", "中恒", "安泰", "瑞丰", "鼎盛", "宏图", "金鑫", "润德", "天成", "永和",
           "嘉禾", "汇通", "宇航", "星海", "正大", "信诚", "景辉", "元亨", "致远", "腾飞", "康宁", "佳美", "百川",
           "海纳", "盛世", "长青", "启明", "晨光", "华盛", "宏源", "鑫达", "泰通", "恒丰")
_LINES = ("科技", "贸易", "电子", "机械", "建材", "医药", "物流", "文化传播", "信息技术", "食品", "纺织", "化工",
          "环保科技", "网络科技", "实业", "咨询", "广告", "软件")
# Seeded picklist labels, and words a company's own list has that ours does not (yet).
KNOWN_SOURCES = ("客户介绍", "官网", "展会", "电话开发", "合作伙伴")
NEW_SOURCES = ("老客户转介绍", "百度推广", "朋友圈", "地推", "招投标网")
KNOWN_INDUSTRIES = ("制造业", "信息技术", "零售", "教育", "医疗", "金融", "物流")
NEW_INDUSTRIES = ("医疗器械", "新能源", "跨境电商", "智能制造")
TIERS = {"A类": "A", "重点客户": "A", "B类": "B", "普通": "B", "C类": "C"}
_LATIN = ("First Bank", "FirstBank", "Premier Bank", "PremierBank", "ABC Co., Ltd.", "Blue Ocean Trading Ltd.",
          "Sino-Euro Consulting", "Delta Logistics Inc.", "Orient Pearl Corp.", "Green Leaf Foods")
_SPECIAL = ("中国矿业大学（北京）", "上海交通大学（闵行校区）", "华东师范大学（中北校区）")
_BAD_MOBILES = ("1381234567", "138-1234-567", "12812345678", "待补充", "1391234567x")
_BAD_EMAILS = ("zhang@", "wang.example.com", "li@@jia.cn", "邮箱待补", "chen@jia")
_BAD_DATES = ("2021-02-30", "2021/13/01", "去年", "2019.00.12", "待定")
# Mobiles of ranges phonenumbers' tables do not know (yet): well-formed, so they are customers' mobiles.
_NEW_RANGES = ("140", "141", "144", "146", "148", "149", "174", "179")


class _Customer:
    def __init__(self, name):
        self.name = name
        self.rows = []  # the data rows (sheet row numbers) naming it, first first


def messy_customer_list(path, *, seed=16, customers=2_400, repeats=345, nameless=5):
    """Write the list to `path` (.xlsx) and return its truth:
    {"data_rows", "customers": {name as first written: {field: expected value}}, "keys": {name: name_key},
     "bad_cells": {(row, heading)}, "warned_rows": set of rows with a bad cell, "singletons": {name: row},
     "unknown_sources", "unknown_industries", "hint_rows", "blank_rows", "total_rows"}."""
    rng = random.Random(seed)
    names = _names(rng, customers)
    truth_rows = []  # (name or "", {field: (cell, expected or BAD)})
    by_name = {}
    for name in names:
        cells = _row_cells(rng, name)
        truth_rows.append((name, cells))
        by_name[name] = _Customer(name)
    for _ in range(repeats):
        original = rng.choice(names)
        first = next(i for i, (n, _cells) in enumerate(truth_rows) if n == original)
        truth_rows.insert(rng.randint(first + 1, len(truth_rows)), (original, _repeat_cells(
            rng, original, truth_rows[first][1])))
    for _ in range(nameless):
        cells = _row_cells(rng, "")
        cells["name"] = ("", None)
        truth_rows.insert(rng.randint(0, len(truth_rows)), ("", cells))

    book = Workbook()
    sheet = book.active
    sheet.title = "客户"
    sheet.append(list(HEADINGS))
    sheet.append(list(HINTS))
    number = 2
    bad_cells, warned_rows, blank_rows, total_rows = set(), set(), [], []
    for index, (name, cells) in enumerate(truth_rows):
        if index and index % 700 == 0:
            sheet.append([])
            number += 1
            blank_rows.append(number)
        if index == 1500:
            sheet.append(["小计", "", "", "", "", "", "", "", "1500家"])
            number += 1
            total_rows.append(number)
        sheet.append([cells[field][0] for field in MAPPING.values()])
        number += 1
        if not name:
            continue  # an error row: its cells are not warnings
        by_name[name].rows.append((number, cells))
        for field, (_cell, expected) in cells.items():
            if expected is BAD:
                bad_cells.add((number, HEADINGS[_COLUMN[field]]))
                warned_rows.add(number)
    sheet.append(["合计", f"{customers}家"])
    total_rows.append(number + 1)
    book.save(path)

    expected = {}
    for name, customer in by_name.items():
        values = {}
        for _number, cells in customer.rows:  # the first row's value wins; a later row fills what it lacks
            for field, (_cell, value) in cells.items():
                if field not in values and value is not None and value is not BAD:
                    values[field] = value
        expected[name] = values
    singletons = {name: c.rows[0][0] for name, c in by_name.items() if len(c.rows) == 1}
    return {"data_rows": len(truth_rows), "customers": expected, "keys": {n: name_key(n) for n in names},
            "bad_cells": bad_cells, "warned_rows": warned_rows, "singletons": singletons,
            "hint_rows": 1, "blank_rows": blank_rows, "total_rows": total_rows,
            "unknown_sources": set(NEW_SOURCES), "unknown_industries": set(NEW_INDUSTRIES)}


BAD = object()
_COLUMN = {field: column for column, field in MAPPING.items()}


def _names(rng, count):
    names, keys = [], set()

    def add(name):
        key = name_key(name)
        if key in keys:
            return False
        keys.add(key)
        names.append(name)
        return True

    for name in (*_LATIN, *_SPECIAL):
        assert add(name), name
    while len(names) < count:
        city = rng.choice(_CITIES)[0]
        add(f"{city}{rng.choice(_TRADES)}{rng.choice(_TRADES)}{rng.choice(_LINES)}{rng.choice(('有限公司', '有限公司', '股份有限公司'))}")
    rng.shuffle(names)
    return names


def _row_cells(rng, name):
    """{field: (cell as written, expected stored value | None for empty | BAD)} of one customer's row."""
    city, area = rng.choice(_CITIES)
    cells = {"name": (name, name)}
    source = rng.choice(KNOWN_SOURCES + NEW_SOURCES) if rng.random() < 0.85 else ""
    cells["source"] = (source, source or None)
    industry = rng.choice(KNOWN_INDUSTRIES + NEW_INDUSTRIES) if rng.random() < 0.8 else ""
    cells["industry"] = (industry, industry or None)
    tier = rng.choice(list(TIERS)) if rng.random() < 0.7 else ""
    cells["tier"] = (tier, TIERS.get(tier))
    cells["mobile"] = _mobile(rng) if rng.random() < 0.75 else ("", None)
    cells["phone"] = _landline(rng, area) if rng.random() < 0.6 else ("", None)
    cells["email"] = _email(rng) if rng.random() < 0.5 else ("", None)
    cells["created_at"] = _date(rng) if rng.random() < 0.7 else ("", None)
    cells["deal_amount"] = _amount(rng) if rng.random() < 0.4 else ("", None)
    cells["city"] = (city, city)
    note = rng.choice(("", "", "老客户", "需定期回访", "年底有采购计划"))
    cells["notes"] = (note, note or None)
    return cells


def _repeat_cells(rng, name, first):
    """A later row of the same customer (`first`: its first row's cells): its name written the same or
    differently, each other cell as in the first row or left blank."""
    cells = {field: (cell, value) if rng.random() < 0.6 else ("", None) for field, (cell, value) in first.items()}
    cells["name"] = (_variant(rng, name), name)
    cells["city"] = first["city"]
    return cells


def _variant(rng, name):
    """`name` as someone else typed it, the same customer by its match key."""
    forms = [name]
    if name.endswith("有限公司") and not name.endswith("股份有限公司"):
        forms.append(name.removesuffix("有限公司") + "有限责任公司")
    if "（" in name:
        forms.append(name.replace("（", "(").replace("）", ")"))
    if name.isascii():
        forms.append(name.replace(",", "").replace(".", "").upper())
    else:
        forms.append(" ".join(name[:4]) + name[4:])  # spaces between the first characters
    variant = rng.choice(forms)
    assert name_key(variant) == name_key(name), (name, variant)
    return variant


def _mobile(rng):
    if rng.random() < 0.02:
        return rng.choice(_BAD_MOBILES), BAD
    prefix = rng.choice(_NEW_RANGES) if rng.random() < 0.3 else rng.choice(("138", "139", "150", "186", "199"))
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(8))
    written = rng.choice((digits, f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", f"+86 {digits}", f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                          f"0086{digits}", f"{digits[:3]}.{digits[3:7]}.{digits[7:]}"))
    return written, f"+86{digits}"


def _landline(rng, area):
    local = str(rng.randint(2, 8)) + "".join(rng.choice("0123456789") for _ in range(7))
    stored = f"+86{area[1:]}{local}"
    form = rng.randrange(6)
    if form == 0:
        return f"{area}-{local}", stored
    if form == 1:
        return f"({area}){local}", stored
    if form == 2:
        return f"{area} {local[:4]} {local[4:]}", stored
    if form == 3:
        extension = str(rng.randint(100, 999))
        return f"{area}-{local[:4]} {local[4:]} 转 {extension}", f"{stored};ext={extension}"
    if form == 4:
        extension = str(rng.randint(10, 99))
        return f"({area}){local}-{extension}", f"{stored};ext={extension}"
    hotline = f"400{rng.randint(100, 999)}{rng.randint(1000, 9999)}"
    return f"{hotline[:3]}-{hotline[3:6]}-{hotline[6:]}", f"+86{hotline}"


def _email(rng):
    if rng.random() < 0.05:
        return rng.choice(_BAD_EMAILS), BAD
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
    address = f"{user}{rng.randint(1, 999)}@{rng.choice(('qq.com', '163.com', 'example.cn', 'corp.example'))}"
    return (address.upper() if rng.random() < 0.1 else address), address


def _date(rng):
    if rng.random() < 0.03:
        return rng.choice(_BAD_DATES), BAD
    day = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randint(0, 4000))
    written = rng.choice((day.isoformat(), day.strftime("%Y/%m/%d"), f"{day.year}年{day.month}月{day.day}日",
                          day.strftime("%Y.%m.%d"), day))
    return written, day


def _amount(rng):
    tenths = rng.randint(10, 9999)
    form = rng.randrange(4)
    if form == 0:
        return f"{tenths / 10}万", Decimal(tenths) * 1000
    if form == 1:
        value = rng.randint(1000, 999999)
        return f"¥{value:,}", Decimal(value)
    if form == 2:
        value = rng.randint(1000, 999999)
        return value, Decimal(value)
    value = rng.randint(1, 500)
    return f"{value}万元", Decimal(value) * 10000
