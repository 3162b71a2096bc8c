"""Run the job queue for real in a test: procrastinate's own worker, in this process, against the test
database, until no job is due (wait=False). The jobs must be committed first, so the tests that use it
are transactional (`transactional_db`)."""

from __future__ import annotations

import threading

from django.db import connection
from procrastinate.contrib.django import app


def run_jobs(*queues: str) -> None:
    """Run every due job (of `queues`, or all) to completion, retries that are due at once included."""
    worker_app = app.with_connector(app.connector.get_worker_connector())
    options = {"wait": False, "install_signal_handlers": False, "listen_notify": False}
    if queues:
        options["queues"] = list(queues)
    # In a thread of its own: the worker calls asyncio.run(), which refuses to start inside a running
    # event loop — and Playwright's sync API leaves one running in the main thread after the browser
    # tests of the same session.
    failure: list[BaseException] = []

    def work() -> None:
        try:
            worker_app.run_worker(**options)
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=work, name="procrastinate-worker")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def jobs(task_name: str | None = None) -> list[dict]:
    """The queue's rows (procrastinate_jobs), oldest first."""
    sql = "SELECT id, task_name, status, attempts, args, scheduled_at FROM procrastinate_jobs"
    params: list = []
    if task_name:
        sql += " WHERE task_name = %s"
        params.append(task_name)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY id", params)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def clear_queue() -> None:
    """procrastinate's tables are not Django-managed, so a transactional test's flush leaves them: empty
    them before a test that counts jobs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, "
            "procrastinate_workers CASCADE"
        )
