"""Reading the prefectures' 汇总表 (附件2) as it arrives: every file shape, every line error, every bad file.

No database: the parser works on bytes. Files are generated here as .xlsx (openpyxl), .xls (xlwt)
and .ods (odfpy), with the title row, merged bureau cells and notes of the real attachment.
"""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import CoveredTableCell, Table, TableCell, TableRow
from odf.text import P

from projects.stages import Stage
from review.roster import parse as roster
from review.roster.excel import HEADER as TEMPLATE_HEADER
from review.roster.excel import error_report_workbook, summary_workbook, template_workbook
from review.roster.parse import (
    DEPARTMENT,
    NO_DATA_ROWS,
    BureauResolver,
    Jurisdiction,
    RosterFileError,
    check_container,
    match_stage,
    parse_roster,
    parse_rows,
    read_rows,
)
from yunjian.core.validators import complete_id_number

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("xlsx", "xls", "ods")
FULL_WIDTH = str.maketrans("0123456789-()X", "０１２３４５６７８９－（）Ｘ")
CA_HEADER = "是否已办\n理CA数字\n证书"
HEADER = ["单 位", "姓名", "单位", "职务", CA_HEADER, "身份证\n号码", " 审核环节 ", "联系电话"]
TITLE = "工程项目数据审核人员及联络员汇总表"
NOTES = [
    "填报说明： 1. 表格不够可自行添加；",
    " 2. 未办理CA数字证书的人员需要填写身份证号码。",
    " 3. 各州（市）住房城乡建设局负责统计上报所辖行政区域内审核人员及联络员信息",
]


def person_id(serial: int) -> str:
    return complete_id_number(f"5303021985{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}")


def id_ending_in_x() -> str:
    for serial in range(1000):
        candidate = person_id(serial)
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X check digit in range")


ID_X = id_ending_in_x()
ID_A, ID_B, ID_C = person_id(11), person_id(12), person_id(13)


@pytest.fixture(scope="module")
def resolver() -> BureauResolver:
    return BureauResolver.default()


# --------------------------------------------------------------------------- writers


class Sheet:
    """A sheet to write in any format: rows of values (None = empty) and merges (0-based, inclusive)."""

    def __init__(
        self, rows: Sequence[Sequence[object]], merges: Sequence[tuple[int, int, int, int]] = ()
    ) -> None:
        self.rows = [list(row) for row in rows]
        self.merges = list(merges)


def write(sheet: Sheet, fmt: str) -> bytes:
    return {"xlsx": write_xlsx, "xls": write_xls, "ods": write_ods}[fmt](sheet)


