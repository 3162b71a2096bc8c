"""python manage.py sync_reconcile [--json] [--table T]: compare yunjian's synced records with the platform's.

Exit status: 0 when both sides agree, 1 when there are differences, 2 when the platform's
listing could not be fetched.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sync import protocol
from sync.reconcile import ReconcileError, fetch_platform_records, reconcile

LIMIT = 200  # lines per section in the text report; --json lists everything


class Command(BaseCommand):
    help = "对账：比较本系统已同步的记录与省一体化平台持有的记录（缺失、多余、版本不一致），有差异时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 输出对账结果")
        parser.add_argument("--table", default="", choices=["", *protocol.TABLES], help="只核对一张数据表")
        parser.add_argument("--endpoint", default=None, help="平台地址（默认 SYNC_ENDPOINT）")

    def handle(self, *args, **options):
        try:
            records = fetch_platform_records(options["endpoint"], options["table"])
        except ReconcileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        report = reconcile(records, options["table"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._text(report)
        if not report.ok:
            raise SystemExit(1)

    def _text(self, report) -> None:
        self.stdout.write(f"本系统已同步 {report.ours} 条记录，省一体化平台持有 {report.theirs} 条。")
        sections = (
            ("缺失（本系统已同步，平台没有）", report.missing, lambda d: f"v{d['version']}"),
            ("多余（平台有，本系统未同步）", report.extra, lambda d: f"v{d['version']}"),
            ("版本不一致", report.version_mismatch, lambda d: f"本系统 v{d['ours']}，平台 v{d['theirs']}"),
            (
                "撤销认定不一致",
                report.revocation_mismatch,
                lambda d: (
                    f"本系统{'已撤销' if d['ours'] else '有效'}，平台{'已撤销' if d['theirs'] else '有效'}"
                ),
            ),
        )
        for title, rows, detail in sections:
            if not rows:
                continue
            self.stdout.write(f"{title}：{len(rows)} 条")
            for row in rows[:LIMIT]:
                label = protocol.TABLE_LABELS.get(row["table"], row["table"])
                self.stdout.write(f"  {label:<10} {row['table']:<24} {row['record_key']:<40} {detail(row)}")
            if len(rows) > LIMIT:
                self.stdout.write(f"  ……另有 {len(rows) - LIMIT} 条（用 --json 查看全部）")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("对账一致，没有差异。"))
        else:
            self.stdout.write(self.style.WARNING("对账发现差异，请核对。"))
