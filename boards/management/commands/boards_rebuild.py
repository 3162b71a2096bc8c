from django.core.management.base import BaseCommand

from boards import aggregates


class Command(BaseCommand):
    help = "从各类记录重新统计进度看板的计数（并刷新指标）。"

    def add_arguments(self, parser):
        parser.add_argument("--snapshot", action="store_true", help="同时生成今天的快照")

    def handle(self, *args, snapshot=False, **options):
        rows = aggregates.rebuild_counts()
        aggregates.refresh_tasks()
        aggregates.refresh_slow()
        if snapshot:
            aggregates.take_snapshot()
        self.stdout.write(f"已重新统计 {rows} 行计数。")
