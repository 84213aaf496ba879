"""Durable background jobs on PostgreSQL, with procrastinate.

Jobs live in the same database as everything else: no broker to run, they survive restarts, and a
job that a change causes is deferred inside that change's own transaction (`defer`), so the two
commit together or not at all. Domains declare their tasks on `app` in their own `jobs.py`, listed
in TASK_MODULES. Workers are `supportdesk worker` processes, plus one inside `supportdesk serve`.

Tasks must be idempotent: a job can run twice (a worker killed after the work but before recording
it), and running it again must change nothing more.
"""

import asyncio
import contextlib
import contextvars
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import datetime
from typing import Any, TypeVar

import procrastinate
from procrastinate import App, PsycopgConnector, RetryStrategy
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db
from supportdesk.db import database_url

log = logging.getLogger(__name__)
T = TypeVar("T")

TASK_MODULES = [
    "supportdesk.jobs",
    "supportdesk.auth.jobs",
    "supportdesk.sla.jobs",
    "supportdesk.webhooks.jobs",
    "supportdesk.automations.jobs",
    "supportdesk.knowledge.jobs",
    "supportdesk.ai.jobs",
    "supportdesk.lifecycle.jobs",
]
QUEUE = "default"
# Webhook deliveries wait on other people's servers (up to 10 s each), so they have a queue and worker
# slots of their own: a backlog of them never holds back the SLA scan, triage or answers.
DELIVERY_QUEUE = "deliveries"
# The clocks (the breach scan every minute, the automations, the counters' self-check, the recovery of
# stalled jobs) have theirs too: an organization's first triage model (20,000 past tickets: minutes of
# CPU), with the triage jobs of other organizations waiting for it, took every slot of the default queue,
# and no breach was recorded for ten minutes.
CLOCK_QUEUE = "clocks"
# Retries wait 2, 4, 8 … seconds (capped at ten minutes) for about a day before giving up.
RETRY = RetryStrategy(max_attempts=20, exponential_wait=2, wait=0)
# A worker that has not beaten its heart for this long is presumed dead; its jobs are retried.
STALLED_AFTER_SECONDS = 60
# Jobs deferred `in_background()` come after every other job: the demo's history (300 tickets' triage
# at the first start) must not hold back a ticket posted meanwhile.
BACKGROUND_PRIORITY = -1_000_000
_in_background = contextvars.ContextVar("in_background", default=False)
# Procrastinate's unique index of the jobs waiting to start, by queueing lock.
QUEUEING_LOCK_INDEX = "procrastinate_jobs_queueing_lock_idx_v1"


# What the job queue's connections call themselves (pg_stat_activity.application_name).
APPLICATION_NAME = "supportdesk-jobs"
# A worker that stopped on an error (procrastinate stops one whose listener lost the database) starts
# again after this many seconds, doubled after each failure in a row, at most WORKER_RESTART_MAX.
WORKER_RESTART_FIRST, WORKER_RESTART_MAX = 1.0, 30.0


def _pool(**options: Any) -> AsyncConnectionPool:
    # Called when the app opens, so the database (perhaps the embedded one) starts only then.
    return AsyncConnectionPool(
        conninfo=database_url(), kwargs={"application_name": APPLICATION_NAME}, **options
    )


app = App(
    connector=PsycopgConnector(pool_factory=_pool, min_size=1, max_size=8),
    import_paths=TASK_MODULES,
)


@contextlib.contextmanager
def in_background() -> Iterator[None]:
    """Jobs deferred inside this block come after all others (priority lowered by BACKGROUND_PRIORITY)."""
    token = _in_background.set(True)
    try:
        yield
    finally:
        _in_background.reset(token)


# Transactions deferring a job of one queueing lock at once: the first goes on, the others need not
# enqueue theirs. Had they gone on too, each would wait for the first's uncommitted row in the queueing
# lock's unique index, holding the ticket rows it had locked: two PATCHes (a category set on one ticket,
# a status change on another, which then locked the most urgent waiting ticket: the first's) deadlocked.
_FIRST_TO_DEFER = text("SELECT pg_try_advisory_xact_lock(hashtextextended('deferring ' || :lock, 0))")