def write_xlsx(sheet: Sheet) -> bytes:
    workbook = openpyxl.Workbook()
    ws = workbook.active
    for r, row in enumerate(sheet.rows, 1):
        for c, value in enumerate(row, 1):
            if value not in (None, ""):
                ws.cell(r, c, value)
    for top, left, bottom, right in sheet.merges:
        ws.merge_cells(start_row=top + 1, start_column=left + 1, end_row=bottom + 1, end_column=right + 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_xls(sheet: Sheet) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    ws = workbook.add_sheet("汇总表")
    covered = set()
    for top, left, bottom, right in sheet.merges:
        ws.write_merge(top, bottom, left, right, sheet.rows[top][left])
        covered |= {(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)}
    for r, row in enumerate(sheet.rows):
        for c, value in enumerate(row):
            if value not in (None, "") and (r, c) not in covered:
                ws.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_ods(sheet: Sheet) -> bytes:
    document = OpenDocumentSpreadsheet()
    table = Table(name="汇总表")
    spans = {(top, left): (bottom - top + 1, right - left + 1) for top, left, bottom, right in sheet.merges}
    covered = {
        (r, c)
        for top, left, bottom, right in sheet.merges
        for r in range(top, bottom + 1)
        for c in range(left, right + 1)
        if (r, c) != (top, left)
    }
    for r, row in enumerate(sheet.rows):
        table_row = TableRow()
        for c, value in enumerate(row):
            if (r, c) in covered:
                table_row.addElement(CoveredTableCell())
                continue
            if isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            elif value in (None, ""):
                cell = TableCell()
            else:
                cell = TableCell(valuetype="string")
            if (r, c) in spans:
                cell.setAttribute("numberrowsspanned", str(spans[r, c][0]))
                cell.setAttribute("numbercolumnsspanned", str(spans[r, c][1]))
            if value not in (None, ""):
                for line in str(value).split("\n"):
                    cell.addElement(P(text=line))
            table_row.addElement(cell)
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def roster_sheet(people: Sequence[Sequence[object]], *, title_rows: int = 2) -> Sheet:
    """附件2's shape: title (merged), blank line(s), header, people, '...', the notes (merged)."""
    rows: list[list[object]] = [[TITLE, *[None] * 7]] + [[None] * 8 for _ in range(title_rows - 1)]
    rows.append(HEADER)
    rows += [list(person) for person in people]
    rows.append(["...", *[None] * 7])
    rows += [[note, *[None] * 7] for note in NOTES]
    merges = [(0, 0, 0, 7)] + [(len(rows) - 3 + i, 0, len(rows) - 3 + i, 7) for i in range(3)]
    return Sheet(rows, merges)


QUJING = "曲靖市住房和城乡建设局"
# Header on sheet row 3; the six stage lines of 曲靖 on rows 4-9, bureau merged down; a county on row 10.
GOOD_PEOPLE = [
    [QUJING, "张三", "建筑市场监管科", "科长", "——", "——", "州（市）联络员", "０８７４－３１２３４５６"],
    [
        None,
        "李 四",
        "勘察设计科",
        "科员",
        "是",
        ID_X.lower().translate(FULL_WIDTH),
        " 施工图 审查\n信息 ",
        13800138000,
    ],
    [None, "王五", "建筑管理科", "副科长", "否", ID_A.translate(FULL_WIDTH), "施工许可信息", "138 0013 8001"],
    [None, "赵六", "招投标办", "科员", "否", ID_B, "招标投标信息,合同登记信息", "0874-3123457"],
    [None, "钱七", "质监站", "站长", "是", None, "竣工验收信息及竣工验收 备案信息", "13800138002"],
    [
        None,
        "孙八",
        "建筑市场监管科",
        "科员",
        " 是 ",
        "",
        "工程项目基本信息 (建设单位直接发包的专 业承包项目)",
        "13800138003",
    ],
    ["麒麟区住房和城乡建设局", "周九", "建管股", "股长", "否", ID_C, "施工许可信息", "(0874)3123458"],
]


def good_sheet() -> Sheet:
    sheet = roster_sheet(GOOD_PEOPLE)
    sheet.merges.append((3, 0, 8, 0))  # 曲靖's bureau cell over its six stage lines
    return sheet


# --------------------------------------------------------------------------- the good file, in every format


@pytest.mark.parametrize("fmt", FORMATS)
def test_attachment_shaped_file_reads_clean(fmt: str, resolver: BureauResolver) -> None:
    result = parse_roster(write(good_sheet(), fmt), f"汇总表.{fmt}", resolver)

    assert result.file_errors == []
    assert [(row.sheet_row, row.errors) for row in result.rows if row.errors] == []
    assert result.header_row == 3
    assert [row.sheet_row for row in result.rows] == [4, 5, 6, 7, 8, 9, 10]
    assert [row.stage for row in result.rows] == [*Stage, Stage.PERMIT]
    qujing = Jurisdiction("530300", None, "曲靖市")
    assert [row.jurisdiction for row in result.rows[:6]] == [qujing] * 6
    assert [row.bureau_text for row in result.rows[:6]] == [QUJING] * 6
    assert result.rows[6].jurisdiction == Jurisdiction("530302", None, "曲靖市麒麟区")
    liaison, drawing, permit = result.rows[0], result.rows[1], result.rows[2]
    assert (liaison.name, liaison.has_ca, liaison.id_number, liaison.phone) == (
        "张三",
        None,
        "",
        "0874-3123456",
    )
    assert (drawing.name, drawing.has_ca, drawing.id_number, drawing.phone) == (
        "李四",
        True,
        ID_X,
        "13800138000",
    )
    assert (permit.has_ca, permit.id_number, permit.phone) == (False, ID_A, "13800138001")
    assert result.rows[3].department == "招投标办"
    assert result.rows[3].title == "科员"
    assert result.rows[5].has_ca is True
    assert result.rows[6].phone == "0874-3123458"
    assert result.has_errors is False


@pytest.mark.parametrize("fmt", FORMATS)
def test_by_jurisdiction_groups_lines_for_the_apply_step(fmt: str, resolver: BureauResolver) -> None:
    result = parse_roster(write(good_sheet(), fmt), f"a.{fmt}", resolver)

    groups = result.by_jurisdiction()

    assert [(j.division_code, len(rows)) for j, rows in groups.items()] == [("530300", 6), ("530302", 1)]
    assert {j.roster_key for j in groups} == {"530300"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_raw_cells_are_kept_for_the_error_report(fmt: str, resolver: BureauResolver) -> None:
    result = parse_roster(write(good_sheet(), fmt), f"a.{fmt}", resolver)

    assert result.rows[2].raw[5] == ID_A.translate(FULL_WIDTH)
    assert result.rows[1].raw[7] == "13800138000"  # a number cell, not "13800138000.0"
    assert len(result.header) == 8
    assert result.header[4].replace("\n", "") == "是否已办理CA数字证书"


def test_header_on_row_one_without_title(resolver: BureauResolver) -> None:
    sheet = Sheet([HEADER, [QUJING, "张三", "科", "科长", "是", "", "施工许可信息", "13800138000"]])

    result = parse_roster(write_xlsx(sheet), "a.xlsx", resolver)

    assert result.header_row == 1
    assert [(row.sheet_row, row.errors) for row in result.rows] == [(2, [])]


def test_columns_are_found_by_their_header_text(resolver: BureauResolver) -> None:
    header = [
        "序号",
        "填报单位",
        "姓名",
        "所在部门",
        "职务",
        "联系电话",
        "审核环节",
        "身份证号码（未办ca证书的必填）",
        "是否办理CA证书",
    ]
    line = ["1", QUJING, "张三", "建管科", "科长", "13800138000", "施工许可信息", ID_A, "否"]

    result = parse_roster(write_xlsx(Sheet([header, line])), "a.xlsx", resolver)

    row = result.rows[0]
    assert (row.errors, row.id_number, row.has_ca, row.department, row.phone) == (
        [],
        ID_A,
        False,
        "建管科",
        "13800138000",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_bureau_and_same_as_above_fill_down(fmt: str, resolver: BureauResolver) -> None:
    people = [
        ["红河州住建局", "甲", "科", "科员", "是", "", "施工许可信息", "13800138010"],
        [None, "乙", "科", "科员", "是", "", "竣工验收信息及竣工验收备案信息", "13800138011"],
        ["同上", "丙", "科", "科员", "是", "", "施工图审查信息", "13800138012"],
        ["滇中新区规划建设管理部", "丁", "科", "科员", "是", "", "施工许可信息", "13800138013"],
        [None, "戊", "科", "科员", "是", "", "州（市）联络员", "13800138014"],
    ]

    result = parse_roster(write(roster_sheet(people), fmt), f"a.{fmt}", resolver)

    assert [row.errors for row in result.rows] == [[]] * 5
    assert [row.jurisdiction.division_code for row in result.rows[:3]] == ["532500"] * 3
    assert [row.jurisdiction.zone_slug for row in result.rows[3:]] == ["dianzhong"] * 2
    assert result.rows[3].jurisdiction.roster_key == "dianzhong"


def test_merged_stage_and_department_cells_cover_every_line(resolver: BureauResolver) -> None:
    people = [
        [QUJING, "甲", "建管科", "科员", "是", "", "施工许可信息", "13800138010"],
        [None, "乙", None, "科员", "是", "", None, "13800138011"],
    ]
    sheet = roster_sheet(people)
    sheet.merges += [(3, 0, 4, 0), (3, 2, 4, 2), (3, 6, 4, 6)]

    for fmt in ("xlsx", "xls"):
        result = parse_roster(write(sheet, fmt), f"a.{fmt}", resolver)
        assert [(row.stage, row.department, row.errors) for row in result.rows] == [
            (Stage.PERMIT, "建管科", []),
            (Stage.PERMIT, "建管科", []),
        ], fmt


def test_notes_ellipsis_and_repeated_headers_are_not_data(resolver: BureauResolver) -> None:
    people = [
        [QUJING, "甲", "科", "科员", "是", "", "施工许可信息", "13800138010"],
        ["……", None, None, None, None, None, None, None],
        HEADER,
        ["…", "…", None, None, None, None, None, None],
        ["1. 表格不够可自行添加", None, None, None, None, None, None, None],
        ["玉溪市住建局", "乙", "科", "科员", "是", "", "施工许可信息", "13800138011"],
    ]
    sheet = roster_sheet(people)
    sheet.rows.append(["玉溪市住建局", "注释之后", "科", "科员", "是", "", "施工许可信息", "13800138012"])

    result = parse_roster(write_xlsx(sheet), "a.xlsx", resolver)

    assert [row.name for row in result.rows] == ["甲", "乙"]
    assert not result.has_errors


def test_untouched_template_lines_are_blank_not_errors(resolver: BureauResolver) -> None:
    """The template's own pre-filled 审核环节 lines, left empty by a prefecture with fewer than six
    people, are blank lines (issue 19): an empty template has no person at all."""
    result = parse_roster(template_workbook(), "模板.xlsx", resolver)

    assert result.header_row == 2
    assert result.rows == []
    assert result.file_errors == [NO_DATA_ROWS]

    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    sheet = workbook.active
    for row, name in ((3, "联络员甲"), (5, "审核员乙")):  # two people, four template lines untouched
        sheet.cell(row, 2, name)
        sheet.cell(row, 8, "13987400000")
    sheet.cell(5, 5, "是")
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_roster(buffer.getvalue(), "模板.xlsx", resolver)
    assert [(row.sheet_row, row.name, row.errors) for row in result.rows] == [
        (3, "联络员甲", []),
        (5, "审核员乙", []),
    ]


def test_a_line_with_a_ca_answer_but_no_person_still_asks_for_one(resolver: BureauResolver) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook()))
    workbook.active.cell(4, 5, "是")
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_roster(buffer.getvalue(), "模板.xlsx", resolver)
    assert [row.errors for row in result.rows] == [
        [("姓名", "这一行没有填写人员：请填写姓名、联系电话等信息，或删除这一行")]
    ]


def test_the_two_unit_columns_have_distinct_headers_and_the_notice_original_still_reads(
    resolver: BureauResolver,
) -> None:
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(template_workbook())).active[2]]
    assert header[0] != header[2]
    assert header[0].startswith("单位")
    assert header[2] == "所在单位及部门"
    original = [
        (1, ["单位", "姓名", "单位", "职务", "是否已办理CA数字证书", "身份证号码", "审核环节", "联系电话"]),
        (
            2,
            ["曲靖市住房和城乡建设局", "张三", "建筑市场科", "科长", "是", "", "施工许可审核", "13987400000"],
        ),
    ]
    result = parse_rows(original, resolver)
    assert result.columns[DEPARTMENT] == 2
    assert result.rows[0].department == "建筑市场科"
    assert result.rows[0].errors == []


