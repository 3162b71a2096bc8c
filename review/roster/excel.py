"""Workbooks in the shape of 附件2 (工程项目数据审核人员及联络员汇总表), written with openpyxl.

The template a prefecture fills in, the error report of an upload (original columns with an
错误说明 column, on the same row numbers as the uploaded sheet) and the province-wide summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from projects.stages import Stage
from review.roster.parse import COLUMN_LABELS, STAGE_TEXT, RosterParse
from yunjian.core import spreadsheets

TITLE = "工程项目数据审核人员及联络员汇总表"
# The notice's 附件2 calls two columns 单位; the template names them apart (the parser reads both forms).
HEADER = (
    "单位\n（州市、县区住房\n和城乡建设局）",
    "姓名",
    "所在单位及部门",
    "职务",
    "是否已办\n理CA数字\n证书",
    "身份证号码",
    "审核环节",
    "联系电话",
)
WIDTHS = (26, 10, 18, 12, 10, 21, 34, 16)
ID_COLUMN, PHONE_COLUMN, CA_COLUMN, STAGE_COLUMN = 6, 8, 5, 7
DASH = "——"
NOTES = (
    "填报说明：1. 表格不够可自行添加；",
    "2. 未办理CA数字证书的人员需要填写身份证号码。",
    "3. 各州（市）住房城乡建设局负责统计上报所辖行政区域内审核人员及联络员信息",
)
SAMPLE_BUREAU = "曲靖市住房和城乡建设局"
TEMPLATE_INPUT_ROWS = 300  # rows given drop-downs, for people adding lines

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
TITLE_FONT = Font(name="宋体", size=16, bold=True)
HEADER_FONT = Font(name="宋体", size=11, bold=True)
BODY_FONT = Font(name="宋体", size=11)
ERROR_FONT = Font(name="宋体", size=11, color="C00000")
HEADER_FILL = PatternFill("solid", fgColor="F2F2F2")
ERROR_ROW_FILL = PatternFill("solid", fgColor="FDE9E7")
ERROR_CELL_FILL = PatternFill("solid", fgColor="FFC7CE")
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


class SummaryPerson(TypedDict):
    """One line of the summary; id_number is already masked (5303**********0412) unless the reader may see it."""

    bureau: str
    name: str
    department: str
    title: str
    has_ca: bool | None
    id_number: str
    stage_label: str
    phone: str


def template_workbook(bureau: str = SAMPLE_BUREAU) -> bytes:
    """附件2 as a prefecture fills it in: one bureau block with the six stage lines, the liaison first."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "汇总表"
    _title_and_header(sheet, TITLE)
    stages = list(Stage)
    first, last = 3, 2 + len(stages)
    for row, stage in enumerate(stages, first):
        for column in range(1, len(HEADER) + 1):
            _body(sheet.cell(row, column))
        sheet.cell(row, STAGE_COLUMN, STAGE_TEXT[stage])
        if stage == Stage.LIAISON:
            sheet.cell(row, CA_COLUMN, DASH)
            sheet.cell(row, ID_COLUMN, DASH)
        sheet.row_dimensions[row].height = 30
    sheet.cell(first, 1, bureau)
    sheet.merge_cells(start_row=first, start_column=1, end_row=last, end_column=1)
    ellipsis_row = last + 1
    for column in range(1, len(HEADER) + 1):
        _body(sheet.cell(ellipsis_row, column))
    sheet.cell(ellipsis_row, 1, "...")
    for offset, note in enumerate(NOTES, ellipsis_row + 1):
        sheet.cell(offset, 1, note).alignment = LEFT
        sheet.cell(offset, 1).font = BODY_FONT
        sheet.merge_cells(start_row=offset, start_column=1, end_row=offset, end_column=len(HEADER))
    _text_columns(sheet, first, ellipsis_row)
    _drop_downs(sheet, first, first + TEMPLATE_INPUT_ROWS)
    return _save(workbook)