async def defer(
    session: AsyncSession,
    task: procrastinate.tasks.Task,
    *,
    run_at: datetime | None = None,
    priority: int = 0,
    queueing_lock: str | None = None,
    **args: Any,
) -> None:
    """Enqueue `task(**args)` in the session's transaction: it exists only if the transaction commits.
    A worker takes the highest `priority` first, then the oldest. With a `queueing_lock` (by default the
    task's), nothing is enqueued while a job of the same lock waits to start, or while another transaction
    enqueues one: it stands for this one.
    (Should it start before this transaction commits, it misses this change: a task deferred so must be
    one whose result its users check and bring up to date themselves, as the model trainings are.) The
    task's `lock`, if it has one, keeps its jobs from running at once, as procrastinate's own defer does."""
    queueing_lock = queueing_lock or task.queueing_lock
    statement = text(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock, :queueing_lock,"
        " CAST(:args AS jsonb), :run_at)::procrastinate_job_to_defer_v1])"
        # one of the lock waiting: nothing to do (and no refused insert in the database's log)
        " WHERE CAST(:queueing_lock AS text) IS NULL OR NOT EXISTS (SELECT 1 FROM procrastinate_jobs"
        " WHERE queueing_lock = CAST(:queueing_lock AS text) AND status = 'todo')"
    )
    values = {
        "queue": task.queue or QUEUE,
        "task": task.name,
        "priority": priority + (BACKGROUND_PRIORITY if _in_background.get() else 0),
        "lock": task.lock,
        "queueing_lock": queueing_lock,
        "args": json.dumps(args),
        "run_at": run_at,
    }
    if queueing_lock is None:
        await session.execute(statement, values)
        return
    if not await session.scalar(_FIRST_TO_DEFER, {"lock": queueing_lock}):
        return  # another transaction is deferring this lock's job now: it stands for this one
    try:
        async with session.begin_nested():  # a savepoint: a racing duplicate must not abort the transaction
            await session.execute(statement, values)
    except IntegrityError as error:
        if QUEUEING_LOCK_INDEX not in str(error.orig):
            raise


async def retry_jobs_of_dead_workers(job_app: App, silent_for: float = STALLED_AFTER_SECONDS) -> int:
    """Give the jobs of workers that died (killed, machine lost) to the living; returns how many."""
    stalled = list(await job_app.job_manager.get_stalled_jobs(seconds_since_heartbeat=silent_for))
    for job in stalled:
        log.warning("retrying job %s (%s) of a worker that stopped beating", job.id, job.task_name)
        try:
            await job_app.job_manager.retry_job(job)
        except procrastinate.exceptions.UniqueViolation:  # one of its queueing lock waits: it stands for it
            await job_app.job_manager.finish_job(
                job, status=procrastinate.jobs.Status.FAILED, delete_job=False
            )
    return len(stalled)


@app.periodic(cron="* * * * *", periodic_id="retry-stalled-jobs")
@app.task(name="retry_stalled_jobs", queue=CLOCK_QUEUE, pass_context=True)
async def retry_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    await retry_jobs_of_dead_workers(context.app)


QUEUES = (QUEUE, DELIVERY_QUEUE, CLOCK_QUEUE)


def _worker(queue: str, *, wait: bool, concurrency: int, name: str | None) -> Coroutine[Any, Any, None]:
    return app.run_worker_async(
        queues=[queue],
        concurrency=concurrency,
        wait=wait,
        install_signal_handlers=False,
        name=name and f"{name}-{queue}",
        delete_jobs="successful",
    )


async def run_worker(*, wait: bool = True, concurrency: int = 4, name: str | None = None) -> None:
    """Run workers on an open app until cancelled (or, with wait=False, until their queues are empty):
    `concurrency` jobs at once of each queue (the default one, webhook deliveries, the clocks)."""
    async with asyncio.TaskGroup() as workers:  # one failing or cancelled stops the others
        for queue in QUEUES:
            workers.create_task(_worker(queue, wait=wait, concurrency=concurrency, name=name))


