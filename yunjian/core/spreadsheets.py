"""One reader for every spreadsheet users upload: the roster (附件2) and the exports of the existing systems.

It works on bytes and plain values, never on the database. Excel and WPS files (.xlsx, legacy .xls,
.ods) are read with python-calamine after checks that refuse, with a Chinese reason, anything that
is not a sane spreadsheet (Word files, web pages, password-protected or damaged workbooks, zip
bombs, absurd extents); merged cells carry their value into every cell they cover. Where text
files are welcome (`allow_text=True`), CSV in UTF-8 or GB18030 and JSON lines are read too, row by
row, so that a file of any length is streamed rather than held in memory.

It also writes: users' text goes into .xlsx files as text, never as a formula (CSV/formula
injection). openpyxl stores a string that starts with "=" as a live formula, and Excel re-evaluates a
cell starting with "+", "-" or "@" as soon as someone edits it; every such cell is written as a string
with Excel's quote prefix (`text_cells`, `save`; `write_xlsx` streams one sheet of plain values
without openpyxl's per-cell objects, for long exports).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import python_calamine
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 2_000
MAX_COLUMNS = 64
HEADER_SEARCH_ROWS = 20

EMPTY_FILE = "文件是空的（0字节），请重新选择文件"
TOO_LARGE = "文件大小超过{limit}（当前{size}），请删除无关的工作表和图片后再上传"
NOT_SPREADSHEET = "无法识别的文件格式：请上传Excel或WPS表格文件（.xlsx、.xls或.ods）"
NOT_SPREADSHEET_TEXT = "该文件是文本（CSV）文件，不是Excel表格：请用Excel或WPS打开后另存为.xlsx再上传"
NOT_SPREADSHEET_HTML = "该文件是网页或XML格式，只是扩展名像Excel：请用Excel或WPS打开后另存为.xlsx再上传"
NOT_SPREADSHEET_OFFICE = (
    "该文件不是表格，可能是Word等其他Office文档：请上传Excel或WPS表格文件（.xlsx、.xls或.ods）"
)
XLSB_UNSUPPORTED = "不支持Excel二进制工作簿（.xlsb）：请用Excel另存为.xlsx后再上传"
PASSWORD_PROTECTED = "文件设置了打开密码，无法读取：请在Excel或WPS中取消文件密码后重新上传"
CORRUPT = "文件已损坏或不是有效的Excel/WPS表格文件：请用Excel或WPS打开确认无误后另存为.xlsx再上传"
ZIP_BOMB = "文件解压后的内容异常庞大（超过{limit}或压缩比异常），可能不是正常的表格文件，已拒绝处理"
TOO_MANY_ROWS = "表格超过{limit}行，请分成多个文件上传"
TOO_WIDE = "表格超过{limit}列，请删除表格右侧无关的内容后再上传"
EMPTY_SHEET = "表格中没有任何内容：工作表是空的"
NOT_TEXT_ENCODING = (
    "无法识别文件的文字编码：CSV文件应为UTF-8或GB18030（GBK）编码，请用Excel或WPS另存为“CSV UTF-8”后重新上传"
)
NOT_TABULAR_TEXT = "无法识别的文件格式：请上传Excel或WPS表格（.xlsx、.xls、.ods）、CSV文件或JSON lines文件"
WORKBOOK_TOO_LARGE = "Excel/WPS文件超过{limit}（当前{size}）：大文件请另存为CSV（UTF-8）或JSON lines后导入，这两种格式逐行读取，不受此限制"
BAD_JSON_LINE = "第{row}行不是有效的JSON对象：JSON lines文件的每一行应为一个JSON对象"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class SpreadsheetError(Exception):
    """The file cannot be read as a table at all; the message is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cell_text(value: object) -> str:
    if value.__class__ is str:
        return value  # type: ignore[return-value]
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # calamine returns every number as a float: 13800138000.0 is a phone number.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if value is None:
        return ""
    return str(value)


# --------------------------------------------------------------------------- reading the file


