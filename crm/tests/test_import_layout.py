"""Finding the heading row, mapping columns to fields and telling data rows from titles, sections,
repeated headings and totals, on the builders' legacy files. No database."""
import itertools

import pytest

from crm.imports import layout
from crm.imports.read import open_workbook
from crm.tests import import_files


def _rows(path, sheet=None):
    with open_workbook(path) as book:
        return list(book.rows(sheet))


def _kinds(rows, header_row):
    header = rows[header_row]
    mapping = layout.auto_mapping(header)
    return {index: layout.classify(row, header, mapping) for index, row in enumerate(rows) if index > header_row}


@pytest.mark.parametrize("build, name", [
    (import_files.legacy_xlsx, "legacy.xlsx"), (import_files.legacy_xls, "legacy.xls"),
    (import_files.gbk_csv, "gbk.csv"), (import_files.english_crm_xlsx, "accounts.xlsx"),
    (import_files.english_crm_csv, "accounts.csv"),
])
def test_it_finds_the_heading_row_of_every_builders_file(tmp_path, build, name):
    described = build(tmp_path / name)
    assert layout.find_header(_rows(tmp_path / name)) == described["header_row"]


def test_it_finds_headings_in_row_one_and_reads_no_further_than_it_scans():
    def sheet():
        yield ["客户名称", "手机", "地址"]
        yield ["上海华新科技有限公司", "13812345678", "浦东新区"]
        for _ in range(28):
            yield []
        raise AssertionError("read past the scanned rows")

    assert layout.find_header(sheet(), scan=30) == 0


def test_it_skips_titles_and_needs_two_headings_or_a_name_among_three():
    title = ["2019年北京地区学校客户名单"]
    assert layout.find_header([title, [], ["客户名称", "地区", "联系方式"]]) == 2
    assert layout.find_header([title, ["客户名称"], ["上海华新科技有限公司"]]) is None
    assert layout.find_header([title, ["2019", "2020"], [1, 2, 3]]) is None
    assert layout.find_header([["城市", "华东区"], ["城市", "电话", "地址"]]) == 1


def test_it_maps_the_chinese_and_english_headings(tmp_path):
    described = import_files.legacy_xlsx(tmp_path / "legacy.xlsx")
    assert layout.auto_mapping(described["headings"]) == import_files.LEGACY_MAPPING
    assert layout.auto_mapping(import_files.ENGLISH_HEADINGS) == import_files.ENGLISH_MAPPING
    assert layout.auto_mapping(import_files.BIG_HEADINGS) == {
        1: "name", 2: "kind", 3: "tier", 4: "industry", 5: "contact_name", 6: "mobile", 7: "phone", 8: "email",
        9: "province", 10: "city", 11: "address", 12: "owner", 13: "created_at", 14: "deal_amount"}


@pytest.mark.parametrize("headings, mapping", [
    (["客户名称（全称）", "手机号码/电话", "负责人电话", "客户编号", "成交金额(元)"],
     {0: "name", 1: "mobile", 2: "phone", 4: "deal_amount"}),
    (["Ｅ－ｍａｉｌ", " 手机 号码： ", "Billing City", "Created Date", "Cancelled"],
     {0: "email", 1: "mobile", 2: "city", 3: "created_at"}),
    (["客户名称（全称）", "客户名称"], {1: "name"}),  # an exact heading beats a near one
    (["电话", "联系电话", "手机"], {0: "phone", 2: "mobile"}),  # each field once, the first column wins
    (["序号", None, 2019, "", "Account ID"], {}),
])
def test_it_maps_near_headings_and_uses_each_field_once(headings, mapping):
    assert layout.auto_mapping(headings) == mapping


def test_it_classifies_every_row_of_the_legacy_xlsx(tmp_path):
    described = import_files.legacy_xlsx(tmp_path / "legacy.xlsx")
    kinds = _kinds(_rows(tmp_path / "legacy.xlsx"), described["header_row"])
    assert kinds == described["kinds"]
    counts = {kind: list(kinds.values()).count(kind) for kind in set(kinds.values())}
    assert counts == {"data": described["data_rows"], "section": described["sections"],
                      "total": described["totals"], "blank": described["blank"],
                      "header": described["repeated_headers"]}


