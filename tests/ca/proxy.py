"""Runs Debian's nginx with the repository's own proxy configuration (deploy/nginx/yunjian.conf.template)
in front of a test server: the template's ${…} filled in as envsubst would, wrapped in a minimal main
configuration in a temporary directory, on a free port, in the foreground (stopped by the fixture)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "yunjian.conf.template"

MAIN = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/yunjian.conf;
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        # Not a skip: CI installs Debian's nginx (.ci/run); a machine without it cannot prove the proxy.
        raise RuntimeError(
            "nginx is not installed: the CA sign-in tests need Debian's nginx (apt-get install nginx; .ci/run does it)"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(values: dict[str, str]) -> str:
    """The template with ${NAME} replaced, failing on any name left unfilled (as a deployment would)."""
    text = TEMPLATE.read_text(encoding="utf-8")

    def fill(match: re.Match) -> str:
        return values[match.group(1)]

    return re.sub(r"\$\{(YUNJIAN_[A-Z_]+)\}", fill, text)


class Nginx:
    def __init__(self, directory: Path, values: dict[str, str]):
        self.dir = directory
        self.port = free_port()
        values = {**values, "YUNJIAN_LISTEN": f"127.0.0.1:{self.port}"}
        (directory / "yunjian.conf").write_text(render(values), encoding="utf-8")
        (directory / "nginx.conf").write_text(MAIN.format(dir=directory), encoding="utf-8")
        self.binary = nginx_binary()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _cmd(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-e",
            str(self.dir / "error.log"),
            "-p",
            str(self.dir),
            "-c",
            str(self.dir / "nginx.conf"),
            *extra,
        ]

    def start(self) -> Nginx:
        check = subprocess.run(self._cmd("-t"), capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        self.process = subprocess.Popen(self._cmd("-g", "daemon off;"), stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening within 10 seconds")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""
