"""A job worker through a database outage, in a process of its own with a PostgreSQL of its own (it
stops it): `python -m tests.worker_outage` says so when a job deferred after the outage ran."""

import asyncio
import logging

from sqlalchemy import text

from supportdesk import embedded, pgserver_package

DATA_DIR = embedded.use_temporary_data_dir("supportdesk-outage-")

from supportdesk import db, jobs  # noqa: E402  (after the data directory is chosen)

ran = asyncio.Event()


@jobs.app.task(name="tests.after_the_outage")
async def after_the_outage() -> None:
    ran.set()


async def _workers_started() -> int:
    async with db.system_session() as session:
        return await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))


async def _outage() -> None:
    jobs.WORKER_RESTART_FIRST = 0.2
    db.migrate()
    pgserver = pgserver_package.imported_for(DATA_DIR)
    async with jobs.app.open_async():
        worker = asyncio.create_task(jobs.keep_working(concurrency=1, name="outage"))
        try:
            while await _workers_started() < len(jobs.QUEUES):
                await asyncio.sleep(0.1)
            server = pgserver.get_server(str(DATA_DIR), cleanup_mode="stop")
            pgserver.pg_ctl(["-w", "stop", "-m", "fast"], pgdata=DATA_DIR, user=server.system_user)
            await asyncio.sleep(3)  # the workers' listeners have lost the database
            server.ensure_postgres_running()
            await db.dispose()  # the requests' pool lost its connections too
            async with db.system_session() as session:
                await jobs.defer(session, after_the_outage)
            await asyncio.wait_for(ran.wait(), timeout=60)
            print("the job deferred after the outage ran", flush=True)
        finally:  # stopped before the app closes, so that this process ends (and stops its server)
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
    await db.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_outage())