def test_a_county_bureau_named_as_the_persons_unit_is_the_area(resolver: BureauResolver) -> None:
    rows = [
        (1, ["单位", "姓名", "单位", "职务", "是否已办理CA数字证书", "身份证号码", "审核环节", "联系电话"]),
        (
            2,
            [
                "玉溪市住房和城乡建设局",
                "李四",
                "红塔区住房和城乡建设局",
                "科员",
                "是",
                "",
                "施工许可审核",
                "13987400001",
            ],
        ),
        (3, ["", "王五", "建筑市场科", "科员", "是", "", "施工许可审核", "13987400002"]),
        (4, ["", "赵六", "麒麟区住房和城乡建设局", "科员", "是", "", "施工许可审核", "13987400003"]),
    ]
    result = parse_rows(rows, resolver)
    areas = [(row.name, row.jurisdiction.label if row.jurisdiction else None) for row in result.rows]
    assert areas[:2] == [("李四", "玉溪市红塔区"), ("王五", "玉溪市")]
    assert result.rows[2].errors  # 麒麟区 is in 曲靖, not 玉溪
    assert "不在" in result.rows[2].errors[0][1]


def test_filled_template_round_trips(resolver: BureauResolver) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(template_workbook("红河州住房和城乡建设局")))
    sheet = workbook.active
    for offset, row in enumerate(range(3, 9)):
        sheet.cell(row, 2, f"人员{offset}")
        sheet.cell(row, 3, "建筑市场科")
        sheet.cell(row, 4, "科员")
        if row > 3:
            sheet.cell(row, 5, "否")
            sheet.cell(row, 6, person_id(100 + offset))
        sheet.cell(row, 8, f"1390000000{offset}")
    buffer = io.BytesIO()
    workbook.save(buffer)

    result = parse_roster(buffer.getvalue(), "filled.xlsx", resolver)

    assert not result.has_errors, [(row.sheet_row, row.errors) for row in result.rows]
    assert [row.stage for row in result.rows] == list(Stage)
    assert {row.jurisdiction.division_code for row in result.rows} == {"532500"}
    assert result.rows[0].id_number == ""
    assert result.rows[0].has_ca is None


