"""The boards' jobs (procrastinate; docs/architecture.md: 进度看板). Cron lines are UTC."""

from __future__ import annotations

from procrastinate.contrib.django import app

from boards import aggregates


@app.periodic(cron="*/5 * * * *", periodic_id="boards-tasks")
@app.task(queue="boards", name="boards.refresh_tasks")
def refresh_tasks(timestamp: int) -> None:
    """Every five minutes: overdue, backlog age and 无人审核 from the open review steps."""
    aggregates.refresh_tasks()


@app.periodic(cron="7 * * * *", periodic_id="boards-slow")
@app.task(queue="boards", name="boards.refresh_slow")
def refresh_slow(timestamp: int) -> None:
    """Every hour: throughput, acknowledged by the platform, enterprises by progress."""
    aggregates.refresh_slow()


# 23:50 Beijing (15:50 UTC): the day's history, after fresh figures.
@app.periodic(cron="50 15 * * *", periodic_id="boards-snapshot")
@app.task(queue="boards", name="boards.daily_snapshot")
def daily_snapshot(timestamp: int) -> None:
    aggregates.refresh_tasks()
    aggregates.refresh_slow()
    aggregates.take_snapshot()
