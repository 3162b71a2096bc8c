"""Serve the demo on one machine: the web app, the reference platform receiver, the sync worker, the
load worker and the job queue's worker."""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from sync.receiver.__main__ import SECRET_ENV


def _wait_for_port(port: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


class Command(BaseCommand):
    help = "启动演示：Web 应用（127.0.0.1:8000）、省一体化平台参考接收端（127.0.0.1:8001）和同步进程。"

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--receiver-port", default="8001")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("rundemo 仅用于演示环境（DEBUG=true）。生产环境请使用 gunicorn，见 README。")
        if connection.vendor != "postgresql":
            # The job queue (procrastinate) lives in PostgreSQL: email, digests and snapshots need it.
            raise CommandError(
                "演示需要 PostgreSQL（作业队列存放在数据库中）：请设置 DATABASE_URL，"
                "例如 postgres://postgres@127.0.0.1:5432/yunjian（make run 默认如此）。"
            )
        receiver_port = int(options["receiver_port"])
        endpoint = f"http://127.0.0.1:{receiver_port}/exchange/"
        # The shared secret travels in the environment, never on a command line (ps shows argv).
        env = {
            **os.environ,
            "DEBUG": "true",
            "SYNC_ENDPOINT": endpoint,
            "SYNC_SECRET": settings.SYNC_SECRET,
            "SYNC_INBOUND_SECRET": settings.SYNC_INBOUND_SECRET,
            SECRET_ENV: settings.SYNC_SECRET,
        }
        receiver = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sync.receiver",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(receiver_port),
                "--db",
                settings.SYNC_DEMO_RECEIVER_DB,
            ],
            env=env,
        )
        children = [receiver]
        try:
            if not _wait_for_port(receiver_port):
                raise CommandError(f"参考接收端未能在端口 {receiver_port} 启动。")
            children.append(subprocess.Popen([sys.executable, "manage.py", "sync_worker"], env=env))
            # Loads uploaded in the browser are checked and applied here, beside the app (issue 13).
            children.append(subprocess.Popen([sys.executable, "manage.py", "load_worker"], env=env))
            # The job queue's worker (procrastinate): email, digests, the daily snapshot, housekeeping.
            children.append(
                subprocess.Popen([sys.executable, "manage.py", "procrastinate", "worker"], env=env)
            )
            self.stdout.write(
                self.style.SUCCESS(f"打开浏览器访问 http://127.0.0.1:{options['port']}/ （Ctrl+C 退出）")
            )
            self.stdout.write(
                f"省一体化平台参考接收端：{endpoint}（数据库 {settings.SYNC_DEMO_RECEIVER_DB}）"
            )
            self.stdout.write(
                "模拟平台推送（通知三）：python -m sync.receiver push "
                f"--to http://127.0.0.1:{options['port']}/sync/inbound/ "
                f"--file sync/receiver/examples/platform_records.json --db {settings.SYNC_DEMO_RECEIVER_DB}"
            )
            subprocess.call(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{options['port']}", "--noreload"],
                env=env,
            )
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
