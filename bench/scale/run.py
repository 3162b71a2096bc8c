"""Serve the app under gunicorn on the generated data set and measure its pages (issue 15).

    .venv/bin/python -m bench.scale.run [--database-url postgres://…/yunjian_scale_bench]
        [--repeat 30] [--wrk-seconds 10] [--port 8765] [--no-wrk]

Run bench.scale.generate first. The server is gunicorn with the project's yunjian/gunicorn_conf.py,
2 sync workers, DEBUG off, the bench-only settings (bench/scale/settings.py: the product's settings
plus two reference pages, /bench/trivial/ and /bench/keyset/; OTP_REQUIRED=false in the server's
environment only, so the personas sign in with their password through the real login form).

For each persona it signs in and then requests every page in rounds: one request of each page per
round, the reference pages in every round too, so load on the shared machine hits all alike.
It prints, per page, p50 and p95 of the sequential wall time, each also as a multiple of the
minimal keyset page's; then the throughput under `wrk` (2 threads, 4 connections, the session cookie)
of the inbox and of the two reference pages, and the resident memory of each worker at the end.
`wrk` is the Debian package (apt-get install -y wrk); without it the throughput part is skipped,
and the runner says so.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.scale.generate import DEFAULT_URL, PASSWORD, PERSONAS, QILIN  # noqa: E402

HOST = "127.0.0.1"


class Session:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes, float]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection(HOST, self.port, timeout=120)
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        conn.close()
        return response.status, data, elapsed

    def get(self, path: str) -> tuple[int, bytes, float]:
        return self.request("GET", path)

    def sign_in(self, username: str) -> None:
        status, page, _ = self.get("/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urlencode({"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
        status, _, _ = self.request("POST", "/login/", body)
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"{username} could not sign in (HTTP {status})")


def start_server(url: str, port: int, workdir: Path) -> tuple[subprocess.Popen, dict]:
    from cryptography.fernet import Fernet

    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="bench.scale.settings",
        DEBUG="false",
        OTP_REQUIRED="false",
        SECURE_SSL_REDIRECT="false",
        SECRET_KEY=secrets.token_urlsafe(64),
        SYNC_SECRET=secrets.token_urlsafe(40),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=HOST,
        STATIC_ROOT=str(workdir / "static"),
        LOG_LEVEL="WARNING",
    )
    python = sys.executable
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    gunicorn = str(Path(python).with_name("gunicorn"))
    server = subprocess.Popen(
        [
            gunicorn,
            "-c",
            "python:yunjian.gunicorn_conf",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"{HOST}:{port}",
            "--access-logfile",
            "/dev/null",
            "yunjian.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(workdir / "gunicorn.log").open("w"),  # noqa: SIM115 (the server's lifetime)
    )
    for _ in range(120):
        try:
            if Session(port).get("/healthz")[0] in (200, 503):
                return server, env
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer; see {workdir / 'gunicorn.log'}")


def worker_rss(master: int) -> list[int]:
    """Resident memory (KiB) of the master's worker processes."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", status, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            sizes.append(int(rss.group(1)) if rss else 0)
    return sizes


def targets(url: str) -> dict[str, str]:
    """Ids the pages need, read from the data set: a pending permit of 曲靖, a project of the enterprise."""
    import psycopg

    with psycopg.connect(url) as conn:
        record = conn.execute(
            "SELECT record_id FROM review_task WHERE status = 'open' AND stage = 'permit' "
            "AND division_code >= '5303' AND division_code < '5304' ORDER BY submitted_at, id LIMIT 1"
        ).fetchone()[0]
        project = conn.execute(
            "SELECT p.project_id FROM projects_projectparty p JOIN core_user u ON u.organization_id = p.organization_id "
            "WHERE u.username = %s AND p.role = 'general_contractor' ORDER BY p.project_id LIMIT 1",
            [PERSONAS["enterprise"]],
        ).fetchone()[0]
    return {"record": f"/review/records/permit/{record}/", "project": f"/projects/{project}/"}