def test_template_shape() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(template_workbook())).active

    assert sheet["A1"].value == TITLE
    assert "A1:H1" in {str(r) for r in sheet.merged_cells.ranges}
    assert "A3:A8" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["E2"].value == CA_HEADER
    assert sheet["E3"].value == sheet["F3"].value == "——"
    assert sheet["G3"].value == "州（市）联络员"
    assert sheet["A9"].value == "..."
    assert sheet["A10"].value.startswith("填报说明")
    assert sheet["A12"].value.startswith("3. 各州（市）住房城乡建设局")
    assert sheet["F4"].number_format == "@"
    assert sheet["H4"].number_format == "@"
    assert sheet.column_dimensions["F"].width >= 20


# --------------------------------------------------------------------------- line errors


ERROR_PEOPLE = [
    [QUJING, "甲", "科", "科员", "是", "", "施工许可信息", "13800138010"],  # row 4: fine
    [None, "", "科", "科员", "是", "", "施工许可信息", "13800138011"],  # 5: no name
    [None, "乙", "科", "科员", "是", "", "质量安全监督", "13800138012"],  # 6: unknown stage
    [
        None,
        "丙",
        "科",
        "科员",
        "否",
        "——",
        "竣工验收信息及竣工验收备案信息",
        "13800138013",
    ],  # 7: 否 without ID
    [
        None,
        "丁",
        "科",
        "科员",
        "否",
        ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"),
        "施工许可信息",
        "13800138014",
    ],
    [None, "戊", "科", "科员", "是", "", "施工许可信息", "12345"],  # 9: bad phone
    [None, "甲", "科", "科员", "是", "", " 施工许可 信息", "138-0013-8010"],  # 10: row 4 again
    ["北京市住房和城乡建设局", "己", "科", "科员", "是", "", "施工许可信息", "13800138015"],  # 11
    [QUJING, "庚", "科", "科员", "", "", "施工许可信息", "13800138016"],  # 12: CA blank
    [None, "辛", "科", "科员", "是", ID_B, "施工许可信息", "13800138017"],  # 13
    [
        None,
        "壬",
        "科",
        "科员",
        "是",
        ID_B,
        "竣工验收信息及竣工验收备案信息",
        "13800138018",
    ],  # 14: ID of row 13
    [None, "癸", "科", "科员", "是", "", "施工许可信息、竣工验收信息", "13800138019"],  # 15: two stages
]
EXPECTED_ERRORS = {
    5: [("姓名", "姓名不能为空")],
    6: [("审核环节", "无法识别的审核环节“质量安全监督”，应为" + roster.STAGE_CHOICES_TEXT + "之一")],
    7: [("身份证号码", "未办理CA数字证书的人员需要填写身份证号码")],
    8: [("身份证号码", "身份证号码校验位不正确")],
    9: [("联系电话", "联系电话应为11位手机号码或带区号的固定电话（如 0871-64138888）")],
    10: [("姓名", "与第4行重复：同一人员在“曲靖市”的“施工许可信息”环节只能填写一次")],
    11: [
        (
            "单位",
            "无法识别的单位“北京市住房和城乡建设局”：应为州（市）或县（市、区）住房城乡建设局，或滇中新区规划建设管理部",
        )
    ],
    12: [("是否已办理CA数字证书", "请填写“是”或“否”")],
    14: [("身份证号码", "与第13行的身份证号码相同，但姓名不同")],
    15: [("审核环节", "一行只能填写一个审核环节，“施工许可信息、竣工验收信息”请拆成多行")],
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_line_error_is_reported_by_row_and_column(fmt: str, resolver: BureauResolver) -> None:
    result = parse_roster(write(roster_sheet(ERROR_PEOPLE), fmt), f"a.{fmt}", resolver)

    assert {row.sheet_row: row.errors for row in result.rows if row.errors} == EXPECTED_ERRORS
    assert result.has_errors
    assert [row.sheet_row for row in result.error_rows] == sorted(EXPECTED_ERRORS)
    assert result.rows[7].jurisdiction is None
    assert result.rows[2].stage is None


def test_duplicate_by_id_number_and_across_stages_and_bureaus(resolver: BureauResolver) -> None:
    people = [
        [QUJING, "甲", "科", "科员", "否", ID_A, "施工许可信息", "13800138010"],
        [None, "甲", "科", "科员", "否", ID_A, "施工许可信息", "13900000000"],  # same ID, other phone
        [
            None,
            "甲",
            "科",
            "科员",
            "否",
            ID_A,
            "竣工验收信息及竣工验收备案信息",
            "13800138010",
        ],  # other stage
        ["昆明市住建局", "甲", "科", "科员", "否", ID_A, "施工许可信息", "13800138010"],  # other division
    ]

    result = parse_roster(write_xlsx(roster_sheet(people)), "a.xlsx", resolver)

    assert {row.sheet_row: row.errors for row in result.rows if row.errors} == {
        5: [("姓名", "与第4行重复：同一人员在“曲靖市”的“施工许可信息”环节只能填写一次")]
    }


def test_unknown_ca_answer_and_liaison_exemptions(resolver: BureauResolver) -> None:
    people = [
        [QUJING, "甲", "科", "科员", "办了", "", "施工许可信息", "13800138010"],
        [None, "乙", "科", "联络员", "否", "—", "州(市)联络员", "13800138011"],
        [None, "丙", "科", "科员", "无", "", "施工许可信息", "13800138012"],
    ]

    result = parse_roster(write_xlsx(roster_sheet(people)), "a.xlsx", resolver)

    assert {row.sheet_row: row.errors for row in result.rows if row.errors} == {
        4: [("是否已办理CA数字证书", "应填写“是”或“否”，当前为“办了”")],
        6: [("身份证号码", "未办理CA数字证书的人员需要填写身份证号码")],
    }
    assert result.rows[1].has_ca is None


def test_id_number_saved_as_a_number_is_flagged(resolver: BureauResolver) -> None:
    people = [[QUJING, "甲", "科", "科员", "否", int(ID_A[:-1] + "0"), "施工许可信息", "13800138010"]]

    result = parse_roster(write_xlsx(roster_sheet(people)), "a.xlsx", resolver)

    assert [column for column, _message in result.rows[0].errors] == ["身份证号码"]
    assert "文本格式" in result.rows[0].errors[0][1]


def test_missing_columns_are_file_errors(resolver: BureauResolver) -> None:
    sheet = Sheet([["姓名", "审核环节"], ["甲", "施工许可信息"]])

    result = parse_roster(write_xlsx(sheet), "a.xlsx", resolver)

    assert result.file_errors == [
        "缺少“单位”列，请按模板（附件2）的列填写",
        "缺少“是否已办理CA数字证书”列，请按模板（附件2）的列填写",
        "缺少“身份证号码”列，请按模板（附件2）的列填写",
        "缺少“联系电话”列，请按模板（附件2）的列填写",
    ]
    assert result.has_errors


def test_header_without_data_lines(resolver: BureauResolver) -> None:
    result = parse_roster(write_xlsx(roster_sheet([])), "a.xlsx", resolver)

    assert result.rows == []
    assert result.file_errors == ["表头下面没有人员数据"]


# --------------------------------------------------------------------------- error report and summary


def test_error_report_keeps_row_numbers_and_adds_the_error_column(resolver: BureauResolver) -> None:
    result = parse_roster(write_xlsx(roster_sheet(ERROR_PEOPLE)), "a.xlsx", resolver)

    report = error_report_workbook(result)
    sheet = openpyxl.load_workbook(io.BytesIO(report)).active

    assert sheet.cell(3, 9).value == "错误说明"
    assert sheet.cell(3, 2).value == "姓名"
    assert sheet.cell(4, 2).value == "甲"
    assert sheet.cell(4, 9).value is None
    assert sheet.cell(8, 9).value == "身份证号码：身份证号码校验位不正确"
    assert sheet.cell(8, 6).fill.fgColor.rgb.endswith("FFC7CE")
    assert sheet.cell(8, 1).fill.fgColor.rgb.endswith("FDE9E7")
    assert sheet.cell(4, 1).fill.fgColor.rgb in ("00000000", None)
    assert "10行有错误" in sheet.cell(1, 1).value


def test_error_report_reads_back_with_the_same_errors(resolver: BureauResolver) -> None:
    first = parse_roster(write_xls(roster_sheet(ERROR_PEOPLE)), "a.xls", resolver)

    again = parse_roster(error_report_workbook(first), "报告.xlsx", resolver)

    assert {row.sheet_row: row.errors for row in again.rows if row.errors} == EXPECTED_ERRORS


def test_error_report_lists_file_errors(resolver: BureauResolver) -> None:
    result = parse_roster(
        write_xlsx(Sheet([["姓名", "审核环节"], ["甲", "施工许可信息"]])), "a.xlsx", resolver
    )

    workbook = openpyxl.load_workbook(io.BytesIO(error_report_workbook(result)))

    assert workbook.sheetnames == ["检查结果", "文件问题"]
    assert workbook["文件问题"]["A1"].value == "缺少“单位”列，请按模板（附件2）的列填写"


def summary_groups() -> list[tuple[str, list[dict]]]:
    def person(bureau: str, name: str, stage: Stage, has_ca: bool | None, id_number: str) -> dict:
        return {
            "bureau": bureau,
            "name": name,
            "department": "建筑市场科",
            "title": "科员",
            "has_ca": has_ca,
            "id_number": id_number,
            "stage_label": roster.STAGE_TEXT[stage],
            "phone": "13800138000",
        }

    masked = ID_A[:4] + "*" * 10 + ID_A[-4:]
    return [
        (
            "曲靖市",
            [
                person(QUJING, "甲", Stage.LIAISON, None, ""),
                person(QUJING, "乙", Stage.PERMIT, False, masked),
                person("麒麟区住房和城乡建设局", "丙", Stage.PERMIT, True, ""),
            ],
        ),
        ("红河哈尼族彝族自治州", [person("红河州住房和城乡建设局", "丁", Stage.COMPLETION, False, ID_B)]),
    ]


def test_summary_one_sheet_per_prefecture() -> None:
    workbook = openpyxl.load_workbook(
        io.BytesIO(summary_workbook(summary_groups(), one_sheet_per_prefecture=True))
    )

    assert workbook.sheetnames == ["曲靖市", "红河哈尼族彝族自治州"]
    sheet = workbook["曲靖市"]
    assert sheet["A1"].value == f"{TITLE}（曲靖市）"
    assert [cell.value for cell in sheet[2]] == list(TEMPLATE_HEADER)
    assert TEMPLATE_HEADER[0] != TEMPLATE_HEADER[2]  # the two 单位 columns named apart
    assert [cell.value for cell in sheet[3]][4:7] == ["——", "——", "州（市）联络员"]
    assert sheet["E4"].value == "否"
    assert sheet["F4"].value.startswith("5303****")
    assert "A3:A4" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A5"].value == "麒麟区住房和城乡建设局"


def test_summary_combined_reads_back_as_a_roster(resolver: BureauResolver) -> None:
    content = summary_workbook(summary_groups(), one_sheet_per_prefecture=False)

    workbook = openpyxl.load_workbook(io.BytesIO(content))
    result = parse_roster(content, "汇总.xlsx", resolver)

    assert workbook.sheetnames == ["汇总"]
    assert [row.name for row in result.rows] == ["甲", "乙", "丙", "丁"]
    assert [row.jurisdiction.division_code for row in result.rows] == ["530300", "530300", "530302", "532500"]
    assert result.rows[1].errors == [("身份证号码", "身份证号码前17位应为数字，最后一位为数字或X")]  # masked
    assert result.rows[3].errors == []


def test_summary_without_groups_still_has_the_header() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(summary_workbook([], one_sheet_per_prefecture=True)))

    assert workbook.sheetnames == ["汇总"]
    assert workbook.active["B2"].value == "姓名"


