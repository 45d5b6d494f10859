"""Builders of realistic legacy customer lists for the import tests (and the import benchmark).

Each builder writes one file to the path it is given and returns a description of what is in it,
so tests assert on counts instead of re-reading the builder. Row indexes in a description are the
indexes of `Workbook.rows()` (0 = the sheet's first row), i.e. Excel row numbers minus one.
"""
import csv
import datetime
import random
import re
import struct
import zipfile

import openpyxl
from openpyxl.utils import get_column_letter

# Headings of the legacy sheet, as a Chinese sales office would type them.
LEGACY_HEADINGS = ("序号", "客户名称", "客户类型", "客户等级", "所属行业", "联系人", "职务", "手机号码", "联系电话",
                   "邮箱", "省份", "城市", "详细地址", "负责人", "建档日期", "成交金额", "备注")
LEGACY_MAPPING = {1: "name", 2: "kind", 3: "tier", 4: "industry", 5: "contact_name", 6: "contact_title",
                  7: "mobile", 8: "phone", 9: "email", 10: "province", 11: "city", 12: "address", 13: "owner",
                  14: "created_at", 15: "deal_amount", 16: "notes"}
ENGLISH_HEADINGS = ("Account Name", "Type", "Rating", "Industry", "Phone", "Mobile", "Email", "Website",
                    "Billing Street", "Billing City", "Billing State/Province", "Account Owner", "Created Date",
                    "Description", "Contact Name", "Title")
ENGLISH_MAPPING = {0: "name", 2: "tier", 3: "industry", 4: "phone", 5: "mobile", 6: "email",
                   7: "website", 8: "address", 9: "city", 10: "province", 11: "owner", 12: "created_at",
                   13: "notes", 14: "contact_name", 15: "contact_title"}


class Cached:
    """A formula cell with the value Excel computed and saved for it (openpyxl cannot write that)."""

    def __init__(self, formula, value):
        self.formula, self.value = formula, value


# The legacy .xlsx -------------------------------------------------------------------------------

SHANGHAI = [
    {"序号": 1, "客户名称": "上海华新科技有限公司", "客户类型": "企业", "客户等级": "重点客户",
     "所属行业": "软件和信息技术", "联系人": "王　伟", "职务": "总经理", "手机号码": 13812345678,
     "联系电话": "021-55551234",
     "邮箱": " WANG.WEI@HUAXIN.COM ", "省份": "上海", "城市": "上海市", "详细地址": "浦东新区张江路１２３号",
     "负责人": "张三", "建档日期": datetime.date(2019, 3, 5), "成交金额": "¥12,000", "备注": "老客户"},
    {"序号": "2", "客户名称": "上海　东方明珠文化传播有限公司 ", "客户类型": "企业", "客户等级": "B类",
     "所属行业": "文化传媒", "联系人": "李娜", "职务": "采购经理", "手机号码": "+86 139-0000-1111",
     "联系电话": "(021)5555-6666", "邮箱": "lina@dfmz.cn", "省份": "上海市", "城市": "上海",
     "详细地址": "黄浦区南京东路100号", "负责人": "张三", "建档日期": 43530, "成交金额": "1.2万"},
    {"序号": 3, "客户名称": "ＡＢＣ（上海）贸易有限公司", "客户类型": "企业", "客户等级": "A", "所属行业": "批发零售",
     "联系人": "Tom Lee", "职务": "经理", "手机号码": "13900001111", "省份": "上海", "城市": "上海",
     "负责人": "李四", "建档日期": "2021年3月5日", "成交金额": Cached("=6000*2", 12000), "备注": "  需回访 "},
]
ZHEJIANG = [
    {"序号": 4, "客户名称": "杭州西湖教育科技有限公司", "客户类型": "企业", "客户等级": "C类", "所属行业": "教育",
     "联系人": "赵敏", "职务": "校长", "手机号码": 13700001234.0, "联系电话": "0571-88886666",
     "邮箱": "zhaomin@xihu.edu.cn", "省份": "浙江省", "城市": "杭州市", "详细地址": "西湖区文三路90号",
     "负责人": "王五", "建档日期": datetime.date(2020, 1, 15), "成交金额": 8000},
    {"序号": 5, "客户名称": "宁波市第一中学", "客户类型": "学校", "客户等级": "重点客户", "所属行业": "教育",
     "联系人": "钱老师", "职务": "教务主任", "手机号码": "138 0574 1234", "联系电话": "0574-87654321", "省份": "浙江",
     "城市": "宁波", "详细地址": "海曙区中山西路1号", "负责人": "王五", "建档日期": "2020/6/1", "成交金额": "5000元",
     "备注": "学校客户"},
    {"客户名称": "杭州明远贸易有限公司"},  # only a name: still a customer
    {"序号": 7, "客户名称": "温州瓯江医院", "客户类型": "医院", "客户等级": "B类", "所属行业": "医疗",
     "联系人": "孙医生", "职务": "院长", "手机号码": "1366666777", "邮箱": "sun@ojyy", "省份": "浙江",
     "城市": "温州", "负责人": "赵六",
     "建档日期": "2020-13-45", "成交金额": "-"},
]


