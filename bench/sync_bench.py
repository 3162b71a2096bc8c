"""Sync throughput: deliver 100,000 approved records to the reference receiver over loopback HTTP.

What it does
    1. On a PostgreSQL database of its own (default yunjian_bench; created and migrated if
       missing), it clears the sync tables and inserts N approved records straight into the
       outbox with bulk_create, as the approvals would have: bundles of five per project
       (TBProjectInfo + TBProjectCensorInfo + TBBuilderLicenceManage, then TBTenderInfo +
       TBContractRecordManage), so N/5 projects whose first bundle opens them on the platform.
    2. It starts the reference receiver (`python -m sync.receiver serve`, SQLite file, WAL) as
       its own process on a free loopback port; the secret goes by environment.
    3. It runs the worker(s), `manage.py sync_worker --once`, each a process of its own, and
       times them until the outbox is empty.
    4. It checks nothing was lost or applied twice (every row delivered, the receiver holds N
       records, no key applied more than once, every project marked synced) and reports
       records/s, batches, and each worker's peak memory (VmHWM, the peak resident set of the
       worker process; with --in-process, tracemalloc's peak of Python allocations instead).

Run
    .venv/bin/python bench/sync_bench.py                       # 100,000 records, 1 worker
    .venv/bin/python bench/sync_bench.py --workers 2 --batch-size 500
    .venv/bin/python bench/sync_bench.py --records 20000 --in-process
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/other_db .venv/bin/python bench/sync_bench.py

Target (docs/architecture.md, "Scale"): at least 1,000 records/s, nothing lost or duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/yunjian_bench"
SECRET = "bench-secret-" + uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def setup_django(url: str, batch_size: int) -> None:
    os.environ.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "yunjian.settings",
            "LOG_LEVEL": "WARNING",
            "SYNC_BATCH_SIZE": str(batch_size),
        }
    )
    import django

    django.setup()


def prepare(records: int) -> int:
    """Fresh sync tables and `records` outbox rows in bundles of five; returns the project count."""
    from django.core.management import call_command
    from django.db import connection

    from projects.codes import ContractType, PrjFunction, PrjType, Scope, TenderMethod
    from projects.models import Project
    from sync import protocol
    from sync.models import Outbox
    from yunjian.core.models import Organization
    from yunjian.core.validators import complete_credit_code

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE sync_outbox, sync_inboundrecord, sync_syncconflict, sync_inbounditem, sync_inboundrequest"
        )
        cursor.execute("DELETE FROM projects_project WHERE prj_num LIKE '5303022%%' AND name LIKE '压测%%'")
    owner, _ = Organization.objects.get_or_create(
        credit_code=complete_credit_code("9153030099000001"),
        defaults={"name": "压测建设单位", "kinds": "|owner|", "division_id": "530302"},
    )
    builder, _ = Organization.objects.get_or_create(
        credit_code=complete_credit_code("9153030099000002"),
        defaults={"name": "压测施工总承包单位", "kinds": "|general_contractor|", "division_id": "530302"},
    )
    n_projects = records // 5
    projects = Project.objects.bulk_create(
        [
            Project(
                prj_num=f"5303022{(i // 10000) % 10}01{(i // 1000) % 9 + 1:02d}{i % 10000:04d}",
                name=f"压测项目{i}",
                county_id="530302",
                owner_org=owner,
                prj_type=PrjType.BUILDING,
                prj_function=PrjFunction.OFFICE,
            )
            for i in range(n_projects)
        ],
        batch_size=5000,
    )
    rows = []
    for project in projects:
        p = project.prj_num
        first, later = uuid.uuid4(), uuid.uuid4()
        base = {"PrjNum": p, "PrjInnerNum": str(project.pk)}
        specs = [
            (
                first,
                protocol.TB_PROJECT,
                f"project:{p}",
                {
                    **base,
                    "PrjName": project.name,
                    "PrjTypeNum": PrjType.BUILDING,
                    "PrjFunctionNum": PrjFunction.OFFICE,
                    "BuildCorpName": owner.name,
                    "BuildCorpCode": owner.credit_code,
                    "ProvinceNum": "530000",
                    "CityNum": "530300",
                    "CountyNum": "530302",
                    "AllInvest": "1200",
                    "DataSource": "历史业绩补录",
                },
            ),
            (
                first,
                protocol.TB_CENSOR,
                f"drawing_review:{p}",
                {
                    **base,
                    "CensorNum": f"{p}-TX-001",
                    "CensorCorpName": owner.name,
                    "CensorCorpCode": owner.credit_code,
                    "CensorEDate": "2020-03-01",
                    "OneCensorIsPass": 1,
                },
            ),
            (
                first,
                protocol.TB_PERMIT,
                f"permit:{p}",
                {
                    **base,
                    "BuilderLicenceNum": f"{p}-SX-001",
                    "ReleaseDate": "2020-05-01",
                    "ConsCorpName": builder.name,
                    "ConsCorpCode": builder.credit_code,
                    "ContractMoney": "1000",
                },
            ),
            (
                later,
                protocol.TB_TENDER,
                f"tender:{p}",
                {
                    **base,
                    "TenderNum": f"{p}-BD-001",
                    "TenderClassNum": Scope.CONSTRUCTION,
                    "TenderTypeNum": TenderMethod.OPEN,
                    "TenderResultDate": "2020-02-01",
                    "TenderMoney": "1000",
                    "TenderCorpName": builder.name,
                    "TenderCorpCode": builder.credit_code,
                    "AgencyCorpName": "压测招标代理",
                },
            ),
            (
                later,
                protocol.TB_CONTRACT,
                f"contract:{p}",
                {
                    **base,
                    "ContractNum": f"HT-{p}",
                    "ContractTypeNum": ContractType.GENERAL,
                    "ContractMoney": "1000",
                    "ContractDate": "2020-02-20",
                    "PropietorCorpName": owner.name,
                    "ContractorCorpName": builder.name,
                    "ContractorCorpCode": builder.credit_code,
                },
            ),
        ]
        for bundle, table, key, payload in specs:
            rows.append(
                Outbox(
                    bundle=bundle,
                    project=project,
                    table=table,
                    record_key=key,
                    version=1,
                    idempotency_key=f"{key}:v1",
                    payload=payload,
                )
            )
    Outbox.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sync_outbox")
        cursor.execute("ANALYZE projects_project")
    return n_projects


def start_receiver(port: int, db_path: str) -> subprocess.Popen:
    env = {**os.environ, "YUNJIAN_SYNC_SECRET": SECRET}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "sync.receiver", "serve", "--port", str(port), "--db", db_path],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return receiver
        time.sleep(0.05)
    receiver.kill()
    raise SystemExit("参考接收端未能启动")


def _peak_rss_kib(pid: int) -> int:
    """VmHWM: the process's peak resident set since its exec (ru_maxrss would also count the
    pages of this bench process it was forked from)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_workers(n: int, endpoint: str) -> tuple[float, list[int], list[str]]:
    """Run `n` worker processes until the outbox is drained; (seconds, peak RSS KiB each, outputs)."""
    # Workers run as in production: DEBUG off (Django keeps no query log).
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "SYNC_ENDPOINT": endpoint,
        "SYNC_SECRET": SECRET,
    }
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sync_worker", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(n)
    ]
    peaks = [0] * n
    while any(w.poll() is None for w in workers):
        for i, worker in enumerate(workers):
            if worker.poll() is None:
                peaks[i] = max(peaks[i], _peak_rss_kib(worker.pid))
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    outputs = [w.stdout.read() for w in workers]
    for worker, output in zip(workers, outputs, strict=True):
        if worker.returncode != 0:
            raise SystemExit(f"同步进程失败：\n{output}")
    return elapsed, peaks, outputs