# --------------------------------------------------------------------------- cell values


def test_read_rows_coerces_numbers_and_dates() -> None:
    sheet = Sheet([["a", 13800138000, 1.5, date(2019, 10, 24), datetime(2019, 10, 24, 9, 30), True, None, 7]])

    rows = read_rows(write_xlsx(sheet), "a.xlsx")

    assert rows == [(1, ["a", "13800138000", "1.5", "2019-10-24", "2019-10-24 09:30:00", "TRUE", "", "7"])]


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_rows_keeps_sheet_row_numbers_and_skips_blank_rows(fmt: str) -> None:
    sheet = Sheet([[None, None], [None, "x"], [None, None], ["y", 5]])

    assert read_rows(write(sheet, fmt), f"a.{fmt}") == [(2, ["", "x"]), (4, ["y", "5"])]


# --------------------------------------------------------------------------- bureaus and stages


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("曲靖市住房和城乡建设局", "530300"),
        ("曲靖市住房城乡建设局", "530300"),
        ("曲靖市住建局", "530300"),
        ("云南省曲靖市住房和城乡建设局（盖章）", "530300"),
        ("红河哈尼族彝族自治州住房和城乡建设局", "532500"),
        ("红河州住建局", "532500"),
        ("文山州住房和城乡建设局", "532600"),
        ("西双版纳州住建局", "532800"),
        ("麒麟区住房和城乡建设局", "530302"),
        ("曲靖市麒麟区住房和城乡建设局", "530302"),
        ("宣威市住建局", "530381"),
        ("石林县住建局", "530126"),
        ("石林彝族自治县住房和城乡建设局", "530126"),
        ("大理州住建局", "532900"),
        ("大理市住建局", "532901"),
        ("红河县住建局", "532529"),
        ("  昆明市\n住房和城乡建设局 ", "530100"),
    ],
)
def test_bureau_resolves_to_its_division(resolver: BureauResolver, text: str, code: str) -> None:
    jurisdiction = resolver.resolve(text)

    assert jurisdiction is not None
    assert (jurisdiction.division_code, jurisdiction.zone_slug) == (code, None)


