"""Background jobs of the data lifecycle: a backup and retention daily, maintenance on PRODUCT.md's
calendar. Each runs once per period however many workers run (procrastinate's periodic lock), at night
(UTC). And a history's first full backup, asked for as a server or worker starts."""

from datetime import UTC, datetime

from anyio import to_thread

from supportdesk import db, jobs
from supportdesk.config import get_settings
from supportdesk.jobs import QUEUE, app
from supportdesk.lifecycle import backup, maintenance
from supportdesk.lifecycle.postgres import embedded_server_uri
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


# One full backup at a time (two would each copy the whole database for nothing): the daily one waits for
# a history's first, and two servers starting at once, or a restart, leave one first backup to take.
FULL_BACKUP_LOCK = "full-backup"


@app.periodic(cron="0 1 * * *", periodic_id="daily-backup")
@app.task(name="take_backup", queue=QUEUE, lock=FULL_BACKUP_LOCK)
async def take_backup(timestamp: int) -> None:
    if _backing_up_here():
        await to_thread.run_sync(backup.take, datetime.now(UTC))


# With a queueing lock, so not retried (a retry would wait beside the next start's, which procrastinate
# refuses): a backup that fails is taken at the next start, or the next night.
@app.task(name="take_first_backup", queue=QUEUE, lock=FULL_BACKUP_LOCK, queueing_lock="take_first_backup")
async def take_first_backup() -> None:
    if _backing_up_here():
        await to_thread.run_sync(backup.take_first, datetime.now(UTC))


async def defer_first_backup() -> None:
    """As a server or worker starts: a full backup in the background, unless the archive has one of the
    current history. A new install, or a restore that could not take its own, would otherwise have WAL
    archived and nothing to replay it onto until the night; it must not hold up the start."""
    if _backing_up_here():
        async with db.system_session() as session:
            await jobs.defer(session, take_first_backup)


def _backing_up_here() -> bool:
    # Only where the embedded server runs: a server given by DATABASE_URL has its own operator's backups.
    return get_settings().backups and embedded_server_uri() is not None


@app.periodic(cron="* * * * *", periodic_id="seal-archived-wal")
@app.task(name="seal_archived_wal", queue=QUEUE)
async def seal_archived_wal(timestamp: int) -> None:
    if _backing_up_here():
        await to_thread.run_sync(backup.seal)
