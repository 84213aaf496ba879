"""The job queue: durable, transactional, once per period, and surviving a dead worker."""

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from supportdesk import db, jobs
from tests import doomed_worker

ran: list[str] = []


@jobs.app.task(name="tests.record_run")
async def record_run(marker: str) -> None:
    ran.append(marker)


@pytest.fixture
async def job_app(app):
    async with jobs.app.open_async():
        yield jobs.app


async def job_statuses(marker: str) -> list[str]:
    async with db.system_session() as session:
        rows = await session.execute(
            text("SELECT status FROM procrastinate_jobs WHERE args->>'marker' = :marker"), {"marker": marker}
        )
        return [row.status for row in rows]


async def test_a_job_deferred_in_a_rolled_back_transaction_never_exists(job_app):
    marker = uuid.uuid4().hex
    with pytest.raises(RuntimeError):
        async with db.system_session() as session:
            await jobs.defer(session, record_run, marker=marker)
            raise RuntimeError("the change fails")
    await jobs.run_worker(wait=False)
    assert marker not in ran
    assert await job_statuses(marker) == []


async def test_a_job_deferred_in_a_committed_transaction_runs_once(job_app):
    marker = uuid.uuid4().hex
    async with db.system_session() as session:
        await jobs.defer(session, record_run, marker=marker)
    await jobs.run_worker(wait=False)
    await jobs.run_worker(wait=False)
    assert ran.count(marker) == 1


async def test_a_job_deferred_in_background_runs_after_one_deferred_later(job_app):
    """The demo's history must not hold back a ticket posted meanwhile."""
    backlog, live = uuid.uuid4().hex, uuid.uuid4().hex
    async with db.system_session() as session:
        with jobs.in_background():
            await jobs.defer(session, record_run, marker=backlog)
    async with db.system_session() as session:
        await jobs.defer(session, record_run, marker=live)
    await jobs.run_worker(wait=False)
    assert ran.index(live) < ran.index(backlog)


async def test_jobs_of_one_queueing_lock_wait_one_at_a_time_and_their_transactions_commit(job_app):
    marker = uuid.uuid4().hex

    async def change_and_defer() -> None:
        async with db.system_session() as session:
            await jobs.defer(session, record_run, queueing_lock=marker, marker=marker)
            await session.execute(text("SELECT 1"))  # the transaction goes on after a duplicate

    await asyncio.gather(*(change_and_defer() for _ in range(8)))
    assert await job_statuses(marker) == ["todo"]
    await jobs.run_worker(wait=False)
    assert ran.count(marker) == 1

    await change_and_defer()  # none waits any more: enqueued again
    await jobs.run_worker(wait=False)
    assert ran.count(marker) == 2


async def test_a_transaction_deferring_the_job_another_is_deferring_now_does_not_wait_for_it(job_app):
    """It waited for the other's row in the queueing lock's unique index, holding what it had locked:
    two PATCHes deadlocked (one set a category; the other, a status change, then locked the first's
    ticket, the most urgent one waiting)."""
    marker = uuid.uuid4().hex
    async with db.system_session() as first:
        await jobs.defer(first, record_run, queueing_lock=marker, marker=marker)
        async with db.system_session() as second:
            await second.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail
            await jobs.defer(second, record_run, queueing_lock=marker, marker=marker)
    assert await job_statuses(marker) == ["todo"]  # the first's stands for both


held = asyncio.Event()


@jobs.app.task(name="tests.hold_a_slot")
async def hold_a_slot(marker: str) -> None:
    await held.wait()


async def test_the_breach_scan_runs_while_every_slot_of_the_default_queue_is_taken(job_app):
    """A long training (and the triage jobs waiting for it) must not stop the SLA clocks."""
    from supportdesk.sla.jobs import scan_sla_breaches

    marker = uuid.uuid4().hex
    async with db.system_session() as session:
        for _ in range(4):  # run_worker's slots
            await jobs.defer(session, hold_a_slot, marker=marker)
    held.clear()
    working = asyncio.create_task(jobs.run_worker(wait=True, concurrency=4))
    try:
        await until(lambda: job_statuses(marker), ["doing"] * 4)  # after any job queued before them
        async with db.system_session() as session:
            await jobs.defer(session, scan_sla_breaches, timestamp=int(time.time()))
        await until(lambda: scans_waiting(), 0)
    finally:
        held.set()
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await working
    await jobs.run_worker(wait=False)  # the holders end


async def scans_waiting() -> int:
    async with db.system_session() as session:
        scans = text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'scan_sla_breaches'")
        return await session.scalar(scans)


async def until(read, expected, seconds: float = 60.0) -> None:
    for _ in range(int(seconds * 10)):
        if (value := await read()) == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"still {value!r}, not {expected!r}, after {seconds} s")