def legacy_xlsx(path, rows=None):
    """The customer list of a regional sales office, as kept in Excel for years.

    Sheet "客户名单": a merged title row, a merged date line, a blank row, the headings, a merged
    section row "上海市（N家）", data rows with the usual mess (full-width text and spaces, phones as
    numbers and as "+86 139-…" text, numbers stored as text, dates as dates, Excel serials and
    "2021年3月5日", amounts "¥12,000" and "1.2万", tiers "重点客户"/"B类", a formula whose cached value
    is 12000), a blank row, the headings again (as after a page break), a second section, a "合计"
    row. Sheet "说明" holds notes. `rows` (dicts keyed by heading; extra keys become extra columns)
    replaces the data: the first half goes under the first section, the rest under the second.
    """
    first, second = (SHANGHAI, ZHEJIANG) if rows is None else _halves(rows)
    headings = _headings(LEGACY_HEADINGS, (first, second))
    width = len(headings)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "客户名单"
    out = _SheetWriter(sheet, width)
    out.banner("2019年华东区客户名单", "title")
    out.banner("制表日期：2019年12月31日　　单位：元", "title")
    out.row([], "title")
    header_row = out.row(headings, "heading")
    out.banner(f"上海市（{len(first)}家）", "section")
    data = [out.data(record, headings) for record in first]
    out.row([], "blank")
    out.row(headings, "header")
    out.banner(f"浙江省（{len(second)}家）", "section")
    data += [out.data(record, headings) for record in second]
    total = sum(_amount(record.get("成交金额")) for record in (*first, *second))
    totals = [None] * width
    totals[0], totals[headings.index("成交金额")] = "合计", total
    out.row(totals, "total")
    sheet.merge_cells(start_row=out.index, start_column=1, end_row=out.index, end_column=2)
    notes = book.create_sheet("说明")
    for line in ("填写说明", "1. 客户名称必填，其余选填。", "2. 客户等级：重点客户、A类、B类、C类。",
                 "3. 金额单位：元。"):
        notes.append([line])
    book.save(path)
    _write_cached_values(path, "xl/worksheets/sheet1.xml", out.cached)
    return out.describe(sheet="客户名单", sheets=["客户名单", "说明"], header_row=header_row, headings=headings,
                        names=[record.get("客户名称") for record in (*first, *second)], data_indexes=data,
                        formulas=out.formulas)


def _halves(rows):
    middle = (len(rows) + 1) // 2
    return rows[:middle], rows[middle:]


def _headings(base, groups):
    headings = list(base)
    for group in groups:
        for record in group:
            headings.extend(key for key in record if key not in headings)
    return headings


def _amount(value):
    if isinstance(value, Cached):
        value = value.value
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


