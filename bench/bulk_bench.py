"""Bulk entry benchmark (issue 14): a 5,000-row workbook of tenders and contracts, and one of
completions, checked (the preview) and applied as drafts by one general contractor.

    .venv/bin/python bench/bulk_bench.py [--rows 5000]

On a scratch database, by default postgres://postgres@127.0.0.1:5432/yunjian_bulk_bench (set
BENCH_DATABASE_URL to another whose name contains "bench"; it is created if missing and migrated,
and the records an earlier run made in it are deleted first): one general contractor, `rows` projects open
for entry on the platform (permit approved and acknowledged), each with the contractor's approved
permit. The workbooks are the downloaded templates (bulk.sheets.template_workbook) filled with one
row per project, saved as .xlsx by openpyxl.

Reported, per kind: preview (read the file with the one spreadsheet reader, check every row through
the entry form and the rules, keep the upload: bulk.services.upload_check), the same file's preview
again after applying (every row "will update your draft"), apply (bulk.services.apply_upload: the number
locks, every row checked again, the drafts written in bulk with one audit entry each) and the re-apply of that second upload,
with the machine's load average (the machine may be shared). Targets: preview under 3 s, apply
under 10 s, on 2 cores.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_BENCH_DB = "postgres://postgres@127.0.0.1:5432/yunjian_bulk_bench"
PREVIEW_TARGET = 3.0
APPLY_TARGET = 10.0
CODE_PREFIX = "91530302BB"  # the bench's organisations


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


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE bulk_bulkupload, projects_completion, projects_tendercontract, "
            "projects_constructionpermit_drawing_reviews, projects_constructionpermit, "
            "projects_projectparty, projects_round, projects_project CASCADE"
        )


def world(rows: int):
    """One general contractor and `rows` projects open on the platform, each with its approved permit."""
    from django.utils import timezone

    from projects.models import ConstructionPermit, Origin, Project, ProjectParty, State
    from yunjian.core.models import Organization, Role, User
    from yunjian.core.validators import complete_credit_code

    def org(n: int, name: str, kind: str) -> Organization:
        code = complete_credit_code(f"{CODE_PREFIX}{n:06d}")
        made = Organization.objects.filter(credit_code=code).first()
        if made is None:  # kept between runs: the audit log (append-only) names them
            made = Organization(credit_code=code, name=name, kinds=f"|{kind}|", division_id="530302")
            made.save()
        return made

    builder = org(1, "批量录入测试施工总包公司", Organization.Kind.GENERAL_CONTRACTOR)
    bureau = org(2, "批量录入测试麒麟区住房和城乡建设局", Organization.Kind.HOUSING_BUREAU)
    owner = org(3, "批量录入测试建设单位", Organization.Kind.OWNER)
    user = User.objects.filter(username="bulk_bench").first()
    if user is None:
        user = User(username="bulk_bench", organization=builder, roles=User.encode_roles([Role.ENTERPRISE]))
        user.set_unusable_password()
        user.save()
    now = timezone.now()
    projects = Project.objects.bulk_create(
        Project(
            prj_num=f"530302200101{n:04d}",
            name=f"批量录入测试项目{n}",
            county_id="530302",
            owner_org=owner,
            origin=Origin.PMS,
            permit_approved_at=now,
            platform_synced_at=now,
        )
        for n in range(rows)
    )
    ProjectParty.objects.bulk_create(
        ProjectParty(project=p, organization=builder, role=ProjectParty.Role.GENERAL_CONTRACTOR)
        for p in projects
    )
    ConstructionPermit.objects.bulk_create(
        ConstructionPermit(
            project=p,
            owner_org=builder,
            state=State.APPROVED,
            permit_num=f"{p.prj_num}-SX-001",
            issuing_org=bureau,
            issuing_division_id="530302",
            issue_date=date(2020, 5, 1),
            contract_amount=Decimal("1000"),
        )
        for p in projects
    )
    return user, bureau, projects


def workbook(kind: str, user, rows: list[dict]) -> bytes:
    from openpyxl import load_workbook

    from bulk import sheets

    template = load_workbook(io.BytesIO(sheets.template_workbook(kind, user.organization)))
    sheet = template[sheets.DATA_SHEET]
    order = [c.name for c in sheets.columns(kind, user.organization)]
    for row in rows:
        sheet.append([row.get(name, "") for name in order])
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def tender_rows(projects) -> list[dict]:
    from yunjian.core.validators import complete_credit_code, complete_id_number

    agency, leader = complete_credit_code("9153030221660001"), complete_id_number("53030219820202001")
    return [
        {
            "prj_num": p.prj_num,
            "scope": "施工总包",
            "tender_method": "公开招标",
            "tender_num": f"ZB-{p.prj_num}",
            "tender_date": date(2020, 2, 1),
            "tender_amount": 1000,
            "area": 12000,
            "agency_name": "某招标代理公司",
            "agency_code": agency,
            "project_leader": "王负责人",
            "leader_id": leader,
            "contract_num": f"HT-{p.prj_num}",
            "contract_type": "施工总包",
            "contract_amount": 1000,
            "contract_date": date(2020, 2, 20),
            "client_name": "批量录入测试建设单位",
        }
        for p in projects
    ]


def completion_rows(projects, bureau) -> list[dict]:
    return [
        {
            "prj_num": p.prj_num,
            "permit": f"{p.prj_num}-SX-001",
            "actual_start": date(2020, 5, 10),
            "acceptance_date": date(2021, 6, 1),
            "actual_cost": 1050,
            "actual_area": 12000,
            "structure_type": "框架结构",
            "filing_num": f"BA-{p.prj_num}",
            "filing_date": date(2021, 6, 20),
            "filing_org": bureau.name,
        }
        for p in projects
    ]


def backend_cpu() -> float:
    """CPU seconds so far of this connection's PostgreSQL backend (same machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(action):
    """Wall seconds, then the CPU seconds of this process (with its forked row checkers) and of its
    database backend: on a shared machine the wall time grows with the others' load, CPU time much less."""
    db, cpu, start = backend_cpu(), _cpu(), time.perf_counter()
    result = action()
    wall = time.perf_counter() - start
    return wall, _cpu() - cpu, backend_cpu() - db, result


