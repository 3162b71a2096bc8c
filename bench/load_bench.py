"""Load benchmark (issue 13): generate provincial-scale exports and load them with load_records.

    .venv/bin/python bench/load_bench.py [--projects 100000] [--format csv|jsonl] [--keep]

Generates, in a temporary directory, one project per row of TBProjectInfo (spread over Yunnan's
129 counties), one drawing review per project (TBProjectCensorInfo: 2,000 design units, 200
review institutions) and one permit per project (TBBuilderLicenceManage: 5,000 general
contractors, linked to its drawing review), as CSV (UTF-8) or JSON lines. Then it runs, as a
subprocess under /usr/bin/time, `manage.py load_records projects censors permits` (check pass,
then apply) on a scratch database, by default postgres://postgres@127.0.0.1:5432/yunjian_load_bench
(set BENCH_DATABASE_URL to another whose name contains "bench"; it is created, migrated, and its
loaded tables are emptied before the run), then the same files again (everything unchanged).

Reported: wall time of each run, rows per second, the subprocess's peak memory (max RSS) and the
machine's load average at the start (the machine may be shared). Target (issue 13): 400,000
drawing reviews and 400,000 permits in under 10 minutes on 2 cores, memory flat in the file size.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yunjian.core.validators import complete_credit_code  # noqa: E402

DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_load_bench"
TARGET_SECONDS = 600
TARGET_ROWS = 800_000
PROJECT = [
    "PrjNum",
    "PrjName",
    "PrjTypeNum",
    "PrjFunctionNum",
    "BuildCorpName",
    "BuildCorpCode",
    "CountyNum",
    "AllInvest",
    "AllArea",
    "BDate",
]
CENSOR = [
    "CensorNum",
    "PrjNum",
    "CensorCorpName",
    "CensorCorpCode",
    "CensorEDate",
    "DesignCorpName",
    "DesignCorpCode",
    "OneCensorIsPass",
    "OneCensorWfqtCount",
]
PERMIT = [
    "BuilderLicenceNum",
    "PrjNum",
    "CensorNum",
    "ConsCorpName",
    "ConsCorpCode",
    "SuperCorpName",
    "SuperCorpCode",
    "IssueCertDate",
    "ContractMoney",
    "Area",
    "ConstructorName",
]


def counties() -> list[str]:
    with open(ROOT / "yunjian/core/data/yunnan-divisions.csv", encoding="utf-8") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["level"] == "county"]


def org_codes(prefix: str, count: int) -> list[str]:
    return [complete_credit_code(f"91530100{prefix}{n:06d}"[:16]) for n in range(count)]


def generate(directory: Path, count: int, fmt: str) -> list[Path]:
    places = counties()
    designs, institutions = org_codes("11", 2000), org_codes("21", 200)
    builders, supervisors, owners = org_codes("31", 5000), org_codes("41", 1000), org_codes("51", 10000)
    paths = [directory / f"{name}.{fmt}" for name in ("projects", "censors", "permits")]
    writers = []
    handles = [open(path, "w", encoding="utf-8", newline="") for path in paths]  # noqa: SIM115
    for handle, header in zip(handles, (PROJECT, CENSOR, PERMIT), strict=True):
        if fmt == "csv":
            writer = csv.writer(handle)
            writer.writerow(header)
            writers.append(writer.writerow)
        else:
            writers.append(
                lambda row, h=handle, k=header: h.write(
                    json.dumps(dict(zip(k, row, strict=True)), ensure_ascii=False) + "\n"
                )
            )
    for n in range(count):
        county = places[n % len(places)]
        day = n // len(places)
        prj = f"{county}{10 + day // 3360:02d}{1 + day // 280 % 12:02d}{1 + day // 10 % 28:02d}{day % 10:01d}{n % 1000:03d}"
        censor = f"{prj}-TX-001"
        owner = owners[n % len(owners)]
        writers[0](
            [
                prj,
                f"工程项目{n}",
                "01",
                "300",
                f"建设单位{n % len(owners)}",
                owner,
                county,
                "1200.5",
                "8000",
                "2019-03-01",
            ]
        )
        design = designs[n % len(designs)]
        institution = institutions[n % len(institutions)]
        writers[1](
            [
                censor,
                prj,
                f"审图机构{n % len(institutions)}",
                institution,
                "2019-01-15",
                f"设计单位{n % len(designs)}",
                design,
                "1",
                "0",
            ]
        )
        builder, supervisor = builders[n % len(builders)], supervisors[n % len(supervisors)]
        writers[2](
            [
                f"{prj}-SX-001",
                prj,
                censor,
                f"施工单位{n % len(builders)}",
                builder,
                f"监理单位{n % len(supervisors)}",
                supervisor,
                "2019-02-20",
                "3000",
                "8000",
                "张经理",
            ]
        )
    for handle in handles:
        handle.close()
    return paths


def prepare_database(url: str) -> dict[str, str]:
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        raise SystemExit(f"refusing to run on database {config['NAME']!r}: its name must contain 'bench'")
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    admin.close()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    # Empty what a previous run loaded; keep divisions. One housing bureau per prefecture issues the permits.
    script = """