@pytest.mark.parametrize("text", ["滇中新区规划建设管理部", "滇中新区", "云南滇中新区规划建设管理部"])
def test_dianzhong_resolves_to_the_zone(resolver: BureauResolver, text: str) -> None:
    assert resolver.resolve(text) == Jurisdiction(None, "dianzhong", "滇中新区")


@pytest.mark.parametrize("text", ["大理住建局", "北京市住房和城乡建设局", "住房和城乡建设局", "", "省住建厅"])
def test_unknown_or_ambiguous_bureau_is_none(resolver: BureauResolver, text: str) -> None:
    assert resolver.resolve(text) is None


def test_resolver_from_csv_has_every_division(resolver: BureauResolver) -> None:
    built = BureauResolver.from_csv(ROOT / "yunjian/core/data/yunnan-divisions.csv")
    with open(ROOT / "yunjian/core/data/yunnan-divisions.csv", encoding="utf-8") as handle:
        lines = [line.strip().split(",") for line in handle][1:]

    assert len(lines) == 145
    for code, name, _parent, _level in lines:
        assert built.resolve(name + "住房和城乡建设局").division_code == code
    # 自治州/自治县 short forms leave no ethnic name behind (红河州, not 红河哈尼族州).
    cores = {alias for _code, name, _p, _l in lines for alias in roster._derived_aliases(name)}
    assert not [alias for alias in cores if "族" in alias]


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("州（市）联络员", Stage.LIAISON),
        ("州(市)联络员", Stage.LIAISON),
        ("施工图审查信息", Stage.DRAWING_REVIEW),
        (" 施工图 审查\n信息", Stage.DRAWING_REVIEW),
        ("施工许可信息", Stage.PERMIT),
        ("招标投标信息、合同登记信息", Stage.TENDER_CONTRACT),
        ("招标投标信息,合同登记信 息", Stage.TENDER_CONTRACT),
        ("招标投标信息，合同登记信息", Stage.TENDER_CONTRACT),
        ("竣工验收信息及竣工验收\n备案信息", Stage.COMPLETION),
        ("工程项目基本信息（建设单位直接发包的专业承包项目）", Stage.SPECIALTY_BASIC),
        ("工程项目基本信息 (建设单位直接发包的专 业承包项目)", Stage.SPECIALTY_BASIC),
        ("工程项目基本信息", Stage.SPECIALTY_BASIC),
    ],
)
def test_stage_text_variants(text: str, stage: Stage) -> None:
    assert match_stage(text) == (stage, "")


def test_stage_texts_are_the_labels_of_the_stage_choices() -> None:
    # Stage.label is lazy and needs settings to render; its source text is what the parser keeps.
    assert {stage: stage.label._args[0] for stage in Stage} == roster.STAGE_TEXT
    assert all(match_stage(text) == (stage, "") for stage, text in roster.STAGE_TEXT.items())


