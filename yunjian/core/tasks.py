"""The core's jobs on the queue (procrastinate; docs/architecture.md: 作业队列).

Periodic schedules are cron lines in UTC (procrastinate reads them so): 03:30 Beijing is 19:30 UTC.
"""

from __future__ import annotations

from django.conf import settings
from procrastinate import builtin_tasks
from procrastinate.contrib.django import app


@app.periodic(cron="30 19 * * *", periodic_id="daily")
@app.task(queue="housekeeping", pass_context=True, name="core.purge_finished_jobs")
async def purge_finished_jobs(context, timestamp: int) -> None:
    """Every night: forget the jobs that succeeded more than JOB_RETENTION_DAYS ago. Failed jobs are
    kept: they are the administrator's list of what could not be done."""
    await builtin_tasks.remove_old_jobs(context, max_hours=settings.JOB_RETENTION_DAYS * 24)
