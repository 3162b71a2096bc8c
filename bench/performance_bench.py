"""业绩 benchmark (issue 14 §2): an enterprise with 5,000 projects, its 业绩 page, home and export.

    .venv/bin/python bench/performance_bench.py [--projects 5000] [--repeat 5] [--keep] [--reuse]

Builds, with bulk_create (no per-row saves), one general contractor with `--projects` projects
(spread over Yunnan's counties) and, on each, a design unit's drawing review, the contractor's
permit, construction tender+contract and completion, in a mix of states: 40 % verified (every
record approved and acknowledged: a delivered outbox row each), 15 % one step away (completion
approved, not yet acknowledged), 15 % completion in review, 10 % tender returned, 10 % tender
missing, 10 % permit in review. Other organizations' projects (another 5,000 with their records
and delivered outbox rows) sit beside them, so the tables are not the enterprise's alone.

Then it signs the contractor in (test client, real middleware) and times, `--repeat` times each:
the enterprise home (its 业绩 figures), the 业绩 list's first page, a deep page (keyset cursor),
the list filtered by blocking step and by "verified", the .xlsx export and the print page. It
reports the median and worst wall time and the queries of each request (they must not grow
with the number of projects), and the machine's load average at the start (the machine may be
shared). Target: every page under 1 s, the export of the whole verified list under 5 s.

Runs on a scratch database, by default postgres://postgres@127.0.0.1:5432/yunjian_performance_bench
(BENCH_DATABASE_URL to another whose name contains "bench"); it is created and migrated, and the
rows a previous run made are removed first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_performance_bench"
PREFIX = "91539900"  # credit codes of the organizations this benchmark makes


def prepare(url: str) -> None:
    from yunjian.dbcheck import ensure_bench_database

    ensure_bench_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "yunjian.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)  # divisions come with a migration


def clean() -> None:
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "TRUNCATE sync_outbox, projects_completion, projects_tendercontract, "
            "projects_constructionpermit_drawing_reviews, projects_constructionpermit, projects_drawingreview, "
            "projects_projectparty, projects_building, projects_project, review_task CASCADE"
        )
    # The organizations and the user stay (the audit log keeps its sign-ins); the next run reuses them.


def build(count: int) -> tuple[object, dict[str, int]]:
    """The enterprise and its projects; returns (its user, how many rows of each mix)."""
    import csv

    from django.utils import timezone

    from projects.codes import ContractType, PrjFunction, PrjType, Scope, TenderMethod
    from projects.models import (
        Completion,
        ConstructionPermit,
        DrawingReview,
        Project,
        ProjectParty,
        State,
        TenderContract,
    )
    from sync.models import Outbox
    from yunjian.core.models import Organization, Role, User
    from yunjian.core.validators import complete_credit_code

    K = Organization.Kind
    with open(ROOT / "yunjian/core/data/yunnan-divisions.csv", encoding="utf-8") as handle:
        places = [row["code"] for row in csv.DictReader(handle) if row["level"] == "county"]

    def org(n: int, name: str, *kinds: str) -> Organization:
        code = complete_credit_code(f"{PREFIX}{n:08d}"[:16])
        made = Organization.objects.filter(credit_code=code).first()
        if made is None:  # six rows: each saves its own permission group
            made = Organization(
                credit_code=code, name=name, kinds=Organization.encode_kinds(kinds), division_id="530302"
            )
            made.save()
        return made

    orgs = [
        org(1, "基准施工总承包公司", K.GENERAL_CONTRACTOR),
        org(2, "基准设计院", K.DESIGN),
        org(3, "基准审图中心", K.REVIEW_INSTITUTION),
        org(4, "基准住建局", K.HOUSING_BUREAU),
        org(5, "另一施工公司", K.GENERAL_CONTRACTOR),
        org(6, "基准建设单位", K.OWNER),
    ]
    builder, design, institution, bureau, other, owner = orgs
    user, _ = User.objects.get_or_create(
        username="bench_builder",
        defaults={"organization": builder, "roles": f"|{Role.ENTERPRISE}|", "full_name": "基准"},
    )
    now = timezone.now()
    mix = {
        "verified": 0,
        "completion_approved": 0,
        "completion_in_review": 0,
        "tender_returned": 0,
        "tender_missing": 0,
        "permit_in_review": 0,
    }
    for owner_org, label in ((builder, "本企业"), (other, "其他企业")):
        projects = Project.objects.bulk_create(
            [
                Project(
                    prj_num=f"{places[n % len(places)]}{24 if owner_org is builder else 25}{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336:04d}",
                    name=f"{label}工程项目{n}",
                    county_id=places[n % len(places)],
                    owner_org=owner,
                    prj_type=PrjType.BUILDING,
                    prj_function=PrjFunction.OFFICE,
                    actual_start=date(2020, 5, 10),
                    actual_end=date(2021, 6, 1),
                    permit_approved_at=now,
                    platform_synced_at=now,
                    created_at=now,
                )
                for n in range(count)
            ],
            batch_size=2000,
        )
        ProjectParty.objects.bulk_create(
            [
                ProjectParty(project=p, organization=owner_org, role=ProjectParty.Role.GENERAL_CONTRACTOR)
                for p in projects
            ]
            + [ProjectParty(project=p, organization=design, role=ProjectParty.Role.DESIGN) for p in projects],
            batch_size=5000,
        )
        common = {"owner_org": owner_org, "revision": 1, "submitted_at": now}
        reviews = DrawingReview.objects.bulk_create(
            [
                DrawingReview(
                    project=p,
                    censor_num=f"{p.prj_num}-TX-001",
                    censor_org=institution,
                    censor_date=date(2020, 3, 1),
                    state=State.APPROVED,
                    approved_at=now,
                    **{**common, "owner_org": design},
                )
                for p in projects
            ],
            batch_size=2000,
        )
        kinds = []  # (project index, state of permit, tender, completion; acknowledged?)
        for n in range(count):
            bucket = n % 20
            if owner_org is not builder or bucket < 8:
                kinds.append(("ack", "ack", "ack"))
                mix["verified"] += owner_org is builder
            elif bucket < 11:
                kinds.append(("ack", "ack", "approved"))
                mix["completion_approved"] += 1
            elif bucket < 14:
                kinds.append(("ack", "ack", State.IN_REVIEW))
                mix["completion_in_review"] += 1
            elif bucket < 16:
                kinds.append(("ack", State.RETURNED, None))
                mix["tender_returned"] += 1
            elif bucket < 18:
                kinds.append(("ack", None, None))
                mix["tender_missing"] += 1
            else:
                kinds.append((State.IN_REVIEW, None, None))
                mix["permit_in_review"] += 1

        def state_of(code):
            return State.APPROVED if code in ("ack", "approved") else code

        permits = ConstructionPermit.objects.bulk_create(
            [
                ConstructionPermit(
                    project=p,
                    permit_num=f"{p.prj_num}-SX-001",
                    issuing_org=bureau,
                    issuing_division_id="530302",
                    issue_date=date(2020, 5, 1),
                    contract_amount=Decimal("3000"),
                    contract_num=f"SG-{p.prj_num}",
                    state=state_of(kinds[n][0]),
                    approved_at=now,
                    **common,
                )
                for n, p in enumerate(projects)
            ],
            batch_size=2000,
        )
        ConstructionPermit.drawing_reviews.through.objects.bulk_create(
            [
                ConstructionPermit.drawing_reviews.through(constructionpermit_id=pm.pk, drawingreview_id=r.pk)
                for pm, r in zip(permits, reviews, strict=True)
            ],
            batch_size=5000,
        )
        tender_rows = [
            (
                n,
                TenderContract(
                    project=p,
                    scope=Scope.CONSTRUCTION,
                    tender_method=TenderMethod.OPEN,
                    tender_num=f"ZB-{p.prj_num}",
                    tender_date=date(2020, 2, 1),
                    tender_amount=Decimal("3000"),
                    contract_num=f"HT-{p.prj_num}",
                    record_num=f"{p.prj_num}-HT-001",
                    contract_type=ContractType.GENERAL,
                    contract_amount=Decimal("3000"),
                    contract_date=date(2020, 2, 20),
                    client_name="基准建设单位",
                    state=state_of(kinds[n][1]),
                    **common,
                ),
            )
            for n, p in enumerate(projects)
            if kinds[n][1]
        ]
        tenders = TenderContract.objects.bulk_create([t for _n, t in tender_rows], batch_size=2000)
        done_rows = [
            (
                n,
                Completion(
                    project=p,
                    permit=permits[n],
                    acceptance_date=date(2021, 6, 1),
                    actual_start=date(2020, 5, 10),
                    filing_num=f"BA-{p.prj_num}",
                    filing_date=date(2021, 6, 20),
                    actual_cost=Decimal("3100"),
                    actual_area=Decimal("8000"),
                    state=state_of(kinds[n][2]),
                    **common,
                ),
            )
            for n, p in enumerate(projects)
            if kinds[n][2]
        ]
        completions = Completion.objects.bulk_create([c for _n, c in done_rows], batch_size=2000)

        def delivered(key: str, project) -> Outbox:
            return Outbox(
                project=project,
                table="bench",
                record_key=key,
                version=1,
                idempotency_key=f"{key}:v1",
                payload={},
                status=Outbox.Status.DELIVERED,
                receipt_status="accepted",
                delivered_at=now,
            )

        rows = []
        for n, p in enumerate(projects):
            rows.append(delivered(f"drawing_review:{reviews[n].pk}", p))
            if kinds[n][0] == "ack":
                rows.append(delivered(f"permit:{permits[n].pk}", p))
        for (n, _t), saved in zip(tender_rows, tenders, strict=True):
            if kinds[n][1] == "ack":
                rows += [
                    delivered(f"tender:{saved.pk}", projects[n]),
                    delivered(f"contract:{saved.pk}", projects[n]),
                ]
        for (n, _c), saved in zip(done_rows, completions, strict=True):
            if kinds[n][2] == "ack":
                rows.append(delivered(f"completion:{saved.pk}", projects[n]))
        Outbox.objects.bulk_create(rows, batch_size=5000)
    from django.db import connection

    with connection.cursor() as c:
        c.execute("ANALYZE")
    return user, mix


def measure(user, repeat: int) -> list[tuple[str, float, float, int, int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunjian.core.signin import OTP_PENDING

    setup_test_environment()  # the test client then sees each response's template context
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_PENDING] = False
    session.save()
    page = reverse("projects:performance")
    first = client.get(page)
    assert first.status_code == 200, first.status_code
    deep = page
    response = first
    for _ in range(20):  # the 21st page, through the keyset cursors
        if not response.context["page"].next_cursor:
            break
        deep = f"{page}?{response.context['page'].next_query}"
        response = client.get(deep)
    targets = [
        ("首页（业绩数字）", reverse("core:home-role", args=["enterprise"])),
        ("业绩列表 第 1 页", page),
        ("业绩列表 第 21 页", deep),
        ("按卡住环节筛选（竣工验收）", f"{page}?step=completion"),
        ("仅已认定业绩", f"{page}?show=verified"),
        ("导出 .xlsx（全部已认定）", reverse("projects:performance-export")),
        ("打印页（全部已认定）", reverse("projects:performance-print")),
    ]
    results = []
    for label, url in targets:
        times, queries, size = [], 0, 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
            queries, size = len(captured), len(response.content)
        results.append((label, statistics.median(times), max(times), queries, size))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the rows for inspection")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the rows a previous run kept (--keep) instead of building",
    )
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DB)
    load = os.getloadavg()
    print(f"机器负载（1/5/15 分钟）：{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}，CPU {os.cpu_count()} 核")
    prepare(url)
    if args.reuse:
        from yunjian.core.models import User

        user = User.objects.get(username="bench_builder")
    else:
        clean()
        start = time.perf_counter()
        user, mix = build(args.projects)
        print(
            f"生成 {args.projects} 个本企业项目（另 {args.projects} 个其他企业项目）：{time.perf_counter() - start:.1f} 秒；构成 {mix}"
        )
    from sync.performance import performance_summary, refresh_verdicts

    # The stored verdicts (ProjectParty.missing …): the bulk build left every party stale; the
    # first read of the enterprise computes its own (what the periodic job otherwise does).
    start = time.perf_counter()
    refreshed = refresh_verdicts(org_id=user.organization_id)
    print(f"首次计算本企业 {refreshed} 条业绩认定结果：{time.perf_counter() - start:.2f} 秒")
    summary = performance_summary(user.organization_id)
    print(
        f"业绩数字：参与 {summary.total}，已认定 {summary.verified}，差一步 {summary.near}，卡住 {summary.blocked}"
    )
    print(f"{'请求':<24}{'中位数':>10}{'最慢':>10}{'查询数':>8}{'响应大小':>12}")
    for label, median, worst, queries, size in measure(user, args.repeat):
        print(f"{label:<24}{median * 1000:>8.0f}ms{worst * 1000:>8.0f}ms{queries:>8}{size:>12,}")
    if not args.keep:
        clean()


if __name__ == "__main__":
    main()
