"""Read and check a prefecture's 工程项目数据审核人员及联络员汇总表 (附件2 of the 2019-10-24 notice).

Everything here works on bytes and plain values, never on the database, so the upload
preview, the import command and the benchmark share one parser. Files arrive filled by
hand in Excel or WPS (.xlsx, legacy .xls, .ods); python-calamine reads all three.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from projects.stages import Stage
from yunjian.core.spreadsheets import (  # noqa: F401  (the roster's names for the shared reader)
    CORRUPT,
    EMPTY_FILE,
    EMPTY_SHEET,
    MAX_BYTES,
    MAX_COLUMNS,
    MAX_ROWS,
    NOT_SPREADSHEET,
    NOT_SPREADSHEET_HTML,
    NOT_SPREADSHEET_OFFICE,
    NOT_SPREADSHEET_TEXT,
    OLE_MAGIC,
    PASSWORD_PROTECTED,
    TOO_LARGE,
    TOO_MANY_ROWS,
    TOO_WIDE,
    XLSB_UNSUPPORTED,
    ZIP_BOMB,
    ZIP_MAGIC,
    SpreadsheetError,
    cell_text,
    check_container,
    read_rows,
    read_values,
)
from yunjian.core.validators import (
    id_number_problem,
    normalize_code,
    normalize_phone,
    normalize_text,
    phone_problem,
    text_problem,
)

HEADER_SEARCH_ROWS = 20

DIVISIONS_CSV = Path(__file__).resolve().parents[2] / "yunjian" / "core" / "data" / "yunnan-divisions.csv"
DEFAULT_ZONES: tuple[tuple[str, str], ...] = (("dianzhong", "滇中新区"),)

NO_HEADER = "未找到表头：前{limit}行中没有同时包含“姓名”和“审核环节”的一行，请按模板（附件2）的格式填写"
NO_DATA_ROWS = "表头下面没有人员数据"
MISSING_COLUMN = "缺少“{label}”列，请按模板（附件2）的列填写"

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

RosterFileError = SpreadsheetError  # the roster's name for the shared reader's error

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
        header=[cell_text(cell) for cell in header_cells],
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
    return re.sub(r"\s+", "", normalize_text(cell_text(value)))


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
        raw = [value if value.__class__ is str else cell_text(value) for value in values]
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
