"""Recompute every stored 业绩 verdict from the records (after a change of the rule, or to check)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from projects import performance
from sync.tasks import refresh_all


class Command(BaseCommand):
    help = "重新计算全部业绩认定结果 (mark every stored 业绩 verdict stale and recompute them in batches)"

    def handle(self, *args, **options):
        marked = performance.mark_all_stale()
        done = refresh_all(batch=2000)
        self.stdout.write(f"已重新计算 {done} 条业绩认定结果（共 {marked} 条）")