class _SheetWriter:
    """Appends rows to an openpyxl sheet and remembers what each one is."""

    def __init__(self, sheet, width):
        self.sheet, self.width = sheet, width
        self.index = 0  # 1-based number of the last row written
        self.kinds = []
        self.cached = {}  # cell reference → Cached
        self.formulas = []

    def row(self, values, kind):
        self.index += 1
        for column, value in enumerate(values, start=1):
            if isinstance(value, Cached):
                ref = f"{get_column_letter(column)}{self.index}"
                self.cached[ref] = value
                self.formulas.append({"row": self.index - 1, "column": column - 1, "formula": value.formula,
                                      "value": value.value})
                value = value.formula
            if value is not None:
                self.sheet.cell(row=self.index, column=column, value=value)
        self.kinds.append(kind)
        return self.index - 1

    def banner(self, text, kind):
        index = self.row([text], kind)
        self.sheet.merge_cells(start_row=self.index, start_column=1, end_row=self.index, end_column=self.width)
        return index

    def data(self, record, headings):
        return self.row([record.get(heading) for heading in headings], "data")

    def describe(self, **extra):
        kinds = self.kinds
        after = kinds[extra["header_row"] + 1:]
        return {**extra, "rows": len(kinds), "title_rows": extra["header_row"], "data_rows": after.count("data"),
                "sections": after.count("section"), "totals": after.count("total"), "blank": after.count("blank"),
                "repeated_headers": after.count("header"),
                "kinds": {index: kind for index, kind in enumerate(kinds) if index > extra["header_row"]}}


def _write_cached_values(path, part, cached):
    """Give formula cells of `part` the cached value Excel would have saved, rewriting the zip."""
    if not cached:
        return
    def cache(xml):
        for ref, cell in cached.items():
            xml, found = re.subn(
                rf'<c r="{ref}"([^>]*?)(?: t="[a-zA-Z]+")?([^>]*)>.*?</c>',
                rf'<c r="{ref}"\1\2><f>{cell.formula.lstrip("=")}</f><v>{cell.value}</v></c>', xml, count=1)
            assert found, ref
        return xml

    _rewrite_part(path, part, cache)