def read_rows(
    content: bytes, filename: str, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES
) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the first non-empty sheet as (sheet row number, cell texts).

    Merged cells carry their value into every cell they cover. Raises SpreadsheetError.
    """
    return [
        (number, [cell_text(v) for v in values])
        for number, values in read_values(content, filename, max_rows=max_rows, max_bytes=max_bytes)
    ]


def read_values(
    content: bytes,
    filename: str,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
    wanted: Callable[[list[tuple[int, list[object]]]], bool] | None = None,
) -> list[tuple[int, list[object]]]:
    """Like read_rows, with calamine's cell types kept (floats, dates), which the checks need.

    With `wanted`, the first non-empty sheet for which it answers True (附件2 may sit behind a
    cover sheet or notes); when none does, the first non-empty sheet, so its problem is reported.
    """
    check_container(content, filename, max_rows=max_rows, max_bytes=max_bytes)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        with workbook:
            return _first_sheet_values(workbook, max_rows, wanted)
    except SpreadsheetError:
        raise
    except python_calamine.PasswordError as exc:
        raise SpreadsheetError(PASSWORD_PROTECTED) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a Rust panic inside calamine surfaces as a BaseException
        raise SpreadsheetError(CORRUPT) from exc


def _first_sheet_values(
    workbook: python_calamine.CalamineWorkbook,
    max_rows: int,
    wanted: Callable[[list[tuple[int, list[object]]]], bool] | None = None,
) -> list[tuple[int, list[object]]]:
    first = None
    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue
        if meta.visible != python_calamine.SheetVisibleEnum.Visible:
            continue
        sheet = workbook.get_sheet_by_index(index)
        end = sheet.end
        if end is None:
            continue
        if end[0] + 1 > max_rows:
            raise SpreadsheetError(TOO_MANY_ROWS.format(limit=max_rows))
        if end[1] + 1 > MAX_COLUMNS:
            raise SpreadsheetError(TOO_WIDE.format(limit=MAX_COLUMNS))
        values = sheet.to_python(skip_empty_area=False)
        _fill_merged(values, sheet.merged_cell_ranges or [])
        rows = [(number, row) for number, row in enumerate(values, 1) if row.count("") != len(row)]
        if rows and (wanted is None or wanted(rows)):
            return rows
        if rows and first is None:
            first = rows
    if first is not None:
        return first
    raise SpreadsheetError(EMPTY_SHEET)


def _fill_merged(
    values: list[list[object]], ranges: Sequence[tuple[tuple[int, int], tuple[int, int]]]
) -> None:
    """Give every cell of a merged range the value of its top-left cell, as the reader sees it."""
    if not values:
        return
    height, width = len(values), len(values[0])
    budget = 2 * height * width  # overlapping ranges are invalid; don't let them cost more than the sheet
    for (top, left), (bottom, right) in ranges:
        if top >= height or left >= width:
            continue
        value = values[top][left]
        if value == "":
            continue
        for row in values[top : min(bottom, height - 1) + 1]:
            for column in range(left, min(right, width - 1) + 1):
                if row[column] == "":
                    row[column] = value
                budget -= 1
        if budget < 0:
            return


def check_container(
    content: bytes, filename: str, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES
) -> None:
    """Refuse, before calamine sees it, anything that is not a readable spreadsheet of sane size."""
    if not content:
        raise SpreadsheetError(EMPTY_FILE)
    if len(content) > max_bytes:
        raise SpreadsheetError(TOO_LARGE.format(limit=_size(max_bytes), size=_size(len(content))))
    if content.startswith(ZIP_MAGIC):
        _check_zip(content, max_rows)
    elif content.startswith(OLE_MAGIC):
        _check_ole(content)
    else:
        raise SpreadsheetError(_not_spreadsheet_message(content, filename))


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:.1f}MB" if count >= 1024 * 1024 else f"{max(count // 1024, 1)}KB"


def _not_spreadsheet_message(content: bytes, filename: str) -> str:
    head = content[:512].lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\x00")
    if head.startswith(b"<"):
        return NOT_SPREADSHEET_HTML
    if filename.lower().endswith((".csv", ".txt", ".tsv")):
        return NOT_SPREADSHEET_TEXT
    return NOT_SPREADSHEET


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _check_ole(content: bytes) -> None:
    # Excel and WPS save a password-protected .xlsx as an OLE container holding an EncryptedPackage.
    if _utf16("EncryptedPackage") in content or _utf16("EncryptionInfo") in content:
        raise SpreadsheetError(PASSWORD_PROTECTED)
    if _utf16("Workbook") not in content and _utf16("Book") not in content:
        raise SpreadsheetError(NOT_SPREADSHEET_OFFICE)


def _check_zip(content: bytes, max_rows: int) -> None:
    try:
        infos = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        EOFError,
        struct.error,
        NotImplementedError,  # a damaged "version needed to extract" field
    ) as exc:
        raise SpreadsheetError(CORRUPT) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError(CORRUPT)
    if any(info.flag_bits & 0x1 for info in infos):
        raise SpreadsheetError(PASSWORD_PROTECTED)
    bomb = ZIP_BOMB.format(limit=_size(MAX_UNZIPPED_BYTES))
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise SpreadsheetError(bomb)
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise SpreadsheetError(bomb)
    names = {info.filename for info in infos}
    if "xl/workbook.bin" in names:
        raise SpreadsheetError(XLSB_UNSUPPORTED)
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names:
        kind = "ods"
    else:
        raise SpreadsheetError(NOT_SPREADSHEET_OFFICE)
    # The directory's sizes are only claims: inflate each member with a cap to learn the real ones,
    # and look at the cell addresses, since a tiny sheet naming cell XFD1048576 makes the reader
    # allocate the whole grid.
    budget = MAX_UNZIPPED_BYTES
    for info in infos:
        data = _inflate(content, info, min(budget, info.file_size), bomb)
        budget -= len(data)
        if kind == "xlsx" and info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            _check_xlsx_extent(data, max_rows)
        elif kind == "ods" and info.filename == "content.xml":
            _check_ods_extent(data, max_rows)
        elif kind == "ods" and info.filename == "META-INF/manifest.xml" and b"encryption-data" in data:
            raise SpreadsheetError(PASSWORD_PROTECTED)
        elif kind == "ods" and info.filename == "mimetype" and b"spreadsheet" not in data:
            raise SpreadsheetError(NOT_SPREADSHEET_OFFICE)  # a text document (.odt) also has a content.xml


def _inflate(content: bytes, info: zipfile.ZipInfo, limit: int, bomb: str) -> bytes:
    offset = info.header_offset
    header = content[offset : offset + 30]
    if len(header) < 30 or not header.startswith(ZIP_MAGIC):
        raise SpreadsheetError(CORRUPT)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    raw = content[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > limit:
            raise SpreadsheetError(bomb)
        return raw
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise SpreadsheetError(CORRUPT)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise SpreadsheetError(CORRUPT) from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise SpreadsheetError(bomb)
    return data


def _check_xlsx_extent(xml: bytes, max_rows: int) -> None:
    # Only two-letter columns and addresses with as many digits as the limit can exceed it, so the
    # search looks for those alone; writers separate attributes with a space, which keeps it fast.
    separator = rb"\s" if any(odd + b'r="' in xml for odd in (b"\t", b"\n", b"\r")) else b" "
    suspect = re.compile(
        rb'%sr="(?=[A-Z]{2}|[A-Z]{0,3}\d{%d})([A-Z]{0,3})(\d+)"' % (separator, len(str(max_rows)))
    )
    for match in suspect.finditer(xml):
        if _column_number(match.group(1)) > MAX_COLUMNS:
            raise SpreadsheetError(TOO_WIDE.format(limit=MAX_COLUMNS))
        if int(match.group(2)) > max_rows:
            raise SpreadsheetError(TOO_MANY_ROWS.format(limit=max_rows))


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


ODS_TAG_RE = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(\s[^>]*)?>")
ODS_REPEAT_RE = re.compile(rb'number-(?:rows|columns)-repeated="(\d+)"')


def _check_ods_extent(xml: bytes, max_rows: int) -> None:
    """Walk the rows and cells, expanding repeats of non-empty cells as the reader will."""
    row = column = last_row = last_column = 0
    row_repeat = 1
    row_has_value = False
    for match in ODS_TAG_RE.finditer(xml):
        closing, tag, attrs = match.group(1), match.group(2), match.group(3) or b""
        empty_element = attrs.rstrip().endswith(b"/")
        if tag == b"table":
            row = last_row = 0
        elif tag == b"table-row":
            if closing:
                if row_has_value:
                    last_row = row + row_repeat
                row += row_repeat
            elif empty_element:
                row += _ods_repeat(attrs)
            else:
                row_repeat, column, row_has_value = _ods_repeat(attrs), 0, False
        elif not closing:
            repeat = _ods_repeat(attrs)
            if not empty_element:  # a cell with content; empty ones are self-closing
                row_has_value = True
                last_column = max(last_column, column + repeat)
            column += repeat
        if last_row > max_rows:
            raise SpreadsheetError(TOO_MANY_ROWS.format(limit=max_rows))
        if last_column > MAX_COLUMNS:
            raise SpreadsheetError(TOO_WIDE.format(limit=MAX_COLUMNS))


def _ods_repeat(attrs: bytes) -> int:
    match = ODS_REPEAT_RE.search(attrs)
    return int(match.group(1)) if match else 1


# --------------------------------------------------------------------------- streaming any table file

TEXT_SNIFF_BYTES = 64 * 1024
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def sniff(head: bytes, filename: str) -> str:
    """What a file holds, from its first bytes: "workbook", "csv" or "jsonl" (raises SpreadsheetError)."""
    if not head:
        raise SpreadsheetError(EMPTY_FILE)
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return "workbook"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "jsonl"
    if stripped.startswith(b"<"):
        raise SpreadsheetError(NOT_SPREADSHEET_HTML)
    if b"\x00" in head[:4096]:
        # UTF-16 text, or binary that is no spreadsheet at all.
        raise SpreadsheetError(
            NOT_TEXT_ENCODING if head.startswith((b"\xff\xfe", b"\xfe\xff")) else NOT_TABULAR_TEXT
        )
    if filename.lower().endswith(JSON_SUFFIXES):
        return "jsonl"
    return "csv"


def text_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, judged on the first bytes; raises SpreadsheetError."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            decoder.decode(head, final=False)  # a character cut at the end of the sample is fine
        except UnicodeDecodeError:
            continue
        return encoding
    raise SpreadsheetError(NOT_TEXT_ENCODING)


def iter_table(
    path: str | Path,
    filename: str = "",
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
    workbook_max_bytes: int = 50 * 1024 * 1024,
) -> Iterator[tuple[int, list[str] | dict[str, str]]]:
    """The non-blank rows of a table file as (row number, cell texts), or (line number, object) for
    JSON lines. Workbooks are checked and read like uploads of the roster (a workbook is read whole,
    within `max_bytes`); CSV and JSON lines are streamed, so memory does not grow with the file.
    Raises SpreadsheetError, also part-way through a text file whose later bytes are not text.
    """
    path = Path(path)
    filename = filename or path.name
    with open(path, "rb") as handle:
        head = handle.read(TEXT_SNIFF_BYTES)
    kind = sniff(head, filename)
    if kind == "workbook":
        size = path.stat().st_size
        if size > min(max_bytes, workbook_max_bytes):  # a workbook is read whole, so it has its own limit
            limit = min(max_bytes, workbook_max_bytes)
            raise SpreadsheetError(WORKBOOK_TOO_LARGE.format(limit=_size(limit), size=_size(size)))
        content = path.read_bytes()
        for number, values in read_values(content, filename, max_rows=max_rows, max_bytes=size):
            yield number, [cell_text(value) for value in values]
        return
    encoding = text_encoding(head)
    if kind == "jsonl":
        yield from _iter_jsonl(path, encoding, max_rows)
    else:
        yield from _iter_csv(path, encoding, head, max_rows)


def _text_lines(path: Path, encoding: str):
    handle = open(path, encoding=encoding, errors="strict", newline="")  # noqa: SIM115 - closed below
    return handle


def _iter_csv(path: Path, encoding: str, head: bytes, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    first_line = head.split(b"\n", 1)[0]
    delimiter = "\t" if first_line.count(b"\t") > first_line.count(b",") else ","
    number = 0
    with _text_lines(path, encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            for number, row in enumerate(reader, 1):
                if number > max_rows:
                    raise SpreadsheetError(TOO_MANY_ROWS.format(limit=max_rows))
                if len(row) > MAX_COLUMNS:
                    raise SpreadsheetError(TOO_WIDE.format(limit=MAX_COLUMNS))
                if any(row):
                    yield number, row
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(f"第{number + 1}行附近：{NOT_TEXT_ENCODING}") from exc
        except csv.Error as exc:
            raise SpreadsheetError(
                f"第{number + 1}行：CSV格式有误（{exc}），请用Excel或WPS重新另存为CSV"
            ) from exc


def _iter_jsonl(path: Path, encoding: str, max_rows: int) -> Iterator[tuple[int, dict[str, str]]]:
    number = 0
    with _text_lines(path, encoding) as handle:
        try:
            for number, line in enumerate(handle, 1):
                if number > max_rows:
                    raise SpreadsheetError(TOO_MANY_ROWS.format(limit=max_rows))
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise SpreadsheetError(BAD_JSON_LINE.format(row=number)) from exc
                if not isinstance(value, dict):
                    raise SpreadsheetError(BAD_JSON_LINE.format(row=number))
                yield number, {str(k): cell_text(v) for k, v in value.items()}
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(f"第{number + 1}行附近：{NOT_TEXT_ENCODING}") from exc


# --- writing: users' text as text ----------------------------------------------------------

# Full-width forms too: Excel's input method accepts them as the operator in some locales.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def is_formula_like(value: object) -> bool:
    return isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_PREFIXES)


def as_text(cell):
    """Make `cell` hold its value as plain text if the value could be read as a formula."""
    if cell.data_type == "f" or is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def text_cells(sheet, values: Iterable[object]) -> list:
    """A write-only sheet's row with every formula-like string made text (for `sheet.append`)."""
    return [
        as_text(WriteOnlyCell(sheet, value=value)) if is_formula_like(value) else value for value in values
    ]


