"""python manage.py load_worker [--once]: check and apply the loads queued from the browser.

Started by `make run` beside the sync worker. Several may run: each claims a job with
SELECT … FOR UPDATE SKIP LOCKED, and a job whose worker died is resumed when its lease expires.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from loads import engine, services


class Command(BaseCommand):
    help = "检查并导入网页上传的存量数据（后台进程）"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="处理完当前排队的导入后退出")

    def handle(self, *args, **options):
        stopping = False

        def stop(_signum, _frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        name = engine.worker_name()
        while not stopping:
            job = services.claim(name)
            if job is None:
                if options["once"]:
                    return
                time.sleep(settings.LOAD_POLL_SECONDS)
                continue
            job = services.run(job)
            self.stdout.write(f"导入#{job.pk}：{job.get_status_display()}")