def _rewrite_part(path, part, edit):
    """Rewrite the zip at `path` with the XML of `part` replaced by edit(xml)."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            if info.filename == part:
                data = edit(data.decode("utf-8")).encode("utf-8")
            archive.writestr(info, data)


# The legacy .xls --------------------------------------------------------------------------------

BEIJING = [
    {"客户名称": "北京市海淀实验小学", "联系人": "刘老师", "手机号码": 13811112222, "联系电话": "010-62345678",
     "建档日期": datetime.date(2018, 9, 1), "备注": "重点学校"},
    {"客户名称": "北京博远咨询有限公司", "联系人": "陈　静", "手机号码": "139 1111 2222", "联系电话": "",
     "建档日期": "2018年10月8日", "备注": None},
]
TIANJIN = [
    {"客户名称": "天津滨海新区第三中学", "联系人": "周主任", "手机号码": "13622223333", "联系电话": "022-25556666",
     "建档日期": datetime.date(2019, 2, 20), "备注": ""},
    {"客户名称": "天津港华物流有限公司", "联系人": "吴经理", "手机号码": 15900001111.0, "联系电话": None,
     "建档日期": 43600, "备注": "年底回访"},
]
XLS_HEADINGS = ("客户名称", "联系人", "手机号码", "联系电话", "建档日期", "备注")


def legacy_xls(path, rows=None):
    """An .xls from an older office: merged title row, headings, sections "北京市（N所）" and
    "二、天津地区", data rows, a "合计" row; a second sheet "Sheet2" left empty but for a note."""
    import xlwt

    first, second = (BEIJING, TIANJIN) if rows is None else _halves(rows)
    headings = _headings(XLS_HEADINGS, (first, second))
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("客户")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    kinds = []

    def write(values, kind, merge=False):
        index = len(kinds)
        if merge:
            sheet.write_merge(index, index, 0, len(headings) - 1, values[0])
        else:
            for column, value in enumerate(values):
                if isinstance(value, datetime.date):
                    sheet.write(index, column, value, date_style)
                elif value is not None:
                    sheet.write(index, column, value)
        kinds.append(kind)
        return index

    write(["2018年北京、天津学校及企业客户"], "title", merge=True)
    header_row = write(headings, "heading")
    write([f"北京市（{len(first)}所）"], "section", merge=True)
    for record in first:
        write([record.get(h) for h in headings], "data")
    write(["二、天津地区"], "section", merge=True)
    for record in second:
        write([record.get(h) for h in headings], "data")
    write(["合计", f"{len(first) + len(second)}家"], "total")
    book.add_sheet("Sheet2").write(0, 0, "备用")
    book.save(path)
    after = kinds[header_row + 1:]
    return {"sheet": "客户", "sheets": ["客户", "Sheet2"], "header_row": header_row, "headings": headings,
            "rows": len(kinds), "data_rows": after.count("data"), "sections": after.count("section"),
            "totals": after.count("total"), "blank": 0, "repeated_headers": 0,
            "names": [record.get("客户名称") for record in (*first, *second)],
            "kinds": {index: kind for index, kind in enumerate(kinds) if index > header_row}}


# CSV files --------------------------------------------------------------------------------------

GBK_HEADINGS = ("客户名称", "客户类型", "联系人", "手机", "电话", "邮箱", "省份", "城市", "地址", "负责人",
                "创建日期", "备注")
GBK_ROWS = [
    {"客户名称": "苏州工业园区星海实验中学", "客户类型": "学校", "联系人": "王喆", "手机": "13912345678",
     "电话": "0512-66667777", "邮箱": "wangzhe@xhsy.edu.cn", "省份": "江苏", "城市": "苏州",
     "地址": "工业园区星海街1号", "负责人": "张三", "创建日期": "2020/9/1", "备注": "镕基楼，三楼"},
    {"客户名称": "南京金陵制药有限公司", "客户类型": "企业", "联系人": "李　强", "手机": "1.3812345679E+10",
     "电话": "025-84445555", "邮箱": "", "省份": "江苏省", "城市": "南京市", "地址": "玄武区中山路88号",
     "负责人": "李四", "创建日期": "2019年5月20日", "备注": "“重要”客户"},
    {"客户名称": "无锡华光电子厂", "客户类型": "企业", "联系人": "赵刚", "手机": "13700001111", "电话": "",
     "邮箱": "zhaogang@hg-dz.com", "省份": "江苏", "城市": "无锡", "地址": "", "负责人": "王五",
     "创建日期": "2021-01-08", "备注": ""},
]


def gbk_csv(path, rows=None):
    """A CSV saved by Chinese Excel ("CSV (逗号分隔)"): GBK, Chinese headings in the first line, a
    name with a character outside GB2312 (王喆), a phone Excel turned into 1.3812345679E+10."""
    rows = GBK_ROWS if rows is None else rows
    headings = _headings(GBK_HEADINGS, (rows,))
    _write_csv(path, headings, rows, encoding="gbk", delimiter=",")
    return {"header_row": 0, "headings": headings, "rows": len(rows) + 1, "data_rows": len(rows),
            "names": [record.get("客户名称") for record in rows]}


def _write_csv(path, headings, rows, *, encoding, delimiter):
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(headings)
        for record in rows:
            writer.writerow(["" if record.get(h) is None else record.get(h) for h in headings])


ENGLISH_ROWS = [
    {"Account Name": "Shanghai Huaxin Technology Co., Ltd.", "Type": "Customer", "Rating": "Hot",
     "Industry": "Technology", "Phone": "+86 21 5555 1234", "Mobile": "+86 138 1234 5678",
     "Email": "info@huaxin.example.com", "Website": "www.huaxin.example.com", "Billing Street": "123 Zhangjiang Rd",
     "Billing City": "Shanghai", "Billing State/Province": "Shanghai", "Account Owner": "Zhang San",
     "Created Date": datetime.datetime(2021, 3, 5, 10, 20), "Description": "Key account",
     "Contact Name": "Wei Wang", "Title": "CEO"},
    {"Account Name": "北京博远咨询有限公司", "Type": "Prospect", "Rating": "Warm", "Industry": "Consulting",
     "Phone": "010-6234 5678", "Mobile": "", "Email": "contact@boyuan.example.cn", "Website": "",
     "Billing Street": "海淀区中关村大街1号", "Billing City": "北京", "Billing State/Province": "北京",
     "Account Owner": "Li Si", "Created Date": datetime.datetime(2022, 11, 30, 8, 0), "Description": "",
     "Contact Name": "Jing Chen", "Title": "Partner"},
    {"Account Name": "Guangzhou Pearl River Trading Ltd", "Type": "Partner", "Rating": "Cold", "Industry": "Retail",
     "Phone": "(020) 8888-9999", "Mobile": "13600001111", "Email": "", "Website": "http://pearl.example.com",
     "Billing Street": "", "Billing City": "Guangzhou", "Billing State/Province": "Guangdong",
     "Account Owner": "Wang Wu", "Created Date": datetime.datetime(2020, 6, 1, 9, 30), "Description": "",
     "Contact Name": "Tom Lee", "Title": "Buyer"},
]


def english_crm_xlsx(path, rows=None):
    """An account export from another CRM: English headings in row 1, real dates, no frills."""
    rows = ENGLISH_ROWS if rows is None else rows
    headings = _headings(ENGLISH_HEADINGS, (rows,))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Accounts"
    sheet.append(headings)
    for record in rows:
        sheet.append([record.get(h) for h in headings])
    book.save(path)
    return {"sheet": "Accounts", "header_row": 0, "headings": headings, "rows": len(rows) + 1,
            "data_rows": len(rows), "mapping": ENGLISH_MAPPING, "names": [r.get("Account Name") for r in rows]}


def english_crm_csv(path, rows=None, *, delimiter=",", encoding="utf-8"):
    """The same export as CSV; dates as the other CRM writes them ("2021-03-05 10:20").
    encoding="utf-8-sig" writes a BOM, as Excel's "CSV UTF-8" does; delimiter ";" as European Excel."""
    rows = ENGLISH_ROWS if rows is None else rows
    headings = _headings(ENGLISH_HEADINGS, (rows,))
    text_rows = [{h: (v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime.datetime) else v)
                  for h, v in record.items()} for record in rows]
    _write_csv(path, headings, text_rows, encoding=encoding, delimiter=delimiter)
    return {"header_row": 0, "headings": headings, "rows": len(rows) + 1, "data_rows": len(rows),
            "mapping": ENGLISH_MAPPING, "names": [r.get("Account Name") for r in rows]}


