"""公开业绩查询 benchmark (issue 17 §3): the public search and an enterprise's page, cached and not.

    .venv/bin/python bench/public_bench.py [--projects 1000] [--orgs 100000] [--repeat 20] [--keep] [--reuse]

Builds, on a scratch database, the enterprise of bench/performance_bench.py (a general contractor
with `--projects` projects, 40 % of them verified, beside another `--projects` of other units) and
`--orgs` more enterprises whose names share common words (建筑, 工程, 公司), so a search matches many.
Then, through the test client (real middleware, anonymous, a fresh address per request so the rate
limit does not interfere), it times each request `--repeat` times with the cache emptied first
("miss") and from the cache ("hit"), and reports the median, the 95th percentile and the queries.

Database: postgres://postgres@127.0.0.1:5432/yunjian_public_bench (BENCH_DATABASE_URL to another
whose name contains "bench"); created and migrated if missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import performance_bench  # noqa: E402

DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_public_bench"
ORG_PREFIX = "91539800"
WORDS = ("云南", "昆明", "曲靖", "大理", "建筑", "工程", "建设", "路桥", "设计", "监理", "勘察", "市政")


def build_orgs(count: int) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection

    from yunjian.core.models import Organization
    from yunjian.core.validators import complete_credit_code

    Organization.objects.filter(credit_code__startswith=ORG_PREFIX).delete()
    Group.objects.filter(name__startswith=f"org:{ORG_PREFIX}").delete()
    kinds = ("|general_contractor|", "|design|", "|supervision|", "|specialty_contractor|")
    batch = 5000
    for start in range(0, count, batch):
        n_range = range(start, min(count, start + batch))
        codes = [complete_credit_code(f"{ORG_PREFIX}{n:08d}"[:16]) for n in n_range]
        groups = Group.objects.bulk_create([Group(name=f"org:{code}") for code in codes])
        Organization.objects.bulk_create(
            [
                Organization(
                    credit_code=code,
                    name=f"{WORDS[n % 12]}{WORDS[(n // 12) % 12]}{n}号{WORDS[(n // 144) % 12]}有限公司",
                    kinds=kinds[n % 4],
                    division_id="530302",
                    group=group,
                )
                for n, code, group in zip(n_range, codes, groups, strict=True)
            ]
        )
    with connection.cursor() as c:
        c.execute("ANALYZE core_organization")


def measure(targets, repeat: int):
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    results = []
    counter = 0
    for label, url in targets:
        for mode in ("miss", "hit"):
            times, queries = [], 0
            for _ in range(repeat):
                counter += 1
                address = f"10.{counter // 65536 % 256}.{counter // 256 % 256}.{counter % 256}"
                if mode == "miss":
                    cache.clear()
                with CaptureQueriesContext(connection) as captured:
                    start = time.perf_counter()
                    response = client.get(url, REMOTE_ADDR=address)
                    times.append(time.perf_counter() - start)
                assert response.status_code == 200, (url, response.status_code)
                queries = len(captured)
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            results.append(
                (
                    f"{label}（{'未缓存' if mode == 'miss' else '已缓存'}）",
                    statistics.median(times),
                    p95,
                    queries,
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--orgs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the rows (for --reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure the rows a previous --keep run left")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    load = os.getloadavg()
    print(f"机器负载（1/5/15 分钟）：{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}，CPU {os.cpu_count()} 核")
    performance_bench.prepare(url)
    from django.conf import settings
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    settings.DEBUG = True  # the queries are counted
    setup_test_environment()
    performance_bench.clean()
    start = time.perf_counter()
    user, mix = performance_bench.build(args.projects)
    build_orgs(args.orgs)
    print(
        f"生成：本企业 {args.projects} 个项目 {mix}，另 {args.orgs} 个企业：{time.perf_counter() - start:.1f} 秒"
    )
    org = user.organization
    from sync.tasks import refresh_all

    start = time.perf_counter()
    refreshed = refresh_all()  # the periodic job's work after the bulk build (every party stale)
    print(f"计算全部 {refreshed} 条业绩认定结果（定时任务）：{time.perf_counter() - start:.2f} 秒")
    search = reverse("enterprises:public-search")
    targets = [
        ("查询“建筑”（大量匹配）", f"{search}?q=建筑"),
        ("查询“昆明曲靖12号”（少量匹配）", f"{search}?q=昆明曲靖12号"),
        ("按代码前缀查询", f"{search}?q={org.credit_code[:12]}"),
        ("单位业绩页 第 1 页", reverse("enterprises:public-enterprise", args=[org.credit_code])),
    ]
    print(f"{'请求':<30}{'中位数':>10}{'p95':>10}{'查询数':>8}")
    for label, median, p95, queries in measure(targets, args.repeat):
        print(f"{label:<30}{median * 1000:>8.1f}ms{p95 * 1000:>8.1f}ms{queries:>8}")
    if not args.keep:
        performance_bench.clean()


if __name__ == "__main__":
    main()
