"""python manage.py import_roster FILE [--dry-run] [--json] [--base-url URL]

Check a prefecture's 汇总表 (附件2) like the upload preview does, and, without --dry-run, apply it
(the same service as the web page, audited with the command line as the source). Exit status:
0 when every line is fine, 1 when a line has an error (nothing is applied), 2 when the file
itself cannot be used (the reason, in Chinese, on stderr).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import NoReturn

from django.core.management.base import BaseCommand

from review.roster.activation import activation_lines
from review.roster.apply import STATUS_LABELS, RosterApplyError, apply_roster, plan_roster, read_roster
from review.roster.parse import RosterFileError
from yunjian.core.models import User


class Command(BaseCommand):
    help = "检查并导入工程项目数据审核人员及联络员汇总表（附件2）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="汇总表文件（.xlsx、.xls 或 .ods）")
        parser.add_argument("--dry-run", action="store_true", help="只检查并显示预览，不导入")
        parser.add_argument("--json", action="store_true", help="每个数据行输出一个JSON对象（每行一个）")
        parser.add_argument(
            "--base-url", default="", help="激活链接的网址前缀，如 https://yunjian.example.gov.cn"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            reason = "文件不存在" if isinstance(exc, FileNotFoundError) else "没有读取权限或不是普通文件"
            self._fail(f"无法读取文件“{path}”：{reason}", 2)
        try:
            parse = read_roster(content, path.name)
        except RosterFileError as exc:
            self._fail(exc.message, 2)
        plan = plan_roster(parse)
        if options["json"]:
            for row in plan.rows:
                line = {
                    "row": row.row.sheet_row,
                    "status": row.status,
                    "errors": [{"column": column, "message": message} for column, message in row.row.errors],
                    "name": row.row.name,
                    "stage": row.row.stage.value if row.row.stage else None,
                }
                self.stdout.write(json.dumps(line, ensure_ascii=False))
        else:
            self._report(plan)
        if parse.file_errors:
            self._fail("；".join(parse.file_errors), 2)
        if plan.has_errors:
            self._fail(f"有{plan.counts['error']}行错误，未导入任何数据。", 1)
        if options["dry_run"]:
            return
        try:
            result = apply_roster(
                parse=parse,
                actor=None,
                filename=path.name,
                sha256=hashlib.sha256(content).hexdigest(),
                expected_digest=plan.digest,
                source="command",
            )
        except RosterApplyError as exc:
            self._fail(exc.message, 1)
        base = options["base_url"].rstrip("/")
        created = (
            User.objects.filter(pk__in=result.created_user_ids).select_related("organization").order_by("pk")
        )
        lines = activation_lines(created, lambda url: base + url)
        out = self.stderr if options["json"] else self.stdout
        out.write(
            f"已导入：新建账号{len(result.created_user_ids)}个，修改账号{len(result.updated_user_ids)}个，"
            f"新增分工{result.created_assignments}条，删除分工{result.removed_assignments}条。"
        )
        if lines:
            out.write("新账号的激活链接（每个链接只能使用一次，请单独发给本人）：")
            for line in lines:
                out.write(f"{line.username}\t{line.full_name}\t{line.phone}\t{line.link}")

    def _fail(self, message: str, code: int) -> NoReturn:
        """The reason on stderr, in Chinese, without Django's "CommandError:" prefix; exit `code`."""
        self.stderr.write(message)
        raise SystemExit(code)

    def _report(self, plan) -> None:
        for row in plan.rows:
            text = f"第{row.row.sheet_row}行\t{STATUS_LABELS[row.status]}\t{row.row.name}\t{row.stage_label}\t{row.note}"
            self.stdout.write(text)
        counts = plan.counts
        self.stdout.write(
            f"共{len(plan.rows)}行：新增{counts['new']}，修改{counts['updated']}，未变{counts['unchanged']}，"
            f"错误{counts['error']}；将删除分工{counts['removed']}条。"
        )
        for removal in plan.removals:
            self.stdout.write(
                f"将删除：{removal.user.full_name}（{removal.user.username}）{removal.get_stage_display()}"
            )
        for warning in plan.warnings:
            self.stdout.write(f"注意：{warning}")