def error_report_workbook(parse: RosterParse) -> bytes:
    """The uploaded lines on their original row numbers, each with an 错误说明 cell; wrong ones in red."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "检查结果"
    header_row = parse.header_row or 1
    width = max([len(parse.header), *(len(row.raw) for row in parse.rows)], default=len(HEADER))
    error_column = width + 1
    if header_row > 1:
        error_count = len(parse.error_rows)
        summary = f"{TITLE}（检查结果：共{len(parse.rows)}行，其中{error_count}行有错误）"
        sheet.cell(1, 1, "；".join([summary, *parse.file_errors]))
        sheet.cell(1, 1).font = HEADER_FONT
        sheet.cell(1, 1).alignment = LEFT
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=error_column)
    header = [*parse.header, *[""] * (width - len(parse.header)), "错误说明"]
    for column, text in enumerate(header, 1):
        _header(sheet.cell(header_row, column, text))
    label_columns = {
        label: parse.columns[key] + 1 for key, label in COLUMN_LABELS.items() if key in parse.columns
    }
    for row in parse.rows:
        for column in range(1, error_column + 1):
            cell = sheet.cell(row.sheet_row, column)
            _body(cell)
            cell.number_format = "@"
        for column, value in enumerate(row.raw, 1):
            sheet.cell(row.sheet_row, column).value = value or None
        if not row.errors:
            continue
        error_cell = sheet.cell(row.sheet_row, error_column, row.error_text)
        error_cell.font = ERROR_FONT
        error_cell.alignment = LEFT
        for column in range(1, error_column + 1):
            sheet.cell(row.sheet_row, column).fill = ERROR_ROW_FILL
        for label, _message in row.errors:
            if label in label_columns:
                sheet.cell(row.sheet_row, label_columns[label]).fill = ERROR_CELL_FILL
    for column in range(1, error_column):
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS[column - 1] if column <= 8 else 14
    sheet.column_dimensions[get_column_letter(error_column)].width = 60
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    if parse.file_errors:
        notes = workbook.create_sheet("文件问题")
        notes.column_dimensions["A"].width = 80
        for row_number, message in enumerate(parse.file_errors, 1):
            notes.cell(row_number, 1, message).font = ERROR_FONT
    return _save(workbook)


def summary_workbook(
    groups: Sequence[tuple[str, Sequence[SummaryPerson]]], one_sheet_per_prefecture: bool
) -> bytes:
    """The province-wide summary in 附件2's columns: a sheet per prefecture, or all in one sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    if one_sheet_per_prefecture and groups:
        used: set[str] = set()
        for label, people in groups:
            sheet = workbook.create_sheet(_sheet_name(label, used))
            _title_and_header(sheet, f"{TITLE}（{label}）")
            _people(sheet, people, 3)
    else:
        sheet = workbook.create_sheet("汇总")
        _title_and_header(sheet, TITLE)
        _people(sheet, [person for _label, people in groups for person in people], 3)
    return _save(workbook)


def _people(sheet: Worksheet, people: Sequence[SummaryPerson], first: int) -> None:
    liaison = STAGE_TEXT[Stage.LIAISON]
    block_start = first
    for row, person in enumerate(people, first):
        is_liaison = person["stage_label"] == liaison
        values = (
            person["bureau"],
            person["name"],
            person["department"],
            person["title"],
            _yes_no(person["has_ca"]),
            person["id_number"] or (DASH if is_liaison else ""),
            person["stage_label"],
            person["phone"],
        )
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row, column, value)
            _body(cell)
        if row > first and person["bureau"] != people[row - first - 1]["bureau"]:
            _merge_block(sheet, block_start, row - 1)
            block_start = row
    if people:
        _merge_block(sheet, block_start, first + len(people) - 1)
    _text_columns(sheet, first, first + len(people))


def _merge_block(sheet: Worksheet, start: int, end: int) -> None:
    if end > start:
        sheet.merge_cells(start_row=start, start_column=1, end_row=end, end_column=1)


def _yes_no(value: bool | None) -> str:
    return DASH if value is None else "是" if value else "否"


def _sheet_name(label: str, used: set[str]) -> str:
    base = SHEET_NAME_BAD.sub("", label)[:28] or "州市"
    name, suffix = base, 2
    while name in used:
        name, suffix = f"{base}{suffix}", suffix + 1
    used.add(name)
    return name


def _title_and_header(sheet: Worksheet, title: str) -> None:
    sheet.cell(1, 1, title).font = TITLE_FONT
    sheet.cell(1, 1).alignment = CENTER
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.row_dimensions[1].height = 36
    for column, text in enumerate(HEADER, 1):
        _header(sheet.cell(2, column, text))
    sheet.row_dimensions[2].height = 48
    for column, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:2"


def _header(cell) -> None:
    cell.font = HEADER_FONT
    cell.alignment = CENTER
    cell.border = BORDER
    cell.fill = HEADER_FILL


def _body(cell) -> None:
    cell.font = BODY_FONT
    cell.alignment = CENTER
    cell.border = BORDER


def _text_columns(sheet: Worksheet, first: int, last: int) -> None:
    # ID numbers and phone numbers typed into a General cell become numbers: 18 digits lose the last three.
    for column in (ID_COLUMN, PHONE_COLUMN):
        sheet.column_dimensions[get_column_letter(column)].number_format = "@"
        for row in range(first, last + 1):
            sheet.cell(row, column).number_format = "@"


def _drop_downs(sheet: Worksheet, first: int, last: int) -> None:
    ca = DataValidation(type="list", formula1='"是,否"', allow_blank=True, errorStyle="warning")
    ca.error = "请选择“是”或“否”（联络员填“——”）"
    stages = DataValidation(
        type="list",
        formula1='"' + ",".join(STAGE_TEXT.values()) + '"',
        allow_blank=True,
        errorStyle="warning",
    )
    stages.error = "请从下拉列表中选择审核环节"
    for validation, column in ((ca, CA_COLUMN), (stages, STAGE_COLUMN)):
        letter = get_column_letter(column)
        validation.add(f"{letter}{first}:{letter}{last}")
        sheet.add_data_validation(validation)


def _save(workbook: Workbook) -> bytes:
    # Names, titles and the uploaded cells are users' text: never a formula (yunjian.core.spreadsheets).
    return spreadsheets.save(workbook)
