"""python manage.py sync_worker [--once]: deliver the outbox to the platform (settings.SYNC_ENDPOINT).

Run as many as needed, on as many machines: batches are claimed with SELECT … FOR UPDATE SKIP
LOCKED and leased, so no two workers send the same row at the same time, and the rows of a
worker that dies are sent again once its lease expires.
"""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, reset_queries

from sync.worker import Worker


class Command(BaseCommand):
    help = "向省一体化平台推送同步发件箱中的数据（--once：推送完当前到期的数据后退出）。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="推送完当前到期的全部数据后退出")
        parser.add_argument("--batch-size", type=int, default=None, help="每批条数（默认 SYNC_BATCH_SIZE）")
        parser.add_argument("--poll", type=float, default=None, help="无数据时的轮询间隔秒数")

    def handle(self, *args, **options):
        worker = Worker(batch_size=options["batch_size"])
        stop = threading.Event()

        def between_batches() -> None:
            # A long-running command: drop broken or stale connections, and with DEBUG on, the
            # query log Django would otherwise keep growing (a request resets it; a loop does not).
            if not connection.in_atomic_block:  # (never inside a caller's transaction, e.g. a test)
                close_old_connections()
            reset_queries()

        try:
            if options["once"]:
                total = worker.run_until_idle(stop, between_batches)
                self.stdout.write(
                    f"本次推送 {total.claimed} 条：已同步 {total.delivered}，待重试 {total.failed}，"
                    f"转人工处理 {total.dead}。"
                )
                return
            # SIGTERM (rundemo, systemd, docker stop): finish the batch in flight, then exit.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
            self.stdout.write(f"同步进程已启动，推送至 {worker.endpoint}（Ctrl+C 退出）")
            worker.run_forever(stop, options["poll"], between_batches=between_batches)
            self.stdout.write("同步进程已退出。")
        finally:
            worker.close()
