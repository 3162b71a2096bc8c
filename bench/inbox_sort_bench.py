"""Inbox sort benchmark: one page of a large jurisdiction's inbox, in each sortable order, first and deep.

    .venv/bin/python bench/inbox_sort_bench.py [--tasks 200000] [--repeat 5]

On a scratch PostgreSQL database (default postgres://postgres@127.0.0.1:5432/yunjian_bench; set
BENCH_DATABASE_URL to use another whose name contains "bench"; created and migrated if missing), the
bench writes `tasks` open permit steps spread over every county of the province (the bench's tasks
of an earlier run are kept when there are as many, else replaced), and two reviewers: one whose
roster line covers 曲靖市 (a prefecture: about 1/16 of the steps) and one of 麒麟区 (a county). For
each of them and each column of review.selectors.INBOX_SORTING, in both directions, it times (best
of `repeat`) the page query the inbox runs (`yunjian.core.pagination.sorted_page` over
`review.selectors.inbox_rows`): the first page, and a page whose cursor sits in the middle of the
list; and, for the middle page, the same page with the cursor written in the expanded form
`col > t OR (col = t AND id > k)` instead of the range form `col >= t AND (col > t OR id > k)`. It
prints how the plan reads review_task (which index, and whether it sorts).

Target: every page of the inbox in under 100 ms at 200,000 open steps in the province.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/yunjian_bench"
TARGET_MS = 100.0
BENCH_TITLE = "压测排序项目"


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


def setup_django(url: str) -> None:
    os.environ.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "yunjian.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def prepare(n: int):
    """`n` open permit steps over the province's counties; a reviewer of 曲靖市 and one of 麒麟区."""
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from review.models import ReviewerAssignment, Task
    from yunjian.core.models import Division, Organization, Role, User
    from yunjian.core.validators import complete_credit_code

    call_command("migrate", verbosity=0)
    owner, _ = Organization.objects.get_or_create(
        credit_code=complete_credit_code("9153030099000101"),
        defaults={"name": "压测排序施工单位", "kinds": "|general_contractor|", "division_id": "530302"},
    )
    bureau, _ = Organization.objects.get_or_create(
        credit_code=complete_credit_code("1153030099000102"),
        defaults={"name": "压测曲靖市住房和城乡建设局", "kinds": "|housing_bureau|", "division_id": "530300"},
    )
    users = []
    for username, division in (("bench_sort_prefecture", "530300"), ("bench_sort_county", "530302")):
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "organization": bureau,
                "roles": User.encode_roles([Role.REVIEWER]),
                "full_name": "压测",
            },
        )
        ReviewerAssignment.objects.get_or_create(
            user=user, stage="permit", division_id=division, defaults={"roster_key": "530300"}
        )
        users.append(user)
    if Task.objects.filter(title__startswith=BENCH_TITLE).count() == n:
        return users
    Task.objects.filter(title__startswith=BENCH_TITLE).delete()
    counties = list(Division.objects.filter(level=Division.Level.COUNTY).values_list("code", flat=True))
    start = timezone.now() - timedelta(days=400)
    rows = []
    for i in range(n):
        submitted = start + timedelta(minutes=i * 3 % (400 * 24 * 60))
        rows.append(
            Task(
                kind="permit",
                record_id=10_000_000 + i,
                revision=1 + i % 3,
                step="issuing_review",
                step_label="住建部门审核（施工许可）",
                performer="roster",
                stage="permit",
                division_code=counties[i % len(counties)],
                owner_org=owner,
                title=f"{BENCH_TITLE}{(i * 7919) % n:07d}",
                prj_num=f"5303{(i * 104729) % 10**12:012d}",
                number=f"{(i * 15485863) % 10**16:016d}-SX-001",
                submitted_at=submitted,
                due_at=submitted + timedelta(days=5 + i % 11),
            )
        )
        if len(rows) == 5000:
            Task.objects.bulk_create(rows)
            rows = []
    Task.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE review_task")
    return users


def best_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times)


def access_path(queryset) -> str:
    """How the plan reads review_task: the index (or a sequential scan), and whether it sorts."""
    found = []
    for line in queryset.explain().splitlines():
        text = line.strip().removeprefix("->").strip().split("  (")[0]
        if text.startswith(("Sort", "Incremental Sort")) and "Key" not in text:
            found.append(text)
        elif ("review_task" in text or "task_" in text) and "Scan" in text:
            found.append(text.replace(" on review_task", ""))
    return "; ".join(dict.fromkeys(found))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[1]:
        print("refusing: the database name must contain 'bench'", file=sys.stderr)
        return 2
    ensure_database(args.database_url)
    setup_django(args.database_url)

    from django.db.models import Q
    from django.test import RequestFactory

    from review import selectors
    from review.jurisdiction import assignments_of
    from yunjian.core.pagination import _after, _encode, sorted_page

    t0 = time.perf_counter()
    users = prepare(args.tasks)
    print(f"{args.tasks} open steps in the province, ready in {time.perf_counter() - t0:.1f} s")
    rf = RequestFactory()
    worst = 0.0
    for user in users:
        assignments = assignments_of(user)
        rows = selectors.inbox_rows(user, selectors.InboxFilters(), assignments)
        total = rows.count()
        print(f"\n{user.username}: {total} open steps in the jurisdiction")
        print(
            f"{'order':<15}{'first page':>11}{'middle page':>12}{'expanded OR':>12}  how review_task is read"
        )
        for column in selectors.INBOX_SORTING.columns:
            for descending in (False, True):
                sort = f"-{column.name}" if descending else column.name
                first = best_ms(
                    lambda s=sort, r=rows: sorted_page(r, rf.get("/", {"sort": s}), selectors.INBOX_SORTING),
                    args.repeat,
                )
                # The cursor of the row in the middle of the list, as a page link would carry it.
                ordering = column.ordering(descending)
                keys = [(k.lstrip("-"), k.startswith("-")) for k in ordering]
                middle_row = rows.order_by(*ordering).values_list(*[k for k, _ in keys])[total // 2]
                request = rf.get("/", {"sort": sort, "after": _encode([sort, *middle_row])})
                page, _ = sorted_page(rows, request, selectors.INBOX_SORTING)
                assert len(page.rows) == 50, sort
                middle = best_ms(
                    lambda q=request, r=rows: sorted_page(r, q, selectors.INBOX_SORTING), args.repeat
                )
                (a, a_desc), (b, b_desc) = keys
                op_a, op_b = ("lt" if a_desc else "gt"), ("lt" if b_desc else "gt")
                expanded = rows.filter(
                    Q(**{f"{a}__{op_a}": middle_row[0]})
                    | Q(**{a: middle_row[0], f"{b}__{op_b}": middle_row[1]})
                ).order_by(*ordering)
                old = best_ms(lambda q=expanded: list(q[:51]), args.repeat)
                ranged = rows.filter(
                    _after([(keys[0], middle_row[0], False), (keys[1], middle_row[1], False)])
                )
                worst = max(worst, first, middle)
                print(
                    f"{sort:<15}{first:>9.1f}ms{middle:>10.1f}ms{old:>10.1f}ms  "
                    f"{access_path(ranged.order_by(*ordering)[:51])}"
                )
    print(f"slowest page: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
