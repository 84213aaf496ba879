"""A job worker in a process of its own, for the test that kills it in the middle of a job.

`python -m tests.doomed_worker` runs a worker on the "doomed" queue that beats its heart often; in
that process the job below never finishes. Anywhere else (the test's own worker) it does."""

import asyncio
import os

from supportdesk import jobs

DOOMED = "SUPPORTDESK_TEST_DOOMED_WORKER"
finished: list[str] = []


@jobs.app.task(name="tests.finish_unless_doomed", queue="doomed")
async def finish_unless_doomed(marker: str) -> None:
    if os.environ.get(DOOMED):
        await asyncio.sleep(3600)  # killed long before this ends
    finished.append(marker)


async def _work() -> None:
    async with jobs.app.open_async():
        await jobs.app.run_worker_async(
            queues=["doomed"], concurrency=1, install_signal_handlers=False, update_heartbeat_interval=0.2
        )


if __name__ == "__main__":
    asyncio.run(_work())
