"""Background jobs of the data lifecycle: retention daily, maintenance on PRODUCT.md's calendar. Each
runs once per period however many workers run (procrastinate's periodic lock), at night (UTC)."""

from datetime import UTC, datetime

from supportdesk.jobs import QUEUE, app
from supportdesk.lifecycle import maintenance
from supportdesk.lifecycle.retention import apply_retention


@app.periodic(cron="30 2 * * *", periodic_id="apply-retention")
@app.task(name="apply_retention", queue=QUEUE)
async def apply_retention_job(timestamp: int) -> None:
    await apply_retention(datetime.now(UTC))


@app.periodic(cron="0 3 * * 0", periodic_id="weekly-vacuum-analyze")
@app.task(name="vacuum_analyze", queue=QUEUE)
async def vacuum_analyze(timestamp: int) -> None:
    await maintenance.run(maintenance.Task.VACUUM)


@app.periodic(cron="0 4 1 * *", periodic_id="monthly-reindex")
@app.task(name="reindex", queue=QUEUE)
async def reindex(timestamp: int) -> None:
    await maintenance.run(maintenance.Task.REINDEX)


@app.periodic(cron="0 5 1 1,4,7,10 *", periodic_id="quarterly-analyze")
@app.task(name="update_statistics", queue=QUEUE)
async def update_statistics(timestamp: int) -> None:
    await maintenance.run(maintenance.Task.ANALYZE)