def _cpu() -> float:
    """This process's CPU seconds and its finished children's (the forked row checkers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    setup_django()
    from bulk import services

    reset()
    user, bureau, projects = world(args.rows)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    ok = True
    for kind, rows in (
        ("tender_contract", tender_rows(projects)),
        ("completion", completion_rows(projects, bureau)),
    ):
        content = workbook(kind, user, rows)
        print(f"\n{kind}: {len(rows)} rows, {len(content) // 1024} KB .xlsx")
        seconds, cpu, db, upload = timed(
            lambda c=content, k=kind: services.upload_check(
                actor=user, kind=k, content=c, filename="bench.xlsx"
            )
        )
        counts = upload.counts()
        print(
            f"  preview (read + check + keep):     {seconds:6.2f} s (cpu {cpu:5.2f} + db {db:5.2f})  {counts}  target < {PREVIEW_TARGET} s"
        )
        ok &= seconds < PREVIEW_TARGET and counts.get("create") == len(rows)
        seconds, cpu, db, applied = timed(lambda u=upload: services.apply_upload(actor=user, upload_id=u.pk))
        print(
            f"  apply (drafts, bulk writes):       {seconds:6.2f} s (cpu {cpu:5.2f} + db {db:5.2f})  {applied.counts()}  target < {APPLY_TARGET} s"
        )
        ok &= seconds < APPLY_TARGET
        seconds, cpu, db, again = timed(
            lambda c=content, k=kind: services.upload_check(
                actor=user, kind=k, content=c, filename="bench.xlsx"
            )
        )
        print(
            f"  same file again, preview:          {seconds:6.2f} s (cpu {cpu:5.2f} + db {db:5.2f})  {again.counts()}"
        )
        ok &= again.counts().get("update") == len(rows)
        seconds, cpu, db, applied = timed(lambda u=again: services.apply_upload(actor=user, upload_id=u.pk))
        print(
            f"  same file again, apply:            {seconds:6.2f} s (cpu {cpu:5.2f} + db {db:5.2f})  {applied.counts()}"
        )
    print("\nall targets met" if ok else "\nTARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