async def keep_working(*, concurrency: int = 4, name: str | None = None) -> None:
    """The workers of `run_worker` until cancelled, each started again whenever it stops: a database that
    went away for a while (a restart, a failover) must not leave the jobs (SLA breaches, triage,
    webhooks) undone until someone restarts the process. Each restarts on its own: a worker that was
    starting when the database went away waits for it and goes on, and must not hold the others."""
    workers = [
        asyncio.create_task(_keep_working_on(queue, concurrency=concurrency, name=name)) for queue in QUEUES
    ]
    try:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for worker in done:
            worker.result()  # one restarts on any error: one that ended is a bug, raised here
    finally:
        STOPPING.set()
        try:
            await _cancel_until_done(workers)
        finally:
            STOPPING.clear()


# Set while the workers of `keep_working` stop: work of minutes in a thread, which no cancellation reaches,
# checks it between steps and gives up (`Stopping`), for its job to come again at the next start. The
# embedding of a model's texts does, between batches (a model's fit, a library's loop, cannot). Ctrl-C
# waited 30–50 s for a training of 120 documents, and then lost it.
STOPPING = threading.Event()


class Stopping(Exception):
    """Long work gave up because the workers are stopping."""


def raise_if_stopping() -> None:
    if STOPPING.is_set():
        raise Stopping


async def in_thread_until_stopping(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a thread, waited for until the workers stop (then `Stopping`): the job gives
    its slot back at once, and its worker stops, while the thread runs on to its end (the process waits
    for it as it exits). Waited for to the end instead, the worker's second cancellation aborted the job,
    and it was left `doing` for the stalled-job sweep."""
    work = asyncio.ensure_future(asyncio.to_thread(function, *args))
    while not (await asyncio.wait({work}, timeout=STOPPING_POLL))[0]:
        if STOPPING.is_set():
            work.add_done_callback(lambda done: done.exception())  # its end, whatever it is, is nobody's
            raise Stopping
    return work.result()


# How often `in_thread_until_stopping` looks whether the workers stop.
STOPPING_POLL = 0.5

# How long stopping waits for a worker to take a cancellation before it cancels it again.
WORKER_CANCEL_WAIT = 5.0


async def _cancel_until_done(tasks: list[asyncio.Task]) -> None:
    """Cancel `tasks` again until they end: a cancellation that comes while procrastinate starts a worker
    is swallowed below it (a server that could not bind its port stops at once, and it never finished
    stopping, deaf to Ctrl-C: uvicorn waits for this shutdown). A TaskGroup, or gather, cancels its tasks
    once and waits."""
    while pending := [task for task in tasks if not task.done()]:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=WORKER_CANCEL_WAIT)


async def _keep_working_on(queue: str, *, concurrency: int, name: str | None) -> None:
    delay = WORKER_RESTART_FIRST
    while True:
        started = time.monotonic()
        try:
            await _worker(queue, wait=True, concurrency=concurrency, name=name)
            log.error("the %s job worker stopped; it starts again in %.0f s", queue, delay)
        except Exception:  # cancelling is no Exception: it stops the loop
            log.exception("the %s job worker failed; it starts again in %.0f s", queue, delay)
        if time.monotonic() - started > WORKER_RESTART_MAX:  # it had worked a while: a new failure
            delay = WORKER_RESTART_FIRST
        await asyncio.sleep(delay)
        delay = min(2 * delay, WORKER_RESTART_MAX)


async def run_until_empty(*, rounds: int = 10) -> None:
    """Run jobs, on an open app, until none is due: also those the jobs themselves deferred (a worker
    with wait=False stops at the first empty fetch, which can come before a running job defers the next
    one). For evaluations and tests; at most `rounds` passes."""
    for _ in range(rounds):
        await run_worker(wait=False)
        async with db.system_session() as session:
            due = await session.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE status = 'todo'"
                    " AND (scheduled_at IS NULL OR scheduled_at <= now()))"
                )
            )
        if not due:
            return


@contextlib.asynccontextmanager
async def worker_alongside() -> AsyncIterator[None]:
    """Run one worker in the background of this event loop (the server's) for the block's duration."""
    async with app.open_async():
        worker = asyncio.create_task(keep_working(name="serve"))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