def save(workbook: Workbook) -> bytes:
    """Save a (normal, not write-only) workbook with every cell's text made safe first."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    as_text(cell)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- writing: drop-down lists --------------------------------------------------------------

LISTS_SHEET = "代码表"


def add_choice_lists(
    workbook: Workbook, sheet, lists: dict[int, Sequence[str]], *, first_row: int, last_row: int
) -> None:
    """Give each column of `sheet` in `lists` (1-based column → the allowed texts) a drop-down list
    (Excel and WPS data validation), refusing other text as it is typed.

    The lists live in a hidden sheet (a list written inline is limited to 255 characters), one
    column per list; the validation names its range. Users' input is still checked on upload: a
    pasted value bypasses data validation.
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    if not lists:
        return
    holder = (
        workbook[LISTS_SHEET] if LISTS_SHEET in workbook.sheetnames else workbook.create_sheet(LISTS_SHEET)
    )
    holder.sheet_state = "hidden"
    for column, values in lists.items():
        list_column = holder.max_column + 1 if holder.max_row > 1 or holder["A1"].value else 1
        letter = get_column_letter(list_column)
        holder.cell(row=1, column=list_column, value=sheet.cell(row=first_row - 1, column=column).value)
        for index, value in enumerate(values, start=2):
            holder.cell(row=index, column=list_column, value=value)
        validation = DataValidation(
            type="list",
            formula1=f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从列表中选择",
            error="请从下拉列表中选择，不要自行输入。",
        )
        target = get_column_letter(column)
        validation.add(f"{target}{first_row}:{target}{last_row}")
        sheet.add_data_validation(validation)


