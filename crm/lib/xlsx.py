"""What every .xlsx the CRM writes shares: cells that are safe to open (never a formula, nothing XML
cannot hold), a bold header, and the download response."""
from urllib.parse import quote

from django.http import FileResponse
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet evaluates text starting with these (CSV/formula injection); such cells are typed text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(sheet, value):
    """A value as written: text without characters XML cannot hold, line breaks as LF (a raw CR does not
    survive XML, whose readers turn it into LF), and text that could be read as a formula typed as text
    with Excel's quote prefix, so it is shown, never evaluated, even after someone edits the cell."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    formula_like = value.startswith(FORMULA_START)
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not formula_like:
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def header_cell(sheet, text):
    cell = WriteOnlyCell(sheet, value=str(text))
    cell.font = Font(bold=True)
    return cell


def xlsx_response(file, filename, *, ascii_name="export"):
    """Stream an .xlsx as a download named `filename` (UTF-8 per RFC 5987/6266, with an ASCII fallback)."""
    response = FileResponse(file, content_type=XLSX_CONTENT_TYPE)
    fallback = filename if filename.isascii() else ascii_name + filename.encode("ascii", "ignore").decode()
    response["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}")
    return response