def test_it_classifies_every_row_of_the_legacy_xls(tmp_path):
    described = import_files.legacy_xls(tmp_path / "legacy.xls")
    assert _kinds(_rows(tmp_path / "legacy.xls"), described["header_row"]) == described["kinds"]


def test_it_keeps_custom_rows_as_data_and_counts_them(tmp_path):
    rows = [{"客户名称": f"测试客户{n}有限公司", "手机号码": f"1380000{n:04d}", "微信": f"wx{n}"} for n in range(5)]
    described = import_files.legacy_xlsx(tmp_path / "custom.xlsx", rows=rows)
    sheet = _rows(tmp_path / "custom.xlsx")
    assert described["headings"][-1] == "微信"
    assert layout.auto_mapping(sheet[described["header_row"]])[len(described["headings"]) - 1] == "contact_wechat"
    assert _kinds(sheet, described["header_row"]) == described["kinds"]
    assert described["data_rows"] == 5


def test_it_classifies_a_generated_big_file(tmp_path):
    described = import_files.big_legacy_xlsx(tmp_path / "big.xlsx", rows=2000)
    rows = _rows(tmp_path / "big.xlsx")
    assert layout.find_header(rows) == described["header_row"]
    kinds = list(_kinds(rows, described["header_row"]).values())
    assert (kinds.count("data"), kinds.count("section"), kinds.count("total")) == (
        2000, described["sections"], 1)


HEADER = list(import_files.LEGACY_HEADINGS)
MAPPING = import_files.LEGACY_MAPPING


