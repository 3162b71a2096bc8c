"""Serve the demo on one machine: the web app, the reference platform receiver and the sync worker."""

import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "启动演示：Web 应用（127.0.0.1:8000）、省一体化平台参考接收端（127.0.0.1:8001）和同步进程。"

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--receiver-port", default="8001")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("rundemo 仅用于演示环境（DEBUG=true）。生产环境请使用 gunicorn，见 README。")
        env = {**os.environ, "DEBUG": "true"}
        receiver_db = str(settings.VAR_DIR / "receiver.sqlite3")
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "sync.receiver",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    options["receiver_port"],
                    "--db",
                    receiver_db,
                    "--secret",
                    settings.SYNC_SECRET,
                ],
                env=env,
            ),
        ]
        worker = [sys.executable, "manage.py", "sync_worker"]
        if os.path.exists(
            os.path.join(settings.BASE_DIR, "sync", "management", "commands", "sync_worker.py")
        ):
            children.append(subprocess.Popen(worker, env=env))
        self.stdout.write(
            self.style.SUCCESS(f"打开浏览器访问 http://127.0.0.1:{options['port']}/ （Ctrl+C 退出）")
        )
        try:
            subprocess.call(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{options['port']}", "--noreload"],
                env=env,
            )
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=10)