def test_parser_runs_without_django_settings() -> None:
    code = (
        "from django.conf import settings\n"
        "from review.roster.parse import BureauResolver, parse_roster\n"
        "from review.roster.excel import template_workbook, summary_workbook\n"
        "r = parse_roster(template_workbook(), 't.xlsx', BureauResolver.default())\n"
        "assert r.rows == [] and not settings.configured\n"
        "print('ok')\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.stdout.strip() == "ok", done.stderr


# --------------------------------------------------------------------------- bad files


def raises(content: bytes, filename: str = "a.xlsx", **limits: int) -> str:
    with pytest.raises(RosterFileError) as caught:
        parse_roster(content, filename, BureauResolver.default(), **limits)
    return caught.value.message


def small_xlsx() -> bytes:
    return write_xlsx(good_sheet())


def test_empty_file() -> None:
    assert raises(b"") == roster.EMPTY_FILE


def test_random_bytes() -> None:
    assert raises(random.Random(6).randbytes(4000)) == roster.NOT_SPREADSHEET


def test_text_file_renamed_to_xlsx() -> None:
    assert raises("单位,姓名,审核环节\n曲靖,张三,施工许可信息\n".encode()) == roster.NOT_SPREADSHEET


def test_csv_file_gets_a_save_as_hint() -> None:
    assert raises(b"a,b\n1,2\n", "roster.csv") == roster.NOT_SPREADSHEET_TEXT


def test_html_saved_as_xls() -> None:
    assert raises(b"\xef\xbb\xbf<html><table><tr><td>x</td></tr></table></html>", "a.xls") == (
        roster.NOT_SPREADSHEET_HTML
    )


def test_truncated_xlsx() -> None:
    content = small_xlsx()

    assert raises(content[: len(content) // 2]) == roster.CORRUPT


def test_xlsx_with_a_damaged_member() -> None:
    content = bytearray(small_xlsx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 10, start + min(info.compress_size, 200)):
        content[offset] ^= 0x5A

    assert raises(bytes(content)) == roster.CORRUPT


def test_zip_that_is_not_a_spreadsheet() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")

    assert raises(buffer.getvalue(), "a.docx") == roster.NOT_SPREADSHEET_OFFICE


def test_xlsb_is_refused_with_a_save_as_hint() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.bin", b"\x00" * 10)

    assert raises(buffer.getvalue(), "a.xlsb") == roster.XLSB_UNSUPPORTED


def fake_ole(*stream_names: str) -> bytes:
    """An OLE header and a directory sector naming the given streams: enough for the detection."""
    header = roster.OLE_MAGIC + b"\x00" * 504
    directory = b"".join(name.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64 for name in stream_names)
    return header + directory.ljust(512, b"\x00") + random.Random(1).randbytes(2048)


def test_password_protected_xlsx_is_an_encrypted_ole_package() -> None:
    content = fake_ole("Root Entry", "EncryptionInfo", "EncryptedPackage")

    assert raises(content) == roster.PASSWORD_PROTECTED
    with pytest.raises(RosterFileError, match="密码"):
        check_container(content, "a.xlsx")


def test_encrypted_zip_member_is_password_protected() -> None:
    content = bytearray(small_xlsx())
    position = content.find(b"PK\x01\x02")
    while position != -1:
        content[position + 8] |= 0x1
        position = content.find(b"PK\x01\x02", position + 4)

    assert raises(bytes(content)) == roster.PASSWORD_PROTECTED


def test_encrypted_ods_is_password_protected() -> None:
    source = zipfile.ZipFile(io.BytesIO(write_ods(good_sheet())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "META-INF/manifest.xml":
                data = data.replace(
                    b"</manifest:manifest>", b"<manifest:encryption-data/></manifest:manifest>"
                )
            archive.writestr(info, data)

    assert raises(buffer.getvalue(), "a.ods") == roster.PASSWORD_PROTECTED


def test_ole_file_that_is_not_a_workbook() -> None:
    assert raises(fake_ole("Root Entry", "WordDocument"), "a.xls") == roster.NOT_SPREADSHEET_OFFICE


def test_damaged_xls() -> None:
    assert raises(fake_ole("Root Entry", "Workbook"), "a.xls") == roster.CORRUPT


def test_empty_sheet_in_each_format() -> None:
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    xls = xlwt.Workbook()
    xls.add_sheet("空")
    xls_buffer = io.BytesIO()
    xls.save(xls_buffer)

    assert raises(buffer.getvalue()) == roster.EMPTY_SHEET
    assert raises(xls_buffer.getvalue(), "a.xls") == roster.EMPTY_SHEET
    assert raises(write_ods(Sheet([[None, None]])), "a.ods") == roster.EMPTY_SHEET


def test_first_non_empty_sheet_is_read(resolver: BureauResolver) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(small_xlsx()))
    workbook.create_sheet("空白", 0)
    buffer = io.BytesIO()
    workbook.save(buffer)

    assert len(parse_roster(buffer.getvalue(), "a.xlsx", resolver).rows) == 7


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_recognisable_header(fmt: str) -> None:
    sheet = Sheet([["人员名单"], ["张三", "13800138000"], ["李四", "13800138001"]])

    assert raises(write(sheet, fmt), f"a.{fmt}") == roster.NO_HEADER.format(limit=20)


def test_header_below_row_twenty_is_not_looked_for() -> None:
    sheet = roster_sheet(GOOD_PEOPLE, title_rows=21)

    assert raises(write_xlsx(sheet)) == roster.NO_HEADER.format(limit=20)


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_rows(fmt: str, resolver: BureauResolver) -> None:
    people = [[QUJING, f"人{i}", "科", "科员", "是", "", "施工许可信息", f"138{i:08d}"] for i in range(60)]
    content = write(roster_sheet(people), fmt)

    assert raises(content, f"a.{fmt}", max_rows=50) == roster.TOO_MANY_ROWS.format(limit=50)
    assert len(parse_roster(content, f"a.{fmt}", resolver, max_rows=100).rows) == 60


def test_too_many_bytes() -> None:
    content = small_xlsx()

    message = raises(content, max_bytes=1024)

    assert message.startswith("文件大小超过1KB")
    assert raises(content, max_bytes=len(content) - 1).startswith("文件大小超过")


def test_zip_bomb_by_compression_ratio() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 1024 * 1024))

    assert len(buffer.getvalue()) < 100_000
    assert raises(buffer.getvalue()) == roster.ZIP_BOMB.format(limit="100.0MB")


def patch_declared_size(content: bytes, member: str, size: int) -> bytes:
    data = bytearray(content)
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack("<H", data[position + 28 : position + 30])[0]
        if data[position + 46 : position + 46 + name_length].decode() == member:
            data[position + 24 : position + 28] = struct.pack("<I", size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_zip_bomb_by_declared_total_size() -> None:
    content = patch_declared_size(small_xlsx(), "xl/worksheets/sheet1.xml", 200 * 1024 * 1024)

    assert raises(content) == roster.ZIP_BOMB.format(limit="100.0MB")


def test_zip_bomb_hiding_behind_a_small_declared_size() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"<sst>" + b" " * (8 * 1024 * 1024) + b"</sst>")
    content = patch_declared_size(buffer.getvalue(), "xl/sharedStrings.xml", 500_000)

    assert raises(content) == roster.ZIP_BOMB.format(limit="100.0MB")


def sparse_xlsx(far_cell: str) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "姓名"
    workbook.active[far_cell] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_sparse_sheet_naming_a_far_row_is_refused_before_reading() -> None:
    # Read as is, calamine would allocate the whole 1,000,000-row grid (about 800 MB).
    with pytest.raises(RosterFileError, match="20000行"):
        check_container(sparse_xlsx("Z1000000"), "a.xlsx")


def test_sparse_sheet_naming_a_far_column_is_refused_before_reading() -> None:
    with pytest.raises(RosterFileError, match="64列"):
        check_container(sparse_xlsx("XFD1"), "a.xlsx")
    assert read_rows(sparse_xlsx("BL2"), "a.xlsx")[1][1][63] == "x"  # column 64 is still fine


def ods_with_rows(rows_xml: str, mimetype: str = "application/vnd.oasis.opendocument.spreadsheet") -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="S">'
        f"{rows_xml}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", MANIFEST)
    return buffer.getvalue()


MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
    ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/"'
    ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)
