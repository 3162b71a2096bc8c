"""Read and check a prefecture's 工程项目数据审核人员及联络员汇总表 (附件2 of the 2019-10-24 notice).

Everything here works on bytes and plain values, never on the database, so the upload
preview, the import command and the benchmark share one parser. Files arrive filled by
hand in Excel or WPS (.xlsx, legacy .xls, .ods); python-calamine reads all three.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import python_calamine

from projects.stages import Stage
from yunjian.core.validators import (
    id_number_problem,
    normalize_code,
    normalize_phone,
    normalize_text,
    phone_problem,
    text_problem,
)

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 2_000
MAX_COLUMNS = 64
HEADER_SEARCH_ROWS = 20

DIVISIONS_CSV = Path(__file__).resolve().parents[2] / "yunjian" / "core" / "data" / "yunnan-divisions.csv"
DEFAULT_ZONES: tuple[tuple[str, str], ...] = (("dianzhong", "滇中新区"),)

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
NO_HEADER = "未找到表头：前{limit}行中没有同时包含“姓名”和“审核环节”的一行，请按模板（附件2）的格式填写"
NO_DATA_ROWS = "表头下面没有人员数据"
MISSING_COLUMN = "缺少“{label}”列，请按模板（附件2）的列填写"

# Column keys of 附件2; the sheet calls both the bureau and the person's department 单位.
BUREAU = "bureau"
NAME = "name"
DEPARTMENT = "department"
TITLE = "title"
HAS_CA = "has_ca"
ID_NUMBER = "id_number"
STAGE = "stage"
PHONE = "phone"
COLUMN_LABELS: dict[str, str] = {
    BUREAU: "单位",
    NAME: "姓名",
    DEPARTMENT: "单位（所在部门）",
    TITLE: "职务",
    HAS_CA: "是否已办理CA数字证书",
    ID_NUMBER: "身份证号码",
    STAGE: "审核环节",
    PHONE: "联系电话",
}
REQUIRED_COLUMNS = (BUREAU, NAME, HAS_CA, ID_NUMBER, STAGE, PHONE)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"


class RosterFileError(Exception):
    """The upload cannot be read as a roster at all; the message is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- bureaus


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """Where a roster line applies: a division (州/市 or 县/市/区) or a functional zone such as 滇中新区."""

    division_code: str | None
    zone_slug: str | None
    label: str

    @property
    def roster_key(self) -> str:
        """The prefecture code (or zone slug) whose roster covers this jurisdiction."""
        if self.division_code:
            return self.division_code[:4] + "00"
        return self.zone_slug or ""


ETHNIC_GROUPS = (
    "哈尼",
    "傈僳",
    "拉祜",
    "纳西",
    "景颇",
    "布朗",
    "普米",
    "独龙",
    "阿昌",
    "基诺",
    "蒙古",
    "布依",
    "彝",
    "白",
    "傣",
    "壮",
    "苗",
    "回",
    "佤",
    "瑶",
    "藏",
    "怒",
    "水",
    "满",
)
# Where the place name ends in a bureau's name: 曲靖市|住房和城乡建设局, 滇中新区|规划建设管理部.
BUREAU_TAIL_RE = re.compile(r"住房|住建|城乡建设|规划建设|建设局|建设管理|建管|管委会|管理委员会|人民政府")
BRACKETS_RE = re.compile(r"[()\[\]【】〔〕「」《》<>\s]")


def _strip_ethnic(place: str) -> str:
    changed = True
    while changed:
        changed = False
        for group in ETHNIC_GROUPS:
            suffix = group + "族"
            if place.endswith(suffix) and len(place) > len(suffix) + 1:
                place = place[: -len(suffix)]
                changed = True
    return place


def _derived_aliases(name: str) -> set[str]:
    """Short forms people type: 红河州 (红河哈尼族彝族自治州), 石林县 (石林彝族自治县), 曲靖 (曲靖市)."""
    aliases: set[str] = set()
    for suffix, short in (("自治州", "州"), ("自治县", "县")):
        if name.endswith(suffix):
            core = _strip_ethnic(name[: -len(suffix)])
            aliases |= {core + short, core + suffix, core}
            break
    else:
        if len(name) >= 3 and name[-1] in "市区县州":
            aliases.add(name[:-1])
    aliases.discard(name)
    return aliases