def deep_inbox(session: Session, pages: int) -> str:
    """Follow the inbox's 'next' link `pages` - 1 times; return the path of the last page."""
    path = "/review/inbox/"
    for _ in range(pages - 1):
        status, body, _ = session.get(path)
        found = re.search(rb'href="\?([^"]*after=[^"]+)"', body)
        if status != 200 or not found:
            break
        path = "/review/inbox/?" + found.group(1).decode().replace("&amp;", "&")
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--export-repeat", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-wrk", action="store_true")
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        raise SystemExit("the database's name must contain 'bench'")
    load = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="yunjian-scale-"))
    server, _env = start_server(args.database_url, args.port, workdir)
    try:
        sessions = {}
        for persona, username in PERSONAS.items():
            sessions[persona] = Session(args.port)
            sessions[persona].sign_in(username)
        ids = targets(args.database_url)
        deep = deep_inbox(sessions["prefecture"], 50)
        pages = [
            ("minimal keyset page (reference)", "prefecture", "/bench/keyset/"),
            ("trivial signed-in page (reference)", "prefecture", "/bench/trivial/"),
            ("prefecture (曲靖) inbox, page 1", "prefecture", "/review/inbox/"),
            ("prefecture inbox, 50 pages deep", "prefecture", deep),
            (
                "prefecture inbox, filtered (permits, overdue)",
                "prefecture",
                "/review/inbox/?kind=permit&overdue=on",
            ),
            (
                "prefecture inbox, filter + name search",
                "prefecture",
                "/review/inbox/?kind=tender_contract&q=%E5%9F%BA%E5%87%86%E5%B7%A5%E7%A8%8B%E9%A1%B9%E7%9B%AE1",
            ),
            ("design division inbox", "division", "/review/inbox/"),
            ("institution inbox", "institution", "/review/inbox/"),
            (f"county ({QILIN}) inbox", "county", "/review/inbox/"),
            ("county done list", "county", "/review/done/"),
            ("reviewer home (prefecture)", "prefecture", "/home/reviewer/"),
            ("record review page (permit)", "prefecture", ids["record"]),
            ("enterprise workspace (5,000 projects)", "enterprise", "/projects/"),
            ("enterprise home", "enterprise", "/home/enterprise/"),
            ("project page", "enterprise", ids["project"]),
            ("sync operations", "admin", "/sync/"),
            ("admin changelist: inbox rows", "admin", "/admin/review/task/"),
            ("audit log (audit administrator)", "auditor", "/audit-log/"),
        ]
        exports = [
            ("inbox export .xlsx (prefecture, permits)", "prefecture", "/review/inbox/export/?kind=permit"),
            ("业绩 export .xlsx (enterprise)", "enterprise", "/projects/performance/export.xlsx"),
        ]
        times: dict[str, list[float]] = {label: [] for label, _, _ in pages + exports}
        status_seen: dict[str, set[int]] = {label: set() for label in times}
        for _ in range(2):  # warm-up: each worker's first requests fill its caches
            for label, persona, path in pages:
                status = sessions[persona].get(path)[0]
                if status != 200:  # e.g. a redirect to the second factor: nothing worth timing
                    raise SystemExit(f"{label}: {path} answers HTTP {status} to {PERSONAS[persona]}, not 200")
        for r in range(args.repeat):
            for label, persona, path in pages + (exports if r < args.export_repeat else []):
                status, _body, elapsed = sessions[persona].get(path)
                times[label].append(elapsed)
                status_seen[label].add(status)
        ref50 = statistics.median(times[pages[0][0]])
        ref95 = percentile(times[pages[0][0]], 0.95)
        lines = [
            f"Sequential, {args.repeat} requests per page ({args.export_repeat} per export), interleaved; "
            f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
            "",
            "| page | p50 | p95 | p50 / keyset p50 | p95 / keyset p95 | HTTP |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for label, _persona, _path in pages + exports:
            values = times[label]
            p50, p95 = statistics.median(values), percentile(values, 0.95)
            lines.append(
                f"| {label} | {p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {p50 / ref50:.1f} | {p95 / ref95:.1f} | "
                f"{','.join(str(s) for s in sorted(status_seen[label]))} |"
            )
        print("\n".join(lines))
        print()
        wrk = shutil.which("wrk")
        if args.no_wrk:
            pass
        elif wrk is None:
            print("wrk is not installed (Debian: apt-get install -y wrk): throughput not measured.")
        else:
            print(f"Throughput, wrk -t2 -c4 -d{args.wrk_seconds}s with the persona's session cookie:")
            print()
            print("| page | requests/s | × keyset page |")
            print("|---|---:|---:|")
            rates = {}
            for label, persona, path in (
                ("minimal keyset page", "prefecture", "/bench/keyset/"),
                ("trivial signed-in page", "prefecture", "/bench/trivial/"),
                ("prefecture inbox, page 1", "prefecture", "/review/inbox/"),
                ("county inbox, page 1", "county", "/review/inbox/"),
                ("enterprise workspace", "enterprise", "/projects/"),
            ):
                cookie = "; ".join(f"{k}={v}" for k, v in sessions[persona].cookies.items())
                out = subprocess.run(
                    [
                        wrk,
                        "-t2",
                        "-c4",
                        f"-d{args.wrk_seconds}s",
                        "-H",
                        f"Cookie: {cookie}",
                        f"http://{HOST}:{args.port}{path}",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout
                found = re.search(r"Requests/sec:\s+([\d.]+)", out)
                non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                rates[label] = float(found.group(1)) if found else 0.0
                note = f" ({non2xx.group(1)} non-2xx)" if non2xx else ""
                ratio = rates[label] / rates["minimal keyset page"] if rates.get("minimal keyset page") else 0
                print(f"| {label}{note} | {rates[label]:.1f} | {ratio:.2f} |")
            print()
        rss = worker_rss(server.pid)
        print("Worker RSS at the end: " + ", ".join(f"{kib / 1024:.0f} MiB" for kib in rss))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