from django.db import connection
from yunjian.core.models import Division, Organization
from yunjian.core.validators import complete_credit_code
with connection.cursor() as c:
    c.execute("TRUNCATE loads_loadissue, loads_loadfile, loads_loadjob, loads_loadedrecord, projects_constructionpermit_drawing_reviews, projects_constructionpermitgroupobjectpermission, projects_drawingreviewgroupobjectpermission, projects_projectparty, projects_constructionpermit, projects_drawingreview, projects_project CASCADE")
    c.execute("DELETE FROM core_organization WHERE credit_code LIKE '91530100%%'")
    c.execute("DELETE FROM auth_group WHERE name LIKE 'org:91530100%%'")
for d in Division.objects.filter(level='prefecture'):
    code = complete_credit_code(('1153' + d.code[2:4] + '00' + '9' * 8)[:16])
    if not Organization.objects.filter(credit_code=code).exists():
        Organization(credit_code=code, name=d.name + '住房和城乡建设局', kinds='|housing_bureau|', division=d).save()
"""
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)
    return env


def _backend_cpu(url: str, app: str, seen: dict[int, float]) -> None:
    """CPU seconds so far of the PostgreSQL backends serving `app` (same machine: /proc)."""
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    tick = os.sysconf("SC_CLK_TCK")
    with (
        psycopg2.connect(
            dbname=config["NAME"],
            user=config["USER"],
            password=config["PASSWORD"],
            host=config["HOST"],
            port=config["PORT"] or 5432,
        ) as db,
        db.cursor() as cursor,
    ):
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", [app])
        for (pid,) in cursor.fetchall():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seen[pid] = (int(fields[11]) + int(fields[12])) / tick
    db.close()


def timed_load(env: dict[str, str], paths: list[Path], url: str) -> tuple[float, int, float, float, str]:
    app = f"yunjian_load_bench_{os.getpid()}_{time.monotonic_ns()}"
    start = time.monotonic()
    process = subprocess.Popen(
        ["/usr/bin/time", "-v", sys.executable, "manage.py", "load_records", *map(str, paths)],
        cwd=ROOT,
        env={**env, "PGAPPNAME": app},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backends: dict[int, float] = {}
    while process.poll() is None:
        _backend_cpu(url, app, backends)
        time.sleep(0.5)
    stdout, stderr = process.communicate()
    elapsed = time.monotonic() - start
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    rss = int(match.group(1)) // 1024 if match else -1
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    system = re.search(r"System time \(seconds\): ([\d.]+)", stderr)
    cpu = float(user.group(1)) + float(system.group(1)) if user and system else -1.0
    if process.returncode != 0:
        print(stdout[-2000:], stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"load_records exited {process.returncode}")
    summary = stdout.strip().splitlines()[0] if stdout.strip() else ""
    return elapsed, rss, cpu, sum(backends.values()), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    directory = Path(tempfile.mkdtemp(prefix="load-bench-"))
    start = time.monotonic()
    paths = generate(directory, args.projects, args.format)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in paths)
    print(
        f"generated {args.projects} projects, drawing reviews and permits in {time.monotonic() - start:.1f} s ({sizes})"
    )
    env = prepare_database(url)
    rows = 3 * args.projects
    for label in ("first load (all new)", "same files again (all unchanged)"):
        load = os.getloadavg()[0]
        elapsed, rss, cpu, db_cpu, summary = timed_load(env, paths, url)
        print(
            f"{label}: {elapsed:.1f} s wall ({rows / elapsed:,.0f} rows/s), CPU: loader {cpu:.1f} s + "
            f"PostgreSQL backend {db_cpu:.1f} s (sampled every 0.5 s), peak memory {rss} MB, "
            f"load average before {load:.1f} — {summary}"
        )
        if label.startswith("first"):
            reviews_and_permits = 2 * args.projects
            scale = (TARGET_ROWS + TARGET_ROWS // 2) / rows
            print(
                f"  drawing reviews + permits: {reviews_and_permits}; projected for 400,000 + 400,000 "
                f"(+ their 400,000 projects): {elapsed * scale:.0f} s wall at this machine load, "
                f"{(cpu + db_cpu) * scale:.0f} s of CPU in all (target {TARGET_SECONDS} s on 2 cores)"
            )
    if not args.keep:
        for path in paths:
            path.unlink()
        directory.rmdir()
    else:
        print(f"files kept in {directory}")


if __name__ == "__main__":
    main()
