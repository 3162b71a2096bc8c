"""python manage.py purge_stale [--token-days 30] [--scan-days 2] [--dry-run]

Housekeeping of the entry forms: deletes the one-time form tokens (EntrySubmission, kept so that a
form posted twice opens the record already saved) and the scans kept for forms that were never saved
(storage pending/<user>/<token>/), older than the given ages; one audit entry with the counts
(projects.attachments.purge_stale). Run it daily (cron or a systemd timer). Exit status 2 when an age
is below the minimum (tokens 1 day, scans 1 day: a kept scan's reference is valid for 24 hours).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from projects.attachments import purge_stale


class Command(BaseCommand):
    help = "清理过期的录入表单令牌和未保存的附件扫描件"

    def add_arguments(self, parser):
        parser.add_argument("--token-days", type=int, default=30, help="表单令牌保留天数（默认 30，至少 1）")
        parser.add_argument(
            "--scan-days", type=int, default=2, help="未保存的扫描件保留天数（默认 2，至少 1）"
        )
        parser.add_argument("--dry-run", action="store_true", help="只统计，不删除")

    def handle(self, *args, **options):
        try:
            result = purge_stale(
                token_age=timedelta(days=options["token_days"]),
                scan_age=timedelta(days=options["scan_days"]),
                dry_run=options["dry_run"],
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        verb = "可清理" if options["dry_run"] else "已删除"
        self.stdout.write(f"{verb} {result.tokens} 个过期的表单令牌、{result.scans} 个未保存的附件扫描件。")