def run_in_process(endpoint: str) -> tuple[float, int, int]:
    import tracemalloc

    from django.conf import settings

    from sync.worker import Worker

    settings.SYNC_ENDPOINT, settings.SYNC_SECRET = endpoint, SECRET
    tracemalloc.start()
    started = time.perf_counter()
    worker = Worker()
    worker.run_until_idle()
    worker.close()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def verify(records: int, n_projects: int, stats: dict) -> dict:
    from projects.models import Project
    from sync.models import Outbox

    delivered = Outbox.objects.filter(status=Outbox.Status.DELIVERED).count()
    synced = Project.objects.filter(name__startswith="压测", platform_synced_at__isnull=False).count()
    result = {
        "delivered": delivered,
        "receiver_records": stats["records"],
        "receiver_accepted": stats["by_status"]["accepted"],
        "receiver_duplicates": stats["by_status"]["duplicate"],
        "max_applied_per_key": stats["max_applied_per_key"],
        "projects_synced": synced,
    }
    ok = (
        delivered == records
        and stats["records"] == records
        and stats["max_applied_per_key"] == 1
        and synced == n_projects
    )
    result["ok"] = ok
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description="同步推送压测：向参考接收端推送 N 条已审核认定的记录")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--in-process", action="store_true", help="在本进程内运行一个同步进程（含 tracemalloc 内存峰值）"
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    args = parser.parse_args()
    if args.records % 5:
        parser.error("--records 应为 5 的倍数（每个项目 5 条记录）")

    ensure_database(args.database_url)
    setup_django(args.database_url, args.batch_size)
    t = time.perf_counter()
    n_projects = prepare(args.records)
    print(f"准备数据：{args.records} 条待推送记录，{n_projects} 个项目（{time.perf_counter() - t:.1f} 秒）")

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        receiver = start_receiver(port, str(Path(tmp) / "receiver.sqlite3"))
        endpoint = f"http://127.0.0.1:{port}/exchange/"
        try:
            if args.in_process:
                elapsed, traced_peak, rss = run_in_process(endpoint)
                memory = {
                    "tracemalloc_peak_mib": round(traced_peak / 2**20, 1),
                    "ru_maxrss_mib": round(rss / 1024, 1),
                }
            else:
                elapsed, peaks, _ = run_workers(args.workers, endpoint)
                memory = {"worker_peak_rss_mib": [round(p / 1024, 1) for p in peaks]}
            with urlopen(f"http://127.0.0.1:{port}/_stats", timeout=10) as response:  # noqa: S310
                stats = json.load(response)
        finally:
            receiver.terminate()
            receiver.wait(timeout=10)
    checks = verify(args.records, n_projects, stats)
    report = {
        "records": args.records,
        "batch_size": args.batch_size,
        "workers": args.workers if not args.in_process else 1,
        "seconds": round(elapsed, 2),
        "records_per_second": round(args.records / elapsed),  # worker start-up included
        "batches": stats["batches_processed"],
        **memory,
        **checks,
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if checks["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