# Hostile and wrong files ------------------------------------------------------------------------

_LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
BILLION_LAUGHS = f'<!DOCTYPE worksheet [<!ENTITY lol0 "lol">{_LAUGHS}]>'


def entity_expansion_xlsx(path, part="xl/worksheets/sheet1.xml", padding=0):
    """A workbook whose `part` declares the "billion laughs" entities and uses the last one in A2;
    `padding` characters of XML comment before the DOCTYPE push it past a quick look at the start."""
    book = openpyxl.Workbook()
    book.active["A1"] = "客户名称"
    book.active["A2"] = "PLACEHOLDER"
    book.save(path)
    prolog = (f"<!--{'x' * padding}-->" if padding else "") + BILLION_LAUGHS

    def entity_bomb(xml):
        xml = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + prolog, xml, count=1)
        return xml.replace("PLACEHOLDER", "&lol9;")

    _rewrite_part(path, part, entity_bomb)


def zip_bomb_xlsx(path, kind="ratio"):
    """A workbook that would swamp the server if opened.

    "ratio": the sheet part holds 32 MiB of blanks, deflated to ~32 KB (1000:1).
    "entries": a real workbook with 10,001 extra empty parts.
    "claimed": a small workbook whose zip directory claims the sheet unpacks to 3 GB.
    """
    english_crm_xlsx(path)
    with zipfile.ZipFile(path) as archive:
        entries = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            if kind == "ratio" and info.filename == "xl/worksheets/sheet1.xml":
                with archive.open(info.filename, "w", force_zip64=True) as part:
                    head, tail = data.split(b"<sheetData>", 1)
                    part.write(head + b"<sheetData>")
                    blanks = b" " * (1 << 20)
                    for _ in range(32):
                        part.write(blanks)
                    part.write(tail)
            else:
                archive.writestr(info, data)
        if kind == "entries":
            for number in range(10_001):
                archive.writestr(f"xl/media/part{number}.bin", b"")
    if kind == "claimed":
        _claim_size(path, "xl/worksheets/sheet1.xml", 3_000_000_000)


def _claim_size(path, name, size):
    """Overwrite the uncompressed size the zip's central directory gives for `name`."""
    with open(path, "r+b") as handle:
        data = handle.read()
        end = data.rindex(b"PK\x05\x06")
        count, _size, offset = struct.unpack("<HII", data[end + 10:end + 20])
        for _ in range(count):
            assert data[offset:offset + 4] == b"PK\x01\x02"
            name_len, extra_len, comment_len = struct.unpack("<HHH", data[offset + 28:offset + 34])
            if data[offset + 46:offset + 46 + name_len].decode() == name:
                handle.seek(offset + 24)
                handle.write(struct.pack("<I", size))
                return
            offset += 46 + name_len + extra_len + comment_len
    raise ValueError(name)


