"""Open an uploaded spreadsheet safely and stream its rows as plain Python values.

    with open_workbook(path, max_bytes=...) as book:
        for row in book.rows(book.sheet_names[0]):
            ...   # [None | str | int | float | bool | date | datetime | time, ...]

The format comes from the file's first bytes, never from its name: a zip is an .xlsx, an OLE2
compound file an .xls, anything else must be text (CSV). Before an .xlsx is parsed, its zip
directory is checked for zip bombs and the start of every XML part for DOCTYPE/ENTITY declarations
(Excel never writes them; they are how "billion laughs" attacks start). .xlsx and .xls are read with
python-calamine (fast, returns the cached value of formula cells, never evaluates them); openpyxl
and xlrd are fallbacks for files calamine cannot read. Row i of `rows()` is the sheet's row i + 1 and
cell j its column j + 1, so row numbers shown to people match what they see in Excel.
"""
import codecs
import csv
import datetime
import os
import re
import unicodedata
import zipfile
import zlib

from django.utils.translation import gettext_lazy as _

XLSX, XLS, CSV = "xlsx", "xls", "csv"
CSV_SHEET = "Sheet1"  # the one sheet of a CSV file, named as Excel names it

MAX_UNCOMPRESSED = 1 << 30  # bytes an .xlsx may expand to, all parts together
MAX_ENTRIES = 10_000  # parts in an .xlsx zip; a real workbook has tens
MAX_RATIO = 200  # uncompressed / compressed size of one part: real XML stays far below (≈ 10-30)
RATIO_MIN_SIZE = 10 << 20  # … checked only for parts larger than this, small parts may compress well
PROLOG_LIMIT = 64 << 10  # bytes of an XML part read to find its root element (and any DOCTYPE before it)
SAMPLE_SIZE = 64 << 10  # bytes of a text file used to recognise it and guess the CSV delimiter

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"BM", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b",
                 b"II*\x00", b"MM\x00*", b"\x7fELF", b"MZ", b"{\\rtf", b"\x00\x00\x01\x00", b"OggS", b"ID3",
                 b"RIFF", b"fLaC", b"\x1a\x45\xdf\xa3")

NOT_SPREADSHEET = _("This file is not an Excel workbook (.xlsx, .xls) or a CSV file.")
EMPTY = _("This file is empty.")
TOO_LARGE = _("This file is larger than the %(limit)s MB limit.")
DAMAGED = _("This workbook is damaged and could not be read. Open it in Excel, save it again and upload it again.")
PASSWORD = _("This workbook is password-protected. Remove the password in Excel and upload it again.")
TOO_MANY_PARTS = _("This workbook has more than %(limit)s internal parts, which no real spreadsheet has, "
                   "so it was not opened.")
TOO_BIG_UNPACKED = _("This workbook would expand to more than %(limit)s MB when opened, so it was not opened.")
ZIP_BOMB = _("This workbook contains a part that is compressed suspiciously well (a “zip bomb”), "
             "so it was not opened.")
XML_ENTITIES = _("This workbook contains XML entity declarations (DOCTYPE/ENTITY), which Excel never writes, "
                 "so it was not opened.")
HTML_FILE = _("This file is a web page (HTML) with a spreadsheet's name. Open it in Excel, save it as .xlsx "
              "and upload it again.")
XML_SPREADSHEET = _("This file is an Excel 2003 XML spreadsheet. Open it in Excel, save it as .xlsx and upload "
                    "it again.")
XLSB_FILE = _("Excel binary workbooks (.xlsb) cannot be imported. Open it in Excel, save it as .xlsx and upload "
              "it again.")
ODS_FILE = _("OpenDocument spreadsheets (.ods) cannot be imported. Save it as .xlsx and upload it again.")
NO_SHEETS = _("This workbook has no worksheets.")
NO_SUCH_SHEET = _("This workbook has no sheet named “%(name)s”.")
BAD_CSV_LINE = _("Line %(line)s of this CSV file could not be read.")


class ImportFileError(Exception):
    """A user-facing, translatable reason the file cannot be read."""

    def __init__(self, message, params=None):
        self.message = message
        self.params = params or {}
        super().__init__(message)

    def __str__(self):
        return str(self.message) % self.params if self.params else str(self.message)