def bureau_core(text: str) -> str:
    """The place part of a bureau name: 云南省曲靖市住房和城乡建设局（盖章） → 曲靖市."""
    core = BRACKETS_RE.sub("", normalize_text(text))
    for prefix in ("云南省", "云南"):
        if core.startswith(prefix):
            core = core[len(prefix) :]
            break
    match = BUREAU_TAIL_RE.search(core)
    return core[: match.start()] if match else core


class BureauResolver:
    """Maps the 单位 text of a roster line to the division or zone whose bureau sent it."""

    def __init__(
        self,
        divisions: Iterable[tuple[str, str, str, str | None]],
        zones: Iterable[tuple[str, str]] = DEFAULT_ZONES,
    ) -> None:
        rows = list(divisions)
        names = {code: name for code, name, _level, _parent in rows}
        self._parent: dict[str, str | None] = {code: parent for code, _name, _level, parent in rows}
        # Official names win over short forms; a short form shared by two places (大理 is both
        # 大理州 and 大理市) maps to None, so the user is asked to write it out.
        self._exact: dict[str, Jurisdiction | None] = {}
        self._derived: dict[str, Jurisdiction | None] = {}
        prefecture_aliases: list[tuple[str, Jurisdiction]] = []
        for code, name, level, parent in rows:
            label = name
            if level == "county" and parent in names:
                label = names[parent] + name
            target = Jurisdiction(code, None, label)
            _put(self._exact, name, target)
            for alias in _derived_aliases(name):
                _put(self._derived, alias, target)
            if level == "prefecture":
                prefecture_aliases += [(alias, target) for alias in {name, *_derived_aliases(name)}]
        for slug, name in zones:
            core = bureau_core(name) or name
            target = Jurisdiction(None, slug, core)
            _put(self._exact, core, target)
            _put(self._exact, name, target)
        self._prefecture_aliases = sorted(prefecture_aliases, key=lambda item: -len(item[0]))
        self._cache: dict[str, Jurisdiction | None] = {}

    @classmethod
    def from_csv(cls, path: str | Path, zones: Iterable[tuple[str, str]] = DEFAULT_ZONES) -> BureauResolver:
        """Build from a code,name,parent_code,level file such as yunjian/core/data/yunnan-divisions.csv."""
        with open(path, encoding="utf-8-sig", newline="") as handle:
            divisions = [
                (row["code"], row["name"], row["level"], row.get("parent_code") or None)
                for row in csv.DictReader(handle)
            ]
        return cls(divisions, zones)

    @classmethod
    def default(cls) -> BureauResolver:
        """Yunnan's 16 prefectures, 129 counties and 滇中新区, from the bundled division list."""
        return _default_resolver()

    def resolve(self, text: str) -> Jurisdiction | None:
        if text in self._cache:
            return self._cache[text]
        result = self._lookup(bureau_core(text))
        if len(self._cache) > 10_000:  # one resolver may serve a long-lived process
            self._cache.clear()
        self._cache[text] = result
        return result

    def _lookup(self, core: str) -> Jurisdiction | None:
        if not core:
            return None
        if core in self._exact:
            return self._exact[core]
        if core in self._derived:
            return self._derived[core]
        # 曲靖市麒麟区住房和城乡建设局: a county named together with its prefecture.
        for alias, prefecture in self._prefecture_aliases:
            if core.startswith(alias) and len(core) > len(alias):
                county = self._lookup(core[len(alias) :])
                if (
                    county
                    and county.division_code
                    and self._parent.get(county.division_code) == (prefecture.division_code)
                ):
                    return county
        return None


def _put(table: dict[str, Jurisdiction | None], alias: str, target: Jurisdiction) -> None:
    if alias in table and table[alias] != target:
        table[alias] = None
    else:
        table[alias] = target


@cache
def _default_resolver() -> BureauResolver:
    return BureauResolver.from_csv(DIVISIONS_CSV)


# --------------------------------------------------------------------------- stages and values