async def test_a_job_of_a_dead_worker_whose_queueing_lock_waits_again_is_not_retried(job_app):
    """Its twin waiting to start stands for it (retrying it would put two of the lock in the queue,
    which procrastinate refuses: every stalled job after it would never be retried)."""
    marker = uuid.uuid4().hex
    async with db.system_session() as session:
        dead = await session.scalar(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 hour') RETURNING id"
            )
        )
        await jobs.defer(session, record_run, queueing_lock=marker, marker=marker)
        await session.execute(
            text(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :dead"
                " WHERE args->>'marker' = :marker"
            ),
            {"dead": dead, "marker": marker},
        )
        await jobs.defer(session, record_run, queueing_lock=marker, marker=marker)

    assert await jobs.retry_jobs_of_dead_workers(job_app) >= 1
    assert sorted(await job_statuses(marker)) == ["failed", "todo"]


async def test_two_workers_deferring_the_same_periodic_tick_make_one_job(job_app):
    tick = int(datetime.now(UTC).timestamp()) + 10_000_000 + uuid.uuid4().int % 1_000_000
    manager = job_app.job_manager
    periodic_task = job_app.tasks["retry_stalled_jobs"]

    async def defer_tick() -> int | None:
        return await manager.defer_periodic_job(
            job=periodic_task.configure(task_kwargs={"timestamp": tick}).job,
            periodic_id="retry-stalled-jobs",
            defer_timestamp=tick,
        )

    ids = await asyncio.gather(*(defer_tick() for _ in range(2)))
    assert len([job_id for job_id in ids if job_id is not None]) == 1
    async with db.system_session() as session:
        await session.execute(
            text("DELETE FROM procrastinate_jobs WHERE id = ANY(:ids)"), {"ids": list(filter(None, ids))}
        )


async def test_a_job_whose_worker_is_killed_mid_job_runs_again_elsewhere(job_app):
    marker = uuid.uuid4().hex
    async with db.system_session() as session:
        await jobs.defer(session, doomed_worker.finish_unless_doomed, marker=marker)
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.doomed_worker"],
        cwd=Path(__file__).parents[1],
        env={**os.environ, "DATABASE_URL": db.database_url(), doomed_worker.DOOMED: "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while await job_statuses(marker) != ["doing"]:
            assert time.monotonic() < deadline, "the worker never took the job"
            await asyncio.sleep(0.1)
    finally:
        worker.kill()  # SIGKILL: no goodbye, the job stays "doing"
        worker.wait()
    await asyncio.sleep(1.5)  # its last heartbeat grows old

    assert await jobs.retry_jobs_of_dead_workers(job_app, silent_for=1) == 1
    await job_app.run_worker_async(
        queues=["doomed"], wait=False, install_signal_handlers=False, delete_jobs="successful"
    )
    assert doomed_worker.finished == [marker]
    assert await job_statuses(marker) == []


def test_a_worker_through_a_database_outage_starts_again_and_runs_the_next_job():
    """A PostgreSQL of its own stopped under a running worker and started again (tests/worker_outage.py):
    procrastinate stops a worker whose listener lost the database, and `keep_working` starts it again."""
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SUPPORTDESK_DATA_DIR")
    }
    outage = subprocess.run(
        [sys.executable, "-m", "tests.worker_outage"],
        cwd=Path(__file__).parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert outage.returncode == 0, outage.stderr[-3000:]
    assert "the job deferred after the outage ran" in outage.stdout
    assert "starts again" in outage.stderr


async def test_stopping_cancels_a_worker_again_when_a_cancellation_was_swallowed(app, monkeypatch):
    cancellations: list[str] = []

    async def keep_working_on_that_swallows_the_first_cancellation(queue, **_) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                assert (
                    jobs.STOPPING.is_set()
                )  # a training in a thread gives up (tests/ai/test_auto_answer.py)
                cancellations.append(queue)
                if cancellations.count(queue) > 1:
                    raise  # the first was swallowed, as one coming while procrastinate starts was

    monkeypatch.setattr(jobs, "_keep_working_on", keep_working_on_that_swallows_the_first_cancellation)
    monkeypatch.setattr(jobs, "WORKER_CANCEL_WAIT", 0.1)

    async def serve_a_moment() -> None:
        async with jobs.worker_alongside():
            await asyncio.sleep(0.1)  # the workers run

    serving = asyncio.create_task(serve_a_moment())
    stopped, _ = await asyncio.wait({serving}, timeout=30)
    assert stopped, "the server never finished stopping"
    assert sorted(cancellations) == sorted(jobs.QUEUES * 2)
    assert not jobs.STOPPING.is_set()  # the next workers of this process work again