CELL = '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'


def test_ods_repeated_rows_with_content_are_counted() -> None:
    bomb = ods_with_rows(f'<table:table-row table:number-rows-repeated="1000000">{CELL}</table:table-row>')

    with pytest.raises(RosterFileError, match="20000行"):
        check_container(bomb, "a.ods")


def test_ods_repeated_columns_with_content_are_counted() -> None:
    bomb = ods_with_rows(
        '<table:table-row><table:table-cell table:number-columns-repeated="16000" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )

    with pytest.raises(RosterFileError, match="64列"):
        check_container(bomb, "a.ods")


def test_ods_empty_rows_before_content_are_counted() -> None:
    bomb = ods_with_rows(
        f'<table:table-row table:number-rows-repeated="1000000"/><table:table-row>{CELL}</table:table-row>'
    )

    with pytest.raises(RosterFileError, match="20000行"):
        check_container(bomb, "a.ods")


def test_ods_text_document_is_not_a_spreadsheet() -> None:
    text_document = ods_with_rows(
        f"<table:table-row>{CELL}</table:table-row>", "application/vnd.oasis.opendocument.text"
    )

    assert raises(text_document, "a.odt") == roster.NOT_SPREADSHEET_OFFICE


def test_ods_trailing_empty_repeats_as_libreoffice_writes_them_are_fine() -> None:
    content = ods_with_rows(
        f'<table:table-row>{CELL}<table:table-cell table:number-columns-repeated="1023"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048575">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )

    assert read_rows(content, "a.ods") == [(1, ["x"])]


# --------------------------------------------------------------------------- issue 11: the sheet and the landline


def _workbook_with_cover(fmt: str) -> bytes:
    """A workbook whose first sheet is a cover letter and whose second is 附件2."""
    cover = [["关于报送工程项目数据审核人员及联络员的函"], ["附件：汇总表"]]
    if fmt == "xlsx":
        workbook = openpyxl.Workbook()
        first = workbook.active
        first.title = "报送函"
        for row in cover:
            first.append(row)
        second = workbook.create_sheet("附件2")
        sheet = good_sheet()
        for r, row in enumerate(sheet.rows, 1):
            for c, value in enumerate(row, 1):
                if value not in (None, ""):
                    second.cell(r, c, value)
        for top, left, bottom, right in sheet.merges:
            second.merge_cells(
                start_row=top + 1, start_column=left + 1, end_row=bottom + 1, end_column=right + 1
            )
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    workbook = xlwt.Workbook(encoding="utf-8")
    first = workbook.add_sheet("报送函")
    for r, row in enumerate(cover):
        first.write(r, 0, row[0])
    second = workbook.add_sheet("附件2")
    for r, row in enumerate(good_sheet().rows):
        for c, value in enumerate(row):
            if value not in (None, ""):
                second.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_the_sheet_whose_header_matches_is_read_when_it_is_not_the_first(
    fmt: str, resolver: BureauResolver
) -> None:
    result = parse_roster(_workbook_with_cover(fmt), f"汇总表.{fmt}", resolver)

    assert result.file_errors == []
    assert result.header_row == 3
    assert [row.name for row in result.rows][:3] == ["张三", "李四", "王五"]


def test_a_workbook_without_any_roster_sheet_still_names_the_missing_header(resolver: BureauResolver) -> None:
    content = write(Sheet([["关于报送审核人员的函"], ["无表格"]]), "xlsx")
    assert raises(content).startswith("未找到表头")


@pytest.mark.parametrize("phone", ["0873-305123", "0873305123", "0871-641388889"])
def test_a_landline_whose_local_part_is_not_7_or_8_digits_is_refused(
    phone: str, resolver: BureauResolver
) -> None:
    people = [[QUJING, "张三", "科", "科员", "是", "", "施工许可信息", phone]]
    result = parse_roster(write(roster_sheet(people), "xlsx"), "a.xlsx", resolver)

    assert result.rows[0].errors == [
        ("联系电话", "联系电话应为11位手机号码或带区号的固定电话（如 0871-64138888）")
    ]