STAGE_KEYWORDS: tuple[tuple[Stage, tuple[str, ...]], ...] = (
    (Stage.LIAISON, ("联络员",)),
    (Stage.DRAWING_REVIEW, ("施工图", "图审", "审图")),
    (Stage.PERMIT, ("施工许可",)),
    (Stage.TENDER_CONTRACT, ("招标", "投标", "合同")),
    (Stage.COMPLETION, ("竣工",)),
    (Stage.SPECIALTY_BASIC, ("基本信息", "专业承包")),
)
# Stage.label is a lazy translation that needs configured settings; the parser must also run
# without them (command line checks, the benchmark), so it keeps the labels' source text.
STAGE_TEXT: dict[Stage, str] = {
    Stage.LIAISON: "州（市）联络员",
    Stage.DRAWING_REVIEW: "施工图审查信息",
    Stage.PERMIT: "施工许可信息",
    Stage.TENDER_CONTRACT: "招标投标信息、合同登记信息",
    Stage.COMPLETION: "竣工验收信息及竣工验收备案信息",
    Stage.SPECIALTY_BASIC: "工程项目基本信息（建设单位直接发包的专业承包项目）",
}
STAGE_CHOICES_TEXT = "、".join(f"“{text}”" for text in STAGE_TEXT.values())
SQUASH_RE = re.compile(r"[\s()（）\[\]【】、,，;；:：.。/]")


@lru_cache(maxsize=512)
def match_stage(text: str) -> tuple[Stage | None, str]:
    """Map 审核环节 text to a stage, tolerating spaces, breaks, either parentheses and a missing tail.

    Returns (stage, "") or (None, a Chinese reason).
    """
    key = SQUASH_RE.sub("", normalize_text(text))
    if not key:
        return None, "审核环节不能为空"
    found = [stage for stage, words in STAGE_KEYWORDS if any(word in key for word in words)]
    if len(found) == 1:
        return found[0], ""
    if found:
        return None, f"一行只能填写一个审核环节，“{normalize_text(text)}”请拆成多行"
    return None, f"无法识别的审核环节“{normalize_text(text)}”，应为{STAGE_CHOICES_TEXT}之一"


YES = frozenset({"是", "已办理", "已办", "已", "有", "Y", "YES", "TRUE", "√", "✓", "✔", "1"})
NO = frozenset({"否", "未办理", "未办", "未", "没有", "无", "不", "N", "NO", "FALSE", "×", "✗", "0"})
DASH_RE = re.compile(r"^[-—–―‐_/\\·.。…]*$")
ELLIPSIS_RE = re.compile(r"^[.。…·]+$")
NOTES_PREFIXES = ("填报说明", "说明:", "说明：", "备注", "注:", "注：")
NUMBERED_NOTE_RE = re.compile(r"^\d{1,2}\s*[.、)]\s*\D")
SAME_AS_ABOVE = frozenset({"同上", "〃", '"', "”", "“", "''"})
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
SPACES_RE = re.compile(r"\s+")
PLAIN_ASCII_RE = re.compile(r"[!-~]*\Z")


def _is_dash(text: str) -> bool:
    return DASH_RE.match(text.replace(" ", "")) is not None


@lru_cache(maxsize=256)
def _yes_no(text: str) -> tuple[bool | None, str]:
    if _is_dash(text):
        return None, ""
    key = normalize_code(text)
    if key in YES:
        return True, ""
    if key in NO:
        return False, ""
    return None, f"应填写“是”或“否”，当前为“{text}”"


def _clean_name(text: str) -> str:
    # Spaces inside a Chinese name are typing slips (张 三); a transliterated name keeps them.
    return SPACES_RE.sub("", text) if CJK_RE.search(text) else text


AREA_CODE_RE = re.compile(r"^\((0\d{2,3})\)\s*")


def _phone(text: str) -> str:
    # (0874)3123458 keeps its area code apart, as 0874-3123458; 138-0013-8000 is one mobile number.
    phone = normalize_phone(AREA_CODE_RE.sub(r"\1-", text))
    digits = phone.replace("-", "")
    return digits if len(digits) == 11 and digits.startswith("1") else phone


