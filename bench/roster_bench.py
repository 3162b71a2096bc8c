"""Roster import benchmark: read and validate a generated 10,000-line 汇总表 as .xlsx and .xls.

    .venv/bin/python bench/roster_bench.py [--rows 10000] [--repeat 5]

Reports, per format, the best of `repeat` runs for: reading (python-calamine plus the container
checks), validation alone (on rows already read) and both together (what the upload preview
waits for). Target: validated in under 0.5 s. The apply step (database) is not measured here.
No database and no Django settings are needed.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import xlwt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from review.roster.parse import (  # noqa: E402
    STAGE_TEXT,
    BureauResolver,
    parse_roster,
    parse_rows,
    read_rows,
    read_values,
)
from yunjian.core.validators import complete_id_number  # noqa: E402

TARGET_SECONDS = 0.5
HEADER = ["单位", "姓名", "单位", "职务", "是否已办\n理CA数字\n证书", "身份证号码", "审核环节", "联系电话"]
NOTES = [
    "填报说明：1. 表格不够可自行添加；",
    "2. 未办理CA数字证书的人员需要填写身份证号码。",
    "3. 各州（市）住房城乡建设局负责统计上报所辖行政区域内审核人员及联络员信息",
]


def roster_lines(count: int, resolver_csv: Path) -> list[list[object]]:
    """Bureau blocks of every division in turn, the bureau written only on a block's first line."""
    with open(resolver_csv, encoding="utf-8") as handle:
        divisions = [line.strip().split(",")[:2] for line in handle][1:]
    stages = list(STAGE_TEXT.values())
    lines: list[list[object]] = []
    born = date(1960, 1, 1)
    for index in range(count):
        code, name = divisions[(index // 60) % len(divisions)]
        stage = stages[index % len(stages)]
        liaison = index % len(stages) == 0
        birthday = born + timedelta(days=index)
        id_number = complete_id_number(f"{code}{birthday:%Y%m%d}{index % 1000:03d}")
        lines.append(
            [
                f"{name}住房和城乡建设局" if index % 60 == 0 else "",
                f"审核员{index:05d}",
                "建筑市场监管科",
                "科员",
                "——" if liaison else ("是" if index % 3 else "否"),
                "——" if liaison else id_number,
                stage,
                13900000000 + index if index % 4 else f"0874-{3100000 + index}",
            ]
        )
    return lines


def all_rows(lines: list[list[object]]) -> list[list[object]]:
    return [["工程项目数据审核人员及联络员汇总表"], [], HEADER, *lines, ["..."], *[[note] for note in NOTES]]


def xlsx_bytes(lines: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("汇总表")
    for row in all_rows(lines):
        sheet.append([value if value != "" else None for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_bytes(lines: list[list[object]]) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("汇总表")
    for r, row in enumerate(all_rows(lines)):
        for c, value in enumerate(row):
            if value != "":
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def best_of(repeat: int, action: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    root = Path(__file__).resolve().parents[1]
    resolver = BureauResolver.from_csv(root / "yunjian/core/data/yunnan-divisions.csv")
    lines = roster_lines(args.rows, root / "yunjian/core/data/yunnan-divisions.csv")
    print(f"roster: {args.rows} lines × 8 columns, best of {args.repeat} runs")
    failed = False
    for fmt, content in (("xlsx", xlsx_bytes(lines)), ("xls", xls_bytes(lines))):
        filename = f"roster.{fmt}"
        result = parse_roster(content, filename, resolver)
        errors = [(row.sheet_row, row.errors) for row in result.rows if row.errors]
        if len(result.rows) != args.rows or errors or result.file_errors:
            print(f"{fmt}: unexpected result: {len(result.rows)} rows, {errors[:3]} {result.file_errors}")
            return 2
        values = read_values(content, filename)
        read = best_of(args.repeat, lambda content=content, filename=filename: read_rows(content, filename))
        check = best_of(args.repeat, lambda values=values: parse_rows(values, resolver))
        both = best_of(
            args.repeat, lambda content=content, filename=filename: parse_roster(content, filename, resolver)
        )
        verdict = "ok" if both < TARGET_SECONDS else f"SLOWER than {TARGET_SECONDS} s"
        failed |= both >= TARGET_SECONDS
        print(
            f"{fmt:4}  {len(content) / 1024:7.0f} KB"
            f"  read {read * 1000:6.1f} ms ({args.rows / read:9,.0f} rows/s)"
            f"  validate {check * 1000:6.1f} ms ({args.rows / check:9,.0f} rows/s)"
            f"  read+validate {both * 1000:6.1f} ms ({args.rows / both:9,.0f} rows/s)  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
