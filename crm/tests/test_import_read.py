"""Reading uploaded spreadsheets: every format, the values as Python types, and the files refused
before any parser sees them. No database."""
import datetime

import openpyxl
import pytest
import python_calamine

from crm.imports import read
from crm.imports.read import ImportFileError, open_workbook
from crm.tests import import_files


@pytest.fixture
def legacy(tmp_path):
    path = tmp_path / "客户名单.xlsx"
    return path, import_files.legacy_xlsx(path)


def _rows(path, sheet=None, **kwargs):
    with open_workbook(path, **kwargs) as book:
        return list(book.rows(sheet))


def _refusal(path, **kwargs):
    with pytest.raises(ImportFileError) as refused:
        open_workbook(path, **kwargs)
    return str(refused.value)


@pytest.fixture
def no_parsing(monkeypatch):
    """Fail the test if a refused file reaches a spreadsheet parser."""
    def parsed(*args, **kwargs):
        raise AssertionError("the file was handed to a parser")

    monkeypatch.setattr(read, "Workbook", parsed)


# .xlsx -------------------------------------------------------------------------------------------


def test_it_reads_the_legacy_xlsx_with_calamine(legacy):
    path, described = legacy
    with open_workbook(path, filename="2019客户名单.xlsx") as book:
        assert (book.format, book.engine, book.filename) == ("xlsx", "calamine", "2019客户名单.xlsx")
        assert book.sheet_names == described["sheets"]
        assert book.row_count() == described["rows"]
        rows = list(book.rows())
    assert len(rows) == described["rows"]
    assert rows[described["header_row"]] == described["headings"]
    first, second, third = (rows[index] for index in described["data_indexes"][:3])
    assert first[7] == 13812345678 and isinstance(first[7], float)  # a phone typed as a number
    assert first[14] == datetime.date(2019, 3, 5)  # a real date
    assert first[5] == "王\u3000伟" and first[12] == "浦东新区张江路１２３号"  # width and spaces untouched
    assert second[0] == "2" and second[7] == "+86 139-0000-1111"  # numbers stored as text stay text
    assert second[14] == 43530  # an Excel serial without a date format is a number
    assert second[15] == "1.2万" and first[15] == "¥12,000"
    assert third[7] == "13900001111" and third[14] == "2021年3月5日"
    assert third[8] is None and third[9] is None  # empty cells are None


def test_it_returns_the_cached_value_of_a_formula_never_its_text(legacy):
    path, described = legacy
    rows = _rows(path)
    (formula,) = described["formulas"]
    assert rows[formula["row"]][formula["column"]] == 12000
    assert not any(isinstance(cell, str) and cell.startswith("=") for row in rows for cell in row)


def test_it_keeps_a_merged_title_or_section_row_as_one_cell_and_trims_trailing_empty_cells(legacy):
    path, described = legacy
    rows = _rows(path)
    assert rows[0] == ["2019年华东区客户名单"]
    assert rows[2] == []
    section = next(index for index, kind in described["kinds"].items() if kind == "section")
    assert rows[section] == ["上海市（3家）"]
    assert [None, "杭州明远贸易有限公司"] in rows  # a customer with only a name


def test_it_reads_the_sheet_asked_for_and_refuses_an_unknown_one(legacy):
    path, _described = legacy
    with open_workbook(path) as book:
        assert list(book.rows("说明"))[0] == ["填写说明"]
        with pytest.raises(ImportFileError, match="“价格表”"):
            book.rows("价格表")


def test_it_falls_back_to_openpyxl_when_calamine_cannot_read_the_sheet(legacy, monkeypatch):
    path, described = legacy
    expected = _rows(path)
    real = python_calamine.CalamineWorkbook

    class SheetsBreak:
        """calamine lists the sheets but fails to parse one, as on an unusual generator's XML."""

        @staticmethod
        def from_path(source):
            book = real.from_path(source)
            return type("Book", (), {
                "sheets_metadata": book.sheets_metadata, "close": book.close,
                "get_sheet_by_name": lambda self, name: (_ for _ in ()).throw(python_calamine.CalamineError(name)),
            })()

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", SheetsBreak)
    with open_workbook(path) as book:
        rows = list(book.rows())
        assert book.engine == "openpyxl"
    assert rows == expected
    assert rows[described["formulas"][0]["row"]][15] == 12000