def _cell_text(value: object) -> str:
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

    Merged cells carry their value into every cell they cover. Raises RosterFileError.
    """
    return [
        (number, [_cell_text(v) for v in values])
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
    except RosterFileError:
        raise
    except python_calamine.PasswordError as exc:
        raise RosterFileError(PASSWORD_PROTECTED) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a Rust panic inside calamine surfaces as a BaseException
        raise RosterFileError(CORRUPT) from exc


def _first_sheet_values(
    workbook: python_calamine.CalamineWorkbook,
    max_rows: int,
    wanted: Callable[[list[tuple[int, list[object]]]], bool] | None = None,
) -> list[tuple[int, list[object]]]:
    first: list[tuple[int, list[object]]] | None = None
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
            raise RosterFileError(TOO_MANY_ROWS.format(limit=max_rows))
        if end[1] + 1 > MAX_COLUMNS:
            raise RosterFileError(TOO_WIDE.format(limit=MAX_COLUMNS))
        values = sheet.to_python(skip_empty_area=False)
        _fill_merged(values, sheet.merged_cell_ranges or [])
        rows = [(number, row) for number, row in enumerate(values, 1) if row.count("") != len(row)]
        if rows and (wanted is None or wanted(rows)):
            return rows
        if rows and first is None:
            first = rows
    if first is not None:
        return first
    raise RosterFileError(EMPTY_SHEET)


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
        raise RosterFileError(EMPTY_FILE)
    if len(content) > max_bytes:
        raise RosterFileError(TOO_LARGE.format(limit=_size(max_bytes), size=_size(len(content))))
    if content.startswith(ZIP_MAGIC):
        _check_zip(content, max_rows)
    elif content.startswith(OLE_MAGIC):
        _check_ole(content)
    else:
        raise RosterFileError(_not_spreadsheet_message(content, filename))


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
        raise RosterFileError(PASSWORD_PROTECTED)
    if _utf16("Workbook") not in content and _utf16("Book") not in content:
        raise RosterFileError(NOT_SPREADSHEET_OFFICE)


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
        raise RosterFileError(CORRUPT) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise RosterFileError(CORRUPT)
    if any(info.flag_bits & 0x1 for info in infos):
        raise RosterFileError(PASSWORD_PROTECTED)
    bomb = ZIP_BOMB.format(limit=_size(MAX_UNZIPPED_BYTES))
    if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
        raise RosterFileError(bomb)
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise RosterFileError(bomb)
    names = {info.filename for info in infos}
    if "xl/workbook.bin" in names:
        raise RosterFileError(XLSB_UNSUPPORTED)
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names:
        kind = "ods"
    else:
        raise RosterFileError(NOT_SPREADSHEET_OFFICE)
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
            raise RosterFileError(PASSWORD_PROTECTED)
        elif kind == "ods" and info.filename == "mimetype" and b"spreadsheet" not in data:
            raise RosterFileError(NOT_SPREADSHEET_OFFICE)  # a text document (.odt) also has a content.xml


def _inflate(content: bytes, info: zipfile.ZipInfo, limit: int, bomb: str) -> bytes:
    offset = info.header_offset
    header = content[offset : offset + 30]
    if len(header) < 30 or not header.startswith(ZIP_MAGIC):
        raise RosterFileError(CORRUPT)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    raw = content[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > limit:
            raise RosterFileError(bomb)
        return raw
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise RosterFileError(CORRUPT)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise RosterFileError(CORRUPT) from exc
    if len(data) > limit or inflater.unconsumed_tail:
        raise RosterFileError(bomb)
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
            raise RosterFileError(TOO_WIDE.format(limit=MAX_COLUMNS))
        if int(match.group(2)) > max_rows:
            raise RosterFileError(TOO_MANY_ROWS.format(limit=max_rows))


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
            raise RosterFileError(TOO_MANY_ROWS.format(limit=max_rows))
        if last_column > MAX_COLUMNS:
            raise RosterFileError(TOO_WIDE.format(limit=MAX_COLUMNS))


def _ods_repeat(attrs: bytes) -> int:
    match = ODS_REPEAT_RE.search(attrs)
    return int(match.group(1)) if match else 1


# --------------------------------------------------------------------------- the roster


@dataclass(slots=True)
class RosterRow:
    """One person line of the roster, normalised, with what is wrong with it."""

    sheet_row: int
    bureau_text: str
    jurisdiction: Jurisdiction | None
    name: str
    department: str
    title: str
    has_ca: bool | None
    id_number: str
    stage: Stage | None
    phone: str
    raw: list[str]
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add_error(self, column: str, message: str) -> None:
        self.errors.append((COLUMN_LABELS[column], message))

    @property
    def error_text(self) -> str:
        return "；".join(f"{column}：{message}" for column, message in self.errors)


@dataclass(slots=True)
class RosterParse:
    """A read roster: its person lines, problems of the file as a whole, and where the header was."""

    rows: list[RosterRow]
    file_errors: list[str] = field(default_factory=list)
    header_row: int | None = None
    header: list[str] = field(default_factory=list)
    columns: dict[str, int] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors) or any(row.errors for row in self.rows)

    @property
    def error_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if row.errors]

    def by_jurisdiction(self) -> dict[Jurisdiction, list[RosterRow]]:
        """Rows grouped by resolved jurisdiction, in file order; rows whose bureau is unknown are left out."""
        groups: dict[Jurisdiction, list[RosterRow]] = {}
        for row in self.rows:
            if row.jurisdiction is not None:
                groups.setdefault(row.jurisdiction, []).append(row)
        return groups


def parse_roster(
    content: bytes,
    filename: str,
    resolver: BureauResolver,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
) -> RosterParse:
    """Read an uploaded roster and check every line. Raises RosterFileError for unreadable files."""
    rows = read_values(
        content,
        filename,
        max_rows=max_rows,
        max_bytes=max_bytes,
        wanted=lambda rows: _find_header(rows) is not None,
    )
    return parse_rows(rows, resolver)


def parse_rows(rows: Sequence[tuple[int, Sequence[object]]], resolver: BureauResolver) -> RosterParse:
    """Find the header among (sheet row number, cells), then normalise and check the lines below it."""
    found = _find_header(rows)
    if found is None:
        raise RosterFileError(NO_HEADER.format(limit=HEADER_SEARCH_ROWS))
    position, columns = found
    header_row, header_cells = rows[position]
    result = RosterParse(
        rows=[],
        header_row=header_row,
        header=[_cell_text(cell) for cell in header_cells],
        columns=columns,
    )
    result.file_errors += [
        MISSING_COLUMN.format(label=COLUMN_LABELS[key]) for key in REQUIRED_COLUMNS if key not in columns
    ]
    reader = _LineReader(columns, resolver)
    for number, values in rows[position + 1 :]:
        verdict = reader.feed(number, values)
        if verdict is _STOP:
            break
        if isinstance(verdict, RosterRow):
            result.rows.append(verdict)
    if not result.rows:
        result.file_errors.append(NO_DATA_ROWS)
    _check_duplicates(result.rows)
    return result


def _squash_header(value: object) -> str:
    return re.sub(r"\s+", "", normalize_text(_cell_text(value)))


def _find_header(rows: Sequence[tuple[int, Sequence[object]]]) -> tuple[int, dict[str, int]] | None:
    for position, (number, cells) in enumerate(rows):
        if number > HEADER_SEARCH_ROWS:
            return None
        texts = [_squash_header(cell) for cell in cells]
        if any("姓名" in text for text in texts) and any("审核环节" in text for text in texts):
            return position, _map_columns(texts)
    return None


def _map_columns(texts: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, text in enumerate(texts):
        key = _column_key(text.upper(), columns)
        if key and key not in columns:
            columns[key] = index
    return columns


def _column_key(text: str, columns: dict[str, int]) -> str | None:
    if not text:
        return None
    if "姓名" in text:
        return NAME
    if "审核环节" in text:
        return STAGE
    if "身份证" in text:  # before CA: 身份证号码（未办理CA证书的必填）
        return ID_NUMBER
    if "CA" in text:
        return HAS_CA
    if "电话" in text or "手机" in text:
        return PHONE
    if "职务" in text or "职称" in text:
        return TITLE
    if "部门" in text or "科室" in text or "处室" in text:
        return DEPARTMENT
    if "单位" in text:
        return BUREAU if BUREAU not in columns else DEPARTMENT
    return None


_STOP = object()
_SKIP = object()
PERSON_COLUMNS = (NAME, DEPARTMENT, TITLE, ID_NUMBER, PHONE)


class _LineReader:
    """Turns the sheet lines below the header into RosterRows, carrying the bureau down."""

    def __init__(self, columns: dict[str, int], resolver: BureauResolver) -> None:
        self.columns = columns
        self.resolver = resolver
        # A missing column reads the empty cell appended after the widest one.
        self.blank = max(columns.values(), default=0) + 1
        self.index = {key: columns.get(key, self.blank) for key in COLUMN_LABELS}
        self.bureau = ""
        self._clean_cache: dict[str, str] = {}

    def _clean(self, text: str) -> str:
        cleaned = self._clean_cache.get(text)
        if cleaned is None:
            # normalize_text leaves printable ASCII without spaces (ID and phone numbers) unchanged.
            cleaned = text if PLAIN_ASCII_RE.match(text) else normalize_text(text)
            if len(self._clean_cache) < 50_000:
                self._clean_cache[text] = cleaned
        return cleaned

    def _get(self, texts: list[str], key: str) -> str:
        return texts[self.index[key]]

    def feed(self, number: int, values: Sequence[object]) -> RosterRow | object:
        raw = [value if value.__class__ is str else _cell_text(value) for value in values]
        cached = self._clean_cache.get
        texts = [cell and (cached(cell) or self._clean(cell)) for cell in raw]
        present = [text for text in texts if text]
        if len(texts) <= self.blank:
            texts += [""] * (self.blank + 1 - len(texts))
        if not present:
            return _SKIP
        if present[0].startswith(NOTES_PREFIXES):
            return _STOP
        if all(ELLIPSIS_RE.match(text) for text in present):
            return _SKIP
        if len(set(present)) == 1 and NUMBERED_NOTE_RE.match(present[0]):
            return _SKIP
        if "姓名" in self._get(texts, NAME) and "审核环节" in self._get(texts, STAGE).replace(" ", ""):
            return _SKIP  # the header repeated above each bureau's block
        bureau = self._get(texts, BUREAU)
        if bureau and bureau not in SAME_AS_ABOVE:
            self.bureau = bureau
        if len(present) == 1 and bureau and present[0] == bureau:
            return _SKIP  # only the bureau, e.g. the empty tail of a merged bureau cell
        if self._untouched_template_line(texts):
            return _SKIP  # the template's own pre-filled 审核环节 line, left empty: not a person
        id_index = self.columns.get(ID_NUMBER)
        id_is_number = id_index is not None and id_index < len(values) and isinstance(values[id_index], float)
        return self._row(number, texts, raw, id_is_number)

    def _row(self, number: int, texts: list[str], raw: list[str], id_is_number: bool) -> RosterRow:
        stage, stage_problem = match_stage(self._get(texts, STAGE))
        ca_text = self._get(texts, HAS_CA)
        has_ca, ca_problem = _yes_no(ca_text)
        id_text = self._get(texts, ID_NUMBER)
        # The cell text is already normalised; only inner spaces and a lower-case x remain to fix.
        id_number = (
            "" if _is_dash(id_text) or id_text in ("无", "暂无") else SPACES_RE.sub("", id_text).upper()
        )
        phone_text = self._get(texts, PHONE)
        row = RosterRow(
            sheet_row=number,
            bureau_text=self.bureau,
            jurisdiction=self.resolver.resolve(self.bureau) if self.bureau else None,
            name=_clean_name(self._get(texts, NAME)),
            department=self._get(texts, DEPARTMENT),
            title=self._get(texts, TITLE),
            has_ca=None if stage == Stage.LIAISON else has_ca,
            id_number=id_number,
            stage=stage,
            phone="" if _is_dash(phone_text) else _phone(phone_text),
            raw=raw,
        )
        self._county_from_department(row)
        if not self.bureau:
            row.add_error(BUREAU, "单位不能为空")
        elif row.jurisdiction is None:
            row.add_error(
                BUREAU,
                f"无法识别的单位“{self.bureau}”：应为州（市）或县（市、区）住房城乡建设局，或滇中新区规划建设管理部",
            )
        if stage_problem:
            row.add_error(STAGE, stage_problem)
        if not any(self._get(texts, key) and not _is_dash(self._get(texts, key)) for key in PERSON_COLUMNS):
            row.add_error(NAME, "这一行没有填写人员：请填写姓名、联系电话等信息，或删除这一行")
            return row
        if not row.name:
            row.add_error(NAME, "姓名不能为空")
        for key, value in ((NAME, row.name), (DEPARTMENT, row.department), (TITLE, row.title)):
            problem = text_problem(value)
            if problem:
                row.add_error(key, problem)
        if stage != Stage.LIAISON:
            if ca_problem:
                row.add_error(HAS_CA, ca_problem)
            elif has_ca is None:
                row.add_error(HAS_CA, "请填写“是”或“否”")
        if id_is_number and id_number:
            row.add_error(
                ID_NUMBER,
                "身份证号码被存成了数字，Excel只保留15位有效数字，后几位已经丢失：请把该列设为文本格式后重新填写",
            )
        elif id_number:
            problem = id_number_problem(id_number)
            if problem:
                row.add_error(ID_NUMBER, problem)
        elif has_ca is False and stage != Stage.LIAISON:
            row.add_error(ID_NUMBER, "未办理CA数字证书的人员需要填写身份证号码")
        if not row.phone:
            row.add_error(PHONE, "联系电话不能为空")
        else:
            problem = phone_problem(row.phone)
            if problem:
                row.add_error(PHONE, problem)
        return row

    def _untouched_template_line(self, texts: list[str]) -> bool:
        """A line with nothing of a person (name, unit, post, ID, phone) and no CA answer: only what the
        template fills in itself (the bureau, the 审核环节, the liaison's ——). A prefecture with fewer
        than six people leaves some; they are blank lines, not errors."""
        if any(self._get(texts, key) and not _is_dash(self._get(texts, key)) for key in PERSON_COLUMNS):
            return False
        ca = self._get(texts, HAS_CA)
        return not ca or _is_dash(ca)

    def _county_from_department(self, row: RosterRow) -> None:
        """A prefecture's roster line whose person's own unit (the second 单位 column) is a county
        bureau (玉溪市 … 红塔区住房和城乡建设局) reviews that county, not the whole prefecture."""
        bureau = row.jurisdiction
        if (
            not row.department
            or bureau is None
            or not bureau.division_code
            or not bureau.division_code.endswith("00")
        ):
            return
        county = self.resolver.resolve(row.department)
        if county is None or not county.division_code or county.division_code.endswith("00"):
            return
        if county.division_code[:4] == bureau.division_code[:4]:
            row.jurisdiction = county
        else:
            row.add_error(
                DEPARTMENT,
                f"所在单位“{row.department}”不在“{bureau.label}”辖区内：请核对，或把该人员填在其所属州（市）的汇总表中",
            )


def _check_duplicates(rows: list[RosterRow]) -> None:
    """The same person twice for one stage and jurisdiction; one ID number under two names."""
    seen: dict[tuple[str | None, ...], int] = {}
    names_by_id: dict[str, tuple[str, int]] = {}
    for row in rows:
        if row.id_number and row.name:
            first = names_by_id.setdefault(row.id_number, (row.name, row.sheet_row))
            if first[0] != row.name:
                row.add_error(ID_NUMBER, f"与第{first[1]}行的身份证号码相同，但姓名不同")
        if row.stage is None or row.jurisdiction is None or not row.name:
            continue
        # Plain strings as keys: hashing the enum and the dataclass runs Python code per lookup.
        scope = (row.stage.value, row.jurisdiction.division_code or row.jurisdiction.zone_slug)
        keys = []
        if row.id_number:
            keys.append((*scope, "id", row.id_number))
        if row.phone:
            keys.append((*scope, "name", row.name, row.phone))
        earlier = next((seen[key] for key in keys if key in seen), None)
        if earlier is not None:
            row.add_error(
                NAME,
                f"与第{earlier}行重复：同一人员在“{row.jurisdiction.label}”的“{STAGE_TEXT[row.stage]}”环节只能填写一次",
            )
        for key in keys:
            seen.setdefault(key, row.sheet_row)