def open_workbook(path, *, filename=None, max_bytes=None):
    """The file at `path` as a Workbook; ImportFileError if it is too large, unsafe or no spreadsheet.

    `filename` is the name the user gave the file (kept for display; the format never depends on it).
    """
    size = os.path.getsize(path)
    if max_bytes is not None and size > max_bytes:
        raise ImportFileError(TOO_LARGE, {"limit": _megabytes(max_bytes)})
    if size == 0:
        raise ImportFileError(EMPTY)
    with open(path, "rb") as handle:
        head = handle.read(8)
    filename = filename or os.path.basename(path)
    if head.startswith(_ZIP_MAGIC):
        _check_xlsx(path)
        return Workbook(path, XLSX, filename)
    if head == _OLE2_MAGIC:
        return Workbook(path, XLS, filename)
    return Workbook(path, CSV, filename, text=_inspect_text(path))


def _megabytes(size):
    """A byte count in MB for messages: "200", "0.5", "0.00095"."""
    megabytes = size / (1 << 20)
    return f"{megabytes:.1f}".removesuffix(".0") if megabytes >= 1 else f"{megabytes:.2g}"


class Workbook:
    """An open spreadsheet. `format` is "xlsx", "xls" or "csv"; `engine` names the library reading it.

    `sheet_names` lists the worksheets, the visible ones first (in workbook order), so the first name
    is the sheet Excel opens on. Use as a context manager, or call close().
    """

    def __init__(self, path, file_format, filename, *, text=None):
        self.path = path
        self.format = file_format
        self.filename = filename
        self._engines = {XLSX: [_CalamineEngine, _OpenpyxlEngine], XLS: [_CalamineEngine, _XlrdEngine],
                         CSV: [lambda p: _CsvEngine(p, *text)]}[file_format]
        self._engine = None
        self._next_engine()
        self.sheet_names = self._engine.sheet_names
        if not self.sheet_names:
            self.close()
            raise ImportFileError(NO_SHEETS)

    @property
    def engine(self):
        return self._engine.name if self._engine else None

    def _next_engine(self, failure=None):
        """Open the file with the next engine in line; the last failure becomes an ImportFileError."""
        if self._engine is not None:
            self._engine.close()
        while self._engines:
            make = self._engines.pop(0)
            try:
                self._engine = make(self.path)
                return
            except ImportFileError:
                raise
            # Parsers raise many kinds of errors on damaged input (zip, XML, struct, value, memory …):
            # any of them means "try the next engine", and after the last one "damaged".
            except Exception as exc:  # noqa: BLE001
                failure = exc
        self._engine = None
        raise _reading_error(self.path, self.format, failure)

    def _sheet(self, sheet):
        name = self.sheet_names[0] if sheet is None else sheet
        if name not in self.sheet_names:
            raise ImportFileError(NO_SUCH_SHEET, {"name": name})
        return name

    def rows(self, sheet=None):
        """The rows of `sheet` (a name; None for the first), each a list of cell values with trailing
        empty cells trimmed. The sheet is loaded at this call, so a damaged sheet fails here."""
        name = self._sheet(sheet)
        while True:
            try:
                return self._guarded(self._engine.rows(name))
            except ImportFileError:
                raise
            except Exception as exc:  # noqa: BLE001  (as in _next_engine)
                self._next_engine(exc)

    def _guarded(self, rows):
        try:
            yield from rows
        except ImportFileError:
            raise
        except Exception as exc:  # noqa: BLE001  a sheet damaged half way: nothing else to fall back on
            raise ImportFileError(DAMAGED) from exc

    def row_count(self, sheet=None):
        """How many rows `rows(sheet)` yields, exactly or as a cheap estimate; None if unknown."""
        try:
            return self._engine.row_count(self._sheet(sheet))
        except ImportFileError:
            raise
        except Exception:  # noqa: BLE001  a count is only for progress bars
            return None

    def close(self):
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _reading_error(path, file_format, failure):
    """The clearest ImportFileError for a file no engine could open."""
    import python_calamine

    if isinstance(failure, python_calamine.PasswordError) or "encrypt" in str(failure).lower():
        return ImportFileError(PASSWORD)
    if file_format == XLS:
        # An encrypted .xlsx is an OLE2 file holding an "EncryptedPackage" stream; a Word or other
        # OLE2 document has no "Workbook"/"Book" stream.
        if _file_contains(path, "EncryptedPackage".encode("utf-16-le")):
            return ImportFileError(PASSWORD)
        if not (_file_contains(path, "Workbook".encode("utf-16-le"))
                or _file_contains(path, "Book".encode("utf-16-le"))):
            return ImportFileError(NOT_SPREADSHEET)
    error = ImportFileError(DAMAGED)
    error.__cause__ = failure
    return error