@pytest.mark.parametrize("row", [
    ["北京市（92所）"], ["二、上海地区"], [None, "华东区 (15家)"], ["=== 广东 ==="], ["第一部分：重点客户"],
    ["（三）江苏省"], ["【VIP客户】"], ["华东区"] * 17, ["1、浙江地区"], ["Section 2"],
])
def test_it_recognises_section_titles(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_SECTION


@pytest.mark.parametrize("row", [
    ["合计", None, None, 120000], [" 合 计 "], ["总计：", "92家"], ["小计"], ["Ｔｏｔａｌ"], ["Grand total:"], ["Sum"],
    ["共92家"],
])
def test_it_recognises_totals(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_TOTAL


@pytest.mark.parametrize("row", [
    [], [None, None], ["", "  ", "\u3000", "\u200b"],
])
def test_it_recognises_blank_rows(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_BLANK


def test_it_recognises_the_headings_repeated_after_a_page_break():
    again = [f" {heading}" for heading in HEADER[:12]] + ["详细 地址", "负责人：", None, None, "备注"]
    assert layout.classify(again, HEADER, MAPPING) == layout.ROW_HEADER
    assert layout.classify(HEADER, HEADER, MAPPING) == layout.ROW_HEADER


@pytest.mark.parametrize("row", [
    [None, "杭州明远贸易有限公司"],  # only a name: a customer, not a section
    ["北京市第一中学"], ["华为技术有限公司（深圳）"], ["Summit Trading Ltd"], ["Totalenergies China"],
    [1, "上海华新科技有限公司", "企业", "重点客户", "软件", "王伟", "总经理", 13812345678],
    [None, None, None, None, None, None, None, "13812345678"],  # a lone phone belongs to a customer
    ["注：以上数据截至2019年底"], [None, "客户名称", "13812345678", "上海"],
    [3, None, None, None, None, None, None, None, None, None, None, "上海市"],
])
def test_it_keeps_anything_else_as_data(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_DATA


def test_it_classifies_without_a_heading_row():
    assert layout.classify(["上海市（3家）"], [], {}) == layout.ROW_SECTION
    assert layout.classify(["客户名称", "电话"], None, {}) == layout.ROW_DATA


def test_it_scans_thirty_rows_by_default():
    rows = itertools.chain([[]] * 30, [["客户名称", "电话", "地址"]])
    assert layout.find_header(list(rows)) is None
    assert layout.find_header([[]] * 30 + [["客户名称", "电话", "地址"]], scan=31) == 30


def test_the_quick_test_for_a_repeated_heading_never_turns_one_away():
    """A cell the cheap pattern finds a foreign character in is never its column's heading, however
    it is written: full width, other cases, spaces, punctuation, look-alike letters."""
    import random

    from crm.imports.fields import heading_key

    keys = ["客户名称", "手机号码", "email", "company", "accountname", "mobile2", "联系人微信", "qq号"]
    alphabet = list("客户名称手机号码联系人微信北京有限公司emailcompanyACCOUNTnameMobile2qQ号 -_()（）:：　"
                    "ＡＢｅｍａｉｌ１２\u212a\u017f\u0130\u0131\uf900\u00e9e\u0301")
    pick = random.Random(4).choice
    for key in keys:
        foreign = layout._foreign_to(key)
        cells = [key, key.upper(), f" {key} ", "".join(f"{c} " for c in key), "（" + key + "）"]
        cells += ["".join(pick(alphabet) for _ in range(pick(range(1, 12)))) for _ in range(3000)]
        for cell in cells:
            if foreign.search(cell):
                assert heading_key(cell) != key, (key, cell)
        assert not foreign.search(key) and not foreign.search(key.upper())


def test_it_recognises_headings_repeated_in_full_width_and_other_cases():
    header = ["序号", "客户名称", "Mobile", "Email", "负责人"]
    mapping = layout.auto_mapping(header)
    assert layout.classify(["序号", "客户名称", "ＭＯＢＩＬＥ", "e-mail ", "负 责 人"], header, mapping) == layout.ROW_HEADER
    assert layout.classify([1, "上海申通物流有限公司", "13812345678", "a@b.com", "王五"], header, mapping) == layout.ROW_DATA


@pytest.mark.parametrize("heading, field", [
    ("首次合作日期", "deal_date"), ("合作时间", "deal_date"), ("开始合作时间", "deal_date"), ("Customer since", "deal_date"),
    ("所在地", "city"), ("所在城市", "city"), ("地区", "city"), ("所属地区", "city"),
    ("联系方式", "phone"), ("企业邮箱", "email"), ("官网", "website"), ("销售收入", "deal_amount"),
    ("所属人", "owner"), ("销售负责人", "owner"), ("岗位", "contact_title"), ("签约时间", "deal_date"),
])
def test_it_knows_the_headings_real_lists_use(heading, field):
    assert layout.heading_match(heading)[0] == field


@pytest.mark.parametrize("heading", ["首次合作日期", "所在地", "地区", "销售收入"])
def test_headings_that_only_come_close_are_never_exact(heading):
    assert layout.heading_match(heading)[1] == layout.PARTIAL


@pytest.mark.parametrize("heading", [
    "销售收入（万元）", "年销售收入", "销售额（去年）", "负责人提成金额", "销售费用", "客户经理分配时间", "负责人变更日期",
    "销售单价", "Owner Revenue", "客户编号", "省市", "区域",
])
def test_a_heading_naming_money_or_a_moment_never_becomes_a_person_or_text(heading):
    field, _how = layout.heading_match(heading)
    assert field not in ("owner", "contact_name", "name", "notes")
    assert field in (None, "deal_amount", "deal_date", "created_at", "last_followup_at", "next_followup_at")


HINT_ROWS = [
    ["必填", "选填", "选填", "必填", None, "格式：2021-01-01"],
    ["*必填", "（选填）", "可选", "非必填"],
    ["【必填】", "例：13800000000", "示例：sales@example.com"],
    ["Required", "optional", "format: YYYY-MM-DD", "e.g. ACME Ltd"],
    [None, "必填，填写公司全称", "选填"],
    ["示例"],
]


@pytest.mark.parametrize("row", HINT_ROWS)
def test_it_recognises_a_hint_row_under_the_headings(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_HINT


@pytest.mark.parametrize("row", [
    ["必填公司有限公司", "13812345678"], ["上海可选科技有限公司", "选填"], ["例外科技有限公司"],
    ["注：以上数据截至2019年底"], ["说明：老客户", "必填"],
])
def test_a_row_with_a_value_among_hints_is_data(row):
    assert layout.classify(row, HEADER, MAPPING) == layout.ROW_DATA


def test_the_rows_after_a_hint_row_are_read_as_data():
    rows = [["客户名称", "手机号码", "建档日期"], ["必填", "选填", "格式：2021-01-01"],
            ["上海华新科技有限公司", "13812345678", "2021-03-05"], ["杭州西湖教育科技有限公司", "", ""]]
    assert layout.find_header(rows) == 0
    assert _kinds(rows, 0) == {1: layout.ROW_HINT, 2: layout.ROW_DATA, 3: layout.ROW_DATA}
