"""The one spreadsheet reader every upload uses (yunjian.core.spreadsheets): streamed text files."""

from __future__ import annotations

import openpyxl
import pytest

from yunjian.core import spreadsheets as sheets


def rows(path, **kwargs):
    return list(sheets.iter_table(path, **kwargs))


def test_csv_in_gb18030_and_utf8_with_bom(tmp_path):
    for encoding in ("gb18030", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes("项目编号,项目名称\n5303022001150001,麒麟区综合楼\n".encode(encoding))
        assert rows(path) == [(1, ["项目编号", "项目名称"]), (2, ["5303022001150001", "麒麟区综合楼"])]


def test_bad_bytes_part_way_through_a_text_file_are_refused_with_the_row(tmp_path):
    path = tmp_path / "x.csv"
    good = "项目编号,项目名称\n".encode() + b"1,ok\n" * 20000
    path.write_bytes(good + b"2,\xff\xfe\xfa\n")
    with pytest.raises(sheets.SpreadsheetError, match="编码"):
        rows(path)


def test_json_lines_must_be_objects(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"PrjNum": "1", "AllInvest": 12.5}\n[1, 2]\n', encoding="utf-8")
    reader = sheets.iter_table(path)
    assert next(reader) == (1, {"PrjNum": "1", "AllInvest": "12.5"})
    with pytest.raises(sheets.SpreadsheetError, match="第2行不是有效的JSON对象"):
        next(reader)


def test_workbook_merged_cells_carry_their_value(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["单位", "姓名"])
    sheet.append(["曲靖市住房和城乡建设局", "张三"])
    sheet.append([None, "李四"])
    sheet.merge_cells("A2:A3")
    path = tmp_path / "x.xlsx"
    book.save(path)
    assert rows(path)[2] == (3, ["曲靖市住房和城乡建设局", "李四"])


def test_a_large_workbook_is_refused_with_advice_to_use_csv(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["a"])
    path = tmp_path / "x.xlsx"
    book.save(path)
    with pytest.raises(sheets.SpreadsheetError, match="CSV"):
        rows(path, workbook_max_bytes=100)


def test_not_a_table(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(sheets.SpreadsheetError, match="无法识别的文件格式"):
        rows(path)