def not_a_spreadsheet(path, kind="png"):
    """Bytes that are no importable spreadsheet, whatever the file is called.

    "png", "pdf", "random": other files; "docx": a zip without a workbook; "html": a web page saved as
    .xls by an old system; "xml2003": an Excel 2003 XML spreadsheet; "ods" and "xlsb": zips of other
    spreadsheet formats; "doc": an OLE2 file that is a Word document; "encrypted": the OLE2 wrapper
    Excel puts around a password-protected workbook (its "EncryptedPackage" stream; not a full file).
    """
    zips = {
        "docx": {"[Content_Types].xml": "<Types/>", "word/document.xml": "<document>客户名单</document>"},
        "ods": {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<office/>"},
        "xlsb": {"[Content_Types].xml": "<Types/>", "xl/workbook.bin": "\x83\x01\x00"},
    }
    if kind in zips:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in zips[kind].items():
                archive.writestr(name, text)
        return
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    data = {
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + bytes(64),
        "pdf": b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n",
        "random": random.Random(7).randbytes(4096),
        "html": '<html><head><meta charset="utf-8"></head><body><table><tr><td>客户名称</td></tr></table>'
                '</body></html>'.encode(),
        "xml2003": b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
                   b'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>',
        "doc": ole2 + "Root Entry".encode("utf-16-le") + bytes(54) + "WordDocument".encode("utf-16-le") + bytes(1024),
        "encrypted": ole2 + "Root Entry".encode("utf-16-le") + bytes(54)
        + "EncryptedPackage".encode("utf-16-le") + bytes(1024),
    }[kind]
    with open(path, "wb") as handle:
        handle.write(data)


# The benchmark file -----------------------------------------------------------------------------

BIG_HEADINGS = ("序号", "客户名称", "客户类型", "客户等级", "所属行业", "联系人", "手机号码", "联系电话", "邮箱",
                "省份", "城市", "详细地址", "负责人", "建档日期", "成交金额")
_PROVINCES = {
    "上海市": ("上海",), "北京市": ("北京",), "浙江省": ("杭州", "宁波", "温州", "绍兴", "嘉兴", "金华"),
    "江苏省": ("南京", "苏州", "无锡", "常州", "南通", "扬州"), "广东省": ("广州", "深圳", "东莞", "佛山", "珠海"),
    "山东省": ("济南", "青岛", "烟台", "潍坊"), "四川省": ("成都", "绵阳", "德阳"),
    "湖北省": ("武汉", "宜昌", "襄阳"), "福建省": ("福州", "厦门", "泉州"), "河南省": ("郑州", "洛阳"),
    "湖南省": ("长沙", "株洲"), "安徽省": ("合肥", "芜湖"),
}
_TRADE = "华新东方明远博达中恒安泰瑞丰鼎盛宏图金鑫润德天成永和嘉禾汇通宇航星海正大信诚景辉元亨利贞致远腾飞康宁佳美" \
         "百川海纳盛世长青启明晨光"
_TRADES = sorted({_TRADE[i:i + 2] for i in range(0, len(_TRADE) - 1, 2)}
                 | {a + b for a in "华宏鑫泰恒" for b in "盛源达通丰"})
_INDUSTRY_WORDS = ("科技", "贸易", "电子", "机械", "建材", "医药", "物流", "文化传播", "教育科技", "信息技术", "食品",
                   "纺织", "化工", "环保科技", "网络科技", "实业", "投资", "咨询", "广告", "软件")
# Area codes with the length of their local numbers.
_AREA_CODES = (("010", 8), ("021", 8), ("020", 8), ("022", 8), ("023", 8), ("025", 8), ("027", 8), ("028", 8),
               ("0571", 8), ("0755", 8), ("0512", 8), ("0371", 8), ("0531", 8), ("0591", 8), ("0931", 7))
# Industries as the seeded picklist names them (a company's own list would be configured first).
_INDUSTRIES = ("制造业", "信息技术", "零售", "教育", "医疗", "金融", "物流", "能源", "政府", "其他")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀英",
          "建华", "晓东")
