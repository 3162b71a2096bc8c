"""Real worker processes: one SIGKILLed in the middle of a batch and restarted, and several at once.

Every record must reach the receiver exactly once (its idempotency key applied once) and end
delivered here. Transactional tests: the subprocesses see only committed rows.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sync.models import Outbox
from sync.worker import Worker
from tests import factories as f
from tests.sync.conftest import SYNC_SECRET, project_rows, worker_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"等待超时：{what}")
        time.sleep(0.05)


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "sync_worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_exactly_once(receiver) -> None:
    rows = list(Outbox.objects.values_list("idempotency_key", "status"))
    assert {status for _, status in rows} == {Outbox.Status.DELIVERED}
    assert [receiver.store.applied_count(key) for key, _ in rows] == [1] * len(rows)
    assert receiver.stats()["max_applied_per_key"] == 1
    assert len(receiver.store.records()) == len(rows)


@pytest.fixture
def many_rows(world):
    project = f.make_project("530302", owner=world["owner"])
    return project_rows(project, 40)


def test_a_worker_killed_mid_batch_then_restarted_delivers_every_record_once(receiver, many_rows):
    # The receiver applies the first batch, then holds its answer: the worker is killed while
    # waiting for it, so the platform has the records and yunjian does not know.
    receiver.configure(mode="slow", slow_seconds=30)
    env = worker_env(receiver)
    worker = start_worker(env)
    try:
        wait_for(lambda: receiver.stats()["batches_processed"] >= 1, what="第一批被接收端处理")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL
    in_flight = list(Outbox.objects.filter(status=Outbox.Status.SENDING))
    assert len(in_flight) == 10
    assert all(receiver.store.applied_count(r.idempotency_key) == 1 for r in in_flight)

    receiver.configure(mode="ok")
    # The dead worker's lease runs out; a new worker sends its rows again with everything else.
    lease_end = max(r.leased_until for r in in_flight)
    wait_for(lambda: timezone.now() > lease_end, timeout=15, what="租约到期")
    restarted = subprocess.run(
        [sys.executable, "manage.py", "sync_worker", "--once"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restarted.returncode == 0, restarted.stderr
    assert "本次推送 40 条：已同步 40" in restarted.stdout
    assert_exactly_once(receiver)
    resent = Outbox.objects.filter(pk__in=[r.pk for r in in_flight])
    assert set(resent.values_list("receipt_status", "attempts")) == {("duplicate", 2)}


def test_two_worker_processes_at_once_never_send_a_record_twice(receiver, world):
    project = f.make_project("530302", owner=world["owner"])
    project_rows(project, 200)
    receiver.configure(mode="slow", slow_seconds=0.1)  # interleave the two workers' batches
    env = worker_env(receiver)
    workers = [start_worker(env, "--once") for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    sent = [int(out.split("本次推送 ")[1].split(" 条")[0]) for out, _ in outputs]
    assert sum(sent) == 200
    assert all(n > 0 for n in sent), sent  # both took part
    assert_exactly_once(receiver)
    assert receiver.stats()["by_status"]["duplicate"] == 0  # nobody sent anything twice


def test_four_worker_threads_with_their_own_connections(receiver, world, settings):
    settings.SYNC_ENDPOINT = receiver.base_url
    settings.SYNC_SECRET = SYNC_SECRET
    project = f.make_project("530302", owner=world["owner"])
    project_rows(project, 120)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            Worker(batch_size=7).run_until_idle()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert_exactly_once(receiver)
    assert receiver.stats()["by_status"]["duplicate"] == 0
