"""After bench.scale.generate: do the app's own pages show the generated data as if the services had
written it? Signs each persona in (test client, real middleware, OTP as in production) and checks
that the inbox lists the open tasks of its jurisdiction, the record page of a pending record opens
with its decision form, the done list shows decided rows, the enterprise's workspace lists its
projects and the project page its records, and that a pending record can be approved through the
real service (review.services.record_decide) — which only succeeds on a row the services accept.

    .venv/bin/python -m bench.scale.check [--database-url postgres://…/yunjian_scale_bench]

Exits non-zero, saying what failed, when a check fails.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.scale.generate import DEFAULT_URL, PERSONAS, QILIN  # noqa: E402

CHECK_DEVICE = "bench-scale-check"


def client_for(username: str):
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yunjian.core.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    if user.otp_required_by_role:  # as the tests' sign-in does: a confirmed device, verified session
        # Removed again at the end (run_checks): a confirmed device makes the login form ask for the
        # second factor, and bench.scale.run signs the personas in with their password alone.
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name=CHECK_DEVICE, defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def run_checks() -> list[str]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    try:
        return _run_checks()
    finally:
        TOTPDevice.objects.filter(name=CHECK_DEVICE).delete()


def _run_checks() -> list[str]:
    from django.conf import settings

    from projects.access import load_record
    from projects.models import Project, State
    from review import services as rs
    from review.models import Task
    from yunjian.core.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            problems.append(what)

    county = client_for(PERSONAS["county"])
    task = (
        Task.objects.filter(status="open", performer="roster", division_code=QILIN)
        .order_by("submitted_at", "id")
        .first()
    )
    expect(task is not None, "an open task of a county reviewer in 麒麟区")
    if task is None:
        return problems
    page = county.get(f"/review/inbox/?kind={task.kind}")
    expect(
        page.status_code == 200 and task.prj_num in page.content.decode(),
        "county inbox lists its oldest task of that kind",
    )
    record = county.get(f"/review/records/{task.kind}/{task.record_id}/")
    body = record.content.decode()
    expect(
        record.status_code == 200 and task.title in body and "审核通过" in body,
        "record page opens with the decision form",
    )

    pref = client_for(PERSONAS["prefecture"])
    page = pref.get("/review/inbox/")
    qujing = (
        Task.objects.filter(status="open", performer="roster", division_code__startswith="5303")
        .order_by("submitted_at", "id")
        .first()
    )
    expect(
        page.status_code == 200 and qujing.prj_num in page.content.decode(),
        "prefecture inbox lists 曲靖's oldest task",
    )
    for username in (PERSONAS["division"], PERSONAS["institution"]):
        page = client_for(username).get("/review/inbox/")
        expect(
            page.status_code == 200 and "基准工程项目" in page.content.decode(),
            f"{username}'s inbox lists tasks",
        )
    done = county.get("/review/done/")
    expect(
        done.status_code == 200 and "基准工程项目" in done.content.decode(), "done list shows decided rows"
    )

    builder = client_for(PERSONAS["enterprise"])
    work = builder.get("/projects/")
    expect(
        work.status_code == 200 and "基准工程项目" in work.content.decode(),
        "workspace lists the enterprise's projects",
    )
    project = Project.objects.filter(permits__owner_org__users__username=PERSONAS["enterprise"]).first()
    page = builder.get(f"/projects/{project.pk}/")
    expect(page.status_code == 200 and project.prj_num in page.content.decode(), "project page opens")
    admin = client_for(PERSONAS["admin"])
    page = admin.get("/admin/review/task/")
    expect(
        page.status_code == 200 and "发证机关审核" in page.content.decode(), "admin changelist of inbox rows"
    )

    # The real service accepts the generated row: approve that oldest pending record.
    record = load_record(task.kind, task.record_id)
    actor = User.objects.get(username=PERSONAS["county"])
    try:
        rs.record_decide(
            actor=actor, kind=task.kind, record_id=record.pk, approve=True, lock_version=record.lock_version
        )
        record.refresh_from_db()
        expect(
            record.state == State.APPROVED and record.data_level == "C",
            "record_decide approves a generated record",
        )
    except Exception as exc:  # reported, not raised: the other checks' results are printed
        expect(False, f"record_decide approves a generated record ({exc!r})")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    from bench.scale.generate import prepare

    prepare(args.database_url, fresh=False)
    problems = run_checks()
    if problems:
        raise SystemExit(f"{len(problems)} check(s) failed")
    print("all checks passed")


if __name__ == "__main__":
    main()