_OWNERS = ("张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十")
_TIERS = ("重点客户", "A类", "B类", "C类", "普通", "VIP", "一般客户", None)
_KINDS = ("企业", "企业", "企业", "个人", "事业单位", "学校", "医院", "政府机关")
_BAD_PHONES = ("1381234567", "无", "138-1234-567", "12345", "待补充", "021-")
_BAD_DATES = ("2020-02-30", "待定", "2019.13.1", "去年", "2021年14月3日", "00/00/0000")


def big_legacy_xlsx(path, rows=100_000, seed=1):
    """A `rows`-customer legacy list (15 columns) with the mess of legacy_xlsx at realistic rates:
    about 2% repeats of an earlier customer, 1% bad phones, 1% bad dates, a section row every
    300-500 customers, a title row above the headings and a "合计" row at the end. The same for the
    same seed; written by write_fast_xlsx (100k rows in a few seconds, shared strings as Excel writes)."""
    rng = random.Random(seed)
    made = _BigRows(rng)

    def sheet_rows():
        yield ["2019-2023年全国客户名单（导出）"]
        yield []
        yield list(BIG_HEADINGS)
        while made.count < rows:
            province = rng.choice(list(_PROVINCES))
            size = min(rng.randint(300, 500), rows - made.count)
            made.sections += 1
            yield [f"{province}（{size}家）"]
            for _ in range(size):
                yield made.row(province)
        yield ["合计", f"{made.count}家"]

    written = write_fast_xlsx(path, "客户名单", sheet_rows(), width=len(BIG_HEADINGS))
    return {"sheet": "客户名单", "header_row": 2, "headings": list(BIG_HEADINGS), "rows": written,
            "data_rows": made.count, "sections": made.sections, "totals": 1, "duplicates": made.duplicates,
            "bad_phones": made.bad_phones, "bad_dates": made.bad_dates}


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FAST_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
        f'Type="{_REL_NS}/officeDocument"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="{_REL_NS}/worksheet"/>'
        f'<Relationship Id="rId2" Target="styles.xml" Type="{_REL_NS}/styles"/>'
        f'<Relationship Id="rId3" Target="sharedStrings.xml" Type="{_REL_NS}/sharedStrings"/></Relationships>'),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_NS}"><fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}
_EPOCH = datetime.datetime(1899, 12, 30)


def write_fast_xlsx(path, sheet_name, rows, *, width):
    """Write `rows` (lists of None, str, int, float, date, datetime; at most `width` cells) as the one
    sheet of an .xlsx, the way Excel stores it (shared strings, dates as serials with a date format),
    several times faster than openpyxl. Returns the number of rows written."""
    from xml.sax.saxutils import escape

    letters = [get_column_letter(column) for column in range(1, width + 1)]
    strings = {}
    count = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, xml in _FAST_PARTS.items():
            archive.writestr(name, _XML_HEAD + xml)
        archive.writestr("xl/workbook.xml", f'{_XML_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL_NS}"><sheets>'
                                            f'<sheet name="{escape(sheet_name)}" sheetId="1" r:id="rId1"/>'
                                            '</sheets></workbook>')
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'{_XML_HEAD}<worksheet xmlns="{_NS}"><sheetData>'.encode())
            chunk = []
            for count, values in enumerate(rows, start=1):
                cells = "".join(_fast_cell(f"{letters[column]}{count}", value, strings, escape)
                                for column, value in enumerate(values) if value is not None)
                chunk.append(f'<row r="{count}">{cells}</row>')
                if len(chunk) >= 2000:
                    part.write("".join(chunk).encode())
                    chunk = []
            part.write(("".join(chunk) + "</sheetData></worksheet>").encode())
        shared = "".join(f'<si><t xml:space="preserve">{escape(text)}</t></si>' for text in strings)
        archive.writestr("xl/sharedStrings.xml", f'{_XML_HEAD}<sst xmlns="{_NS}" count="{len(strings)}" '
                                                 f'uniqueCount="{len(strings)}">{shared}</sst>')
    return count