def _file_contains(path, needle, limit=64 << 20):
    with open(path, "rb") as handle:
        data = handle.read(limit)
    return needle in data


# Values -------------------------------------------------------------------------------------------


def _duration(value):
    """A [h]:mm cell: a time of day when under a day, else its text ("1 day, 6:00:00")."""
    if datetime.timedelta(0) <= value < datetime.timedelta(days=1):
        return (datetime.datetime.min + value).time()
    return str(value)


def _midnight_to_date(value):
    """Readers differ on date-only cells (date or datetime at 00:00): always a date."""
    if value.hour == value.minute == value.second == value.microsecond == 0 and value.tzinfo is None:
        return value.date()
    return value


_FIX = {datetime.timedelta: _duration, datetime.datetime: _midnight_to_date}


def _tidy(values, pad=0):
    """A row as read.py promises it: "" → None, durations and midnights fixed, trailing empties cut.
    (Written for speed: it runs on every row.)"""
    row = [(v or None) if v.__class__ is str else (_FIX[v.__class__](v) if v.__class__ in _FIX else v)
           for v in values]
    if pad:
        row[:0] = [None] * pad
    while row and row[-1] is None:
        row.pop()
    return row


# .xlsx safety ------------------------------------------------------------------------------------


def _check_xlsx(path):
    """Refuse a zip that is a bomb, is no workbook, or has an XML part with a DOCTYPE; parse nothing."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_zip_directory(entries)
            _check_workbook_parts({entry.filename.lower() for entry in entries})
            for entry in entries:
                if entry.filename.lower().endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, entry):
                    raise ImportFileError(XML_ENTITIES)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error) as exc:
        raise ImportFileError(DAMAGED) from exc


def _check_zip_directory(entries):
    """Zip-bomb checks on the sizes the zip directory declares (nothing is decompressed)."""
    if len(entries) > MAX_ENTRIES:
        raise ImportFileError(TOO_MANY_PARTS, {"limit": f"{MAX_ENTRIES:,}"})
    if sum(entry.file_size for entry in entries) > MAX_UNCOMPRESSED:
        raise ImportFileError(TOO_BIG_UNPACKED, {"limit": _megabytes(MAX_UNCOMPRESSED)})
    for entry in entries:
        if entry.file_size > RATIO_MIN_SIZE and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise ImportFileError(ZIP_BOMB)


def _check_workbook_parts(names):
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise ImportFileError(XLSB_FILE)
    if "content.xml" in names and "mimetype" in names:
        raise ImportFileError(ODS_FILE)
    raise ImportFileError(NOT_SPREADSHEET)


_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_COMMENT = re.compile(rb"<!--(?:.*?-->|.*\Z)", re.DOTALL)  # an unfinished one runs to the end


def _declares_dtd(archive, entry):
    """True if the XML part has a DOCTYPE/ENTITY declaration before its root element, or no root
    element within PROLOG_LIMIT bytes (no real part pads its prolog that far). Reads the part only
    up to its root element, a few hundred bytes for what Excel writes."""
    head = b""
    with archive.open(entry) as part:
        while len(head) < PROLOG_LIMIT:
            chunk = part.read(4096)
            if not chunk:
                break
            head += chunk
            text = head
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4]:
                text = head.decode("utf-16", errors="replace").encode("utf-8")
            if _DTD.search(text):
                return True
            if _ROOT_ELEMENT.search(_COMMENT.sub(b"", text)):
                return False
    return len(head) >= PROLOG_LIMIT


# Engines -----------------------------------------------------------------------------------------
# Each has `name`, `sheet_names`, rows(name) → iterator of lists, row_count(name) and close().


def _visible_first(sheets):
    """Names of (name, visible) pairs: the visible ones first, each group in workbook order."""
    return [name for name, visible in sheets if visible] + [name for name, visible in sheets if not visible]


class _CalamineEngine:
    """python-calamine for .xlsx and .xls. A sheet is parsed whole (in Rust) when first asked for and
    kept until another sheet is, so row_count() then rows(), or a header scan then a full read, parse once."""

    name = "calamine"

    def __init__(self, path):
        import python_calamine

        self._book = python_calamine.CalamineWorkbook.from_path(str(path))
        worksheet, visible = python_calamine.SheetTypeEnum.WorkSheet, python_calamine.SheetVisibleEnum.Visible
        self.sheet_names = _visible_first([(sheet.name, sheet.visible == visible)
                                           for sheet in self._book.sheets_metadata if sheet.typ == worksheet])
        self._loaded = (None, None)

    def _load(self, name):
        if self._loaded[0] != name:
            self._loaded = (None, None)  # let the previous sheet go before parsing the next
            self._loaded = (name, self._book.get_sheet_by_name(name))
        return self._loaded[1]

    def rows(self, name):
        sheet = self._load(name)
        return self._iter_rows(sheet)

    @staticmethod
    def _iter_rows(sheet):
        # calamine yields rows from the sheet's first row, but cells from its first used column.
        start = sheet.start
        pad = start[1] if start else 0
        fill = _VerticalMerges(sheet.merged_cell_ranges or ())
        for index, values in enumerate(sheet.iter_rows()):
            row = _tidy(values, pad)
            yield fill(index, row) if fill else row

    def row_count(self, name):
        end = self._load(name).end
        return end[0] + 1 if end else 0

    def close(self):
        self._loaded = (None, None)
        self._book.close()


class _VerticalMerges:
    """Copy the value of a cell merged down a column (A2:A9 "上海") into every row of the merge, so
    rows under a merged 省份 or 城市 keep it, and two-row headings keep their merged column names.
    Merges across columns (title banners, section rows) are left as Excel stores them: one cell."""

    def __init__(self, ranges):
        self._starts = {}
        for (first_row, first_col), (last_row, last_col) in ranges:
            if first_col == last_col and last_row > first_row:
                self._starts.setdefault(first_row, []).append((first_col, last_row))
        self._active = {}  # column → (last row, value)

    def __bool__(self):
        return bool(self._starts)

    def __call__(self, index, row):
        for column, last_row in self._starts.get(index, ()):
            self._active[column] = (last_row, row[column] if column < len(row) else None)
        for column, (last_row, value) in list(self._active.items()):
            if index > last_row:
                del self._active[column]
            elif value is not None and (column >= len(row) or row[column] is None):
                row.extend([None] * (column + 1 - len(row)))
                row[column] = value
        return row


class _OpenpyxlEngine:
    """openpyxl (read-only, cached values) for .xlsx files calamine cannot read. Uses defusedxml."""

    name = "openpyxl"

    def __init__(self, path):
        import openpyxl

        self._book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
        self.sheet_names = _visible_first([(sheet.title, sheet.sheet_state == "visible")
                                           for sheet in self._book.worksheets])
        self._declared_rows = {}

    def rows(self, name):
        sheet = self._book[name]
        self.row_count(name)
        sheet.reset_dimensions()  # a wrong <dimension> in the file must not cut rows off
        return (_tidy(values) for values in sheet.iter_rows(values_only=True))

    def row_count(self, name):
        """The rows the file's <dimension> declares: an estimate (None if it declares none)."""
        if name not in self._declared_rows:
            self._declared_rows[name] = self._book[name].max_row
        return self._declared_rows[name]

    def close(self):
        self._book.close()


