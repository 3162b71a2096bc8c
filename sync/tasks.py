"""The sync layer's jobs (procrastinate; docs/architecture.md: 业绩). Cron lines are UTC."""

from __future__ import annotations

from procrastinate.contrib.django import app

from sync.performance import refresh_verdicts

# A batch of stale 业绩 verdicts per run; the job loops until none is left or the run has done
# MAX_BATCHES (a bulk load marking 100,000 rows stale is caught up over a few runs).
BATCH = 2000
MAX_BATCHES = 25


@app.periodic(cron="* * * * *", periodic_id="performance-verdicts")
@app.task(queue="performance", name="sync.refresh_performance_verdicts")
def refresh_performance_verdicts(timestamp: int) -> int:
    """Every minute: recompute the stored 业绩 verdicts the triggers marked stale, so the public
    verified-performance pages (which refresh only what is still stale) mostly find them fresh."""
    return refresh_all(batch=BATCH, max_batches=MAX_BATCHES)


def refresh_all(*, batch: int = BATCH, max_batches: int | None = None) -> int:
    done = 0
    runs = 0
    while max_batches is None or runs < max_batches:
        runs += 1
        stored = refresh_verdicts(limit=batch)
        done += stored
        if stored == 0:
            break
    return done