def _fast_cell(ref, value, strings, escape):
    if isinstance(value, str):
        index = strings.setdefault(value, len(strings))
        return f'<c r="{ref}" t="s"><v>{index}</v></c>'
    if isinstance(value, datetime.datetime):
        return f'<c r="{ref}" s="1"><v>{(value - _EPOCH) / datetime.timedelta(days=1)}</v></c>'
    if isinstance(value, datetime.date):
        return f'<c r="{ref}" s="1"><v>{(value - _EPOCH.date()).days}</v></c>'
    return f'<c r="{ref}"><v>{value!r}</v></c>'


class _BigRows:
    """The customers of big_legacy_xlsx, one row at a time."""

    def __init__(self, rng):
        self.rng = rng
        self.count = self.sections = self.duplicates = self.bad_phones = self.bad_dates = 0
        self.names = []
        self._taken = set()

    def row(self, province):
        rng = self.rng
        self.count += 1
        odd = rng.random()
        city = rng.choice(_PROVINCES[province])
        if odd < 0.02 and self.names:
            self.duplicates += 1
            name = rng.choice(self.names)
            name = name if rng.random() < 0.7 else name[:2] + "　" + name[2:] + " "
        else:
            name = self._new_name(city)
        phone = self._phone()
        if 0.02 <= odd < 0.03:
            self.bad_phones += 1
            phone = rng.choice(_BAD_PHONES)
        created = self._date()
        if 0.03 <= odd < 0.04:
            self.bad_dates += 1
            created = rng.choice(_BAD_DATES)
        person = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        return [
            self.count if rng.random() < 0.95 else str(self.count), name, rng.choice(_KINDS), rng.choice(_TIERS),
            rng.choice(_INDUSTRIES), person, phone,
            self._landline() if rng.random() < 0.7 else None,
            f"contact{self.count}@example{rng.randint(1, 999)}.com" if rng.random() < 0.6 else None,
            province if rng.random() < 0.8 else province[:-1], city + "市",
            f"{rng.choice('东西南北中')}{rng.choice(('山', '海', '湖', '江', '河'))}路{rng.randint(1, 999)}号",
            rng.choice(_OWNERS), created, self._amount(),
        ]

    def _new_name(self, city):
        rng = self.rng
        while True:
            name = f"{city}{rng.choice(_TRADES)}{rng.choice(_INDUSTRY_WORDS)}有限公司"
            if name not in self._taken:
                break
            name = f"{city}{rng.choice(_TRADES)}{rng.choice(_TRADES)}{rng.choice(_INDUSTRY_WORDS)}有限公司"
            if name not in self._taken:
                break
        self._taken.add(name)
        self.names.append(name)
        return name

    def _phone(self):
        rng = self.rng
        number = rng.choice((138, 139, 136, 137, 150, 151, 158, 186, 188, 189, 199)) * 10**8 + rng.randint(0, 10**8 - 1)
        form = rng.random()
        if form < 0.6:
            return number
        text = str(number)
        if form < 0.8:
            return text
        if form < 0.9:
            return f"+86 {text[:3]}-{text[3:7]}-{text[7:]}"
        if form < 0.99:
            return f"{text[:3]} {text[3:7]} {text[7:]}"
        return None

    def _landline(self):
        """A landline as legacy lists write it: a real area code, a dash or a space, the local number."""
        rng = self.rng
        area, digits = rng.choice(_AREA_CODES)
        local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))
        return f"{area}{rng.choice('- ')}{local}" if rng.random() < 0.9 else f"({area}){local}"

    def _date(self):
        rng = self.rng
        day = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randint(0, 3000))
        form = rng.random()
        if form < 0.8:
            return day
        if form < 0.88:
            return day.isoformat()
        if form < 0.93:
            return f"{day.year}年{day.month}月{day.day}日"
        if form < 0.97:
            return (day - datetime.date(1899, 12, 30)).days  # an Excel serial without a date format
        return f"{day.year}/{day.month}/{day.day}"

    def _amount(self):
        rng = self.rng
        form = rng.random()
        if form < 0.35:
            return None
        value = rng.randint(1, 500) * 1000
        if form < 0.85:
            return value if rng.random() < 0.7 else value + 0.5
        if form < 0.95:
            return f"¥{value:,}"
        return f"{value / 10000:g}万"
