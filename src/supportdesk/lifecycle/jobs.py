"""Background jobs of the data lifecycle: a backup and retention daily, maintenance on PRODUCT.md's
calendar. Each runs once per period however many workers run (procrastinate's periodic lock), at night
(UTC)."""

from datetime import UTC, datetime

from anyio import to_thread

from supportdesk.config import get_settings
from supportdesk.jobs import QUEUE, app
from supportdesk.lifecycle import backup, maintenance
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


@app.periodic(cron="0 1 * * *", periodic_id="daily-backup")
@app.task(name="take_backup", queue=QUEUE)
async def take_backup(timestamp: int) -> None:
    # Only where the embedded server runs: a server given by DATABASE_URL has its own operator's backups.
    if get_settings().backups and backup.embedded_server_uri() is not None:
        await to_thread.run_sync(backup.take, datetime.now(UTC))


@app.periodic(cron="* * * * *", periodic_id="seal-archived-wal")
@app.task(name="seal_archived_wal", queue=QUEUE)
async def seal_archived_wal(timestamp: int) -> None:
    if get_settings().backups and backup.embedded_server_uri() is not None:
        await to_thread.run_sync(backup.seal)