def test_it_reads_with_openpyxl_when_calamine_cannot_open_the_file(legacy, monkeypatch):
    path, described = legacy

    class Broken:
        @staticmethod
        def from_path(source):
            raise python_calamine.CalamineError("unsupported")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Broken)
    with open_workbook(path) as book:
        assert book.engine == "openpyxl"
        assert book.sheet_names == described["sheets"]
        rows = list(book.rows())
    assert len(rows) == described["rows"]
    assert rows[described["data_indexes"][0]][14] == datetime.date(2019, 3, 5)


def test_it_keeps_excel_positions_when_data_starts_below_and_right_of_a1(tmp_path):
    book = openpyxl.Workbook()
    book.active["C3"], book.active["D3"], book.active["D5"] = "客户名称", "电话", "0571-88886666"
    book.save(tmp_path / "offset.xlsx")
    rows = _rows(tmp_path / "offset.xlsx")
    assert rows == [[], [], [None, None, "客户名称", "电话"], [], [None, None, None, "0571-88886666"]]


def test_it_copies_a_value_merged_down_a_column_into_every_row(tmp_path):
    """Offices merge 省份 down the rows of a province, and two-row headings merge a column's name."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "客户名称", "联系方式", None])
    sheet.append([None, None, "手机", "邮箱"])
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("B1:B2")
    sheet.merge_cells("C1:D1")
    for number in range(1, 4):
        sheet.append([number, f"客户{number}", f"1380000000{number}", None])
    sheet.merge_cells("D3:D5")
    sheet["D3"] = "上海"
    book.save(tmp_path / "merged.xlsx")
    rows = _rows(tmp_path / "merged.xlsx")
    assert rows[0] == ["序号", "客户名称", "联系方式"]  # merged across: one cell
    assert rows[1] == ["序号", "客户名称", "手机", "邮箱"]
    assert [row[3] for row in rows[2:]] == ["上海", "上海", "上海"]


def test_it_lists_visible_sheets_first(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "lookup"
    book.active.sheet_state = "hidden"
    book.create_sheet("客户")["A1"] = "客户名称"
    book.save(tmp_path / "hidden.xlsx")
    with open_workbook(tmp_path / "hidden.xlsx") as opened:
        assert opened.sheet_names == ["客户", "lookup"]
        assert list(opened.rows()) == [["客户名称"]]


def test_it_reads_every_row_of_a_generated_big_file(tmp_path):
    described = import_files.big_legacy_xlsx(tmp_path / "big.xlsx", rows=2000)
    with open_workbook(tmp_path / "big.xlsx") as book:
        assert book.row_count() == described["rows"]
        rows = list(book.rows())
    assert len(rows) == described["rows"]
    assert rows[described["header_row"]] == described["headings"]


# .xls --------------------------------------------------------------------------------------------


def test_it_reads_an_xls_with_calamine(tmp_path):
    described = import_files.legacy_xls(tmp_path / "客户.xls")
    with open_workbook(tmp_path / "客户.xls") as book:
        assert (book.format, book.engine) == ("xls", "calamine")
        assert book.sheet_names == described["sheets"]
        assert book.row_count() == described["rows"]
        rows = list(book.rows())
    assert rows[0] == ["2018年北京、天津学校及企业客户"]
    assert rows[described["header_row"]] == described["headings"]
    assert rows[3] == ["北京市海淀实验小学", "刘老师", 13811112222, "010-62345678", datetime.date(2018, 9, 1),
                       "重点学校"]
    assert rows[4][2] == "139 1111 2222"


def test_it_falls_back_to_xlrd_for_an_xls(tmp_path, monkeypatch):
    described = import_files.legacy_xls(tmp_path / "客户.xls")
    expected = _rows(tmp_path / "客户.xls")

    class Broken:
        @staticmethod
        def from_path(source):
            raise python_calamine.CalamineError("unsupported")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Broken)
    with open_workbook(tmp_path / "客户.xls") as book:
        assert book.engine == "xlrd"
        assert book.sheet_names == described["sheets"]
        rows = list(book.rows())
    assert rows == expected
    assert rows[3][4] == datetime.date(2018, 9, 1)


# CSV ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_it_reads_a_utf8_csv_with_or_without_bom_as_text(tmp_path, encoding):
    described = import_files.english_crm_csv(tmp_path / "accounts.csv", encoding=encoding)
    with open_workbook(tmp_path / "accounts.csv") as book:
        assert (book.format, book.sheet_names) == ("csv", [read.CSV_SHEET])
        assert book.row_count() == described["rows"]
        rows = list(book.rows())
    assert rows[0] == described["headings"]  # no BOM stuck to "Account Name"
    assert rows[1][12] == "2021-03-05 10:20"  # never converted
    assert rows[2][0] == "北京博远咨询有限公司"
    assert rows[2][5] is None


def test_it_reads_a_gbk_csv(tmp_path):
    described = import_files.gbk_csv(tmp_path / "客户.csv")
    rows = _rows(tmp_path / "客户.csv")
    assert len(rows) == described["rows"]
    assert rows[0] == described["headings"]
    assert [row[0] for row in rows[1:]] == described["names"]
    assert rows[1][2] == "王喆" and rows[1][11] == "镕基楼，三楼"  # outside GB2312, inside GBK
    assert rows[2][3] == "1.3812345679E+10"


def test_it_finds_the_semicolon_of_a_european_csv(tmp_path):
    described = import_files.english_crm_csv(tmp_path / "accounts.csv", delimiter=";")
    rows = _rows(tmp_path / "accounts.csv")
    assert rows[0] == described["headings"]
    assert rows[1][0] == "Shanghai Huaxin Technology Co., Ltd."  # the comma inside stays


def test_it_reads_excel_unicode_text(tmp_path):
    """Excel's "Unicode text" is UTF-16 with tabs; "上" holds a 0x0A byte in UTF-16."""
    (tmp_path / "客户.txt").write_text("客户名称\t城市\r\n上海华新科技有限公司\t上海\r\n", encoding="utf-16")
    with open_workbook(tmp_path / "客户.txt") as book:
        assert list(book.rows()) == [["客户名称", "城市"], ["上海华新科技有限公司", "上海"]]
        assert book.row_count() == 2


# Refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("part, padding", [
    ("xl/worksheets/sheet1.xml", 0), ("xl/workbook.xml", 0), ("xl/worksheets/sheet1.xml", 10_000),
    ("xl/worksheets/sheet1.xml", 100_000), ("[Content_Types].xml", 0),
])
def test_it_refuses_xml_entity_declarations_without_parsing(tmp_path, no_parsing, part, padding):
    import_files.entity_expansion_xlsx(tmp_path / "laughs.xlsx", part=part, padding=padding)
    assert _refusal(tmp_path / "laughs.xlsx") == str(read.XML_ENTITIES)


@pytest.mark.parametrize("kind, message", [
    ("ratio", lambda: str(read.ZIP_BOMB)), ("entries", lambda: read.TOO_MANY_PARTS % {"limit": "10,000"}),
    ("claimed", lambda: read.TOO_BIG_UNPACKED % {"limit": "1024"}),
])
def test_it_refuses_a_zip_bomb_without_parsing(tmp_path, no_parsing, kind, message):
    import_files.zip_bomb_xlsx(tmp_path / "bomb.xlsx", kind=kind)
    assert _refusal(tmp_path / "bomb.xlsx") == message()  # in the language of the test, not of its collection


@pytest.mark.parametrize("kind, message", [
    ("png", read.NOT_SPREADSHEET), ("pdf", read.NOT_SPREADSHEET), ("random", read.NOT_SPREADSHEET),
    ("docx", read.NOT_SPREADSHEET), ("html", read.HTML_FILE), ("xml2003", read.XML_SPREADSHEET),
    ("ods", read.ODS_FILE), ("xlsb", read.XLSB_FILE),
])
def test_it_refuses_a_file_that_is_no_spreadsheet_whatever_its_name(tmp_path, no_parsing, kind, message):
    import_files.not_a_spreadsheet(tmp_path / "客户名单.xlsx", kind=kind)
    assert _refusal(tmp_path / "客户名单.xlsx") == str(message)


@pytest.mark.parametrize("kind, message", [("doc", read.NOT_SPREADSHEET), ("encrypted", read.PASSWORD)])
def test_it_explains_an_ole2_file_no_reader_can_open(tmp_path, kind, message):
    import_files.not_a_spreadsheet(tmp_path / "客户名单.xls", kind=kind)
    assert _refusal(tmp_path / "客户名单.xls") == str(message)


def test_it_refuses_a_file_over_the_size_limit_naming_the_limit(tmp_path, no_parsing):
    (tmp_path / "big.csv").write_bytes(b"name,phone\n" * 100_000)
    assert _refusal(tmp_path / "big.csv", max_bytes=1 << 20) == str(read.TOO_LARGE) % {"limit": "1"}


def test_it_refuses_an_empty_file(tmp_path, no_parsing):
    (tmp_path / "empty.xlsx").write_bytes(b"")
    assert _refusal(tmp_path / "empty.xlsx") == str(read.EMPTY)


def test_it_calls_a_truncated_workbook_damaged(legacy):
    path, _described = legacy
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    assert _refusal(path) == str(read.DAMAGED)
