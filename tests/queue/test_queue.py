"""The job queue (procrastinate) run for real: deferred in the caller's transaction, retried, purged."""

from __future__ import annotations

import pytest
from django.db import transaction
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from tests.jobs import clear_queue, jobs, run_jobs

pytestmark = pytest.mark.django_db(transaction=True)

CALLS: list[tuple[str, int]] = []


@app.task(name="tests.note_call", queue="tests")
def note_call(word: str, number: int) -> None:
    CALLS.append((word, number))


@app.task(name="tests.flaky", queue="tests", retry=RetryStrategy(max_attempts=3, wait=0))
def flaky(times_to_fail: int) -> None:
    CALLS.append(("flaky", times_to_fail))
    if sum(1 for word, _ in CALLS if word == "flaky") <= times_to_fail:
        raise RuntimeError("服务暂不可用")


@pytest.fixture(autouse=True)
def _calls():
    clear_queue()
    CALLS.clear()
    yield
    CALLS.clear()


def test_a_job_deferred_in_a_rolled_back_transaction_never_exists():
    seen_inside: list[str] = []

    def change_that_fails():
        with transaction.atomic():
            note_call.defer(word="撤回", number=1)
            seen_inside.extend(j["task_name"] for j in jobs())
            raise RuntimeError("the change that caused it fails")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert seen_inside == ["tests.note_call"]  # it was there, inside the transaction
    assert jobs() == []
    run_jobs("tests")
    assert CALLS == []


def test_a_job_deferred_in_a_committed_transaction_runs_once_on_the_worker():
    with transaction.atomic():
        note_call.defer(word="通过", number=7)
    [job] = jobs()
    assert job["status"] == "todo"
    run_jobs("tests")
    assert CALLS == [("通过", 7)]
    assert jobs()[0]["status"] == "succeeded"
    run_jobs("tests")  # nothing left to do
    assert CALLS == [("通过", 7)]


def test_a_failing_job_is_retried_until_it_succeeds():
    flaky.defer(times_to_fail=2)
    run_jobs("tests")
    [job] = jobs("tests.flaky")
    assert (job["status"], job["attempts"]) == ("succeeded", 3)


def test_a_job_that_keeps_failing_ends_failed_after_its_attempts():
    flaky.defer(times_to_fail=5)
    run_jobs("tests")
    [job] = jobs("tests.flaky")
    # max_attempts=3 is three retries after the first try.
    assert (job["status"], job["attempts"]) == ("failed", 4)
    assert len(CALLS) == 4


def test_the_nightly_purge_is_periodic_and_forgets_succeeded_jobs_but_keeps_failed_ones(settings):
    [periodic] = [
        task
        for task in app.periodic_registry.periodic_tasks.values()
        if task.task.name == "core.purge_finished_jobs"
    ]
    assert periodic.cron == "30 19 * * *"
    note_call.defer(word="旧", number=1)
    flaky.defer(times_to_fail=5)
    run_jobs("tests")
    settings.JOB_RETENTION_DAYS = 0
    app.tasks["core.purge_finished_jobs"].defer(timestamp=0)
    run_jobs("housekeeping")
    left = {(j["task_name"], j["status"]) for j in jobs()}
    assert ("tests.note_call", "succeeded") not in left
    assert ("tests.flaky", "failed") in left