# --- streaming writer: one sheet of plain values, written as XML directly -------------------------

# openpyxl builds an object per cell (≈ 60 µs each on the shared machine: 4 s for 2,000 rows of 26
# columns; bench/README.md). This writer formats each row as XML text straight into the zip: the
# same formula safety (quote prefix), dates as Excel dates, one bold row, frozen rows, widths.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Cell styles (cellXfs below): 0 plain, 1 bold, 2 text with quote prefix, 3 date, 4 date and time.
_PLAIN, _BOLD, _QUOTED, _DATE, _DATETIME = range(5)
_STYLES = (
    f'{_XML_HEAD}<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
# Characters XML 1.0 cannot hold (openpyxl refuses them): dropped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 — Excel's serial dates are naive


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    text = _ILLEGAL_XML.sub("", value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(ref: str, value: object, bold: bool) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float) or hasattr(value, "as_tuple"):  # numbers, Decimal
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        days = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{_DATETIME}"><v>{days!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = str(value)
    style = _BOLD if bold else _QUOTED if is_formula_like(text) else _PLAIN
    styled = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


def write_xlsx(
    title: str,
    rows: Iterable[Sequence[object]],
    *,
    widths: Sequence[float] = (),
    bold_rows: Sequence[int] = (),
    frozen_rows: int = 0,
) -> bytes:
    """One sheet named `title` of plain values (text, numbers, dates, None) as .xlsx, row by row:
    every formula-like text written as text with the quote prefix, `bold_rows` (1-based) in bold,
    the first `frozen_rows` frozen, column `widths` in characters."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>",
        )
        package.writestr(
            "_rels/.rels",
            f'{_XML_HEAD}<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        package.writestr(
            "xl/workbook.xml",
            f'{_XML_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
            f'<sheet name="{_xml_text(title)[:31]}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{_XML_HEAD}<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        )
        package.writestr("xl/styles.xml", _STYLES)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            head = f'{_XML_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
            if frozen_rows:
                head += (
                    f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{frozen_rows}" '
                    f'topLeftCell="A{frozen_rows + 1}" activePane="bottomLeft" state="frozen"/>'
                    "</sheetView></sheetViews>"
                )
            if widths:
                cols = "".join(
                    f'<col min="{n}" max="{n}" width="{w}" customWidth="1"/>' for n, w in enumerate(widths, 1)
                )
                head += f"<cols>{cols}</cols>"
            sheet.write(f"{head}<sheetData>".encode())
            letters: list[str] = []
            bold = set(bold_rows)
            for number, values in enumerate(rows, start=1):
                while len(letters) < len(values):
                    letters.append(_column_letter(len(letters) + 1))
                cells = "".join(
                    _cell_xml(f"{letters[i]}{number}", value, number in bold)
                    for i, value in enumerate(values)
                )
                sheet.write(f'<row r="{number}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()
