"""A load killed half-way (SIGKILL) leaves a visible, resumable load, never half a file applied
silently: every committed batch is whole, and running the same command again finishes it once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from loads.models import LoadedRecord, LoadFile, LoadJob
from projects.models import Project
from tests.loads import exports as x

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
BATCH = 200

pytestmark = pytest.mark.django_db(transaction=True)


def env() -> dict[str, str]:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = {k: v for k, v in os.environ.items() if k not in drop}
    result.update(
        {"DEBUG": "true", "DATABASE_URL": url, "LOAD_BATCH_SIZE": str(BATCH), "LOAD_LEASE_SECONDS": "2"}
    )
    return result


def command(path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "load_records", str(path)],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_load_is_resumed_by_running_the_command_again(tmp_path, world):
    rows = [
        [
            f"530302{20 + n // 9000:02d}{1 + n // 300 % 12:02d}{1 + n % 28:02d}{n % 10000:04d}",
            f"项目{n}",
            "01",
            "",
            "",
            "530302",
            "100",
            "2020-01-01",
        ]
        for n in range(ROWS)
    ]
    assert len({r[0] for r in rows}) == ROWS
    path = x.write(tmp_path / "projects.csv", x.PROJECT_HEADER, rows)
    process = command(path)
    try:
        deadline = time.monotonic() + 120
        while True:
            job = LoadJob.objects.filter(status=LoadJob.Status.APPLYING, done_rows__gte=BATCH * 3).first()
            if job is not None:
                break
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "导入未开始"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    job.refresh_from_db()
    load_file = LoadFile.objects.get(job=job)
    loaded = Project.objects.count()
    # Stopped half-way, and it shows: the job is still "applying", at a whole batch.
    assert job.status == LoadJob.Status.APPLYING
    assert 0 < loaded < ROWS
    assert loaded % BATCH == 0
    assert loaded == LoadedRecord.objects.count() == job.done_rows
    assert load_file.next_row == loaded + 1  # the header is row 1
    time.sleep(2.5)  # its lease expires
    again = subprocess.run(
        [sys.executable, "manage.py", "load_records", str(path)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "继续此前中断的导入" in again.stderr
    job.refresh_from_db()
    assert job.status == LoadJob.Status.DONE
    assert Project.objects.count() == ROWS == LoadedRecord.objects.count()
    assert job.apply_counts["new"] == ROWS