class _XlrdEngine:
    """xlrd for .xls files calamine cannot read."""

    name = "xlrd"

    def __init__(self, path):
        import xlrd

        self._xlrd = xlrd
        self._book = xlrd.open_workbook(path, on_demand=True)
        self.sheet_names = self._book.sheet_names()

    def rows(self, name):
        return self._iter_rows(self._book.sheet_by_name(name))

    def _iter_rows(self, sheet):
        for index in range(sheet.nrows):
            kinds, values = sheet.row_types(index), sheet.row_values(index)
            yield _tidy(self._value(kind, value) for kind, value in zip(kinds, values))

    def _value(self, kind, value):
        xlrd = self._xlrd
        if kind == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate.xldate_as_datetime(value, self._book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return value
        if kind == xlrd.XL_CELL_BOOLEAN:
            return bool(value)
        if kind in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        return value

    def row_count(self, name):
        return self._book.sheet_by_name(name).nrows

    def close(self):
        self._book.release_resources()


# CSV ---------------------------------------------------------------------------------------------


def _inspect_text(path):
    """(encoding, delimiter) of a text file, or ImportFileError if it is binary, HTML or XML."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_SIZE)
    if sample.startswith(_BINARY_MAGIC):
        raise ImportFileError(NOT_SPREADSHEET)
    encoding = _text_encoding(path, sample)
    text = _decode_sample(sample, encoding)
    _refuse_markup(text)
    return encoding, _delimiter(text)


def _text_encoding(path, sample):
    """utf-8-sig / utf-16 by their BOM, else utf-8 if the whole file decodes as such, else GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if b"\x00" in sample:
        raise ImportFileError(NOT_SPREADSHEET)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"  # a superset of GBK and GB2312, what Chinese Excel saves "CSV" as


def _decode_sample(sample, encoding):
    """The sample as text; ImportFileError if it does not decode or is full of control characters."""
    try:
        # final=False: the sample may end inside a multi-byte character
        text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError as exc:
        raise ImportFileError(NOT_SPREADSHEET) from exc
    controls = sum(1 for char in text if unicodedata.category(char) == "Cc" and char not in "\t\r\n\x0c")
    if controls > max(2, len(text) // 100):
        raise ImportFileError(NOT_SPREADSHEET)
    return text


def _refuse_markup(text):
    start = text.lstrip("\ufeff \t\r\n")[:2000].lower()
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in text:
        raise ImportFileError(XML_SPREADSHEET)
    if start.startswith(("<!doctype html", "<html", "<table", "<meta", "<head", "<body")) or (
            start.startswith("<") and "<table" in text.lower()):
        raise ImportFileError(HTML_FILE)
    if start.startswith("<?xml"):
        raise ImportFileError(NOT_SPREADSHEET)


def _delimiter(text):
    """",", ";" or tab, by csv.Sniffer on the sample's first lines; "," if it cannot tell."""
    lines = text.splitlines(keepends=True)[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample cut the last line short
    sample = "".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","
    first = next((line for line in lines if line.strip()), "")
    return delimiter if delimiter in first else ","


class _CsvEngine:
    """A CSV file as one sheet (CSV_SHEET), every value kept as text."""

    name = "csv"

    def __init__(self, path, encoding, delimiter):
        self._path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self.sheet_names = [CSV_SHEET]
        self._count = None

    def rows(self, name):
        return self._iter_rows()

    def _iter_rows(self):
        errors = "strict" if self.encoding.startswith("utf") else "replace"
        with open(self._path, encoding=self.encoding, errors=errors, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            try:
                for values in reader:
                    yield _tidy(values)
            except csv.Error as exc:
                raise ImportFileError(BAD_CSV_LINE, {"line": max(reader.line_num, 1)}) from exc
            except UnicodeDecodeError as exc:
                raise ImportFileError(BAD_CSV_LINE, {"line": reader.line_num + 1}) from exc

    def row_count(self, name):
        """Lines in the file (a line break inside a quoted value counts twice: an estimate)."""
        if self._count is None:
            self._count = self._count_lines()
        return self._count

    def _count_lines(self):
        if self.encoding == "utf-16":
            with open(self._path, encoding=self.encoding, errors="replace", newline="") as handle:
                chunks = iter(lambda: handle.read(1 << 20), "")
                return _lines_in(chunks, "\n")
        with open(self._path, "rb") as handle:
            # In UTF-8 and GB18030 byte 0x0A is only ever a line feed.
            return _lines_in(iter(lambda: handle.read(1 << 20), b""), b"\n")

    def close(self):
        pass


def _lines_in(chunks, newline):
    count, last = 0, newline
    for chunk in chunks:
        count += chunk.count(newline)
        last = chunk[-1:]
    return count + (last != newline)


__all__ = ["CSV", "CSV_SHEET", "XLS", "XLSX", "ImportFileError", "Workbook", "open_workbook"]
