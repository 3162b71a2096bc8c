"""Progress boards benchmark: each board's response time with the aggregates of 2,000,000 records.

    .venv/bin/python bench/boards_bench.py [--records 2000000] [--days 90] [--requests 200]

The boards read only their own tables (boards.models: StateCount, Figures, Snapshot), whose size
depends on the number of counties, stages, states and days — not on the number of records — so the
bench writes those tables as they stand at `records` records (spread over every county of the
province and the five stages; `days` days of snapshots) on a scratch database (default
postgres://postgres@127.0.0.1:5432/yunjian_boards_bench; BENCH_DATABASE_URL to use another whose
name contains "bench"; created and migrated if missing), then times whole GET requests through
Django's test client, signed in as 省厅业务处室: the province's board, a prefecture's, a county's,
the trend, the design board. How the counts stay right as records change is tested, not timed
(tests/boards).

Target: every board in under 20 ms p95 at 2,000,000 records.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_boards_bench"
TARGET_MS = 20.0


def setup_django() -> None:
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunjian.settings_test")
    from yunjian.dbcheck import ensure_bench_database

    ensure_bench_database(url)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def fill(records: int, days: int) -> None:
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from boards.aggregates import STATES, take_snapshot
    from boards.models import Figures, OrgCount, Snapshot, StateCount
    from projects.stages import REVIEW_STAGES
    from yunjian.core.models import Division

    rng = random.Random(16)
    counties = list(Division.objects.filter(level=Division.Level.COUNTY).values_list("code", flat=True))
    per_cell = records // (len(counties) * len(REVIEW_STAGES))
    with transaction.atomic():
        for model in (StateCount, Figures, Snapshot, OrgCount):
            model.objects.all().delete()
        counts, figures = [], []
        today = timezone.localdate()
        for code in counties:
            for stage in REVIEW_STAGES:
                shares = [rng.random() for _ in STATES]
                split = {str(s): int(per_cell * w / sum(shares)) for s, w in zip(STATES, shares, strict=True)}
                counts += [
                    StateCount(division_code=code, stage=stage, state=s, n=n) for s, n in split.items()
                ]
                figures.append(
                    Figures(
                        division_code=code,
                        stage=stage,
                        overdue=rng.randrange(200),
                        age_0_5=rng.randrange(500),
                        age_6_10=rng.randrange(300),
                        age_11_20=rng.randrange(200),
                        age_over_20=rng.randrange(100),
                        unroutable=rng.randrange(20),
                        decided_4w=rng.randrange(2000),
                        returned_4w=rng.randrange(300),
                        days_4w=rng.random() * 8000,
                        median_days=rng.random() * 6,
                        acknowledged=split["approved"] // 2,
                        entered_orgs=rng.randrange(400),
                        verified_orgs=rng.randrange(200),
                        blocked_orgs=rng.randrange(50),
                    )
                )
        StateCount.objects.bulk_create(counts, batch_size=5000)
        Figures.objects.bulk_create(figures, batch_size=5000)
    # The history as the daily job writes it (with its prefecture, province and all-stage sums).
    for back in range(days):
        day = today - timedelta(days=back)
        take_snapshot(day)
        Snapshot.objects.filter(day=day).update(
            draft=F("draft") + F("approved") * back / (days + 10),
            approved=F("approved") - F("approved") * back / (days + 10),
        )
    with transaction.atomic():
        OrgCount.objects.bulk_create(
            [
                OrgCount(org_id=i, role=r, state="approved", n=rng.randrange(500))
                for i in range(3000)
                for r in ("design", "institution")
            ],
            batch_size=5000,
        )
    print(
        f"{len(counts)} 计数行、{len(figures)} 指标行、{Snapshot.objects.count()} 快照行（相当于 {records:,} 条记录，{days} 天）"
    )


def office_client():
    from django.test import Client

    from yunjian.core.models import Organization, Role, User
    from yunjian.core.validators import complete_credit_code

    org, _ = Organization.objects.get_or_create(
        credit_code=complete_credit_code("1153000099000161"),
        defaults={"name": "压测省住房和城乡建设厅", "kinds": "|province_dept|", "division_id": "530000"},
    )
    user, _ = User.objects.get_or_create(
        username="bench_board_office",
        defaults={"organization": org, "roles": User.encode_roles([Role.BOARD_VIEWER]), "full_name": "压测"},
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    # The business offices sign in with two factors: a confirmed device, verified in the session.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunjian.core.signin import OTP_PENDING

    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_PENDING] = False
    session.save()
    return client


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    fill(args.records, args.days)
    client = office_client()
    pages = {
        "全省看板": "/boards/",
        "州（市）看板": "/boards/?division=530300",
        "县看板": "/boards/?division=530302",
        "单环节全省看板": "/boards/?stage=permit",
        "进度趋势（全省）": "/boards/trend/",
        "图审看板": "/boards/design/",
    }
    worst = 0.0
    for label, url in pages.items():
        client.get(url)  # warm
        timings = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p95 = statistics.quantiles(timings, n=20)[-1]
        worst = max(worst, p95)
        print(f"{label:<14} 中位 {statistics.median(timings):6.1f} ms  p95 {p95:6.1f} ms")
    verdict = "达标" if worst < TARGET_MS else "未达标"
    print(f"最慢 p95 {worst:.1f} ms，目标 {TARGET_MS:.0f} ms：{verdict}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
