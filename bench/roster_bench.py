"""Roster import benchmark: read, validate and apply a generated 10,000-line 汇总表 as .xlsx and .xls.

    .venv/bin/python bench/roster_bench.py [--rows 10000] [--repeat 5] [--apply-repeat 3] [--no-db]

Part 1 (no database, no Django settings): per format, the best of `repeat` runs for reading
(python-calamine plus the container checks), validation alone (on rows already read) and both
together. Target: validated in under 0.5 s.

Part 2 (PostgreSQL; skipped with --no-db): the preview and the apply of review.roster.apply on a
scratch database, by default postgres://postgres@127.0.0.1:5432/yunjian_bench (set
BENCH_DATABASE_URL to use another whose name contains "bench"; it is created if missing and
migrated, and between runs the bench deletes every roster-created account, placeholder bureau
and their assignments in it). Per format, best of
`apply-repeat` runs of: plan (matching every line against the accounts and assignments: the
database half of the preview), preview ready (read + validate + plan; for the first import and
for the same file again, when every account and assignment is found), and three applies:
first import (10,000 new accounts, bureaus and assignments), the same file again (all unchanged:
writes only the audit entry) and a changed file (5 % of the people dropped, 10 % with a new phone).
Target: applied in under 1.5 s.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
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
APPLY_TARGET_SECONDS = 1.5
DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_bench"
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
    parser.add_argument("--apply-repeat", type=int, default=3)
    parser.add_argument("--no-db", action="store_true", help="only reading and validation")
    args = parser.parse_args()
    failed = bench_parse(args)
    if not args.no_db:
        failed |= bench_apply(args)
    return 1 if failed else 0


def bench_parse(args) -> bool:

    root = Path(__file__).resolve().parents[1]
    resolver = BureauResolver.from_csv(root / "yunjian/core/data/yunnan-divisions.csv")
    lines = roster_lines(args.rows, root / "yunjian/core/data/yunnan-divisions.csv")
    print(f"roster: {args.rows} lines × 8 columns, best of {args.repeat} runs (no database)")
    failed = False
    for fmt, content in (("xlsx", xlsx_bytes(lines)), ("xls", xls_bytes(lines))):
        filename = f"roster.{fmt}"
        result = parse_roster(content, filename, resolver)
        errors = [(row.sheet_row, row.errors) for row in result.rows if row.errors]
        if len(result.rows) != args.rows or errors or result.file_errors:
            print(f"{fmt}: unexpected result: {len(result.rows)} rows, {errors[:3]} {result.file_errors}")
            return True
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
    return failed


# --------------------------------------------------------------------------- part 2: the database


def setup_django() -> None:
    """Point the test settings at the scratch database, create it if needed, migrate it."""
    import os

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunjian.settings_test")
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        # The bench deletes every roster-created account between runs: never on a real database.
        raise SystemExit(f"refusing to run on database {config['NAME']!r}: its name must contain 'bench'")
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    admin.close()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def reset_roster_data() -> None:
    """Remove what the bench's imports created: their assignments, accounts and bureaus."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from review.models import ReviewerAssignment
    from review.roster.apply import PLACEHOLDER_PREFIX
    from yunjian.core.models import Organization, User

    users = User.objects.filter(username__regex=r"^r([0-9]{6}|[a-z][a-z-]*)[0-9]{3,}$")
    ReviewerAssignment.objects.filter(user__in=users).delete()
    User.groups.through.objects.filter(user__in=users).delete()
    users._raw_delete(users.db)
    codes = list(
        Organization.objects.filter(credit_code__startswith=PLACEHOLDER_PREFIX).values_list(
            "credit_code", flat=True
        )
    )
    Organization.objects.filter(credit_code__in=codes)._raw_delete(connection.alias)
    Group.objects.filter(name__in=[f"org:{code}" for code in codes]).delete()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_user; ANALYZE review_reviewerassignment; ANALYZE core_organization")


def changed_lines(lines: list[list[object]]) -> list[list[object]]:
    """5 % of the people dropped (not bureau-carrying lines), 10 % with a new phone number."""
    changed = []
    for index, line in enumerate(lines):
        if index % 20 == 7:
            continue
        line = list(line)
        if index % 10 == 3:
            line[7] = 15800000000 + index
        changed.append(line)
    return changed


def timed(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def apply_parse(parse, filename: str):
    from review.roster.apply import apply_roster

    return apply_roster(parse=parse, actor=None, filename=filename, sha256="bench", source="bench")


def check(condition: object, detail: object) -> None:
    if not condition:
        raise SystemExit(f"unexpected result: {detail}")


def bench_apply(args) -> bool:
    setup_django()
    from review.roster.apply import paused_gc, plan_roster

    root = Path(__file__).resolve().parents[1]
    resolver = BureauResolver.default()
    lines = roster_lines(args.rows, root / "yunjian/core/data/yunnan-divisions.csv")
    changed = changed_lines(lines)
    print(f"\napply on PostgreSQL: {args.rows} lines, best of {args.apply_repeat} runs")
    failed = False
    for fmt, writer in (("xlsx", xlsx_bytes), ("xls", xls_bytes)):
        content, changed_content = writer(lines), writer(changed)
        filename = f"roster.{fmt}"
        best: dict[str, float] = {}

        def keep(name: str, seconds: float, best=best) -> None:
            best[name] = min(seconds, best.get(name, seconds))

        for _ in range(args.apply_repeat):
            reset_roster_data()
            # As the application reads (review.roster.apply.read_roster): the collector paused.
            with paused_gc():
                read_s, values = timed(partial(read_values, content, filename))
                validate_s, parse = timed(partial(parse_rows, values, resolver))
            plan_s, plan = timed(partial(plan_roster, parse))
            check(not plan.has_errors and plan.counts["new"] == args.rows, plan.counts)
            keep("read", read_s)
            keep("validate", validate_s)
            keep("plan (all new)", plan_s)
            keep("preview ready", read_s + validate_s + plan_s)
            apply_s, result = timed(partial(apply_parse, parse, filename))
            check(len(result.created_user_ids) == args.rows, result.plan.counts)
            keep("apply: first import", apply_s)

            with paused_gc():
                read_s, values = timed(partial(read_values, content, filename))
                validate_s, again = timed(partial(parse_rows, values, resolver))
            plan_s, plan = timed(partial(plan_roster, again))
            check(plan.counts["unchanged"] == args.rows, plan.counts)
            keep("plan (all unchanged)", plan_s)
            keep("preview ready (again)", read_s + validate_s + plan_s)
            apply_s, result = timed(partial(apply_parse, again, filename))
            check(not result.changed, result.plan.counts)
            keep("apply: same file again", apply_s)

            third = parse_rows(read_values(changed_content, filename), resolver)
            apply_s, result = timed(partial(apply_parse, third, filename))
            check(
                result.removed_assignments == args.rows // 20 and result.updated_user_ids, result.plan.counts
            )
            keep("apply: changed file", apply_s)
        print(f"{fmt}  ({len(content) / 1024:.0f} KB)")
        for name, seconds in best.items():
            target = (
                TARGET_SECONDS
                if name.startswith("preview ready")
                else APPLY_TARGET_SECONDS
                if name.startswith("apply")
                else None
            )
            verdict = "" if target is None else ("  ok" if seconds < target else f"  SLOWER than {target} s")
            failed |= target is not None and seconds >= target
            print(f"  {name:24} {seconds * 1000:7.1f} ms  ({args.rows / seconds:9,.0f} rows/s){verdict}")
    reset_roster_data()
    return failed


if __name__ == "__main__":
    sys.exit(main())
